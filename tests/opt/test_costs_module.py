"""The cost-group module: fixed site costs and handling read from the tables, and the
simulator's cost_total_usd is the sum of its groups with fixed costs prorated to the window."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from supplytwin import simulate
from supplytwin.model.costs import (
    COST_GROUPS,
    SIM_COST_KPIS,
    compare_groups,
    fixed_site_costs_usd_per_year,
    handling_cost_usd,
)
from supplytwin.scenario import load_scenario
from supplytwin.sim.kpis import KPI_DOCS
from tests.opt.netgen import small_network

pytestmark = pytest.mark.component

@pytest.fixture
def net_file(tmp_path) -> Path:
    """Two plants (fixed cost 1e6 each), four DCs (two open) with fixed and handling costs."""
    return small_network(tmp_path, seed=4, horizon_days=120, warmup_days=20)


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as f:
        return list(csv.DictReader(f))


def test_fixed_costs_of_open_sites_from_the_table(net_file):
    sc = load_scenario(net_file)
    expected = sum(float(r.get("fixed_cost_usd_per_year") or 0)
                   for r in _rows(net_file.parent, "sites.csv")
                   if r["kind"] != "customer" and (r.get("is_open") or "true") == "true")
    assert expected > 2e6  # both plants and the open DCs
    assert fixed_site_costs_usd_per_year(sc.network) == pytest.approx(expected)


def test_handling_is_charged_at_the_origin(net_file):
    net = load_scenario(net_file).network
    lane = net.lanes["L-DC1-C1-RD"]
    rate = float(next(r for r in _rows(net_file.parent, "sites.csv")
                      if r["site_id"] == "DC1")["handling_cost_usd_per_unit"])
    assert rate > 0
    assert handling_cost_usd(net, {lane.lane_id: 40.0}) == pytest.approx(40.0 * rate)
    assert handling_cost_usd(net, {}) == 0.0


def test_run_total_is_the_sum_of_the_groups(net_file):
    sc = load_scenario(net_file)
    r = simulate(sc, seed=3)
    assert r.kpis["cost_handling_usd"] > 0 and r.kpis["cost_fixed_sites_usd"] > 0
    assert set(SIM_COST_KPIS) <= set(KPI_DOCS)
    assert r.kpis["cost_total_usd"] == pytest.approx(sum(r.kpis[k] for k in SIM_COST_KPIS))
    window = sc.simulation.horizon_days - sc.simulation.warmup_days
    assert r.kpis["cost_fixed_sites_usd"] == pytest.approx(
        fixed_site_costs_usd_per_year(sc.network) * window / 365.0)


def test_comparison_names_every_group_and_says_why():
    rows = compare_groups({"production": 110.0, "waste": 5.0}, {"production": 100.0})
    assert [r["group"] for r in rows] == [g.key for g in COST_GROUPS]
    by = {r["group"]: r for r in rows}
    assert by["production"]["sim_minus_opt_usd"] == pytest.approx(10.0)
    assert by["waste"]["opt_usd_per_year"] is None and "no stochastic waste" in by["waste"]["why"]
    assert by["co2"]["sim_usd_per_year"] is None
