"""New disruptions written on the Scenario page: dates become simulation days, bad inputs get
a message naming the field, and a scenario saved with them passes ``supplytwin validate`` (the
CLI, as a planner would check it) and runs with the disruption in it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import supplytwin
from dashboard import services
from dashboard.services import UserError
from supplytwin.cli import app

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TINY = "bundled/tiny.yaml"  # start_date 2027-01-04, horizon 120 days
BASELINE = "bundled/baseline.yaml"


@pytest.fixture
def ws(tmp_path) -> services.Workspace:
    return services.make_workspace(tmp_path / "runs", ROOT / "scenarios")


def test_a_start_date_is_the_day_after_start_date(ws):
    sc = services.load(ws, TINY)
    row = services.new_disruption(sc, {"kind": "site_outage", "target": "site:DC",
                                       "start": "2027-02-13", "duration_days": 10}, 120, set())
    # 2027-01-04 + 40 days = 2027-02-13 (27 days to Jan 31, 13 more)
    assert row == {"disruption_id": "new-site-outage-dc", "kind": "site_outage",
                   "start_day": 40.0, "duration_days": 10.0, "site_id": "DC"}
    same = services.new_disruption(sc, {"kind": "site_outage", "target": "site:DC",
                                        "start": "40", "duration_days": 10}, 120,
                                   {"new-site-outage-dc"})
    assert same["start_day"] == 40.0 and same["disruption_id"] == "new-site-outage-dc-2"


@pytest.mark.parametrize(("item", "says"), [
    ({"kind": "nope"}, "choose what happens"),
    ({"kind": "site_outage", "target": "site:C1"}, "choose what it applies to"),
    ({"kind": "site_outage", "target": "site:DC", "start": "2026-12-31",
      "duration_days": 5}, "before the simulation starts"),
    ({"kind": "site_outage", "target": "site:DC", "start": "31/01/2027",
      "duration_days": 5}, "YYYY-MM-DD"),
    ({"kind": "site_outage", "target": "site:DC", "start": "2027-06-01",
      "duration_days": 5}, "after the horizon"),
    ({"kind": "site_outage", "target": "site:DC", "start": "2027-01-10",
      "duration_days": "nan"}, "duration"),
    ({"kind": "capacity_loss", "target": "site:PLANT", "start": "2027-01-10",
      "duration_days": 5, "magnitude": 1.5}, "share of capacity lost"),
    ({"kind": "lane_delay", "target": "mode:road", "start": "2027-01-10",
      "duration_days": 5, "magnitude": 0}, "transit-time multiplier"),
])
def test_bad_new_disruptions_get_a_clear_message(ws, item, says):
    with pytest.raises(UserError, match=says):
        services.new_disruption(services.load(ws, TINY), item, 120, set())


def test_targets_fit_the_kind(ws):
    sc = services.load(ws, BASELINE)
    sup = {o["value"] for o in services.target_options(sc, "supplier_failure")}
    assert sup and all(v.startswith("site:SUP-") for v in sup)
    lanes = {o["value"].split(":")[0] for o in services.target_options(sc, "lane_delay")}
    assert lanes == {"lane", "mode"}
    assert "product:MAB-PFS" in {o["value"] for o in services.target_options(sc, "demand_surge")}
    assert "share of capacity lost" in services.magnitude_meaning("capacity_loss")
    assert "on or off" in services.magnitude_meaning("site_outage")


def test_saved_scenario_with_new_disruptions_validates_and_runs(ws):
    raw = {"new_disruptions": [
        {"kind": "site_outage", "target": "site:DC", "start": "2027-02-13",
         "duration_days": 14},
        {"kind": "lane_delay", "target": "mode:road", "start": "2027-03-01",
         "duration_days": 7, "magnitude": 2},
    ]}
    knobs = services.validate_knobs(ws, TINY, raw)
    saved = services.save_scenario(ws, TINY, knobs, "tiny-dc-outage")
    doc = yaml.safe_load(saved.path.read_text())
    assert [d["disruption_id"] for d in doc["disruptions"]] == [
        "new-site-outage-dc", "new-lane-delay-road"]
    result = CliRunner().invoke(app, ["validate", str(saved.path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    windows = services.disruption_windows(services.load(ws, saved.key))
    assert [(w["start_date"], w["start_day"], w["end_day"]) for w in windows] == [
        ("2027-02-13", 40.0, 54.0), ("2027-03-01", 56.0, 63.0)]
    # the same knobs as --set overrides give the same disruptions
    sets = services.knob_sets(ws, TINY, knobs)
    over = supplytwin.load_scenario(services.scenario_path(ws, TINY), sets)
    assert services.disruption_windows(over) == windows
