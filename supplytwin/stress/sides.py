"""Each what-if of a battery, and its base, as a run of its own that opens in Results.

A battery run is one registry record (kind ``stress``), but every what-if in it is a simulated
scenario with replications like any run. To open one in the dashboard's Results page (KPIs with
confidence intervals, daily levels with the disruption window shaded, service by customer) its
folder holds the same tables a comparison writes for its sides
(:func:`supplytwin.store.experiment_store.write_experiment_tables`):

* the base without a prefix (``kpis_summary.json``, ``timeseries.parquet``, ...);
* the battery's *k*-th what-if (1-based, battery order) with the prefix ``whatifK_``
  (the names and references of sides: :mod:`supplytwin.experiment.sides`);
* ``manifest.json``: lineage as for any run (base scenario file and the battery's overrides),
  ``names`` (the side names, base first), ``sides`` (per side its reference, what-if, status,
  replications and, for a failed what-if, the error) and ``side_disruptions`` (the disruption
  rows each what-if adds to the base: the dashboard shades their windows).

A side is addressed as a comparison's side is: ``RUN_ID`` (the base) or ``RUN_ID@whatifK``.
A what-if with a failed replication gets no tables: its entry in ``sides`` says why.

Memory stays bounded however large the battery: :class:`SideSpill` writes each replication's
tables to disk as it arrives (the experiments' :class:`~supplytwin.store.experiment_store.
Checkpoint`, one pickle per replication under ``RUNS_DIR/.partial-RUN_ID/``) and drops them from
the replication's output; :func:`write_sides` then builds the sides one at a time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from supplytwin.experiment.replications import ExperimentResult
from supplytwin.experiment.sides import side_ref, table_prefix, whatif_side
from supplytwin.store.experiment_store import Checkpoint, write_experiment_tables, write_manifest
from supplytwin.store.results import manifest
from supplytwin.stress.measures import StressOutput
from supplytwin.stress.runner import BatteryRun


def side_of(w: int) -> str:
    """The side of the battery's what-if ``w`` (0-based; -1 the base): ``""`` or ``whatifK``."""
    return whatif_side(w + 1)


class SideSpill:
    """Writes each replication's tables to disk as it arrives (see the module docstring)."""

    def __init__(self, runs_dir: Path, run_id: str):
        self.checkpoint = Checkpoint(runs_dir, run_id)

    @staticmethod
    def _tag(w: int) -> str:
        return f"-{side_of(w) or 'base'}"

    def keep(self, out: StressOutput) -> None:
        """The runner's ``on_output``: write the tables, keep only the measures in memory."""
        if out.tables is not None and not out.error:
            self.checkpoint.save(out.tables, self._tag(out.whatif))
        out.tables = None

    def load(self, w: int) -> dict:
        return self.checkpoint.load(self._tag(w))

    def remove(self) -> None:
        self.checkpoint.remove()


def write_sides(folder: Path, run: BatteryRun, spill: SideSpill, *, run_id: str,
                battery: str, overrides: list[str]) -> list[dict[str, Any]]:
    """Write every side's tables and the manifest into ``folder`` (the battery's artefacts
    folder while it is being built); return the ``sides`` entries."""
    failed = run.failed()
    sides: list[dict[str, Any]] = []
    for w in range(-1, len(run.whatifs)):
        side = side_of(w)
        name = run.base.name if w < 0 else run.whatifs[w].name
        entry = {"side": side, "ref": side_ref(run_id, side), "whatif": name,
                 "status": "ok", "error": "", "replications": 0}
        outputs = spill.load(w)
        if w in failed:  # run.failed() holds the base (-1) too
            entry["status"] = "failed"
            entry["error"] = failed[w]
        elif not outputs:
            entry["status"] = "failed"
            entry["error"] = "no replication finished"
        else:
            result = ExperimentResult(run.base, run.seed, run.executor, outputs, name=name)
            write_experiment_tables(folder, result, prefix=table_prefix(side))
            entry["replications"] = len(outputs)
        sides.append(entry)
        del outputs
    ended = datetime.now().astimezone()
    started = ended - timedelta(seconds=run.wall_seconds)
    base = run.base
    m = manifest(
        base, [run.seed], started, ended, kind="stress", run_id=run_id, battery=battery,
        overrides=list(overrides), executor=run.executor,
        horizon_days=base.simulation.horizon_days, warmup_days=base.simulation.warmup_days,
        names=[s["whatif"] for s in sides], sides=sides,
        side_disruptions={side_of(w): [r.model_dump(mode="json", exclude_none=True)
                                       for r in wi.disruptions]
                          for w, wi in enumerate(run.whatifs)},
        wall_seconds=run.wall_seconds)
    # written last: a folder with a manifest is a complete folder
    write_manifest(folder, m)
    return sides


def read_sides(folder: Path) -> list[dict[str, Any]]:
    """The ``sides`` of a battery's artefacts folder (empty for a run recorded before sides
    were kept, or one whose manifest cannot be read)."""
    try:
        m = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    sides = m.get("sides") if isinstance(m, dict) else None
    return [s for s in sides if isinstance(s, dict)] if isinstance(sides, list) else []


def with_side_disruptions(scenario, manifest_: dict[str, Any], side: str):
    """The scenario a side simulated: the base with the disruption rows its what-if adds
    (``side_disruptions`` of a battery's manifest); any other side or run as it is."""
    from dataclasses import replace

    from supplytwin.model import DisruptionRow

    rows = (manifest_.get("side_disruptions") or {}).get(side) if side else None
    if scenario is None or not rows:
        return scenario
    added = tuple(DisruptionRow(**r) for r in rows)
    return replace(scenario, network=replace(scenario.network,
                                             disruptions=scenario.network.disruptions + added))
