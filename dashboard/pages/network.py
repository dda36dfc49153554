"""Network page: the map of sites and lanes of a scenario, filters, and a clicked site's details.

Callbacks (thin): the scenario picks the filter options; scenario + filters + selection draw the
map (:func:`dashboard.figures.network_map_figure`); a click on a site marker shows its products,
policies, production, capacities and lanes (:func:`site_panel`).

The map can instead be coloured by a run's results (:func:`dashboard.figures.results_map_figure`,
drawn on the run's own scenario): fill rate or patients affected per customer, storage
utilisation per site, or, with a base run chosen too, the change from the base run. Filtering
by a product keeps the sites upstream of it (its drug substance and other inputs, from the bill
of materials), so a product's whole chain stays on the map.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures, services
from dashboard.components import data_table, field, key_value_table, message, page_header
from dashboard.components.choices import default_scenario, run_options, scenario_options

dash.register_page(__name__, path="/", name="Network", order=0,
                   title="Network · supplytwin")

P = "network"


def layout(scenario: str | None = None, **_query: Any) -> html.Div:
    try:
        entries = services.list_scenarios(services.current())
    except services.UserError as exc:
        return message(str(exc), "error")
    try:
        runs = services.list_runs(services.current(), complete_only=True)
    except services.UserError:
        runs = []
    run_opts = run_options(runs)
    keys = {e["key"] for e in entries}
    value = scenario if scenario in keys else default_scenario(entries)
    product_opts: list[dict] = []
    region_opts: list[dict] = []
    if value is not None:
        try:
            sites, _ = services.network_tables(services.load(services.current(), value))
            product_opts, region_opts = filter_options(sites)
        except services.UserError:
            pass  # the map callback says what is wrong
    return html.Div([
        page_header("Network", "Sites by kind and lanes by mode and temperature class. Click a "
                    "site for its products, policies, capacities and lanes."),
        html.Div([
            field("Scenario", dcc.Dropdown(scenario_options(entries), value, id=f"{P}-scenario",
                                           clearable=False)),
            field("Products", dcc.Dropdown(product_opts, [], id=f"{P}-products", multi=True,
                                           placeholder="all products")),
            field("Regions", dcc.Dropdown(region_opts, [], id=f"{P}-regions", multi=True,
                                          placeholder="all regions")),
        ], className="controls"),
        html.Div([
            field("Colour by a run's results", dcc.Dropdown(
                run_opts, None, id=f"{P}-run", placeholder="no run: sites by kind")),
            field("Against a base run (change)", dcc.Dropdown(
                run_opts, None, id=f"{P}-base-run", placeholder="no base: the run itself")),
            field("Showing", dcc.Dropdown(
                [{"label": label, "value": v} for v, (label, *_s) in
                 services.MAP_METRICS.items()], "fill_rate", id=f"{P}-metric",
                clearable=False)),
        ], className="controls"),
        html.Div(id=f"{P}-summary", className="muted"),
        html.Div([
            html.Div(dcc.Loading(dcc.Graph(id=f"{P}-map", config=figures.MAP_CONFIG,
                                           figure=figures.empty_figure("Network", "Loading…")),
                                 delay_show=300),
                     className="map-panel"),
            html.Div(html.Div("Click a site on the map to see its details.", className="muted"),
                     id=f"{P}-detail", className="detail-panel"),
        ], className="split"),
        dcc.Store(id=f"{P}-selected", data=None),
    ])


# ---------------------------------------------------------------- pure helpers -------------------


def filter_options(sites) -> tuple[list[dict], list[dict]]:
    """Product and region options from a sites table."""
    products = sorted({p for cell in sites["products"] for p in str(cell).split(";") if p})
    regions = sorted({r for r in sites["region"] if r})
    return ([{"label": p, "value": p} for p in products],
            [{"label": r, "value": r} for r in regions])


def site_panel(detail: dict[str, Any]) -> html.Div:
    """The details of one site (``services.site_detail``) as headed tables."""
    caps = [(f"{t.replace('_', ' ')} storage", "unlimited" if v is None else f"{v:,.0f} units")
            for t, v in detail["capacities"].items()]
    head = key_value_table([
        ("site", f"{detail['name']} ({detail['site_id']})"),
        ("kind", detail["kind"].replace("_", " ")),
        ("region / country", f"{detail['region'] or '–'} / {detail['country'] or '–'}"),
        ("operating", "yes" if detail["is_open"] else "no (closed in this scenario)"),
        ("fixed cost per year", f"${detail['fixed_cost_usd_per_year']:,.0f}"),
        *caps,
    ], id=f"{P}-detail-site")
    parts: list[Any] = [html.H3(detail["name"]), head]
    if detail["policies"]:
        parts += [html.H4("Products and policies"), data_table(detail["policies"], [
            ("product", "product"), ("policy", "policy"), ("reorder_point_units", "s / r"),
            ("order_up_to_units", "S"), ("order_quantity_units", "Q"),
            ("review_period_days", "R (days)"), ("days_of_supply_target", "days of supply"),
            ("sources", "sources"),
        ], id=f"{P}-detail-policies")]
    if detail["production"]:
        parts += [html.H4("Production"), data_table(detail["production"], [
            ("product", "product"), ("lines", "lines"), ("batch_units", "batch (units)"),
            ("cycle_time_days", "cycle time (days)"), ("qc_release_days", "QC release (days)"),
            ("batch_failure_prob", "batch failure p"),
        ])]
    if detail["demand"]:
        parts += [html.H4("Demand"), data_table(detail["demand"], [
            ("product", "product"), ("orders_per_day", "orders/day"),
            ("mean_units_per_day", "units/day"), ("unmet_demand", "unmet demand"),
        ])]
    parts += [html.H4(f"Lanes ({len(detail['lanes'])})"), data_table(detail["lanes"], [
        ("lane", "lane"), ("direction", "in/out"), ("other_site", "other end"), ("mode", "mode"),
        ("packaging", "packaging"), ("transit_days", "transit (days)"),
    ], empty="No lanes.", id=f"{P}-detail-lanes")]
    return html.Div(parts, id=f"{P}-detail-body")


def clicked_site(click: dict | None) -> str | None:
    """The site id of a click on a site marker (lane clicks carry no customdata)."""
    try:
        site = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None
    return site if isinstance(site, str) else None


# ---------------------------------------------------------------- callbacks ----------------------


def update_filters(key: str | None):
    ws = services.current()
    sc = services.load(ws, key)
    sites, _lanes = services.network_tables(sc)
    products, regions = filter_options(sites)
    return products, [], regions, [], None


def update_map(key: str | None, products: list[str] | None, regions: list[str] | None,
               selected: str | None, run: str | None = None, base: str | None = None,
               metric: str | None = None):
    ws = services.current()
    if run:
        return results_map(run, base, metric, products, regions, selected)
    try:
        sc = services.load(ws, key)
    except services.UserError as exc:
        return figures.empty_figure("Network", str(exc)), message(str(exc), "error")
    sites, lanes = services.network_tables(sc)
    wanted = services.upstream_products(sc, products)
    s, ln = figures.filter_network(sites, lanes, wanted, regions)
    summary = (f"{sc.name}: {len(s)} of {len(sites)} sites and {len(ln)} of {len(lanes)} "
               "lanes shown" + (" (with the sites upstream of the chosen products)."
                                if products else "."))
    return figures.network_map_figure(s, ln, selected), summary


def results_map(run: str, base: str | None, metric: str | None, products: list[str] | None,
                regions: list[str] | None, selected: str | None):
    """The map of the run's scenario coloured by its results, or by its change from ``base``."""
    ws = services.current()
    try:
        ids = [base, run] if base and base != run else [run]
        v = services.map_values(ws, ids, metric or "fill_rate", products)
        sc = services.run_scenario(v["run"])
        if sc is None:
            raise services.UserError("The scenario files of this run no longer load, so its "
                                     "network cannot be drawn.")
    except services.UserError as exc:
        return figures.empty_figure("Network", str(exc)), message(str(exc), "error")
    sites, lanes = services.network_tables(sc)
    s, ln = figures.filter_network(sites, lanes, services.upstream_products(sc, products),
                                   regions)
    shown = v["values"].dropna(subset=["value"])
    summary = (f"{v['title']}: {int(shown['site_id'].isin(set(s['site_id'])).sum())} sites "
               f"coloured; {len(s)} of {len(sites)} sites shown (network of {sc.name}).")
    return figures.results_map_figure(s, ln, v["values"], v["metric"], v["scale"],
                                      title=v["title"], selected=selected), summary


