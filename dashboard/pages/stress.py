"""Stress page: pick a bundled battery, run it in the background, and read its result — the heat
map of targets x durations, time to survive against time to recover, the ranked node risks and
the what-ifs that hurt most. Runs are the same as ``supplytwin stress`` and land in the same
registry; their HTML report opens from here.

Every what-if of a battery, and its base, opens in the Results page as a run of its own
(``/results?run=ID@whatifK``, :mod:`supplytwin.stress.sides`): from the ranked table, the table
of every what-if, and a click on a heat-map cell. A what-if that failed has no link and says
why. ``/stress?run=ID`` shows a given battery run (the Runs page links there)."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard import services
from dashboard.components import data_table, field, message, page_header, progress_bar

dash.register_page(__name__, path="/stress", name="Stress", order=7,
                   title="Stress · supplytwin")

P = "stress"
POLL_MS = 1000
DEFAULT_REPS = 4


def layout(run: str | None = None, **_query: Any) -> html.Div:
    ws = services.current()
    batteries = services.list_batteries(ws)
    runs = run_options(None, None)
    shown = run if run in {o["value"] for o in runs} else None
    return html.Div([
        page_header("Stress", "Run a battery of disruptions against the network — every site "
                    "down for several durations, regional events, supplier losses — and see "
                    "which nodes the network cannot lose for as long as they take to recover."),
        html.Div([
            field("Battery", dcc.Dropdown([{"label": b, "value": b} for b in batteries],
                                          batteries[0] if batteries else None,
                                          id=f"{P}-battery", clearable=False),
                  "Bundled batteries in scenarios/stress."),
            field("Replications per what-if", dcc.Input(
                id=f"{P}-reps", type="number", min=1, max=services.MAX_STRESS_REPS, step=1,
                value=DEFAULT_REPS, className="number")),
            dcc.Checklist([{"label": " adaptive (more replications only where a decision is "
                            "open)", "value": "adaptive"}], [], id=f"{P}-adaptive"),
            html.Button("Run battery", id=f"{P}-run", className="button primary"),
            html.Button("Cancel", id=f"{P}-cancel", className="button", disabled=True),
        ], className="controls"),
        html.Div(id=f"{P}-progress"),
        html.Div(id=f"{P}-message"),
        html.Div([
            field("Show run", dcc.Dropdown(runs, shown, id=f"{P}-runs",
                                           placeholder="a complete stress run")),
            html.Button("Refresh", id=f"{P}-refresh", className="button"),
        ], className="controls"),
        html.Div(message(f"There is no complete stress run {str(run)[:80]!r}.", "error")
                 if run and not shown else None, id=f"{P}-missing"),
        dcc.Loading(html.Div(id=f"{P}-results"), delay_show=300),
        dcc.Interval(id=f"{P}-poll", interval=POLL_MS, disabled=True),
        dcc.Store(id=f"{P}-job", storage_type="memory"),
    ])


# ---------------------------------------------------------------- pure helpers -------------------
def _n(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if x == "inf":
        return "∞"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "–" if math.isnan(v) else f"{v:,.{digits}f}"


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * float(x):.1f} %"


def results_href(ref: str) -> str:
    return f"/results?run={ref}"


def open_cell(side: dict[str, Any] | None, id_: str | None = None):
    """The "open in Results" cell of a what-if: a link, or why there is none."""
    if side is None:
        return html.Span("–", title="recorded before the what-ifs were kept", className="muted")
    if side.get("status") != "ok":
        return html.Span(f"failed: {side.get('error') or 'no result'}"[:200], className="muted")
    return dcc.Link("open in Results", href=results_href(side["ref"]),
                    **({"id": id_} if id_ else {}))


def results_view(summary: dict[str, Any], sides: list[dict[str, Any]] | None = None
                 ) -> html.Div:
    """The figures and tables of a battery's summary (from ``summary.json``); ``sides`` (from
    the run's manifest) give each what-if's and the base's link to the Results page."""
    from supplytwin.report.stress import heatmap_figure, tts_ttr_figure

    h = summary["headline"]
    risks = summary["node_risks"]
    by_name = {s["whatif"]: s for s in (sides or []) if s.get("side")}
    base = next((s for s in (sides or []) if not s.get("side")), None)
    table = [{**w, "k": k} for k, w in enumerate(summary["whatifs"], start=1)]
    rows = {w["whatif"]: w for w in table}
    top = [rows[name] for name in summary["ranking"] if name in rows]

    def link(r: dict[str, Any]):
        return open_cell(by_name.get(r["whatif"]) if sides else None, f"{P}-open-whatif{r['k']}")

    verdict = (message(f"{len(summary['breaches'])} threshold breach(es): " + "; ".join(
        f"{b['whatif']} ({b['kpi']} {b['mean']:.3f} < {b['threshold']:g})"
        for b in summary["breaches"][:8]), "error", id=f"{P}-verdict")
        if summary["breaches"] else message("Every threshold holds.", "success", id=f"{P}-verdict"))
    return html.Div([
        verdict,
        html.P(f"{h['whatifs']} what-ifs · {h['failed']} failed · {h['nodes_at_risk']} nodes "
               f"with TTS < TTR · {summary['adaptive']['replications_used']} replications "
               f"({summary['adaptive']['procedure']})", className="muted"),
        html.A("Open the HTML report", href=f"/reports/{summary['run_id']}", target="_blank",
               rel="noopener") if summary.get("run_id") else "",
        html.P(["The base, ", base["whatif"], ": ", open_cell(base, f"{P}-open-base")],
               className="muted") if base else "",
        dcc.Graph(figure=tts_ttr_figure(risks), id=f"{P}-tts"),
        html.H3("Ranked node risks"),
        data_table(risks, [
            ("rank", "rank"), ("node", "node"), ("tts_days", "TTS (d)",
                                                 lambda r: _n(r["tts_days"])),
            ("ttr_days", "TTR (d)", lambda r: _n(r["ttr_days"])),
            ("at_risk", "at risk", lambda r: "yes" if r["at_risk"] else ""),
            ("patients_at_risk", "patients at risk", lambda r: _n(r["patients_at_risk"], 0)),
            ("sole_source_of", "sole source of", lambda r: ", ".join(r["sole_source_of"])),
            ("sim", "sim. first stockout (d)",
             lambda r: _n(r["simulated_time_to_first_stockout_days"])),
            ("why_they_differ", "LP vs simulation"),
        ], id=f"{P}-risks"),
        dcc.Graph(figure=heatmap_figure(summary["whatifs"]), id=f"{P}-heatmap"),
        html.Div("Click a cell to open its what-if in Results." if sides else "",
                 id=f"{P}-heatmap-open", className="muted"),
        html.H3("What-ifs that hurt most"),
        data_table(top, [
            ("whatif", "what-if"), ("n", "n"), ("fill_rate", "fill rate",
                                                lambda r: _pct(r["fill_rate"])),
            ("fill_rate_during", "during", lambda r: _pct(r["fill_rate_during"])),
            ("patients_affected_diff", "patients vs base",
             lambda r: _n(r["patients_affected_diff"], 0)),
            ("time_to_first_stockout_days", "first stockout (d)",
             lambda r: _n(r["time_to_first_stockout_days"])),
            ("time_to_recover_days", "recover (d)", lambda r: _n(r["time_to_recover_days"])),
            ("ref", "Results", lambda r: open_cell(by_name.get(r["whatif"]) if sides else None)),
        ], id=f"{P}-top"),
        html.H3("Every what-if"),
        data_table(table, [
            ("whatif", "what-if"), ("kind", "kind"), ("target", "target"),
            ("duration_days", "days", lambda r: _n(r["duration_days"], 0)), ("n", "n"),
            ("fill_rate", "fill rate", lambda r: _pct(r["fill_rate"])),
            ("fill_rate_during", "during", lambda r: _pct(r["fill_rate_during"])),
            ("patients_affected_diff", "patients vs base",
             lambda r: _n(r["patients_affected_diff"], 0)),
            ("ref", "Results", link),
        ], id=f"{P}-whatifs"),
    ])


