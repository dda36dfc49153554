"""Where the damage landed, on real runs of the tiny network: the breakdowns add up to the
run-level KPIs the simulator computes separately (kpis_by_replication), disruption windows
become the right calendar dates, and a product filter keeps the sites upstream of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import figures, services
from dashboard.services import Knobs

pytestmark = pytest.mark.component

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TINY = "bundled/tiny.yaml"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    ws = services.make_workspace(tmp_path_factory.mktemp("runs"), SCENARIOS)
    runner = services.JobRunner()
    ids = []
    for knobs in (Knobs(), services.validate_knobs(ws, TINY, {"demand": {"MAB-T": 1.5}})):
        done = runner.wait(services.start_run(ws, TINY, knobs, 3, runner=runner, workers=1,
                                              report=False), 300)
        assert done["state"] == "done", done
        ids.append(done["run_id"])
    return ws, ids


def test_breakdowns_add_up_to_the_run_kpis(two_runs):
    ws, ids = two_runs
    base, other = (services.load_run(ws, r) for r in ids)
    kb = base.kpis.set_index("replication")["patients_affected"]
    ko = other.kpis.set_index("replication")["patients_affected"]
    assert ko.mean() > kb.mean()  # 50 % more demand on the same stock: more patients affected
    for dim in ("customer", "site", "region", "product", "stock point"):
        b = services.run_breakdown(ws, ids, dim)
        t = b["table"]
        assert b["paired"], "same seed, same replications: paired"
        # every customer's patients land in exactly one group of each breakdown
        assert t["base_patients_affected"].sum() == pytest.approx(kb.mean(), rel=1e-9)
        assert t["whatif_patients_affected"].sum() == pytest.approx(ko.mean(), rel=1e-9)
        assert t["patients_affected_difference"].sum() == pytest.approx(
            (ko - kb).mean(), rel=1e-9)
        assert list(t["patients_affected_difference"]) == sorted(
            t["patients_affected_difference"], reverse=True)
    # one product: its fill-rate change is the run-level one, in percentage points
    p = services.run_breakdown(ws, ids, "product")["table"].iloc[0]
    fb = base.kpis.set_index("replication")["fill_rate"]
    fo = other.kpis.set_index("replication")["fill_rate"]
    assert p["fill_rate_difference_pp"] == pytest.approx(100 * (fo - fb).mean(), rel=1e-9)
    assert services.most_affected_stock_point(ws, ids) == ("DC", "MAB-T")


def test_service_by_customer_matches_the_artefact(two_runs):
    ws, ids = two_runs
    run = services.load_run(ws, ids[0])
    s = services.run_service(ws, ids[0], "customer").set_index("customer_id")
    raw = run.by_customer.groupby("customer_id")["demand_units"].mean()
    assert s.loc["C1", "demand_units"] == pytest.approx(raw["C1"])
    assert set(s.index) == {"C1", "C2"}
    assert ((s["fill_rate"] >= 0) & (s["fill_rate"] <= 1)).all()


def test_map_values_of_a_run_and_of_a_difference(two_runs):
    ws, ids = two_runs
    one = services.map_values(ws, ids[:1], "fill_rate")["values"].set_index("site_id")
    two = services.map_values(ws, ids, "fill_rate")["values"].set_index("site_id")
    base = services.map_values(ws, [ids[1]], "fill_rate")["values"].set_index("site_id")
    # the change is in percentage points: 100 x (what-if - base)
    assert two.loc["C1", "value"] == pytest.approx(
        100 * (base.loc["C1", "value"] - one.loc["C1", "value"]))
    util = services.map_values(ws, ids[:1], "storage_utilisation")["values"]
    assert set(util["site_id"]) == {"PLANT", "DC"}  # the two sites with a cold-room capacity
    assert ((util["value"] > 0) & (util["value"] <= 1)).all()
    with pytest.raises(services.UserError):
        services.map_values(ws, ids, "nope")


def test_disruption_windows_as_dates(two_runs):
    ws, _ids = two_runs
    w = services.disruption_windows(services.load(ws, "bundled/pr-hurricane.yaml"))
    assert len(w) == 1
    # start_date 2027-01-04 + 259 days = 2027-09-20 (27 days to Jan 31, then Feb-Aug 212, + 20)
    assert (w[0]["start_day"], w[0]["end_day"]) == (259.0, 301.0)
    assert (w[0]["start_date"], w[0]["end_date"]) == ("2027-09-20", "2027-11-01")
    assert services.disruption_windows(services.load(ws, TINY)) == []


def test_filtering_a_product_keeps_its_upstream_sites(two_runs):
    ws, _ids = two_runs
    sc = services.load(ws, "bundled/baseline.yaml")
    wanted = services.upstream_products(sc, ["MAB-PFS"])
    assert wanted == ["DS-MAB", "MAB-PFS"]  # the syringe is filled from drug substance DS-MAB
    sites, lanes = services.network_tables(sc)
    kept, _ = figures.filter_network(sites, lanes, wanted)
    assert "DS-SG-TUAS" in set(kept["site_id"])  # makes DS-MAB
    only, _ = figures.filter_network(sites, lanes, ["MAB-PFS"])
    assert "DS-SG-TUAS" not in set(only["site_id"])  # what the map used to show
