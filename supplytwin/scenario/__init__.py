"""Scenario files: YAML + CSV tables, ``extends:``, ``--set`` overrides, and validation."""

from supplytwin.scenario.loader import check_scenario, load_scenario

__all__ = ["check_scenario", "load_scenario"]
