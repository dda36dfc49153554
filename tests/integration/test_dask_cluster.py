"""A real Dask cluster, started as separate ``dask scheduler`` and ``dask worker`` processes
(not a LocalCluster inside the test), runs ``supplytwin run --reps`` and ``supplytwin compare``
unchanged: the same KPIs per replication as on one process.

The scheduler listens on a free port of 127.0.0.1 without its web dashboard; the worker joins
it; the test waits until the scheduler reports the worker (never a fixed sleep) and tears both
down at the end, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny.yaml"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask() -> list[str]:
    exe = BIN / "dask"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dask")
    if found is None:
        pytest.skip("the dask command is not installed")
    return [found]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # dask shuts down cleanly on SIGINT
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [*_dask(), "scheduler", "--host", "127.0.0.1", "--port", port,
             "--no-dashboard"], stdout=(logs / "scheduler.log").open("w"),
            stderr=subprocess.STDOUT, env=env, cwd=logs))
        procs.append(subprocess.Popen(
            [*_dask(), "worker", address, "--nworkers", "1", "--nthreads", "2",
             "--no-dashboard", "--local-directory", str(logs / "worker")],
            stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT, env=env, cwd=logs))
        deadline = time.monotonic() + 240
        while True:  # the scheduler takes a moment to listen: retry until it answers
            try:
                with Client(address, timeout=10) as client:
                    client.wait_for_workers(1, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            _stop(p)


def cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "supplytwin"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def only_run(runs_dir: Path) -> Path:
    (run,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    return run


def kpis(run: Path) -> pd.DataFrame:
    df = pd.read_parquet(run / "kpis_by_replication.parquet")
    return df.drop(columns=[c for c in df.columns if "seconds" in c]).reset_index(drop=True)


def test_run_reps_on_a_separate_dask_cluster_matches_one_process(cluster, tmp_path):
    cli("run", str(TINY), "--reps", "3", "--dask", cluster, "--runs-dir", str(tmp_path / "d"))
    cli("run", str(TINY), "--reps", "3", "--workers", "1", "--runs-dir", str(tmp_path / "p"))
    on_dask, in_process = kpis(only_run(tmp_path / "d")), kpis(only_run(tmp_path / "p"))
    assert len(on_dask) == 3
    pd.testing.assert_frame_equal(on_dask, in_process)


def test_compare_on_a_separate_dask_cluster_matches_one_process(cluster, tmp_path):
    cli("compare", str(TINY), str(TINY), "--reps", "2", "--dask", cluster,
        "--runs-dir", str(tmp_path / "d"))
    cli("compare", str(TINY), str(TINY), "--reps", "2", "--workers", "1",
        "--runs-dir", str(tmp_path / "p"))
    d, p = only_run(tmp_path / "d"), only_run(tmp_path / "p")
    pd.testing.assert_frame_equal(kpis(d), kpis(p))
    pd.testing.assert_frame_equal(pd.read_parquet(d / "comparison.parquet"),
                                  pd.read_parquet(p / "comparison.parquet"))
