"""A difference of two rates is in percentage points everywhere: the compare table, its JSON
keys, the report's difference table and figure, and the sweep plot's axis."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from rich.console import Console

from supplytwin.cli.experiment_cmds import _difference_json, difference_table, fmt_diff
from supplytwin.report import figures as F
from supplytwin.report.html import _differences_table
from supplytwin.report.sweep import sweep_figure

pytestmark = pytest.mark.unit

# fill rate 98.00 % -> 93.25 %: a change of -4.75 percentage points (a -4.85 % relative change)
DIFF = pd.DataFrame([
    {"whatif": "hurricane", "kpi": "fill_rate", "unit": "fraction", "n": 10, "base_mean": 0.98,
     "whatif_mean": 0.9325, "difference": -0.0475, "ci95_low": -0.06, "ci95_high": -0.035,
     "significant": True},
    {"whatif": "hurricane", "kpi": "lost_units", "unit": "units", "n": 10, "base_mean": 10.0,
     "whatif_mean": 130.0, "difference": 120.0, "ci95_low": 80.0, "ci95_high": 160.0,
     "significant": True},
])


def test_cli_table_and_json_put_rate_differences_in_pp():
    out = io.StringIO()
    Console(file=out, width=200).print(difference_table(DIFF, "hurricane",
                                                        ["fill_rate", "lost_units"]))
    text = out.getvalue()
    assert "-4.75 pp" in text and "[-6.00 pp, -3.50 pp]" in text
    assert "98.00 %" in text and "93.25 %" in text  # levels stay percentages
    assert "-4.75 %" not in text
    rows = list(DIFF.itertuples())
    rate, units = _difference_json(rows[0]), _difference_json(rows[1])
    assert rate["difference_pp"] == pytest.approx(-4.75)
    assert rate["ci95_pp"] == pytest.approx([-6.0, -3.5]) and "difference" not in rate
    assert units["difference"] == 120.0 and "difference_pp" not in units
    assert fmt_diff(0.00001, "fraction") == "+0.00 pp"


def test_report_difference_table_and_figure_in_pp():
    html = _differences_table(DIFF, "baseline")
    assert "−4.75 pp" in html and "−6.00 pp to −3.50 pp" in html and "−4.75 %" not in html
    fig = F.paired_difference_figure(DIFF, ["fill_rate"])
    assert list(fig.data[0].x) == pytest.approx([-4.75])
    assert list(fig.data[0].error_x.array) == pytest.approx([1.25])
    assert fig.layout.xaxis.ticksuffix == " pp" and "%" not in (fig.layout.xaxis.tickformat or "")
    assert "percentage points" in fig.layout.annotations[0].text
    assert "-4.75 pp" in fig.data[0].hovertext[0]


def test_sweep_plot_shows_rates_as_percentages():
    table = pd.DataFrame({"edits.x": ["1", "2"], "kpi": "fill_rate", "mean": [0.9, 0.95],
                          "ci95_low": [0.88, 0.94], "ci95_high": [0.92, 0.96]})
    fig = sweep_figure(table, "fill_rate", ["edits.x"])
    assert fig.layout.yaxis.tickformat == ".1%" and fig.layout.yaxis.title.text == "fill_rate (%)"
