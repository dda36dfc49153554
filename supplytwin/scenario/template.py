"""A fully commented scenario YAML, generated from the schema (``supplytwin template``).

Every key of every section is written with its description, unit, allowed values and default,
taken from the pydantic models (:class:`~supplytwin.scenario.document.ScenarioDocument`, the
settings classes and the table row models); no key is described by hand here. The output parses
as YAML, and with its ``network:`` paths pointing at real tables it is a valid scenario whose
settings are all at their defaults.
"""

from __future__ import annotations

import enum
import textwrap
from typing import Any

import yaml
from pydantic import BaseModel

from supplytwin.model.schedule import SCHEDULE_GUIDE
from supplytwin.model.tables import TABLES, Row
from supplytwin.scenario.document import NetworkFiles, ScenarioDocument
from supplytwin.scenario.reference import (
    FieldDoc,
    distribution_examples,
    field_docs,
    format_value,
    row_id_text,
    schedule_examples,
)
from supplytwin.stochastic import Distribution

WIDTH = 99

#: placeholder values of required keys that have no default
PLACEHOLDERS: dict[str, Any] = {"name": "my-scenario"}

#: example disruptions written (commented) in the template; a test validates each one
DISRUPTION_EXAMPLES: tuple[dict[str, Any], ...] = (
    {"disruption_id": "ff-outage", "kind": "site_outage", "site_id": "FF-1", "start_day": 120,
     "duration_days": 42},
    {"disruption_id": "air-crunch", "kind": "lane_delay", "mode": "air", "mtbf_days": 180,
     "mttr_days": 10, "magnitude": 2},
    {"disruption_id": "flu-season", "kind": "demand_surge", "product_id": "MAB-01",
     "start_day": 300, "duration_days": 60, "magnitude": 1.5},
)

#: example edits written (commented) in the template; a test checks tables and columns exist
EDIT_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "lanes": {"L-FF-DC-1": {"mode": "air", "transit_time_days": "triangular(1, 2, 4)"}},
    "policies": {"DC-1/MAB-01": {"order_up_to_units": 900}},
    "sites": {"DC-2": {"is_open": False}},
}


def _yaml(value: Any) -> str:
    """One value as YAML flow text (quoted where YAML needs it)."""
    if isinstance(value, Distribution):
        value = str(value)
    elif isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False,
                          width=10**6).strip()
    return text.removesuffix("\n...").strip()


def _comment(text: str, indent: str, hanging: str = "") -> list[str]:
    return textwrap.wrap(
        text, width=WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# {hanging}",
        break_on_hyphens=False, break_long_words=False,
    )


def _facts(f: FieldDoc) -> str:
    facts = [f.unit] if f.unit else []
    facts.append(f.type_text.replace("`", ""))
    if f.required:
        facts.append("required")
    elif f.default is not None and not isinstance(f.default, BaseModel | list | dict):
        facts.append(f"default {format_value(f.default, empty='empty')}")
    return "; ".join(facts)


def _doc(model: type) -> str:
    return " ".join((model.__doc__ or "").split())


def _columns(model: type[Row]) -> str:
    parts = []
    for f in field_docs(model):
        unit = f" [{f.unit}]" if f.unit else ""
        parts.append(f"{f.name}{'*' if f.required else ''}{unit}")
    return "columns (* = required): " + ", ".join(parts)


def _section(out: list[str], f: FieldDoc, model: type[BaseModel]) -> None:
    out += _comment(f"{f.name}: {_doc(model) or f.description}", "")
    out.append(f"{f.name}:")
    for key in field_docs(model):
        out += _comment(f"{key.description} ({_facts(key)})", "  ")
        out.append(f"  {key.name}: {_yaml(key.default)}")


