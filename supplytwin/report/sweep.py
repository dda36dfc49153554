"""The figure of a sweep: a KPI against the first factor, one line per combination of the
others, with 95 % confidence bands."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from supplytwin.sim.kpis import KPI_DOCS


def _numeric(values: pd.Series) -> pd.Series | None:
    out = pd.to_numeric(values, errors="coerce")
    return None if out.isna().any() else out


def sweep_figure(table: pd.DataFrame, kpi: str, factors: list[str]) -> go.Figure:
    data = table[table["kpi"] == kpi].copy()
    x_factor, others = factors[0], factors[1:]
    x_num = _numeric(data[x_factor])
    data["_x"] = x_num if x_num is not None else data[x_factor]
    fig = go.Figure()
    groups = data.groupby(others, sort=True) if others else [((), data)]
    for key, g in groups:
        g = g.sort_values("_x")
        name = ", ".join(f"{f.split('.')[-1]}={v}" for f, v in
                         zip(others, key if isinstance(key, tuple) else (key,), strict=False)) or kpi
        x = g["_x"].tolist()
        fig.add_trace(go.Scatter(x=x + x[::-1],
                                 y=g["ci95_high"].tolist() + g["ci95_low"].tolist()[::-1],
                                 fill="toself", line={"width": 0}, opacity=0.2,
                                 name=f"{name} (95 % CI)", hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=g["mean"], mode="lines+markers", name=name))
    unit = KPI_DOCS[kpi][0]
    fig.update_layout(title=f"{kpi} against {x_factor.split('.')[-1]} (mean and 95 % CI)",
                      xaxis_title=x_factor, template="plotly_white",
                      yaxis_title=f"{kpi} (%)" if unit == "fraction" else f"{kpi} ({unit})")
    if unit == "fraction":
        # a rate as a percentage; the distance between two points is in percentage points
        fig.update_yaxes(tickformat=".1%", hoverformat=".2%")
    return fig
