"""Stress batteries: schema errors name file, line, field and reason; generators expand into
the expected what-ifs; a what-if is the base plus ordinary disruption rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytwin.errors import ScenarioError
from supplytwin.model import DisruptionKind
from supplytwin.scenario import load_scenario
from supplytwin.stress.battery import load_battery, parse_fail_under
from supplytwin.stress.generators import apply_whatif, expand, great_circle_km

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]
HAND = ROOT / "tests" / "data" / "stress_hand" / "scenario.yaml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "battery.yaml"
    p.write_text(f"base: {HAND}\n" + text, encoding="utf-8")
    return p


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        lb = load_battery(path)
        expand(lb, load_scenario(lb.base_path, lb.battery.set))
    return [str(p) for p in exc.value.problems]


def test_every_site_of_a_kind_for_every_duration(tmp_path):
    lb = load_battery(write(tmp_path, "generators:\n  - {kind: site_outage, site_kinds: "
                                      "[drug_substance], durations_days: [5, 20]}\n"))
    ws = expand(lb, load_scenario(lb.base_path))
    assert [w.name for w in ws] == ["A1 down 5d", "A1 down 20d", "A2 down 5d", "A2 down 20d"]
    assert ws[1].sites_down == ("A1",) and ws[1].end_day == 20.0


def test_a_whatif_is_the_base_plus_disruption_rows(tmp_path):
    lb = load_battery(write(tmp_path, "start_day: 3\ngenerators:\n  - {kind: lane_closure, "
                                      "lanes: [L-DC-C], durations_days: [4]}\n"))
    base = load_scenario(lb.base_path)
    (w,) = expand(lb, base)
    sc = apply_whatif(base, w)
    (row,) = sc.network.disruptions
    assert (row.kind, row.lane_id, row.start_day, row.duration_days) == (
        DisruptionKind.LANE_CLOSURE, "L-DC-C", 3.0, 4.0)
    assert base.network.disruptions == () and sc.network.sites is base.network.sites


def test_regional_event_takes_down_every_site_within_the_radius(tmp_path):
    # A1 (50.0, 5.0) and PK (50.5, 4.5) lie within 70 km of (50.25, 4.75); A2 (51.0) does not
    lb = load_battery(write(tmp_path, "generators:\n  - {kind: regional_event, label: flood, "
                                      "latitude: 50.25, longitude: 4.75, radius_km: 40, "
                                      "durations_days: [10]}\n"))
    (w,) = expand(lb, load_scenario(lb.base_path))
    assert w.sites_down == ("A1", "PK") and len(w.disruptions) == 2
    assert great_circle_km(50.25, 4.75, 51.0, 5.0) > 40


def test_each_generator_kind_expands(tmp_path):
    lb = load_battery(write(tmp_path, """generators:
  - {kind: capacity_loss, mode: road, magnitude: 0.5, durations_days: [7]}
  - {kind: demand_surge, magnitude: 2, durations_days: [7]}
  - {kind: qc_failure_spike, magnitude: 0.5, durations_days: [7]}
  - {kind: supplier_loss, sites: [A1], durations_days: [7]}
"""))
    ws = expand(lb, load_scenario(lb.base_path))
    assert [w.kind for w in ws] == ["capacity_loss", "demand_surge", "qc_failure_spike",
                                    "qc_failure_spike", "qc_failure_spike", "supplier_loss"]
    assert ws[-1].disruptions[0].kind == DisruptionKind.SUPPLIER_FAILURE


def test_schema_errors_name_file_line_field_and_reason(tmp_path):
    p = write(tmp_path, "replications: 0\ngenerators:\n  - {kind: site_outage, durations_days: "
                        "[-3]}\n  - {kind: volcano, durations_days: [1]}\n")
    found = problems(p)
    assert any("line 2" in s and "[replications]" in s and "greater than or equal to 1" in s
               for s in found), found
    assert any("[generators.0.durations_days.0]" in s and "greater than 0" in s for s in found)
    assert any("unknown generator kind" in s for s in found), found


def test_unknown_ids_and_non_finite_numbers_are_refused(tmp_path):
    found = problems(write(tmp_path, "generators:\n  - {kind: site_outage, sites: [NOPE], "
                                     "durations_days: [5]}\n"))
    assert any("unknown site 'NOPE'" in s and "line 3" in s for s in found), found
    found = problems(write(tmp_path, "generators:\n  - {kind: site_outage, durations_days: "
                                     "[.nan]}\n"))
    assert any("finite" in s for s in found), found


def test_missing_file_and_bad_yaml(tmp_path):
    assert "file not found" in problems(tmp_path / "none.yaml")[0]
    p = tmp_path / "bad.yaml"
    p.write_text("base: [unclosed\n", encoding="utf-8")
    assert "YAML syntax" in problems(p)[0]


def test_fail_under_parsing():
    assert parse_fail_under(["fill_rate=0.97", "otif=0.9"]) == {"fill_rate": 0.97, "otif": 0.9}
    from supplytwin.errors import SupplytwinError

    for bad in ("fill_rate", "fill_rate=inf", "=0.9", "fill_rate=x"):
        with pytest.raises(SupplytwinError):
            parse_fail_under([bad])


def test_the_bundled_nightly_battery_expands():
    lb = load_battery(ROOT / "scenarios" / "stress" / "nightly.yaml")
    ws = expand(lb, load_scenario(lb.base_path, lb.battery.set))
    names = {w.name for w in ws}
    assert "pr-hurricane 42d" in names and "FF-PR-JUNCOS down 42d" in names
    hurricane = next(w for w in ws if w.name == "pr-hurricane 42d")
    assert hurricane.sites_down == ("FF-PR-JUNCOS",)
