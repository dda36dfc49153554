"""Reading histories through a column map (real SCMS data with its text flags) and demand fits
that recover the parameters of synthetic order histories."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supplytwin.calibrate.demand import calibrate_demand, demand_rows
from supplytwin.calibrate.history import (
    SCMS_ORDER_MAP,
    SCMS_SHIPMENT_MAP,
    SHIPMENT_FIELDS,
    parse_map,
    read_orders,
    read_shipments,
)
from supplytwin.errors import ScenarioError
from supplytwin.model.tables import DemandRow

pytestmark = pytest.mark.unit
SCMS = Path(__file__).resolve().parents[2] / "data" / "scms" / "scms_shipments.csv"
DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2}$|^\d{1,2}-[A-Z][a-z]{2}-\d{2}$")


def test_scms_text_flags_are_dropped_and_counted_exactly():
    df, report = read_shipments(SCMS, SCMS_SHIPMENT_MAP)
    raw = pd.read_csv(SCMS, dtype=str, keep_default_na=False)
    # independent count: a row is usable when both dates look like dates, the mode is a mode,
    # and delivery is after the PO
    mode_ok = raw["Shipment Mode"].isin(["Air", "Truck", "Air Charter", "Ocean"])
    dates_ok = raw["PO Sent to Vendor Date"].str.match(DATE) & raw["Delivered to Client Date"].str.match(DATE)
    ok = raw[mode_ok & dates_ok]
    lead = (pd.to_datetime(ok["Delivered to Client Date"], format="mixed")
            - pd.to_datetime(ok["PO Sent to Vendor Date"], format="mixed")).dt.days
    assert report.rows_read == len(raw) == 10_324
    assert report.rows_kept == len(df) == int((lead > 0).sum())
    assert sum(report.dropped.values()) == report.rows_read - report.rows_kept
    flags = report.as_dict()["examples"]["ship date not a date"]
    assert "Date Not Captured" in flags
    assert (df["transit_days"] > 0).all()
    assert set(df["lane_mode"]) == {"air", "road", "sea"}
    # on time = delivered no later than scheduled, checked on the raw columns
    sched = pd.to_datetime(raw.loc[ok.index[lead > 0], "Scheduled Delivery Date"],
                           format="mixed")
    deliv = pd.to_datetime(raw.loc[ok.index[lead > 0], "Delivered to Client Date"], format="mixed")
    assert df["on_time"].mean() == pytest.approx(float((deliv <= sched).mean()))


def test_column_map_problems_name_the_map_entry():
    with pytest.raises(ScenarioError) as e:
        parse_map(["Country=nowhere", "junk"], SHIPMENT_FIELDS)
    text = str(e.value)
    assert "unknown field 'nowhere'" in text and "COLUMN=FIELD" in text and "no column mapped" in text
    with pytest.raises(ScenarioError, match="no such column"):
        read_shipments(SCMS, {**SCMS_SHIPMENT_MAP, "Nope": "origin"})
    with pytest.raises(ScenarioError, match="not a regular file"):
        read_shipments(SCMS.parent, SCMS_SHIPMENT_MAP)


def _orders(seed: int, nb_size: float | None, amplitude=0.3, peak=200.0, rate=2.0, days=1095):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=days)
    lam = rate * (1 + amplitude * np.cos(2 * np.pi * (dates.day_of_year - 1 - peak) / 365))
    n = rng.poisson(lam) if nb_size is None else rng.negative_binomial(nb_size, nb_size / (nb_size + lam))
    day = np.repeat(dates.to_numpy(), n)
    return pd.DataFrame({"customer": "H1", "product": "P1", "order_date": day,
                         "quantity": rng.gamma(4.0, 5.0, len(day))})


def test_poisson_history_is_called_poisson_and_its_seasonality_recovered():
    fits = [calibrate_demand(_orders(s, None))[0] for s in range(8)]
    assert sum(f.chosen == "poisson" for f in fits) >= 6  # AIC's false-alarm rate is ~8 %
    assert np.mean([f.orders_per_day for f in fits]) == pytest.approx(2.0, rel=0.03)
    assert np.mean([f.seasonality_amplitude for f in fits]) == pytest.approx(0.3, abs=0.04)
    assert np.mean([f.seasonality_peak_day for f in fits]) == pytest.approx(200, abs=10)


def test_bursty_history_is_called_negative_binomial_and_rows_load_in_a_scenario():
    fits = [calibrate_demand(_orders(s, 2.0))[0] for s in range(6)]
    assert all(f.chosen == "negative_binomial" for f in fits)
    assert np.median([f.negbin_size for f in fits]) == pytest.approx(2.0, rel=0.3)
    rows = demand_rows(fits[:1])
    row = DemandRow.model_validate(rows.iloc[0].to_dict())  # the scenario's own schema
    # compound Poisson carries the overdispersion: daily units variance matches the history
    f = fits[0]
    size = row.order_size_units
    var_model = row.orders_per_day * (size.variance + size.mean**2)
    o = _orders(0, 2.0)
    daily = o.groupby("order_date")["quantity"].sum().reindex(pd.date_range("2021-01-01", periods=1095), fill_value=0)
    shape = 1 + f.seasonality_amplitude * np.cos(2 * np.pi * (daily.index.day_of_year - 1 - f.seasonality_peak_day) / 365)
    assert var_model == pytest.approx((daily / shape).var(), rel=0.02)


def test_scms_orders_calibrate_to_valid_demand_rows():
    orders, _report = read_orders(SCMS, SCMS_ORDER_MAP)
    fits = calibrate_demand(orders)
    rows = demand_rows(fits)
    assert len(rows) >= 20
    for _, r in rows.iterrows():
        DemandRow.model_validate(r.to_dict())
    thin = [f for f in fits if f.status != "fitted"]
    assert all(f.orders < 30 for f in thin)
