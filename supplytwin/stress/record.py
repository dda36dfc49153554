"""A battery run in the run registry (kind ``stress``) and its artefacts folder.

The folder (``--out DIR`` or ``RUNS_DIR/RUN_ID``) is built atomically and holds
``summary.json`` (see :func:`supplytwin.stress.summary.build_summary`), ``report.html``,
``whatifs.csv``, ``node_risks.csv`` and ``customers.csv``. The registry row keeps the headline
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
                    render: Callable[[dict], str]) -> Path:
    with atomic_directory(folder, overwrite=True) as tmp:
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
