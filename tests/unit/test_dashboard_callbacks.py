"""Page callbacks called directly, as plain functions, inside a request of a real app."""

from __future__ import annotations

import sys
from pathlib import Path

import dash
import plotly.graph_objects as go
import pytest
from dash import Patch, dcc, html, no_update

from dashboard import services
from dashboard.app import create_app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TINY = "bundled/tiny.yaml"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """An app on a runs folder with two tiny runs (base and demand x1.3, same seed)."""
    runs = tmp_path_factory.mktemp("runs")
    ws = services.make_workspace(runs, ROOT / "scenarios")
    runner = services.JobRunner()
    a = runner.wait(services.start_run(ws, TINY, services.Knobs(), 2, runner=runner, workers=1),
                    120)["run_id"]
    k = services.validate_knobs(ws, TINY, {"demand": {"MAB-T": 1.3}})
    b = runner.wait(services.start_run(ws, TINY, k, 2, runner=runner, workers=1,
                                       report=False), 120)["run_id"]
    app = create_app(runs, ROOT / "scenarios")
    return app, ws, a, b


@pytest.fixture
def ctx(env):
    app = env[0]
    with app.server.test_request_context("/_dash-update-component"):
        yield env


def page(name: str):
    """The page module as Dash executed it for the app (``dashboard.pages.NAME``)."""
    return sys.modules[f"dashboard.pages.{name}"]


def _find(component, cls) -> list:
    out = []

    def walk(c):
        if isinstance(c, cls):
            out.append(c)
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return out


def _components(component) -> list:
    """Every component in a tree (lists, children), depth first."""
    out: list = []

    def walk(c):
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "to_plotly_json"):
            out.append(c)
            walk(getattr(c, "children", None))
    walk(component)
    return out


def _text(component) -> str:
    parts: list[str] = []

    def walk(c):
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, int | float) and not isinstance(c, bool):
            parts.append(str(c))
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return " ".join(parts)


def test_every_page_has_a_layout_and_its_callbacks_on_this_app(env):
    app, ws = env[0], env[1]
    modules = {p["module"] for p in dash.page_registry.values()}
    assert {f"dashboard.pages.{n}" for n in ("network", "scenario", "results", "compare",
                                             "runs")} <= modules
    with app.server.test_request_context("/"):
        for name in ("network", "scenario", "results", "compare", "runs", "not_found_404"):
            assert isinstance(page(name).layout(), html.Div)
    outputs = " ".join(app.callback_map)
    for ident in ("network-map.figure", "scenario-cards.children", "results-bands.figure",
                  "compare-diff.figure", "runs-table.children", "app-nav.children"):
        assert ident in outputs
    # a second app in the same process gets its own callbacks, not a second copy of these
    other = create_app(ws.runs_dir, ws.scenarios_dir)
    assert len(other.callback_map) == len(app.callback_map)


def test_network_callbacks(ctx):
    net = page("network")
    fig, summary = net.update_map(TINY, [], [], None)
    assert isinstance(fig, go.Figure) and summary.startswith("tiny: 4 of 4 sites")
    fig, summary = net.update_map("bundled/baseline.yaml", ["MRNA-VAC"], ["EU"], None)
    assert "of 55 sites" in summary and not summary.startswith("baseline: 55")
    products, _, _regions, _, selected = net.update_filters(TINY)
    assert products == [{"label": "MAB-T", "value": "MAB-T"}] and selected is None
    panel, site = net.show_site({"points": [{"customdata": "DC"}]}, TINY)
    assert site == "DC" and "Lanes" in _text(panel) and "Products and policies" in _text(panel)
    assert net.show_site({"points": [{"lon": 1}]}, TINY) == (no_update, no_update)
    assert net.show_site(None, TINY) == (no_update, no_update)
    bad, _ = net.show_site({"points": [{"customdata": "../../etc"}]}, TINY)
    assert "No site" in _text(bad)
    fig, msg = net.update_map("../../etc/passwd", [], [], None)
    assert "not a scenario" in _text(msg)


def _knob_values(horizon=None, reps=None, demand=None, policy=None):
    demand = demand or {}
    policy = policy or {}
    return (horizon, reps,
            [{"type": "scenario-demand", "product": p} for p in demand], list(demand.values()),
            [], [], [], [],
            [{"type": "scenario-policy", "row": r, "field": f} for (r, f) in policy],
            list(policy.values()))


