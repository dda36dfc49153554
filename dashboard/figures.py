"""Pure figure functions of the dashboard: tables in, :class:`plotly.graph_objects.Figure` out.

Nothing here reads a file, asks the registry or keeps state, so the unit tests call these
functions with small hand-made tables. Figures the HTML report draws too (inventory bands, cost
and waste breakdowns, KPI intervals, paired differences) are the report's own functions,
re-exported from :mod:`dashboard.services`; the ones below are the dashboard's additions: a
clickable, filterable network map, service over time, excursions and overlaid time series.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.services import (
    KIND_STYLE,
    MODE_STYLE,
    cost_breakdown_figure,
    inventory_band_figure,
    kpi_ci_figure,
    paired_difference_figure,
    waste_figure,
)
from supplytwin.report.figures import template_for

__all__ = [
    "cost_breakdown_figure", "design_cost_figure", "design_map_figure", "empty_figure", "excursions_figure", "filter_network",
    "in_stock_rate", "inventory_band_figure", "kpi_ci_figure", "network_map_figure",
    "overlay_timeseries_figure", "paired_difference_figure", "service_over_time_figure",
    "waste_figure",
]

TEMPLATE = "plotly_white"
FONT = {"family": "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif", "size": 13}
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000")

#: line dash of a lane by the temperature class it carries (colour is its mode)
TEMPERATURE_DASH: dict[str, tuple[str, str]] = {
    "crt": ("solid", "CRT 15–25 °C"),
    "refrigerated": ("dash", "2–8 °C"),
    "frozen": ("dot", "frozen −25 to −10 °C"),
    "ultra_cold": ("dashdot", "ultra-cold −90 to −60 °C"),
}

#: plotly config of the map: the world outline comes from the dashboard's own server
MAP_CONFIG = {"topojsonURL": "/_supplytwin/topojson/", "displaylogo": False,
              "scrollZoom": True}
GRAPH_CONFIG = {"displaylogo": False}


def _esc(x: object) -> str:
    return html.escape(str(x), quote=False)


def _style(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        template=template_for(fig, TEMPLATE), font=FONT, height=height,
        title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yanchor": "top",
               "yref": "container", "pad": {"t": 10}, "font": {"size": 15}},
        margin={"l": 10, "r": 10, "t": 80, "b": 40}, hoverlabel={"align": "left"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"},
    )
    return fig


def empty_figure(title: str, message: str, height: int = 260) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=_esc(message), x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font={"size": 14, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height)


# ================================================================ network map ==================


def _split(cell: object) -> set[str]:
    return {p for p in str(cell or "").split(";") if p}


def filter_network(sites: pd.DataFrame, lanes: pd.DataFrame,
                   products: Sequence[str] | None = None,
                   regions: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sites and lanes that touch any of ``products`` (made, stocked, ordered or carried) and
    lie in any of ``regions`` (a lane is kept when both its ends are kept). Empty or None
    filters keep everything."""
    s = sites
    if products:
        want = set(products)
        s = s[[bool(_split(c) & want) for c in s["products"]]]
    if regions:
        s = s[s["region"].isin(list(regions))]
    keep = set(s["site_id"])
    ln = lanes[lanes["origin_id"].isin(keep) & lanes["destination_id"].isin(keep)]
    if products:
        want = set(products)
        ln = ln[[bool(_split(c) & want) for c in ln["products"]]]
    return s.reset_index(drop=True), ln.reset_index(drop=True)


