"""One replications rule (experiment.replications_for) for run, compare, sweep and the
dashboard: an explicit number wins, else the scenario's simulation.replications; never a number
hidden in code. And run --report writes the report whatever the number of replications."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.errors import SupplytwinError
from supplytwin.experiment import MAX_REPLICATIONS, replications_for
from supplytwin.scenario import load_scenario
from supplytwin.store.registry import Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "scenarios" / "tiny.yaml")
SHORT = ["--set", "simulation.horizon_days=60", "--workers", "1"]
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_replications_for_takes_the_number_given_else_the_scenarios():
    sc = load_scenario(TINY)
    assert sc.simulation.replications == 5  # what the file says (tiny.yaml)
    assert replications_for(sc, None) == 5 and replications_for(sc, "") == 5
    assert replications_for(sc, 12) == 12 and replications_for(sc, "3") == 3
    assert replications_for(sc, 2.0) == 2
    for bad in (0, -1, 1.5, "many", True, math.inf, math.nan, MAX_REPLICATIONS + 1, [3]):
        with pytest.raises(SupplytwinError, match="replications must be a whole number"):
            replications_for(sc, bad)


def test_run_without_reps_uses_the_scenarios_replications_and_writes_the_report(tmp_path):
    r = cli("run", TINY, "--report", "--json", "--runs-dir", str(tmp_path), *SHORT)
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    assert payload["replications"] == 5
    rec = Registry(tmp_path).get(payload["run_id"])
    assert rec.replications == 5 and (Path(rec.artefacts) / "report.html").is_file()


def test_one_replication_with_report_still_writes_the_report(tmp_path):
    r = cli("run", TINY, "--report", "--json", "--runs-dir", str(tmp_path), *SHORT,
            "--set", "simulation.replications=1")
    assert r.exit_code == 0, r.output
    rec = Registry(tmp_path).get(json.loads(r.output)["run_id"])
    assert rec.replications == 1 and (Path(rec.artefacts) / "report.html").is_file()


def test_reps_needs_a_number_and_events_means_one_replication(tmp_path):
    r = cli("run", TINY, "--runs-dir", str(tmp_path), "--reps")
    assert r.exit_code == 2 and "requires an argument" in r.output
    r = cli("run", TINY, "--reps", "--runs-dir", str(tmp_path))
    assert r.exit_code == 2 and "integer" in r.output
    assert not Registry(tmp_path).list()  # nothing ran
    r = cli("run", TINY, "--reps", "3", "--events", "--runs-dir", str(tmp_path))
    assert r.exit_code == 2 and "--events keeps the event log of one replication" in r.output
    r = cli("run", TINY, "--events", "--json", "--runs-dir", str(tmp_path), *SHORT)
    assert r.exit_code == 0, r.output
    kpis = json.loads(r.output)["kpis"]
    assert isinstance(kpis["fill_rate"], float)  # one replication: plain values, no CI
    assert Registry(tmp_path).list()[0].replications == 1


def test_compare_without_reps_uses_the_base_scenarios_replications(tmp_path):
    r = cli("compare", TINY, TINY, "--json", "--runs-dir", str(tmp_path), *SHORT)
    assert r.exit_code == 0, r.output
    assert Registry(tmp_path).list()[0].replications == 5
    r = cli("compare", TINY, TINY, "--runs-dir", str(tmp_path), *SHORT,
            "--set", "simulation.replications=1")
    assert r.exit_code == 2 and "needs at least 2 replications" in r.output
