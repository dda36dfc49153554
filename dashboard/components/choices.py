"""Dropdown options shared by several pages (pages never import each other: Dash executes
each page module itself)."""

from __future__ import annotations

from typing import Any


def scenario_options(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Options of a scenario dropdown from ``services.list_scenarios``."""
    return [{"label": e["label"], "value": e["key"]} for e in entries]


def default_scenario(entries: list[dict[str, str]]) -> str | None:
    """The baseline when there is one, else the tiny network, else the first scenario."""
    keys = [e["key"] for e in entries]
    for want in ("bundled/baseline.yaml", "bundled/tiny.yaml"):
        if want in keys:
            return want
    return keys[0] if keys else None


def run_options(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Options of a run dropdown from ``services.list_runs``."""
    return [{"label": f"{r['scenario']} · {r['replications']} rep · {r['run_id']}",
             "value": r["run_id"]} for r in rows]
