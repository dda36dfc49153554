"""One test per kind of scenario error: each corrupts a copy of the tiny valid network and checks
the problem's file, row or line, field and reason."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest

from supplytwin.errors import Problem, ScenarioError
from supplytwin.scenario import check_scenario, load_scenario

pytestmark = pytest.mark.unit


# ---------------------------------------------------------------- helpers ---------------------
def read_table(d: Path, table: str) -> tuple[list[str], list[list[str]]]:
    with (d / f"{table}.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_table(d: Path, table: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with (d / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def set_cell(d: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` counts data rows from 1 like Problem.row. Adds the column if new."""
    header, rows = read_table(d, table)
    if column not in header:
        header.append(column)
        for r in rows:
            r.append("")
    rows[row - 1][header.index(column)] = value
    write_table(d, table, header, rows)


def append_rows(d: Path, table: str, *new: dict[str, str]) -> None:
    header, rows = read_table(d, table)
    for item in new:
        for k in item:
            if k not in header:
                header.append(k)
                for r in rows:
                    r.append("")
        rows.append([item.get(h, "") for h in header])
    write_table(d, table, header, rows)


def rename_column(d: Path, table: str, old: str, new: str) -> None:
    header, rows = read_table(d, table)
    header[header.index(old)] = new
    write_table(d, table, header, rows)


def drop_column(d: Path, table: str, column: str) -> None:
    header, rows = read_table(d, table)
    i = header.index(column)
    write_table(d, table, header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows])


def write_yaml(d: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = d / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str) -> int:
    """1-based number of the first line of ``text`` containing ``fragment``."""
    for i, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return i
    raise AssertionError(f"{fragment!r} not in the text")


def expect(problems: list[Problem], file: str, field: str, reason: str, *,
           row: int | None = None, line: int | None = None) -> Problem:
    """The problem in ``file`` (base name) on ``field`` whose reason contains ``reason``; checks
    its row / line when given. Fails with the list of problems found otherwise."""
    listing = "\n".join(f"  {p!r}" for p in problems) or "  (none)"
    matches = [p for p in problems
               if Path(p.file).name == file and p.field == field and reason in p.reason]
    assert matches, f"no problem in {file} [{field}] with {reason!r}; found:\n{listing}"
    p = matches[0]
    if row is not None:
        assert p.row == row, f"row {p.row} != {row}: {p!r}"
    if line is not None:
        assert p.line == line, f"line {p.line} != {line}: {p!r}"
    return p


BASE_YAML = """\
name: tiny
network:
  products: products.csv
  sites: sites.csv
  production: production.csv
  bom: bom.csv
  lanes: lanes.csv
  policies: policies.csv
  initial_stock: initial_stock.csv
  demand: demand.csv
  disruptions: disruptions.csv
"""


# ---------------------------------------------------------------- the baseline ----------------
def test_tiny_valid_network_has_no_problem(tiny_scenario: Path) -> None:
    assert check_scenario(tiny_scenario) == []
    sc = load_scenario(tiny_scenario)
    assert sc.name == "tiny"
    assert len(sc.network.sites) == 5 and len(sc.network.lanes) == 4


# ---------------------------------------------------------------- YAML document ---------------
def test_yaml_syntax_error_reports_its_line(tiny_dir: Path) -> None:
    text = BASE_YAML + "simulation:\n  horizon_days: 100\n  seed: 7: 8\n"
    path = write_yaml(tiny_dir, text)
    p = expect(check_scenario(path), "scenario.yaml", "", "YAML syntax",
               line=line_of(text, "seed: 7: 8"))
    assert "mapping values are not allowed" in p.reason


def test_unknown_yaml_key_suggests_the_right_one(tiny_dir: Path) -> None:
    text = BASE_YAML + "simulation:\n  horizon_dys: 100\n"
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "simulation.horizon_dys",
           "did you mean 'horizon_days'?", line=line_of(text, "horizon_dys"))


def test_unknown_top_level_key_suggests_the_right_one(tiny_dir: Path) -> None:
    text = BASE_YAML + "simulaton:\n  horizon_days: 100\n"
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "simulaton", "did you mean 'simulation'?",
           line=line_of(text, "simulaton"))


def test_wrong_setting_value_names_key_and_line(tiny_dir: Path) -> None:
    text = BASE_YAML + "simulation:\n  seed: -1\n  horizon_days: ninety\n"
    path = write_yaml(tiny_dir, text)
    problems = check_scenario(path)
    expect(problems, "scenario.yaml", "simulation.seed", "greater than or equal to 0",
           line=line_of(text, "seed: -1"))
    expect(problems, "scenario.yaml", "simulation.horizon_days", "valid number",
           line=line_of(text, "ninety"))


