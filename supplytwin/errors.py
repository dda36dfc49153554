"""User-facing errors: every problem names its file, row or YAML line, field and reason.

A :class:`ScenarioError` carries all the problems found in one pass, so a planner fixes a
scenario in one round trip instead of one error at a time. The CLI prints them and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    #: data row number in a CSV file (1 = first row after the header), or None
    row: int | None = None
    #: line number in a YAML file, or None
    line: int | None = None
    field: str = ""
    reason: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.line is not None:
            where += f", line {self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.reason}"


class SupplytwinError(Exception):
    """Base of errors caused by user input (exit code 2, no traceback)."""


class ScenarioError(SupplytwinError):
    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.line or 0, p.field, p.reason))
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found:\n{lines}")


class MassBalanceError(AssertionError):
    """Units were created or destroyed by the simulator: a bug, never a warning."""