def _network(out: list[str], f: FieldDoc) -> None:
    out += _comment(f"{f.name} ({'required' if f.required else 'optional'}): "
                    f"{_doc(NetworkFiles) or f.description}", "")
    out.append(f"{f.name}:")
    for key in field_docs(NetworkFiles):
        model, required = TABLES[key.name]
        out += _comment(f"{key.name} ({'required' if required else 'optional'} table): "
                        f"{' '.join(model.doc.split())} Row id: {row_id_text(model)}.", "  ")
        out += _comment(_columns(model), "  ", "  ")
        line = f"{key.name}: {_yaml(f'{key.name}.csv')}"
        out.append(f"  {line}" if key.required else f"  # {line}")


def _disruptions(out: list[str], f: FieldDoc) -> None:
    model = TABLES["disruptions"][0]
    kinds = next(d for d in field_docs(model) if d.name == "kind").choices
    out += _comment(f"{f.name}: {f.description} {' '.join(model.doc.split())}", "")
    out += _comment("kind: " + ", ".join(kinds), "", "  ")
    out += _comment(_columns(model), "", "  ")
    out += ["# Examples:", f"# {f.name}:"]
    out += [f"#   - {_yaml(item)}" for item in DISRUPTION_EXAMPLES]
    out.append(f"{f.name}: {_yaml(f.default)}")


def _edits(out: list[str], f: FieldDoc) -> None:
    out += _comment(f"{f.name}: {f.description}", "")
    ids = "; ".join(f"{name}: {row_id_text(model)}" for name, (model, _r) in TABLES.items())
    out += _comment(f"Row ids: {ids}.", "", "  ")
    out += ["# Example:", f"# {f.name}:"]
    for table, rows in EDIT_EXAMPLES.items():
        out.append(f"#   {table}:")
        out += [f"#     {rid}: {_yaml(changes)}" for rid, changes in rows.items()]
    out.append(f"{f.name}: {_yaml(f.default)}")


def _header() -> list[str]:
    dists = "  ".join(ex for _name, ex, _reading in distribution_examples())
    schedules = ", ".join(s for s, _reading in schedule_examples())
    out = [
        "# supplytwin scenario, generated by `supplytwin template` from the schema.",
        "#",
    ]
    for para in (
        ("Every key is written with its description, unit, allowed values and default; a key "
         "left out takes its default. Paths are relative to this file. For a what-if, write "
         "`extends: baseline.yaml` and keep only the keys that differ: keys written here override "
         "the baseline's, even when they equal the default."),
        ("Distributions (durations and quantities): a number means fixed(number); otherwise one "
         f"of: {dists}. In a CSV cell quote an expression that holds commas: "
         "\"triangular(2, 3, 6)\"."),
        f"Lane departure schedules: {schedules}. {SCHEDULE_GUIDE}",
        ("Any key can be overridden on the command line: --set simulation.horizon_days=90, "
         "--set edits.lanes.LANE_ID.mode=air."),
        "Full reference: docs/scenario-format.md (python -m supplytwin.scenario.reference).",
    ):
        out += _comment(para, "", "  ")
        out.append("#")
    out.pop()
    return out


def render_template() -> str:
    """The commented scenario YAML printed by ``supplytwin template``."""
    out = _header()
    for f in field_docs(ScenarioDocument):
        out.append("")
        ann = ScenarioDocument.model_fields[f.name].annotation
        if ann is NetworkFiles:
            _network(out, f)
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            _section(out, f, ann)
        elif f.name == "disruptions":
            _disruptions(out, f)
        elif f.name == "edits":
            _edits(out, f)
        else:
            out += _comment(f"{f.name}: {f.description} ({_facts(f)})", "")
            if f.required:
                out.append(f"{f.name}: {_yaml(PLACEHOLDERS.get(f.name, 'CHANGE-ME'))}")
            elif f.default is None:
                example = "baseline.yaml" if f.name == "extends" else "..."
                out.append(f"# {f.name}: {example}")
            else:
                out.append(f"{f.name}: {_yaml(f.default)}")
    return "\n".join(out) + "\n"


__all__ = ["DISRUPTION_EXAMPLES", "EDIT_EXAMPLES", "format_value", "render_template"]
