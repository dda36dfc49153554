"""The scenario-format reference, generated from the schema.

``docs/scenario-format.md`` is the output of :func:`render_scenario_format`; nothing in it is
written per key or per column by hand. The YAML sections come from
:class:`~supplytwin.scenario.document.ScenarioDocument` and the settings classes, the tables from
the row models in :data:`~supplytwin.model.tables.TABLES`, the cold-chain rules from
:data:`~supplytwin.model.enums.PACKAGING_HOLDS` and :data:`~supplytwin.model.enums.PACKAGING_MODES`.
Regenerate the file with::

    python -m supplytwin.scenario.reference > docs/scenario-format.md

The introspection helpers here (:func:`field_docs`, :class:`FieldDoc`) are shared with
:mod:`supplytwin.scenario.template`, which renders the same schema as a commented YAML file.
"""

from __future__ import annotations

import datetime as dt
import enum
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from supplytwin.model.enums import PACKAGING_HOLDS, PACKAGING_MODES, Mode, TemperatureClass
from supplytwin.model.schedule import SCHEDULE_GUIDE, parse_schedule
from supplytwin.model.tables import ID_PATTERN, TABLES, Row
from supplytwin.scenario.document import NetworkFiles, ScenarioDocument
from supplytwin.stochastic import DISTRIBUTION_NAMES

#: the command that regenerates docs/scenario-format.md (quoted by the drift test)
REGENERATE = "python -m supplytwin.scenario.reference > docs/scenario-format.md"

#: one example and its reading per distribution name; a test checks that every name of
#: DISTRIBUTION_NAMES has one and that every example parses.
DISTRIBUTION_EXAMPLES: dict[str, tuple[str, str]] = {
    "fixed": ("fixed(3)", "always 3; a bare number such as `3` means the same"),
    "exponential": ("exponential(mean=2)", "memoryless, mean 2"),
    "uniform": ("uniform(2, 5)", "uniform between low 2 and high 5"),
    "triangular": ("triangular(2, 3, 6)", "low 2, most likely 3, high 6"),
    "normal": ("normal(mean=10, sd=2)", "normal truncated at 0; sd at most mean/2"),
    "lognormal": ("lognormal(mean=5, cv=0.4)", "by its own mean and coefficient of variation"),
    "gamma": ("gamma(mean=5, cv=0.5)", "by its own mean and coefficient of variation"),
    "poisson": ("poisson(mean=4)", "integer counts with mean 4"),
    "weibull": ("weibull(shape=1.5, scale=10)",
                "shape k and scale (days); what `calibrate shipments` may fit"),
    "empirical": (
        "empirical(transit_days.csv)",
        ("resampled from the first numeric column of a CSV file (relative to the table or "
         "scenario that names it)"),
    ),
}

#: departure schedules shown in the docs; only those the parser accepts are listed.
_SCHEDULE_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("daily", ("the default: a departure at the start of every day; the day's orders travel "
               "together and share one transit-time draw")),
    ("every:3", "a departure every 3 days (day 0, 3, 6, ...)"),
    ("weekly:mon,thu",
     "departures on Mondays and Thursdays (weekdays follow simulation.start_date)"),
    ("on_demand", ("each shipment leaves as soon as it is picked, with its own transit-time "
                   "draw (courier, parcel)")),
)


# ---------------------------------------------------------------- schema introspection --------
@dataclass(frozen=True)
class FieldDoc:
    """Everything the docs and the template say about one key or column."""

    name: str
    required: bool
    #: readable type: "number", "integer", "id", "distribution", "one of ...", ...
    kind: str
    #: allowed values of an enumerated column, else ()
    choices: tuple[str, ...]
    #: readable bounds, e.g. "> 0" or ">= 0, <= 1"
    bounds: str
    unit: str
    description: str
    #: True when the default is None (an empty cell / no value)
    nullable: bool
    #: the default value (PydanticUndefined when required)
    default: Any

    @property
    def type_text(self) -> str:
        text = self.kind
        if self.choices:
            text = "one of " + ", ".join(f"`{c}`" for c in self.choices)
        if self.bounds:
            text += f" {self.bounds}"
        return text

    def default_text(self, empty: str = "empty") -> str:
        """The default as a planner writes it (``empty`` for none)."""
        if self.required:
            return ""
        return format_value(self.default, empty=empty)


