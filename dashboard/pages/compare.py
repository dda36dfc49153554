"""Compare page: two or more runs from the registry — KPI differences against the first run
with 95 % CIs and significance (paired by replication when the runs share their seed: common
random numbers), where the damage landed (the second run against the first, broken down by
stock point, site, product, customer or region, sorted by the change in patients affected), and
their time series overlaid for one site and product, by default the most affected stock point.

Rate differences (fill rate, OTIF, ...) are in percentage points (pp) in the tables and on the
chart axes: a fill rate going from 97 % to 92 % is −5 pp, not −5 %."""

from __future__ import annotations

import math
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import figures, services
from dashboard.components import (
    chart,
    data_table,
    field,
    fmt,
    kpi_label,
    message,
    page_header,
)
from dashboard.components.choices import run_options
from dashboard.components.layout import BLANK_FIGURE

dash.register_page(__name__, path="/compare", name="Compare", order=3,
                   title="Compare · supplytwin")

P = "compare"

#: the breakdowns offered: value -> (label, group columns)
BREAKDOWNS = services.BREAKDOWNS

#: KPIs in the difference figure
FIGURE_KPIS = ("fill_rate", "otif", "backordered_units", "lost_units", "expired_units",
               "cost_total_usd")
#: KPIs always in the table (with every significant difference); a tick shows all of them
TABLE_KPIS = ("fill_rate", "order_fill_rate", "otif", "cycle_service_level",
              "backordered_units", "lost_units", "patients_affected", "expired_units",
              "excursion_loss_units", "excursions", "cost_total_usd", "co2_kg_total")


def layout(runs: str | None = None, **_query: Any) -> html.Div:
    try:
        ws = services.current()
        # a comparison recorded by the CLI offers each of its sides (ID, ID@whatif1, ...)
        rows = services.run_sides(ws, services.list_runs(ws, complete_only=True))
    except services.UserError as exc:
        return message(str(exc), "error")
    ids = [r["run_id"] for r in rows]
    wanted = [r for r in (runs or "").split(",") if r in ids] or default_runs(rows)
    return html.Div([
        page_header("Compare", "Each run against the first one chosen: the difference of every "
                    "KPI with its 95 % confidence interval. Runs with the same seed are paired "
                    "replication by replication (common random numbers), which makes small "
                    "differences visible."),
        html.Div([
            field("Runs (the first is the base)", dcc.Dropdown(
                run_options(rows), wanted, id=f"{P}-runs", multi=True,
                placeholder="choose two or more runs")),
            dcc.Checklist([{"label": " every KPI in the table", "value": "all"}], [],
                          id=f"{P}-all", className="check"),
        ], className="controls"),
        html.Div(id=f"{P}-note"),
        dcc.Loading(html.Div([
            dcc.Graph(id=f"{P}-diff", figure=BLANK_FIGURE, config=figures.GRAPH_CONFIG),
            html.Div(id=f"{P}-table"),
        ]), delay_show=300),
        html.H3("Where the damage landed"),
        html.Div("The second run against the first: the change in patients affected (units "
                 "not shipped at once × the product's patients per unit) and in fill rate, per "
                 "group, most additional patients first. Sites are the stock points that serve "
                 "each customer.", className="field-help"),
        html.Div([
            field("Break down by", dcc.Dropdown(
                [{"label": label, "value": v} for v, (label, _k) in BREAKDOWNS.items()],
                "stock point", id=f"{P}-breakdown-by", clearable=False)),
        ], className="controls"),
        dcc.Loading(html.Div([
            dcc.Graph(id=f"{P}-breakdown-chart", figure=BLANK_FIGURE,
                      config=figures.GRAPH_CONFIG),
            html.Div(id=f"{P}-breakdown-table"),
        ]), delay_show=300),
        html.H3("Time series, overlaid"),
        html.Div([
            field("Site", dcc.Dropdown([], None, id=f"{P}-site", clearable=False)),
            field("Product", dcc.Dropdown([], None, id=f"{P}-product", clearable=False)),
            field("Series", dcc.Dropdown(
                [{"label": "stock on hand", "value": "on_hand_units"},
                 {"label": "backlog", "value": "backlog_units"},
                 {"label": "on order", "value": "on_order_units"},
                 {"label": "in transit", "value": "in_transit_units"}], "on_hand_units",
                id=f"{P}-metric", clearable=False)),
        ], className="controls"),
        chart(id=f"{P}-overlay", config=figures.GRAPH_CONFIG),
    ])


# ---------------------------------------------------------------- pure helpers -------------------