def network_map_figure(sites: pd.DataFrame, lanes: pd.DataFrame,
                       selected: str | None = None) -> go.Figure:
    """Sites on a world map by kind (colour, symbol) and lanes by mode (colour) and temperature
    class (dash); each site marker, and each lane end (which sits on a site), carries the
    ``site_id`` as ``customdata`` so a click says which site it was. ``selected`` is ringed. Tables: see
    :func:`dashboard.services.network_tables`."""
    title = "Network: sites by kind, lanes by mode and temperature class"
    if sites.empty:
        return empty_figure(title, "No site matches the filters.", 520)
    fig = go.Figure()
    order_modes = [m for m in MODE_STYLE if m in set(lanes["mode"])] + sorted(
        set(lanes["mode"]) - set(MODE_STYLE))
    order_temps = [t for t in TEMPERATURE_DASH if t in set(lanes["temperature_class"])]
    for i, mode in enumerate(order_modes):
        label, colour = MODE_STYLE.get(mode, (mode.title(), "#444"))
        group = f"mode-{mode}"
        # the legend entry of a mode (its lanes, whatever their dash) toggles them all
        fig.add_trace(go.Scattergeo(
            lat=[None], lon=[None], mode="lines", name=label, legendgroup=group,
            legendgrouptitle_text="Lanes by mode" if i == 0 else None,
            line={"width": 2.5, "color": colour}, hoverinfo="skip"))
        for temp in order_temps:
            sub = lanes[(lanes["mode"] == mode) & (lanes["temperature_class"] == temp)]
            if sub.empty:
                continue
            dash, tlabel = TEMPERATURE_DASH[temp]
            lat: list[float | None] = []
            lon: list[float | None] = []
            text: list[str | None] = []
            ends: list[str | None] = []  # a lane's vertices are its sites: a click there is one
            for r in sub.itertuples(index=False):
                t = (f"<b>{_esc(r.lane_id)}</b><br>{_esc(r.origin_id)} → {_esc(r.destination_id)}"
                     f"<br>{label.lower()}, {_esc(r.packaging)}, {tlabel}"
                     + (f"<br>{r.transit_days:.1f} days mean transit"
                        if isinstance(r.transit_days, float) and math.isfinite(r.transit_days)
                        else "")
                     + (f"<br>carries {_esc(r.products.replace(';', ', '))}" if r.products else ""))
                lat += [r.o_lat, r.d_lat, None]
                lon += [r.o_lon, r.d_lon, None]
                text += [t, t, None]
                ends += [r.origin_id, r.destination_id, None]
            fig.add_trace(go.Scattergeo(
                lat=lat, lon=lon, mode="lines", name=f"{label} · {tlabel}", legendgroup=group,
                showlegend=False, line={"width": 1.6, "color": colour, "dash": dash},
                opacity=0.6, hovertext=text, hoverinfo="text", customdata=ends,
            ))
    for i, temp in enumerate(order_temps):
        dash, tlabel = TEMPERATURE_DASH[temp]
        fig.add_trace(go.Scattergeo(
            lat=[None], lon=[None], mode="lines", name=tlabel, legendgroup=f"temp-{temp}",
            legendgrouptitle_text="Temperature class (dash)" if i == 0 else None,
            line={"width": 2, "color": "#555", "dash": dash}, hoverinfo="skip"))
    _add_site_markers(
        fig, sites, "Sites", customer_size=8,
        opacity=lambda sub: [1.0 if o else 0.35 for o in sub["is_open"]],
        hover=lambda r, label: (f"<b>{_esc(r.name)}</b><br>{_esc(r.site_id)} · {label.lower()}"
                                + (f" · {_esc(r.region)}" if r.region else "")
                                + ("" if r.is_open else "<br><i>closed in this scenario</i>")
                                + "<br><i>click for details</i>"))
    if selected is not None and selected in set(sites["site_id"]):
        r = sites[sites["site_id"] == selected].iloc[0]
        fig.add_trace(go.Scattergeo(
            lat=[r["latitude"]], lon=[r["longitude"]], mode="markers", name="selected",
            showlegend=False, hoverinfo="skip", customdata=[selected],
            marker={"size": 22, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#111"}},
        ))
    fig = _map_layout(fig, title, clickmode="event", uirevision="network-map")
    return fig


# ================================================================ service over time ============


def in_stock_rate(timeseries: pd.DataFrame, facing: pd.DataFrame, product: str | None = None,
                  low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """Daily fill-rate proxy: the demand-weighted share of customer-facing stock points that
    end the day able to serve (stock on hand and no backlog), per replication, then its mean
    and ``low``-``high`` quantiles across replications.

    ``facing`` lists the customer-facing stock points (site_id, product_id, weight = mean daily
    demand they serve); without it every (site, product) of the series counts with weight 1.
    ``product`` restricts to one product. Columns: time_days, mean, low, high, replications.
    """
    cols = ["time_days", "mean", "low", "high", "replications"]
    if timeseries is None or timeseries.empty:
        return pd.DataFrame(columns=cols)
    ts = timeseries
    if product:
        ts = ts[ts["product_id"] == product]
    if facing is not None and not facing.empty:
        f = facing if not product else facing[facing["product_id"] == product]
        ts = ts.merge(f[["site_id", "product_id", "weight"]], on=["site_id", "product_id"])
    else:
        ts = ts.assign(weight=1.0)
    if ts.empty:
        return pd.DataFrame(columns=cols)
    ok = ((ts["on_hand_units"] > 0) & (ts["backlog_units"] <= 0)).astype(float)
    ts = ts.assign(_ok=ok * ts["weight"])
    per_rep = ts.groupby(["replication", "time_days"], sort=True)[["_ok", "weight"]].sum()
    rate = (per_rep["_ok"] / per_rep["weight"]).rename("rate").reset_index()
    g = rate.groupby("time_days", sort=True)["rate"]
    out = pd.DataFrame({"mean": g.mean(), "low": g.quantile(low), "high": g.quantile(high),
                        "replications": g.size()}).reset_index()
    return out[cols]


def service_over_time_figure(table: pd.DataFrame, fill_rate: float | None = None,
                             warmup_days: float = 0.0, product: str | None = None) -> go.Figure:
    """The daily in-stock rate of :func:`in_stock_rate` with its band across replications,
    and the run's measured fill rate (a KPI over the measured period) as a reference line."""
    what = f" of {_esc(product)}" if product else ""
    title = (f"Fill-rate proxy over time{what}: share of its demand at customer-facing stock "
             "points able to serve")
    if table is None or table.empty:
        return empty_figure(title, "No daily levels at customer-facing stock points.")
    t = table["time_days"].to_numpy(dtype=float)
    fig = go.Figure()
    if int(table["replications"].max()) > 1:
        fig.add_trace(go.Scatter(
            x=np.concatenate([t, t[::-1]]),
            y=np.concatenate([table["high"].to_numpy(), table["low"].to_numpy()[::-1]]),
            fill="toself", fillcolor="rgba(0,114,178,0.18)", line={"width": 0}, mode="lines",
            name="5–95 % of replications", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=t, y=table["mean"], mode="lines", name="in-stock rate (mean)",
        line={"color": "#0072B2", "width": 2},
        hovertemplate="day %{x:.0f}<br>%{y:.1%} of demand at stock points able to serve"
                      "<extra></extra>"))
    if fill_rate is not None and math.isfinite(fill_rate):
        fig.add_hline(y=fill_rate, line={"color": "#D55E00", "dash": "dash", "width": 1.5},
                      annotation_text=f"measured fill rate {fill_rate:.1%}"
                      + (f" ({_esc(product)})" if product else ""),
                      annotation_position="bottom right")
    if warmup_days and warmup_days > 0:
        fig.add_vrect(x0=float(t.min()), x1=float(warmup_days), fillcolor="#888", opacity=0.12,
                      line_width=0, layer="below", annotation_text="warm-up",
                      annotation_position="top left")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], title="share of demand")
    fig.update_xaxes(title="day of simulation")
    return _style(fig, title, 360)


