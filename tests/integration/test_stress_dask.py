"""``supplytwin stress --dask ADDRESS`` against a real cluster: a ``dask scheduler`` and a
``dask worker`` started as separate processes (not a LocalCluster). The battery runs unchanged
and gives the same numbers as in-process, since a replication's seed depends only on the root
seed and its index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplytwin.cli import app

pytestmark = pytest.mark.integration

HAND = Path(__file__).resolve().parents[1] / "data" / "stress_hand" / "battery.yaml"


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture
def dask_cluster(tmp_path):
    pytest.importorskip("distributed")
    from dask.distributed import Client

    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
         str(sched_file), "--port", "0", "--no-dashboard", "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        _wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 120,
                  "the scheduler file")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
             str(sched_file), "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        address = json.loads(sched_file.read_text())["address"]
        with Client(address, timeout=120) as client:
            client.wait_for_workers(1, timeout=180)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_battery_runs_unchanged_on_a_separate_scheduler_and_worker(dask_cluster, tmp_path):
    runner = CliRunner()
    a = runner.invoke(app, ["stress", str(HAND), "--dask", dask_cluster, "--reps", "1",
                            "--runs-dir", str(tmp_path), "--out", str(tmp_path / "dask")])
    assert a.exit_code == 1 and "Traceback" not in a.output, a.output  # PK outages breach
    b = runner.invoke(app, ["stress", str(HAND), "-w", "1", "--reps", "1",
                            "--runs-dir", str(tmp_path), "--out", str(tmp_path / "local")])
    assert b.exit_code == 1, b.output
    on_dask = json.loads((tmp_path / "dask" / "summary.json").read_text())
    local = json.loads((tmp_path / "local" / "summary.json").read_text())
    assert on_dask["lineage"]["executor"].startswith("dask(")
    assert on_dask["whatifs"] == local["whatifs"]
    assert on_dask["breaches"] == local["breaches"]
    # every what-if kept as a run (its tables crossed the cluster): the same as run locally
    for side in ("", "whatif1_", "whatif9_"):
        assert (json.loads((tmp_path / "dask" / f"{side}kpis_summary.json").read_text())
                == json.loads((tmp_path / "local" / f"{side}kpis_summary.json").read_text()))