def format_value(value: Any, empty: str = "empty") -> str:
    if value is PydanticUndefined:
        return ""
    if value is None or value == "" or value == () or value == []:
        return empty
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ";".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    if isinstance(value, BaseModel):
        return "(section)"
    return str(value)


def _bounds(prop: dict[str, Any]) -> str:
    parts = []
    for key, op in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"),
                    ("maximum", "<=")):
        if key in prop:
            parts.append(f"{op} {prop[key]:g}")
    if "minLength" in prop and prop["minLength"] > 0:
        parts.append("not empty")
    if "maxLength" in prop and prop.get("pattern") != ID_PATTERN:
        parts.append(f"at most {prop['maxLength']} characters")
    return ", ".join(parts)


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[str, tuple[str, ...], dict]:
    """(readable type, enum choices, the property with anyOf/null and $ref resolved)."""
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        if len(options) == 1:
            prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **options[0]}
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        prop = {**{k: v for k, v in prop.items() if k != "$ref"}, **target}
        if "enum" not in target:
            return "section", (), prop
    if "enum" in prop:
        return "one of", tuple(str(v) for v in prop["enum"]), prop
    fmt = prop.get("format", "")
    if fmt == "distribution":
        return "distribution", (), prop
    if fmt == "semicolon-separated ids":
        return "ids separated by `;`", (), prop
    if fmt == "semicolon-separated numbers":
        return "numbers separated by `;`", (), prop
    if fmt == "date":
        return "date (YYYY-MM-DD)", (), prop
    if fmt:
        return fmt, (), prop
    if prop.get("pattern") == ID_PATTERN:
        return "id", (), prop
    kind = {
        "number": "number", "integer": "integer", "boolean": "true/false", "string": "text",
        "array": "list", "object": "mapping",
    }.get(prop.get("type", ""), prop.get("type", "value"))
    return kind, (), prop


def field_docs(model: type[BaseModel]) -> list[FieldDoc]:
    """One :class:`FieldDoc` per field of ``model``, in declaration order."""
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    out = []
    for name, info in model.model_fields.items():
        prop = schema["properties"].get(name, {})
        kind, choices, resolved = _kind(prop, defs)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if info.default_factory is not None:
            default: Any = info.default_factory()  # type: ignore[call-arg]
        else:
            default = info.default
        out.append(FieldDoc(
            name=name,
            required=info.is_required(),
            kind=kind,
            choices=choices,
            bounds=_bounds(resolved),
            unit=str(extra.get("unit", "")),
            description=" ".join((info.description or "").split()),
            nullable=not info.is_required() and default is None,
            default=default,
        ))
    return out


def settings_sections() -> dict[str, type[BaseModel]]:
    """The YAML sections of a scenario that are settings classes (simulation, cold_chain, ...)."""
    out = {}
    for name, info in ScenarioDocument.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and ann is not NetworkFiles:
            out[name] = ann
    return out


def row_id_text(model: type[Row]) -> str:
    return "/".join(model.key)


def distribution_examples() -> list[tuple[str, str, str]]:
    """(name, example, reading) for every distribution the parser knows, in its order."""
    return [
        (name, *DISTRIBUTION_EXAMPLES.get(name, (f"{name}(...)", "")))
        for name in DISTRIBUTION_NAMES
    ]


def schedule_examples() -> list[tuple[str, str]]:
    out = []
    for text, reading in _SCHEDULE_EXAMPLES:
        try:
            parse_schedule(text)
        except ValueError:
            continue
        out.append((text, reading))
    return out


# ---------------------------------------------------------------- Markdown --------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(c) for c in r) + " |")
    return lines


def yaml_default_text(f: FieldDoc) -> str:
    """The default of a YAML key as it would be written in the YAML."""
    if f.required:
        return "(required)"
    if isinstance(f.default, BaseModel):
        return "see below"
    if f.default is None:
        return "none"
    if isinstance(f.default, str | list | dict) and not f.default:
        return {str: '`""`', list: "`[]`", dict: "`{}`"}[type(f.default)]
    return f"`{format_value(f.default)}`"


