"""Compare page: two or more runs from the registry — KPI differences against the first run
with 95 % CIs and significance (paired by replication when the runs share their seed: common
random numbers), and their time series overlaid for one site and product."""

from __future__ import annotations

import math
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import figures, services
from dashboard.components import data_table, field, fmt, kpi_label, message, page_header
from dashboard.components.choices import run_options

dash.register_page(__name__, path="/compare", name="Compare", order=3,
                   title="Compare · supplytwin")

P = "compare"

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
            dcc.Graph(id=f"{P}-diff", config=figures.GRAPH_CONFIG),
            html.Div(id=f"{P}-table"),
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
        dcc.Graph(id=f"{P}-overlay", config=figures.GRAPH_CONFIG),
    ])


# ---------------------------------------------------------------- pure helpers -------------------


def default_runs(rows: list[dict[str, Any]]) -> list[str]:
    """A what-if and its base: the newest comparison's base and first what-if, or the newest
    what-if run with a run of its base scenario (same seed: paired). Else the newest run and
    the newest earlier run with the same seed, else the one before it."""
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
    base = same[0] if same else rows[1]
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
    fig = figures.paired_difference_figure(diff, [k for k in FIGURE_KPIS
                                                  if k in set(diff["kpi"])])
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
    site, product = None, None
    facing = runs[0].facing
    if not facing.empty:
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
    return figures.overlay_timeseries_figure(
        {label: r.timeseries for label, r in zip(labels, runs, strict=True)}, site, product,
        metric or "on_hand_units")


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
        Output(f"{P}-overlay", "figure"),
        Input(f"{P}-runs", "value"), Input(f"{P}-site", "value"), Input(f"{P}-product", "value"),
        Input(f"{P}-metric", "value"),
    )(overlay)
