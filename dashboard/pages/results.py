"""Results page: one completed run — KPI cards with confidence intervals, stock and backlog
bands, a fill-rate proxy over time, waste and cost breakdowns, excursions, and service by
customer (or product, region, serving site). Every time chart shades the run's disruption
windows, listed above the charts with their dates (``simulation.start_date`` + day) and days.

The run comes from ``?run=ID``, else the last run started here (the shared store), else the
newest complete run; an unknown ``?run=`` says so rather than showing another run. A side of a
comparison (``ID@whatif1``) or of a stress battery shows as a run of its own, with a link to the
comparison or battery; a sweep shows its own table and plot. Everything is read from the run's
artefacts folder.
"""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import figures, services
from dashboard.components import chart, data_table, kpi_cards, message, page_header
from dashboard.components.choices import run_options
from dashboard.components.layout import field

dash.register_page(__name__, path="/results", name="Results", order=2,
                   title="Results · supplytwin")

P = "results"


def pick_run(rows: list[dict[str, Any]], wanted: str | None, last: str | None) -> str | None:
    """The run asked for in the address (None when it is not a complete run: the page says
    so), else the last one started here, else the newest."""
    ids = [r["run_id"] for r in rows]
    if wanted:
        return wanted if wanted in ids else None
    if last in ids:
        return last
    return ids[0] if ids else None


def chooser_rows(ws) -> list[dict[str, Any]]:
    """Complete runs as Results opens them: each side of a comparison, and the sweeps."""
    rows = services.list_runs(ws, complete_only=True)
    sweeps = [r for r in rows if r["kind"] == "sweep"]
    return services.run_sides(ws, rows) + sweeps


def missing_run(wanted: str | None, rows: list[dict[str, Any]]) -> html.Div | None:
    """A message when ``?run=`` names no complete run (unknown, still running, failed)."""
    if not wanted or wanted in {r["run_id"] for r in rows}:
        return None
    return message(f"There is no complete run {str(wanted)[:80]!r}: it does not exist, or it has "
                   "not finished. Choose a run above or look for it on the Runs page.", "error")


def sweep_view(sweep: dict[str, Any]):
    """(lineage, table block, plot) of a sweep: its own results, not a run's."""
    table = sweep["table"]
    kpi = sweep["kpi"]
    rows = table[table["kpi"] == kpi] if "kpi" in table.columns else table
    cols = [*sweep["factors"], "mean", "ci95_low", "ci95_high", "n"]
    head = html.Div(f"{sweep['name']} · sweep of {', '.join(sweep['factors']) or '–'} · "
                    f"{len(rows)} point(s) · KPI {kpi}", className="lineage-line")
    block = html.Div([
        html.H3(f"{kpi} at each point of the sweep (mean and 95 % CI)"),
        data_table(rows[[c for c in cols if c in rows.columns]].to_dict("records"),
                   [(c, c) for c in cols if c in rows.columns], id=f"{P}-sweep-table",
                   empty="The sweep has no points."),
    ])
    fig = (services.sweep_figure(table, kpi, sweep["factors"]) if sweep["factors"] and len(rows)
           else figures.empty_figure("", "The sweep has no points."))
    return head, block, fig


def worst_product(by_product) -> str | None:
    """The product with the lowest mean fill rate (among products with demand)."""
    if by_product is None or by_product.empty or "fill_rate" not in by_product.columns:
        return None
    bp = (by_product[by_product["demand_units"] > 0] if "demand_units" in by_product.columns
          else by_product)
    means = bp.groupby("product_id")["fill_rate"].mean().dropna()
    return str(means.idxmin()) if not means.empty else None


def product_fill_rate(by_product, product: str | None) -> float | None:
    if not product or by_product is None or by_product.empty or \
            "fill_rate" not in by_product.columns:
        return None
    values = by_product.loc[by_product["product_id"] == product, "fill_rate"].dropna()
    return float(values.mean()) if len(values) else None


def default_pair(ts, facing, by_product=None) -> tuple[str | None, str | None]:
    """The busiest customer-facing stock point of the product served worst, else of any
    product, else the first pair of the series."""
    if facing is not None and not facing.empty:
        worst = worst_product(by_product)
        f = facing[facing["product_id"] == worst] if worst else facing
        top = (f if not f.empty else facing).sort_values("weight", ascending=False).iloc[0]
        return str(top["site_id"]), str(top["product_id"])
    if ts is not None and not ts.empty:
        r = ts.iloc[0]
        return str(r["site_id"]), str(r["product_id"])
    return None, None


