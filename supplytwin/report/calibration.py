"""Self-contained HTML reports of calibrations, backtests and monitoring checks.

Same page shell as the experiment reports (:mod:`supplytwin.report.html`): one file, plotly.js
inline, every user string escaped. Figures:

- fitted against empirical quantiles per mode (a Q-Q plot: points on the diagonal mean the
  fitted law reproduces the history; a bend in the tail is where it does not);
- for a backtest, predicted against observed quantiles of the later period and the coverage of
  the prediction intervals against their nominal level;
- for monitoring, coverage per lane and per month against the nominal level and the floor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from supplytwin.calibrate.lanes import LaneFit
from supplytwin.report.html import _e, _Figures, _page, _section

_FLOAT_COLS = {"aic", "aic_margin_next", "ks_statistic", "gof_p_value"}


def _cell(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        if abs(v) < 1 and v != 0:
            return f"{v:.3g}"
        return f"{v:,.1f}"
    return _e(v)


def table_html(df: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    cols = list(columns or df.columns)
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r[c])}</td>" for c in cols) + "</tr>"
                   for _, r in df.iterrows())
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _style(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig


def qq_figure(fits: Sequence[LaneFit], samples: dict[str, np.ndarray]) -> go.Figure:
    """Fitted against empirical transit-time quantiles, one trace per fitted mode."""
    fig = go.Figure()
    probs = np.linspace(0.02, 0.98, 49)
    top = 0.0
    for f in fits:
        x = samples.get(f.lane_id)
        if f.best is None or x is None or not len(x):
            continue
        emp = np.quantile(x, probs)
        fitted = f.best.frozen().ppf(probs)
        top = max(top, float(emp.max()), float(fitted.max()))
        fig.add_scatter(x=fitted, y=emp, mode="markers", name=f"{f.mode_label}: {f.best.text}")
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="perfect fit",
                    line={"dash": "dot", "color": "grey"})
    fig.update_xaxes(title="fitted quantile (days)")
    fig.update_yaxes(title="observed quantile (days)")
    return _style(fig, "Transit time: fitted against observed quantiles (2nd to 98th percentile)")


def calibration_report(params: pd.DataFrame, fits: Sequence[LaneFit],
                       samples: dict[str, np.ndarray], cleaning: dict, provenance: dict) -> str:
    fig = _Figures()
    drops = "".join(f"<li>{_e(k)}: {v:,} rows (e.g. {_e(', '.join(cleaning['examples'].get(k, [])))})</li>"
                    for k, v in cleaning["dropped"].items())
    facts = (f"<p>Source <code>{_e(cleaning['source'])}</code> (sha256 "
             f"<code>{_e(cleaning['sha256'][:16])}…</code>), period {_e(provenance.get('period'))}: "
             f"{cleaning['rows_read']:,} rows read, {cleaning['rows_kept']:,} used.</p>"
             f"<ul>{drops}</ul>")
    cols = ["level", "lane_id", "n", "status", "transit_time_days", "aic_margin_next",
            "gof_p_value", "observed_p50_days", "fitted_p50_days", "interval_low_days",
            "interval_high_days", "on_time_rate", "on_time_ci_low", "on_time_ci_high",
            "late_delay_days"]
    modes = [f for f in fits if f.level == "mode"]
    body = [
        "<header><h1>Lane calibration</h1></header>",
        _section("data", "Data", "what was read and every row that could not be used.", facts),
        _section("qq", "Fit by mode", "points on the dotted diagonal mean the fitted law matches "
                 "the history at that quantile; points above it in the tail mean the history has "
                 "longer delays than the fit.", fig(qq_figure(modes, samples))),
        _section("table", "Fitted parameters", "transit_time_days is what a scenario writes; "
                 "gof_p_value is the parametric-bootstrap Kolmogorov-Smirnov p-value of the chosen "
                 "family (small = the family does not describe the data well); aic_margin_next is "
                 "how much better the chosen family is than the runner-up (< 2: about as good); "
                 "the interval is the central 90 % prediction interval of one shipment.",
                 table_html(params, cols)),
    ]
    return _page("supplytwin lane calibration", "\n".join(body), "")


def demand_report(table: pd.DataFrame, cleaning: dict) -> str:
    body = ["<header><h1>Demand calibration</h1></header>",
            _section("demand", "Streams", "chosen is the count model with the smaller AIC; "
                     "overdispersion_p_value tests Poisson against negative binomial; the "
                     "seasonality is kept when its likelihood-ratio p-value is below 5 %.",
                     table_html(table)),
            f"<p>{cleaning['rows_kept']:,} of {cleaning['rows_read']:,} order rows used.</p>"]
    return _page("supplytwin demand calibration", "\n".join(body), "")


def backtest_report(summary: dict, groups: pd.DataFrame) -> str:
    fig = _Figures()
    scored = groups[groups["scored"]]
    sc = go.Figure()
    for q in ("p10", "p50", "p90"):
        sc.add_scatter(x=scored[f"predicted_{q}"], y=scored[f"observed_{q}"], mode="markers",
                       name=q, text=scored["lane_id"])
    top = float(np.nanmax(scored[[c for c in scored if c.startswith(("predicted_p",
                                                                       "observed_p"))]].to_numpy()))
    sc.add_scatter(x=[0, top], y=[0, top], mode="lines", name="perfect prediction",
                   line={"dash": "dot", "color": "grey"})
    sc.update_xaxes(title="predicted (days)")
    sc.update_yaxes(title="observed in the later period (days)")
    cov = go.Figure(go.Bar(x=scored["lane_id"], y=100 * scored["coverage"], name="coverage"))
    cov.add_hline(y=100 * summary["interval_level"], line_dash="dot",
                  annotation_text="nominal")
    cov.update_yaxes(title="later shipments inside the 90 % interval (%)", range=[0, 100])
    facts = "".join(f"<li>{_e(k)}: {_cell(v) if isinstance(v, float) else _e(v)}</li>"
                    for k, v in summary.items())
    body = ["<header><h1>Backtest</h1></header>",
            _section("summary", "Summary", "the twin was calibrated on shipments before the "
                     "split date and predicted the later ones.", f"<ul>{facts}</ul>"),
            _section("quantiles", "Transit-time quantiles", "points on the diagonal were "
                     "predicted exactly.", fig(_style(sc, "Predicted against observed quantiles"))),
            _section("coverage", "Interval coverage", "a well-calibrated twin puts about 90 % of "
                     "later shipments inside its 90 % interval.",
                     fig(_style(cov, "Coverage of the prediction intervals"))),
            _section("groups", "Per mode and lane", "", table_html(groups[groups["scored"]]))]
    return _page("supplytwin backtest", "\n".join(body), "")


def monitor_report(summary: dict, by_group: pd.DataFrame, by_month: pd.DataFrame) -> str:
    fig = _Figures()
    line = go.Figure(go.Scatter(x=by_month["month"], y=100 * by_month["coverage"],
                                mode="lines+markers", name="coverage", text=by_month["n"]))
    line.add_hline(y=100 * summary["nominal_coverage"], line_dash="dot", annotation_text="nominal")
    line.add_hline(y=100 * summary["min_coverage"], line_dash="dash", line_color="red",
                   annotation_text="floor")
    line.update_yaxes(title="shipments inside the interval (%)", range=[0, 100])
    facts = "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in summary.items())
    body = ["<header><h1>Monitoring</h1></header>",
            _section("summary", "Summary", "drifting lanes have coverage below the floor and a "
                     "binomial test that rejects the nominal coverage.", f"<ul>{facts}</ul>"),
            _section("time", "Coverage over time", "", fig(_style(line, "Coverage per month"))),
            _section("groups", "Per lane and mode", "", table_html(by_group))]
    return _page("supplytwin monitoring", "\n".join(body), "")
