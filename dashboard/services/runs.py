"""The run registry and a run's artefacts as tables; comparisons of runs.

Artefacts and reports are opened only from inside the runs folder: a run written with
``--out`` elsewhere is listed but not opened, and a report needs the run's exact id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

import supplytwin
from dashboard.services.checks import UserError, _shown, _under, check_run_id
from dashboard.services.workspace import Workspace
from supplytwin.errors import SupplytwinError
from supplytwin.experiment.stats import paired_difference, significant, t_interval, welch_difference
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.registry import RunRecord


def _record_row(r: RunRecord) -> dict[str, Any]:
    kpis = (r.kpi_summary or {}).get("kpis", {}) if isinstance(r.kpi_summary, dict) else {}
    fr = kpis.get("fill_rate", {}) if isinstance(kpis, dict) else {}
    cost = kpis.get("cost_total_usd", {}) if isinstance(kpis, dict) else {}
    return {
        "run_id": r.run_id, "kind": r.kind, "status": r.shown_status,
        "created_at": r.created_at, "scenario": r.scenario_name or "",
        "base_name": getattr(r, "base_name", None) or "",
        "replications": r.replications, "seed": r.seed,
        "fill_rate": fr.get("mean") if isinstance(fr, dict) else None,
        "cost_total_usd": cost.get("mean") if isinstance(cost, dict) else None,
        "has_report": report_file(None, r) is not None,
    }


def list_runs(ws: Workspace, search: str | None = None, kind: str | None = None,
              limit: int = 200, complete_only: bool = False) -> list[dict[str, Any]]:
    """Rows of the registry, newest first (search: run id, scenario name or file)."""
    if search is not None and (len(search) > 100 or "\x00" in search):
        raise UserError("Search for at most 100 characters of a run id or scenario name.")
    records = ws.registry().list(limit=limit, kind=kind or None, search=(search or None))
    rows = [_record_row(r) for r in records]
    if complete_only:
        rows = [r for r in rows if r["status"] == "complete"]
    return rows


def run_record(ws: Workspace, run_id: object) -> dict[str, Any]:
    """A run's lineage as plain values."""
    rid = check_run_id(run_id)
    try:
        r = ws.registry().get(rid)
    except SupplytwinError as exc:
        raise UserError(str(exc).replace(str(ws.registry().path), "the registry")) from None
    params = r.params or {}
    return {
        "run_id": r.run_id, "kind": r.kind, "status": r.shown_status,
        "created_at": r.created_at, "finished_at": r.finished_at,
        "scenario_name": r.scenario_name, "scenario_file": r.scenario_file,
        "scenario_sha256": r.scenario_sha256, "data_sha256": r.data_sha256 or {},
        "version": r.version, "seed": r.seed, "replications": r.replications,
        "executor": r.executor, "command": r.command,
        "overrides": params.get("sets") or [], "scenarios": params.get("scenarios") or [],
        "artefacts": r.artefacts,
        "artefacts_inside_runs": r.artefacts is not None and _under(Path(r.artefacts), ws.runs_dir),
        "has_report": report_file(ws, r) is not None,
    }


def _artefacts(ws: Workspace, run_id: object) -> tuple[RunRecord, Path]:
    rid = check_run_id(run_id)
    try:
        rec = ws.registry().get(rid)
    except SupplytwinError:
        raise UserError(f"No run {_shown(rid)!r} in the registry.") from None
    if rec.shown_status != "complete" or not rec.artefacts:
        raise UserError(f"Run {rec.run_id} is {rec.shown_status}; it has no results to show.")
    folder = Path(rec.artefacts)
    if not _under(folder, ws.runs_dir):
        raise UserError(f"The results of run {rec.run_id} are outside the runs folder "
                        "(written with --out); the dashboard only opens results inside it.")
    if not folder.is_dir():
        raise UserError(f"The results folder of run {rec.run_id} is missing.")
    return rec, folder


