"""Artefacts of experiments: checkpoints while running, a complete folder when done.

While replications run, each finished one is written at once (atomically) to
``RUNS_DIR/.partial-<run_id>/reps/rep-NNNNN.pkl`` beside a ``request.json`` that says how to
resume (scenario file, overrides, seed, replications, precision). When the experiment ends,
the final folder ``RUNS_DIR/<run_id>/`` (or ``--out``) is built under a temporary name and
renamed into place, and only then is the registry row marked complete; the partial folder is
removed last. Layout of a final folder::

    manifest.json                 lineage: scenario, hashes, version, seeds, executor, times
    kpis_summary.json             {"kpis": {name: {"mean", "sd", "ci95", "n"}}}
    kpis_by_replication.parquet   one row per replication
    kpis_by_product.parquet       per product and replication
    service_by_customer.parquet   per customer, product and replication
    stock_points.parquet          on hand, backlog, holding cost per stock point and replication
    timeseries.parquet            daily levels per site, product and replication
    lanes.parquet                 units shipped and excursions per lane and replication
    comparison.parquet            (compare) paired differences per KPI and what-if
    sweep.parquet, sweep.html     (sweep) one row per design point
    report.html                   (--report) self-contained HTML report
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

from supplytwin.experiment.executors import ReplicationOutput
from supplytwin.experiment.replications import ExperimentResult
from supplytwin.store.atomic import atomic_directory, write_text_atomic
from supplytwin.store.results import _jsonable


class Checkpoint:
    """The partial folder of a running experiment."""

    def __init__(self, runs_dir: Path, run_id: str):
        self.dir = Path(runs_dir) / f".partial-{run_id}"
        (self.dir / "reps").mkdir(parents=True, exist_ok=True)

    def write_request(self, request: dict[str, Any]) -> None:
        write_text_atomic(self.dir / "request.json", json.dumps(request, indent=2, default=str))

    def read_request(self) -> dict[str, Any]:
        return json.loads((self.dir / "request.json").read_text())

    def save(self, out: ReplicationOutput, tag: str = "") -> None:
        path = self.dir / "reps" / f"rep{tag}-{out.replication:05d}.pkl"
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    def load(self, tag: str = "") -> dict[int, ReplicationOutput]:
        done: dict[int, ReplicationOutput] = {}
        for p in sorted((self.dir / "reps").glob(f"rep{tag}-*.pkl")):
            with p.open("rb") as fh:
                out = pickle.load(fh)  # our own checkpoint files, written above
            done[out.replication] = out
        return done

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def summary_json(result: ExperimentResult) -> dict[str, Any]:
    return _jsonable({"kpis": {k: e.as_dict() for k, e in result.summary().items()}})


def write_experiment_tables(folder: Path, result: ExperimentResult, prefix: str = "") -> None:
    result.kpi_table().to_parquet(folder / f"{prefix}kpis_by_replication.parquet", index=False)
    result.by_product().to_parquet(folder / f"{prefix}kpis_by_product.parquet", index=False)
    result.by_customer().to_parquet(folder / f"{prefix}service_by_customer.parquet", index=False)
    result.by_stock_point().to_parquet(folder / f"{prefix}stock_points.parquet", index=False)
    result.timeseries().to_parquet(folder / f"{prefix}timeseries.parquet", index=False)
    result.by_lane().to_parquet(folder / f"{prefix}lanes.parquet", index=False)
    (folder / f"{prefix}kpis_summary.json").write_text(json.dumps(summary_json(result), indent=2))


def finalize(target: Path, manifest: dict[str, Any], write: Any, overwrite: bool = True) -> Path:
    """Build ``target`` atomically: ``write(tmp_folder)`` adds the tables; manifest last."""
    with atomic_directory(target, overwrite=overwrite) as tmp:
        write(tmp)
        write_manifest(tmp, manifest)
    return target


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """``folder/manifest.json``; written last, since a folder with a manifest is complete."""
    (folder / "manifest.json").write_text(json.dumps(_jsonable(manifest), indent=2, default=str),
                                          encoding="utf-8")
