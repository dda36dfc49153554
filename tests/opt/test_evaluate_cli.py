"""``--evaluate``: the optimum and the next-best distinct designs, simulated with common random
numbers; and ``supplytwin optimize`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.opt import SolverSettings, extract
from supplytwin.opt.evaluate import carrying_sites, evaluate_designs, next_best_designs
from supplytwin.scenario import load_scenario
from tests.opt.netgen import small_network

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXACT = SolverSettings(mip_gap=1e-9)


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    """Runs recorded by ``supplytwin run`` go to a temporary registry, not ./runs."""
    monkeypatch.setenv("SUPPLYTWIN_RUNS_DIR", str(tmp_path / "runs"))


def invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_next_best_designs_are_distinct_and_in_order(tmp_path):
    data = extract(load_scenario(small_network(tmp_path, seed=1)))
    designs = next_best_designs(data, 4, settings=EXACT)
    assert len(designs) == 4
    # distinct in the sites that carry goods, not only in the sites that are paid for
    keys = [carrying_sites(d) for d in designs]
    assert len(set(keys)) == 4
    objs = [d.objective for d in designs]
    assert objs == sorted(objs)


def test_designs_are_simulated_with_common_random_numbers(tmp_path):
    sc = load_scenario(small_network(tmp_path / "net", seed=1, horizon_days=80, warmup_days=20))
    designs = next_best_designs(extract(sc), 3, settings=EXACT)
    table, evaluated = evaluate_designs(sc, designs, tmp_path / "designs", reps=3, seed=11)
    assert list(table["sim_rank"]) == sorted(table["sim_rank"])
    assert set(table["design"]) == {"design-1", "design-2", "design-3"}
    for col in ("sim_cost_ci_low", "sim_cost_ci_high", "fill_rate", "diff_vs_optimum_usd"):
        assert table[col].notna().all()
    assert (table["sim_cost_ci_low"] <= table["sim_cost_usd"]).all()
    # replication i of every design sees the same customer orders
    demand = pd.DataFrame({e.label: e.kpis["demand_units"].to_numpy() for e in evaluated})
    assert (demand.nunique(axis=1) == 1).all()
    # the simulated cost includes the fixed costs of the open sites
    for e in evaluated:
        assert e.fixed_usd > 0 and (e.kpis["annual_cost_usd"] > e.fixed_usd).all()


def test_optimize_baseline_then_run_the_design(tmp_path):
    out = tmp_path / "design"
    r = invoke("optimize", ROOT / "scenarios" / "baseline.yaml", "--out", out)
    assert r.exit_code == 0, r.output
    assert "annual cost by category" in r.output and "capacities" in r.output
    for name in ("sites", "flows", "production", "demand", "costs", "capacities"):
        assert (out / f"{name}.csv").is_file() and (out / f"{name}.parquet").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["gap"] <= 1e-3
    design = out / summary["design_scenario"]
    assert design.is_file()
    r = invoke("run", design, "--horizon-days", "90")  # longer than the 60-day warm-up
    assert r.exit_code == 0, r.output
    assert "fill_rate" in r.output
    # the output folder is complete or absent, never half-written
    assert not list(tmp_path.glob(".tmp-*"))


def test_optimize_evaluate_writes_a_ranking(tmp_path):
    src = small_network(tmp_path / "net", seed=1, horizon_days=60, warmup_days=15)
    out = tmp_path / "out"
    r = invoke("optimize", src, "--evaluate", "2", "--reps", "2", "--out", out)
    assert r.exit_code == 0, r.output
    assert "designs judged by simulation" in r.output
    ranking = pd.read_csv(out / "evaluation.csv")
    assert len(ranking) == 2 and set(ranking["model_rank"]) == {1, 2}
    alt = ranking[ranking["model_rank"] == 2].iloc[0]
    assert alt["units_rerouted_per_year"] > 0 and alt["lanes_added"] + alt["lanes_dropped"] > 0
    assert "design-2 vs the optimum: sites" in r.output and "units/yr rerouted" in r.output
    assert len(list((out / "designs").glob("*.yaml"))) == 2
    # the optimum's stock on hand per stock point, in the model and simulated
    sp = pd.read_csv(out / "stock_points_compared.csv")
    model = pd.read_csv(out / "stock_points.csv")
    assert sp["model_on_hand_units"].sum() == pytest.approx(model["avg_on_hand_units"].sum())
    assert (sp["sim_on_hand_units"] >= 0).all() and sp["sim_on_hand_units"].sum() > 0
    assert sp["sim_minus_model_units"].to_numpy() == pytest.approx(
        (sp["sim_on_hand_units"] - sp["model_on_hand_units"]).to_numpy())


def test_optimize_json(tmp_path):
    r = invoke("optimize", small_network(tmp_path, seed=2), "--json", "--gap", "0")
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)
    assert payload["status"] == "optimal" and payload["objective_usd_per_year"] > 0
    assert set(payload["cost_by_group"]) >= {"fixed", "production", "transport", "holding"}


@pytest.mark.parametrize("args", [
    ["missing.yaml"],
    ["{net}", "--objective", "profit"],
    ["{net}", "--n-minus-1", "1.5"],
    ["{net}", "--gap", "2"],
    ["{net}", "--time-limit", "0"],
    ["{net}", "--set", "simulation.horizon_days=abc"],
])
def test_bad_input_exits_2_without_traceback(tmp_path, args):
    net = small_network(tmp_path / "net", seed=1)
    r = invoke("optimize", *[a.format(net=net) for a in args])
    assert r.exit_code == 2, r.output


def test_infeasible_model_is_explained_and_exits_2(tmp_path):
    net = small_network(tmp_path / "net", seed=1)
    out = tmp_path / "out"
    r = invoke("optimize", net, "--no-unmet", "--co2-cap", "1", "--out", out)
    assert r.exit_code == 2
    assert "CO2 cap of 1 t/year" in r.output
    assert "CO2 cap" in (out / "infeasibility.txt").read_text()
    assert json.loads((out / "summary.json").read_text())["status"] == "infeasible"


def test_set_overrides_are_carried_into_the_design(tmp_path):
    net = small_network(tmp_path / "net", seed=1)
    out = tmp_path / "out"
    r = invoke("optimize", net, "--set", "simulation.horizon_days=45",
               "--set", "edits.sites.DC1.fixed_cost_usd_per_year=5e8", "--out", out)
    assert r.exit_code == 0, r.output
    design = load_scenario(next(out.glob("*.yaml")))
    assert design.simulation.horizon_days == 45
    assert design.network.sites["DC1"].fixed_cost_usd_per_year == 5e8
    assert not design.network.sites["DC1"].is_open  # too dear to keep: the design closes it


def test_cli_explains_lanes_that_cannot_serve(tmp_path):
    net = small_network(tmp_path / "net", seed=1)
    r = invoke("optimize", net, "--no-unmet", "--max-transit-days", "0.5")
    assert r.exit_code == 2
    assert "no lane can deliver it" in r.output and "exceeds the 0.5-day limit" in r.output