def _section_table(docs: list[FieldDoc], kind: str | None = None) -> list[str]:
    rows = []
    for f in docs:
        rows.append([f"`{f.name}`", kind or f.type_text, f.unit, yaml_default_text(f),
                     f.description])
    return _md_table(["key", "type", "unit", "default", "description"], rows)


def _column_table(docs: list[FieldDoc]) -> list[str]:
    rows = []
    for f in docs:
        default = "" if f.required else f"`{f.default_text()}`"
        rows.append([f"`{f.name}`", "yes" if f.required else "no", f.type_text, f.unit, default,
                     f.description])
    return _md_table(["column", "required", "type / allowed values", "unit", "default",
                      "description"], rows)


_INTRO = """\
A scenario is one YAML file plus the CSV tables it names. The YAML is short and readable, so a
what-if is a small diff on its baseline; the tables are spreadsheet-friendly, one file per entity.

```yaml
name: pr-hurricane
extends: baseline.yaml          # inherit everything, override below
description: Fill-finish site in Puerto Rico down for 6 weeks.
disruptions:
  - {disruption_id: maria, kind: site_outage, site_id: FF-PR, start_day: 120, duration_days: 42}
edits:                          # change cells of the network tables by row id
  lanes:
    L-DS-IE-FF-PR-AIR: {mode: sea, transit_time_days: "triangular(14, 18, 25)"}
```

Check a scenario with `supplytwin validate SCENARIO`: it lists every problem in one pass, each
with its file, CSV row (1 = first row after the header, 0 = the header) or YAML line, field and
reason, and exits with code 2 if there is any. `supplytwin template` prints a fully commented
scenario generated from the same schema as this page.

### Tables and paths

The `network:` section names one CSV file per table. Paths are relative to the YAML file that
writes them: a scenario that `extends:` a baseline in another folder keeps the baseline's tables
where they are. A `series_file` of `demand.csv` and the file of an `empirical(...)` distribution
are relative to the table that names them (for a distribution written in the YAML: to the
scenario file given on the command line). CSV files are UTF-8 (a byte-order mark is accepted),
comma-separated, with a header row naming the columns; column order does not matter, an empty
cell takes the column's default, and a cell holding a comma (such as `"triangular(2, 3, 6)"`)
must be quoted. Unknown columns and missing required columns are errors. Ids (of products,
sites, lanes, lots, ...) start with a letter or digit and continue with letters, digits, `_`,
`.` or `-` (at most 64 characters); lists of ids in one cell are separated by `;`.

Only regular files are read (not folders, devices such as `/dev/zero`, or named pipes), of at
most 5 MB for a scenario YAML and 200 MB for a table. YAML anchors and aliases are accepted up to
200,000 values once expanded (an "alias bomb" is refused), and a key written twice in one mapping
is an error (YAML would silently keep only the last).

### Bounds

Every number must be finite (`inf` and `nan` are refused). Beyond the bounds of each column
below, sizes are bounded by their unit so that a typo cannot run for hours or overflow to
infinity: quantities in `units` at most 1e9, durations in `days` at most 1e7 (the horizon at most
36,500), `orders/day` at most 1e5, any other number (money, rates) at most 1e12; the same bounds
apply to the mean of a distribution. Names and descriptions must not hold control characters
(such as ESC) or bidirectional-override characters. A replication also runs under a budget
(`simulation.max_events`, `simulation.time_limit_seconds`, or `--max-events` and `--time-limit`
on `run` and `compare`): a run beyond it stops with a message naming the processes that hold
most pending events, and nothing is written.

### `extends:`

`extends: other.yaml` inherits everything from `other.yaml` (which may itself extend another
file; loops, symlink loops and chains of more than 50 files are errors; `extends` cannot be
changed with `--set`). Mappings are merged key by key with the child winning; lists are
replaced, except `disruptions:`, which are concatenated, so a what-if adds disruptions to those of
its base.

### `--set` overrides

Every command that reads a scenario takes `--set KEY.PATH=VALUE` (repeatable). It is applied
after `extends:` and before validation, and the value is read as YAML (`10` is a number, `air` a
word, `[a, b]` a list). Examples: `--set simulation.horizon_days=90`,
`--set costs.holding_rate_per_year=0.25`, and for a table cell
`--set edits.lanes.L1.mode=air` (row ids may contain dots).

### `edits:`

`edits.TABLE.ROW_ID.COLUMN: value` changes one cell of a table without copying the CSV. The row
id is the row's key columns joined by `/`:

{row_ids}

An edit naming a row that does not exist is an error (with a "did you mean").

### Distributions

Columns and keys holding durations or quantities that vary accept a distribution expression (the
unit is in the column name, not in the expression). A bare number means `fixed(number)`.

{distributions}

### Departure schedules

`departure_schedule` of `lanes.csv` says when shipments leave a lane; orders wait for the next
departure.

{schedules}

**Which to pick.** {schedule_guide}
"""


