"""The experiment commands end to end: run --reps, compare, sweep, the registry, reports,
and what happens when a run is killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.store.registry import Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "scenarios" / "tiny.yaml")
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_run_reps_json_has_ci_per_kpi_and_is_registered(tmp_path):
    r = cli("run", TINY, "--reps", "4", "--workers", "1", "--json", "--runs-dir", str(tmp_path))
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    fr = payload["kpis"]["fill_rate"]
    assert fr["n"] == 4 and fr["ci95"][0] <= fr["mean"] <= fr["ci95"][1]
    rec = Registry(tmp_path).get(payload["run_id"])
    assert rec.status == "complete" and rec.replications == 4
    folder = Path(rec.artefacts)
    assert (folder / "manifest.json").exists()
    per_rep = pd.read_parquet(folder / "kpis_by_replication.parquet")
    assert per_rep["replication"].tolist() == [0, 1, 2, 3]
    assert per_rep["fill_rate"].mean() == pytest.approx(fr["mean"])


def test_compare_reports_paired_differences_and_runs_show_diff(tmp_path):
    outage = tmp_path / "outage.yaml"
    outage.write_text(f"name: dc-outage\nextends: {TINY}\ndisruptions:\n"
                      "  - {disruption_id: o, kind: site_outage, site_id: DC, start_day: 30, "
                      "duration_days: 25}\n")
    runs = tmp_path / "runs"
    r = cli("compare", TINY, str(outage), "--reps", "5", "--workers", "1", "--json",
            "--runs-dir", str(runs))
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)["differences"]["dc-outage"]["otif"]
    # a difference of rates is in percentage points, and its keys say so
    assert d["difference_pp"] < 0 and d["significant"] and "difference" not in d
    assert d["ci95_pp"][0] <= d["difference_pp"] <= d["ci95_pp"][1]
    assert d["difference_pp"] == pytest.approx(100 * (d["whatif"] - d["base"]))
    r2 = cli("run", TINY, "--reps", "2", "--workers", "1", "--runs-dir", str(runs))
    assert r2.exit_code == 0
    recs = Registry(runs).list()
    assert [x.kind for x in recs] == ["run", "compare"]
    shown = cli("runs", "show", recs[1].run_id, "--runs-dir", str(runs))
    assert shown.exit_code == 0 and "sha256" in shown.output
    diff = cli("runs", "diff", recs[0].run_id, recs[1].run_id, "--runs-dir", str(runs))
    assert diff.exit_code == 0 and "compare" in diff.output
    listed = cli("runs", "list", "--runs-dir", str(runs))
    assert recs[0].run_id in listed.output


def test_sweep_writes_a_tidy_table_and_a_plot(tmp_path):
    r = cli("sweep", TINY, "--grid", "edits.policies.DC/MAB-T.order_up_to_units=60,250",
            "--reps", "3", "--workers", "1", "--kpi", "fill_rate", "--runs-dir", str(tmp_path),
            "--out", str(tmp_path / "sw"), "--set", "simulation.horizon_days=80")
    assert r.exit_code == 0, r.output
    # the terminal table shows each point's factor value
    assert "│ 60 " in r.output and "│ 250 " in r.output
    table = pd.read_parquet(tmp_path / "sw" / "sweep.parquet")
    fr = table[table["kpi"] == "fill_rate"].set_index(
        "edits.policies.DC/MAB-T.order_up_to_units")["mean"]
    assert fr["250"] > fr["60"]  # more base stock, better service
    assert (tmp_path / "sw" / "sweep.html").stat().st_size > 100_000  # plotly inline


def test_bad_experiment_input_exits_2_without_traceback(tmp_path):
    for args in (["run", TINY, "--reps", "3", "--precision", "nonsense=1"],
                 ["sweep", TINY, "--grid", "novalues"],
                 ["runs", "show", "no-such-run"],
                 ["compare", TINY, str(tmp_path / "missing.yaml"), "--reps", "2"]):
        r = cli(*args, "--runs-dir", str(tmp_path))
        assert r.exit_code == 2, (args, r.output)


def _wait_for(cond, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_killed_run_leaves_registry_consistent_and_resumes(tmp_path, sig):
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "supplytwin.cli", "run", TINY, "--reps", "30", "--workers", "1",
           "--runs-dir", str(runs), "--set", "simulation.horizon_days=400"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert _wait_for(lambda: len(list(runs.glob(".partial-*/reps/*.pkl"))) >= 3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in out + err
    reg = Registry(runs)
    (rec,) = reg.list()
    assert rec.shown_status == "interrupted"
    # no folder with the final name exists: a half-written run never looks complete
    assert not (runs / rec.run_id).exists()
    kept = len(list(runs.glob(".partial-*/reps/*.pkl")))
    assert 3 <= kept < 30
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "--resume" in err
    r = cli("run", "--resume", rec.run_id, "--runs-dir", str(runs), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["replications"] == 30
    rec = reg.get(rec.run_id)
    assert rec.status == "complete" and (runs / rec.run_id / "manifest.json").exists()
    assert not list(runs.glob(".partial-*"))
    # resumed replications equal a fresh uninterrupted run
    fresh = cli("run", TINY, "--reps", "30", "--workers", "1", "--json", "--runs-dir",
                str(tmp_path / "fresh"), "--set", "simulation.horizon_days=400")
    a = pd.read_parquet(runs / rec.run_id / "kpis_by_replication.parquet")
    fresh_id = json.loads(fresh.output)["run_id"]
    b = pd.read_parquet(tmp_path / "fresh" / fresh_id / "kpis_by_replication.parquet")
    pd.testing.assert_frame_equal(a, b)