def test_missing_table_file(tiny_dir: Path) -> None:
    (tiny_dir / "lanes.csv").unlink()
    expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "", "file not found")


# ---------------------------------------------------------------- CSV columns -----------------
def test_misspelled_column_suggests_the_right_one(tiny_dir: Path) -> None:
    rename_column(tiny_dir, "products", "shelf_life_days", "shelf_life_dys")
    problems = check_scenario(tiny_dir / "scenario.yaml")
    expect(problems, "products.csv", "shelf_life_dys", "did you mean 'shelf_life_days'?", row=0)
    # the misspelt required column is also reported as missing
    expect(problems, "products.csv", "shelf_life_days", "required column is missing", row=0)


def test_unknown_column_lists_the_known_ones(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "lanes", 1, "colour", "blue")
    p = expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "colour",
               "unknown column 'colour'", row=0)
    assert "transit_time_days" in p.reason  # no close match: the known columns are listed


def test_missing_required_column(tiny_dir: Path) -> None:
    drop_column(tiny_dir, "sites", "kind")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "sites.csv", "kind",
           "required column is missing", row=0)


# ---------------------------------------------------------------- CSV cells -------------------
def test_text_in_a_number_column(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "products", 2, "shelf_life_days", "two years")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "products.csv", "shelf_life_days",
           "valid number", row=2)


def test_negative_value(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "products", 1, "unit_value_usd", "-5")
    p = expect(check_scenario(tiny_dir / "scenario.yaml"), "products.csv", "unit_value_usd",
               "greater than or equal to 0", row=1)
    assert "-5" in p.reason


def test_unknown_enum_value(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "lanes", 2, "mode", "teleport")
    p = expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "mode", "teleport", row=2)
    assert "road" in p.reason  # the allowed values are listed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("lognormal(mean=2)", "lognormal() needs cv"),
        ("gumbel(2, 3)", "unknown distribution 'gumbel'"),  # weibull is known since calibration
        ("triangular(5, 3, 1)", "low <= mode <= high"),
        ("about three days", "cannot read"),
    ],
)
def test_bad_distribution_text(tiny_dir: Path, text: str, reason: str) -> None:
    set_cell(tiny_dir, "production", 2, "cycle_time_days", text)
    expect(check_scenario(tiny_dir / "scenario.yaml"), "production.csv", "cycle_time_days",
           reason, row=2)


def test_bad_departure_schedule(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "lanes", 1, "departure_schedule", "weekly:funday")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "departure_schedule",
           "weekly needs days", row=1)


def test_duplicate_ids(tiny_dir: Path) -> None:
    append_rows(tiny_dir, "sites", {"site_id": "DC", "name": "again", "kind": "distribution_centre",
                                    "latitude": "1", "longitude": "1"})
    expect(check_scenario(tiny_dir / "scenario.yaml"), "sites.csv", "site_id",
           "duplicate site_id 'DC' (first at row 3)", row=6)


# ---------------------------------------------------------------- references ------------------
def test_unknown_site_reference(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "lanes", 2, "destination_id", "DCX")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "destination_id",
           "unknown site 'DCX'", row=2)


def test_unknown_product_reference(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "demand", 1, "product_id", "MABX")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "demand.csv", "product_id",
           "unknown product 'MABX'", row=1)


# ---------------------------------------------------------------- cold chain ------------------
def test_packaging_cannot_hold_the_temperature_class(tiny_dir: Path) -> None:
    # L1 (plant -> DC) carries the refrigerated MAB; an ambient shipper cannot hold 2-8 C.
    set_cell(tiny_dir, "lanes", 2, "packaging", "ambient")
    p = expect(check_scenario(tiny_dir / "scenario.yaml"), "policies.csv", "sources",
               "cannot hold 'MAB' (refrigerated)", row=4)
    assert "'L1'" in p.reason and "ambient" in p.reason


def test_packaging_of_a_customer_lane_cannot_hold_the_product(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "demand", 1, "sources", "L2")
    set_cell(tiny_dir, "lanes", 3, "packaging", "ambient")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "demand.csv", "sources",
           "cannot hold 'MAB' (refrigerated)", row=1)


def test_packaging_on_an_impossible_mode(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "lanes", 2, "mode", "courier")  # an active container is not a parcel
    expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "packaging",
           "active packaging cannot travel by courier", row=2)


