"""The solver layer: the three routes to HiGHS agree, statuses are words, and shadow prices
match finite differences of the LP with binaries fixed."""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pe
import pytest

from supplytwin.opt import (
    DesignOptions,
    SolverSettings,
    build_network_design_model,
    design_result,
    extract,
    optimise,
    solve,
)
from supplytwin.opt.options import DesignOptionsError
from supplytwin.scenario import load_scenario
from tests.opt.netgen import small_network

pytestmark = pytest.mark.component

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("interface", ["appsi_highs", "highs"])
def test_pyomo_interfaces_agree_with_direct(interface):
    data = extract(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    model = build_network_design_model(data)
    direct = solve(model, SolverSettings(mip_gap=1e-7))
    other = solve(model, SolverSettings(mip_gap=1e-7, interface=interface))
    assert direct.status == other.status == "optimal"
    assert other.objective == pytest.approx(direct.objective, rel=1e-6)
    assert other.interface == interface


def test_status_words(tmp_path):
    sc = load_scenario(small_network(tmp_path))
    res = optimise(sc, DesignOptions(allow_unmet=False, co2_cap_t=0.001), explain=False)
    assert res.outcome.status == "infeasible" and not res.ok
    m = pe.ConcreteModel()
    m.x = pe.Var(within=pe.Reals)
    m.o = pe.Objective(expr=m.x)
    assert solve(m).status in ("unbounded", "infeasible")


def test_bad_settings_are_user_errors():
    with pytest.raises(DesignOptionsError, match="gap"):
        SolverSettings(mip_gap=2).validate()
    with pytest.raises(DesignOptionsError, match="interface"):
        SolverSettings(interface="cplex").validate()


def test_shadow_prices_match_finite_differences(tmp_path):
    """The marginal value of a binding storage capacity is the cost saved by one more unit of
    storage in the LP with the open/close decisions fixed at the optimum."""
    sc = load_scenario(small_network(tmp_path, seed=3))
    opts = DesignOptions()
    exact = SolverSettings(mip_gap=1e-9)
    data = extract(sc, opts)
    res = optimise(data, opts, exact)
    caps = res.tables["capacities"]
    binding = caps[(caps["family"] == "storage") & caps["binding"]]
    assert len(binding) > 0
    row = binding.iloc[0]
    assert row["marginal_value_usd"] > 0

    def lp_cost(extra_units: float) -> float:
        g = next(i for i in range(len(data.storage_site))
             if data.sites[data.storage_site[i]] == row["where"]
             and data.storage_class[i].value == row["detail"])
        saved = data.storage_throughput[g]
        data.storage_throughput[g] = saved + extra_units * 365 / opts.storage_cover_days
        try:
            m = build_network_design_model(data, opts)
            for s in m.y:
                m.y[s].fix(1 if s in res.design.open_sites else 0)
            for l in m.w:
                m.w[l].fix(1)
            out = solve(m, exact)
        finally:
            data.storage_throughput[g] = saved
        return out.objective

    # a small step: the dual holds until the basis changes (here: until the unmet units it
    # lets through are served)
    step = 0.005
    base, more = lp_cost(0.0), lp_cost(step)
    assert (base - more) / step == pytest.approx(row["marginal_value_usd"], rel=1e-4)


def test_results_tables_are_consistent(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=2))
    res = optimise(sc, settings=SolverSettings(mip_gap=1e-9))
    t = res.tables
    # the cost breakdown adds up to the objective
    assert t["costs"]["usd_per_year"].sum() == pytest.approx(res.objective, rel=1e-9)
    # delivered + unmet = demand, and deliveries are the flows into customers
    d = t["demand"]
    assert (d["delivered_units_per_year"] + d["unmet_units_per_year"]).to_numpy() == pytest.approx(
        d["demand_units_per_year"].to_numpy(), rel=1e-7)
    f = t["flows"]
    assert f.loc[f["to_customer"], "units_per_year"].sum() == pytest.approx(
        d["delivered_units_per_year"].sum(), rel=1e-9)
    # nothing flows through a closed site
    closed = set(t["sites"].loc[~t["sites"]["open"], "site_id"])
    assert not (set(f["origin_id"]) | set(f["destination_id"])) & closed
    assert set(t) == {"sites", "flows", "production", "demand", "costs", "stock_points",
                      "capacities"}
    # holding is the stock on hand of the stock points, none of them at a closed site
    c = t["costs"]
    sp = t["stock_points"]
    assert sp["holding_usd_per_year"].sum() == pytest.approx(
        c.loc[c["group"] == "holding", "usd_per_year"].sum(), rel=1e-9)
    assert (sp["avg_on_hand_units"] >= 0).all() and not set(sp["site_id"]) & closed


def test_design_result_without_solution_is_empty(tmp_path):
    sc = load_scenario(small_network(tmp_path))
    data = extract(sc, DesignOptions(allow_unmet=False, co2_cap_t=0.001))
    m = build_network_design_model(data)
    out = solve(m)
    res = design_result(m, data, out)
    assert not res.ok and res.tables == {} and res.design is None


def test_single_sourcing_serves_each_stream_from_one_lane(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=3))
    free = optimise(sc, settings=SolverSettings(mip_gap=1e-9))
    single = optimise(sc, DesignOptions(single_sourcing=True), SolverSettings(mip_gap=1e-9))
    assert single.outcome.status == "optimal"
    f = single.tables["flows"]
    lanes_per_stream = f[f["to_customer"]].groupby(["destination_id", "product_id"]).size()
    assert (lanes_per_stream == 1).all()
    assert single.objective >= free.objective - 1e-6 * abs(free.objective)
    # the unconstrained optimum splits at least one stream (the capacities bind), so the
    # option changes the answer here
    g = free.tables["flows"]
    assert (g[g["to_customer"]].groupby(["destination_id", "product_id"]).size() > 1).any()


def test_threads_can_change_between_solves_in_one_process(tmp_path):
    """HiGHS keeps one thread scheduler per process; a second solve with another thread count
    used to stop at once with status "error" ("Not Set"). Each count must now solve, to the
    same optimum."""
    sc = load_scenario(small_network(tmp_path, seed=2))
    data = extract(sc)
    outcomes = [optimise(data, settings=SolverSettings(threads=t, mip_gap=1e-9),
                         shadow_prices=False, explain=False).outcome for t in (1, 2, None, 1)]
    assert [o.status for o in outcomes] == ["optimal"] * 4, [o.termination for o in outcomes]
    assert all(o.objective == pytest.approx(outcomes[0].objective, rel=1e-9) for o in outcomes)


def test_an_error_status_always_says_why(tmp_path, monkeypatch):
    """Make the scheduler guard believe the scheduler already runs 2 threads while HiGHS's runs
    1: HiGHS then refuses the solve, and the outcome must explain it in words."""
    from supplytwin.opt import solver as solver_mod

    sc = load_scenario(small_network(tmp_path, seed=2))
    model = build_network_design_model(extract(sc))
    assert solve(model, SolverSettings(threads=1)).status == "optimal"
    monkeypatch.setattr(solver_mod.SCHEDULER, "_threads", 2)
    out = solve(model, SolverSettings(threads=2))
    assert out.status == "error"
    assert "HiGHS stopped" in out.message and out.termination in out.message
