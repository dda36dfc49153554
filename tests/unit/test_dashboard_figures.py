"""The dashboard's pure figure functions on small hand-made tables."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import figures

pytestmark = pytest.mark.unit


@pytest.fixture
def sites() -> pd.DataFrame:
    return pd.DataFrame([
        {"site_id": "PLANT", "name": "Plant", "kind": "fill_finish", "region": "EU",
         "country": "NL", "latitude": 52.2, "longitude": 4.5, "is_open": True,
         "products": "MAB"},
        {"site_id": "DC", "name": "DC <b>", "kind": "distribution_centre", "region": "EU",
         "country": "NL", "latitude": 51.4, "longitude": 6.2, "is_open": True,
         "products": "MAB;TAB"},
        {"site_id": "US-DC", "name": "US DC", "kind": "distribution_centre", "region": "US",
         "country": "US", "latitude": 35.1, "longitude": -90.0, "is_open": False,
         "products": "TAB"},
        {"site_id": "H1", "name": "Hospital", "kind": "customer", "region": "EU",
         "country": "NL", "latitude": 52.1, "longitude": 5.1, "is_open": True,
         "products": "MAB"},
    ])


@pytest.fixture
def lanes() -> pd.DataFrame:
    def lane(lid, o, d, mode, temp, products, olat, olon, dlat, dlon):
        return {"lane_id": lid, "origin_id": o, "destination_id": d, "mode": mode,
                "packaging": "reefer", "temperature_class": temp, "products": products,
                "transit_days": 1.5, "o_lat": olat, "o_lon": olon, "d_lat": dlat, "d_lon": dlon}
    return pd.DataFrame([
        lane("L1", "PLANT", "DC", "road", "refrigerated", "MAB", 52.2, 4.5, 51.4, 6.2),
        lane("L2", "DC", "H1", "courier", "refrigerated", "MAB", 51.4, 6.2, 52.1, 5.1),
        lane("L3", "DC", "US-DC", "air", "crt", "TAB", 51.4, 6.2, 35.1, -90.0),
    ])


def test_filter_network_by_product_and_region(sites, lanes):
    s, ln = figures.filter_network(sites, lanes, ["TAB"], None)
    assert set(s["site_id"]) == {"DC", "US-DC"} and list(ln["lane_id"]) == ["L3"]
    s, ln = figures.filter_network(sites, lanes, None, ["EU"])
    assert set(s["site_id"]) == {"PLANT", "DC", "H1"} and set(ln["lane_id"]) == {"L1", "L2"}
    s, ln = figures.filter_network(sites, lanes, ["MAB"], ["US"])
    assert s.empty and ln.empty
    s, ln = figures.filter_network(sites, lanes, [], [])
    assert len(s) == 4 and len(ln) == 3


def test_network_map_carries_site_ids_for_clicks(sites, lanes):
    fig = figures.network_map_figure(sites, lanes, selected="DC")
    assert isinstance(fig, go.Figure)
    markers = [t for t in fig.data if t.mode == "markers" and t.name != "selected"]
    ids = [i for t in markers for i in t.customdata]
    assert sorted(ids) == sorted(sites["site_id"])
    # a lane's vertices are its two sites, so a click near a lane end names that site
    lane_traces = [t for t in fig.data if t.mode == "lines" and t.customdata is not None]
    ends = {c for t in lane_traces for c in t.customdata if c is not None}
    assert ends == {"PLANT", "DC", "H1", "US-DC"}
    # one legend entry per mode and per temperature class, not per combination
    legend = [t.name for t in fig.data if t.showlegend is not False and t.mode == "lines"]
    assert legend == ["Road", "Air", "Courier", "CRT 15–25 °C", "2–8 °C"]
    ring = [t for t in fig.data if t.name == "selected"]
    assert len(ring) == 1 and list(ring[0].customdata) == ["DC"]
    # user text is escaped in hover labels
    assert any("DC &lt;b&gt;" in h for t in markers for h in t.hovertext)
    # the closed site is faded
    dcs = next(t for t in markers if t.name == "Distribution centre")
    assert list(dcs.marker.opacity) == [1.0, 0.35]


def test_network_map_without_sites_says_so(sites, lanes):
    fig = figures.network_map_figure(sites.iloc[0:0], lanes.iloc[0:0])
    assert "No site matches" in fig.layout.annotations[0].text


def _series(rows):
    return pd.DataFrame(rows, columns=["time_days", "site_id", "product_id", "on_hand_units",
                                       "on_order_units", "backlog_units", "replication"])


def test_in_stock_rate_weights_stock_points_by_demand():
    ts = _series([
        # day 1: DC-A (weight 3) able to serve, DC-B (weight 1) out of stock -> 0.75
        (1.0, "A", "P", 10, 0, 0, 0), (1.0, "B", "P", 0, 0, 5, 0),
        # day 2: both able -> 1.0; replication 1 on day 2: A owes backlog -> 0.25
        (2.0, "A", "P", 10, 0, 0, 0), (2.0, "B", "P", 4, 0, 0, 0),
        (1.0, "A", "P", 10, 0, 0, 1), (1.0, "B", "P", 3, 0, 0, 1),
        (2.0, "A", "P", 5, 0, 2, 1), (2.0, "B", "P", 3, 0, 0, 1),
        # a plant is not customer-facing and does not count
        (1.0, "PLANT", "P", 0, 0, 0, 0),
    ])
    facing = pd.DataFrame({"site_id": ["A", "B"], "product_id": ["P", "P"], "weight": [3.0, 1.0]})
    t = figures.in_stock_rate(ts, facing, "P", low=0.0, high=1.0)
    assert list(t["time_days"]) == [1.0, 2.0]
    assert t["mean"].tolist() == pytest.approx([(0.75 + 1.0) / 2, (1.0 + 0.25) / 2])
    assert t["low"].tolist() == pytest.approx([0.75, 0.25])
    assert t["high"].tolist() == pytest.approx([1.0, 1.0])
    assert t["replications"].tolist() == [2, 2]
    # without weights every stock point counts once
    t2 = figures.in_stock_rate(ts[ts["site_id"] != "PLANT"], pd.DataFrame(), "P")
    assert t2["mean"].iloc[0] == pytest.approx((0.5 + 1.0) / 2)
    assert figures.in_stock_rate(ts, facing, "OTHER").empty
    assert figures.in_stock_rate(pd.DataFrame(), facing).empty


def test_service_over_time_figure_has_band_mean_and_reference():
    table = pd.DataFrame({"time_days": [1.0, 2.0], "mean": [0.9, 1.0], "low": [0.8, 1.0],
                          "high": [1.0, 1.0], "replications": [3, 3]})
    fig = figures.service_over_time_figure(table, fill_rate=0.97, warmup_days=1, product="P")
    assert [t.name for t in fig.data] == ["5–95 % of replications", "in-stock rate (mean)"]
    assert any(s.y0 == 0.97 for s in fig.layout.shapes)
    one = table.assign(replications=1)
    assert len(figures.service_over_time_figure(one).data) == 1  # no band from one replication
    empty = figures.service_over_time_figure(pd.DataFrame())
    assert not empty.data and "No daily levels" in empty.layout.annotations[0].text


def test_excursions_by_lane_when_the_artefact_exists_else_per_replication():
    kpis = pd.DataFrame({"replication": [0, 1, 2], "excursions": [3.0, 5.0, 4.0]})
    fig = figures.excursions_figure(kpis)
    assert list(fig.data[0].y) == [3.0, 5.0, 4.0]
    assert "not in this run" in fig.layout.annotations[-1].text
    by_lane = pd.DataFrame({"lane_id": ["L1", "L1", "L2", "L3"], "replication": [0, 1, 0, 1],
                            "excursions": [2, 4, 1, 0]})
    lanes = pd.DataFrame({"lane_id": ["L1", "L2"], "mode": ["air", "road"]})
    fig = figures.excursions_figure(kpis, by_lane, lanes)
    bar = fig.data[0]
    assert list(bar.y) == ["L1", "L2"] and list(bar.x) == [3.0, 0.5]
    assert bar.marker.color[0] == figures.MODE_STYLE["air"][1]
    empty = figures.excursions_figure(pd.DataFrame())
    assert "No excursion" in empty.layout.annotations[0].text


def test_overlay_draws_one_line_per_run():
    a = _series([(1.0, "DC", "P", 10, 0, 0, 0), (1.0, "DC", "P", 20, 0, 0, 1),
                 (2.0, "DC", "P", 30, 0, 0, 0), (2.0, "DC", "P", 10, 0, 0, 1)])
    b = a.assign(on_hand_units=a["on_hand_units"] * 2)
    fig = figures.overlay_timeseries_figure({"base": a, "what-if": b}, "DC", "P")
    assert [t.name for t in fig.data] == ["base", "what-if"]
    assert list(fig.data[0].y) == [15.0, 20.0] and list(fig.data[1].y) == [30.0, 40.0]
    backlog = figures.overlay_timeseries_figure({"base": a}, "DC", "P", "backlog_units")
    assert "Backlog" in backlog.layout.title.text
    none = figures.overlay_timeseries_figure({"base": a}, "XX", "P")
    assert not none.data


def test_report_figures_are_reused(sites):
    summary = {"fill_rate": {"mean": 0.95, "sd": 0.01, "ci95": [0.93, 0.97], "n": 5},
               "otif": {"mean": 0.9, "sd": None, "ci95": [None, None], "n": 1}}
    fig = figures.kpi_ci_figure(summary)
    assert list(fig.data[0].y) == ["fill_rate", "otif"]
    assert math.isclose(fig.data[0].error_x.array[0], 0.02)


def test_figures_carry_plotly_white_for_the_trace_types_they_draw(sites, lanes):
    """Each figure carries plotly_white's whole layout part and its defaults for the figure's
    own trace types (so it looks as with the whole template), not the defaults of the trace
    types it does not draw (which made building the figures twice as slow)."""
    import plotly.io as pio

    full = pio.templates["plotly_white"]
    kpis = pd.DataFrame({"replication": [0, 1, 2], "cost_transport_usd": [1.0, 2.0, 3.0]})
    drawn = {"bar": figures.cost_breakdown_figure(kpis),
             "scattergeo": figures.network_map_figure(sites, lanes),
             "": figures.empty_figure("t", "nothing here")}
    for kind, fig in drawn.items():
        template = fig.layout.template
        assert template.layout == full.layout
        assert {t.type for t in fig.data} == ({kind} if kind else set())
        if kind:
            assert template.data[kind] == full.data[kind] and full.data[kind]
        assert [t for t in template.data.to_plotly_json() if t != kind] == []
        assert len(fig.to_json()) < len(go.Figure(fig).update_layout(
            template="plotly_white").to_json()) - 3000