def test_passive_packaging_needs_qualified_hours(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "lanes", 3, "qualified_hours", "")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "lanes.csv", "qualified_hours",
           "needs the hours it is qualified for", row=3)


# ---------------------------------------------------------------- sourcing --------------------
def test_product_with_no_source(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "policies", 4, "sources", "make")  # the DC cannot make MAB
    expect(check_scenario(tiny_dir / "scenario.yaml"), "policies.csv", "sources",
           "sources=make but no production row for DC/MAB", row=4)


def test_customer_that_no_producing_site_can_reach(tiny_dir: Path) -> None:
    # Two DCs that replenish each other (every row is valid on its own) and serve customer C3:
    # no lane path leads from the plant to C3.
    append_rows(
        tiny_dir, "sites",
        {"site_id": "DC2", "kind": "distribution_centre", "latitude": "40", "longitude": "3"},
        {"site_id": "DC3", "kind": "distribution_centre", "latitude": "41", "longitude": "2"},
        {"site_id": "C3", "kind": "customer", "latitude": "40.4", "longitude": "3.7"},
    )
    append_rows(
        tiny_dir, "lanes",
        {"lane_id": "L5", "origin_id": "DC3", "destination_id": "DC2", "mode": "road",
         "transit_time_days": "fixed(1)", "packaging": "active"},
        {"lane_id": "L6", "origin_id": "DC2", "destination_id": "DC3", "mode": "road",
         "transit_time_days": "fixed(1)", "packaging": "active"},
        {"lane_id": "L7", "origin_id": "DC2", "destination_id": "C3", "mode": "road",
         "transit_time_days": "fixed(1)", "packaging": "passive_refrigerated",
         "qualified_hours": "72"},
    )
    append_rows(
        tiny_dir, "policies",
        {"site_id": "DC2", "product_id": "MAB", "policy": "base_stock", "order_up_to_units": "100",
         "sources": "L5"},
        {"site_id": "DC3", "product_id": "MAB", "policy": "base_stock", "order_up_to_units": "100",
         "sources": "L6"},
    )
    append_rows(tiny_dir, "demand", {"customer_id": "C3", "product_id": "MAB",
                                     "orders_per_day": "1", "order_size_units": "fixed(2)"})
    problems = check_scenario(tiny_dir / "scenario.yaml")
    expect(problems, "demand.csv", "customer_id",
           "no producing site of 'MAB' can reach 'C3' over the lanes", row=3)
    # the two DCs replenishing each other are also a sourcing loop, named on its first row
    expect(problems, "policies.csv", "sources", "sourcing loop for 'MAB': DC2 <- DC3 <- DC2",
           row=5)
    assert len(problems) == 2, problems


def test_bom_cycle(tiny_dir: Path) -> None:
    # P also makes API, from MAB, while MAB is made from API: API -> MAB -> API.
    append_rows(tiny_dir, "production", {"site_id": "P", "product_id": "API",
                                         "cycle_time_days": "fixed(1)", "lines": "1"})
    append_rows(tiny_dir, "bom", {"site_id": "P", "product_id": "API", "input_product_id": "MAB",
                                  "input_units_per_batch": "1"})
    problems = check_scenario(tiny_dir / "scenario.yaml")
    p = expect(problems, "bom.csv", "input_product_id", "bill-of-materials cycle")
    assert p.row in (1, 2)
    assert "API" in p.reason and "MAB" in p.reason


# ---------------------------------------------------------------- extends ---------------------
def test_extends_loop(tiny_dir: Path) -> None:
    write_yaml(tiny_dir, "name: a\nextends: b.yaml\n", "a.yaml")
    write_yaml(tiny_dir, "extends: a.yaml\n" + BASE_YAML, "b.yaml")
    p = expect(check_scenario(tiny_dir / "a.yaml"), "b.yaml", "extends", "extends loop")
    assert "a.yaml -> b.yaml -> a.yaml" in p.reason


def test_extends_loop_reports_the_line(tiny_dir: Path) -> None:
    write_yaml(tiny_dir, "name: a\nextends: b.yaml\n", "a.yaml")
    write_yaml(tiny_dir, "extends: a.yaml\n" + BASE_YAML, "b.yaml")
    expect(check_scenario(tiny_dir / "a.yaml"), "b.yaml", "extends", "extends loop", line=1)


def test_extends_of_a_missing_file(tiny_dir: Path) -> None:
    text = "name: what-if\nextends: baseline-missing.yaml\n"
    path = write_yaml(tiny_dir, text, "what-if.yaml")
    expect(check_scenario(path), "what-if.yaml", "extends",
           "file not found: baseline-missing.yaml", line=2)


