"""dashboard.services: the Scenario page's inherited disruptions, switched off or moved, become
``edits.disruptions.ID.*`` in the saved scenario and in the run's ``--set`` overrides."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

import supplytwin
from dashboard import services
from dashboard.services import UserError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KEY = "bundled/pr-hurricane.yaml"


@pytest.fixture
def ws(tmp_path) -> services.Workspace:
    return services.make_workspace(tmp_path / "runs", ROOT / "scenarios")


def _hurricane(sc) -> object:
    [d] = [d for d in sc.network.disruptions if d.disruption_id == "hurricane-pr"]
    return d


def _raw(on: bool, start=259, duration=42) -> dict:
    return {"disruptions": [{"disruption_id": "hurricane-pr", "on": on, "start_day": start,
                             "duration_days": duration}]}


def test_the_hurricane_is_inherited_and_untouched_by_default(ws):
    o = services.knob_options(ws, KEY)
    assert "hurricane-pr" in {d["disruption_id"] for d in o["inherited"]}
    knobs = services.validate_knobs(ws, KEY, _raw(True))
    assert knobs.is_empty()
    assert services.knob_sets(ws, KEY, knobs) == []


def test_switching_off_the_hurricane_saves_and_runs_it_disabled(ws):
    knobs = services.validate_knobs(ws, KEY, _raw(False))
    assert knobs.disruption_edits == {"hurricane-pr": {"enabled": False}}
    saved = services.save_scenario(ws, KEY, knobs, "no-hurricane")
    doc = yaml.safe_load(saved.path.read_text())
    assert doc["edits"] == {"disruptions": {"hurricane-pr": {"enabled": False}}}
    assert _hurricane(supplytwin.load_scenario(saved.path)).enabled is False

    sets = services.knob_sets(ws, KEY, knobs)
    assert sets == ["edits.disruptions.hurricane-pr.enabled=false"]
    path = services.scenario_path(ws, KEY)
    assert _hurricane(supplytwin.load_scenario(path, sets)).enabled is False
    assert _hurricane(supplytwin.load_scenario(path)).enabled is True
    assert "hurricane-pr switched off" in services.describe_knobs(knobs)


def test_moving_the_hurricane_is_reflected_in_the_loaded_scenario(ws):
    knobs = services.validate_knobs(ws, KEY, _raw(True, "200", 10))
    assert knobs.disruption_edits == {"hurricane-pr": {"start_day": 200, "duration_days": 10}}
    saved = services.save_scenario(ws, KEY, knobs, "early-hurricane")
    d = _hurricane(supplytwin.load_scenario(saved.path))
    assert (d.enabled, d.start_day, d.duration_days) == (True, 200, 10)

    sets = services.knob_sets(ws, KEY, knobs)
    assert sorted(sets) == ["edits.disruptions.hurricane-pr.duration_days=10",
                            "edits.disruptions.hurricane-pr.start_day=200"]
    d = _hurricane(supplytwin.load_scenario(services.scenario_path(ws, KEY), sets))
    assert (d.start_day, d.duration_days) == (200, 10)


def test_inherited_edit_is_pure_and_checks_the_window():
    base = {"disruption_id": "x", "start_day": 10.0, "duration_days": 5.0}
    assert services.inherited_edit(base, {"on": True, "start_day": 10, "duration_days": 5},
                                   100) == {}
    assert services.inherited_edit(base, {"on": True, "start_day": None}, 100) == {}
    assert services.inherited_edit({**base, "enabled": False}, {"on": True}, 100) == {
        "enabled": True}
    # a random disruption has no window to edit
    assert services.inherited_edit({"disruption_id": "r", "mtbf_days": 90},
                                   {"on": False}, 100) == {"enabled": False}
    with pytest.raises(UserError, match="after the horizon"):
        services.inherited_edit(base, {"on": True, "start_day": 150}, 100)
    with pytest.raises(UserError, match="Duration of x"):
        services.inherited_edit(base, {"on": True, "duration_days": 0}, 100)


def test_inherited_rows_have_a_toggle_on_by_default_and_a_window(ws):
    from dashboard.app import create_app

    create_app(ws.runs_dir, ws.scenarios_dir)  # pages register only once an app exists
    disruption_rows = sys.modules["dashboard.pages.scenario"].disruption_rows
    o = services.knob_options(ws, KEY)
    text = str(disruption_rows(o["inherited"], []))
    assert "'type': 'scenario-dis-on', 'id': 'hurricane-pr'" in text
    assert "'type': 'scenario-dis-start', 'id': 'hurricane-pr'" in text
    assert "value=['on']" in text
