"""Scenario page: pick a scenario, turn the knobs, save it as a new scenario, run it.

Knobs: horizon and replications; a demand multiplier per product (a ``demand_surge``
disruption over the whole horizon); the scenario's own disruptions, switched off or moved
(``edits.disruptions``), and those of the other scenarios of the same network, switched on with
their windows; new disruptions the planner writes (kind, what it applies to, start date,
duration, magnitude with its meaning spelled out: ``services.disruptions``); the policy
parameters of one chosen site. Windows show their calendar dates (``simulation.start_date`` +
day) beside the day numbers; a new disruption's start is entered as a date. **Save** writes
``RUNS_DIR/scenarios/NAME.yaml`` that ``extends:`` the chosen scenario and selects it; **Run**
starts a recorded run of the chosen scenario with the knobs as ``--set`` overrides, in the
background (``services.JOBS``); an interval polls its progress until the KPI cards fill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dash
from dash import ALL, MATCH, Input, Output, Patch, State, dcc, html, no_update

from dashboard import services
from dashboard.components import (
    data_table,
    field,
    kpi_cards,
    message,
    page_header,
    progress_bar,
)
from dashboard.components.choices import default_scenario, scenario_options

dash.register_page(__name__, path="/scenario", name="Scenario", order=1,
                   title="Scenario · supplytwin")

P = "scenario"
POLL_MS = 250

#: the knob inputs every action reads, in the order of :func:`raw_knobs`'s arguments
KNOB_STATES = [
    State(f"{P}-horizon", "value"),
    State(f"{P}-reps", "value"),
    State({"type": f"{P}-demand", "product": ALL}, "id"),
    State({"type": f"{P}-demand", "product": ALL}, "value"),
    State({"type": f"{P}-dis-on", "id": ALL}, "id"),
    State({"type": f"{P}-dis-on", "id": ALL}, "value"),
    State({"type": f"{P}-dis-start", "id": ALL}, "value"),
    State({"type": f"{P}-dis-duration", "id": ALL}, "value"),
    State({"type": f"{P}-policy", "row": ALL, "field": ALL}, "id"),
    State({"type": f"{P}-policy", "row": ALL, "field": ALL}, "value"),
    State(f"{P}-new-list", "data"),
]


# ---------------------------------------------------------------- pure helpers -------------------


def raw_knobs(horizon: Any, reps: Any, demand_ids: Sequence[dict], demand_values: Sequence[Any],
              dis_ids: Sequence[dict], dis_on: Sequence[Any], dis_start: Sequence[Any],
              dis_duration: Sequence[Any], policy_ids: Sequence[dict],
              policy_values: Sequence[Any],
              new_disruptions: Sequence[dict] | None = None) -> dict[str, Any]:
    """The values of the knob inputs, as :func:`services.validate_knobs` reads them."""
    policies: dict[str, dict[str, Any]] = {}
    for pid, v in zip(policy_ids, policy_values, strict=False):
        policies.setdefault(pid["row"], {})[pid["field"]] = v
    return {
        "horizon_days": horizon, "replications": reps,
        "demand": {i["product"]: v for i, v in zip(demand_ids, demand_values, strict=False)},
        "disruptions": [
            {"disruption_id": i["id"], "on": bool(on), "start_day": s, "duration_days": d}
            for i, on, s, d in zip(dis_ids, dis_on, dis_start, dis_duration, strict=False)],
        "policies": policies,
        "new_disruptions": list(new_disruptions or []),
    }


def _num_input(id_: Any, value: Any, width: str = "7em") -> dcc.Input:
    # no min/max/step in the browser: a value outside them would silently become None there;
    # the server checks every value and says what is wrong
    return dcc.Input(id=id_, type="number", value=value, step="any", debounce=True,
                     style={"width": width}, className="num")


def demand_rows(products: Sequence[dict[str, str]]) -> html.Div:
    rows = [html.Div([
        html.Label(f"{p['product_id']}", className="knob-label", title=p["name"]),
        html.Span(f"{p['name']} · {p['temperature_class'].replace('_', ' ')}",
                  className="knob-note"),
        _num_input({"type": f"{P}-demand", "product": p["product_id"]}, 1),
    ], className="knob-row") for p in products]
    return html.Div(rows or [html.Div("No customer demand in this scenario.", className="muted")])


def window_dates(start_date: str | None, start: Any, duration: Any) -> str:
    """"2027-09-20 to 2027-11-01" for a window of days, or "" when it cannot be told."""
    try:
        s, d = float(start), float(duration)
    except (TypeError, ValueError):
        return ""
    if not start_date or not (s >= 0 and d > 0) or s + d > 1e5:
        return ""
    return f"{services.day_date(start_date, s)} to {services.day_date(start_date, s + d)}"


def _window_inputs(d: dict, start_date: str | None = None) -> list[Any]:
    """Start day and duration of a disruption; a random one (no window) gets hidden empty
    inputs so the pattern-matched lists stay aligned."""
    did = d["disruption_id"]
    if d.get("start_day") is None:
        return [dcc.Input(id={"type": f"{P}-dis-start", "id": did}, type="hidden", value=None),
                dcc.Input(id={"type": f"{P}-dis-duration", "id": did}, type="hidden",
                          value=None),
                html.Span("", id={"type": f"{P}-dis-dates", "id": did}, hidden=True)]
    return [html.Span("from day", className="knob-unit"),
            _num_input({"type": f"{P}-dis-start", "id": did}, d["start_day"], width="5.5em"),
            html.Span("for", className="knob-unit"),
            _num_input({"type": f"{P}-dis-duration", "id": did}, d["duration_days"],
                       width="5.5em"),
            html.Span("days", className="knob-unit"),
            html.Span(window_dates(start_date, d["start_day"], d["duration_days"]),
                      id={"type": f"{P}-dis-dates", "id": did}, className="knob-note dates")]


def disruption_rows(inherited: Sequence[dict], catalogue: Sequence[dict],
                    start_date: str | None = None) -> html.Div:
    parts: list[Any] = []
    if inherited:
        parts.append(html.Div("Part of this scenario (untick to switch off):",
                              className="knob-subhead"))
        parts += [html.Div([
            dcc.Checklist([{"label": "", "value": "on"}],
                          ["on"] if d.get("enabled", True) else [],
                          id={"type": f"{P}-dis-on", "id": d["disruption_id"]},
                          className="inline-check"),
            html.Span(d["disruption_id"], className="knob-label"),
            html.Span(f"{d['kind'].replace('_', ' ')} · {d['target']}"
                      + (f" · ×{d['magnitude']:g}" if d.get("magnitude", 1) != 1 else "")
                      + (f" · random, MTBF {d.get('mtbf_days', 0):g} days"
                         if d.get("start_day") is None else ""),
                      className="knob-note"),
            *_window_inputs(d, start_date),
        ], className="knob-row inherited") for d in inherited]
    if catalogue:
        parts.append(html.Div("Switch on (from the other scenarios of this network):",
                              className="knob-subhead"))
        parts += [html.Div([
            dcc.Checklist([{"label": "", "value": "on"}], [],
                          id={"type": f"{P}-dis-on", "id": d["disruption_id"]},
                          className="inline-check"),
            html.Span(d["disruption_id"], className="knob-label"),
            html.Span(f"{d['kind'].replace('_', ' ')} · {d['target']}"
                      + (f" · ×{d['magnitude']:g}" if d.get("magnitude", 1) != 1 else ""),
                      className="knob-note"),
            *_window_inputs(d, start_date),
        ], className="knob-row") for d in catalogue]
    if not parts:
        parts = [html.Div("No disruptions to offer for this network.", className="muted")]
    return html.Div(parts)


def new_rows(items: Sequence[dict], start_date: str | None) -> html.Div:
    """The disruptions written on this page so far, as sentences with dates and days."""
    if not items:
        return html.Div("None yet.", className="muted", id=f"{P}-new-rows-empty")
    out = []
    for it in items:
        day = it.get("start_day")
        end = (float(day) + float(it["duration_days"])) if day is not None else None
        meaning = services.NEW_KINDS.get(it["kind"], ("", (), None))[2]
        out.append(html.Li(
            f"{it['kind'].replace('_', ' ')} · {it['target'].replace(':', ' ')} · "
            f"{services.day_date(start_date, day)} to {services.day_date(start_date, end)} "
            f"(day {day:g} to {end:g})"
            + (f" · magnitude {float(it['magnitude']):g}: {meaning}" if meaning else "")))
    return html.Ul(out, id=f"{P}-new-rows-list")


def policy_table(site: str | None, rows: Sequence[dict[str, Any]]) -> html.Div:
    if not site:
        return html.Div("Choose a site to edit its inventory policies.", className="muted")
    cols: list[Any] = [("product", "product"), ("policy", "policy")]
    for f, label in (("reorder_point_units", "s / r"), ("order_up_to_units", "S"),
                     ("order_quantity_units", "Q"), ("review_period_days", "R (days)"),
                     ("days_of_supply_target", "days of supply")):
        cols.append((f, label, lambda r, f=f: _num_input(
            {"type": f"{P}-policy", "row": f"{site}/{r['product']}", "field": f}, r[f],
            width="6.5em")))
    return data_table(rows, cols, id=f"{P}-policy-rows", empty="This site has no policies.")


def run_status_view(status: dict[str, Any]) -> dict[str, Any]:
    """What the page shows for a job status: progress, message (text, kind), cards, link and
    whether polling goes on."""
    state = status.get("state")
    done, total = status.get("done", 0), status.get("total", 0)
    elapsed = status.get("elapsed_s", 0.0)
    if state in ("queued", "running"):
        label = (f"{status.get('label') or status.get('scenario')}: {done} of {total or '?'} "
                 f"replication(s) done · {elapsed:.1f} s")
        if status.get("cancel_requested"):
            label += " · cancelling after the current replication"
        return {"progress": progress_bar(done, total, label), "text": "Running in the "
                "background; you can keep using the dashboard.", "kind": "info", "cards": None,
                "link": None, "polling": True}
    if state == "done":
        rid = status.get("run_id")
        return {"progress": progress_bar(total, total, f"done in {elapsed:.1f} s"),
                "text": status.get("message"), "kind": "success",
                "cards": status.get("summary"),
                "link": dcc.Link(f"Open the results of run {rid}", href=f"/results?run={rid}",
                                 id=f"{P}-results-href"),
                "polling": False}
    if state == "cancelled":
        return {"progress": progress_bar(done, total, "cancelled"), "text": status.get("message"),
                "kind": "warning", "cards": None, "link": None, "polling": False}
    if state == "error":
        return {"progress": None, "text": status.get("message"), "kind": "error", "cards": None,
                "link": None, "polling": False}
    return {"progress": None, "text": None, "kind": "info", "cards": None, "link": None,
            "polling": False}


# ---------------------------------------------------------------- layout -------------------------


def _knob_values(ws: services.Workspace, key: str | None) -> dict[str, Any]:
    if not key:
        return {"error": "No scenario to choose from."}
    try:
        return services.knob_options(ws, key)
    except services.UserError as exc:
        return {"error": str(exc)}


def layout(scenario: str | None = None, **_query: Any) -> html.Div:
    try:
        ws = services.current()
        entries = services.list_scenarios(ws)
    except services.UserError as exc:
        return message(str(exc), "error")
    keys = {e["key"] for e in entries}
    value = scenario if scenario in keys else default_scenario(entries)
    o = _knob_values(ws, value)
    ok = "error" not in o
    return html.Div([
        page_header("Scenario", "Choose a scenario, turn the knobs a planner reaches for, then "
                    "save it as a new scenario (it extends the one you chose) or run it."),
        html.Div([
            field("Scenario", dcc.Dropdown(scenario_options(entries), value, id=f"{P}-select",
                                           clearable=False)),
        ], className="controls"),
        html.Div(o.get("description") if ok else message(o["error"], "error"),
                 id=f"{P}-description", className="description"),
        html.Div([
            html.Div([
                html.Section([
                    html.H3("Run settings"),
                    field("Horizon (days, warm-up included)",
                          _num_input(f"{P}-horizon", o.get("horizon_days"))),
                    html.Div(f"warm-up {o.get('warmup_days', 0):g} days, seed "
                             f"{o.get('seed', '–')}" if ok else "",
                             id=f"{P}-settings-note", className="field-help"),
                    field("Replications", _num_input(f"{P}-reps", o.get("replications"))),
                    dcc.Checklist([{"label": " write an HTML report", "value": "report"}],
                                  ["report"], id=f"{P}-report", className="check"),
                ], className="card-section"),
                html.Section([
                    html.H3("Demand multiplier per product"),
                    html.Div(demand_rows(o.get("products", [])), id=f"{P}-demand-rows"),
                    html.Div("1 = as in the scenario; 1.5 = 50 % more orders at every customer "
                             "for the whole horizon.", className="field-help"),
                ], className="card-section"),
                html.Section([
                    html.H3("Disruptions"),
                    html.Div(disruption_rows(o.get("inherited", []), o.get("catalogue", []),
                                             o.get("start_date")),
                             id=f"{P}-disruption-rows"),
                    html.Div(f"Day 0 is {o['start_date']}." if ok else "",
                             id=f"{P}-day-zero", className="field-help"),
                ], className="card-section wide"),
                html.Section([
                    html.H3("New disruption"),
                    html.Div([
                        field("What happens", dcc.Dropdown(
                            services.kind_options(), None, id=f"{P}-new-kind",
                            placeholder="choose a kind")),
                        field("Applies to", dcc.Dropdown([], None, id=f"{P}-new-target",
                                                         placeholder="what it applies to")),
                    ], className="controls"),
                    html.Div([
                        html.Span("starts on", className="knob-unit"),
                        dcc.Input(id=f"{P}-new-start", type="text", value=None,
                                  placeholder="YYYY-MM-DD", debounce=False, maxLength=10,
                                  className="text", style={"width": "8em"}),
                        html.Span("", id=f"{P}-new-start-day", className="knob-note"),
                        html.Span("for", className="knob-unit"),
                        _num_input(f"{P}-new-duration", 28, width="5.5em"),
                        html.Span("days; magnitude", className="knob-unit"),
                        _num_input(f"{P}-new-magnitude", None, width="5.5em"),
                        html.Button("Add", id=f"{P}-new-add", className="button"),
                        html.Button("Remove all new", id=f"{P}-new-clear", className="button"),
                    ], className="knob-row"),
                    html.Div(services.magnitude_meaning(None), id=f"{P}-new-meaning",
                             className="field-help"),
                    html.Div(id=f"{P}-new-message"),
                    html.Div(new_rows([], None), id=f"{P}-new-rows"),
                    html.Div("Added to the scenario when you Run or Save it.",
                             className="field-help"),
                ], className="card-section wide"),
                html.Section([
                    html.H3("Policy parameters of a site"),
                    field("Site", dcc.Dropdown(
                        [{"label": f"{s['site_id']} · {s['kind'].replace('_', ' ')}",
                          "value": s["site_id"]} for s in o.get("policy_sites", [])], None,
                        id=f"{P}-policy-site", placeholder="choose a site")),
                    html.Div(policy_table(None, []), id=f"{P}-policy-table"),
                ], className="card-section wide"),
            ], className="scenario-grid"),
            html.Div([
                html.Section([
                    html.H3("Run"),
                    html.Div([
                        html.Button("Run", id=f"{P}-run", className="button primary"),
                        html.Button("Cancel", id=f"{P}-cancel", className="button",
                                    disabled=True),
                    ], className="inline"),
                    html.Div("Runs the chosen scenario with the knobs as overrides, in the "
                             "background; the page stays usable.", className="field-help"),
                    html.Div(id=f"{P}-progress"),
                    html.Div(id=f"{P}-run-message"),
                    html.Div(id=f"{P}-results-link"),
                    html.Div(id=f"{P}-cards"),
                ], className="card-section"),
                html.Section([
                    html.H3("Save as a new scenario"),
                    html.Div([
                        dcc.Input(id=f"{P}-name", type="text", placeholder="e.g. baseline-surge",
                                  maxLength=200, className="text", debounce=False),
                        html.Button("Save", id=f"{P}-save", className="button"),
                    ], className="inline"),
                    html.Div("Written to the runs folder's scenarios/ as NAME.yaml, extending "
                             "the chosen scenario; letters, digits, '-' and '_'.",
                             className="field-help"),
                    html.Div(id=f"{P}-save-message"),
                ], className="card-section"),
            ], className="action-panel"),
        ], className="scenario-layout"),
        dcc.Interval(id=f"{P}-poll", interval=POLL_MS, disabled=False),
        dcc.Store(id=f"{P}-new-list", data=[]),
        dcc.Store(id=f"{P}-start-date", data=o.get("start_date") if ok else None),
    ])


# ---------------------------------------------------------------- callbacks ----------------------


def choose_scenario(key: str | None):
    ws = services.current()
    o = _knob_values(ws, key)
    if "error" in o:
        return (message(o["error"], "error"), no_update, no_update, "", no_update, no_update, [],
                None, policy_table(None, []))
    sites = [{"label": f"{s['site_id']} · {s['kind'].replace('_', ' ')}", "value": s["site_id"]}
             for s in o["policy_sites"]]
    return (o["description"], o["horizon_days"], o["replications"],
            f"warm-up {o['warmup_days']:g} days, seed {o['seed']}", demand_rows(o["products"]),
            disruption_rows(o["inherited"], o["catalogue"], o["start_date"]), sites, None,
            policy_table(None, []))


def choose_policy_site(site: str | None, key: str | None):
    if not site:
        return policy_table(None, [])
    try:
        rows = services.site_policies(services.current(), key, site)
    except services.UserError as exc:
        return message(str(exc), "error")
    return policy_table(site, rows)


def save(n_clicks: int | None, key: str | None, name: str | None, *knob_values: Any):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    ws = services.current()
    try:
        knobs = services.validate_knobs(ws, key, raw_knobs(*knob_values))
        saved = services.save_scenario(ws, key, knobs, name)
    except services.UserError as exc:
        return message(str(exc), "error"), no_update, no_update, no_update
    options = scenario_options(services.list_scenarios(ws))
    text = saved.message + " It is now selected: Run runs it, or change it further."
    return message(text, "success"), options, saved.key, ""


def start(n_clicks: int | None, key: str | None, report: list[str] | None, *knob_values: Any):
    if not n_clicks:
        return (no_update,) * 8
    ws = services.current()
    raw = raw_knobs(*knob_values)
    try:
        knobs = services.validate_knobs(ws, key, raw)
        reps = raw["replications"]  # blank: the scenario's own (experiment.replications_for)
        job = services.start_run(ws, key, knobs, reps, report="report" in (report or []))
    except services.UserError as exc:
        return (no_update, no_update, message(str(exc), "error"), no_update, no_update,
                no_update, no_update, no_update)
    store = Patch()
    store["job"] = job
    view = run_status_view(services.JOBS.status(job))
    return (store, False, message(view["text"], view["kind"]), view["progress"], None,
            True, False, None)


def poll(_n: int | None, store: dict | None):
    job = (store or {}).get("job")
    if not job:
        return (no_update, no_update, no_update, no_update, True, False, True, no_update)
    status = services.JOBS.status(job)
    if status["state"] == "unknown":
        return (no_update, no_update, no_update, no_update, True, False, True, no_update)
    view = run_status_view(status)
    patch = no_update
    if status["state"] == "done":
        patch = Patch()
        patch["last_run"] = status["run_id"]
    cards = kpi_cards(view["cards"], id_prefix=P) if view["cards"] else None
    running = view["polling"]
    return (view["progress"], message(view["text"], view["kind"]), cards, view["link"],
            not running, running, not running, patch)


def cancel(n_clicks: int | None, store: dict | None):
    if not n_clicks:
        return no_update
    job = (store or {}).get("job")
    if job and services.JOBS.cancel(job):
        return message("Cancelling: the run stops after the replication in progress.", "warning")
    return message("Nothing to cancel.", "info")


def scenario_dates(key: str | None):
    """A new scenario: its day 0, and none of the disruptions written for the previous one."""
    o = _knob_values(services.current(), key)
    start = o.get("start_date")
    return start, f"Day 0 is {start}." if start else "", [], new_rows([], start), None


def choose_kind(kind: str | None, key: str | None, magnitude: Any):
    """Targets of the kind, what its magnitude means and a typical magnitude."""
    if not kind or not key:
        return [], None, services.magnitude_meaning(None), magnitude
    try:
        options = services.target_options(services.load(services.current(), key), kind)
    except services.UserError as exc:
        return [], None, str(exc), magnitude
    spec = services.NEW_KINDS.get(kind)
    return (options, options[0]["value"] if len(options) == 1 else None,
            services.magnitude_meaning(kind), spec[4] if spec and spec[2] else None)


def start_day_label(text: str | None, start_date: str | None):
    if not text or not start_date:
        return f"(day 0 = {start_date})" if start_date else ""
    try:
        day = (dt.date.fromisoformat(text.strip()) - dt.date.fromisoformat(start_date)).days
    except ValueError:
        return "write YYYY-MM-DD"
    return f"= day {day}"


def add_new(n_clicks: int | None, key: str | None, horizon: Any, kind: str | None,
            target: str | None, start: str | None, duration: Any, magnitude: Any,
            items: list[dict] | None, start_date: str | None):
    if not n_clicks:
        return no_update, no_update, no_update
    ws = services.current()
    items = list(items or [])
    item = {"kind": kind, "target": target, "start": start, "duration_days": duration,
            "magnitude": magnitude}
    try:
        o = services.knob_options(ws, key)
        try:
            h = float(horizon) if horizon not in (None, "") else o["horizon_days"]
        except (TypeError, ValueError):
            h = o["horizon_days"]
        taken = {d["disruption_id"] for d in o["inherited"]}
        row = services.new_disruption(services.load(ws, key), item, h, taken)
    except services.UserError as exc:
        return no_update, no_update, message(str(exc), "error")
    item["start_day"] = row["start_day"]
    items.append(item)
    return items, new_rows(items, start_date), message(
        f"Added {row['disruption_id']}: it is part of the scenario when you Run or Save.",
        "success")


def clear_new(n_clicks: int | None, start_date: str | None):
    if not n_clicks:
        return no_update, no_update, no_update
    return [], new_rows([], start_date), None


def inherited_dates(start: Any, duration: Any, start_date: str | None):
    return window_dates(start_date, start, duration)


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(f"{P}-start-date", "data"), Output(f"{P}-day-zero", "children"),
        Output(f"{P}-new-list", "data", allow_duplicate=True),
        Output(f"{P}-new-rows", "children", allow_duplicate=True),
        Output(f"{P}-new-message", "children", allow_duplicate=True),
        Input(f"{P}-select", "value"),
        prevent_initial_call=True,
    )(scenario_dates)
    app.callback(
        Output(f"{P}-new-target", "options"), Output(f"{P}-new-target", "value"),
        Output(f"{P}-new-meaning", "children"), Output(f"{P}-new-magnitude", "value"),
        Input(f"{P}-new-kind", "value"), State(f"{P}-select", "value"),
        State(f"{P}-new-magnitude", "value"),
        prevent_initial_call=True,
    )(choose_kind)
    app.callback(
        Output(f"{P}-new-start-day", "children"),
        Input(f"{P}-new-start", "value"), Input(f"{P}-start-date", "data"),
    )(start_day_label)
    app.callback(
        Output(f"{P}-new-list", "data"), Output(f"{P}-new-rows", "children"),
        Output(f"{P}-new-message", "children"),
        Input(f"{P}-new-add", "n_clicks"), State(f"{P}-select", "value"),
        State(f"{P}-horizon", "value"), State(f"{P}-new-kind", "value"),
        State(f"{P}-new-target", "value"), State(f"{P}-new-start", "value"),
        State(f"{P}-new-duration", "value"), State(f"{P}-new-magnitude", "value"),
        State(f"{P}-new-list", "data"), State(f"{P}-start-date", "data"),
        prevent_initial_call=True,
    )(add_new)
    app.callback(
        Output(f"{P}-new-list", "data", allow_duplicate=True),
        Output(f"{P}-new-rows", "children", allow_duplicate=True),
        Output(f"{P}-new-message", "children", allow_duplicate=True),
        Input(f"{P}-new-clear", "n_clicks"), State(f"{P}-start-date", "data"),
        prevent_initial_call=True,
    )(clear_new)
    app.callback(
        Output({"type": f"{P}-dis-dates", "id": MATCH}, "children"),
        Input({"type": f"{P}-dis-start", "id": MATCH}, "value"),
        Input({"type": f"{P}-dis-duration", "id": MATCH}, "value"),
        State(f"{P}-start-date", "data"),
        prevent_initial_call=True,
    )(inherited_dates)
    app.callback(
        Output(f"{P}-description", "children"), Output(f"{P}-horizon", "value"),
        Output(f"{P}-reps", "value"), Output(f"{P}-settings-note", "children"),
        Output(f"{P}-demand-rows", "children"), Output(f"{P}-disruption-rows", "children"),
        Output(f"{P}-policy-site", "options"), Output(f"{P}-policy-site", "value"),
        Output(f"{P}-policy-table", "children", allow_duplicate=True),
        Input(f"{P}-select", "value"),
        prevent_initial_call=True,
    )(choose_scenario)
    app.callback(
        Output(f"{P}-policy-table", "children"),
        Input(f"{P}-policy-site", "value"), State(f"{P}-select", "value"),
        prevent_initial_call=True,
    )(choose_policy_site)
    app.callback(
        Output(f"{P}-save-message", "children"), Output(f"{P}-select", "options"),
        Output(f"{P}-select", "value"), Output(f"{P}-name", "value"),
        Input(f"{P}-save", "n_clicks"), State(f"{P}-select", "value"), State(f"{P}-name", "value"),
        *KNOB_STATES,
        prevent_initial_call=True,
    )(save)
    app.callback(
        Output("app-store", "data", allow_duplicate=True),
        Output(f"{P}-poll", "disabled", allow_duplicate=True),
        Output(f"{P}-run-message", "children", allow_duplicate=True),
        Output(f"{P}-progress", "children", allow_duplicate=True),
        Output(f"{P}-cards", "children", allow_duplicate=True),
        Output(f"{P}-run", "disabled", allow_duplicate=True),
        Output(f"{P}-cancel", "disabled", allow_duplicate=True),
        Output(f"{P}-results-link", "children", allow_duplicate=True),
        Input(f"{P}-run", "n_clicks"), State(f"{P}-select", "value"), State(f"{P}-report", "value"),
        *KNOB_STATES,
        prevent_initial_call=True,
    )(start)
    app.callback(
        Output(f"{P}-progress", "children"), Output(f"{P}-run-message", "children"),
        Output(f"{P}-cards", "children"), Output(f"{P}-results-link", "children"),
        Output(f"{P}-poll", "disabled"), Output(f"{P}-run", "disabled"),
        Output(f"{P}-cancel", "disabled"),
        Output("app-store", "data", allow_duplicate=True),
        Input(f"{P}-poll", "n_intervals"), State("app-store", "data"),
        prevent_initial_call="initial_duplicate",
    )(poll)
    app.callback(
        Output(f"{P}-run-message", "children", allow_duplicate=True),
        Input(f"{P}-cancel", "n_clicks"), State("app-store", "data"),
        prevent_initial_call=True,
    )(cancel)