def lineage_line(data: services.RunData, record: dict[str, Any]) -> html.Div:
    m = data.manifest
    bits = [f"{data.scenario}", f"{m.get('replications', len(data.kpis))} replication(s)",
            f"seed {data.seed}",
            (f"horizon {m.get('horizon_days', '–')} days, warm-up {data.warmup_days:g}"),
            f"executor {m.get('executor', '–')}"]
    overrides = m.get("overrides") or []
    parts: list[Any] = [" · ".join(str(b) for b in bits)]
    if overrides:
        n = len(overrides)
        parts.append(html.Details([
            html.Summary(f"{n} override{'s' if n > 1 else ''} (--set) on the scenario file"),
            html.Ul([html.Li(html.Code(o)) for o in overrides]),
        ], className="muted"))
    if data.kind == "compare":
        parts.append(dcc.Link("Part of a comparison: open it in Compare",
                              href=record.get("open_href") or "/compare",
                              id=f"{P}-comparison-link"))
    if data.kind == "stress":
        parts.append(html.Div(dcc.Link(
            "A what-if of a stress battery: open the battery on the Stress page",
            href=record.get("open_href") or "/stress", id=f"{P}-battery-link")))
    if record.get("has_report"):
        parts.append(html.A("Open the HTML report", href=f"/reports/{data.record_id}",
                            target="_blank", rel="noopener", id=f"{P}-report-link"))
    return html.Div(parts, className="lineage-line")


def windows_list(windows: list[dict[str, Any]]) -> html.Div | None:
    """The run's disruption windows as dates with the simulation days beside them."""
    if not windows:
        return None
    return html.Div([html.Span("Disruptions (shaded on the time charts): ", className="muted"),
                     html.Ul([html.Li(
                         f"{w['label']} on {w['target']}: {w['start_date']} to {w['end_date']} "
                         f"(day {w['start_day']:g} to {w['end_day']:g})")
                         for w in windows], id=f"{P}-windows-list")], className="lineage-line")


def service_rows(table) -> list[dict[str, Any]]:
    """Rows of the service table, formatted for people."""
    def n(x: Any, digits: int = 1) -> str:
        return "–" if x is None or pd.isna(x) else f"{x:,.{digits}f}"

    return [{**{k: r[k] for k in r if k.endswith("_id") or k == "region"},
             "demand": n(r["demand_units"], 0),
             "fill": "–" if pd.isna(r["fill_rate"]) else f"{100 * r['fill_rate']:.1f} %",
             "unfilled": n(r["unfilled_units"]), "lost": n(r["lost_units"]),
             "patients": n(r["patients_affected"])} for r in table.to_dict("records")]


def series_section(sites: list[str], site: str | None, products: list[str],
                   product: str | None, bands: Any = None, service: Any = None) -> list:
    """The site and product choices with the stock-and-backlog and service charts of that
    pair. :func:`show_run` puts the whole section in the page, drawn for the run's default
    pair: being new components, the choices do not fire :func:`change_series`
    (``prevent_initial_call``), so the charts are not drawn twice. ``bands``/``service``:
    figures (None: blank until drawn)."""
    def drawn(fig: Any) -> dict[str, Any]:
        return {"figure": fig} if fig is not None else {}

    return [
        html.Div([
            field("Site", dcc.Dropdown([{"label": s, "value": s} for s in sites], site,
                                       id=f"{P}-site", clearable=False)),
            field("Product", dcc.Dropdown([{"label": p, "value": p} for p in products],
                                          product, id=f"{P}-product", clearable=False)),
        ], className="controls"),
        chart(id=f"{P}-bands", config=figures.GRAPH_CONFIG, **drawn(bands)),
        chart(id=f"{P}-service", config=figures.GRAPH_CONFIG, **drawn(service)),
    ]


