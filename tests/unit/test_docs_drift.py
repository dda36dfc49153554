"""docs/scenario-format.md and ``supplytwin template`` are generated from the schema: check that
the committed file is up to date and that both cover every key and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from supplytwin.model.schedule import parse_schedule
from supplytwin.model.tables import TABLES, DisruptionRow
from supplytwin.scenario.document import NetworkFiles, ScenarioDocument
from supplytwin.scenario.reference import (
    DISTRIBUTION_EXAMPLES,
    REGENERATE,
    render_scenario_format,
    schedule_examples,
    settings_sections,
)
from supplytwin.scenario.template import DISRUPTION_EXAMPLES, EDIT_EXAMPLES, render_template
from supplytwin.stochastic import DISTRIBUTION_NAMES, parse_distribution

pytestmark = pytest.mark.unit

DOC = Path(__file__).parents[2] / "docs" / "scenario-format.md"


@pytest.fixture(scope="module")
def rendered() -> str:
    return render_scenario_format()


def test_committed_doc_matches_the_schema(rendered: str) -> None:
    assert DOC.is_file(), f"{DOC} is missing; generate it with `{REGENERATE}`"
    committed = DOC.read_text(encoding="utf-8")
    if committed != rendered:
        import difflib

        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(keepends=True), rendered.splitlines(keepends=True),
            "docs/scenario-format.md (committed)", "render_scenario_format()", n=1))[:60])
        pytest.fail(f"docs/scenario-format.md is out of date with the schema; regenerate it with "
                    f"`{REGENERATE}` (or `make docs`).\n{diff}")


def test_rendering_is_deterministic(rendered: str) -> None:
    assert render_scenario_format() == rendered


def _doc_section(doc: str, heading: str) -> str:
    start = doc.index(heading)
    nxt = doc.find("\n### ", start + len(heading))
    nxt2 = doc.find("\n## ", start + len(heading))
    ends = [e for e in (nxt, nxt2) if e != -1]
    return doc[start:min(ends) if ends else len(doc)]


@pytest.mark.parametrize("table", list(TABLES))
def test_every_column_is_documented_in_its_table_section(rendered: str, table: str) -> None:
    section = _doc_section(rendered, f"### Table `{table}`")
    model, required = TABLES[table]
    assert ("required table" if required else "optional table") in section
    for name, info in model.model_fields.items():
        assert f"| `{name}` |" in section, f"column {table}.{name} missing from the doc"
        if info.description:
            assert " ".join(info.description.split()) in section


def test_every_enum_value_is_listed(rendered: str) -> None:
    import enum

    for table, (model, _) in TABLES.items():
        section = _doc_section(rendered, f"### Table `{table}`")
        for name, info in model.model_fields.items():
            ann = info.annotation
            args = getattr(ann, "__args__", (ann,))
            for a in args:
                if isinstance(a, type) and issubclass(a, enum.Enum):
                    for v in a:
                        assert f"`{v.value}`" in section, f"{table}.{name} value {v.value}"


def test_every_yaml_key_is_documented(rendered: str) -> None:
    top = _doc_section(rendered, "### Top-level keys")
    for name in ScenarioDocument.model_fields:
        assert f"| `{name}` |" in top
    net = _doc_section(rendered, "### `network`")
    for name in NetworkFiles.model_fields:
        assert f"| `{name}` |" in net
    sections = settings_sections()
    assert {"simulation", "cold_chain", "costs", "kpis"} <= set(sections)
    for section, model in sections.items():
        text = _doc_section(rendered, f"### `{section}`")
        for name, info in model.model_fields.items():
            assert f"| `{name}` |" in text, f"settings key {section}.{name} missing from the doc"
            unit = (info.json_schema_extra or {}).get("unit")  # type: ignore[union-attr]
            if unit:
                row = next(l for l in text.splitlines() if l.startswith(f"| `{name}` |"))
                assert f"| {unit} |" in row


def test_units_are_in_the_table_rows(rendered: str) -> None:
    for table, (model, _) in TABLES.items():
        section = _doc_section(rendered, f"### Table `{table}`")
        for name, info in model.model_fields.items():
            unit = (info.json_schema_extra or {}).get("unit")  # type: ignore[union-attr]
            if unit:
                row = next(l for l in section.splitlines() if l.startswith(f"| `{name}` |"))
                assert f"| {unit} |" in row, row


def test_distribution_syntax_is_complete_and_examples_parse(rendered: str, tmp_path: Path) -> None:
    assert set(DISTRIBUTION_EXAMPLES) == set(DISTRIBUTION_NAMES), (
        "add an example for every distribution in supplytwin/scenario/reference.py")
    (tmp_path / "transit_days.csv").write_text("days\n1\n2.5\n", encoding="utf-8")
    for name, (example, _reading) in DISTRIBUTION_EXAMPLES.items():
        assert parse_distribution(example, tmp_path).name == name
        assert f"`{example}`" in rendered


def test_schedule_examples_parse(rendered: str) -> None:
    examples = schedule_examples()
    assert {"daily", "every:3", "weekly:mon,thu"} <= {s for s, _ in examples}
    for text, _ in examples:
        parse_schedule(text)
        assert f"`{text}`" in rendered


def test_cold_chain_tables_cover_every_packaging(rendered: str) -> None:
    from supplytwin.model.enums import Mode, Packaging, TemperatureClass

    holds = _doc_section(rendered, "### Packaging and temperature classes")
    modes = _doc_section(rendered, "### Packaging and modes")
    for p in Packaging:
        assert f"| `{p.value}` |" in holds and f"| `{p.value}` |" in modes
    for t in TemperatureClass:
        assert f"`{t.value}`" in holds.splitlines()[2]
    for m in Mode:
        assert f"`{m.value}`" in modes.splitlines()[2]


def test_markdown_tables_are_well_formed(rendered: str) -> None:
    for block in re.split(r"\n\n", rendered):
        lines = [l for l in block.splitlines() if l.startswith("|")]
        if not lines:
            continue
        widths = {len(re.findall(r"(?<!\\)\|", l)) for l in lines}
        assert len(widths) == 1, f"ragged table:\n{block}"


# ---------------------------------------------------------------- the template ----------------
def test_template_covers_every_key() -> None:
    text = render_template()
    data = yaml.safe_load(text)
    for name in ScenarioDocument.model_fields:
        assert re.search(rf"^#? ?{name}:", text, re.MULTILINE), f"top-level key {name} missing"
    for section, model in settings_sections().items():
        assert set(data[section]) == set(model.model_fields), section
    for table, (model, required) in TABLES.items():
        assert (f"  {table}: {table}.csv" if required else f"  # {table}: {table}.csv") in text
        for name in model.model_fields:
            assert re.search(rf"\b{name}\b", text), f"column {table}.{name} not in the template"


def test_template_examples_are_valid() -> None:
    for item in DISRUPTION_EXAMPLES:
        DisruptionRow.model_validate(item)
    for table, rows in EDIT_EXAMPLES.items():
        model = TABLES[table][0]
        for row_id, changes in rows.items():
            assert len(row_id.split("/")) == len(model.key)
            assert set(changes) <= set(model.model_fields)
