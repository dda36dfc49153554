"""supplytwin.experiment.breakdown on small frames whose answers are worked out by hand below.

Two customers of product P (C1 in EU served by DC1, C2 in US served by DC2) and C1 also buys
Q; P affects 2 patients per unit not shipped at once, Q 0.5. Two replications per run.

    units not shipped at once      base r0  base r1   what-if r0  what-if r1
    C1/P (demand 100 each)            10       20         40          50
    C2/P (demand 50 each)              0        5          0          10
    C1/Q (demand 40; none in w r1)     0        0         10          no orders
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from supplytwin.experiment import breakdown as bd

pytestmark = pytest.mark.unit


def _rows(rep: int, table: list[tuple[str, str, float, float]]) -> list[dict]:
    return [{"customer_id": c, "product_id": p, "orders": 1, "demand_units": d,
             "filled_immediately_units": f, "lost_units": 0.0, "fill_rate": f / d,
             "otif": 1.0, "replication": rep} for c, p, d, f in table]


@pytest.fixture
def attributes() -> pd.DataFrame:
    return pd.DataFrame([
        {"customer_id": "C1", "product_id": "P", "region": "EU", "site_id": "DC1",
         "patients_per_unit": 2.0},
        {"customer_id": "C2", "product_id": "P", "region": "US", "site_id": "DC2",
         "patients_per_unit": 2.0},
        {"customer_id": "C1", "product_id": "Q", "region": "EU", "site_id": "DC1",
         "patients_per_unit": 0.5},
    ])


@pytest.fixture
def base() -> pd.DataFrame:
    return pd.DataFrame(
        _rows(0, [("C1", "P", 100, 90), ("C2", "P", 50, 50), ("C1", "Q", 40, 40)])
        + _rows(1, [("C1", "P", 100, 80), ("C2", "P", 50, 45), ("C1", "Q", 40, 40)]))


@pytest.fixture
def whatif() -> pd.DataFrame:
    return pd.DataFrame(
        _rows(0, [("C1", "P", 100, 60), ("C2", "P", 50, 50), ("C1", "Q", 40, 30)])
        + _rows(1, [("C1", "P", 100, 50), ("C2", "P", 50, 40)]))


T_975_1DF = 12.706204736174696  # Student t, 97.5 % quantile, 1 degree of freedom (tables)


def test_by_customer_paired_means_interval_and_order(base, whatif, attributes):
    t = bd.breakdown(base, whatif, attributes, "customer", paired=True)
    assert list(t["customer_id"]) == ["C1", "C2"]  # most additional patients first
    c1 = t.iloc[0]
    # C1 patients: base 20+0, 40+0; what-if 80+5, 100+0 -> differences 65, 60
    assert c1["base_patients_affected"] == pytest.approx(30.0)
    assert c1["whatif_patients_affected"] == pytest.approx(92.5)
    assert c1["patients_affected_difference"] == pytest.approx(62.5)
    half = T_975_1DF * math.sqrt(12.5) / math.sqrt(2)  # sd of (65, 60) is sqrt(12.5)
    assert c1["ci95_low"] == pytest.approx(62.5 - half, rel=1e-6)
    assert c1["ci95_high"] == pytest.approx(62.5 + half, rel=1e-6)
    # fill rate of C1: base 130/140, 120/140; what-if 90/140, 50/100
    assert c1["base_fill_rate"] == pytest.approx((130 / 140 + 120 / 140) / 2)
    assert c1["whatif_fill_rate"] == pytest.approx((90 / 140 + 0.5) / 2)
    assert c1["fill_rate_difference_pp"] == pytest.approx(
        100 * ((90 / 140 - 130 / 140) + (0.5 - 120 / 140)) / 2)
    assert c1["unfilled_units_difference"] == pytest.approx(((50 - 10) + (50 - 20)) / 2)
    assert c1["n"] == 2 and bool(c1["paired"])
    c2 = t.iloc[1]
    assert c2["patients_affected_difference"] == pytest.approx(5.0)  # (0, 10) mean 5
    assert c2["fill_rate_difference_pp"] == pytest.approx(100 * (0 + (40 / 50 - 45 / 50)) / 2)


def test_by_product_counts_a_group_without_orders_as_zero(base, whatif, attributes):
    t = bd.breakdown(base, whatif, attributes, "product", paired=True)
    assert list(t["product_id"]) == ["P", "Q"]
    p, q = t.iloc[0], t.iloc[1]
    assert p["patients_affected_difference"] == pytest.approx(((80 - 20) + (120 - 50)) / 2)
    # Q: what-if r0 5 patients, r1 no orders -> 0 patients; base 0 and 0
    assert q["patients_affected_difference"] == pytest.approx(2.5)
    assert q["whatif_patients_affected"] == pytest.approx(2.5)
    # its fill rate in r1 is undefined: the pp difference is that of r0 alone
    assert q["whatif_fill_rate"] == pytest.approx(0.75)
    assert q["fill_rate_difference_pp"] == pytest.approx(-25.0)


def test_by_region_and_site(base, whatif, attributes):
    region = bd.breakdown(base, whatif, attributes, "region", paired=True)
    assert list(region["region"]) == ["EU", "US"]
    assert region.iloc[0]["patients_affected_difference"] == pytest.approx(62.5)
    site = bd.breakdown(base, whatif, attributes, "site", paired=True)
    assert list(site["site_id"]) == ["DC1", "DC2"]
    sp = bd.breakdown(base, whatif, attributes, "stock point", paired=True)
    assert [tuple(r) for r in sp[["site_id", "product_id"]].to_numpy()] == [
        ("DC1", "P"), ("DC2", "P"), ("DC1", "Q")]
    assert bd.most_affected(sp) == ("DC1", "P")


def test_unpaired_uses_welch(base, whatif, attributes):
    t = bd.breakdown(base, whatif, attributes, "customer", paired=False)
    c1 = t[t["customer_id"] == "C1"].iloc[0]
    assert not bool(c1["paired"])
    assert c1["patients_affected_difference"] == pytest.approx(62.5)
    va, vb = 200 / 2, 112.5 / 2  # var(20, 40) / 2, var(85, 100) / 2
    df = (va + vb) ** 2 / (va**2 + vb**2)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert c1["ci95_low"] == pytest.approx(62.5 - half, rel=1e-6)
    assert c1["ci95_high"] == pytest.approx(62.5 + half, rel=1e-6)


def test_runs_without_common_replications_are_not_paired(base, whatif, attributes):
    later = whatif.assign(replication=whatif["replication"] + 5)
    t = bd.breakdown(base, later, attributes, "customer", paired=True)
    assert not t["paired"].any()
    assert t.iloc[0]["patients_affected_difference"] == pytest.approx(62.5)


def test_nothing_worse_gives_the_largest_change(base, whatif, attributes):
    sp = bd.breakdown(whatif, base, attributes, "stock point", paired=True)
    assert (sp["patients_affected_difference"] <= 0).all()
    assert bd.most_affected(sp) == ("DC1", "P")
    assert bd.most_affected(sp.iloc[0:0]) is None


def test_unknown_customer_has_no_patient_count(base, whatif, attributes):
    extra = pd.DataFrame(_rows(0, [("C9", "P", 10, 0)]) + _rows(1, [("C9", "P", 10, 0)]))
    t = bd.breakdown(base, pd.concat([whatif, extra]), attributes, "customer", paired=True)
    c9 = t[t["customer_id"] == "C9"].iloc[0]
    assert math.isnan(c9["patients_affected_difference"])
    assert c9["unfilled_units_difference"] == pytest.approx(10.0)
    assert t.iloc[-1]["customer_id"] == "C9"  # unknown patients sort last
    region = bd.breakdown(base, pd.concat([whatif, extra]), attributes, "region", paired=True)
    assert bd.UNKNOWN in set(region["region"])


def test_service_of_one_run(base, attributes):
    s = bd.service(base, attributes, "customer")
    assert list(s["customer_id"]) == ["C1", "C2"]
    c1, c2 = s.iloc[0], s.iloc[1]
    assert c1["patients_affected"] == pytest.approx(30.0)
    assert c1["fill_rate"] == pytest.approx((130 / 140 + 120 / 140) / 2)
    assert c2["fill_rate"] == pytest.approx((1.0 + 0.9) / 2)
    assert c2["patients_affected"] == pytest.approx(5.0)
    assert c1["replications"] == 2
    assert bd.service(base.iloc[0:0], attributes, "customer").empty


def test_single_replication_table_without_replication_column(base, attributes):
    one = base[base["replication"] == 0].drop(columns="replication")
    t = bd.breakdown(one, one, attributes, "product", paired=True)
    assert (t["patients_affected_difference"] == 0).all()
    assert t["ci95_low"].isna().all()  # one replication: no interval, not a made-up one
