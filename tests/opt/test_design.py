"""A design becomes a scenario that extends the original through ``edits:``, loads, runs, and
reproduces the optimised flows in simulation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from supplytwin import simulate
from supplytwin.opt import DesignOptions, SolverSettings, optimise
from supplytwin.opt.design import design_document, write_design
from supplytwin.scenario import load_scenario
from supplytwin.sim.engine import Model
from tests.opt.netgen import small_network

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXACT = SolverSettings(mip_gap=1e-9)


def test_design_scenario_extends_the_original_with_edits(tmp_path):
    src = small_network(tmp_path / "net", seed=1)
    sc = load_scenario(src)
    res = optimise(sc, settings=EXACT)
    path = write_design(sc, res, tmp_path / "out")
    doc = yaml.safe_load(path.read_text())
    assert doc["extends"] == "../net/scenario.yaml"
    assert set(doc) >= {"name", "description", "extends", "edits"}
    assert "network" not in doc  # no new stock points: the original tables are used
    design = load_scenario(path)
    net = design.network
    for s in ("DC1", "DC2", "DC3", "DC4"):
        assert net.sites[s].is_open == (s in res.design.open_sites)
    # every demand stream is served first from the lane that carries most of it
    flows = res.tables["flows"]
    for (c, p), d in net.demand.items():
        f = flows[(flows["destination_id"] == c) & (flows["product_id"] == p)]
        best = f.sort_values("units_per_year", ascending=False)["lane_id"].iloc[0]
        assert d.sources[0] == best
        assert all(net.sites[net.lanes[l].origin_id].is_open for l in d.sources)
    # stock points receive over the lanes the design uses, in proportion when several
    into = flows[~flows["to_customer"]].groupby(["destination_id", "product_id"])
    for (s, p), f in into:
        pol = net.policies[(s, p)]
        used = f.sort_values("units_per_year", ascending=False)
        assert list(pol.sources[:len(used)]) == list(used["lane_id"])
        if len(used) > 1:
            assert pol.sourcing_rule.value == "split"
            shares = np.array(pol.split_shares) / sum(pol.split_shares)
            assert shares == pytest.approx(used["units_per_year"].to_numpy()
                                           / used["units_per_year"].sum(), rel=1e-5)
    r = simulate(design, seed=1, horizon_days=60)
    assert r.kpis["demand_units"] > 0


def test_new_stock_points_get_policy_rows(tmp_path):
    # DC3 and DC4 stock nothing in the scenario; make the others too dear to keep
    src = small_network(tmp_path / "net", seed=2, no_policy_dcs=("DC3", "DC4"))
    dear = [f"edits.sites.{s}.fixed_cost_usd_per_year=1e9" for s in ("DC1", "DC2")]
    sc = load_scenario(src, dear)
    res = optimise(sc, settings=EXACT)
    assert {"DC3", "DC4"} & res.design.open_sites
    path = write_design(sc, res, tmp_path / "out")
    doc = yaml.safe_load(path.read_text())
    assert doc["network"]["policies"] == f"{path.stem}.policies.csv"
    design = load_scenario(path)
    new = [(s, p) for (s, p) in design.network.policies if s in ("DC3", "DC4")]
    assert new and all(design.network.policies[k].policy.value == "days_of_supply" for k in new)
    r = simulate(design, seed=1, horizon_days=90)
    assert r.kpis["fill_rate"] > 0.5


def test_expansions_become_capacity_edits(tmp_path):
    sc = load_scenario(small_network(tmp_path / "net", seed=5, n_dc=4))
    opts = DesignOptions(allow_expansion=True, expansion_cost_share=0.1)
    res = optimise(sc, opts, EXACT)
    assert res.design.expanded
    doc, _ = design_document(sc, res)
    for s in res.design.expanded:
        row = sc.network.sites[s]
        edit = doc["edits"]["sites"][s]
        assert edit["capacity_refrigerated_units"] == pytest.approx(
            row.capacity_refrigerated_units * 1.5)
    design = load_scenario(write_design(sc, res, tmp_path / "out"))
    assert all(design.network.sites[s].capacity_crt_units > sc.network.sites[s].capacity_crt_units
               for s in res.design.expanded)


def deterministic_baseline(tmp: Path) -> Path:
    """The bundled baseline with fixed order sizes and no seasonality or trend, 730 days."""
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    edits = {f"{c}/{p}": {"order_size_units": f"fixed({d.order_size_units.mean:g})",
                          "seasonality_amplitude": 0, "trend_per_year": 0}
             for (c, p), d in base.network.demand.items()}
    doc = {"name": "baseline-deterministic", "extends": str(ROOT / "scenarios" / "baseline.yaml"),
           "simulation": {"horizon_days": 730, "warmup_days": 90}, "edits": {"demand": edits}}
    path = tmp / "deterministic.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_simulated_lane_flows_match_the_optimised_flows(tmp_path):
    sc = load_scenario(deterministic_baseline(tmp_path))
    res = optimise(sc)
    design = load_scenario(write_design(sc, res, tmp_path / "out"))
    sim = design.simulation
    model = Model(design, seed=3)
    model.env.run(until=sim.horizon_days)
    window = sim.horizon_days - sim.warmup_days
    by_lane = model.recorder.units_by_lane
    flows = res.tables["flows"].groupby(["lane_id", "to_customer"], as_index=False)[
        "units_per_year"].sum()
    flows["expected"] = flows["units_per_year"] * window / 365.0
    flows["simulated"] = [by_lane.get(l, 0.0) for l in flows["lane_id"]]
    # no lane carries goods in simulation that the design does not use
    assert set(by_lane) <= set(flows["lane_id"])

    net = design.network
    # customer lanes: Poisson order counts of fixed size -> sd = size x sqrt(rate x window)
    var: dict[str, float] = {}
    for d in net.demand.values():
        lane = net.demand_sources(d)[0].lane_id
        var[lane] = var.get(lane, 0.0) + d.order_size_units.mean ** 2 * d.orders_per_day * window
    cust = flows[flows["to_customer"]]
    z = (cust["simulated"] - cust["expected"]) / np.sqrt([var[l] for l in cust["lane_id"]])
    assert len(cust) >= 60
    assert np.abs(z).max() < 4.5, cust.assign(z=z).sort_values("simulated")
    assert abs(z.mean()) < 4.0 / math.sqrt(len(z))  # no systematic bias

    # replenishment lanes: the flow over the window differs from the demand it replaces by at
    # most the change of the receiving stock point's position (bounded by its stock levels)
    rows = []
    for r in flows[~flows["to_customer"]].itertuples():
        lane = net.lanes[r.lane_id]
        level = 0.0
        for (s, p), pol in net.policies.items():
            if s == lane.destination_id and r.lane_id in pol.sources:
                rate = net.mean_daily_demand.get((s, p), 0.0)
                level += max(pol.order_up_to_units or 0.0,
                             (pol.reorder_point_units or 0.0) + (pol.order_quantity_units or 0.0),
                             (pol.days_of_supply_target or 0.0) * rate)
                level += sum(x.quantity_units for x in net.initial_stock
                             if (x.site_id, x.product_id) == (s, p))
        rows.append((r.lane_id, r.expected, r.simulated, level))
    rep = pd.DataFrame(rows, columns=["lane", "expected", "simulated", "level"])
    assert len(rep) >= 10
    gap = (rep["simulated"] - rep["expected"]).abs()
    assert (gap <= 0.05 * rep["expected"] + rep["level"]).all(), rep
