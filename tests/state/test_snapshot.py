"""Starting from the real network's state: snapshots read, checked, applied, and written back.

The round trip (snapshot -> run 0 days -> the same snapshot) ties together reading, applying
and extracting; the behaviour tests check, on the tiny network, that each kind of state does
what it means over time (a shipment arrives on its expected day, a quarantined lot is released
on its release day, an open order is served first, a site that is down ships nothing)."""

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from supplytwin.errors import ScenarioError
from supplytwin.model.snapshot import with_snapshot
from supplytwin.scenario import load_scenario
from supplytwin.sim import simulate
from supplytwin.state import SNAPSHOT_FILES, read_snapshot, write_snapshot

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "data" / "biopharma" / "snapshot"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def tiny():
    return load_scenario(ROOT / "scenarios" / "tiny.yaml")


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in SNAPSHOT_FILES:
        df = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        out[name] = df.sort_values(list(df.columns), ignore_index=True)
    return out


@pytest.mark.component
def test_bundled_snapshot_runs_zero_days_and_comes_back_identical(baseline, tmp_path):
    snap = read_snapshot(BUNDLED, baseline)
    assert snap.on_hand and snap.in_transit and snap.open_orders and snap.sites_down
    result = simulate(with_snapshot(baseline, snap), seed=3, horizon_days=0)
    write_snapshot(tmp_path, result.end_state)
    got, want = _tables(tmp_path), _tables(BUNDLED)
    for name in SNAPSHOT_FILES:
        if name == "snapshot.csv":
            assert got[name]["snapshot_date"].tolist() == want[name]["snapshot_date"].tolist()
            continue
        pd.testing.assert_frame_equal(got[name], want[name], check_like=True, obj=name)


@pytest.mark.component
def test_forward_run_starts_from_the_snapshot_units(baseline):
    snap = read_snapshot(BUNDLED, baseline)
    sc = with_snapshot(baseline, snap)
    assert sc.simulation.start_date == snap.snapshot_date and sc.simulation.warmup_days == 0
    r = simulate(sc, seed=3, horizon_days=30)
    initial = r.mass_balance.set_index("product_id")["initial_units"]
    for product, units in snap.units_by_product().items():
        assert initial[product] == pytest.approx(units)
    assert r.end_state.snapshot_date == pd.Timestamp(snap.snapshot_date).date() + pd.Timedelta(days=30)
    assert r.end_state.sites_down == ()  # Juncos reopened on day 21


def _tiny_snapshot(tmp_path: Path, **tables: str) -> Path:
    base = {
        "snapshot.csv": "snapshot_date\n2027-03-01\n",
        "on_hand.csv": "site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n",
    }
    for name, text in {**base, **{f"{k}.csv": v for k, v in tables.items()}}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.component
def test_each_kind_of_state_acts_on_its_day(tiny, tmp_path):
    folder = _tiny_snapshot(
        tmp_path,
        on_hand="site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,status,release_date\n"
                "PLANT,MAB-T,Q-1,400,2027-02-20,2029-02-19,quarantine,2027-03-08\n",
        in_transit="shipment_id,lane_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,status,departure_date,expected_arrival_date\n"
                   "S1,L-PLANT-DC-RD,MAB-T,L-9,150,2027-01-10,2029-01-09,in_transit,2027-02-28,2027-03-04\n",
        open_orders="order_id,customer_id,product_id,quantity_units,order_date,due_date\n"
                    "SO-1,C1,MAB-T,25,2027-02-27,2027-03-02\n",
        sites_down="site_id,down_until_date\nPLANT,2027-03-11\n",
    )
    sc = replace(tiny, simulation=tiny.simulation.model_copy(update={"horizon_days": 20}))
    snap = read_snapshot(folder, sc)
    r = simulate(with_snapshot(sc, snap), seed=1, log_events=True)
    ev = r.events
    ts = r.timeseries.set_index(["site_id", "time_days"])
    # the truck left on 28 Feb and arrives on day 3 (4 March): 150 in transit to the DC until then
    assert ts.loc[("DC", 1.0), "in_transit_units"] == 150
    assert ts.loc[("DC", 2.0), "in_transit_units"] == 150
    assert ts.loc[("DC", 3.0), "in_transit_units"] == 0  # the plant is down: nothing else comes
    # the open order (25 units) is the first one served, from the lot that arrives
    first = ev[(ev["event"] == "ship") & (ev["to_site_id"] == "C1")].iloc[0]
    assert (first["time_days"], first["quantity_units"], first["lot_id"]) == (3.0, 25.0, "L-9")
    # the plant is down until day 10 (11 March): nothing leaves it before
    ships = ev[(ev["event"] == "ship") & (ev["site_id"] == "PLANT")]
    assert not ships.empty and ships["time_days"].min() >= 10.0
    # the quarantined lot is released on day 7 (8 March): 400 units appear on hand then
    assert ts.loc[("PLANT", 6.0), "on_hand_units"] == 0
    assert ts.loc[("PLANT", 7.0), "on_hand_units"] == 400
    assert "Q-1" in set(ships["lot_id"])


