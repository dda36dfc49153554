"""The Stress page: bundled batteries, running one in the background, and its results.

Batteries are named by their file name in the bundled ``scenarios/stress`` folder (never by a
path). A run goes through :func:`supplytwin.stress.record.run_recorded`, the code path of
``supplytwin stress``, in a :class:`~dashboard.services.jobs.JobRunner` task; its results are
read back from the run's ``summary.json`` inside the runs folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dashboard.services.checks import MAX_REPLICATIONS, UserError, _positive, _under, check_run_id
from dashboard.services.jobs import JOBS, JobRunner
from dashboard.services.workspace import Workspace
from supplytwin.errors import ScenarioError, SupplytwinError

#: replications per what-if the page allows (a battery multiplies them by its what-ifs)
MAX_STRESS_REPS = min(MAX_REPLICATIONS, 50)


def list_batteries(ws: Workspace) -> list[str]:
    folder = ws.scenarios_dir / "stress"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("*.yaml") if p.is_file())


def battery_path(ws: Workspace, name: object):
    if not isinstance(name, str) or name not in list_batteries(ws):
        raise UserError("Pick one of the bundled stress batteries.")
    return ws.scenarios_dir / "stress" / name


def start_battery(ws: Workspace, name: object, replications: object, adaptive: bool = False,
                  *, workers: int | None = None, runner: JobRunner | None = None) -> str:
    """Run a bundled battery in a background job; refuses bad input before it starts."""
    path = battery_path(ws, name)
    reps = int(_positive(replications, "Replications", integer=True, upper=MAX_STRESS_REPS))
    workers = workers or min(2, os.cpu_count() or 1)

    def task(progress, cancel):
        from supplytwin.store.registry import Registry
        from supplytwin.stress.record import run_recorded

        def prog(done: int, total: int, label: str) -> None:
            progress(done, total, label)
            if cancel.is_set() and done < total:
                raise KeyboardInterrupt

        try:
            s = run_recorded(path, Registry(ws.runs_dir), reps=reps, workers=workers,
                             adaptive=bool(adaptive), progress=prog)
        except ScenarioError as exc:
            raise UserError("The battery is invalid: " + "; ".join(
                str(p) for p in exc.problems[:5])) from None
        except SupplytwinError as exc:
            raise UserError(str(exc)) from None
        h = s["headline"]
        text = (f"{h['whatifs']} what-ifs, {h['breaches']} breaching a threshold, "
                f"{h['nodes_at_risk']} nodes with TTS < TTR; run {s['run_id']}.")
        return {"summary": {"run_id": s["run_id"]}, "run_id": s["run_id"], "message": text}

    return (runner or JOBS).submit_task(f"stress {name}", task)


def stress_runs(ws: Workspace, limit: int = 30) -> list[dict[str, Any]]:
    """Complete stress runs, newest first."""
    out = []
    for rec in ws.registry().list(limit=limit, kind="stress"):
        if rec.status == "complete":
            out.append({"run_id": rec.run_id, "battery": rec.scenario_name,
                        "created_at": rec.created_at})
    return out


def stress_summary(ws: Workspace, run_id: object) -> dict[str, Any]:
    """The ``summary.json`` of a complete stress run inside the runs folder."""
    from supplytwin.stress.record import read_summary

    rid = check_run_id(run_id)
    try:
        rec = ws.registry().get(rid)
        if not rec.artefacts or not _under(Path(rec.artefacts), ws.runs_dir):
            raise UserError("This run's results are not inside the runs folder.")
        return read_summary(ws.registry(), rid)
    except SupplytwinError as exc:
        raise UserError(str(exc)) from None


def stress_sides(ws: Workspace, run_id: object) -> list[dict[str, Any]]:
    """The base and every what-if of a complete stress run as sides that open in Results:
    side, ref (``ID`` or ``ID@whatifK``), whatif, status (``ok`` or ``failed``), error,
    replications (:mod:`supplytwin.stress.sides`). Empty for a run recorded before what-ifs
    were kept."""
    from supplytwin.stress.sides import read_sides

    rid = check_run_id(run_id)
    try:
        rec = ws.registry().get(rid)
    except SupplytwinError as exc:
        raise UserError(str(exc)) from None
    if rec.kind != "stress" or rec.status != "complete" or not rec.artefacts \
            or not _under(Path(rec.artefacts), ws.runs_dir):
        return []
    return read_sides(Path(rec.artefacts))