def test_extends_inherits_and_concatenates_disruptions(tiny_dir: Path) -> None:
    text = ("name: what-if\nextends: scenario.yaml\nsimulation: {horizon_days: 50}\n"
            "disruptions:\n  - {disruption_id: extra, kind: site_outage, site_id: DC,"
            " start_day: 1, duration_days: 2}\n")
    sc = load_scenario(write_yaml(tiny_dir, text, "what-if.yaml"))
    assert sc.name == "what-if"
    assert sc.simulation.horizon_days == 50
    assert sc.simulation.seed == 7  # inherited from scenario.yaml
    assert len(sc.network.sites) == 5  # the network paths are relative to scenario.yaml
    assert {d.disruption_id for d in sc.network.disruptions} == {"shutdown", "extra"}


def test_inherited_disruption_problem_names_the_file_that_wrote_it(tiny_dir: Path) -> None:
    base = BASE_YAML + ("disruptions:\n  - {disruption_id: parent-bad, kind: site_outage,"
                        " start_day: 1, duration_days: 3}\n")
    write_yaml(tiny_dir, base, "base.yaml")
    child = ("name: child\nextends: base.yaml\ndisruptions:\n  - {disruption_id: child-ok, "
             "kind: site_outage, site_id: DC, start_day: 1, duration_days: 3}\n")
    path = write_yaml(tiny_dir, child, "child.yaml")
    expect(check_scenario(path), "base.yaml", "disruptions.0", "site_outage needs site_id",
           line=line_of(base, "parent-bad"))


# ---------------------------------------------------------------- edits and disruptions -------
def test_edit_of_a_row_that_does_not_exist(tiny_dir: Path) -> None:
    text = BASE_YAML + "edits:\n  lanes:\n    L11: {mode: air}\n"
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "edits.lanes.L11",
           "no row 'L11' in lanes; did you mean 'L1'?", line=line_of(text, "L11"))


def test_edit_of_an_unknown_table(tiny_dir: Path) -> None:
    text = BASE_YAML + "edits:\n  lane:\n    L1: {mode: air}\n"
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "edits.lane", "unknown table 'lane'",
           line=line_of(text, "lane:"))


def test_edit_with_an_invalid_value(tiny_dir: Path) -> None:
    text = BASE_YAML + "edits:\n  policies:\n    DC/MAB: {order_up_to_units: -3}\n"
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "edits.policies.DC/MAB.order_up_to_units",
           "greater than or equal to 0", line=line_of(text, "DC/MAB"))


def test_yaml_disruption_missing_site_id(tiny_dir: Path) -> None:
    text = BASE_YAML + ("disruptions:\n  - {disruption_id: x, kind: site_outage, start_day: 1,"
                        " duration_days: 3}\n")
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "disruptions.0", "site_outage needs site_id",
           line=line_of(text, "disruption_id: x"))


def test_csv_disruption_missing_site_id(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "disruptions", 1, "site_id", "")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "disruptions.csv", "(row)",
           "planned_shutdown needs site_id", row=1)


def test_yaml_disruption_naming_an_unknown_site(tiny_dir: Path) -> None:
    text = BASE_YAML + ("disruptions:\n  - {disruption_id: x, kind: site_outage, site_id: NOPE,"
                        " start_day: 1, duration_days: 3}\n")
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "disruptions.0.site_id", "unknown site 'NOPE'")


def test_yaml_disruption_naming_an_unknown_site_reports_the_line(tiny_dir: Path) -> None:
    text = BASE_YAML + ("disruptions:\n  - {disruption_id: x, kind: site_outage, site_id: NOPE,"
                        " start_day: 1, duration_days: 3}\n")
    path = write_yaml(tiny_dir, text)
    expect(check_scenario(path), "scenario.yaml", "disruptions.0.site_id", "unknown site 'NOPE'",
           line=line_of(text, "NOPE"))


# ---------------------------------------------------------------- --set -----------------------
def test_set_overrides_a_setting(tiny_scenario: Path) -> None:
    sc = load_scenario(tiny_scenario, ["simulation.horizon_days=10"])
    assert sc.simulation.horizon_days == 10
    assert sc.resolved["simulation"]["horizon_days"] == 10


def test_set_edits_a_table_cell(tiny_scenario: Path) -> None:
    assert load_scenario(tiny_scenario).network.lanes["L1"].mode.value == "road"
    sc = load_scenario(tiny_scenario, ["edits.lanes.L1.mode=air"])
    assert sc.network.lanes["L1"].mode.value == "air"
    assert sc.network.lanes["L2"].mode.value == "road"