# ================================================================ excursions ===================


def excursions_figure(kpis: pd.DataFrame, by_lane: pd.DataFrame | None = None,
                      lanes: pd.DataFrame | None = None, top: int = 15) -> go.Figure:
    """Temperature excursions. With per-lane counts (``by_lane``: lane_id, replication,
    excursions) a bar per lane (mean over replications, the ``top`` lanes, coloured by mode when
    ``lanes`` gives it); otherwise the run-level KPI per replication."""
    if by_lane is not None and not by_lane.empty:
        title = "Temperature excursions by lane (mean per replication)"
        reps = max(int(by_lane["replication"].nunique()), 1) if "replication" in by_lane else 1
        m = (by_lane.groupby("lane_id")["excursions"].sum() / reps).sort_values(ascending=False)
        m = m[m > 0].head(top)
        if m.empty:
            return empty_figure(title, "No excursion on any lane.")
        mode_of = (dict(zip(lanes["lane_id"], lanes["mode"], strict=False))
                   if lanes is not None and not lanes.empty else {})
        colours = [MODE_STYLE.get(mode_of.get(lane, ""), ("", "#0072B2"))[1] for lane in m.index]
        fig = go.Figure(go.Bar(x=m.values, y=[_esc(i) for i in m.index], orientation="h",
                               marker_color=colours,
                               hovertemplate="%{y}: %{x:.2f} excursions<extra></extra>"))
        fig.update_yaxes(autorange="reversed")
        fig.update_xaxes(title="shipments with an excursion (mean per replication)")
        return _style(fig, title, 140 + 22 * len(m))
    title = "Temperature excursions per replication (all lanes)"
    if kpis is None or kpis.empty or "excursions" not in kpis.columns:
        return empty_figure(title, "No excursion counts in this run.")
    vals = kpis["excursions"].astype(float)
    reps = kpis["replication"] if "replication" in kpis.columns else pd.Series(range(len(kpis)))
    fig = go.Figure(go.Bar(x=[str(r) for r in reps], y=vals, marker_color="#0072B2",
                           hovertemplate="replication %{x}: %{y:.0f} shipments<extra></extra>"))
    fig.add_hline(y=float(vals.mean()), line={"dash": "dash", "color": "#D55E00"},
                  annotation_text=f"mean {vals.mean():.1f}", annotation_position="top left")
    fig.update_xaxes(title="replication", type="category")
    fig.update_yaxes(title="shipments with an excursion", rangemode="tozero")
    fig = _style(fig, title, 300)
    fig.add_annotation(text="Per-lane counts are not in this run's results folder.",
                       x=1, y=-0.28, xref="paper", yref="paper", showarrow=False,
                       xanchor="right", font={"size": 11, "color": "#666"})
    return fig


# ================================================================ compare ======================


def overlay_timeseries_figure(series: Mapping[str, pd.DataFrame], site_id: str,
                              product_id: str, column: str = "on_hand_units") -> go.Figure:
    """One line per run: the daily mean across replications of ``column`` (on_hand_units,
    backlog_units, on_order_units or in_transit_units) at one site and product."""
    what = {"on_hand_units": "stock on hand", "backlog_units": "backlog",
            "on_order_units": "on order", "in_transit_units": "in transit"}.get(column, column)
    title = f"{what.capitalize()} over time: {_esc(site_id)} / {_esc(product_id)}"
    fig = go.Figure()
    for i, (label, ts) in enumerate(series.items()):
        if ts is None or ts.empty or column not in ts.columns:
            continue
        sel = ts[(ts["site_id"] == site_id) & (ts["product_id"] == product_id)]
        if sel.empty:
            continue
        m = sel.groupby("time_days", sort=True)[column].mean()
        fig.add_trace(go.Scatter(
            x=m.index.to_numpy(dtype=float), y=m.to_numpy(), mode="lines", name=_esc(label),
            line={"color": PALETTE[i % len(PALETTE)], "width": 2},
            hovertemplate=f"{_esc(label)}<br>day %{{x:.0f}}: %{{y:,.0f}} units<extra></extra>"))
    if not fig.data:
        return empty_figure(title, f"No time series for {site_id} / {product_id} in these runs.")
    fig.update_xaxes(title="day of simulation")
    fig.update_yaxes(title=f"{what} (units, mean over replications)", rangemode="tozero")
    return _style(fig, title, 380)


# ================================================================ network design (Optimise) ====

#: colours of the cost groups of a design (supplytwin.opt.results: costs.group)
COST_GROUP_COLOURS: dict[str, str] = {
    "fixed": "#0072B2", "production": "#009E73", "transport": "#D55E00", "handling": "#E69F00",
    "holding": "#CC79A7", "penalty": "#B42318", "co2": "#56B4E9",
}