def heatmap_open(click: dict | None, run_id: str | None):
    """A link to the clicked heat-map cell's what-if in Results: the cell's text starts with
    the what-if's name; without it, the what-if of the cell's target (y) and duration (x)."""
    points = (click or {}).get("points") or []
    if not points or not run_id:
        return no_update
    point = points[0]
    name = str(point.get("text") or "").split("<br>")[0]
    try:
        sides = services.stress_sides(services.current(), run_id)
        if not name:
            whatifs = services.stress_summary(services.current(), run_id)["whatifs"]
            name = next((w["whatif"] for w in whatifs if w["target"] == point.get("y")
                         and f"{float(w['duration_days']):g} d" == point.get("x")), "")
    except services.UserError as exc:
        return message(str(exc), "error")
    side = next((s for s in sides if s.get("side") and s["whatif"] == name), None)
    if side is None:
        return html.Span(f"{name}: recorded before the what-ifs were kept.", className="muted")
    return html.Span([f"{name}: ", open_cell(side, f"{P}-heatmap-link")])


# ---------------------------------------------------------------- callbacks ----------------------
def start(n_clicks, battery, reps, adaptive):
    """Outputs: job store, poll disabled, message, cancel disabled."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    try:
        job = services.start_battery(services.current(), battery, reps,
                                     "adaptive" in (adaptive or []))
    except services.UserError as exc:
        return no_update, no_update, message(str(exc), "error"), no_update
    return job, False, message(f"Running {battery} in the background.", "info"), False


def poll(_n, job):
    """Outputs: progress, message, poll disabled, cancel disabled, runs dropdown value."""
    status = services.JOBS.status(job) if job else {"state": "unknown"}
    state = status["state"]
    if state == "unknown":
        return no_update, no_update, True, True, no_update
    if state in ("queued", "running"):
        return (progress_bar(status.get("done", 0), status.get("total", 0),
                             f"{status.get('label') or 'starting'}: {status.get('done', 0)} of "
                             f"{status.get('total') or '?'} runs · "
                             f"{status.get('elapsed_s', 0):.0f} s"),
                no_update, False, False, no_update)
    kind = {"done": "success", "cancelled": "warning"}.get(state, "error")
    return (None, message(status.get("message"), kind), True, True,
            status.get("run_id") if state == "done" else no_update)


def cancel(n_clicks, job):
    if not n_clicks:
        return no_update
    if job and services.JOBS.cancel(job):
        return message("Cancelling after the runs in progress.", "warning")
    return message("Nothing to cancel.", "info")


def run_options(_refresh, _job_msg):
    rows = services.stress_runs(services.current())
    return [{"label": f"{r['battery']} · {(r['created_at'] or '').replace('T', ' ')[:19]}",
             "value": r["run_id"]} for r in rows]


def show(run_id):
    if not run_id:
        return html.Div("Run a battery, or pick a complete stress run.", className="muted")
    ws = services.current()
    try:
        return results_view(services.stress_summary(ws, run_id), services.stress_sides(ws, run_id))
    except services.UserError as exc:
        return message(str(exc), "error")


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(f"{P}-job", "data"), Output(f"{P}-poll", "disabled"),
        Output(f"{P}-message", "children"), Output(f"{P}-cancel", "disabled"),
        Input(f"{P}-run", "n_clicks"), State(f"{P}-battery", "value"),
        State(f"{P}-reps", "value"), State(f"{P}-adaptive", "value"),
        prevent_initial_call=True,
    )(start)
    app.callback(
        Output(f"{P}-progress", "children"), Output(f"{P}-message", "children",
                                                    allow_duplicate=True),
        Output(f"{P}-poll", "disabled", allow_duplicate=True),
        Output(f"{P}-cancel", "disabled", allow_duplicate=True),
        Output(f"{P}-runs", "value"),
        Input(f"{P}-poll", "n_intervals"), State(f"{P}-job", "data"),
        prevent_initial_call=True,
    )(poll)
    app.callback(
        Output(f"{P}-message", "children", allow_duplicate=True),
        Input(f"{P}-cancel", "n_clicks"), State(f"{P}-job", "data"),
        prevent_initial_call=True,
    )(cancel)
    app.callback(
        Output(f"{P}-runs", "options"),
        Input(f"{P}-refresh", "n_clicks"), Input(f"{P}-message", "children"),
    )(run_options)
    app.callback(
        Output(f"{P}-heatmap-open", "children"),
        Input(f"{P}-heatmap", "clickData"), State(f"{P}-runs", "value"),
        prevent_initial_call=True,
    )(heatmap_open)
    app.callback(Output(f"{P}-results", "children"), Input(f"{P}-runs", "value"))(show)