def show_site(click: dict | None, key: str | None):
    site = clicked_site(click)
    if site is None:
        return no_update, no_update
    ws = services.current()
    try:
        detail = services.site_detail(services.load(ws, key), site)
    except services.UserError as exc:
        return message(str(exc), "error"), None
    return site_panel(detail), site


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(f"{P}-products", "options"), Output(f"{P}-products", "value"),
        Output(f"{P}-regions", "options"), Output(f"{P}-regions", "value"),
        Output(f"{P}-selected", "data"),
        Input(f"{P}-scenario", "value"),
        prevent_initial_call=True,
    )(update_filters)
    app.callback(
        Output(f"{P}-map", "figure"), Output(f"{P}-summary", "children"),
        Input(f"{P}-scenario", "value"), Input(f"{P}-products", "value"),
        Input(f"{P}-regions", "value"), Input(f"{P}-selected", "data"),
        Input(f"{P}-run", "value"), Input(f"{P}-base-run", "value"),
        Input(f"{P}-metric", "value"),
    )(update_map)
    app.callback(
        Output(f"{P}-detail", "children"), Output(f"{P}-selected", "data", allow_duplicate=True),
        Input(f"{P}-map", "clickData"), State(f"{P}-scenario", "value"),
        prevent_initial_call=True,
    )(show_site)
