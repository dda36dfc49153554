"""Every case of the hostile-input corpus (:mod:`tests.hostile.corpus`) through the real CLI.

A case passes when the command exits with the expected code, says every expected fragment, and
shows no traceback and no "internal error".
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from tests.hostile.corpus import CASES, Case

pytestmark = pytest.mark.integration


def _edit_table(d: Path, table: str, change) -> None:
    path = d / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[1:]
    change(header, data)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *data])


def apply_case(case: Case, d: Path) -> Path:
    def column(header: list[str], data: list[list[str]], name: str) -> int:
        if name not in header:
            header.append(name)
            for r in data:
                r.append("")
        return header.index(name)

    for table, new in case.rows:
        def add(header, data, new=new):
            idx = {k: column(header, data, k) for k in new}
            row = [""] * len(header)
            for k, v in new.items():
                row[idx[k]] = v
            data.append(row)
        _edit_table(d, table, add)
    for table, rownum, name, value in case.cells:
        def put(header, data, rownum=rownum, name=name, value=value):
            data[rownum - 1][column(header, data, name)] = value
        _edit_table(d, table, put)
    if case.prepare is not None:
        case.prepare(d)
    scenario = d / "scenario.yaml"
    if case.yaml:
        scenario.write_text(scenario.read_text(encoding="utf-8") + case.yaml, encoding="utf-8")
    return scenario


def run_cli(args: list[str]):
    result = CliRunner().invoke(app, args)
    out = result.output
    assert "Traceback" not in out, out
    assert "internal error" not in out.lower(), out
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow
                                               else []) for c in CASES])
def test_hostile_input(case: Case, tiny_dir: Path, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_dir)
    monkeypatch.setenv("SUPPLYTWIN_RUNS_DIR", str(tmp_path / "runs"))
    scenario = apply_case(case, tiny_dir)
    args = [case.command[0], str(scenario), *case.command[1:]]
    for s in case.sets:
        args += ["--set", s]
    result = run_cli(args)
    out = " ".join(result.output.split()).lower()
    assert result.exit_code == case.exit_code, result.output
    for fragment in case.says:
        assert " ".join(fragment.split()).lower() in out, result.output
    for fragment in case.never:
        assert fragment.lower() not in out, result.output