def report_file(ws: Workspace | None, rec: RunRecord) -> Path | None:
    """The run's ``report.html`` when it exists inside the runs folder."""
    if not rec.artefacts:
        return None
    path = Path(rec.artefacts) / "report.html"
    if ws is not None and not _under(path, ws.runs_dir):
        return None
    return path if path.is_file() else None


def report_path(ws: Workspace, run_id: object) -> Path:
    """For the report route: the report of a run, only from inside the runs folder."""
    rid = check_run_id(run_id)
    try:
        rec = ws.registry().get(rid)
    except SupplytwinError:
        raise UserError(f"No run {_shown(rid)!r}.") from None
    if rec.run_id != rid:
        raise UserError(f"No run {_shown(rid)!r}.")  # no prefix matching from a URL
    path = report_file(ws, rec)
    if path is None:
        raise UserError(f"Run {rid} has no HTML report (start runs with a report to get one).")
    return path


@dataclass
class RunData:
    """The artefacts of one completed run, as tables."""

    run_id: str
    scenario: str
    manifest: dict[str, Any]
    summary: dict[str, dict[str, Any]]
    kpis: pd.DataFrame
    by_product: pd.DataFrame
    by_customer: pd.DataFrame
    timeseries: pd.DataFrame
    excursions_by_lane: pd.DataFrame | None
    #: mean daily demand served by each customer-facing (site, product): site_id, product_id,
    #: weight; empty when the scenario files cannot be loaded any more
    facing: pd.DataFrame

    @property
    def warmup_days(self) -> float:
        return float(self.manifest.get("warmup_days") or 0.0)

    @property
    def seed(self) -> int | None:
        seeds = self.manifest.get("seeds") or []
        return seeds[0] if seeds else None