def test_scenario_page_save_run_poll_cancel(ctx):
    sc = page("scenario")
    _, ws, _a, _b = ctx
    out = sc.choose_scenario("bundled/heatwave.yaml")
    assert out[1] == 365 and "heatwave-road" in _text(out[5])
    table = sc.choose_policy_site("DC", TINY)
    assert len(_find(table, dcc.Input)) == 5
    # hostile name: a message, nothing written
    msg, *_ = sc.save(1, TINY, "../../etc/passwd", *_knob_values())
    assert "not allowed" in _text(msg) and msg.className == "message message-error"
    # a good one: saved, listed and selected
    msg, options, value, name = sc.save(1, TINY, "tiny-longer", *_knob_values(horizon=150))
    assert "Saved" in _text(msg) and value == "saved/tiny-longer.yaml" and name == ""
    assert value in [o["value"] for o in options]
    assert (ws.saved_dir / "tiny-longer.yaml").is_file()
    # a bad knob stops the run with a message
    out = sc.start(1, TINY, ["report"], *_knob_values(horizon="-5"))
    assert "Horizon" in _text(out[2])
    # a run: the job goes into the shared store, then polling fills the cards
    out = sc.start(1, TINY, [], *_knob_values(reps=1, demand={"MAB-T": 1.1},
                                               policy={("DC/MAB-T", "order_up_to_units"): 400}))
    store, polling_disabled = out[0], out[1]
    assert isinstance(store, Patch) and polling_disabled is False
    job = next(op["params"]["value"] for op in store.to_plotly_json()["operations"]
               if op["location"] == ["job"])
    services.JOBS.wait(job, 120)
    _progress, message, cards, link, disabled, run_disabled, cancel_disabled, _patch = sc.poll(
        1, {"job": job})
    assert disabled and not run_disabled and cancel_disabled
    assert "finished" in _text(message) and cards.id == "scenario-cards"
    assert link.href.startswith("/results?run=")
    assert sc.poll(1, {}) [4] is True and sc.poll(1, {"job": "gone"})[4] is True
    assert "Nothing to cancel" in _text(sc.cancel(1, {"job": job}))


def test_scenario_run_status_view():
    sc_view = sys.modules["dashboard.pages.scenario"].run_status_view
    running = sc_view({"state": "running", "done": 1, "total": 4, "label": "tiny",
                       "elapsed_s": 1.5, "cancel_requested": True})
    assert running["polling"] and "cancelling" in _text(running["progress"])
    assert sc_view({"state": "error", "message": "boom"})["kind"] == "error"
    assert not sc_view({"state": "unknown"})["polling"]


def test_results_callbacks(ctx):
    res = page("results")
    _, _, a, b = ctx
    out = res.show_run(b)
    lineage, cards = out[0], out[1]
    assert "2 replication(s)" in _text(lineage) and cards.id == "results-cards"
    assert all(isinstance(f, go.Figure) for f in out[2:6])
    # one round trip draws the stock and service charts too, for the default pair it chose
    section = {c.id: c for c in _components(out[6]) if getattr(c, "id", None)}
    assert section["results-site"].value == "DC" and section["results-product"].value == "MAB-T"
    bands, service = section["results-bands"].figure, section["results-service"].figure
    assert len(bands.data) == 4 and len(service.data) == 2
    assert "DC / MAB-T" in bands.layout.title.text
    assert res.show_series(b, "DC", "MAB-T")[0].to_plotly_json() == bands.to_plotly_json()
    # a planner's choice of site gives that site's products; of product, only the charts
    options, product, bands2, service2 = res.series_of("DC", None, b, site_changed=True)
    assert options == [{"label": "MAB-T", "value": "MAB-T"}] and product == "MAB-T"
    assert len(bands2.data) == 4 and len(service2.data) == 2
    assert res.series_of("DC", "MAB-T", b, site_changed=False)[:2] == (no_update, "MAB-T")
    assert "No complete run" in _text(res.show_run(None)[0])
    assert "is not a run id" in _text(res.show_run("../../etc/passwd")[0])
    assert res.choose_default(None, {"last_run": a}) == a
    assert res.choose_default(b, {"last_run": a}) == b
    newest = services.list_runs(ctx[1], complete_only=True)[0]["run_id"]
    assert res.choose_default(None, None) == newest
    # /results?run=nope says there is no such run; it does not show another one
    assert res.choose_default("unknown", None) is None
    rows = services.list_runs(ctx[1], complete_only=True)
    assert "no complete run 'unknown'" in _text(res.missing_run("unknown", rows))
    assert res.missing_run(b, rows) is None
    assert res.products_of_site("DC", b, None) == ([{"label": "MAB-T", "value": "MAB-T"}],
                                                   "MAB-T")


