"""A battery run in the run registry (kind ``stress``) and its artefacts folder.

The folder (``--out DIR`` or ``RUNS_DIR/RUN_ID``) is built atomically and holds
``summary.json`` (see :func:`supplytwin.stress.summary.build_summary`), ``report.html``,
``whatifs.csv``, ``node_risks.csv`` and ``customers.csv``, and beside them every what-if and the
base as a run of its own (``manifest.json`` and the tables of each side, opened as ``RUN_ID``
and ``RUN_ID@whatifK``: :mod:`supplytwin.stress.sides`). The registry row keeps the headline
figures, so :func:`history` can show their trend over past runs of the same battery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

import supplytwin
from supplytwin.store.atomic import atomic_directory
from supplytwin.store.registry import Registry
from supplytwin.stress.battery import LoadedBattery
from supplytwin.stress.runner import BatteryRun

KIND = "stress"


def register(loaded: LoadedBattery, base, registry: Registry, *, reps: int, executor: str,
             out: Path | None, params: dict[str, Any]) -> str:
    return registry.start(
        KIND, scenario_name=loaded.name, scenario_file=str(loaded.path),
        scenario_sha256=None, data_sha256=dict(base.file_hashes),
        version=supplytwin.__version__, seed=base.simulation.seed, replications=reps,
        executor=executor, artefacts=str(out or registry.runs_dir / "pending"),
        command="supplytwin stress", params=params)


def write_artefacts(folder: Path, summary: dict[str, Any], run: BatteryRun,
                    render: Callable[[dict], str],
                    sides: Callable[[Path], Any] | None = None) -> Path:
    """Build the folder atomically; ``sides(tmp)`` adds the what-ifs' tables and manifest."""
    with atomic_directory(folder, overwrite=True) as tmp:
        if sides is not None:
            sides(tmp)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        (tmp / "report.html").write_text(render(summary), encoding="utf-8")
        pd.DataFrame(summary["whatifs"]).to_csv(tmp / "whatifs.csv", index=False)
        pd.DataFrame(summary["node_risks"]).to_csv(tmp / "node_risks.csv", index=False)
        pd.DataFrame(summary["customers"]).to_csv(tmp / "customers.csv", index=False)
    return folder


def finish(registry: Registry, run_id: str, summary: dict[str, Any], folder: Path,
           replications: int) -> None:
    kpis = dict(summary["headline"])
    kpis["breached_whatifs"] = sorted({b["whatif"] for b in summary["breaches"]})
    registry.finish(run_id, kpi_summary=kpis, replications=replications, artefacts=str(folder))


def run_recorded(path: Path, registry: Registry, *, reps: int | None = None,
                 workers: int | None = None, dask: str | None = None, out: Path | None = None,
                 fail_under: dict[str, float] | None = None, adaptive: bool = False,
                 seed: int | None = None, progress: Callable[[int, int, str], None] | None = None,
                 announce: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Load, expand, run, report and record a battery; return its summary (with ``run_id``
    and ``folder``). The CLI and the dashboard's Stress page both call this. A progress
    callback may raise KeyboardInterrupt to cancel: the run is recorded as interrupted."""
    from supplytwin.errors import SupplytwinError
    from supplytwin.experiment.executors import make_executor
    from supplytwin.report.stress import render_stress_report
    from supplytwin.scenario import load_scenario
    from supplytwin.stress.battery import load_battery
    from supplytwin.stress.generators import expand
    from supplytwin.stress.runner import Settings, known_kpis, run_battery
    from supplytwin.stress.sides import SideSpill, write_sides
    from supplytwin.stress.summary import build_summary

    loaded = load_battery(path)
    b = loaded.battery
    thresholds = {**b.thresholds, **(fail_under or {})}
    for kpi in [*thresholds, b.ranking_kpi]:
        if kpi not in known_kpis():
            raise SupplytwinError(f"unknown KPI {kpi!r}; known: {', '.join(known_kpis())}")
    base = load_scenario(loaded.base_path, b.set)
    whatifs = expand(loaded, base)
    settings = Settings(reps=reps or b.replications, thresholds=thresholds, top_n=b.top_n,
                        ranking_kpi=b.ranking_kpi, recovery_window_days=b.recovery_window_days,
                        recovery_tolerance=b.recovery_tolerance, adaptive=adaptive)
    executor = make_executor(workers, dask)
    run_id = register(loaded, base, registry, reps=settings.reps, executor=executor.name,
                      out=out, params={"battery": str(path), "reps": settings.reps,
                                       "adaptive": adaptive, "thresholds": thresholds,
                                       "workers": workers, "dask": dask})
    if announce:
        announce(f"battery {loaded.name}: {len(whatifs)} what-ifs + base, "
                 f"{'adaptive up to ' if adaptive else ''}{settings.reps} replications each, "
                 f"{executor.name}; run {run_id}")
    # each replication's tables go to disk as they arrive (bounded memory), then into sides
    spill = SideSpill(registry.runs_dir, run_id)
    try:
        try:
            run = run_battery(base, whatifs, settings, executor=executor, seed=seed,
                              progress=progress, on_output=spill.keep)
        except KeyboardInterrupt:
            registry.finish(run_id, kpi_summary={}, replications=None, status="interrupted")
            raise
        except BaseException:
            registry.finish(run_id, kpi_summary={}, replications=None, status="failed")
            raise
        finally:
            executor.close()
        summary = build_summary(loaded, run, run_id=run_id)
        folder = out or registry.runs_dir / run_id
        write_artefacts(folder, summary, run, render_stress_report, sides=lambda tmp: write_sides(
            tmp, run, spill, run_id=run_id, battery=loaded.name, overrides=list(b.set)))
    finally:
        spill.remove()
    finish(registry, run_id, summary, folder, run.replications_used)
    summary["folder"] = str(folder)
    return summary


def read_summary(registry: Registry, run_id: str) -> dict[str, Any]:
    """The ``summary.json`` of a recorded stress run."""
    from supplytwin.errors import SupplytwinError

    rec = registry.get(run_id)
    if rec.kind != KIND or rec.status != "complete" or not rec.artefacts:
        raise SupplytwinError(f"run {run_id} is not a complete stress run")
    path = Path(rec.artefacts) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SupplytwinError(f"cannot read the summary of run {run_id}: {exc}") from None


def history(registry: Registry, battery_name: str, limit: int = 50) -> pd.DataFrame:
    """Past complete runs of a battery, oldest first, with their headline figures."""
    rows = []
    for rec in registry.list(limit=1000, kind=KIND, search=battery_name):
        if rec.scenario_name != battery_name or rec.status != "complete":
            continue
        k = rec.kpi_summary or {}
        rows.append({"run_id": rec.run_id, "created_at": rec.created_at,
                     **{h: k.get(h) for h in ("whatifs", "failed", "breaches",
                                               "worst_fill_rate", "worst_whatif",
                                               "nodes_at_risk", "patients_at_risk",
                                               "min_tts_days", "replications_used")}})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    return df.sort_values(["created_at", "run_id"]).tail(limit).reset_index(drop=True)
