"""The HTML report of a stress battery: one self-contained file (plotly.js inline).

Sections: verdict (thresholds breached, failed what-ifs), heat map of targets x disruption
durations coloured by fill rate during the disruption, time to survive against time to
recover (nodes under the diagonal are the risk zone), the ranked node-risk table with the
simulated time to first stockout beside the LP's TTS, the what-if table, replications spent,
and the lineage. Every user-given text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from supplytwin.report.html import (
    _e,
    _Figures,
    _footer,
    _hash_table,
    _header,
    _page,
    _section,
    _toc,
)


def _num(x: Any, digits: int = 1, pct: bool = False) -> str:
    if x is None or x == "":
        return "–"
    if x == "inf":
        return "∞"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞"
    if pct:
        return f"{100 * v:.{digits}f} %"
    return f"{v:,.{digits}f}"


def heatmap_figure(whatifs: list[dict]) -> go.Figure:
    """Targets x durations, coloured by the fill rate while the disruption lasts."""
    rows = [w for w in whatifs if w.get("status") == "ok"]
    targets = sorted({w["target"] for w in rows})
    durations = sorted({float(w["duration_days"]) for w in rows})
    z = [[None] * len(durations) for _ in targets]
    text = [[""] * len(durations) for _ in targets]
    for w in rows:
        i, j = targets.index(w["target"]), durations.index(float(w["duration_days"]))
        v = w.get("fill_rate_during")
        z[i][j] = None if v is None else 100 * v
        text[i][j] = f"{w['whatif']}<br>fill rate during: {_num(v, 1, True)}"
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{d:g} d" for d in durations], y=targets, text=text, hoverinfo="text",
        colorscale="RdYlGn", zmin=50, zmax=100, colorbar={"title": "fill rate<br>during (%)"}))
    fig.update_layout(title="Fill rate during each disruption (target x duration)",
                      height=max(300, 22 * len(targets) + 120), margin={"l": 180})
    return fig


def tts_ttr_figure(risks: list[dict]) -> go.Figure:
    """TTS against TTR; below the diagonal (TTS < TTR) is the risk zone."""
    pts = [r for r in risks if r.get("ttr_days") is not None]
    if not pts:
        fig = go.Figure()
        fig.update_layout(title="No node has a time to recover: give time_to_recover_days")
        return fig
    finite = [float(r["tts_days"]) for r in pts if r["tts_days"] != "inf"]
    top = max([*finite, *(float(r["ttr_days"]) for r in pts)], default=10.0) * 1.2 + 1
    xs = [float(r["ttr_days"]) for r in pts]
    ys = [top if r["tts_days"] == "inf" else float(r["tts_days"]) for r in pts]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top, top], y=[0, top, 0], fill="toself",
                             fillcolor="rgba(220,50,47,0.12)", line={"width": 0},
                             name="risk zone (TTS < TTR)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="TTS = TTR",
                             line={"dash": "dash", "color": "#666"}))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=[r["node"] for r in pts],
        textposition="top center", name="nodes",
        marker={"size": 10, "color": ["#d62728" if r["at_risk"] else "#2ca02c" for r in pts]},
        hovertext=[f"{r['node']}: TTS {_num(r['tts_days'])} d, TTR {_num(r['ttr_days'])} d, "
                   f"patients at risk {_num(r['patients_at_risk'], 0)}" for r in pts],
        hoverinfo="text"))
    fig.update_layout(title="Time to survive (LP) against time to recover (∞ drawn at the top)",
                      xaxis={"title": "time to recover (days)", "range": [0, top]},
                      yaxis={"title": "time to survive (days)", "range": [0, top * 1.05]},
                      height=480)
    return fig


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="kpis"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_stress_report(summary: Mapping[str, Any]) -> str:
    fig = _Figures()
    h = summary["headline"]
    s = summary["settings"]
    breaches = summary["breaches"]
    failed = summary["failed"]
    verdict = ("<p><b>All thresholds hold.</b></p>" if not breaches and not failed else "")
    if breaches:
        verdict += "<p><b>Thresholds breached:</b></p>" + _table(
            ["what-if", "KPI", "mean", "threshold"],
            [[_e(b["whatif"]), _e(b["kpi"]), _num(b["mean"], 4), _num(b["threshold"], 4)]
             for b in breaches])
    if failed:
        verdict += "<p><b>What-ifs that failed to run:</b></p>" + _table(
            ["what-if", "error"], [[_e(f["whatif"]), _e(f["error"])] for f in failed])
    risks = summary["node_risks"]
    risk_rows = [[str(r["rank"]), _e(r["node"]), _e(r["kind"]), _num(r["tts_days"]),
                  _num(r["ttr_days"]), "yes" if r["at_risk"] else "",
                  _num(r["patients_at_risk"], 0),
                  _num(r["simulated_time_to_first_stockout_days"]),
                  _num(r["simulated_patients_affected_diff"], 0), _e(r["why_they_differ"])]
                 for r in risks]
    wi_rows = []
    for w in summary["whatifs"]:
        wi_rows.append([_e(w["whatif"]), str(w["n"]), _e(w["status"]),
                        _num(w.get("fill_rate"), 2, True), _num(w.get("fill_rate_during"), 2, True),
                        _num(w.get("fill_rate_after"), 2, True),
                        (f'{_num(w.get("fill_rate_diff"), 2, True)} '
                        f'[{_num(w.get("fill_rate_diff_ci95_low"), 2, True)}, '
                        f'{_num(w.get("fill_rate_diff_ci95_high"), 2, True)}]'),
                        _num(w.get("lost_units"), 0), _num(w.get("backordered_units"), 0),
                        _num(w.get("patients_affected_diff"), 0),
                        _num(w.get("peak_backlog_units"), 0),
                        _num(w.get("cost_total_usd_diff"), 0),
                        _num(w.get("expired_units_diff"), 0),
                        _num(w.get("excursion_loss_units_diff"), 0),
                        _num(w.get("time_to_first_stockout_days")),
                        _num(w.get("time_to_recover_days"))])
    a = summary["adaptive"]
    lin = summary["lineage"]
    lineage = _table(["", ""], [[_e(k), _e(v)] for k, v in [
        ("battery file", summary["battery_file"]), ("run id", summary.get("run_id") or "–"),
        ("base scenario", summary["base_scenario"]), ("supplytwin", lin["supplytwin_version"]),
        ("root seed", lin["seed"]), ("executor", lin["executor"]),
        ("horizon (days)", lin["horizon_days"]), ("warm-up (days)", lin["warmup_days"]),
        ("replications per what-if (max)", s["replications"]),
        ("allocation", a["procedure"])]]) + _hash_table(lin.get("file_sha256") or {})
    body = _header(
        "Stress battery", summary["battery"], "",
        f"{h['whatifs']} what-ifs · {h['failed']} failed · {h['breaches']} breach threshold · "
        f"{h['nodes_at_risk']} nodes with TTS &lt; TTR · {a['replications_used']} replications",
        _toc([("verdict", "Verdict"), ("heatmap", "Heat map"), ("tts", "TTS vs TTR"),
              ("risks", "Node risks"), ("whatifs", "What-ifs"), ("reps", "Replications"),
              ("lineage", "Lineage")]))
    body += _section("verdict", "Verdict", "a what-if breaches a threshold when its mean over "
                     "replications is below the value (--fail-under).", verdict)
    body += _section("heatmap", "Fill rate by target and duration", "each cell is one what-if; "
                     "red cells lose the most service while the disruption lasts.",
                     fig(heatmap_figure(summary["whatifs"])))
    body += _section("tts", "Time to survive against time to recover", "each point is a node; "
                     "below the diagonal the network runs out before the node is back.",
                     fig(tts_ttr_figure(risks)))
    body += _section("risks", "Ranked node risks", "TTS from the LP (from the base's stock at "
                     "the disruption start); simulated first stockout of the node's longest "
                     "outage in the battery; patients at risk from the TTR LP.",
                     _table(["rank", "node", "kind", "TTS (d)", "TTR (d)", "at risk",
                             "patients at risk", "sim. first stockout (d)",
                             "sim. patients affected vs base", "LP vs simulation"], risk_rows))
    body += _section("whatifs", "Every what-if", "means over replications; differences are "
                     "paired with the base over common random numbers, with 95 % CIs.",
                     _table(["what-if", "n", "status", "fill rate", "during", "after",
                             "fill rate vs base [95 % CI]", "lost", "backordered",
                             "patients vs base", "peak backlog", "extra cost (USD)",
                             "extra expired", "extra excursion losses",
                             "first stockout (d)", "time to recover (d)"], wi_rows))
    body += _section("reps", "Replications spent", "with --adaptive, replications go only "
                     "where a threshold or a top-N place is still open; the uniform "
                     "equivalent gives every what-if the largest count any of them needed.",
                     _table(["procedure", "rounds", "replications used", "uniform equivalent"],
                            [[_e(a["procedure"]), str(a["rounds"]), str(a["replications_used"]),
                              str(a["uniform_equivalent"])]]))
    body += _section("lineage", "Lineage", "what is needed to reproduce these numbers.", lineage)
    body += _footer()
    return _page(f"Stress battery {summary['battery']}", body, "")