def test_compare_callbacks(ctx):
    cmp = page("compare")
    _, _, a, b = ctx
    note, fig, table, _sites, site, _products, product = cmp.compare([a, b], [])
    assert "paired by replication" in _text(note) and isinstance(fig, go.Figure)
    assert "Fill rate" in _text(table) and site == "DC" and product == "MAB-T"
    every = cmp.compare([a, b], ["all"])[2]
    assert len(_find(every, html.Tr)) > len(_find(table, html.Tr))
    assert "at least two" in _text(cmp.compare([a], [])[0])
    assert "is not a run id" in _text(cmp.compare([a, "../x"], [])[0])
    overlay = cmp.overlay([a, b], "DC", "MAB-T", "backlog_units")
    assert len(overlay.data) == 2
    assert cmp.default_runs([{"run_id": "n", "seed": 1}, {"run_id": "o", "seed": 2},
                             {"run_id": "p", "seed": 1}]) == ["p", "n"]


def test_runs_callbacks(ctx):
    runs = page("runs")
    _, _, a, b = ctx
    table = runs.list_rows("tiny", None, None)
    assert a in _text(table) and b in _text(table)
    assert "No run matches" in _text(runs.list_rows("zzz-none", None, None))
    assert "100 characters" in _text(runs.list_rows("x" * 300, None, None))
    panel = runs.lineage_panel(a)
    assert "scenario sha256" in _text(panel) and "Open the HTML report" in _text(panel)
    assert "is not a run id" in _text(runs.lineage_panel("../../etc/passwd"))
    link = runs.compare_link([[a], [], [b]])
    assert link.href == f"/compare?runs={a},{b}"
    assert "Tick two" in _text(runs.compare_link([[a]]))


def test_an_exception_in_a_callback_is_one_line_in_the_page_not_a_traceback(tmp_path):
    from dash import Input, Output

    app = create_app(tmp_path / "runs", ROOT / "scenarios")

    @app.callback(Output("t-out", "children"), Input("t-in", "n_clicks"),
                  prevent_initial_call=True)
    def boom(n):
        if n == 1:
            raise RuntimeError("secret internals /etc/shadow")
        raise services.UserError("You typed something odd.")

    client = app.server.test_client()
    client.get("/")
    shown = []
    for n in (1, 2):
        r = client.post("/_dash-update-component", json={
            "output": "t-out.children", "outputs": {"id": "t-out", "property": "children"},
            "inputs": [{"id": "t-in", "property": "n_clicks", "value": n}],
            "changedPropIds": ["t-in.n_clicks"], "state": []})
        assert r.status_code == 200
        body = r.get_json()
        assert "Traceback" not in r.text and "secret" not in r.text
        shown.append(body["sideUpdate"]["app-error"]["children"])
    # (a TypeError or ValueError, i.e. a value of the wrong kind, is answered in plain words:
    # tests/hostile/test_dashboard_hostile.py)
    assert shown[0].startswith("Something went wrong (RuntimeError)")
    assert shown[1] == "You typed something odd."


def test_results_default_to_the_product_served_worst():
    import pandas as pd

    res = sys.modules["dashboard.pages.results"]
    by_product = pd.DataFrame({
        "product_id": ["A", "A", "B", "B", "API"], "replication": [0, 1, 0, 1, 0],
        "fill_rate": [0.99, 0.97, 0.80, 0.90, float("nan")],
        "demand_units": [10, 10, 5, 5, 0]})
    facing = pd.DataFrame({"site_id": ["DC1", "DC2", "DC1"], "product_id": ["A", "B", "B"],
                           "weight": [9.0, 1.0, 4.0]})
    assert res.worst_product(by_product) == "B"
    assert res.default_pair(None, facing, by_product) == ("DC1", "B")
    assert res.default_pair(None, facing) == ("DC1", "A")
    assert res.product_fill_rate(by_product, "B") == pytest.approx(0.85)
    assert res.product_fill_rate(by_product, None) is None
