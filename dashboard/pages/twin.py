"""Twin page: start from the real network's position, run forward from it, see calibrations.

Pick a scenario and a snapshot (bundled, or the end state of an earlier run from a snapshot) to
see today's position on the map — stock and days of supply per site, goods on the way, sites
down — then run forward (90 days by default) in the background and open the run in Results.
Calibrations and monitoring checks written with ``--out runs/calibrations/NAME`` show their
fitted parameters and the coverage of their prediction intervals over time.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard import services
from dashboard.components import data_table, field, message, page_header
from dashboard.components.choices import scenario_options
from dashboard.figures import (
    GRAPH_CONFIG,
    MAP_CONFIG,
    coverage_figure,
    empty_figure,
    position_map_figure,
)

dash.register_page(__name__, path="/twin", name="Twin", order=6, title="Twin · supplytwin")

P = "twin"
POLL_MS = 500


def layout(**_query: Any) -> html.Div:
    ws = services.current()
    scenarios = scenario_options(services.list_scenarios(ws))
    snapshots = services.snapshot_keys(ws)
    calibrations = services.calibration_keys(ws)
    return html.Div([
        page_header("Twin", "Today's position from a snapshot of the real network, the next "
                    "weeks simulated from it, and how well the calibrated parameters predict."),
        html.Div([
            field("Scenario", dcc.Dropdown(scenarios, _default(scenarios, "bundled/baseline.yaml"),
                                           id=f"{P}-scenario", clearable=False)),
            field("Snapshot", dcc.Dropdown(snapshots, snapshots[0]["value"] if snapshots else None,
                                           id=f"{P}-snapshot", clearable=False)),
        ], className="controls"),
        html.Div(id=f"{P}-message"),
        html.Div(id=f"{P}-headline"),
        dcc.Loading(dcc.Graph(id=f"{P}-map", config=MAP_CONFIG,
                              figure=empty_figure("Today's position", "Pick a snapshot.", 560)),
                    type="default"),
        html.Details([html.Summary("Sites"), html.Div(id=f"{P}-sites")]),
        html.H3("Run forward"),
        html.Div([
            field("Days", dcc.Input(id=f"{P}-days", type="number", value=90, min=1, max=730,
                                    className="number")),
            field("Replications", dcc.Input(id=f"{P}-reps", type="number", value=5, min=1,
                                            max=200, className="number")),
            html.Button("Run forward", id=f"{P}-run", className="button primary"),
        ], className="controls"),
        html.Div(id=f"{P}-run-status"),
        dcc.Store(id=f"{P}-job"),
        dcc.Interval(id=f"{P}-poll", interval=POLL_MS, disabled=True),
        html.H3("Calibrations"),
        field("Calibration", dcc.Dropdown(calibrations,
                                          calibrations[0]["value"] if calibrations else None,
                                          id=f"{P}-calibration",
                                          placeholder="none in runs/calibrations yet")),
        html.Div(id=f"{P}-calibration-view"),
    ])


def _default(options: list[dict[str, str]], wanted: str) -> str | None:
    values = [o["value"] for o in options]
    return wanted if wanted in values else (values[0] if values else None)


SITE_COLUMNS = [("site_id", "site"), ("kind", "kind"), ("on_hand_units", "on hand"),
                ("quarantine_units", "quarantine"), ("days_of_supply", "days of supply"),
                ("down", "down")]


@dash.callback(Output(f"{P}-map", "figure"), Output(f"{P}-headline", "children"),
               Output(f"{P}-sites", "children"), Output(f"{P}-message", "children"),
               Input(f"{P}-scenario", "value"), Input(f"{P}-snapshot", "value"))
def show_position(scenario_key, snapshot_key):
    if not scenario_key or not snapshot_key:
        return no_update, None, None, message("Pick a scenario and a snapshot.")
    ws = services.current()
    try:
        sc, snap = services.read_position(ws, scenario_key, snapshot_key)
    except services.UserError as exc:
        return (empty_figure("Today's position", "This snapshot cannot be shown.", 560), None,
                None, message(str(exc), "error"))
    sites, lanes, head = services.position_tables(sc, snap)
    facts = [("snapshot date", head["snapshot_date"]),
             ("on hand (released)", f"{head['on_hand_units']:,.0f} units"),
             ("in quarantine", f"{head['quarantine_units']:,.0f} units"),
             ("on the way", (f"{head['in_transit_units']:,.0f} units in "
                            f"{head['shipments']:,} shipments")),
             ("open orders", f"{head['open_orders']:,}"),
             ("sites down", ", ".join(head["sites_down"]) or "none")]
    headline = html.Div([html.Div([html.Div(k, className="card-title"),
                                   html.Div(html.Span(v, className="card-value"))],
                                  className="kpi-card")
                         for k, v in facts], className="kpi-cards", id=f"{P}-cards")
    rows = sites[sites["on_hand_units"] + sites["quarantine_units"] > 0].sort_values(
        "on_hand_units", ascending=False).to_dict("records")
    return position_map_figure(sites, lanes), headline, data_table(rows, SITE_COLUMNS), None


@dash.callback(Output(f"{P}-job", "data"), Output(f"{P}-poll", "disabled"),
               Output(f"{P}-run-status", "children", allow_duplicate=True),
               Input(f"{P}-run", "n_clicks"), State(f"{P}-scenario", "value"),
               State(f"{P}-snapshot", "value"), State(f"{P}-days", "value"),
               State(f"{P}-reps", "value"), prevent_initial_call=True)
def run_forward(n_clicks, scenario_key, snapshot_key, days, reps):
    if not n_clicks:
        return no_update, no_update, no_update
    try:
        job = services.start_forward_run(services.current(), scenario_key, snapshot_key,
                                         days if days is not None else 90,
                                         reps if reps is not None else 1)
    except services.UserError as exc:
        return no_update, True, message(str(exc), "error")
    return {"job": job}, False, message("Running forward…")


@dash.callback(Output(f"{P}-run-status", "children"), Output(f"{P}-poll", "disabled",
                                                             allow_duplicate=True),
               Input(f"{P}-poll", "n_intervals"), State(f"{P}-job", "data"),
               prevent_initial_call=True)
def poll(_n, store):
    job = (store or {}).get("job")
    if not job:
        return no_update, True
    status = services.JOBS.status(job)
    if status["state"] in ("queued", "running"):
        return message(f"Running forward: replication {status['done']} of "
                       f"{status['total'] or '…'}"), False
    if status["state"] == "done":
        return html.Div(["Done: ", dcc.Link(f"open run {status['run_id']} in Results",
                                            href=f"/results?run={status['run_id']}",
                                            id=f"{P}-result-link")]), True
    return message(status.get("message") or status["state"], "error"), True


@dash.callback(Output(f"{P}-calibration-view", "children"), Input(f"{P}-calibration", "value"))
def show_calibration(name):
    if not name:
        return html.Div("Write one with: supplytwin calibrate shipments HISTORY.csv --out "
                        "runs/calibrations/NAME (and supplytwin monitor … --out "
                        "runs/calibrations/NAME-check).", className="muted")
    try:
        view = services.calibration_view(services.current(), name)
    except services.UserError as exc:
        return message(str(exc), "error")
    out = []
    if "parameters" in view:
        prov = view.get("provenance") or {}
        out.append(html.P(f"From {prov.get('source', '?')}, period {prov.get('period', '?')}."))
        cols = [("level", "level"), ("lane_id", "lane"), ("n", "shipments"),
                ("transit_time_days", "fitted transit time"), ("gof_p_value", "GOF p"),
                ("on_time_rate", "on time"), ("status", "status")]
        params = view["parameters"]
        fitted = params[params["status"] == "fitted"]
        thin = len(params) - len(fitted)
        out.append(data_table(fitted.to_dict("records"), cols))
        if thin:
            out.append(html.P(f"{thin} lanes and modes have too few shipments to fit; "
                              "lane_parameters.csv lists them.", className="muted"))
    if "monitor" in view:
        mon = view["monitor"]
        out.append(dcc.Graph(config=GRAPH_CONFIG, figure=coverage_figure(view["coverage_by_month"],
                                                    mon.get("nominal_coverage", 0.9),
                                                    mon.get("min_coverage", 0.8))))
    return out
