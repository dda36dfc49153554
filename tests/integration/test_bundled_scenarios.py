"""The bundled network and its what-ifs: every scenario runs with its mass balance, and each
what-if moves the KPIs in the direction a planner expects (paired over common random numbers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from supplytwin.experiment import (
    LocalProcesses,
    paired_difference,
    run_experiment,
    welch_difference,
)
from supplytwin.scenario import load_scenario
from supplytwin.sim import simulate

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
REPS = 5


@pytest.fixture(scope="module")
def pool():
    p = LocalProcesses(2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def baseline(pool):
    return run_experiment(load_scenario(ROOT / "scenarios" / "baseline.yaml"), REPS, executor=pool)


@pytest.fixture(scope="module")
def hurricane(pool):
    return run_experiment(load_scenario(ROOT / "scenarios" / "pr-hurricane.yaml"), REPS,
                          executor=pool)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_scenario_runs_with_mass_balance(path):
    sc = load_scenario(path)
    r = simulate(sc, seed=11)  # raises MassBalanceError on any imbalance
    assert np.abs(r.mass_balance["imbalance_units"]).max() < 1e-6
    assert r.kpis["demand_units"] > 0 and 0 < r.kpis["fill_rate"] <= 1


def customers_served_from(sc, site_id: str) -> set[tuple[str, str]]:
    """(customer, product) streams whose primary source DC replenishes from ``site_id``."""
    net = sc.network
    out = set()
    for (cust, prod), d in net.demand.items():
        srcs = net.demand_sources(d)
        if not srcs:
            continue
        pol = net.policies.get((srcs[0].origin_id, prod))
        if pol and not pol.is_make and net.lanes[pol.sources[0]].origin_id == site_id:
            out.add((cust, prod))
    return out


def test_hurricane_lowers_fill_rate_at_customers_served_from_puerto_rico(baseline, hurricane):
    affected = customers_served_from(hurricane.scenario, "FF-PR-JUNCOS")
    assert len(affected) >= 5

    def fill(result):
        c = result.by_customer()
        c = c[[(a, b) in affected for a, b in zip(c["customer_id"], c["product_id"], strict=True)]]
        g = c.groupby("replication")[["filled_immediately_units", "demand_units"]].sum()
        return (g["filled_immediately_units"] / g["demand_units"]).to_numpy()

    diff = paired_difference(fill(baseline), fill(hurricane))
    assert diff.ci95[1] < 0, f"fill rate at PR-served customers did not drop: {diff}"
    # and the customers not served from Puerto Rico are (almost) untouched
    overall = paired_difference(baseline.kpi_table()["fill_rate"], hurricane.kpi_table()["fill_rate"])
    assert diff.mean < overall.mean


def test_paired_interval_is_narrower_than_independent_seeds(pool, baseline, hurricane):
    independent = run_experiment(load_scenario(ROOT / "scenarios" / "pr-hurricane.yaml"), REPS,
                                 seed=baseline.seed + 1, executor=pool)
    # KPIs driven by the shared demand and logistics draws gain most from pairing; the fill-rate
    # difference of a hurricane is dominated by the hurricane's own response (how much stock a
    # replication happens to hold when it strikes), which pairing cannot cancel
    for kpi in ("cost_total_usd", "delivered_units", "patients_affected", "co2_kg_total"):
        paired = paired_difference(baseline.kpi_table()[kpi], hurricane.kpi_table()[kpi])
        unpaired = welch_difference(baseline.kpi_table()[kpi], independent.kpi_table()[kpi])
        assert paired.half_width < unpaired.half_width, kpi


def test_heatwave_raises_excursion_losses(pool):
    # losses come in lumps (a destroyed shipment), so this needs more replications; the run
    # stops soon after the six-week heatwave (days 180-222) ends
    short = ["simulation.horizon_days=235"]
    base = run_experiment(load_scenario(ROOT / "scenarios" / "baseline.yaml", short), 12,
                          executor=pool)
    heat = run_experiment(load_scenario(ROOT / "scenarios" / "heatwave.yaml", short), 12,
                          executor=pool)
    for kpi in ("excursions", "excursion_loss_units"):
        d = paired_difference(base.kpi_table()[kpi], heat.kpi_table()[kpi])
        assert d.ci95[0] > 0, f"{kpi}: {d}"


def _run(pool, name, reps=3):
    return run_experiment(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), reps, executor=pool)


def _paired(base, other, kpi):
    n = min(base.n, other.n)
    return paired_difference(base.kpi_table()[kpi][:n], other.kpi_table()[kpi][:n])


def _api_on_hand(result):
    ts = result.timeseries()
    ts = ts[(ts["site_id"] == "DS-IE-RINGASKIDDY") & (ts["product_id"] == "API-ORA")]
    return ts.groupby("replication")["on_hand_units"].mean().to_numpy()


def test_air_crunch_lowers_service(pool, baseline):
    d = _paired(baseline, _run(pool, "air-crunch"), "fill_rate")
    assert d.ci95[1] < 0, d


def test_pandemic_surge_raises_demand_and_shortage(pool, baseline):
    surge = _run(pool, "pandemic-surge")
    assert _paired(baseline, surge, "demand_units").ci95[0] > 0
    short = [b + lost for b, lost in zip(surge.kpi_table()["backordered_units"],
                                         surge.kpi_table()["lost_units"], strict=True)]
    base_short = [b + lost for b, lost in zip(baseline.kpi_table()["backordered_units"][:3],
                                              baseline.kpi_table()["lost_units"][:3], strict=True)]
    assert paired_difference(base_short, short).ci95[0] > 0


def test_qc_failure_spike_rejects_more_batches(pool, baseline):
    spike = _run(pool, "qc-failure-spike")
    diffs = (spike.kpi_table()["qc_rejected_batches"].to_numpy()
             - baseline.kpi_table()["qc_rejected_batches"].to_numpy()[:3])
    # common random numbers: outside the spike the same batches fail, inside it more do
    assert (diffs >= 0).all() and diffs.sum() > 0


def test_api_supplier_loss_drains_api_stock_and_dual_sourcing_restores_it(pool, baseline):
    loss = _run(pool, "api-supplier-loss")
    dual = _run(pool, "dual-sourcing")
    assert paired_difference(_api_on_hand(baseline)[:3], _api_on_hand(loss)).ci95[1] < 0
    assert paired_difference(_api_on_hand(loss), _api_on_hand(dual)).ci95[0] > 0
