"""Optimise page: redesign the network of a scenario (``supplytwin.opt``: Pyomo + HiGHS) in the
background, see the open sites and main flows on the map and the cost breakdown, and simulate
the design against the scenario it came from on the Compare page.

**Optimise** starts ``services.start_optimise`` (a ``JobRunner.submit_task`` job) with the
options; the design is saved as ``RUNS_DIR/scenarios/NAME.yaml`` extending the scenario, like
the Scenario page's Save. An infeasible model shows the plain-words explanation instead.
**Simulate against baseline** runs the scenario and the design with the same seed and
replications (two recorded runs, paired by replication) and then opens
``/compare?runs=BASE,DESIGN``.
"""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, Patch, State, dcc, html, no_update

from dashboard import figures, services
from dashboard.components import (
    data_table,
    field,
    key_value_table,
    message,
    page_header,
    progress_bar,
)
from dashboard.components.choices import default_scenario, scenario_options

dash.register_page(__name__, path="/optimise", name="Optimise", order=5,
                   title="Optimise · supplytwin")

P = "optimise"
#: the page polls a small status (progress, message: well under a kilobyte) at this period and
#: fetches the result (map, costs, tables: about 85 KB) once, when the job is done. A poll that
#: answered with the whole result took longer than the period to build on a busy machine, so
#: each answer was superseded by the next poll and the design never appeared.
POLL_MS = 500
DEFAULT_REPS = 10

#: the option inputs, in the order of :func:`raw_options`'s arguments
OPTION_STATES = [
    State(f"{P}-objective", "value"), State(f"{P}-co2-price", "value"),
    State(f"{P}-k-sourcing", "value"), State(f"{P}-n-minus-1", "value"),
    State(f"{P}-time-limit", "value"), State(f"{P}-gap", "value"),
]


# ---------------------------------------------------------------- pure helpers -------------------


def raw_options(objective: Any, co2_price: Any, k_sourcing: Any, n_minus_1: Any,
                time_limit: Any, gap_percent: Any) -> dict[str, Any]:
    return {"objective": objective, "co2_price": co2_price, "k_sourcing": k_sourcing,
            "n_minus_1": n_minus_1, "time_limit": time_limit, "gap_percent": gap_percent}


def _num_input(id_: str, value: Any, width: str = "7em", placeholder: str = "") -> dcc.Input:
    # no browser min/max: the server checks every value and says what is wrong
    return dcc.Input(id=id_, type="number", value=value, step="any", debounce=True,
                     style={"width": width}, className="num", placeholder=placeholder)


def _usd(x: Any) -> str:
    return "–" if x is None else f"{x:,.0f} USD/year"


def result_view(summary: dict[str, Any] | None) -> list:
    """The results block of a finished optimisation: summary, explanation or map and costs."""
    if not summary:
        return []
    if not summary.get("ok"):
        lines = summary.get("explanation") or [
            f"HiGHS stopped with {summary.get('termination')} before finding a design."]
        return [html.Div([
            html.H3("Why there is no design"),
            html.P(lines[0], className="explanation-summary"),
            html.Ul([html.Li(line.strip().removeprefix("- ")) for line in lines[1:]]),
        ], id=f"{P}-explanation", className="card-section")]
    sites = pd.DataFrame(summary["sites"])
    flows = pd.DataFrame(summary["flows"])
    costs = pd.DataFrame(summary["costs"])
    changed = sites[(sites["open"] != sites["open_before"]) | sites["candidate"]]
    gap = summary.get("gap")
    facts = [
        ("scenario", summary.get("scenario_name")),
        ("options", summary.get("settings")),
        ("status", f"{summary.get('status')} ({summary.get('termination')})"),
        ("annual cost (model)", _usd(summary.get("objective_usd"))),
        ("gap", f"{gap:.3%}" if isinstance(gap, float) else "–"),
        ("open sites", f"{int(sites['open'].sum())} of {len(sites)}"),
        ("unmet demand", f"{summary.get('unmet_units_per_year', 0):,.0f} units/year"),
        ("design scenario", summary.get("design_file") or "not saved"),
        ("HiGHS time", f"{(summary.get('timings_s') or {}).get('solve_s') or 0:.2f} s"),
    ]
    return [
        key_value_table(facts, id=f"{P}-facts"),
        html.Div([
            html.Div(dcc.Graph(id=f"{P}-map", figure=figures.design_map_figure(sites, flows),
                               config=figures.MAP_CONFIG), className="map-panel"),
        ]),
        dcc.Graph(id=f"{P}-costs", figure=figures.design_cost_figure(costs),
                  config=figures.GRAPH_CONFIG),
        # the groups are the simulator's too (supplytwin.model.costs): say where they differ
        html.P("Cost groups as in a simulation run (docs/kpis.md, cost groups): the model has "
               "no waste (expiry, excursions, QC rejections), prices unmet demand as lost "
               "sales (no backorders), and derives stock on hand from each stock point's policy "
               "and the flows (full service) where a run integrates it; fixed site costs are "
               "per year in both.",
               className="muted", id=f"{P}-cost-note"),
        html.H3("Candidate sites and sites the design changes"),
        data_table(changed.to_dict("records"), [
            ("site_id", "site"), ("kind", "kind"), ("candidate", "candidate"),
            ("open_before", "open before"), ("open", "open in the design"),
            ("throughput_units_per_year", "throughput units/year"),
        ], id=f"{P}-sites", empty="The design opens and closes nothing."),
    ]