def _read_parquet(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


@lru_cache(maxsize=16)
def _load_run_cached(folder: str, mtime_ns: int, run_id: str, scenario: str) -> RunData:
    f = Path(folder)
    manifest = json.loads((f / "manifest.json").read_text())
    if (f / "kpis_summary.json").is_file():
        summary = json.loads((f / "kpis_summary.json").read_text()).get("kpis", {})
        kpis = _read_parquet(f / "kpis_by_replication.parquet")
    else:  # a single run (supplytwin run without --reps): kpis.json
        single = json.loads((f / "kpis.json").read_text())
        summary = {k: {"mean": v, "sd": None, "ci95": [None, None], "n": 1}
                   for k, v in single.items()}
        kpis = pd.DataFrame([{"replication": manifest.get("replication", 0), **single}])
    by_product = _read_parquet(f / "kpis_by_product.parquet")
    if "replication" not in by_product.columns and len(by_product):
        by_product = by_product.assign(replication=0)
    timeseries = _read_parquet(f / "timeseries.parquet")
    if "replication" not in timeseries.columns and len(timeseries):
        timeseries = timeseries.assign(replication=0)
    lanes = f / "lanes.parquet"  # lane_id, units, excursions, replication
    return RunData(run_id, scenario, manifest, summary, kpis, by_product,
                   _read_parquet(f / "service_by_customer.parquet"), timeseries,
                   pd.read_parquet(lanes) if lanes.is_file() else None,
                   _facing(manifest))


def _facing(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """Customer-facing stock points and the demand they serve, from the run's scenario."""
    cols = ["site_id", "product_id", "weight"]
    path = manifest.get("scenario_file")
    if not path or not Path(path).is_file():
        return pd.DataFrame(columns=cols)
    try:
        sc = supplytwin.load_scenario(path, list(manifest.get("overrides") or []))
    except Exception:  # noqa: BLE001 - files changed since the run: fall back to no weights
        return pd.DataFrame(columns=cols)
    net = sc.network
    weights: dict[tuple[str, str], float] = {}
    for d in net.demand.values():
        srcs = net.demand_sources(d)
        if srcs:
            key = (srcs[0].origin_id, d.product_id)
            weights[key] = weights.get(key, 0.0) + net.demand_mean_rate(d)
    return pd.DataFrame([{"site_id": s, "product_id": p, "weight": w}
                         for (s, p), w in sorted(weights.items())], columns=cols)


def load_run(ws: Workspace, run_id: object) -> RunData:
    """Artefacts of a completed run inside the runs folder (cached per folder)."""
    rec, folder = _artefacts(ws, run_id)
    try:
        stamp = (folder / "manifest.json").stat().st_mtime_ns
        return _load_run_cached(str(folder), stamp, rec.run_id, rec.scenario_name or "")
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"The results of run {rec.run_id} cannot be read: {_shown(exc, 200)}") \
            from None


def _estimates(summary: Mapping[str, Mapping[str, Any]]):
    from supplytwin.experiment.stats import Estimate

    out = {}
    for k, v in summary.items():
        ci = v.get("ci95") or [None, None]
        out[k] = Estimate(
            float("nan") if v.get("mean") is None else float(v["mean"]),
            float("nan") if v.get("sd") is None else float(v["sd"]), int(v.get("n") or 0),
            tuple(float("nan") if c is None else float(c) for c in ci))
    return out


def compare_runs(ws: Workspace, run_ids: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """Differences of every other run against the first, per KPI, and how they were paired.

    Runs with the same root seed share their random numbers replication by replication
    (common random numbers), so their KPIs are paired by replication index and the CI is that
    of the paired differences; otherwise the runs are independent and Welch's interval is used.
    Columns: whatif, kpi, unit, n, base_mean, whatif_mean, difference, ci95_low, ci95_high,
    significant, paired.
    """
    ids = [check_run_id(r) for r in run_ids]
    if len(dict.fromkeys(ids)) < 2:
        raise UserError("Choose at least two different runs to compare.")
    runs = [load_run(ws, r) for r in dict.fromkeys(ids)]
    base = runs[0]
    rows, notes = [], []
    bt = base.kpis.set_index("replication")
    names = _labels(runs)
    for other, label in zip(runs[1:], names[1:], strict=True):
        ot = other.kpis.set_index("replication")
        common = bt.index.intersection(ot.index)
        paired = base.seed is not None and base.seed == other.seed and len(common) >= 2
        notes.append(f"{label}: " + (f"paired by replication ({len(common)} common, same seed)"
                                     if paired else "independent samples (Welch)"))
        for k in KPI_DOCS:
            if k not in bt.columns or k not in ot.columns:
                continue
            if paired:
                a = bt.loc[common, k].to_numpy(dtype=float)
                b = ot.loc[common, k].to_numpy(dtype=float)
                e = paired_difference(a, b)
            else:
                a = bt[k].dropna().to_numpy(dtype=float)
                b = ot[k].dropna().to_numpy(dtype=float)
                if len(a) < 2 or len(b) < 2:
                    e = t_interval([float(b.mean() - a.mean())] if len(a) and len(b) else [])
                else:
                    e = welch_difference(a, b)
            rows.append({
                "whatif": label, "kpi": k, "unit": KPI_DOCS[k][0], "n": e.n,
                "base_mean": float(pd.Series(a).mean()) if len(a) else float("nan"),
                "whatif_mean": float(pd.Series(b).mean()) if len(b) else float("nan"),
                "difference": e.mean, "ci95_low": e.ci95[0], "ci95_high": e.ci95[1],
                "significant": significant(e), "paired": paired,
            })
    return pd.DataFrame(rows), "; ".join(notes)


def _labels(runs: Sequence[RunData]) -> list[str]:
    """Readable, unique labels: scenario name, '+N overrides' when run with --set, and the
    last part of the run id."""
    out = []
    for r in runs:
        tail = r.run_id.rsplit("-", 1)[-1]
        n = len(r.manifest.get("overrides") or [])
        extra = f" +{n} override{'s' if n > 1 else ''}" if n else ""
        out.append(f"{r.scenario or 'run'}{extra} ({tail})")
    seen: dict[str, int] = {}
    for i, label in enumerate(out):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            out[i] = f"{label} #{seen[label]}"
    return out


def run_labels(runs: Sequence[RunData]) -> list[str]:
    return _labels(runs)