def default_runs(rows: list[dict[str, Any]]) -> list[str]:
    """A what-if and its base: the newest comparison's base and first what-if, or the newest
    what-if run with a run of its base scenario (same seed: paired). Else the newest run and,
    as its base, the newest earlier run with the same seed (a paired comparison), else the one
    before it."""
    if len(rows) < 2:
        return []
    for r in rows:  # newest first
        if r.get("side_of"):
            return [x["run_id"] for x in rows if x.get("side_of") == r["side_of"]][:2]
        if r.get("base_name") and r.get("kind") == "run":
            base = next((x for x in rows if x["scenario"] == r["base_name"]
                         and not x.get("base_name") and x["seed"] == r["seed"]), None)
            if base is not None:
                return [base["run_id"], r["run_id"]]
    newest = rows[0]
    same = [r for r in rows[1:] if r["seed"] == newest["seed"]]
    base_of = newest.get("base_name")
    own_base = [r for r in same if base_of and r.get("scenario") == base_of]
    base = own_base[0] if own_base else same[0] if same else rows[1]
    return [base["run_id"], newest["run_id"]]


def table_rows(diff: pd.DataFrame, every: bool) -> pd.DataFrame:
    """The headline KPIs and every significant difference, or every KPI."""
    if every or diff.empty:
        return diff
    keep = diff["kpi"].isin(TABLE_KPIS) | diff["significant"].astype(bool)
    return diff[keep]