def flow_width(units: float, largest: float, thinnest: float = 1.0, widest: float = 9.0) -> float:
    """Line width of a flow: grows with the square root of its units (area-like), from
    ``thinnest`` to ``widest`` for the largest flow."""
    if not (largest > 0) or not (units > 0):
        return thinnest
    return thinnest + (widest - thinnest) * math.sqrt(min(units / largest, 1.0))


def main_flows(flows: pd.DataFrame, top: int = 80) -> pd.DataFrame:
    """The ``top`` largest flows by units per year (flows with no units left out)."""
    f = flows[flows["units_per_year"] > 0]
    return f.sort_values("units_per_year", ascending=False, kind="stable").head(top) \
        .reset_index(drop=True)


def design_map_figure(sites: pd.DataFrame, flows: pd.DataFrame, top: int = 80) -> go.Figure:
    """A network design on the world map: open sites by kind (colour, symbol), closed sites as
    grey crosses, sites the design opens or closes ringed, and the ``top`` main flows as lines
    coloured by mode with a width growing with their units per year.

    ``sites``: site_id, name, kind, latitude, longitude, open, open_before, candidate.
    ``flows``: origin_id, destination_id, mode, units_per_year, products (';'-joined), one row
    per origin, destination and mode (see ``services.design_tables``). Each flow is one trace
    (plotly lines have one width per trace) named ``flow ORIGIN → DESTINATION``."""
    title = "Design: open sites and main flows (line width grows with units per year)"
    if sites.empty:
        return empty_figure(title, "No sites in this design.", 560)
    fig = go.Figure()
    where = sites.set_index("site_id")[["latitude", "longitude"]]
    shown = main_flows(flows, top)
    shown = shown[shown["origin_id"].isin(where.index) & shown["destination_id"].isin(where.index)]
    largest = float(shown["units_per_year"].max()) if len(shown) else 0.0
    seen_modes: set[str] = set()
    for r in shown.itertuples(index=False):
        label, colour = MODE_STYLE.get(r.mode, (str(r.mode).title(), "#444"))
        o, d = where.loc[r.origin_id], where.loc[r.destination_id]
        text = (f"<b>{_esc(r.origin_id)} → {_esc(r.destination_id)}</b><br>{label.lower()}, "
                f"{r.units_per_year:,.0f} units/year"
                + (f"<br>{_esc(str(r.products).replace(';', ', '))}"
                   if getattr(r, "products", "") else ""))
        fig.add_trace(go.Scattergeo(
            lat=[o["latitude"], d["latitude"]], lon=[o["longitude"], d["longitude"]],
            mode="lines", name=f"flow {r.origin_id} → {r.destination_id}",
            legendgroup=f"mode-{r.mode}", showlegend=False,
            line={"width": flow_width(float(r.units_per_year), largest), "color": colour},
            opacity=0.65, hovertext=[text, text], hoverinfo="text",
            meta={"units_per_year": float(r.units_per_year)}))
        seen_modes.add(r.mode)
    modes = [m for m in MODE_STYLE if m in seen_modes] + sorted(seen_modes - set(MODE_STYLE))
    for i, mode in enumerate(modes):  # one legend entry per mode toggles all its flows
        label, colour = MODE_STYLE.get(mode, (mode.title(), "#444"))
        fig.add_trace(go.Scattergeo(
            lat=[None], lon=[None], mode="lines", name=f"{label} flows",
            legendgroup=f"mode-{mode}", legendgrouptitle_text="Main flows" if i == 0 else None,
            line={"width": 3, "color": colour}, hoverinfo="skip"))
    is_open = sites["open"].astype(bool)
    opened = sites[is_open]
    _add_site_markers(
        fig, opened, "Open sites", customer_size=7,
        hover=lambda r, label: (f"<b>{_esc(r.name)}</b><br>{_esc(r.site_id)} · {label.lower()}"
                                " · open" + (" (opened by the design)" if not r.open_before
                                             else "")))
    closed = sites[~is_open]
    if len(closed):
        fig.add_trace(go.Scattergeo(
            lat=closed["latitude"], lon=closed["longitude"], mode="markers", name="closed",
            legendgroup="closed", customdata=closed["site_id"].tolist(),
            marker={"size": 11, "color": "#7a7a7a", "symbol": "x-thin",
                    "line": {"width": 2.5, "color": "#7a7a7a"}},
            hovertext=[f"<b>{_esc(r.name)}</b><br>{_esc(r.site_id)} · closed"
                       + (" by the design" if r.open_before else
                          " (candidate not opened)" if r.candidate else "")
                       for r in closed.itertuples(index=False)],
            hoverinfo="text"))
    changed = sites[sites["open"].astype(bool) != sites["open_before"].astype(bool)]
    if len(changed):
        fig.add_trace(go.Scattergeo(
            lat=changed["latitude"], lon=changed["longitude"], mode="markers",
            name="changed by the design", legendgroup="changed",
            customdata=changed["site_id"].tolist(), hoverinfo="skip",
            marker={"size": 24, "color": "rgba(0,0,0,0)", "line": {"width": 2.5,
                                                                   "color": "#111"}}))
    fig = _map_layout(fig, title)
    return fig


