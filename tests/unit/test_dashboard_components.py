"""Component functions of the dashboard: cards, tables, navigation, messages, progress."""

from __future__ import annotations

import pytest
from dash import dcc, html

from dashboard.components import (
    ci_text,
    data_table,
    fmt,
    key_value_table,
    kpi_cards,
    kpi_label,
    message,
    nav_links,
    progress_bar,
)
from dashboard.components.choices import default_scenario, run_options, scenario_options

pytestmark = pytest.mark.unit


def _texts(component) -> list[str]:
    """Every string in a component tree."""
    out: list[str] = []

    def walk(c):
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, int | float) and not isinstance(c, bool):
            out.append(str(c))
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return out


def test_fmt_by_unit():
    assert fmt("fill_rate", 0.98765) == "98.8 %"
    assert fmt("cost_total_usd", 52_930_000) == "$52.93 M"
    assert fmt("cost_total_usd", 1234.4) == "$1,234"
    assert fmt("backordered_units", 650.0) == "650"
    assert fmt("backordered_units", 650.0, unit=True) == "650 units"
    assert fmt("qc_wait_days_mean", 0.25) == "0.25"
    for missing in (None, float("nan"), float("inf"), "x"):
        assert fmt("fill_rate", missing) == "–"


def test_ci_text_clips_to_the_kpi_range_and_explains_one_replication():
    assert ci_text("fill_rate", {"mean": 0.99, "ci95": [0.97, 1.02], "n": 5}) == \
        "95 % CI 97.0 % – 100.0 % · n = 5"
    assert ci_text("lost_units", {"mean": 2, "ci95": [-3.0, 7.0], "n": 3}) == \
        "95 % CI 0 – 7 · n = 3"
    assert ci_text("fill_rate", {"mean": 0.9, "ci95": [None, None], "n": 1}) == \
        "1 replication: no CI"


def test_kpi_cards_ids_order_and_definitions():
    summary = {"otif": {"mean": 0.9, "ci95": [0.85, 0.95], "n": 4},
               "fill_rate": {"mean": 0.97, "ci95": [0.96, 0.98], "n": 4},
               "not_a_headline": {"mean": 1, "n": 4}}
    cards = kpi_cards(summary, id_prefix="t")
    assert cards.id == "t-cards"
    assert [c.id for c in cards.children] == ["t-card-fill_rate", "t-card-otif"]
    assert "Type 2" in cards.children[0].title  # the KPI's definition is the tooltip
    assert "97.0 %" in _texts(cards.children[0])
    empty = kpi_cards({}, id_prefix="t")
    assert empty.id == "t-cards-empty"
    assert kpi_label("otif") == "OTIF" and kpi_label("storage_refused_units") == \
        "Storage refused units"


def test_data_table_formats_cells_and_says_when_empty():
    rows = [{"a": 1234.5, "b": None, "c": True}, {"a": 0.1234, "b": "x", "c": False}]
    t = data_table(rows, [("a", "A"), ("b", "B"), ("c", "C", lambda r: "✓" if r["c"] else "")],
                   id="tbl", row_class=lambda r: "on" if r["c"] else "")
    texts = _texts(t)
    # a table with an id has its CSV and Excel downloads above it
    assert ["CSV", "Excel", "A", "B", "C"] == texts[:5]
    assert "1,234" in texts and "–" in texts and "0.123" in texts and "✓" in texts
    body = t.children[1].children.children[1].children
    assert [r.className for r in body] == ["on", ""]
    assert _texts(data_table([], [("a", "A")])) == ["Nothing to show."]
    kv = key_value_table([("seed", 7), ("file", None)], id="kv")
    assert _texts(kv) == ["CSV", "Excel", "seed", "7", "file", "–"]


def test_nav_lists_registry_pages_in_order_and_marks_the_current_one():
    pages = [
        {"name": "Runs", "path": "/runs", "order": 4},
        {"name": "Network", "path": "/", "order": 0},
        {"name": "Not found", "path": "/404", "nav": False},
        {"name": "Optimise", "path": "/optimise", "order": 5},  # a page added later
        {"name": "Scenario", "path": "/scenario", "order": 1},
    ]
    links = nav_links(pages, "/scenario")
    assert [link.children for link in links] == ["Network", "Scenario", "Runs", "Optimise"]
    assert [link.className for link in links] == ["nav-link", "nav-link active", "nav-link",
                                                  "nav-link"]
    assert all(isinstance(link, dcc.Link) for link in links)


def test_messages_and_progress():
    m = message("bad", "error", id="m")
    assert m.className == "message message-error" and m.role == "alert"
    assert message(None).className == "message empty"
    assert message("x", "nonsense").className == "message message-info"
    bar = progress_bar(1, 4, "one of four", id="p")
    fill = bar.children[0].children
    assert fill.style == {"width": "25%"} and "one of four" in _texts(bar)
    assert progress_bar(5, 0).children[0].children.style == {"width": "0%"}
    assert isinstance(bar, html.Div)


def test_choices():
    entries = [{"key": "bundled/a.yaml", "label": "a"}, {"key": "bundled/tiny.yaml",
                                                          "label": "tiny"}]
    assert default_scenario(entries) == "bundled/tiny.yaml"
    assert default_scenario([]) is None
    assert scenario_options(entries)[0] == {"label": "a", "value": "bundled/a.yaml"}
    rows = [{"run_id": "r1", "scenario": "s", "replications": 3}]
    assert run_options(rows) == [{"label": "s · 3 rep · r1", "value": "r1"}]
