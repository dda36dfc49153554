"""The dashboard's "where the damage landed" figures on small hand-made tables: rate
differences in percentage points, the breakdown bars in the table's order, disruption windows
shaded on every time axis, and the results-coloured map."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from dashboard import figures

pytestmark = pytest.mark.unit


def _diff() -> pd.DataFrame:
    return pd.DataFrame([
        {"whatif": "hurricane", "kpi": "fill_rate", "unit": "fraction", "difference": -0.0475,
         "ci95_low": -0.06, "ci95_high": -0.035, "significant": True},
        {"whatif": "hurricane", "kpi": "lost_units", "unit": "units", "difference": 120.0,
         "ci95_low": 80.0, "ci95_high": 160.0, "significant": True},
    ])


def test_rate_differences_are_percentage_points():
    fig = figures.kpi_difference_figure(_diff())
    rate, units = fig.data
    assert rate.x[0] == pytest.approx(-4.75)  # -0.0475 as a fraction = -4.75 pp
    assert rate.error_x.arrayminus[0] == pytest.approx(6.0 - 4.75)
    assert fig.layout.xaxis.ticksuffix == " pp" and "%" not in fig.layout.xaxis.tickformat
    assert "-4.75 pp" in rate.hovertext[0]
    assert units.x[0] == pytest.approx(120.0) and not fig.layout.xaxis2.ticksuffix
    titles = [a.text for a in fig.layout.annotations]
    assert "fill_rate (pp)" in titles and "lost_units (units)" in titles


def _breakdown() -> pd.DataFrame:
    return pd.DataFrame([
        {"site_id": "DC1", "product_id": "P", "patients_affected_difference": 60.0,
         "ci95_low": 30.0, "ci95_high": 90.0, "unfilled_units_difference": 30.0,
         "fill_rate_difference_pp": -32.1, "base_patients_affected": 30.0},
        {"site_id": "DC2", "product_id": "P", "patients_affected_difference": -5.0,
         "ci95_low": -9.0, "ci95_high": -1.0, "unfilled_units_difference": -2.5,
         "fill_rate_difference_pp": 5.0, "base_patients_affected": 5.0},
    ])


def test_breakdown_bars_keep_the_order_and_colour_worse_red():
    fig = figures.breakdown_figure(_breakdown(), ["site_id", "product_id"], "stock point")
    bar = fig.data[0]
    assert list(bar.y) == ["DC1 / P", "DC2 / P"]
    assert list(bar.x) == [60.0, -5.0]
    assert list(bar.marker.color) == [figures.WORSE, figures.BETTER]
    assert list(bar.error_x.array) == [30.0, 4.0]
    assert "-32.10 pp" in bar.hovertext[0]
    assert fig.layout.yaxis.autorange == "reversed"  # the largest increase on top
    top1 = figures.breakdown_figure(_breakdown(), ["site_id", "product_id"], "site", top=1)
    assert len(top1.data[0].y) == 1 and "top 1 of 2" in top1.layout.title.text


def test_breakdown_without_patient_counts_shows_units():
    t = _breakdown().assign(patients_affected_difference=float("nan"))
    fig = figures.breakdown_figure(t, ["site_id"], "site")
    assert list(fig.data[0].x) == [30.0, -2.5]
    assert "units not shipped" in fig.layout.xaxis.title.text


def test_windows_shaded_on_every_axis_of_a_subplot_figure():
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True)
    fig.add_trace(go.Scatter(x=[0, 100], y=[1, 2]), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, 100], y=[1, 2]), row=2, col=1)
    figures.shade_windows(fig, [{"start_day": 10, "end_day": 40, "label": "hurricane"},
                                {"start_day": 50, "end_day": 50, "label": "empty"}])
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert sorted(s.xref for s in rects) == ["x", "x2"]
    assert all((s.x0, s.x1) == (10, 40) for s in rects)
    assert [a.text for a in fig.layout.annotations] == ["hurricane"]


def test_results_map_colours_sites_with_values_only():
    sites = pd.DataFrame([
        {"site_id": s, "name": s, "kind": k, "latitude": 50.0 + i, "longitude": 5.0 + i}
        for i, (s, k) in enumerate([("DC1", "distribution_center"), ("C1", "customer"),
                                    ("C2", "customer")])])
    lanes = pd.DataFrame([{"o_lat": 50.0, "o_lon": 5.0, "d_lat": 51.0, "d_lon": 6.0}])
    values = pd.DataFrame([{"site_id": "C1", "value": 0.8, "text": "C1 80 %"},
                           {"site_id": "C2", "value": float("nan"), "text": ""}])
    fig = figures.results_map_figure(sites, lanes, values, "fill rate", "rate")
    coloured = [t for t in fig.data if t.marker is not None and t.marker.showscale]
    assert len(coloured) == 1 and list(coloured[0].customdata) == ["C1"]
    assert coloured[0].marker.cmax == 1.0 and coloured[0].marker.cmin == pytest.approx(0.8)
    grey = next(t for t in fig.data if t.name == "no value")
    assert sorted(grey.customdata) == ["C2", "DC1"]
    diff = figures.results_map_figure(sites, lanes, values.assign(value=[-3.0, 1.0]),
                                      "patients", "difference_worse")
    m = next(t for t in diff.data if t.marker is not None and t.marker.showscale).marker
    assert (m.cmin, m.cmid, m.cmax) == (-3.0, 0.0, 3.0) and m.colorscale[0][1] != \
        figures.results_map_figure(sites, lanes, values.assign(value=[-3.0, 1.0]), "fr",
                                   "difference").data[-1].marker.colorscale[0][1]