def design_cost_figure(costs: pd.DataFrame) -> go.Figure:
    """The model's annual cost of a design by item, one horizontal bar per item with a cost,
    coloured by group (fixed, production, transport, ...). ``costs``: group, item,
    usd_per_year (``supplytwin.opt`` result table ``costs``)."""
    c = costs[costs["usd_per_year"].abs() > 0] if not costs.empty else costs
    if c.empty:
        return empty_figure("Annual cost by category (model)", "No costs in this design.")
    total = float(c["usd_per_year"].sum())
    fig = go.Figure()
    groups = list(dict.fromkeys(c["group"]))
    for g in groups:
        sub = c[c["group"] == g]
        fig.add_trace(go.Bar(
            y=[f"{g} · {i}" for i in sub["item"]], x=sub["usd_per_year"], orientation="h",
            name=g, marker_color=COST_GROUP_COLOURS.get(g, "#666"),
            hovertext=[f"<b>{_esc(g)}</b>: {_esc(i)}<br>{v:,.0f} USD/year ({v / total:.1%})"
                       for i, v in zip(sub["item"], sub["usd_per_year"], strict=True)],
            hoverinfo="text"))
    fig = _style(fig, f"Annual cost by category (model): {total:,.0f} USD/year",
                 max(260, 90 + 28 * len(c)))
    fig.update_yaxes(autorange="reversed", categoryorder="array",
                     categoryarray=[f"{g} · {i}" for g, i in zip(c["group"], c["item"],
                                                                  strict=True)])
    fig.update_xaxes(title="USD per year", tickformat=",.3s")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 40}, barmode="stack",
                      showlegend=False)
    return fig


def _add_site_markers(fig: go.Figure, sites: pd.DataFrame, legend_title: str, *,
                      customer_size: int, hover, opacity=None) -> None:
    """One marker trace per site kind (known kinds first, in KIND_STYLE order), the site id
    as customdata so a click can find the site; ``hover(row, label)`` writes each hover text,
    ``opacity(sub)`` gives per-site opacities."""
    kinds = [k for k in KIND_STYLE if k in set(sites["kind"])] + sorted(
        set(sites["kind"]) - set(KIND_STYLE))
    for i, kind in enumerate(kinds):
        label, colour, symbol = KIND_STYLE.get(kind, (kind, "#444", "circle"))
        sub = sites[sites["kind"] == kind]
        marker = {"size": 12 if kind != "customer" else customer_size, "color": colour,
                  "symbol": symbol, "line": {"width": 0.8, "color": "white"}}
        if opacity is not None:
            marker["opacity"] = opacity(sub)
        fig.add_trace(go.Scattergeo(
            lat=sub["latitude"], lon=sub["longitude"], mode="markers", name=label,
            legendgroup=f"kind-{kind}", legendgrouptitle_text=legend_title if i == 0 else None,
            customdata=sub["site_id"].tolist(), marker=marker,
            hovertext=[hover(r, label) for r in sub.itertuples(index=False)],
            hoverinfo="text"))


def _map_layout(fig: go.Figure, title: str, **layout) -> go.Figure:
    """The look shared by the network map and the design map: the world drawn lightly, fitted
    to the sites, a grouped legend on the right; ``layout`` adds per-map settings."""
    fig.update_geos(
        projection_type="natural earth", showland=True, landcolor="#eef0f2",
        showcountries=True, countrycolor="#c9ced6", showcoastlines=True,
        coastlinecolor="#aab2bd", showocean=True, oceancolor="#f7fbff", showframe=False,
        fitbounds="locations", resolution=110,
    )
    fig = _style(fig, title, 560)
    fig.update_layout(
        legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.0, "xanchor": "left",
                "groupclick": "togglegroup", "font": {"size": 11}},
        margin={"l": 0, "r": 0, "t": 40, "b": 0}, **layout)
    return fig


# ================================================================ where the damage landed =====

#: colours of a change: worse (more patients affected) and better
WORSE, BETTER = "#B42318", "#1A7F37"


def _is_rate(unit: object) -> bool:
    """A rate KPI (a fraction of 0..1): its differences are shown in percentage points."""
    return str(unit) == "fraction"