def difference_rows(diff: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the differences table, formatted for people."""
    out = []
    for r in diff.itertuples(index=False):
        out.append({
            "whatif": r.whatif, "kpi": kpi_label(r.kpi), "base": fmt(r.kpi, r.base_mean),
            "other": fmt(r.kpi, r.whatif_mean), "difference": _signed(r.kpi, r.difference),
            "ci": f"{_signed(r.kpi, r.ci95_low)} to {_signed(r.kpi, r.ci95_high)}",
            "significant": "yes" if r.significant else "no", "n": r.n,
            "paired": ("–" if r.n < 2 else "paired t" if r.paired else "Welch"),
        })
    return out


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _pp(x: Any) -> str:
    x = _num(x)
    return "–" if math.isnan(x) else f"{x:+.2f} pp"


def _rate(x: Any) -> str:
    x = _num(x)
    return "–" if math.isnan(x) else f"{100 * x:.1f} %"


def _count(x: Any, signed: bool = False) -> str:
    x = _num(x)
    if math.isnan(x):
        return "–"
    return f"{x:+,.1f}" if signed else f"{x:,.1f}"


def breakdown_rows(table: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    """Rows of the where-the-damage-landed table, formatted for people (rates in %, their
    changes in percentage points)."""
    out = []
    for r in table.to_dict("records"):
        lo, hi = _num(r["ci95_low"]), _num(r["ci95_high"])
        out.append({
            "group": " / ".join(str(r[k]) for k in keys),
            "base_fill": _rate(r["base_fill_rate"]), "other_fill": _rate(r["whatif_fill_rate"]),
            "fill_pp": _pp(r["fill_rate_difference_pp"]),
            "base_patients": _count(r["base_patients_affected"]),
            "other_patients": _count(r["whatif_patients_affected"]),
            "patients": _count(r["patients_affected_difference"], signed=True),
            "ci": ("–" if math.isnan(lo) or math.isnan(hi)
                   else f"{_count(lo, True)} to {_count(hi, True)}"),
            "units": _count(r["unfilled_units_difference"], signed=True),
            "worse": _num(r["patients_affected_difference"]) > 0,
        })
    return out


def _signed(kpi: str, x: float) -> str:
    if x is None or math.isnan(x):
        return "–"
    u = services.KPI_DOCS.get(kpi, ("", ""))[0]
    if u == "fraction":
        return f"{100 * x:+.2f} pp"
    text = fmt(kpi, abs(x))
    return ("+" if x > 0 else "−" if x < 0 else "±") + text


# ---------------------------------------------------------------- callbacks ----------------------


def compare(run_ids: list[str] | None, every: list[str] | None = None):
    empty = figures.empty_figure("", "Choose two or more runs.")
    ids = list(dict.fromkeys(run_ids or []))
    if len(ids) < 2:
        return (message("Choose at least two runs; the first is the base.", "info"), empty, None,
                [], None, [], None)
    ws = services.current()
    try:
        diff, note = services.compare_runs(ws, ids)
        runs = [services.load_run(ws, r) for r in ids]
    except services.UserError as exc:
        return message(str(exc), "error"), empty, None, [], None, [], None
    independent = "paired" in diff.columns and not diff["paired"].astype(bool).all()
    fig = figures.kpi_difference_figure(
        diff, [k for k in FIGURE_KPIS if k in set(diff["kpi"])],
        title_note=(" — independent samples (Welch): the runs do not share their seed"
                    if independent else " — paired by replication (same seed)"))
    table = data_table(difference_rows(table_rows(diff, "all" in (every or []))), [
        ("whatif", "run"), ("kpi", "KPI"), ("base", "base"), ("other", "this run"),
        ("difference", "difference"), ("ci", "95 % CI"), ("significant", "significant"),
        ("n", "n"), ("paired", "test"),
    ], id=f"{P}-differences", row_class=lambda r: "sig" if r["significant"] == "yes" else "")
    pairs = None
    for r in runs:
        p = set(map(tuple, r.timeseries[["site_id", "product_id"]].drop_duplicates().to_numpy())) \
            if not r.timeseries.empty else set()
        pairs = p if pairs is None else pairs & p
    pairs = sorted(pairs or ())
    # the stock point whose patients affected grew most, else the busiest customer-facing one
    site, product = None, None
    hit = services.most_affected_stock_point(ws, ids[:2])
    if hit is not None and hit in set(pairs):
        site, product = hit
    facing = runs[0].facing
    if site is None and not facing.empty:
        for row in facing.sort_values("weight", ascending=False).itertuples(index=False):
            if (row.site_id, row.product_id) in set(pairs):
                site, product = row.site_id, row.product_id
                break
    if site is None and pairs:
        site, product = pairs[0]
    sites = sorted({s for s, _ in pairs})
    products = sorted({p for s, p in pairs if s == site})
    return (message("Base: " + services.run_labels(runs)[0] + ". " + note, "info"), fig, table,
            [{"label": s, "value": s} for s in sites], site,
            [{"label": p, "value": p} for p in products], product)


def where_damage_landed(run_ids: list[str] | None, by: str | None):
    """The breakdown chart and table of the second chosen run against the first."""
    ids = list(dict.fromkeys(run_ids or []))
    if len(ids) < 2:
        return figures.empty_figure("", "Choose two or more runs."), None
    try:
        b = services.run_breakdown(services.current(), ids[:2], by or "stock point")
    except services.UserError as exc:
        return figures.empty_figure("", str(exc)), message(str(exc), "error")
    how = "paired by replication" if b["paired"] else "independent samples (Welch)"
    fig = figures.breakdown_figure(
        b["table"], b["keys"], b["label"],
        title_note=f"<br><sup>{b['other']} − {b['base']}, 95 % CI, {how}</sup>")
    table = data_table(breakdown_rows(b["table"], b["keys"]), [
        ("group", b["label"]), ("base_fill", "fill rate, base"),
        ("other_fill", "fill rate, this run"), ("fill_pp", "fill rate change"),
        ("base_patients", "patients affected, base"),
        ("other_patients", "patients affected, this run"), ("patients", "change in patients"),
        ("ci", "95 % CI"), ("units", "change in units not shipped at once"),
    ], id=f"{P}-breakdown", empty="No service by customer in these runs.",
        row_class=lambda r: "worse" if r["worse"] else "")
    note = (message(b["note"].strip(), "info") if b["note"] else None)
    return fig, html.Div([note, table]) if note else table


def overlay(run_ids: list[str] | None, site: str | None, product: str | None,
            metric: str | None):
    ids = list(dict.fromkeys(run_ids or []))
    if not ids or not site or not product:
        return figures.empty_figure("", "Choose runs, a site and a product.")
    ws = services.current()
    try:
        runs = [services.load_run(ws, r) for r in ids]
    except services.UserError as exc:
        return figures.empty_figure("", str(exc))
    labels = services.run_labels(runs)
    fig = figures.overlay_timeseries_figure(
        {label: r.timeseries for label, r in zip(labels, runs, strict=True)}, site, product,
        metric or "on_hand_units")
    windows: dict[tuple, dict] = {}
    for r in ids:  # the disruption windows of every run shown, each once
        for w in services.run_disruption_windows(ws, r):
            windows.setdefault((w["disruption_id"], w["start_day"], w["end_day"]), w)
    return figures.shade_windows(fig, list(windows.values())) if fig.data else fig


def products_of_site(site: str | None, run_ids: list[str] | None, current: str | None):
    ids = list(dict.fromkeys(run_ids or []))
    if not site or not ids:
        return [], None
    try:
        runs = [services.load_run(services.current(), r) for r in ids]
    except services.UserError:
        return [], None
    sets = [set(r.timeseries.loc[r.timeseries["site_id"] == site, "product_id"])
            for r in runs if not r.timeseries.empty]
    products = sorted(set.intersection(*sets)) if sets else []
    value = current if current in products else (products[0] if products else None)
    return [{"label": p, "value": p} for p in products], value


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(f"{P}-note", "children"), Output(f"{P}-diff", "figure"),
        Output(f"{P}-table", "children"),
        Output(f"{P}-site", "options"), Output(f"{P}-site", "value"),
        Output(f"{P}-product", "options"), Output(f"{P}-product", "value"),
        Input(f"{P}-runs", "value"), Input(f"{P}-all", "value"),
    )(compare)
    app.callback(
        Output(f"{P}-product", "options", allow_duplicate=True),
        Output(f"{P}-product", "value", allow_duplicate=True),
        Input(f"{P}-site", "value"), State(f"{P}-runs", "value"), State(f"{P}-product", "value"),
        prevent_initial_call=True,
    )(products_of_site)
    app.callback(
        Output(f"{P}-breakdown-chart", "figure"), Output(f"{P}-breakdown-table", "children"),
        Input(f"{P}-runs", "value"), Input(f"{P}-breakdown-by", "value"),
    )(where_damage_landed)
    app.callback(
        Output(f"{P}-overlay", "figure"),
        Input(f"{P}-runs", "value"), Input(f"{P}-site", "value"), Input(f"{P}-product", "value"),
        Input(f"{P}-metric", "value"),
    )(overlay)
