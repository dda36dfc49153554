"""What-if names and descriptions (supplytwin.experiment.naming) and the registry migration that
stores them: names are readable, stable under the order of overrides, and an old registry keeps
working."""

from __future__ import annotations

import json
import sqlite3

import pytest

from supplytwin.experiment.naming import describe, describe_differences, whatif_name
from supplytwin.store.registry import SCHEMA_VERSION, Registry

pytestmark = pytest.mark.unit

BASE = {
    "name": "baseline", "description": "under normal operations",
    "simulation": {"horizon_days": 365, "replications": 10, "seed": 1},
    "disruptions": [{"disruption_id": "strike", "kind": "lane_outage", "lane_id": "L1",
                     "start_day": 10, "duration_days": 5}],
    "edits": {},
}
HURRICANE = {"disruption_id": "hurricane-pr", "kind": "site_outage", "site_id": "FF-PR",
             "start_day": 259, "duration_days": 42}


def surge(product, m=1.2):
    return {"disruption_id": f"demand-x-{product}", "kind": "demand_surge",
            "product_id": product, "magnitude": m, "start_day": 0, "duration_days": 365}


def whatif(**changes):
    doc = json.loads(json.dumps(BASE))
    doc.update(changes)
    return doc


def test_dashboard_style_whatif_is_named_after_its_changes():
    w = whatif(disruptions=[*BASE["disruptions"], surge("P1"), surge("P2"), HURRICANE])
    changes = describe_differences(BASE, w)
    assert whatif_name("baseline", changes) == "baseline+demand×1.2+hurricane-pr"
    text = describe(changes)
    assert "demand of P1, P2 ×1.2" in text
    assert "adds disruption hurricane-pr: site_outage of FF-PR from day 259 for 42 days" in text


def test_name_does_not_depend_on_the_order_of_overrides():
    a = whatif(disruptions=[*BASE["disruptions"], HURRICANE, surge("P1", 1.5)],
               edits={"policies": {"DC/P1": {"order_up_to_units": 800, "reorder_point_units": 300}}})
    b = whatif(edits={"policies": {"DC/P1": {"reorder_point_units": 300, "order_up_to_units": 800}}},
               disruptions=[surge("P1", 1.5), HURRICANE, *BASE["disruptions"]])
    assert whatif_name("baseline", describe_differences(BASE, a)) \
        == whatif_name("baseline", describe_differences(BASE, b)) \
        == ("baseline+demand-P1×1.5+hurricane-pr+DC/P1.order_up_to_units=800"
            "+1 more")


def test_switched_off_removed_and_changed_disruptions_and_settings():
    w = whatif(simulation={"horizon_days": 90, "replications": 30, "seed": 1},
               disruptions=[], edits={"disruptions": {"strike": {"enabled": False}}})
    changes = describe_differences(BASE, w)
    labels = [c.label for c in changes]
    # replications do not change what is simulated; the horizon does
    assert labels == ["-strike", "strike-off", "horizon_days=90"]
    assert "simulation.horizon_days set to 90 (was 365)" in describe(changes)
    moved = whatif(disruptions=[{**BASE["disruptions"][0], "start_day": 20}])
    (c,) = describe_differences(BASE, moved)
    assert c.label == "strike:start_day=20" and "start_day 10 → 20" in c.text


def test_nothing_differs_keeps_the_base_name_and_data_files_are_compared_by_hash():
    assert describe_differences(BASE, whatif(description="other words", name="x")) == []
    assert whatif_name("baseline", []) == "baseline"
    changes = describe_differences(BASE, BASE, {"a.yaml": "1", "data/lanes.csv": "x"},
                                   {"a.yaml": "2", "data/lanes.csv": "y"})
    assert [c.label for c in changes] == ["lanes"]


def test_long_names_are_cut_with_a_count_of_the_rest():
    w = whatif(edits={"policies": {f"DC/P{i}": {"order_up_to_units": 100 + i}
                                   for i in range(12)}})
    name = whatif_name("baseline", describe_differences(BASE, w))
    assert len(name) <= 80 and name.startswith("baseline+DC/P0.order_up_to_units=100+")
    kept = name.count("+") - 1
    assert name.endswith(f"+{12 - kept} more")


OLD_SCHEMA = """
CREATE TABLE runs (run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,
 created_at TEXT NOT NULL, finished_at TEXT, scenario_name TEXT, scenario_file TEXT,
 scenario_sha256 TEXT, data_sha256 TEXT, version TEXT, seed INTEGER, replications INTEGER,
 executor TEXT, kpi_summary TEXT, artefacts TEXT, pid INTEGER, host TEXT, command TEXT,
 params TEXT);
INSERT INTO runs VALUES ('20250101-000000-run-baseline-abcd', 'run', 'complete',
 '2025-01-01T00:00:00+00:00', NULL, 'baseline', 'b.yaml', NULL, '{}', '0.0.1', 1, 3,
 'in-process', '{"kpis": {"fill_rate": {"mean": 0.97}}}', 'runs/x', 1, 'h', 'supplytwin run',
 '{}');
"""


def test_a_registry_written_before_what_if_names_is_migrated_and_still_read(tmp_path):
    con = sqlite3.connect(tmp_path / "registry.sqlite")
    con.executescript(OLD_SCHEMA)
    con.commit()
    con.close()
    reg = Registry(tmp_path)
    (old,) = reg.list()
    assert old.scenario_name == "baseline" and old.base_name is None and old.differences is None
    assert old.kpi_summary["kpis"]["fill_rate"]["mean"] == 0.97
    rid = reg.start("run", scenario_name="baseline+demand×1.2", base_name="baseline",
                    differences=[{"label": "demand×1.2", "text": "demand ×1.2"}],
                    scenario_file="b.yaml", scenario_sha256=None, data_sha256={}, version="x",
                    seed=1, replications=2, executor="in-process", artefacts="runs/y",
                    command="supplytwin run")
    new = reg.get(rid)
    assert new.base_name == "baseline" and new.differences[0]["label"] == "demand×1.2"
    assert "baseline-demand-1-2" in rid  # the run id names the what-if too
    assert [r.run_id for r in reg.list(search="baseline+demand")] == [rid]
    Registry(tmp_path)  # opening a migrated registry again changes nothing
    with sqlite3.connect(tmp_path / "registry.sqlite") as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert len(con.execute("SELECT * FROM runs").fetchall()) == 2