def optimise_status_view(status: dict[str, Any]) -> dict[str, Any]:
    """What the page shows for the optimisation job's status."""
    state = status.get("state")
    elapsed = status.get("elapsed_s", 0.0)
    summary = status.get("summary")
    if state in ("queued", "running"):
        return {"progress": progress_bar(status.get("done", 0), status.get("total") or 3,
                                         f"{status.get('label') or 'starting'} · "
                                         f"{elapsed:.1f} s"),
                "text": "Optimising in the background; you can keep using the dashboard.",
                "kind": "info", "results": None, "polling": True, "design": False}
    if state == "done":
        ok = bool(summary and summary.get("ok"))
        return {"progress": progress_bar(1, 1, f"done in {elapsed:.1f} s"),
                "text": status.get("message"), "kind": "success" if ok else "error",
                "results": result_view(summary), "polling": False,
                "design": ok and bool(summary.get("design_key"))}
    if state in ("cancelled", "error"):
        return {"progress": None, "text": status.get("message"),
                "kind": "warning" if state == "cancelled" else "error",
                "results": result_view(summary) if summary else None, "polling": False,
                "design": False}
    return {"progress": None, "text": None, "kind": "info", "results": None, "polling": False,
            "design": False}


# ---------------------------------------------------------------- layout -------------------------


def layout(scenario: str | None = None, **_query: Any) -> html.Div:
    try:
        entries = services.list_scenarios(services.current())
    except services.UserError as exc:
        return message(str(exc), "error")
    keys = {e["key"] for e in entries}
    value = scenario if scenario in keys else default_scenario(entries)
    d = services.OptimiseSettings()
    return html.Div([
        page_header("Optimise", "Redesign the network: which candidate sites to open, where the "
                    "goods flow, at what annual cost (a Pyomo model solved by HiGHS, built from "
                    "the same tables the simulator runs). The design is saved as a scenario; "
                    "then simulate it against the scenario it came from."),
        html.Div([
            field("Scenario", dcc.Dropdown(scenario_options(entries), value, id=f"{P}-select",
                                           clearable=False)),
        ], className="controls"),
        html.Div([
            html.Div([
                html.Section([
                    html.H3("Options"),
                    field("Objective", dcc.RadioItems(
                        [{"label": " total annual cost", "value": "cost"},
                         {"label": " cost + priced CO₂", "value": "cost+co2"}], d.objective,
                        id=f"{P}-objective", className="radio")),
                    field("CO₂ price (USD per tonne, with cost + CO₂)",
                          _num_input(f"{P}-co2-price", d.co2_price_usd_per_t)),
                    field("k-sourcing", _num_input(f"{P}-k-sourcing", d.k_sourcing),
                          "Each customer and product reachable from at least k making sites "
                          "(1 = off)."),
                    field("N−1 share", _num_input(f"{P}-n-minus-1", None,
                                                  placeholder="off"),
                          "After losing any one plant, still meet this share (0–1) of demand; "
                          "empty = off."),
                    field("Time limit (s)", _num_input(f"{P}-time-limit", d.time_limit_s)),
                    field("MIP gap (%)", _num_input(f"{P}-gap", 100 * d.mip_gap),
                          "HiGHS stops within this distance of the best bound."),
                    field("Design name (optional)", dcc.Input(
                        id=f"{P}-name", type="text", placeholder="e.g. baseline-design",
                        maxLength=200, className="text"),
                        "Saved to the runs folder's scenarios/ as NAME.yaml; empty = "
                        "SCENARIO-design-N."),
                    html.Div([
                        html.Button("Optimise", id=f"{P}-run", className="button primary"),
                        html.Button("Cancel", id=f"{P}-cancel", className="button",
                                    disabled=True),
                    ], className="inline"),
                    html.Div(id=f"{P}-progress"),
                    html.Div(id=f"{P}-message"),
                ], className="card-section"),
                html.Section([
                    html.H3("Simulate the design against the baseline"),
                    html.Div("Runs the scenario and the design with the same seed and number of "
                             "replications (paired by replication), then opens Compare.",
                             className="field-help"),
                    field("Replications", _num_input(f"{P}-reps", DEFAULT_REPS)),
                    html.Button("Simulate against baseline", id=f"{P}-simulate",
                                className="button primary", disabled=True),
                    html.Div(id=f"{P}-sim-progress"),
                    html.Div(id=f"{P}-sim-message"),
                    html.Div(id=f"{P}-compare-link"),
                ], className="card-section"),
            ], className="action-panel"),
            dcc.Loading(html.Div(id=f"{P}-results"), delay_show=300),
        ], className="scenario-layout optimise-layout",
            style={"gridTemplateColumns": "minmax(320px, 1fr) minmax(0, 2.2fr)"}),
        dcc.Interval(id=f"{P}-poll", interval=POLL_MS, disabled=False),
        # the finished job whose result is shown: written by the poll, read by show_result
        dcc.Store(id=f"{P}-result-job", storage_type="memory"),
        dcc.Interval(id=f"{P}-sim-poll", interval=POLL_MS, disabled=False),
        dcc.Store(id=f"{P}-sim-watch", storage_type="memory"),
        dcc.Location(id=f"{P}-goto", refresh="callback-nav"),
    ])


