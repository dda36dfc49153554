"""Pure helpers of the Compare, Results and Scenario pages for where the damage landed and
new disruptions: rates as %, their changes in percentage points, windows as dates."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard.app import create_app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    create_app(tmp_path_factory.mktemp("runs"), ROOT / "scenarios")  # registers the pages
    return {n: sys.modules[f"dashboard.pages.{n}"] for n in ("compare", "results", "scenario")}


def test_breakdown_rows_use_percentage_points(pages):
    t = pd.DataFrame([{"site_id": "DC", "product_id": "P", "base_fill_rate": 0.97,
                       "whatif_fill_rate": 0.92, "fill_rate_difference_pp": -5.0,
                       "base_patients_affected": 10.0, "whatif_patients_affected": 1250.5,
                       "patients_affected_difference": 1240.5, "ci95_low": float("nan"),
                       "ci95_high": float("nan"), "unfilled_units_difference": 620.25}])
    row = pages["compare"].breakdown_rows(t, ["site_id", "product_id"])[0]
    assert row["group"] == "DC / P"
    assert (row["base_fill"], row["other_fill"], row["fill_pp"]) == ("97.0 %", "92.0 %",
                                                                    "-5.00 pp")
    assert row["patients"] == "+1,240.5" and row["ci"] == "–" and row["worse"]


def test_windows_as_dates(pages):
    s = pages["scenario"]
    assert s.window_dates("2027-01-04", 259, 42) == "2027-09-20 to 2027-11-01"
    assert s.window_dates("2027-01-04", None, 42) == ""
    assert s.window_dates(None, 1, 2) == ""
    text = str(s.new_rows([{"kind": "lane_delay", "target": "mode:road", "start": "2027-01-14",
                            "start_day": 10.0, "duration_days": 7, "magnitude": 2}],
                          "2027-01-04"))
    assert "2027-01-14 to 2027-01-21 (day 10 to 17)" in text
    assert "transit-time multiplier" in text
    assert s.start_day_label("2027-01-14", "2027-01-04") == "= day 10"
    assert s.start_day_label("14/01/2027", "2027-01-04") == "write YYYY-MM-DD"


def test_raw_knobs_carry_new_disruptions(pages):
    raw = pages["scenario"].raw_knobs(None, None, [], [], [], [], [], [], [], [],
                                      [{"kind": "site_outage"}])
    assert raw["new_disruptions"] == [{"kind": "site_outage"}]
    assert pages["scenario"].raw_knobs(None, None, [], [], [], [], [], [], [], [])[
        "new_disruptions"] == []


def test_service_rows(pages):
    t = pd.DataFrame([{"customer_id": "C1", "demand_units": 2533.5, "fill_rate": 0.9863,
                       "unfilled_units": 54.5, "lost_units": 0.0,
                       "patients_affected": float("nan"), "replications": 2}])
    row = pages["results"].service_rows(t)[0]
    assert row == {"customer_id": "C1", "demand": "2,534", "fill": "98.6 %", "unfilled": "54.5",
                   "lost": "0.0", "patients": "–"}


def test_default_pair_is_a_what_if_and_its_base(pages):
    rows = [  # newest first
        {"run_id": "w", "seed": 7, "scenario": "tiny+demand×1.5", "base_name": "tiny"},
        {"run_id": "o", "seed": 7, "scenario": "baseline", "base_name": ""},
        {"run_id": "b", "seed": 7, "scenario": "tiny", "base_name": ""},
        {"run_id": "x", "seed": 9, "scenario": "tiny", "base_name": ""},
    ]
    assert pages["compare"].default_runs(rows) == ["b", "w"]
    # no run of its base: the newest earlier run with the same seed
    assert pages["compare"].default_runs([rows[0], rows[1], rows[3]]) == ["o", "w"]
