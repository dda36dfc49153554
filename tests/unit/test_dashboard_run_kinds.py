"""Every kind of run in the registry opens on the right page with its own content: a CLI
``compare`` in Compare with both sides (the what-if's own KPIs, not the base's), a ``sweep`` as
its own table and plot in Results, a what-if run from the Scenario page under its own name with
what it changes. The runs are recorded on the CLI's code path (``recorded.start``)."""

from __future__ import annotations

import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest

from dashboard import services
from dashboard.app import create_app
from supplytwin.experiment import recorded

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TINY = "bundled/tiny.yaml"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A runs folder with a CLI comparison (tiny against tiny with demand x1.5), a CLI sweep of
    the horizon, and a what-if run from the Scenario page (demand x1.2)."""
    runs = tmp_path_factory.mktemp("runs")
    ws = services.make_workspace(runs, ROOT / "scenarios")
    tiny = services.scenario_path(ws, TINY)
    surge = services.save_scenario(ws, TINY, services.validate_knobs(
        ws, TINY, {"demand": {"MAB-T": 1.5}}), "tiny-surge").path
    reg = ws.registry()
    cmp = recorded.start(recorded.Request("compare", [str(tiny), str(surge)], reps=3, workers=1),
                         reg).run_id
    sweep = recorded.start(recorded.Request(
        "sweep", [str(tiny)], reps=2, workers=1,
        grid={"simulation.horizon_days": ["120", "150"]}), reg).run_id
    runner = services.JobRunner()
    knobs = services.validate_knobs(ws, TINY, {"demand": {"MAB-T": 1.2}})
    status = runner.wait(services.start_run(ws, TINY, knobs, 2, report=False, runner=runner,
                                            workers=1), 120)
    assert status["state"] == "done", status
    app = create_app(runs, ROOT / "scenarios")
    return {"app": app, "ws": ws, "compare": cmp, "sweep": sweep, "whatif": status["run_id"],
            "tiny_name": services.load(ws, TINY).name}


@pytest.fixture
def ctx(env):
    with env["app"].server.test_request_context("/_dash-update-component"):
        yield env


def page(name: str):
    return sys.modules[f"dashboard.pages.{name}"]


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


def test_a_cli_comparison_opens_in_compare_with_both_sides(env):
    ws, cid, base_name = env["ws"], env["compare"], env["tiny_name"]
    row = next(r for r in services.list_runs(ws) if r["run_id"] == cid)
    assert row["open_href"] == f"/compare?runs={cid},{cid}@whatif1"
    assert row["scenario"] == "tiny-surge" and row["base_name"] == base_name
    base, whatif = services.load_run(ws, cid), services.load_run(ws, f"{cid}@whatif1")
    assert base.scenario == base_name and whatif.scenario == "tiny-surge"
    assert base.record_id == whatif.record_id == cid and whatif.kind == "compare"
    # each side has its own KPIs: the what-if's demand is 1.5 times the base's
    ratio = whatif.kpis["demand_units"].mean() / base.kpis["demand_units"].mean()
    assert ratio == pytest.approx(1.5, rel=0.1)
    diff, note = services.compare_runs(ws, [cid, f"{cid}@whatif1"])
    assert "paired by replication" in note
    assert diff["whatif"].str.startswith("tiny-surge").all()
    fr = diff.set_index("kpi").loc["demand_units"]
    assert fr["whatif_mean"] > fr["base_mean"]
    # sides that do not exist, or a malformed side, get a message
    with pytest.raises(services.UserError, match="has no whatif2"):
        services.load_run(ws, f"{cid}@whatif2")
    with pytest.raises(services.UserError, match="not a run id"):
        services.load_run(ws, f"{cid}@../../etc")


def test_a_sweep_opens_as_its_own_table_and_plot(ctx):
    ws, sid = ctx["ws"], ctx["sweep"]
    row = next(r for r in services.list_runs(ws) if r["run_id"] == sid)
    assert row["open_href"] == f"/results?run={sid}"
    # not the "[Errno 2] ... kpis.json" of a run's loader
    with pytest.raises(services.UserError, match="is a sweep"):
        services.load_run(ws, sid)
    out = page("results").show_run(sid)
    head, block, plot = out[0], out[1], out[2]
    assert "sweep of simulation.horizon_days" in _text(head)
    table = _text(block)
    assert "120" in table and "150" in table
    assert isinstance(plot, go.Figure) and len(plot.data) >= 1
    # the sweep's points are still runs of their own
    assert services.load_run(ws, f"{sid}@point001").kpis["replication"].nunique() == 2


def test_a_scenario_page_what_if_is_recorded_under_its_own_name(ctx):
    ws, wid, base_name = ctx["ws"], ctx["whatif"], ctx["tiny_name"]
    rec = services.run_record(ws, wid)
    assert rec["scenario_name"] != base_name and rec["scenario_name"].startswith(base_name)
    assert rec["base_name"] == base_name and "demand" in rec["differences"]
    # the Runs page lists the what-if's name and what it is a what-if of
    runs = page("runs")
    row = next(r for r in services.list_runs(ws) if r["run_id"] == wid)
    cell = _text(runs.scenario_cell(row))
    assert rec["scenario_name"] in cell and f"what-if of {base_name}" in cell
    assert "comparison" in _text(runs.runs_table(services.list_runs(ws)))


def test_compare_and_results_choosers_offer_every_side(ctx):
    ws, cid = ctx["ws"], ctx["compare"]
    rows = services.run_sides(ws, services.list_runs(ws, complete_only=True))
    ids = [r["run_id"] for r in rows]
    assert cid in ids and f"{cid}@whatif1" in ids and ctx["sweep"] not in ids
    # the default pair is a what-if and its base: the newest what-if run (the Scenario page's)
    # with a run of its base scenario and seed (here the comparison's base side) ...
    assert page("compare").default_runs(rows) == [cid, ctx["whatif"]]
    # ... or, when the newest is a comparison, its base and first what-if
    older = [r for r in rows if r["run_id"] != ctx["whatif"]]
    assert page("compare").default_runs(older) == [cid, f"{cid}@whatif1"]
    # a side opens in Results as a run, with a link back to its comparison
    out = page("results").show_run(f"{cid}@whatif1")
    assert "tiny-surge" in _text(out[0]) and "open it in Compare" in _text(out[0])
    assert ctx["sweep"] in [r["run_id"] for r in page("results").chooser_rows(ws)]
