"""One definition of cost: with randomness switched off, a design's simulated cost per group
equals the optimiser's.

The network: one plant makes a room-temperature product in batches of 100; it replenishes a
distribution centre (one-for-one, on-demand lane, transit fixed at 1 day), which serves two
customers whose demand is a constant daily series (12 and 8 units a day) over daily-departure
lanes. A second distribution centre is a closed candidate that costs more. No yield loss, no
batch failures, no QC wait, no expiry, no excursions: production, transport (per unit and per
departure), handling, holding and fixed site costs are then deterministic in the simulator too
and must equal the optimiser's within 1 % (production may differ by one batch of 100 units at
the window's edges: 0.5 % of the 21,900 units of the 1,095-day window).

Holding by hand (``supplytwin.opt.stock``): both customers' series orders arrive together at
the start of each day, so every stock point sees chunks of q = 20 units. DC1 (base stock 100,
one-for-one, 1 day on the lane): position 100, on order 20/day x 1 day = 20, on hand 80. PL
((s,S) = (200,400), batches of 100, one line, 1-day cycle): the position steps 400, 380, ...,
220 (mean (200 + 20 + 400) / 2 = 310); each order of 200 units is 2 batches made one after the
other (lead 1 and 2 days, mean 1.5), so on order 20 x 1.5 = 30 and on hand 280. Stock 360 units
x 100 USD x 0.2 a year = 7,200 USD a year. DEPOT is asked for nothing, so its 30 units stay
(the optimiser leaves such a stock point out of the flows and counts its stock while the site
is open): 600 USD a year more.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from supplytwin import simulate
from supplytwin.model.costs import COST_GROUPS, compare_groups, sim_groups_per_year
from supplytwin.opt import SolverSettings, optimise
from supplytwin.opt.design import write_design
from supplytwin.scenario import load_scenario
from tests.support.netbuild import write_table

pytestmark = pytest.mark.validation

HORIZON_DAYS = 1130.0
WARMUP_DAYS = 35.0
DAILY = {"C1": 12, "C2": 8}


def deterministic_network(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    write_table(tmp / "products.csv", [
        {"product_id": "P", "temperature_class": "crt", "shelf_life_days": 100000,
         "unit_value_usd": 100, "units_per_batch": 100}])
    write_table(tmp / "sites.csv", [
        {"site_id": "PL", "kind": "fill_finish", "latitude": 50, "longitude": 5,
         "fixed_cost_usd_per_year": 1_000_000, "handling_cost_usd_per_unit": 0.25},
        {"site_id": "DC1", "kind": "distribution_centre", "latitude": 48, "longitude": 2,
         "capacity_crt_units": 100000, "fixed_cost_usd_per_year": 60_000,
         "handling_cost_usd_per_unit": 0.5, "candidate": "true", "is_open": "true"},
        {"site_id": "DC2", "kind": "distribution_centre", "latitude": 47, "longitude": 3,
         "capacity_crt_units": 100000, "fixed_cost_usd_per_year": 90_000,
         "handling_cost_usd_per_unit": 0.5, "candidate": "true", "is_open": "false"},
        # an open depot that holds 30 units no customer is served from: stock stranded there
        {"site_id": "DEPOT", "kind": "distribution_centre", "latitude": 49, "longitude": 4},
        {"site_id": "C1", "kind": "customer", "latitude": 45, "longitude": 1},
        {"site_id": "C2", "kind": "customer", "latitude": 45, "longitude": 2},
    ])
    write_table(tmp / "production.csv", [
        {"site_id": "PL", "product_id": "P", "cycle_time_days": "fixed(1)", "lines": 1,
         "yield_frac": "fixed(1)", "batch_failure_prob": 0, "qc_release_days": "fixed(0)",
         "cost_per_batch_usd": 500, "cost_per_unit_usd": 2}])
    lanes = []
    for dc in ("DC1", "DC2"):
        lanes.append({"lane_id": f"L-PL-{dc}", "origin_id": "PL", "destination_id": dc,
                      "mode": "road", "transit_time_days": "fixed(1)", "cost_per_unit_usd": 1.0,
                      "departure_schedule": "on_demand", "packaging": "ambient",
                      "co2_kg_per_unit": 0.1})
        for c in DAILY:
            lanes.append({"lane_id": f"L-{dc}-{c}", "origin_id": dc, "destination_id": c,
                          "mode": "road", "transit_time_days": "fixed(1)",
                          "cost_per_unit_usd": 3.0, "cost_per_shipment_usd": 20,
                          "departure_schedule": "daily", "packaging": "ambient",
                          "co2_kg_per_unit": 0.2})
    lanes.append({"lane_id": "L-PL-DEPOT", "origin_id": "PL", "destination_id": "DEPOT",
                  "mode": "road", "transit_time_days": "fixed(1)", "cost_per_unit_usd": 1.0,
                  "departure_schedule": "on_demand", "packaging": "ambient"})
    write_table(tmp / "lanes.csv", lanes)
    write_table(tmp / "policies.csv", [
        {"site_id": "PL", "product_id": "P", "policy": "s_S", "reorder_point_units": 200,
         "order_up_to_units": 400, "sources": "make"},
        {"site_id": "DC1", "product_id": "P", "policy": "base_stock", "order_up_to_units": 100,
         "sources": "L-PL-DC1"},
        {"site_id": "DC2", "product_id": "P", "policy": "base_stock", "order_up_to_units": 100,
         "sources": "L-PL-DC2"},
        {"site_id": "DEPOT", "product_id": "P", "policy": "base_stock", "order_up_to_units": 30,
         "sources": "L-PL-DEPOT"},
    ])
    write_table(tmp / "initial_stock.csv", [
        {"site_id": "PL", "product_id": "P", "lot_id": "L0", "quantity_units": 400},
        {"site_id": "DC1", "product_id": "P", "lot_id": "L1", "quantity_units": 100},
        {"site_id": "DEPOT", "product_id": "P", "lot_id": "L2", "quantity_units": 30}])
    demand = []
    for c, q in DAILY.items():
        series = f"series_{c}.csv"
        write_table(tmp / series, [{"day": d, "quantity_units": q}
                                   for d in range(int(HORIZON_DAYS) + 1)])
        demand.append({"customer_id": c, "product_id": "P", "process": "series",
                       "series_file": series, "unmet_demand": "backorder"})
    write_table(tmp / "demand.csv", demand)
    doc = {"name": "deterministic",
           "network": {t: f"{t}.csv" for t in ("products", "sites", "production", "lanes",
                                                "policies", "initial_stock", "demand")},
           "simulation": {"horizon_days": HORIZON_DAYS, "warmup_days": WARMUP_DAYS, "seed": 1},
           "cold_chain": {"seasonal_amplitude": 0}}
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_simulated_cost_groups_equal_the_optimisers(tmp_path):
    sc = load_scenario(deterministic_network(tmp_path / "net"))
    res = optimise(sc, settings=SolverSettings(mip_gap=1e-9))
    assert res.ok and res.design.open_sites == {"PL", "DC1", "DEPOT"}
    design = load_scenario(write_design(sc, res, tmp_path / "design"))
    run = simulate(design, seed=1)
    window = design.simulation.horizon_days - design.simulation.warmup_days
    sim = sim_groups_per_year(run.kpis, window)
    opt = res.total_by_group()
    rows = {r["group"]: r for r in compare_groups(sim, opt)}
    assert run.kpis["fill_rate"] == 1.0 and run.kpis["backordered_units"] == 0
    for g in ("production", "transport", "handling", "holding", "fixed"):
        assert sim[g] == pytest.approx(opt[g], rel=0.01), g
    # the hand-computed figures of the module docstring, per stock point, on both sides
    expected = {("PL", "P"): 280.0, ("DC1", "P"): 80.0, ("DEPOT", "P"): 30.0}
    opt_sp = res.tables["stock_points"].set_index(["site_id", "product_id"])
    sim_sp = run.stock_points.set_index(["site_id", "product_id"])
    for key, units in expected.items():
        assert opt_sp.loc[key, "avg_on_hand_units"] == pytest.approx(units, rel=1e-9), key
        assert sim_sp.loc[key, "avg_on_hand_units"] == pytest.approx(units, rel=0.01), key
        assert opt_sp.loc[key, "holding_usd_per_year"] == pytest.approx(units * 100 * 0.2)
    assert opt["holding"] == pytest.approx(7800.0)
    assert sim_sp["cost_holding_usd"].sum() == pytest.approx(run.kpis["cost_holding_usd"])
    # nothing is wasted or short on either side
    assert sim["waste"] == 0 and sim["penalty"] == 0 and opt["penalty"] == 0
    # the total is comparable: the groups add up to cost_total_usd on the simulator's side
    assert sum(sim.values()) == pytest.approx(run.kpis["cost_total_usd"] * 365 / window)
    assert {g.key for g in COST_GROUPS} >= set(opt)
    # the comparison table says why groups may differ; holding counts the same stock
    assert rows["waste"]["why"] and rows["holding"]["sim_minus_opt_usd"] is not None