# ---------------------------------------------------------------- callbacks ----------------------


def start(n_clicks: int | None, key: str | None, name: str | None, *option_values: Any):
    if not n_clicks:
        return (no_update,) * 8
    ws = services.current()
    try:
        settings = services.validate_optimise_settings(raw_options(*option_values))
        job = services.start_optimise(ws, key, settings, name=name)
    except services.UserError as exc:
        return (no_update, no_update, message(str(exc), "error"), no_update, no_update,
                no_update, no_update, no_update)
    store = Patch()
    store["optimise_job"] = job
    view = optimise_status_view(services.JOBS.status(job))
    return (store, False, message(view["text"], view["kind"]), view["progress"], None, True,
            False, True)


def poll(_n: int | None, store: dict | None, shown: str | None = None):
    """The small status of the optimisation job; never the result itself.

    Outputs: progress, message, poll disabled, run disabled, cancel disabled, the job whose
    result to show (set once, when the job has ended; :func:`show_result` then fetches it)."""
    job = (store or {}).get("optimise_job")
    status = services.JOBS.status(job) if job else {"state": "unknown"}
    if status["state"] == "unknown":
        return (no_update, no_update, True, False, True, no_update)
    view = optimise_status_view({k: v for k, v in status.items() if k != "summary"})
    running = status["state"] in ("queued", "running")
    if running:
        text, kind = view["text"], view["kind"]
    else:
        summary = status.get("summary") or {}
        ok = status["state"] == "done" and bool(summary.get("ok"))
        text = status.get("message")
        kind = {"done": "success" if ok else "error", "cancelled": "warning"}.get(
            status["state"], "error")
    return (view["progress"], message(text, kind), not running, running, not running,
            no_update if running or shown == job else job)


def show_result(job: str | None):
    """Outputs: results, simulate disabled — fetched once per finished job (the poll sets the
    job id when the job has ended). Simulating is possible as soon as the design is shown."""
    if not job:
        return [], True
    status = services.JOBS.status(job)
    if status["state"] in ("queued", "running", "unknown"):
        return no_update, True
    view = optimise_status_view(status)
    return view["results"] or [], not view["design"]


def cancel(n_clicks: int | None, store: dict | None):
    if not n_clicks:
        return no_update
    job = (store or {}).get("optimise_job")
    if job and services.JOBS.cancel(job):
        return message("Cancelling: HiGHS finishes its solve, then the design is not saved.",
                       "warning")
    return message("Nothing to cancel.", "info")


def simulate(n_clicks: int | None, reps: Any, store: dict | None):
    """Outputs: app store, sim poll disabled, sim message, sim progress, simulate disabled,
    compare link, the job this page view watches (to open Compare when it ends)."""
    if not n_clicks:
        return (no_update,) * 7
    job = (store or {}).get("optimise_job")
    summary = (services.JOBS.status(job).get("summary") or {}) if job else {}
    if not summary.get("design_key"):
        return (no_update, no_update, message("Optimise first: there is no design to simulate.",
                                              "error"), no_update, no_update, no_update,
                no_update)
    try:
        sim = services.start_design_simulation(services.current(), summary["scenario_key"],
                                               summary["design_key"], reps)
    except services.UserError as exc:
        return (no_update, no_update, message(str(exc), "error"), no_update, no_update,
                no_update, no_update)
    patch = Patch()
    patch["optimise_sim_job"] = sim
    return (patch, False, message("Simulating the baseline and the design in the background.",
                                  "info"), progress_bar(0, 1, "starting"), True, None, sim)


