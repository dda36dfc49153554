"""Faults: killed runs, concurrent writers, hostile output folders, registry failures.

Each test provokes the fault for real where the machine allows it (kill -9, two processes on
one folder, a locked or full SQLite file) and waits on state with generous timeouts, never on
fixed sleeps, so it holds on a loaded machine.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.errors import SupplytwinError
from supplytwin.store import registry as registry_mod
from supplytwin.store.atomic import output_lock
from supplytwin.store.registry import Registry

pytestmark = pytest.mark.integration


def cli(*args: str | Path):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output.lower(), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def children_of(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2:].split()[0] != "Z"


def spawn(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "supplytwin.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# ---------------------------------------------------------------- kill -9 -----------------------
@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill9_of_a_pooled_run_takes_its_workers_with_it(tiny_dir: Path) -> None:
    proc = spawn(["run", "scenario.yaml", "--reps", "60", "--workers", "2", "--horizon-days",
                  "3000", "--runs-dir", "runs"], tiny_dir)
    try:
        workers = wait_for(lambda: (c if len(c := children_of(proc.pid)) >= 2 else None), 180,
                           "two pool workers")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        wait_for(lambda: not any(alive(w) for w in workers), 60,
                 f"workers {sorted(workers)} to die with their parent")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# ---------------------------------------------------------------- resume lock -------------------
@pytest.mark.slow
def test_resume_is_refused_while_the_run_is_live(tiny_dir: Path) -> None:
    proc = spawn(["run", "scenario.yaml", "--reps", "400", "--workers", "1", "--horizon-days",
                  "2000", "--runs-dir", "runs"], tiny_dir)
    try:
        def started() -> str | None:
            if not (tiny_dir / "runs" / "registry.sqlite").is_file():
                return None
            try:
                recs = Registry(tiny_dir / "runs").list()
            except SupplytwinError:
                return None
            partial = [r for r in recs
                       if list((tiny_dir / "runs" / f".partial-{r.run_id}" / "reps").glob("*"))]
            return partial[0].run_id if partial else None

        run_id = wait_for(started, 180, "the run to checkpoint a replication")
        result = cli("run", "--resume", run_id, "--runs-dir", tiny_dir / "runs")
        assert result.exit_code == 2, result.output
        assert f"run {run_id} is still running (pid {proc.pid}" in result.output
    finally:
        proc.kill()
        proc.communicate()


def test_a_stale_run_lock_from_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    run_id = reg.start("run", scenario_name="x", scenario_file=None, scenario_sha256=None,
                       data_sha256={}, version="0", seed=1, replications=1, executor=None,
                       artefacts=str(tmp_path / "pending"), command="test")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sqlite3.connect(reg.path) as con:
        con.execute("UPDATE runs SET pid=? WHERE run_id=?", (dead.pid, run_id))
    assert reg.get(run_id).shown_status == "interrupted"
    reg.resume(run_id)  # the dead owner's lock is stale
    assert reg.get(run_id).pid == os.getpid()
    # and now this live process owns it: a second resumer is refused
    with sqlite3.connect(reg.path) as con:
        con.execute("UPDATE runs SET status='running' WHERE run_id=?", (run_id,))
    with pytest.raises(SupplytwinError, match="is still running"):
        reg.resume(run_id)


# ---------------------------------------------------------------- --out -------------------------
def test_out_dot_is_refused_before_simulating(tiny_dir: Path, monkeypatch) -> None:
    monkeypatch.chdir(tiny_dir)
    result = cli("run", "scenario.yaml", "--reps", "1", "--out", ".", "--overwrite",
                 "--runs-dir", "runs")
    assert result.exit_code == 2, result.output
    assert "the current folder (or one containing it) cannot be a results folder" in \
        " ".join(result.output.split())
    assert not list(tiny_dir.parent.glob(".tmp-*")), "a temporary folder was left behind"
    assert not (tiny_dir / "runs").exists(), "nothing was registered or simulated"


def test_overwrite_only_replaces_a_supplytwin_result(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.docx").write_text("four years of work")
    result = cli("run", tiny_dir / "scenario.yaml", "--reps", "1",
                 "--out", out, "--overwrite", "--runs-dir",
                 tmp_path / "runs")
    assert result.exit_code == 2, result.output
    assert "is not a supplytwin result (no manifest.json)" in " ".join(result.output.split())
    assert (out / "thesis.docx").read_text() == "four years of work"

    (out / "thesis.docx").unlink()
    first = cli("run", tiny_dir / "scenario.yaml", "--reps", "1",
                "--out", out, "--runs-dir", tmp_path / "runs")
    assert first.exit_code == 0, first.output
    again = cli("run", tiny_dir / "scenario.yaml", "--reps", "1",
                "--out", out, "--overwrite", "--runs-dir",
                tmp_path / "runs")
    assert again.exit_code == 0, again.output
    manifest = json.loads((out / "manifest.json").read_text())
    last = Registry(tmp_path / "runs").list(limit=1)[0]
    assert manifest["run_id"] == last.run_id
    assert Path(last.artefacts) == out.absolute()


def test_a_second_writer_of_one_out_folder_is_refused(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared"
    with output_lock(out):  # this (live) process is writing the folder
        result = cli("run", tiny_dir / "scenario.yaml", "--reps", "1", "--out", out, "--overwrite",
                     "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2, result.output
    assert f"another supplytwin process (pid {os.getpid()}) is writing this folder" in \
        " ".join(result.output.split())
    assert not out.exists()

    # a lock left by a killed process is stale
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".shared.lock").write_text(str(dead.pid))
    result = cli("run", tiny_dir / "scenario.yaml", "--reps", "1",
                 "--out", out, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".shared.lock").exists()


@pytest.mark.slow
def test_three_concurrent_writers_of_one_out_leave_one_consistent_result(
        tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "same"
    procs = [spawn(["run", "scenario.yaml", "--reps", "1", "--out", str(out), "--overwrite",
                    "--runs-dir",
                    str(tmp_path / "runs")], tiny_dir) for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in procs]
    codes = [p.returncode for p in procs]
    for (stdout, stderr), code in zip(outputs, codes, strict=True):
        assert "Traceback" not in stderr, stderr
        assert code in (0, 2), (code, stderr)
        if code == 2:
            assert "is writing this folder" in " ".join(stderr.split()), stderr
    assert 0 in codes
    manifest = json.loads((out / "manifest.json").read_text())
    complete = [r for r in Registry(tmp_path / "runs").list() if r.status == "complete"]
    assert len(complete) == codes.count(0)
    assert manifest["run_id"] in {r.run_id for r in complete}


def test_results_folder_follows_the_umask(tiny_dir: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        result = cli("run", tiny_dir / "scenario.yaml", "--reps", "1",
                     "--out", tmp_path / "res", "--runs-dir",
                     tmp_path / "runs")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "res").stat().st_mode) == 0o755


# ---------------------------------------------------------------- registry ----------------------
def _start(reg: Registry, name: str = "x") -> str:
    return reg.start("run", scenario_name=name, scenario_file=None, scenario_sha256=None,
                     data_sha256={}, version="0", seed=2**63 - 1, replications=1, executor=None,
                     artefacts="pending", command="test")


def _many_starts(runs_dir: str, n: int, queue) -> None:
    reg = Registry(runs_dir)
    ids = []
    try:
        for _ in range(n):
            ids.append(_start(reg, "same-name"))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        queue.put(repr(exc))
        return
    queue.put(ids)


@pytest.mark.slow
def test_run_ids_are_unique_under_concurrency(tmp_path: Path) -> None:
    Registry(tmp_path)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_many_starts, args=(str(tmp_path), 100, queue))
             for _ in range(4)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results if isinstance(r, str)]
    assert not errors, errors
    ids = [i for r in results for i in r]
    assert len(ids) == 400 and len(set(ids)) == 400


def test_read_only_registry_can_be_listed_but_not_written(tiny_dir: Path, tmp_path: Path,
                                                          monkeypatch) -> None:
    runs = tmp_path / "runs"
    run_id = _start(Registry(runs), "kept")

    def refuse(con):  # what SQLite answers on a read-only file or folder
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(registry_mod, "migrate", refuse)
    reg = Registry(runs)
    assert reg.read_only and [r.run_id for r in reg.list()] == [run_id]
    listed = cli("runs", "list", "--runs-dir", runs)
    assert listed.exit_code == 0, listed.output
    assert run_id in listed.output
    result = cli("run", tiny_dir / "scenario.yaml", "--reps", "1", "--runs-dir", runs)
    assert result.exit_code == 2, result.output
    assert "is read-only" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_read_only_registry_folder_for_real(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run_id = _start(Registry(runs))
    os.chmod(runs / "registry.sqlite", 0o444)
    os.chmod(runs, 0o555)
    try:
        assert [r.run_id for r in Registry(runs).list()] == [run_id]
    finally:
        os.chmod(runs, 0o755)


def test_locked_and_full_registry_give_plain_errors(tmp_path: Path, monkeypatch) -> None:
    runs = tmp_path / "runs"
    reg = Registry(runs)
    real_connect = sqlite3.connect

    # locked: another connection holds an exclusive lock; a short timeout keeps the test fast
    holder = real_connect(reg.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(sqlite3, "connect",
                        lambda *a, **k: real_connect(*a, **{**k, "timeout": 0.2}))
    try:
        with pytest.raises(SupplytwinError, match="is locked by another process"):
            _start(reg)
    finally:
        holder.rollback()
        holder.close()

    # full: SQLite's own page limit makes every write that grows the file fail with SQLITE_FULL
    def full_connect(*a, **k):
        con = real_connect(*a, **k)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages}")
        return con

    monkeypatch.setattr(sqlite3, "connect", full_connect)
    with pytest.raises(SupplytwinError, match="the disk is full"):
        for _ in range(200):  # a few rows fit in the free space of the last page
            _start(reg, "x" * 200)


def test_markup_in_a_name_does_not_break_runs_list(tiny_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = cli("run", tiny_dir / "scenario.yaml", "--reps", "1",
                 "--set", "name=[/]odd[bold]", "--runs-dir",
                 runs)
    assert result.exit_code == 0, result.output
    listed = cli("runs", "list", "--runs-dir", runs)
    assert listed.exit_code == 0, listed.output
    assert "[/]odd[bold]" in listed.output


# ---------------------------------------------------------------- dashboard ---------------------
def test_dashboard_opens_the_report_of_a_cli_run_made_elsewhere(tiny_dir: Path, tmp_path: Path,
                                                                monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = cli("run", tiny_dir / "scenario.yaml", "--reps", "2", "--workers", "1", "--report",
                 "--runs-dir", "runs", "--horizon-days", "30")
    assert result.exit_code == 0, result.output
    run_id = Registry(work / "runs").list(limit=1)[0].run_id

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    from dashboard.app import create_app

    client = create_app(runs_dir=work / "runs").server.test_client()
    page = client.get(f"/reports/{run_id}", headers={"Host": "127.0.0.1"})
    assert page.status_code == 200, page.data[:300]
    assert b"<html" in page.data[:2000].lower()