def test_set_with_an_invalid_value_is_a_problem(tiny_scenario: Path) -> None:
    problems = check_scenario(tiny_scenario, ["simulation.horizon_days=-4"])
    assert any(p.field == "simulation.horizon_days" and "greater than 0" in p.reason
               for p in problems), problems


def test_set_that_breaks_the_cold_chain_is_a_problem(tiny_scenario: Path) -> None:
    problems = check_scenario(tiny_scenario, ["edits.lanes.L1.mode=courier"])
    expect(problems, "lanes.csv", "packaging", "active packaging cannot travel by courier", row=2)


def test_set_without_equals_sign(tiny_scenario: Path) -> None:
    problems = check_scenario(tiny_scenario, ["simulation.horizon_days"])
    assert any(p.file == "--set" and "KEY.PATH=VALUE" in p.reason for p in problems), problems


# ---------------------------------------------------------------- one pass --------------------
def test_problems_in_several_files_are_reported_in_one_pass(tiny_dir: Path) -> None:
    text = BASE_YAML + "costs:\n  holding_rate_per_yaer: 0.3\n"
    path = write_yaml(tiny_dir, text)
    set_cell(tiny_dir, "products", 2, "shelf_life_days", "forever")
    set_cell(tiny_dir, "lanes", 4, "mode", "drone")
    set_cell(tiny_dir, "initial_stock", 1, "quantity_units", "0")
    problems = check_scenario(path)
    expect(problems, "scenario.yaml", "costs.holding_rate_per_yaer", "did you mean",
           line=line_of(text, "holding_rate_per_yaer"))
    expect(problems, "products.csv", "shelf_life_days", "valid number", row=2)
    expect(problems, "lanes.csv", "mode", "drone", row=4)
    expect(problems, "initial_stock.csv", "quantity_units", "greater than 0", row=1)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == len(set(problems))
    files = {Path(p.file).name for p in info.value.problems}
    assert {"scenario.yaml", "products.csv", "lanes.csv", "initial_stock.csv"} <= files
    message = str(info.value)
    assert f"{len(info.value.problems)} problems found" in message


# ---------------------------------------------------------------- external suppliers ----------
def make_external(d: Path, *, keep_production: bool = False, keep_policy: bool = False) -> None:
    """The tiny network's API supplier S as a vendor: kind external_supplier, and (unless
    kept) without its production and policy rows."""
    set_cell(d, "sites", 1, "kind", "external_supplier")
    set_cell(d, "sites", 1, "supply_lead_time_days", "fixed(3)")
    for table, keep in (("production", keep_production), ("policies", keep_policy)):
        header, rows = read_table(d, table)
        write_table(d, table, header, [r for r in rows if keep or r[0] != "S"])


def test_external_supplier_needs_no_stock_policy_or_production(tiny_dir: Path) -> None:
    make_external(tiny_dir)
    assert check_scenario(tiny_dir / "scenario.yaml") == []
    sc = load_scenario(tiny_dir / "scenario.yaml")
    assert sc.network.sites["S"].is_external_supplier


def test_external_supplier_with_a_production_row(tiny_dir: Path) -> None:
    make_external(tiny_dir, keep_production=True)
    expect(check_scenario(tiny_dir / "scenario.yaml"), "production.csv", "site_id",
           "is an external_supplier", row=1)


def test_external_supplier_with_a_policy_row(tiny_dir: Path) -> None:
    make_external(tiny_dir, keep_policy=True)
    expect(check_scenario(tiny_dir / "scenario.yaml"), "policies.csv", "site_id",
           "holds no stock of ours", row=1)


def test_supply_columns_on_a_site_that_is_no_external_supplier(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "sites", 3, "supply_on_time_prob", "0.9")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "sites.csv", "(row)",
           "supply_on_time_prob only applies to kind external_supplier", row=3)


def test_unreliable_external_supplier_needs_its_lateness(tiny_dir: Path) -> None:
    make_external(tiny_dir)
    set_cell(tiny_dir, "sites", 1, "supply_on_time_prob", "0.9")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "sites.csv", "(row)",
           "needs supply_late_days", row=1)


def test_handling_capacity_on_a_customer(tiny_dir: Path) -> None:
    set_cell(tiny_dir, "sites", 4, "handling_capacity_units_per_day", "10")
    expect(check_scenario(tiny_dir / "scenario.yaml"), "sites.csv", "(row)",
           "a customer has none", row=4)