def render_scenario_format() -> str:
    """The Markdown of ``docs/scenario-format.md``."""
    row_ids = "\n".join(
        f"- `{name}`: `{row_id_text(model)}`" for name, (model, _req) in TABLES.items()
    )
    dists = "\n".join(_md_table(
        ["distribution", "example", "meaning"],
        [[f"`{n}`", f"`{ex}`", reading] for n, ex, reading in distribution_examples()],
    ))
    schedules = "\n".join(_md_table(
        ["schedule", "meaning"], [[f"`{s}`", reading] for s, reading in schedule_examples()]
    ))
    out: list[str] = [
        "# Scenario format",
        "",
        ("<!-- Generated from the schema in supplytwin/model and supplytwin/scenario/document.py "
         f"by `{REGENERATE}`. Do not edit by hand. -->"),
        "",
        _INTRO.replace("{row_ids}", row_ids).replace("{distributions}", dists)
        .replace("{schedules}", schedules).replace("{schedule_guide}", SCHEDULE_GUIDE).rstrip(),
        "",
        "## YAML sections",
        "",
        "### Top-level keys",
        "",
        *_section_table(field_docs(ScenarioDocument)),
        "",
        "### `network`",
        "",
        " ".join((NetworkFiles.__doc__ or "").split()),
        "",
        *_section_table(field_docs(NetworkFiles), kind="path of a CSV file"),
    ]
    for name, model in settings_sections().items():
        out += ["", f"### `{name}`", "", " ".join((model.__doc__ or "").split()), "",
                *_section_table(field_docs(model))]
    out += [
        "",
        "### `disruptions`",
        "",
        ("A list; each item has the columns of the [disruptions table](#table-disruptions), e.g. "
         "`{disruption_id: maria, kind: site_outage, site_id: FF-PR, start_day: 120, "
         "duration_days: 42}`."),
        "",
        "### `edits`",
        "",
        " ".join((ScenarioDocument.model_fields["edits"].description or "").split()),
        "",
        "## Tables",
    ]
    for name, (model, required) in TABLES.items():
        out += [
            "",
            f"### Table `{name}`",
            "",
            (f"`{name}.csv` ({'required' if required else 'optional'} table; row id "
             f"`{row_id_text(model)}`). {' '.join(model.doc.split())}"),
            "",
            *_column_table(field_docs(model)),
        ]
    tclasses = list(TemperatureClass)
    modes = list(Mode)
    out += [
        "",
        "## Cold-chain compatibility",
        "",
        ("A lane can carry a product only if its packaging holds the product's temperature class "
         "and can travel on the lane's mode. Validation reports a lane that breaks either rule."),
        "",
        "### Packaging and temperature classes",
        "",
        *_md_table(
            ["packaging", *(f"`{t.value}`" for t in tclasses)],
            [[f"`{p.value}`", *("yes" if t in holds else "-" for t in tclasses)]
             for p, holds in PACKAGING_HOLDS.items()],
        ),
        "",
        "### Packaging and modes",
        "",
        *_md_table(
            ["packaging", *(f"`{m.value}`" for m in modes)],
            [[f"`{p.value}`", *("yes" if m in ok else "-" for m in modes)]
             for p, ok in PACKAGING_MODES.items()],
        ),
    ]
    return "\n".join(out) + "\n"


def main() -> None:
    sys.stdout.write(render_scenario_format())


if __name__ == "__main__":
    main()