def kpi_difference_figure(diff: pd.DataFrame, kpis: Sequence[str] | None = None,
                          title_note: str = "") -> go.Figure:
    """Differences (other run − base) with their 95 % CI, one panel per KPI, one dot per run;
    filled dots are significant. Rates are in percentage points (pp) on the axis and in the
    hover, never in % (a change of a percentage is not a percentage of it).

    ``diff``: whatif, kpi, unit, difference, ci95_low, ci95_high, significant (as
    ``services.compare_runs`` returns it); ``kpis`` picks and orders the panels."""
    from plotly.subplots import make_subplots

    title = "Differences against the base run (other − base), 95 % CI" + title_note
    if diff is None or diff.empty:
        return empty_figure(title, "No differences to show.")
    names = [k for k in (kpis or list(dict.fromkeys(diff["kpi"]))) if k in set(diff["kpi"])]
    if not names:
        return empty_figure(title, "No differences to show.")
    runs = list(dict.fromkeys(diff["whatif"]))
    panel, gap = 34 + 30 * len(runs), 64
    height = len(names) * panel + (len(names) - 1) * gap
    units = {k: str(diff.loc[diff["kpi"] == k, "unit"].iloc[0]) if "unit" in diff else ""
             for k in names}
    fig = make_subplots(rows=len(names), cols=1, vertical_spacing=gap / height,
                        subplot_titles=[f"{k} ({'pp' if _is_rate(units[k]) else units[k]})"
                                        if units[k] else k for k in names])
    for row, k in enumerate(names, start=1):
        sub = diff[diff["kpi"] == k].set_index("whatif").reindex(runs).dropna(
            subset=["difference"])
        scale = 100.0 if _is_rate(units[k]) else 1.0
        unit = "pp" if _is_rate(units[k]) else units[k]
        mean = sub["difference"].astype(float) * scale
        low = sub["ci95_low"].astype(float) * scale
        high = sub["ci95_high"].astype(float) * scale
        sig = sub["significant"].fillna(False).astype(bool).tolist()
        hover = [f"<b>{_esc(r)}</b> − base: {_esc(k)}<br>difference {m:+,.2f} {unit}"
                 + (f"<br>95 % CI {lo:+,.2f} to {hi:+,.2f} {unit}"
                    if math.isfinite(lo) and math.isfinite(hi) else "<br>no interval")
                 + f"<br>{'significant' if s else 'not significant'} at 5 %"
                 for r, m, lo, hi, s in zip(sub.index, mean, low, high, sig, strict=True)]
        fig.add_trace(go.Scatter(
            x=mean, y=[_esc(r) for r in sub.index], mode="markers", name=k, showlegend=False,
            marker={"size": 11, "color": ["#0072B2" if s else "white" for s in sig],
                    "line": {"color": "#0072B2", "width": 2}},
            error_x={"type": "data", "symmetric": False,
                     "array": (high - mean).where(high.notna(), 0).tolist(),
                     "arrayminus": (mean - low).where(low.notna(), 0).tolist(),
                     "color": "#0072B2", "thickness": 2, "width": 6},
            hovertext=hover, hoverinfo="text"), row=row, col=1)
        fig.add_vline(x=0, line={"color": "#888", "dash": "dot", "width": 1}, row=row, col=1)
        if _is_rate(units[k]):
            fig.update_xaxes(tickformat="+.1f", ticksuffix=" pp", row=row, col=1)
        fig.update_yaxes(autorange="reversed", row=row, col=1)
    fig = _style(fig, title, height + 120)
    fig.update_annotations(font={"size": 13})
    return fig


def _group_label(row: Mapping[str, object], keys: Sequence[str]) -> str:
    return " / ".join(str(row[k]) for k in keys)


def breakdown_figure(table: pd.DataFrame, keys: Sequence[str], dimension: str,
                     top: int = 15, title_note: str = "") -> go.Figure:
    """Where the damage landed: one horizontal bar per group (``keys`` columns of a
    :func:`supplytwin.experiment.breakdown.breakdown` table), the change in patients affected
    with its 95 % CI, the ``top`` groups in the table's order (most additional patients
    first, at the top); red where it got worse, green where it got better. The hover adds the
    fill-rate change in percentage points."""
    title = f"Where the damage landed: change in patients affected by {dimension}" + title_note
    if table is None or table.empty:
        return empty_figure(title, "No service by customer in these runs.")
    t = table.head(top)
    patients = t["patients_affected_difference"].astype(float)
    by_units = patients.isna().all()
    value = t["unfilled_units_difference"].astype(float) if by_units else patients
    labels = [_esc(_group_label(r, keys)) for r in t.to_dict("records")]
    if by_units:
        plus = minus = None
    else:
        plus = (t["ci95_high"].astype(float) - value).where(t["ci95_high"].notna(), 0).tolist()
        minus = (value - t["ci95_low"].astype(float)).where(t["ci95_low"].notna(), 0).tolist()
    hover = []
    for r, v in zip(t.to_dict("records"), value, strict=True):
        lo, hi = float(r["ci95_low"]), float(r["ci95_high"])
        pp = float(r["fill_rate_difference_pp"])
        hover.append(
            f"<b>{_esc(_group_label(r, keys))}</b><br>"
            + (f"{v:+,.1f} units not shipped at once" if by_units else
               f"{v:+,.1f} patients affected (base {float(r['base_patients_affected']):,.1f})")
            + (f"<br>95 % CI {lo:+,.1f} to {hi:+,.1f}" if not by_units and math.isfinite(lo)
               and math.isfinite(hi) else "")
            + (f"<br>fill rate {pp:+.2f} pp" if math.isfinite(pp) else ""))
    fig = go.Figure(go.Bar(
        x=value, y=labels, orientation="h",
        marker_color=[WORSE if v > 0 else BETTER for v in value],
        error_x=None if plus is None else {"type": "data", "symmetric": False, "array": plus,
                                           "arrayminus": minus, "color": "#444",
                                           "thickness": 1.5, "width": 4},
        hovertext=hover, hoverinfo="text"))
    fig.add_vline(x=0, line={"color": "#888", "width": 1})
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title=("units not shipped at once (other − base, mean per replication)"
                            if by_units else
                            "patients affected (other − base, mean per replication)"))
    shown = f" (top {top} of {len(table)})" if len(table) > top else ""
    return _style(fig, title + shown, 150 + 26 * len(t))