def layout(run: str | None = None, **_query: Any) -> html.Div:
    try:
        rows = chooser_rows(services.current())
    except services.UserError as exc:
        return message(str(exc), "error")
    return html.Div([
        page_header("Results", "One run's KPIs with 95 % confidence intervals across "
                    "replications, and what happened over time."),
        html.Div([
            field("Run", dcc.Dropdown(run_options(rows), None, id=f"{P}-run",
                                      placeholder="no complete run yet" if not rows else
                                      "choose a run", clearable=False)),
        ], className="controls"),
        dcc.Store(id=f"{P}-wanted", data=run),
        html.Div(missing_run(run, rows), id=f"{P}-missing"),
        html.Div(id=f"{P}-lineage"),
        html.Div(id=f"{P}-windows"),
        dcc.Loading(html.Div(id=f"{P}-cards"), delay_show=300),
        html.Div([
            chart(id=f"{P}-ci", config=figures.GRAPH_CONFIG),
            # drawn whole by show_run; its own spinner only while show_run draws it (the
            # charts inside have theirs for a change of site or product)
            dcc.Loading(html.Div(series_section([], None, [], None), id=f"{P}-series"),
                        type="circle", delay_show=150,
                        target_components={f"{P}-series": "children"}),
            html.Div("Fill-rate proxy of the chosen product: each day, the share of its demand "
                     "(weighted by the mean daily demand each stock point serves) at the "
                     "customer-facing stock points that end the day with stock on hand and no "
                     "backlog; the dashed line is the product's measured fill rate over the "
                     "measured period (kpis_by_product).", className="field-help"),
            html.Div([chart(id=f"{P}-waste", config=figures.GRAPH_CONFIG),
                      chart(id=f"{P}-cost", config=figures.GRAPH_CONFIG)],
                     className="two-col"),
            chart(id=f"{P}-excursions", config=figures.GRAPH_CONFIG),
            html.H3("Service by customer"),
            html.Div("Per replication, averaged: units ordered, the share shipped at once (fill "
                     "rate), units not shipped at once (backordered or lost) and the patients "
                     "they affect; most patients affected first.", className="field-help"),
            html.Div([field("Group by", dcc.Dropdown(
                [{"label": label, "value": v} for v, (label, _k) in
                 services.BREAKDOWNS.items() if v != "stock point"],
                "customer", id=f"{P}-service-by", clearable=False))], className="controls"),
            dcc.Loading(html.Div(id=f"{P}-customers"), delay_show=300),
        ], id=f"{P}-body"),
    ])


# ---------------------------------------------------------------- callbacks ----------------------


def choose_default(wanted: str | None, store: dict | None):
    rows = chooser_rows(services.current())
    return pick_run(rows, wanted, (store or {}).get("last_run"))


def _no_series(fig) -> list:
    """The stock and service section without a run: no choices, ``fig`` in both charts."""
    return series_section([], None, [], None, fig, fig)


def show_run(run_id: str | None):
    """Everything of one run in one round trip: lineage, cards, KPI interval, waste, cost,
    excursions, the site and product choices, and the stock and service charts of the default
    pair. (Drawn by a chain of callbacks, each waiting for the one before, the page took two
    more round trips and drew its charts twice.)"""
    empty = figures.empty_figure("", "Choose a run.")
    if not run_id:
        return (message("No complete run shown: choose one above, or start one from the Scenario "
                        "page.",
                        "info"), None, empty, empty, empty, empty, _no_series(empty))
    ws = services.current()
    try:
        kind = services.run_record(ws, run_id)["kind"]
        sweep = services.load_sweep(ws, run_id) if kind == "sweep" and "@" not in run_id \
            else None
    except services.UserError as exc:
        return (message(str(exc), "error"), None, empty, empty, empty, empty,
                _no_series(empty))
    if sweep is not None:
        head, block, fig = sweep_view(sweep)
        none = figures.empty_figure("", "A sweep: see its table and plot above.")
        return head, block, fig, none, none, none, _no_series(none)
    try:
        data = services.load_run(ws, run_id)
        record = services.run_record(ws, run_id)
    except services.UserError as exc:
        return (message(str(exc), "error"), None, empty, empty, empty, empty,
                _no_series(empty))
    ts = data.timeseries
    pairs = ts[["site_id", "product_id"]].drop_duplicates() if not ts.empty else ts
    sites = sorted(pairs["site_id"].unique()) if not ts.empty else []
    site, product = default_pair(ts, data.facing, data.by_product)
    products = sorted(pairs.loc[pairs["site_id"] == site, "product_id"]) if site else []
    bands, service = show_series(run_id, site, product)
    return (
        lineage_line(data, record), kpi_cards(data.summary, id_prefix=P),
        figures.kpi_ci_figure(data.summary),
        figures.waste_figure(data.by_product).update_layout(
            title_text="Waste per product (mean, 95 % CI)") if not data.by_product.empty else
        figures.empty_figure("Waste", "No product results in this run."),
        figures.cost_breakdown_figure(data.kpis).update_layout(
            title_text="Cost per category (USD, mean, 95 % CI)"),
        figures.excursions_figure(data.kpis, data.excursions_by_lane),
        series_section(sites, site, products, product, bands, service),
    )