def poll_simulation(_n: int | None, store: dict | None, watch: str | None = None):
    """Outputs: sim progress, sim message, compare link, goto href, sim poll disabled,
    simulate disabled."""
    job = (store or {}).get("optimise_sim_job")
    status = services.JOBS.status(job) if job else {"state": "unknown"}
    state = status["state"]
    if state == "unknown":
        return (no_update, no_update, no_update, no_update, True, no_update)
    if state in ("queued", "running"):
        bar = progress_bar(status.get("done", 0), status.get("total", 0),
                           f"{status.get('label') or 'starting'}: {status.get('done', 0)} of "
                           f"{status.get('total') or '?'} replication(s) · "
                           f"{status.get('elapsed_s', 0):.1f} s")
        return (bar, no_update, no_update, no_update, False, True)
    summary = status.get("summary") or {}
    href = summary.get("compare_href")
    if state == "done" and href:
        link = dcc.Link("Open the comparison", href=href, id=f"{P}-compare-href")
        # go to Compare when the job started from this page view ends; a later visit of the
        # page (the watch store is empty then) stays here and shows the link
        return (progress_bar(1, 1, f"done in {status.get('elapsed_s', 0):.1f} s"),
                message(status.get("message"), "success"), link,
                href if watch == job else no_update, True, False)
    return (None, message(status.get("message"), "warning" if state == "cancelled" else "error"),
            None, no_update, True, False)


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output("app-store", "data", allow_duplicate=True),
        Output(f"{P}-poll", "disabled", allow_duplicate=True),
        Output(f"{P}-message", "children", allow_duplicate=True),
        Output(f"{P}-progress", "children", allow_duplicate=True),
        Output(f"{P}-result-job", "data", allow_duplicate=True),
        Output(f"{P}-run", "disabled", allow_duplicate=True),
        Output(f"{P}-cancel", "disabled", allow_duplicate=True),
        Output(f"{P}-simulate", "disabled", allow_duplicate=True),
        Input(f"{P}-run", "n_clicks"), State(f"{P}-select", "value"), State(f"{P}-name", "value"),
        *OPTION_STATES,
        prevent_initial_call=True,
    )(start)
    app.callback(
        Output(f"{P}-progress", "children"), Output(f"{P}-message", "children"),
        Output(f"{P}-poll", "disabled"), Output(f"{P}-run", "disabled"),
        Output(f"{P}-cancel", "disabled"), Output(f"{P}-result-job", "data"),
        Input(f"{P}-poll", "n_intervals"), State("app-store", "data"),
        State(f"{P}-result-job", "data"),
        prevent_initial_call="initial_duplicate",
    )(poll)
    app.callback(
        Output(f"{P}-results", "children"), Output(f"{P}-simulate", "disabled"),
        Input(f"{P}-result-job", "data"),
        prevent_initial_call=True,
    )(show_result)
    app.callback(
        Output(f"{P}-message", "children", allow_duplicate=True),
        Input(f"{P}-cancel", "n_clicks"), State("app-store", "data"),
        prevent_initial_call=True,
    )(cancel)
    app.callback(
        Output("app-store", "data", allow_duplicate=True),
        Output(f"{P}-sim-poll", "disabled", allow_duplicate=True),
        Output(f"{P}-sim-message", "children", allow_duplicate=True),
        Output(f"{P}-sim-progress", "children", allow_duplicate=True),
        Output(f"{P}-simulate", "disabled", allow_duplicate=True),
        Output(f"{P}-compare-link", "children", allow_duplicate=True),
        Output(f"{P}-sim-watch", "data"),
        Input(f"{P}-simulate", "n_clicks"), State(f"{P}-reps", "value"),
        State("app-store", "data"),
        prevent_initial_call=True,
    )(simulate)
    app.callback(
        Output(f"{P}-sim-progress", "children"), Output(f"{P}-sim-message", "children"),
        Output(f"{P}-compare-link", "children"), Output(f"{P}-goto", "href"),
        Output(f"{P}-sim-poll", "disabled"),
        Output(f"{P}-simulate", "disabled", allow_duplicate=True),
        Input(f"{P}-sim-poll", "n_intervals"), State("app-store", "data"),
        State(f"{P}-sim-watch", "data"),
        prevent_initial_call="initial_duplicate",
    )(poll_simulation)