def shade_windows(fig: go.Figure, windows: Sequence[Mapping[str, object]]) -> go.Figure:
    """Shade each disruption window (``start_day``, ``end_day``, ``label``) on every x axis
    of a time chart (days of simulation), behind the data, labelled at the top."""
    axes = sorted({"x" if k == "xaxis" else "x" + k[5:]
                   for k in fig.layout.to_plotly_json() if k.startswith("xaxis")}) or ["x"]
    for i, w in enumerate(windows):
        x0, x1 = float(w["start_day"]), float(w["end_day"])
        if not (math.isfinite(x0) and math.isfinite(x1)) or x1 <= x0:
            continue
        for ax in axes:
            fig.add_shape(type="rect", xref=ax, yref="paper", x0=x0, x1=x1, y0=0, y1=1,
                          fillcolor="#D55E00", opacity=0.10, line_width=0, layer="below",
                          name=f"disruption {w.get('label', '')}")
        fig.add_annotation(x=(x0 + x1) / 2, xref=axes[0], y=1, yref="paper", yanchor="bottom",
                           text=_esc(w.get("label", "disruption")), showarrow=False,
                           font={"size": 10, "color": "#9a3a00"},
                           yshift=2 + 12 * (i % 2))  # alternate heights: close windows
    return fig


#: colours of a results-coloured map: fill rates red (low) to green, counts white to red,
#: differences red (worse) - white - blue (better), for a KPI where more is better
#: (``difference``) or where more is worse (``difference_worse``: patients affected)
RESULT_SCALES = {"rate": "RdYlGn", "count": "Reds", "difference": "RdBu",
                 "difference_worse": "RdBu_r"}


def results_map_figure(sites: pd.DataFrame, lanes: pd.DataFrame, values: pd.DataFrame,
                       metric: str, scale: str = "rate", title: str | None = None,
                       selected: str | None = None) -> go.Figure:
    """The network coloured by a run's results: lanes drawn lightly, every site with a value
    (``values``: site_id, value, text) a marker coloured on a scale with a colour bar, the
    others small grey markers. ``scale``: ``rate`` (0..1, shown as %), ``count`` (from 0),
    ``difference`` or ``difference_worse`` (centred on 0; for rates the values are in pp). Sites carry their id as
    ``customdata`` like the network map, so clicks keep working."""
    title = title or f"Network coloured by {metric}"
    if sites.empty:
        return empty_figure(title, "No site matches the filters.", 520)
    fig = go.Figure()
    lat: list[float | None] = []
    lon: list[float | None] = []
    for r in lanes.itertuples(index=False):
        lat += [r.o_lat, r.d_lat, None]
        lon += [r.o_lon, r.d_lon, None]
    if lat:
        fig.add_trace(go.Scattergeo(lat=lat, lon=lon, mode="lines", name="lanes",
                                    line={"width": 1, "color": "#9aa4b1"}, opacity=0.5,
                                    hoverinfo="skip"))
    v = values.dropna(subset=["value"]) if values is not None and not values.empty else \
        pd.DataFrame(columns=["site_id", "value", "text"])
    v = v[v["site_id"].isin(set(sites["site_id"]))]
    where = sites.set_index("site_id")
    rest = sites[~sites["site_id"].isin(set(v["site_id"]))]
    if len(rest):
        fig.add_trace(go.Scattergeo(
            lat=rest["latitude"], lon=rest["longitude"], mode="markers", name="no value",
            customdata=rest["site_id"].tolist(),
            marker={"size": 6, "color": "#b8bec6", "line": {"width": 0.5, "color": "white"}},
            hovertext=[f"<b>{_esc(r.name)}</b><br>{_esc(r.site_id)}<br>no {_esc(metric)}"
                       for r in rest.itertuples(index=False)], hoverinfo="text"))
    if len(v):
        vals = v["value"].astype(float)
        marker: dict[str, object] = {
            "size": 13, "color": vals.tolist(), "colorscale": RESULT_SCALES.get(scale, "Viridis"),
            "line": {"width": 0.8, "color": "#333"}, "showscale": True,
            "colorbar": {"title": {"text": _esc(metric), "side": "right"}, "thickness": 14,
                         "len": 0.8}}
        if scale == "rate":
            marker.update(cmin=float(min(vals.min(), 0.9)), cmax=1.0)
            marker["colorbar"]["tickformat"] = ".0%"  # type: ignore[index]
        elif scale == "count":
            marker.update(cmin=0.0, cmax=float(max(vals.max(), 1e-9)))
        else:  # centred on no change, symmetric so equal changes get equal colours
            bound = float(max(vals.abs().max(), 1e-9))
            marker.update(cmin=-bound, cmax=bound, cmid=0.0)
        fig.add_trace(go.Scattergeo(
            lat=[where.loc[s, "latitude"] for s in v["site_id"]],
            lon=[where.loc[s, "longitude"] for s in v["site_id"]], mode="markers",
            name=_esc(metric), customdata=v["site_id"].tolist(), marker=marker,
            hovertext=[str(t) for t in v["text"]], hoverinfo="text", showlegend=False))
    if selected is not None and selected in set(sites["site_id"]):
        r = where.loc[selected]
        fig.add_trace(go.Scattergeo(
            lat=[r["latitude"]], lon=[r["longitude"]], mode="markers", name="selected",
            showlegend=False, hoverinfo="skip", customdata=[selected],
            marker={"size": 22, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#111"}},
        ))
    return _map_layout(fig, title, clickmode="event", uirevision="network-map")


# ================================================================ the twin: today's position ==

def position_map_figure(sites: pd.DataFrame, lanes: pd.DataFrame) -> go.Figure:
    """Today's position on the world map: sites by kind (customers small), a ring whose size
    grows with the stock on hand, sites down crossed in red, and lanes with goods on the way as
    lines whose width grows with the units in transit.

    ``sites``: site_id, name, kind, latitude, longitude, on_hand_units, quarantine_units,
    days_of_supply, down. ``lanes``: lane_id, units, mode, o_lat, o_lon, d_lat, d_lon."""
    title = "Today's position: stock on hand (ring size) and goods on the way (line width)"
    if sites.empty:
        return empty_figure(title, "No sites in this scenario.", 560)
    fig = go.Figure()
    largest = float(lanes["units"].max()) if len(lanes) else 0.0
    for r in lanes.itertuples(index=False):
        label, colour = MODE_STYLE.get(r.mode, (str(r.mode).title(), "#444"))
        text = f"<b>{_esc(r.lane_id)}</b><br>{label.lower()}, {r.units:,.0f} units on the way"
        fig.add_trace(go.Scattergeo(
            lat=[r.o_lat, r.d_lat], lon=[r.o_lon, r.d_lon], mode="lines",
            name=f"in transit {r.lane_id}", showlegend=False, opacity=0.6,
            line={"width": flow_width(float(r.units), largest), "color": colour},
            hovertext=[text, text], hoverinfo="text"))

    def hover(r, label):
        dos = ("" if pd.isna(r.days_of_supply) else f"<br>{r.days_of_supply:,.1f} days of supply")
        return (f"<b>{_esc(r.name)}</b><br>{_esc(r.site_id)} · {label.lower()}"
                f"<br>{r.on_hand_units:,.0f} units on hand"
                + (f", {r.quarantine_units:,.0f} in quarantine" if r.quarantine_units else "")
                + dos + ("<br><b>down</b>" if r.down else ""))

    _add_site_markers(fig, sites, "Sites", customer_size=6, hover=hover)
    stocked = sites[sites["on_hand_units"] > 0]
    if len(stocked):
        top = float(stocked["on_hand_units"].max())
        fig.add_trace(go.Scattergeo(
            lat=stocked["latitude"], lon=stocked["longitude"], mode="markers",
            name="stock on hand", hoverinfo="skip",
            marker={"size": [14 + 26 * (v / top) ** 0.5 for v in stocked["on_hand_units"]],
                    "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#2f6fab"}}))
    down = sites[sites["down"].astype(bool)]
    if len(down):
        fig.add_trace(go.Scattergeo(
            lat=down["latitude"], lon=down["longitude"], mode="markers", name="down",
            hoverinfo="skip", marker={"size": 22, "symbol": "x-thin", "color": WORSE,
                                      "line": {"width": 3, "color": WORSE}}))
    return _map_layout(fig, title)