def products_of_site(site: str | None, run_id: str | None, current: str | None):
    """The products stocked at ``site`` in the run, and the one to show: ``current`` when the
    site stocks it, else the first."""
    if not site or not run_id:
        return [], None
    try:
        data = services.load_run(services.current(), run_id)
    except services.UserError:
        return [], None
    ts = data.timeseries
    products = sorted(ts.loc[ts["site_id"] == site, "product_id"].unique()) if not ts.empty else []
    value = current if current in products else (products[0] if products else None)
    return [{"label": p, "value": p} for p in products], value


def show_series(run_id: str | None, site: str | None, product: str | None):
    """The stock-and-backlog bands and the fill-rate proxy of one site and product, with the
    run's disruption windows shaded."""
    if not run_id or not site or not product:
        e = figures.empty_figure("", "Choose a site and a product.")
        return e, e
    try:
        data = services.load_run(services.current(), run_id)
    except services.UserError as exc:
        e = figures.empty_figure("", str(exc))
        return e, e
    bands = figures.inventory_band_figure(data.timeseries, site, product, data.warmup_days)
    table = figures.in_stock_rate(data.timeseries, data.facing, product)
    fr = product_fill_rate(data.by_product, product)
    service = figures.service_over_time_figure(table, fr, data.warmup_days, product)
    windows = services.run_disruption_windows(services.current(), run_id)
    return figures.shade_windows(bands, windows), figures.shade_windows(service, windows)


def series_of(site: str | None, product: str | None, run_id: str | None,
              site_changed: bool):
    """The product choices (unchanged unless the site changed: then the site's products,
    keeping the product when the site stocks it), the product shown and the two charts."""
    options: Any = dash.no_update
    if site_changed:
        options, product = products_of_site(site, run_id, product)
    bands, service = show_series(run_id, site, product)
    return options, product, bands, service


def change_series(site: str | None, product: str | None, run_id: str | None):
    """A site or product chosen by the planner (never the run's own choice: see
    :func:`series_section`)."""
    return series_of(site, product, run_id, dash.ctx.triggered_id == f"{P}-site")


def show_service(run_id: str | None, by: str | None):
    """Service by customer (or product, region, serving site) and the disruption windows."""
    if not run_id:
        return None, None
    ws = services.current()
    try:
        table = services.run_service(ws, run_id, by or "customer")
        windows = services.run_disruption_windows(ws, run_id)
    except services.UserError as exc:
        return message(str(exc), "error"), None
    keys = list(services.BREAKDOWNS[by or "customer"][1])
    labels = {"customer_id": "customer", "product_id": "product", "region": "region",
              "site_id": "serving site"}
    return data_table(service_rows(table), [
        *[(k, labels.get(k, k)) for k in keys], ("demand", "units ordered"),
        ("fill", "fill rate"), ("unfilled", "units not shipped at once"),
        ("lost", "units lost"), ("patients", "patients affected"),
    ], id=f"{P}-service-table", empty="No service by customer in this run."), \
        windows_list(windows)


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(f"{P}-run", "value"),
        Input(f"{P}-wanted", "data"), State("app-store", "data"),
    )(choose_default)
    app.callback(
        Output(f"{P}-lineage", "children"), Output(f"{P}-cards", "children"),
        Output(f"{P}-ci", "figure"), Output(f"{P}-waste", "figure"),
        Output(f"{P}-cost", "figure"), Output(f"{P}-excursions", "figure"),
        Output(f"{P}-series", "children"),
        Input(f"{P}-run", "value"),
    )(show_run)
    app.callback(
        Output(f"{P}-product", "options"), Output(f"{P}-product", "value"),
        Output(f"{P}-bands", "figure"), Output(f"{P}-service", "figure"),
        Input(f"{P}-site", "value"), Input(f"{P}-product", "value"),
        State(f"{P}-run", "value"),
        prevent_initial_call=True,
    )(change_series)
    app.callback(
        Output(f"{P}-customers", "children"), Output(f"{P}-windows", "children"),
        Input(f"{P}-run", "value"), Input(f"{P}-service-by", "value"),
    )(show_service)
