"""The scenario commands end to end: ``validate``, ``template`` and ``show``.

Most tests use typer's CliRunner; one runs ``python -m supplytwin.cli`` in a real subprocess, as a
planner's shell would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.model.tables import TABLES

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]
TINY_VALID = REPO / "tests" / "data" / "tiny_valid"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str | Path):
    result = runner.invoke(app, [str(a) for a in args])
    # whatever happened, the user never sees a traceback
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def bad_scenario(tmp_path: Path) -> Path:
    """A copy of the tiny network (apart from ``tiny_dir``) with a misspelt YAML key, text in a
    number column and an unknown site."""
    bad_dir = tmp_path / "bad"
    shutil.copytree(TINY_VALID, bad_dir)
    path = bad_dir / "bad.yaml"
    path.write_text("name: bad\nextends: scenario.yaml\nsimulation: {horizon_dys: 10}\n",
                    encoding="utf-8")
    products = bad_dir / "products.csv"
    products.write_text(products.read_text(encoding="utf-8").replace(",730,", ",forever,"),
                        encoding="utf-8")
    lanes = bad_dir / "lanes.csv"
    lanes.write_text(lanes.read_text(encoding="utf-8").replace("L2,DC,C1", "L2,DC,C9"),
                     encoding="utf-8")
    return path


# ---------------------------------------------------------------- the app ---------------------
def test_no_arguments_prints_help(runner: CliRunner) -> None:
    result = invoke(runner)
    for command in ("validate", "template", "show"):
        assert command in result.output


def test_version(runner: CliRunner) -> None:
    result = invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("supplytwin ")


# ---------------------------------------------------------------- validate --------------------
def test_validate_ok(runner: CliRunner, tiny_scenario: Path) -> None:
    result = invoke(runner, "validate", tiny_scenario)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: tiny (5 sites, 4 lanes, 2 products")
    assert "2 demand streams" in result.stdout and "1 disruption" in result.stdout
    assert result.stderr == ""


def test_validate_bad_lists_every_problem(runner: CliRunner, bad_scenario: Path) -> None:
    result = invoke(runner, "validate", bad_scenario)
    assert result.exit_code == 2
    err = result.stderr.splitlines()
    assert err[0].startswith(f"{bad_scenario}: ") and "problems" in err[0]
    assert any("bad.yaml, line 3 [simulation.horizon_dys]: unknown key; did you mean "
               "'horizon_days'?" in line for line in err), err
    assert any("products.csv, row 2 [shelf_life_days]:" in line and "forever" in line
               for line in err), err
    assert any("lanes.csv, row 3 [destination_id]: unknown site 'C9'" in line for line in err), err
    assert result.stdout == ""


def test_validate_several_files_reports_each(runner: CliRunner, tiny_scenario: Path,
                                             bad_scenario: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = invoke(runner, "validate", tiny_scenario, bad_scenario, missing)
    assert result.exit_code == 2
    assert "ok: tiny" in result.stdout
    assert "missing.yaml: file not found" in result.stderr
    assert "2 of 3 scenarios have problems" in result.stderr


def test_validate_with_set(runner: CliRunner, tiny_scenario: Path) -> None:
    assert invoke(runner, "validate", tiny_scenario, "--set", "simulation.horizon_days=10",
                  "--set", "edits.lanes.L1.mode=air").exit_code == 0
    result = invoke(runner, "validate", tiny_scenario, "--set", "edits.lanes.L1.mode=courier")
    assert result.exit_code == 2
    assert "active packaging cannot travel by courier" in result.stderr


@pytest.mark.parametrize("assignment", ["horizon_days", "=3", ".=1", "a..b=2"])
def test_validate_rejects_malformed_set(runner: CliRunner, tiny_scenario: Path,
                                        assignment: str) -> None:
    result = invoke(runner, "validate", tiny_scenario, "--set", assignment)
    assert result.exit_code == 2
    assert "KEY.PATH" in result.output


def test_validate_survives_input_that_crashes_the_loader(runner: CliRunner, tiny_dir: Path) -> None:
    # PyYAML raises ValueError (not YAMLError) on an impossible date: the loader lets it through
    # today (see test_known_loader_crash); the CLI still reports a problem line and exit code 2.
    path = tiny_dir / "scenario.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "description: 2027-13-45\n",
                    encoding="utf-8")
    result = invoke(runner, "validate", path)
    assert result.exit_code == 2
    assert any(l.startswith("  - ") and "scenario.yaml" in l for l in result.stderr.splitlines())


def test_a_loader_crash_becomes_a_problem_line(runner: CliRunner, tiny_scenario: Path,
                                               monkeypatch) -> None:
    import supplytwin.scenario as scenario_pkg

    def crash(path, sets=()):
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(scenario_pkg, "load_scenario", crash)
    monkeypatch.delenv("SUPPLYTWIN_DEBUG", raising=False)
    result = invoke(runner, "validate", tiny_scenario)
    assert result.exit_code == 2
    line = next(l for l in result.stderr.splitlines() if "cannot be loaded" in l)
    assert "scenario.yaml: cannot be loaded: OverflowError: int too large" in line


# ---------------------------------------------------------------- template --------------------
def test_template_parses_as_yaml(runner: CliRunner) -> None:
    result = invoke(runner, "template")
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert data["name"] and set(data["network"]) == {n for n, (_m, req) in TABLES.items() if req}
    assert data["simulation"]["horizon_days"] == 365
    assert "# disruptions:" in result.stdout and "# edits:" in result.stdout


def test_template_filled_with_the_tiny_network_validates(runner: CliRunner, tiny_dir: Path) -> None:
    text = invoke(runner, "template").stdout
    # as printed: the required tables already carry the tiny network's file names
    (tiny_dir / "as-printed.yaml").write_text(text, encoding="utf-8")
    result = invoke(runner, "validate", tiny_dir / "as-printed.yaml")
    assert result.exit_code == 0, result.stderr
    # with every table of the network filled in
    data = yaml.safe_load(text)
    data["network"] = {name: f"{name}.csv" for name in TABLES}
    (tiny_dir / "filled.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    result = invoke(runner, "validate", tiny_dir / "filled.yaml")
    assert result.exit_code == 0, result.stderr
    assert "1 disruption" in result.stdout


def test_template_settings_are_the_defaults(tiny_dir: Path, runner: CliRunner) -> None:
    from supplytwin.model.settings import ColdChainSettings, CostSettings, SimulationSettings
    from supplytwin.scenario import load_scenario

    (tiny_dir / "t.yaml").write_text(invoke(runner, "template").stdout, encoding="utf-8")
    sc = load_scenario(tiny_dir / "t.yaml")
    assert sc.simulation == SimulationSettings()
    assert sc.costs == CostSettings()
    assert str(sc.cold_chain.qa_disposition_days) == str(ColdChainSettings().qa_disposition_days)


def test_template_out_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "new.yaml"
    assert invoke(runner, "template", "--out", out).exit_code == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["name"]
    again = invoke(runner, "template", "--out", out)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert invoke(runner, "template", "--out", out, "--force").exit_code == 0


# ---------------------------------------------------------------- show ------------------------
def test_show_prints_counts_and_the_graph(runner: CliRunner, tiny_scenario: Path) -> None:
    result = invoke(runner, "show", tiny_scenario)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "5 sites, 4 lanes, 2 products" in out
    for fragment in ("Sites by kind", "distribution_centre", "Products", "refrigerated", "730",
                     "Lanes by mode", "courier", "Disruptions", "planned_shutdown",
                     "Supply network"):
        assert fragment in out, fragment
    # mean daily demand of MAB: 5 orders x 4 units + 2 orders x 3 units
    assert "26.0" in out
    # the tree: supplier -> plant -> DC -> customers
    lines = out.splitlines()
    tree = lines[next(i for i, l in enumerate(lines) if l.startswith("Supply network")):]
    assert any("S supplier" in l for l in tree)
    assert any("L0 road/ambient" in l and "P fill_finish" in l for l in tree)
    assert any("L1 road/active" in l and "DC distribution_centre" in l for l in tree)
    assert any("2 customers over 2 lanes" in l and "C1, C2" in l for l in tree)


def test_show_with_set(runner: CliRunner, tiny_scenario: Path) -> None:
    result = invoke(runner, "show", tiny_scenario, "--set", "edits.lanes.L1.mode=air",
                    "-s", "simulation.horizon_days=10")
    assert result.exit_code == 0, result.output
    assert "L1 air/active" in result.stdout
    assert "horizon 10 d" in result.stdout


def test_show_bad_scenario(runner: CliRunner, bad_scenario: Path) -> None:
    result = invoke(runner, "show", bad_scenario)
    assert result.exit_code == 2
    assert "problems found" in result.stderr
    assert "unknown site 'C9'" in result.stderr


# ---------------------------------------------------------------- a real process ---------------
def test_subprocess_validate_and_show(tiny_scenario: Path, bad_scenario: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("SUPPLYTWIN_DEBUG", None)
    cmd = [sys.executable, "-m", "supplytwin.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cmd, *args], capture_output=True, text=True, check=False,
                              env=env, cwd=REPO, timeout=120)

    ok = run("validate", str(tiny_scenario))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok: tiny (5 sites")

    bad = run("validate", str(tiny_scenario), str(bad_scenario))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stdout + bad.stderr
    assert "ok: tiny" in bad.stdout
    assert "[simulation.horizon_dys]: unknown key" in bad.stderr
    assert "\x1b[" not in bad.stdout + bad.stderr  # plain text when not a terminal

    show = run("show", str(tiny_scenario))
    assert show.returncode == 0, show.stderr
    assert "Sites by kind" in show.stdout

    template = run("template")
    assert template.returncode == 0
    assert yaml.safe_load(template.stdout)["network"]["products"] == "products.csv"


# ---------------------------------------------------------------- user_errors -----------------
def _validation_error() -> Exception:
    from pydantic import ValidationError

    from supplytwin.model.settings import SimulationSettings

    try:
        SimulationSettings(horizon_days=-1)
    except ValidationError as exc:
        return exc
    raise AssertionError("expected a ValidationError")


@pytest.mark.parametrize(("make", "message"), [
    (lambda: __import__("supplytwin.errors").errors.SupplytwinError("no such experiment"),
     "error: no such experiment"),
    (_validation_error, "horizon_days: Input should be greater than 0"),
    (lambda: yaml.YAMLError("bad yaml"), "error: YAML: bad yaml"),
    (lambda: FileNotFoundError(2, "No such file or directory", "runs/x.csv"),
     "error: runs/x.csv: No such file or directory"),
    (lambda: b"\xff".decode("utf-8"), "cannot read a file as UTF-8 text"),
])
def test_user_errors_turns_user_input_errors_into_one_line(make, message, capsys) -> None:
    import typer

    from supplytwin.cli.common import user_errors

    with pytest.raises(typer.Exit) as info, user_errors():
        exc = make()
        raise exc
    assert info.value.exit_code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_user_errors_passes_typer_exits_through() -> None:
    import typer

    from supplytwin.cli.common import user_errors

    with pytest.raises(typer.Exit) as info, user_errors():
        raise typer.Exit(0)
    assert info.value.exit_code == 0


def test_internal_error_is_one_line_and_exit_1(runner: CliRunner, monkeypatch) -> None:
    from supplytwin.scenario import template

    def boom() -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(template, "render_template", boom)
    monkeypatch.delenv("SUPPLYTWIN_DEBUG", raising=False)
    result = invoke(runner, "template")
    assert result.exit_code == 1
    assert "internal error (RuntimeError: boom)" in result.stderr
    assert "SUPPLYTWIN_DEBUG=1" in result.stderr


def test_show_and_template_say_what_the_daily_default_means(runner: CliRunner,
                                                           tiny_scenario: Path) -> None:
    import re

    def flat(text: str) -> str:  # rich and the template wrap lines; compare words
        return re.sub(r"[\s#│]+", " ", text)

    shown = flat(invoke(runner, "show", tiny_scenario).stdout)
    # the tiny network's road lanes: two daily, one weekly sailing day; its courier lane daily
    assert "daily ×2, weekly ×1" in shown and "daily ×1" in shown
    template = flat(invoke(runner, "template").stdout)
    for text in (shown, template):
        assert "defaults to 'daily'" in text
        assert "sharing one transit-time draw" in text
        assert "'on_demand' sends each shipment alone" in text
        assert "its own transit-time draw" in text
