"""Plotly figures of an experiment: pure functions from tables (or model objects) to figures.

Every function takes plain tables (``ExperimentResult.kpi_table()``, ``.summary()``,
``.timeseries()``, ``.by_product()``) or model objects and returns a
:class:`plotly.graph_objects.Figure`; none reads or writes a file or touches global state, so
the HTML report and the dashboard draw the same pictures. Text taken from user data (site
names, ids) is HTML-escaped before it goes into hover text, because plotly renders a subset of
HTML in labels.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from supplytwin.experiment.stats import Estimate, t_interval
from supplytwin.model import Mode, SiteKind
from supplytwin.sim.kpis import KPI_DOCS

__all__ = [
    "COST_CATEGORIES", "DIFFERENCE_COLUMNS", "SERVICE_KPIS", "clip_ci", "cost_breakdown_figure",
    "inventory_band_figure", "kpi_ci_figure", "network_map_figure", "normalise_differences",
    "paired_difference_figure", "template_for", "waste_figure",
]

#: KPIs shown by :func:`kpi_ci_figure` unless told otherwise (all fractions).
SERVICE_KPIS: tuple[str, ...] = ("fill_rate", "order_fill_rate", "otif", "cycle_service_level")

#: The cost groups whose sum is ``cost_total_usd`` (supplytwin.model.costs), with their labels.
COST_CATEGORIES: dict[str, str] = {
    "cost_production_usd": "Production",
    "cost_transport_usd": "Transport",
    "cost_handling_usd": "Handling",
    "cost_holding_usd": "Holding",
    "cost_waste_usd": "Waste",
    "cost_penalty_usd": "Penalties (backorders, lost sales)",
    "cost_fixed_sites_usd": "Fixed site costs",
}

#: Columns of a paired-difference table (see :func:`normalise_differences`).
DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "scenario", "kpi", "mean", "ci_low", "ci_high", "n", "significant", "base_mean",
)

TEMPLATE = "plotly_white"
FONT = {"family": "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif", "size": 13}

# Site kinds: colour and marker symbol (colour-blind-safe Okabe-Ito palette).
KIND_STYLE: dict[str, tuple[str, str, str]] = {
    SiteKind.SUPPLIER.value: ("API supplier", "#999999", "triangle-up"),
    SiteKind.EXTERNAL_SUPPLIER.value: ("External supplier", "#F0E442", "triangle-down"),
    SiteKind.DRUG_SUBSTANCE.value: ("Drug-substance plant", "#0072B2", "square"),
    SiteKind.FILL_FINISH.value: ("Fill-finish plant", "#56B4E9", "diamond"),
    SiteKind.PACKAGING.value: ("Packaging site", "#009E73", "pentagon"),
    SiteKind.DISTRIBUTION_CENTRE.value: ("Distribution centre", "#D55E00", "star"),
    SiteKind.WHOLESALER.value: ("Wholesaler", "#CC79A7", "hexagon"),
    SiteKind.CUSTOMER.value: ("Customer", "#E69F00", "circle"),
}
MODE_STYLE: dict[str, tuple[str, str]] = {
    Mode.ROAD.value: ("Road", "#6b6b6b"),
    Mode.RAIL.value: ("Rail", "#8c564b"),
    Mode.SEA.value: ("Sea", "#1f4e9c"),
    Mode.AIR.value: ("Air", "#17becf"),
    Mode.COURIER.value: ("Courier", "#bcbd22"),
}


# ---------------------------------------------------------------------------------- helpers


def _esc(x: object) -> str:
    return html.escape(str(x), quote=False)


def _unit(kpi: str) -> str:
    return KPI_DOCS[kpi][0] if kpi in KPI_DOCS else ""


def _definition(kpi: str) -> str:
    return KPI_DOCS[kpi][1] if kpi in KPI_DOCS else ""


def _finite(x: float) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _fmt(x: float, unit: str) -> str:
    """A number for hover text: fractions as percentages, money with separators."""
    if not _finite(x):
        return "–"
    if unit == "fraction":
        return f"{100 * x:.2f} %"
    if unit == "USD":
        return f"${x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.3g}"


def _fmt_diff(x: float, unit: str) -> str:
    """A difference for hover text: of fractions in percentage points, else as :func:`_fmt`."""
    if unit == "fraction" and _finite(x):
        return f"{100 * x:+.2f} pp"
    return _fmt(x, unit)


def _diff_unit(kpi: str) -> str:
    """The unit of a difference of ``kpi``: percentage points for a fraction."""
    return "percentage points" if _unit(kpi) == "fraction" else _unit(kpi)


@lru_cache(maxsize=64)
def _template(name: str, trace_types: tuple[str, ...]) -> go.layout.Template:
    full = pio.templates[name]
    return go.layout.Template(layout=full.layout,
                              data={t: full.data[t] for t in trace_types if full.data[t]})


def template_for(fig: go.Figure, name: str = TEMPLATE) -> go.layout.Template:
    """The template ``name`` as far as ``fig`` uses it: its whole layout part and its defaults
    for the trace types ``fig`` draws (the defaults of other trace types apply to no trace of
    it). The same look; but plotly copies and validates a figure's template when it is set,
    and the whole of plotly_white (defaults for 24 trace types) took half the time of building
    the Results page's figures and 7 KB of each figure's JSON."""
    return _template(name, tuple(sorted({trace.type for trace in fig.data})))


def _style(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        template=template_for(fig), font=FONT, height=height,
        title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yanchor": "top", "yref": "container",
                   "pad": {"t": 12}, "font": {"size": 16}},
        margin={"l": 10, "r": 10, "t": 80, "b": 40},
        hoverlabel={"align": "left"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"},
    )
    return fig


def clip_ci(ci: tuple[float, float], unit: str) -> tuple[float, float]:
    """A CI cut to the values a KPI can take: never below 0 (every KPI is a count, a cost,
    a duration or a fraction), never above 1 for a fraction. A Student-t interval of a
    skewed, mostly-zero KPI (lost units, penalties) can otherwise reach below zero."""
    lo, hi = ci
    if _finite(lo):
        lo = max(lo, 0.0)
    if _finite(hi) and unit == "fraction":
        hi = min(hi, 1.0)
    return lo, hi


def _ci_arrays(means: Sequence[float], cis: Sequence[tuple[float, float]],
               unit: str | None = None):
    """Error-bar arrays (above, below) from means and CIs, clipped to the KPI's range when
    ``unit`` is given (see :func:`clip_ci`; differences are not clipped). NaN bounds give no
    bar."""
    if unit is not None:
        cis = [clip_ci(c, unit) for c in cis]
    plus = [max(hi - m, 0.0) if _finite(hi) and _finite(m) else 0.0
            for m, (_lo, hi) in zip(means, cis, strict=True)]
    minus = [max(m - lo, 0.0) if _finite(lo) and _finite(m) else 0.0
             for m, (lo, _hi) in zip(means, cis, strict=True)]
    return plus, minus


def _empty(title: str, message: str, height: int = 220) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=_esc(message), x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font={"size": 14, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height)


# ------------------------------------------------------------------------------ KPI summary


def kpi_ci_figure(summary: Mapping[str, Estimate], kpis: Iterable[str] | None = None,
                  title: str = "Service levels: mean and 95 % confidence interval") -> go.Figure:
    """One dot per KPI at its mean across replications, with its 95 % CI as an error bar.

    ``summary`` is ``ExperimentResult.summary()``; ``kpis`` (default: the service fractions
    in :data:`SERVICE_KPIS` that are in the summary) should share one unit, since they share
    an axis. KPIs whose mean is not a number (e.g. no customer orders) are left out. One
    trace; its points are the KPIs, top to bottom in the order given.
    """
    names = [k for k in (kpis if kpis is not None else SERVICE_KPIS) if k in summary]
    names = [k for k in names if _finite(summary[k].mean)]
    if not names:
        return _empty(title, "No KPI with a value in this experiment.")
    units = {_unit(k) for k in names}
    unit = units.pop() if len(units) == 1 else ""
    means = [summary[k].mean for k in names]
    cis = [summary[k].ci95 for k in names]
    plus, minus = _ci_arrays(means, cis, unit)
    hover = [
        f"<b>{_esc(k)}</b><br>mean {_fmt(summary[k].mean, unit)}<br>"
        f"95 % CI {_fmt(clip_ci(summary[k].ci95, unit)[0], unit)} to "
        f"{_fmt(clip_ci(summary[k].ci95, unit)[1], unit)}<br>"
        f"n = {summary[k].n}<br><i>{_esc(_definition(k))}</i>"
        for k in names
    ]
    fig = go.Figure(go.Scatter(
        x=means, y=names, mode="markers", name="mean",
        marker={"size": 11, "color": "#0072B2"},
        error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                     "thickness": 2, "width": 8, "color": "#0072B2"},
        hovertext=hover, hoverinfo="text", showlegend=False,
    ))
    fig.update_yaxes(autorange="reversed", title=None)
    if unit == "fraction":
        fig.update_xaxes(tickformat=".1%", title="mean across replications (95 % CI)")
    else:
        fig.update_xaxes(title=f"mean across replications (95 % CI){', ' + unit if unit else ''}")
    return _style(fig, title, 140 + 45 * len(names))


# ------------------------------------------------------------------------ inventory bands


def inventory_band_figure(timeseries: pd.DataFrame, site_id: str, product_id: str,
                          warmup_days: float = 0.0, low: float = 0.05,
                          high: float = 0.95) -> go.Figure:
    """Stock on hand (top) and backlog (bottom) of one site and product over time.

    For each day, the line is the mean across replications and the shaded band spans the
    ``low``-``high`` quantiles across replications (pandas' linear interpolation). The
    warm-up, excluded from the KPIs, is shaded grey. Four traces: on-hand band, on-hand mean,
    backlog band, backlog mean; each mean has one point per day.
    """
    title = f"Stock on hand and backlog: {_esc(site_id)} / {_esc(product_id)}"
    ts = timeseries
    sel = ts[(ts["site_id"] == site_id) & (ts["product_id"] == product_id)] if len(ts) else ts
    if sel.empty:
        return _empty(title, f"No time series for {site_id} / {product_id}.")
    g = sel.groupby("time_days", sort=True)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.6, 0.4])
    band_label = f"{100 * low:.0f}–{100 * high:.0f} % of replications"
    for row, col, colour, fill in ((1, "on_hand_units", "#0072B2", "rgba(0,114,178,0.18)"),
                                   (2, "backlog_units", "#D55E00", "rgba(213,94,0,0.18)")):
        mean = g[col].mean()
        lo = g[col].quantile(low)
        hi = g[col].quantile(high)
        t = mean.index.to_numpy(dtype=float)
        fig.add_trace(go.Scatter(
            x=np.concatenate([t, t[::-1]]), y=np.concatenate([hi.to_numpy(), lo.to_numpy()[::-1]]),
            fill="toself", fillcolor=fill, line={"width": 0}, mode="lines",
            name=band_label, showlegend=row == 1, hoverinfo="skip",
        ), row=row, col=1)
        fig.add_trace(go.Scatter(
            x=t, y=mean.to_numpy(), mode="lines", line={"color": colour, "width": 2},
            name="mean" if row == 1 else "mean backlog", showlegend=row == 1,
            customdata=np.stack([lo.to_numpy(), hi.to_numpy()], axis=1),
            hovertemplate=("day %{x:.0f}<br>mean %{y:,.1f}<br>"
                           f"{band_label}: " "%{customdata[0]:,.0f} to %{customdata[1]:,.0f}"
                           "<extra></extra>"),
        ), row=row, col=1)
    if warmup_days and warmup_days > 0:
        for row in (1, 2):
            fig.add_vrect(x0=float(t.min()), x1=float(warmup_days), fillcolor="#888",
                          opacity=0.12, line_width=0, layer="below", row=row, col=1)
        fig.add_annotation(x=float(warmup_days), y=1, xref="x", yref="y domain",
                           text="end of warm-up", showarrow=False, xanchor="right",
                           yanchor="top", font={"size": 11, "color": "#555"})
    if not (sel["backlog_units"] > 0).any():
        fig.add_annotation(x=0.5, y=0.5, xref="x2 domain", yref="y2 domain", showarrow=False,
                           text="no backlog in any replication", font={"size": 12, "color": "#555"})
    fig.update_xaxes(title="day of simulation", row=2, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title="on hand (units)", row=1, col=1)
    fig.update_yaxes(title="backlog owed (units)", row=2, col=1)
    return _style(fig, title, 460)


# ------------------------------------------------------------------------- cost and waste


def cost_breakdown_figure(kpi_table: pd.DataFrame) -> go.Figure:
    """Mean cost per category across replications, with 95 % CI error bars.

    ``kpi_table`` is ``ExperimentResult.kpi_table()`` (one row per replication). With a
    ``scenario`` column the bars are grouped by scenario (one trace each); otherwise one trace
    with one bar per category in :data:`COST_CATEGORIES` present in the table.
    """
    title = "Cost per category: mean and 95 % confidence interval (USD)"
    cats = [c for c in COST_CATEGORIES if c in kpi_table.columns]
    if kpi_table.empty or not cats:
        return _empty(title, "No cost KPIs in this experiment.")
    groups = (list(kpi_table.groupby("scenario", sort=False)) if "scenario" in kpi_table.columns
              else [("", kpi_table)])
    fig = go.Figure()
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    for i, (name, tab) in enumerate(groups):
        est = [t_interval(tab[c].to_numpy(dtype=float)) for c in cats]
        means = [e.mean for e in est]
        plus, minus = _ci_arrays(means, [e.ci95 for e in est], "USD")
        hover = [
            f"<b>{COST_CATEGORIES[c]}</b>{(' – ' + _esc(name)) if name else ''}<br>"
            f"mean {_fmt(e.mean, 'USD')}<br>95 % CI {_fmt(clip_ci(e.ci95, 'USD')[0], 'USD')} to "
            f"{_fmt(e.ci95[1], 'USD')}<br>n = {e.n}<br><i>{_esc(_definition(c))}</i>"
            for c, e in zip(cats, est, strict=True)
        ]
        fig.add_trace(go.Bar(
            x=[COST_CATEGORIES[c] for c in cats], y=means, name=_esc(name) or "mean",
            marker_color=palette[i % len(palette)], showlegend=bool(name),
            error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                         "color": "#333", "thickness": 1.5},
            hovertext=hover, hoverinfo="text",
        ))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="USD over the measured period", tickprefix="$", separatethousands=True,
                     rangemode="tozero")
    return _style(fig, title, 420)


def waste_figure(by_product: pd.DataFrame) -> go.Figure:
    """Waste per product, mean across replications with 95 % CI: units expired and units
    destroyed after temperature excursions (left), batches rejected at QC (right).

    ``by_product`` is ``ExperimentResult.by_product()`` (product_id, replication, ...). Three
    traces (expired, excursion loss, QC-rejected), each with one bar per product. QC
    rejections are counted in batches, not units, so they get their own panel.
    """
    title = "Waste per product: mean and 95 % confidence interval"
    if by_product.empty:
        return _empty(title, "No product results in this experiment.")
    products = sorted(by_product["product_id"].astype(str).unique())
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.1)
    spec = (("expired_units", "Expired", "#E69F00", 1),
            ("excursion_loss_units", "Lost after temperature excursion", "#0072B2", 1),
            ("qc_rejected_batches", "Rejected at QC release", "#CC79A7", 2))
    key = by_product["product_id"].astype(str)
    for col, label, colour, panel in spec:
        if col not in by_product.columns:
            continue
        est = [t_interval(by_product.loc[key == p, col].to_numpy(dtype=float)) for p in products]
        means = [e.mean for e in est]
        plus, minus = _ci_arrays(means, [e.ci95 for e in est], "units")
        unit = "batches" if panel == 2 else "units"
        fig.add_trace(go.Bar(
            x=[_esc(p) for p in products], y=means, name=label, marker_color=colour,
            error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                         "color": "#333", "thickness": 1.5},
            hovertext=[f"<b>{_esc(p)}</b>: {label.lower()}<br>mean {_fmt(e.mean, unit)} {unit}"
                       f"<br>95 % CI {_fmt(clip_ci(e.ci95, unit)[0], unit)} to "
                       f"{_fmt(e.ci95[1], unit)}"
                       f"<br>n = {e.n}" for p, e in zip(products, est, strict=True)],
            hoverinfo="text",
        ), row=1, col=panel)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="units written off", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title="batches rejected at QC", rangemode="tozero", row=1, col=2)
    return _style(fig, title, 420)


# ------------------------------------------------------------------------------ network map


def network_map_figure(network) -> go.Figure:
    """Sites on a world map, coloured and shaped by kind; lanes as lines coloured by mode.

    ``network`` is a :class:`supplytwin.model.Network` (``.sites``, ``.lanes``). One
    ``Scattergeo`` trace per lane mode present (lines; lanes between the same two sites
    overlap) and then one per site kind present (markers, drawn on top). Closed sites are
    faded. Hover shows names, ids and, for lanes, mode and mean transit time. The base map
    (land, countries, coastlines) needs plotly's world topojson; the HTML report inlines it so
    the map draws offline.
    """
    sites = network.sites
    fig = go.Figure()
    by_mode: dict[str, list] = {}
    for lane in network.lanes.values():
        o, d = sites.get(lane.origin_id), sites.get(lane.destination_id)
        if o is None or d is None:
            continue
        by_mode.setdefault(lane.mode.value, []).append((lane, o, d))
    for mode in [m for m in MODE_STYLE if m in by_mode] + [m for m in by_mode if m not in MODE_STYLE]:
        label, colour = MODE_STYLE.get(mode, (mode.title(), "#444"))
        lat: list[float | None] = []
        lon: list[float | None] = []
        text: list[str | None] = []
        for lane, o, d in by_mode[mode]:
            try:
                transit = f"{lane.transit_time_days.mean:.1f} days mean transit"
            except Exception:  # noqa: BLE001 - a distribution without a mean still draws
                transit = ""
            t = (f"<b>{_esc(lane.lane_id)}</b> ({label.lower()})<br>{_esc(o.name or o.site_id)}"
                 f"<br>→ {_esc(d.name or d.site_id)}<br>{transit}")
            lat += [o.latitude, d.latitude, None]
            lon += [o.longitude, d.longitude, None]
            text += [t, t, None]
        fig.add_trace(go.Scattergeo(
            lat=lat, lon=lon, mode="lines", name=f"{label} lane", legendgroup="lanes",
            legendgrouptitle_text="Lanes",
            line={"width": 1.3, "color": colour}, opacity=0.55, hovertext=text, hoverinfo="text",
        ))
    kinds: dict[str, list] = {}
    for s in sites.values():
        kinds.setdefault(s.kind.value, []).append(s)
    for kind in [k for k in KIND_STYLE if k in kinds] + [k for k in kinds if k not in KIND_STYLE]:
        label, colour, symbol = KIND_STYLE.get(kind, (kind, "#444", "circle"))
        rows = kinds[kind]
        fig.add_trace(go.Scattergeo(
            lat=[s.latitude for s in rows], lon=[s.longitude for s in rows], mode="markers",
            name=label, legendgroup="sites", legendgrouptitle_text="Sites",
            marker={"size": 11 if kind != SiteKind.CUSTOMER.value else 7, "color": colour,
                        "symbol": symbol, "line": {"width": 0.8, "color": "white"},
                        "opacity": [1.0 if s.is_open else 0.35 for s in rows]},
            hovertext=[f"<b>{_esc(s.name or s.site_id)}</b><br>{_esc(s.site_id)} · {label.lower()}"
                       f"{' · ' + _esc(s.region) if s.region else ''}"
                       f"{'' if s.is_open else '<br><i>closed in this scenario</i>'}"
                       for s in rows],
            hoverinfo="text",
        ))
    fig.update_geos(
        projection_type="natural earth", showland=True, landcolor="#eef0f2",
        showcountries=True, countrycolor="#c9ced6", showcoastlines=True, coastlinecolor="#aab2bd",
        showocean=True, oceancolor="#f7fbff", showlakes=False, showframe=False,
        fitbounds="locations", resolution=110,
    )
    fig = _style(fig, "Network: sites by kind, lanes by mode", 560)
    fig.update_layout(legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.0, "xanchor": "left",
                                  "groupclick": "toggleitem"},
                      margin={"l": 0, "r": 0, "t": 50, "b": 0})
    return fig


# ------------------------------------------------------------------------- paired differences


def normalise_differences(diff_table: pd.DataFrame) -> pd.DataFrame:
    """The table of :data:`DIFFERENCE_COLUMNS` from a paired-difference table.

    One row per what-if scenario and KPI with the mean of (what-if − base) over paired
    replications and its CI. Accepted spellings: ``scenario`` or ``whatif``; ``mean``,
    ``difference`` or ``diff_mean``; ``ci_low``/``ci_high``, ``ci95_low``/``ci95_high`` or a
    ``ci95`` column of (low, high) pairs (``experiment.recorded.differences_table`` output fits).
    ``n``, ``significant`` (default: the CI excludes 0) and ``base_mean`` are optional. A
    what-if name that repeats (two what-ifs of the same name) becomes "name (2)", "name (3)"...
    """
    d = diff_table.copy()
    if "scenario" not in d.columns:
        d["scenario"] = d["whatif"] if "whatif" in d.columns else ""
    for alias in ("difference", "diff_mean"):
        if "mean" not in d.columns and alias in d.columns:
            d["mean"] = d[alias]
    if "ci_low" not in d.columns and "ci95_low" in d.columns:
        d["ci_low"], d["ci_high"] = d["ci95_low"], d["ci95_high"]
    if "ci_low" not in d.columns and "ci95" in d.columns:
        d["ci_low"] = [c[0] if c is not None else float("nan") for c in d["ci95"]]
        d["ci_high"] = [c[1] if c is not None else float("nan") for c in d["ci95"]]
    for c in ("mean", "ci_low", "ci_high", "base_mean"):
        d[c] = pd.to_numeric(d[c], errors="coerce") if c in d.columns else float("nan")
    if "n" not in d.columns:
        d["n"] = pd.NA
    if "significant" not in d.columns:
        d["significant"] = (d["ci_low"] > 0) | (d["ci_high"] < 0)
    d["significant"] = d["significant"].fillna(False).astype(bool)
    d["scenario"] = d["scenario"].astype(str)
    d["kpi"] = d["kpi"].astype(str)
    # two what-ifs of the same name: the second becomes "name (2)", as in the report's labels
    rep = d.groupby(["scenario", "kpi"], sort=False).cumcount()
    d["scenario"] = [s if r == 0 else f"{s} ({r + 1})" for s, r in zip(d["scenario"], rep,
                                                                      strict=True)]
    return d[list(DIFFERENCE_COLUMNS)].reset_index(drop=True)


def paired_difference_figure(diff_table: pd.DataFrame, kpis: Iterable[str] | None = None) -> go.Figure:
    """Paired differences (what-if − base) with their 95 % CI, one panel per KPI.

    Each KPI has its own panel and axis (units differ); in a panel each what-if scenario is a
    dot with its CI as an error bar and a vertical line marks zero (no difference). Filled
    dots are significant (CI excludes zero), hollow ones are not. One trace per KPI, one point
    per scenario. ``diff_table``: see :func:`normalise_differences`; ``kpis`` picks and orders
    the panels (default: every KPI in the table, in table order).
    """
    title = "Paired differences against the base scenario (what-if − base), 95 % CI"
    d = normalise_differences(diff_table)
    names = list(dict.fromkeys(d["kpi"])) if kpis is None else [k for k in kpis if k in set(d["kpi"])]
    if not names:
        return _empty(title, "No differences to show.")
    scenarios = list(dict.fromkeys(d["scenario"]))
    panel, gap = 34 + 30 * len(scenarios), 64  # pixels
    plot_height = len(names) * panel + (len(names) - 1) * gap
    fig = make_subplots(rows=len(names), cols=1, vertical_spacing=gap / plot_height,
                        subplot_titles=[f"{k} ({_diff_unit(k)})" if _unit(k) else k
                                        for k in names])
    for row, k in enumerate(names, start=1):
        sub = d[d["kpi"] == k].set_index("scenario").reindex(scenarios).dropna(subset=["mean"])
        unit = _unit(k)
        # a difference of rates is drawn in percentage points (pp), never in %
        scale = 100.0 if unit == "fraction" else 1.0
        means = [scale * m for m in sub["mean"]]
        plus, minus = _ci_arrays(means, [(scale * lo, scale * hi) for lo, hi in
                                         zip(sub["ci_low"], sub["ci_high"], strict=True)])
        sig = sub["significant"].astype(bool).tolist()
        colour = "#0072B2"
        hover = []
        for s, r in sub.iterrows():
            rel = (f"<br>{100 * r['mean'] / r['base_mean']:+.1f} % of base mean"
                   if _finite(r["base_mean"]) and r["base_mean"] != 0 else "")
            hover.append(
                f"<b>{_esc(s)}</b> − base: {_esc(k)}<br>difference {_fmt_diff(r['mean'], unit)}"
                f"<br>95 % CI {_fmt_diff(r['ci_low'], unit)} to "
                f"{_fmt_diff(r['ci_high'], unit)}{rel}"
                f"<br>{'significant' if r['significant'] else 'not significant'} at 5 %"
                + (f"<br>n = {r['n']}" if not pd.isna(r["n"]) else ""))
        fig.add_trace(go.Scatter(
            x=means, y=[_esc(s) for s in sub.index], mode="markers", name=k, showlegend=False,
            marker={"size": 11, "color": [colour if s else "white" for s in sig],
                        "line": {"color": colour, "width": 2}, "symbol": "circle"},
            error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                         "color": colour, "thickness": 2, "width": 6},
            hovertext=hover, hoverinfo="text",
        ), row=row, col=1)
        fig.add_vline(x=0, line={"color": "#888", "dash": "dot", "width": 1}, row=row, col=1)
        if unit == "fraction":
            fig.update_xaxes(tickformat="+.1f", ticksuffix=" pp", row=row, col=1)
        fig.update_yaxes(autorange="reversed", row=row, col=1)
    fig = _style(fig, title, plot_height + 120)
    fig.update_annotations(font={"size": 13})  # the panel titles
    return fig
