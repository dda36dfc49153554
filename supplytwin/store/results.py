"""The results folder of a run: KPIs as JSON, tables as parquet, and a manifest for lineage.

Layout::

    OUT/
      manifest.json          scenario name, resolved scenario, file hashes, version, seed,
                             start/end time, wall seconds, mass balance status
      kpis.json              KPI name -> value
      kpis_by_product.parquet
      service_by_customer.parquet  fill rate and OTIF per customer and product
      stock_points.parquet   on hand, backlog and holding cost per stock point
      timeseries.parquet     daily on hand / on order / backlog per site and product
      mass_balance.parquet
      events.parquet         only with --events (lot genealogy, shipments, write-offs)
"""

from __future__ import annotations

import json
import math
import platform
from datetime import datetime
from pathlib import Path
from typing import Any

import supplytwin
from supplytwin.model import Scenario
from supplytwin.sim.result import RunResult
from supplytwin.store.atomic import atomic_directory


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def manifest(scenario: Scenario, seeds: list[int], started: datetime, ended: datetime,
             **extra: Any) -> dict[str, Any]:
    return _jsonable({
        "scenario_name": scenario.name,
        "scenario_file": str(scenario.source) if scenario.source else None,
        "resolved_scenario": scenario.resolved,
        "file_sha256": scenario.file_hashes,
        "supplytwin_version": supplytwin.__version__,
        "python": platform.python_version(),
        "seeds": seeds,
        "started_at": started.isoformat(timespec="seconds"),
        "ended_at": ended.isoformat(timespec="seconds"),
        **extra,
    })


def write_run_folder(out: Path, scenario: Scenario, result: RunResult, started: datetime,
                     ended: datetime, overwrite: bool = False, **extra: Any) -> Path:
    """``extra``: more manifest entries (the run's what-if name, differences, overrides)."""
    with atomic_directory(out, overwrite=overwrite) as tmp:
        (tmp / "kpis.json").write_text(json.dumps(_jsonable(result.kpis), indent=2))
        result.kpis_by_product.to_parquet(tmp / "kpis_by_product.parquet", index=False)
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.service_by_customer.to_parquet(tmp / "service_by_customer.parquet", index=False)
        result.stock_points.to_parquet(tmp / "stock_points.parquet", index=False)
        result.mass_balance.to_parquet(tmp / "mass_balance.parquet", index=False)
        if result.end_state is not None:  # a run from a snapshot: its end seeds the next run
            from supplytwin.state import write_snapshot

            write_snapshot(tmp / "end_state", result.end_state)
        if not result.events.empty:
            result.events.astype({c: "string" for c in result.events.columns
                                  if result.events[c].dtype == object}).to_parquet(
                tmp / "events.parquet", index=False)
        m = manifest(scenario, [result.seed], started, ended,
                     replication=result.replication, wall_seconds=result.wall_seconds,
                     events_processed=result.events_processed, mass_balance="ok",
                     horizon_days=scenario.simulation.horizon_days,
                     warmup_days=scenario.simulation.warmup_days, **extra)
        # written last: a folder with a manifest is a complete folder
        (tmp / "manifest.json").write_text(json.dumps(m, indent=2, default=str))
    return out