BAD = [
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n"
                "NOWHERE,MAB-T,X,10,2027-01-01,2028-01-01\n"), "on_hand.csv", 1, "site_id", "unknown site"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n"
                "DC,NOPE,X,10,2027-01-01,2028-01-01\n"), "on_hand.csv", 1, "product_id", "unknown product"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n"
                "DC,MAB-T,X,-5,2027-01-01,2028-01-01\n"), "on_hand.csv", 1, "quantity_units", "must be > 0"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n"
                "DC,MAB-T,X,inf,2027-01-01,2028-01-01\n"), "on_hand.csv", 1, "quantity_units", "finite"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,status\n"
                "DC,MAB-T,X,5,2025-01-01,2027-02-01,released\n"), "on_hand.csv", 1, "expiry_date",
     "expired stock marked released"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n"
                "DC,MAB-T,X,5,2027-01-01,2028-01-01\nPLANT,MAB-T,X,5,2027-01-02,2028-01-01\n"),
     "on_hand.csv", 2, "lot_id", "other manufacture/expiry dates"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date\n"
                "DC,MAB-T,X,5,01/02/2027,2028-01-01\n"), "on_hand.csv", 1, "manufacture_date", "not a date"),
    ("in_transit", ("shipment_id,lane_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,departure_date,expected_arrival_date\n"
                   "S,L-PLANT-DC-RD,MAB-T,X,5,2027-01-01,2028-01-01,2027-02-27,2027-02-25\n"),
     "in_transit.csv", 1, "expected_arrival_date", "arrival before departure"),
    ("in_transit", ("shipment_id,lane_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,departure_date,expected_arrival_date\n"
                   "S,L-NOPE,MAB-T,X,5,2027-01-01,2028-01-01,2027-02-27,2027-03-02\n"),
     "in_transit.csv", 1, "lane_id", "unknown lane"),
    ("in_transit", ("shipment_id,lane_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,departure_date,expected_arrival_date\n"
                   "S,L-PLANT-DC-RD,MAB-T,X,5,2027-01-01,2028-01-01,2027-03-05,2027-03-07\n"),
     "in_transit.csv", 1, "departure_date", "after the snapshot date"),
    ("open_orders", ("order_id,customer_id,product_id,quantity_units,order_date,due_date\n"
                    "O,DC,MAB-T,5,2027-02-27,2027-03-02\n"), "open_orders.csv", 1, "customer_id", "no demand stream"),
    ("sites_down", "site_id,down_until_date\nMARS,2027-04-01\n", "sites_down.csv", 1, "site_id", "unknown site"),
    ("on_hand", ("site_id,product_id,lot_id,quantity_units,manufacture_date,expiry_date,colour\n"
                "DC,MAB-T,X,5,2027-01-01,2028-01-01,red\n"), "on_hand.csv", None, "colour", "unknown column"),
]


@pytest.mark.unit
@pytest.mark.parametrize("table, text, file, row, field, reason", BAD,
                         ids=[f"{b[0]}-{b[5][:20]}" for b in BAD])
def test_bad_snapshots_name_file_row_field_and_reason(tiny, tmp_path, table, text, file, row,
                                                      field, reason):
    folder = _tiny_snapshot(tmp_path, **{table: text})
    with pytest.raises(ScenarioError) as e:
        read_snapshot(folder, tiny)
    hits = [p for p in e.value.problems if p.file.endswith(file) and p.row == row
            and p.field == field and reason in p.reason]
    assert hits, [str(p) for p in e.value.problems]


@pytest.mark.unit
def test_missing_date_and_not_a_folder(tiny, tmp_path):
    with pytest.raises(ScenarioError, match="snapshot_date"):
        read_snapshot(tmp_path, tiny)
    with pytest.raises(ScenarioError, match="not a folder"):
        read_snapshot(tmp_path / "nope", tiny)
