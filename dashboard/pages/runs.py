"""Runs page: the run registry, searchable; each run's lineage, links to its results and its
HTML report (served by ``/reports/<run_id>`` from the runs folder only), and a way to pick runs
for the Compare page."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, ctx, dcc, html, no_update

from dashboard import services
from dashboard.components import data_table, field, fmt, key_value_table, message, page_header

dash.register_page(__name__, path="/runs", name="Runs", order=4, title="Runs · supplytwin")

P = "runs"


def layout(search: str | None = None, **_query: Any) -> html.Div:
    return html.Div([
        page_header("Runs", "Every run, comparison and sweep recorded in the registry, newest "
                    "first, from the dashboard and the command line alike."),
        html.Div([
            field("Search", dcc.Input(id=f"{P}-search", type="search", value=search or "",
                                      placeholder="run id or scenario", debounce=True,
                                      maxLength=100, className="text")),
            field("Kind", dcc.Dropdown([{"label": k, "value": k} for k in
                                        ("run", "compare", "sweep")], None, id=f"{P}-kind",
                                       placeholder="all kinds")),
            html.Button("Refresh", id=f"{P}-refresh", className="button"),
        ], className="controls"),
        html.Div(id=f"{P}-compare-link"),
        html.Div(id=f"{P}-table"),
        html.H3("Lineage"),
        html.Div(html.Div("Click a run id to see where it came from.", className="muted"),
                 id=f"{P}-lineage"),
    ])


# ---------------------------------------------------------------- pure helpers -------------------


def scenario_cell(r: dict[str, Any]):
    """The what-if's own name; under it, the scenario it starts from and what it changes."""
    base, diff = r.get("base_name"), r.get("differences")
    if not base and not diff:
        return r["scenario"]
    what = ("compared with " if r["kind"] == "compare" else "what-if of ") + (base or "?")
    return html.Div([html.Div(r["scenario"]),
                     html.Div(what, className="muted", title=diff or "")])


def runs_table(rows: list[dict[str, Any]]) -> html.Div:
    def rid(r: dict[str, Any]):
        return html.Button(r["run_id"], id={"type": f"{P}-show", "run": r["run_id"]},
                           className="link-button", title="show lineage")

    def pick(r: dict[str, Any]):
        if r["status"] != "complete":
            return ""
        return dcc.Checklist([{"label": "", "value": r["run_id"]}], [],
                             id={"type": f"{P}-pick", "run": r["run_id"]},
                             className="inline-check")

    def links(r: dict[str, Any]):
        out: list[Any] = []
        if r["status"] == "complete":
            # each kind opens where its content is: a comparison in Compare with all its
            # sides, a run or a sweep in Results
            label = {"compare": "comparison", "sweep": "sweep"}.get(r["kind"], "results")
            out.append(dcc.Link(label, href=r.get("open_href") or f"/results?run={r['run_id']}"))
        if r["has_report"]:
            out += [" · ", html.A("report", href=f"/reports/{r['run_id']}", target="_blank",
                                  rel="noopener")]
        return out or "–"

    return data_table(rows, [
        ("pick", "compare", pick), ("run_id", "run", rid), ("kind", "kind"),
        ("status", "status"), ("created_at", "created (UTC)",
                               lambda r: (r["created_at"] or "").replace("T", " ")[:19]),
        ("scenario", "scenario / what-if", scenario_cell), ("replications", "reps"),
        ("seed", "seed"),
        ("fill_rate", "fill rate", lambda r: fmt("fill_rate", r["fill_rate"])),
        ("cost_total_usd", "total cost", lambda r: fmt("cost_total_usd", r["cost_total_usd"])),
        ("links", "open", links),
    ], id=f"{P}-rows", empty="No run matches. Start one from the Scenario page or with "
                             "`supplytwin run SCENARIO --reps N`.",
        row_class=lambda r: f"status-{r['status']}")


def lineage_items(rec: dict[str, Any]) -> list[tuple[str, Any]]:
    data = rec.get("data_sha256") or {}
    items: list[tuple[str, Any]] = [
        ("run", rec["run_id"]), ("kind", rec["kind"]), ("status", rec["status"]),
        ("created / finished", f"{rec['created_at']} / {rec['finished_at'] or '–'}"),
        ("scenario / what-if", rec["scenario_name"]),
        ("starts from", rec.get("base_name") or "–"),
        ("differences", rec.get("differences") or "none"),
        ("scenario file", rec["scenario_file"]),
        ("scenario sha256", rec["scenario_sha256"]),
        ("supplytwin version", rec["version"]), ("seed", rec["seed"]),
        ("replications", rec["replications"]), ("executor", rec["executor"]),
        ("command", rec["command"]),
        ("overrides (--set)", html.Ul([html.Li(html.Code(s)) for s in rec["overrides"]])
         if rec["overrides"] else "none"),
        ("artefacts", rec["artefacts"]),
    ]
    items += [(f"sha256 {name}", h[:16] + "…") for name, h in sorted(data.items())]
    return items


# ---------------------------------------------------------------- callbacks ----------------------


def list_rows(search: str | None, kind: str | None, _refresh: int | None):
    try:
        rows = services.list_runs(services.current(), search=search or None, kind=kind)
    except services.UserError as exc:
        return message(str(exc), "error")
    return runs_table(rows)


def lineage_panel(run_id: object) -> html.Div:
    """The lineage of one run, with a link to its report when it has one."""
    try:
        rec = services.run_record(services.current(), run_id)
    except services.UserError as exc:
        return message(str(exc), "error")
    extra = []
    if rec["has_report"]:
        extra.append(html.A("Open the HTML report", href=f"/reports/{rec['run_id']}",
                            target="_blank", rel="noopener"))
    return html.Div([key_value_table(lineage_items(rec), id=f"{P}-lineage-table"), *extra])


def show_lineage(clicks: list[int | None]):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        return no_update
    return lineage_panel(trigger.get("run"))


def compare_link(picked: list[list[str]] | None):
    ids = [v for values in (picked or []) for v in (values or [])]
    if len(ids) < 2:
        return html.Div("Tick two or more complete runs to compare them.", className="muted")
    return dcc.Link(f"Compare the {len(ids)} runs ticked", href="/compare?runs=" + ",".join(ids),
                    id=f"{P}-compare-href", className="button primary")


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(f"{P}-table", "children"),
        Input(f"{P}-search", "value"), Input(f"{P}-kind", "value"),
        Input(f"{P}-refresh", "n_clicks"),
    )(list_rows)
    app.callback(
        Output(f"{P}-lineage", "children"),
        Input({"type": f"{P}-show", "run": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(show_lineage)
    app.callback(
        Output(f"{P}-compare-link", "children"),
        Input({"type": f"{P}-pick", "run": ALL}, "value"),
    )(compare_link)
