"""``supplytwin stress`` end to end: exit codes a scheduler can act on, JSON and HTML artefacts,
the registry record and ``stress history``; bad input is exit 2 with no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.store.registry import Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HAND = ROOT / "tests" / "data" / "stress_hand" / "battery.yaml"
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, ["stress", *args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    out = runs / "out"
    r = cli(str(HAND), "-w", "1", "--runs-dir", str(runs), "--out", str(out), "--json")
    return r, runs, out


def test_breach_exits_1_naming_the_whatifs_and_writes_reports(first_run):
    r, _runs, out = first_run
    assert r.exit_code == 1, r.output
    summary = json.loads((out / "summary.json").read_text())
    breached = {b["whatif"] for b in summary["breaches"]}
    # PK is the only way to the customer but the DC's 5 days of stock: its outages breach 85 %
    assert breached == {"PK down 3d", "PK down 12d"}
    for name in breached:
        assert f"BREACH {name}" in r.output
    html = (out / "report.html").read_text()
    assert "Time to survive against time to recover" in html and "plotly" in html
    assert "<script src=\"http" not in html  # self-contained
    risks = {x["node"]: x for x in summary["node_risks"]}
    assert risks["PK"]["at_risk"] and summary["node_risks"][0]["node"] == "PK"
    assert (out / "whatifs.csv").exists() and (out / "node_risks.csv").exists()


def test_the_run_is_recorded_and_history_shows_it(first_run):
    _r, runs, _out = first_run
    rec = Registry(runs).list(kind="stress")[0]
    assert rec.status == "complete" and rec.scenario_name == "hand"
    assert rec.kpi_summary["breaches"] == 2
    h = cli("history", str(HAND), "--runs-dir", str(runs))
    assert h.exit_code == 0, h.output
    assert rec.run_id in h.output


def test_thresholds_that_hold_exit_0(tmp_path):
    r = cli(str(HAND), "-w", "1", "--runs-dir", str(tmp_path), "--fail-under", "fill_rate=0.3",
            "--reps", "1")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(("args", "needle"), [
    (["nope.yaml"], "file not found"),
    ([str(HAND), "--fail-under", "fill_rate"], "--fail-under"),
    ([str(HAND), "--fail-under", "bogus_kpi=1"], "unknown KPI 'bogus_kpi'"),
    (["history", "never-run"], "no complete stress run"),
])
def test_bad_input_exits_2_without_traceback(tmp_path, args, needle):
    r = cli(*args, "--runs-dir", str(tmp_path))
    assert r.exit_code == 2, r.output
    assert needle in r.output


def test_a_bad_battery_names_line_and_field(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text(f"base: {HAND.parent / 'scenario.yaml'}\ngenerators:\n"
                 "  - {kind: site_outage, durations_days: [0]}\n", encoding="utf-8")
    r = cli(str(p), "--runs-dir", str(tmp_path))
    assert r.exit_code == 2 and "line 3" in r.output and "durations_days" in r.output