def coverage_figure(by_month: pd.DataFrame, nominal: float, floor: float) -> go.Figure:
    """Monitoring: the share of newer shipments inside the calibrated prediction intervals,
    per month, against the nominal level and the planner's floor."""
    title = "Monitoring: shipments inside the calibrated 90 % intervals, per month"
    if by_month.empty:
        return empty_figure(title, "No monitoring check in this folder.")
    fig = go.Figure(go.Scatter(x=by_month["month"], y=100 * by_month["coverage"],
                               mode="lines+markers", name="coverage",
                               customdata=by_month["n"],
                               hovertemplate="%{x}: %{y:.1f} % of %{customdata} shipments"))
    fig.add_hline(y=100 * nominal, line_dash="dot", annotation_text="nominal")
    fig.add_hline(y=100 * floor, line_dash="dash", line_color=WORSE, annotation_text="floor")
    fig.update_yaxes(title="inside the interval (%)", range=[0, 100])
    return _style(fig, title, 320)


@functools.cache  # once per process: the tests build many apps
def warm_up() -> None:
    """Do once, when the dashboard starts, the work plotly and pandas otherwise do on the
    first chart a user waits for: import the figure classes and validators of the traces
    and layout parts the pages draw with (plotly imports ~200 modules lazily), load the
    template and the JSON encoder, and import the parquet reader. About 0.5 s, measured
    on the first Results page of a fresh server; it draws nothing the user sees."""
    import importlib

    from plotly.subplots import make_subplots

    # pandas imports these on its first read_parquet
    for name in ("pyarrow.parquet", "pyarrow.dataset", "pyarrow.pandas_compat"):
        importlib.import_module(name)

    x = pd.Series([0.0, 1.0])
    fig = make_subplots(rows=2, cols=2)
    fig.add_trace(go.Scatter(x=x, y=x, mode="lines+markers", fill="toself", fillcolor=PALETTE[0],
                             line={"width": 1, "dash": "dash"}, marker={"size": 4},
                             customdata=np.stack([x, x], axis=1), hovertemplate="%{y}",
                             error_x={"type": "data", "array": [0, 0]}), row=1, col=1)
    fig.add_trace(go.Bar(x=["a", "b"], y=x, marker_color=PALETTE[1],
                         error_y={"type": "data", "array": [0, 0]}), row=1, col=2)
    fig.add_vrect(x0=0, x1=1, fillcolor="#888", opacity=0.1, line_width=0, row=2, col=1)
    fig.add_hline(y=0.5, line_dash="dash", row=2, col=1)
    fig.update_xaxes(title="x", tickformat=".0%")
    fig.update_yaxes(rangemode="tozero", autorange="reversed")
    shade_windows(fig, [{"start_day": 0, "end_day": 1, "label": "w"}])
    empty_figure("warm-up", "warm-up").update_layout(barmode="group").to_json()
    _style(fig, "warm-up", 300).to_json()
