"""The Optimise page: pure figures against their input tables, the service on the tiny and
baseline scenarios (design saved like a Scenario-page save, infeasible models explained), the
simulation of a design against its baseline, and the page callbacks called directly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import plotly
import plotly.graph_objects as go
import pytest
import yaml
from dash import Patch, html, no_update

from dashboard import figures, services
from dashboard.app import create_app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TINY = "bundled/tiny.yaml"
BASELINE = "bundled/baseline.yaml"


def _text(component) -> str:
    parts: list[str] = []

    def walk(c):
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return " ".join(parts)


def _json_size(value) -> int:
    """Bytes of a callback answer as Dash sends it to the browser."""
    return len(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def _find_ids(component) -> set[str]:
    out: set[str] = set()

    def walk(c):
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
            return
        if isinstance(getattr(c, "id", None), str):  # not the tables' export ids (dicts)
            out.add(c.id)
        if hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return out


# ---------------------------------------------------------------- figures (pure) -----------------

SITES = pd.DataFrame([
    {"site_id": "P", "name": "Plant", "kind": "fill_finish", "latitude": 50.0, "longitude": 8.0,
     "open": True, "open_before": True, "candidate": False},
    {"site_id": "D1", "name": "DC one", "kind": "distribution_centre", "latitude": 48.0,
     "longitude": 2.0, "open": True, "open_before": False, "candidate": True},
    {"site_id": "D2", "name": "DC two", "kind": "distribution_centre", "latitude": 40.0,
     "longitude": -3.0, "open": False, "open_before": True, "candidate": True},
    {"site_id": "C", "name": "Customer", "kind": "customer", "latitude": 45.0, "longitude": 5.0,
     "open": True, "open_before": True, "candidate": False},
])
FLOWS = pd.DataFrame([
    {"origin_id": "P", "destination_id": "D1", "mode": "road", "units_per_year": 400.0,
     "products": "A;B"},
    {"origin_id": "D1", "destination_id": "C", "mode": "air", "units_per_year": 100.0,
     "products": "A"},
    {"origin_id": "P", "destination_id": "C", "mode": "road", "units_per_year": 25.0,
     "products": "B"},
    {"origin_id": "P", "destination_id": "D2", "mode": "sea", "units_per_year": 0.0,
     "products": "A"},
])


def _flow_traces(fig: go.Figure) -> list:
    return [t for t in fig.data if (t.name or "").startswith("flow ")]


def test_design_map_draws_the_main_flows_sized_by_units():
    fig = figures.design_map_figure(SITES, FLOWS)
    flows = _flow_traces(fig)
    # the zero flow is not drawn; the others are, largest first, wider with more units
    assert [t.name for t in flows] == ["flow P → D1", "flow D1 → C", "flow P → C"]
    widths = [t.line.width for t in flows]
    assert widths == sorted(widths, reverse=True) and widths[0] == pytest.approx(9.0)
    assert widths[1] == pytest.approx(figures.flow_width(100, 400))
    assert [t.meta["units_per_year"] for t in flows] == [400.0, 100.0, 25.0]
    # each line joins its two sites' coordinates; colour is the mode's
    assert list(flows[0].lat) == [50.0, 48.0] and list(flows[0].lon) == [8.0, 2.0]
    assert flows[1].line.color == services.MODE_STYLE["air"][1]
    # only the top N flows
    assert len(_flow_traces(figures.design_map_figure(SITES, FLOWS, top=2))) == 2


def test_design_map_shows_open_closed_and_changed_sites():
    fig = figures.design_map_figure(SITES, FLOWS)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["closed"].customdata) == ["D2"]
    assert set(by_name["changed by the design"].customdata) == {"D1", "D2"}
    dc = by_name[services.KIND_STYLE["distribution_centre"][0]]
    assert list(dc.customdata) == ["D1"] and "opened by the design" in dc.hovertext[0]
    assert "closed by the design" in by_name["closed"].hovertext[0]
    assert {"Road flows", "Air flows"} <= set(by_name)
    empty = figures.design_map_figure(SITES.iloc[0:0], FLOWS.iloc[0:0])
    assert "No sites" in empty.layout.annotations[0].text


def test_design_cost_figure_matches_the_cost_table():
    costs = pd.DataFrame([
        ("fixed", "site fixed costs", 1000.0), ("fixed", "capacity expansions", 0.0),
        ("production", "batches and units", 300.0), ("transport", "freight per unit", 200.0),
        ("transport", "on-demand shipments", 50.0), ("co2", "emissions at 100 USD/t", 7.0),
    ], columns=["group", "item", "usd_per_year"])
    fig = figures.design_cost_figure(costs)
    assert [t.name for t in fig.data] == ["fixed", "production", "transport", "co2"]
    bars = {(t.name, y): x for t in fig.data for y, x in zip(t.y, t.x, strict=True)}
    assert bars == {("fixed", "fixed · site fixed costs"): 1000.0,
                    ("production", "production · batches and units"): 300.0,
                    ("transport", "transport · freight per unit"): 200.0,
                    ("transport", "transport · on-demand shipments"): 50.0,
                    ("co2", "co2 · emissions at 100 USD/t"): 7.0}
    assert "1,557 USD/year" in fig.layout.title.text
    assert "No costs" in figures.design_cost_figure(costs.iloc[0:0]).layout.annotations[0].text


# ---------------------------------------------------------------- options ------------------------


def test_options_are_checked_with_a_message_naming_the_option():
    v = services.validate_optimise_settings
    s = v({"objective": "cost+co2", "co2_price": 80, "k_sourcing": 2, "n_minus_1": 0.5,
           "time_limit": 30, "gap_percent": 0.5})
    assert s == services.OptimiseSettings("cost+co2", 80.0, 2, 0.5, 30.0, 0.005)
    assert v({}) == services.OptimiseSettings()
    assert v({"n_minus_1": ""}).n_minus_1_share is None
    for raw, words in [
        ({"objective": "profit"}, "Objective"), ({"co2_price": -1}, "CO2 price"),
        ({"k_sourcing": 0}, "k-sourcing"), ({"k_sourcing": 1.5}, "whole number"),
        ({"k_sourcing": 99}, "k-sourcing: at most"), ({"n_minus_1": 1.5}, "N-1 share"),
        ({"n_minus_1": "x"}, "N-1 share: enter a number"), ({"time_limit": 0}, "Time limit"),
        ({"time_limit": 1e9}, "Time limit (s): at most"), ({"gap_percent": 100}, "MIP gap"),
        ({"gap_percent": float("nan")}, "MIP gap"),
    ]:
        with pytest.raises(services.UserError, match=words.replace("(", r"\(").replace(")", r"\)")):
            v(raw)


# ---------------------------------------------------------------- services -----------------------


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return services.make_workspace(tmp_path_factory.mktemp("runs"), ROOT / "scenarios")


def test_optimise_tiny_writes_a_design_scenario_like_a_saved_one(ws):
    out = services.optimise_design(ws, TINY, services.OptimiseSettings(), name="tiny-opt")
    assert out["ok"] and out["status"] == "optimal"
    assert out["design_key"] == "saved/tiny-opt.yaml"
    path = ws.saved_dir / "tiny-opt.yaml"
    doc = yaml.safe_load(path.read_text())
    assert doc["name"] == "tiny-opt" and (path.parent / doc["extends"]).resolve() == (
        ROOT / "scenarios" / "tiny.yaml").resolve()
    assert services.scenario_path(ws, out["design_key"]) == path
    # the tables shown are the optimiser's: costs add up to the objective, flows per OD pair
    assert sum(c["usd_per_year"] for c in out["costs"]) == pytest.approx(out["objective_usd"],
                                                                        rel=1e-6)
    flows = pd.DataFrame(out["flows"])
    assert set(zip(flows.origin_id, flows.destination_id, strict=True)) == {
        ("PLANT", "DC"), ("DC", "C1"), ("DC", "C2")}
    assert flows.loc[flows.destination_id == "DC", "units_per_year"].iloc[0] == pytest.approx(
        flows.loc[flows.origin_id == "DC", "units_per_year"].sum())
    assert {s["site_id"] for s in out["sites"]} == {"PLANT", "DC", "C1", "C2"}
    # never overwrites; hostile names are refused before anything is written
    with pytest.raises(services.UserError, match="exists already"):
        services.optimise_design(ws, TINY, services.OptimiseSettings(), name="tiny-opt")
    with pytest.raises(services.UserError, match="not allowed"):
        services.optimise_design(ws, TINY, services.OptimiseSettings(), name="../../evil")
    with pytest.raises(services.UserError, match="not a scenario"):
        services.optimise_design(ws, "../../etc/passwd", services.OptimiseSettings())
    assert not list(ws.runs_dir.parent.rglob("evil*"))
    # without a name: the first free SCENARIO-design-N
    again = services.optimise_design(ws, TINY, services.OptimiseSettings())
    assert again["design_key"] == "saved/tiny-design-1.yaml"
    # the same design once more (a second click) reuses that file instead of writing another
    before = sorted(p.name for p in ws.saved_dir.glob("tiny-design-*"))
    third = services.optimise_design(ws, TINY, services.OptimiseSettings())
    assert third["design_key"] == "saved/tiny-design-1.yaml"
    assert "saved already" in third["message"]
    assert sorted(p.name for p in ws.saved_dir.glob("tiny-design-*")) == before
    # other options make another design, in a new file
    other = services.optimise_design(ws, TINY, services.OptimiseSettings(objective="cost+co2"))
    assert other["design_key"] == "saved/tiny-design-2.yaml"


def test_infeasible_model_is_explained_in_plain_words(ws):
    out = services.optimise_design(ws, TINY, services.OptimiseSettings(k_sourcing=3),
                                   name="tiny-k3")
    assert not out["ok"] and out["status"] == "infeasible"
    assert out["design_key"] is None and not (ws.saved_dir / "tiny-k3.yaml").exists()
    text = " ".join(out["explanation"])
    assert "k-sourcing" in text and "MAB-T" in text and "C1" in text


def test_optimise_baseline_in_a_background_job(ws):
    runner = services.JobRunner()
    job = services.start_optimise(ws, BASELINE, services.OptimiseSettings(), runner=runner)
    status = runner.wait(job, 120)
    assert status["state"] == "done", status
    s = status["summary"]
    assert s["ok"] and s["design_key"].startswith("saved/baseline-design-")
    sites = pd.DataFrame(s["sites"])
    assert len(sites) == 55
    assert set(sites.loc[sites.candidate, "site_id"]) == {"DC-US-LOUISVILLE", "DC-ES-MADRID"}
    assert "Saved as" in status["message"]
    # bad input never starts a job
    with pytest.raises(services.UserError):
        services.start_optimise(ws, "saved/nope.yaml", services.OptimiseSettings(), runner=runner)


def test_simulate_design_against_its_baseline(ws):
    out = services.optimise_design(ws, TINY, services.OptimiseSettings(), name="tiny-sim")
    runner = services.JobRunner()
    with pytest.raises(services.UserError, match="Replications"):
        services.start_design_simulation(ws, TINY, out["design_key"], 0, runner=runner)
    job = services.start_design_simulation(ws, TINY, out["design_key"], 2, report=False,
                                           workers=1, runner=runner)
    status = runner.wait(job, 120)
    assert status["state"] == "done", status
    base, design = status["summary"]["run_ids"]
    assert status["summary"]["compare_href"] == f"/compare?runs={base},{design}"
    rec = services.run_record(ws, design)
    assert rec["scenario_name"] == "tiny-sim" and rec["replications"] == 2
    diff, note = services.compare_runs(ws, [base, design])
    assert "paired by replication" in note and len(diff)


# ---------------------------------------------------------------- callbacks ----------------------


@pytest.fixture(scope="module")
def app(ws):
    return create_app(ws.runs_dir, ws.scenarios_dir)


def page():
    return sys.modules["dashboard.pages.optimise"]


def _options(**kw):
    d = {"objective": "cost", "co2_price": 100, "k_sourcing": 1, "n_minus_1": None,
         "time_limit": 60, "gap_percent": 0.1}
    d.update(kw)
    return [d[k] for k in ("objective", "co2_price", "k_sourcing", "n_minus_1", "time_limit",
                           "gap_percent")]


def test_page_is_registered_with_its_callbacks(app):
    outputs = " ".join(app.callback_map)
    for ident in ("optimise-results.children", "optimise-goto.href", "optimise-sim-watch.data"):
        assert ident in outputs
    with app.server.test_request_context("/"):
        lay = page().layout()
    assert isinstance(lay, html.Div)
    assert {"optimise-run", "optimise-simulate", "optimise-objective", "optimise-gap",
            "optimise-n-minus-1", "optimise-k-sourcing", "optimise-time-limit",
            "optimise-co2-price"} <= _find_ids(lay)


def test_callbacks_optimise_poll_simulate(app):
    opt = page()
    with app.server.test_request_context("/_dash-update-component"):
        # bad options: a message, nothing started
        out = opt.start(1, TINY, None, *_options(gap_percent=-1))
        assert out[0] is no_update and "MIP gap" in _text(out[2])
        out = opt.start(1, TINY, "bad name!", *_options())
        assert "not allowed" in _text(out[2])
        # nothing to simulate before a design exists
        assert "Optimise first" in _text(opt.simulate(1, 2, {})[2])
        # a good run
        out = opt.start(1, TINY, None, *_options())
        assert isinstance(out[0], Patch) and out[1] is False and out[5] is True
        job = list(services.JOBS._jobs)[-1]  # the job the callback started
        services.JOBS.wait(job, 60)
        store = {"optimise_job": job}
        answer = opt.poll(3, store, None)
        _progress, msg, poll_off, run_off, cancel_off, result_job = answer
        assert poll_off and not run_off and cancel_off and result_job == job
        assert "Design found" in _text(msg)
        # the poll answers with a small status, never the result: an answer that took longer
        # to build than the poll period was superseded by the next poll, and the design never
        # showed on a busy machine
        assert _json_size(answer[:5]) < 3_000
        # the result is fetched once: a poll after it is shown does not ask for it again
        assert opt.poll(4, store, job)[5] is no_update
        results, sim_off = opt.show_result(job)
        assert _json_size(results) > 10 * _json_size(answer[:5])
        assert not sim_off  # simulate is possible as soon as the design is shown
        ids = _find_ids(results)
        assert {"optimise-map", "optimise-costs", "optimise-facts"} <= ids
        assert opt.show_result(None) == ([], True)
        # infeasible: the explanation, no map, no simulate
        out = opt.start(1, TINY, None, *_options(k_sourcing=3))
        bad = list(services.JOBS._jobs)[-1]
        services.JOBS.wait(bad, 60)
        _, msg, *_rest, result_job = opt.poll(1, {"optimise_job": bad}, job)
        assert result_job == bad and "infeasible" in _text(msg)
        results, sim_off = opt.show_result(bad)
        assert sim_off
        assert "optimise-explanation" in _find_ids(results)
        assert "MAB-T is made at only 1 site" in _text(results)
        # simulate the good design: store patch, then the poll links to Compare and navigates
        # when this page view started the job
        out = opt.simulate(1, 2, store)
        assert isinstance(out[0], Patch) and out[4] is True
        sim = out[6]
        status = services.JOBS.wait(sim, 120)
        assert status["state"] == "done", status
        res = opt.poll_simulation(5, {**store, "optimise_sim_job": sim}, sim)
        href = status["summary"]["compare_href"]
        assert res[3] == href and res[2].href == href
        assert res[4] is True and "Simulated 2 replication(s)" in _text(res[1])
        # a later visit of the page shows the link but stays
        assert opt.poll_simulation(None, {**store, "optimise_sim_job": sim}, None)[3] is no_update
        assert "Nothing to cancel" in _text(opt.cancel(1, store))
        # no job at all: polling stops quietly
        assert opt.poll(None, {})[2] is True
