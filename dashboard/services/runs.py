"""The run registry and a run's artefacts as tables; comparisons of runs.

Artefacts and reports are opened only from inside the runs folder: a run written with
``--out`` elsewhere is listed but not opened, and a report needs the run's exact id.

**Kinds of run and their sides.** The registry holds three kinds of record, each opened on its
own page (:func:`open_href`): a ``run`` (one scenario, possibly a what-if made with overrides)
opens in Results; a ``compare`` (a base and one or more what-ifs simulated with the same seed,
all in one folder) opens in Compare with every side; a ``sweep`` (a grid of design points)
opens in Results as its own table and plot. A *side* of a folder is named by a reference:
``ID`` (the run, or a comparison's base), ``ID@whatif1`` (its first what-if) or ``ID@point003``
(a sweep's fourth point); :func:`load_run` reads the tables of any of them. A ``stress``
battery opens on the Stress page; its base (``ID``) and each what-if (``ID@whatifK``, the
battery's K-th) are sides too (:mod:`supplytwin.stress.sides`).
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
from supplytwin.experiment.sides import (
    SIDE_PATTERN,
    is_whatif,
    side_index,
    side_ref,
    split_side_ref,
    table_prefix,
    whatif_side,
)
from supplytwin.experiment.stats import paired_difference, significant, t_interval, welch_difference
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.registry import RunRecord


def split_ref(ref: object) -> tuple[str, str]:
    """``(run_id, side)`` of a run reference ``ID`` or ``ID@SIDE`` (side ``""`` for the run
    itself or a comparison's base), or :class:`UserError`."""
    if not isinstance(ref, str) or len(ref) > 160:
        raise UserError(f"{_shown(ref)!r} is not a run id.")
    rid, side = split_side_ref(ref)
    check_run_id(rid)
    if "@" in ref and not SIDE_PATTERN.fullmatch(side):
        raise UserError(f"{_shown(ref)!r} is not a run id.")
    return rid, side


def check_ref(ref: object) -> str:
    """A run reference (``ID`` or ``ID@SIDE``) as it is, or :class:`UserError`."""
    split_ref(ref)
    return str(ref)


def _whatif_count(r: RunRecord) -> int:
    """How many what-ifs a ``compare`` record holds (its scenarios after the base)."""
    scenarios = (r.params or {}).get("scenarios") if isinstance(r.params, dict) else None
    return max(1, len(scenarios) - 1) if isinstance(scenarios, list) else 1


def open_href(kind: str, run_id: str, whatifs: int = 1) -> str:
    """The page a registry record opens on: a comparison in Compare with all its sides, a run
    or a sweep in Results."""
    if kind == "compare":
        sides = [side_ref(run_id, whatif_side(k)) for k in range(whatifs + 1)]
        return "/compare?runs=" + ",".join(sides)
    if kind == "stress":
        return f"/stress?run={run_id}"
    return f"/results?run={run_id}"


def _differences_text(r: RunRecord) -> str:
    items = r.differences if isinstance(r.differences, list) else []
    return "; ".join(str(d.get("text") or d.get("label") or "") for d in items
                     if isinstance(d, dict))


def _record_row(r: RunRecord) -> dict[str, Any]:
    kpis = (r.kpi_summary or {}).get("kpis", {}) if isinstance(r.kpi_summary, dict) else {}
    fr = kpis.get("fill_rate", {}) if isinstance(kpis, dict) else {}
    cost = kpis.get("cost_total_usd", {}) if isinstance(kpis, dict) else {}
    # base_name and differences are registry fields of later versions: older rows lack them
    base = getattr(r, "base_name", None)
    return {
        "run_id": r.run_id, "kind": r.kind, "status": r.shown_status,
        "created_at": r.created_at, "scenario": r.scenario_name or "",
        "base_name": base or "", "differences": _differences_text(r),
        "replications": r.replications, "seed": r.seed,
        "fill_rate": fr.get("mean") if isinstance(fr, dict) else None,
        "cost_total_usd": cost.get("mean") if isinstance(cost, dict) else None,
        "has_report": report_file(None, r) is not None,
        "open_href": open_href(r.kind, r.run_id, _whatif_count(r)),
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
    """A run's lineage as plain values (of the registry record, for any side of it)."""
    rid, _side = split_ref(run_id)
    try:
        r = ws.registry().get(rid)
    except SupplytwinError as exc:
        raise UserError(str(exc).replace(str(ws.registry().path), "the registry")) from None
    params = r.params or {}
    return {
        "run_id": r.run_id, "kind": r.kind, "status": r.shown_status,
        "created_at": r.created_at, "finished_at": r.finished_at,
        "scenario_name": r.scenario_name, "scenario_file": r.scenario_file,
        "base_name": getattr(r, "base_name", None), "differences": _differences_text(r),
        "open_href": open_href(r.kind, r.run_id, _whatif_count(r)),
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

    #: the reference the data was read under: ``ID`` or ``ID@SIDE`` (see the module docstring)
    run_id: str
    #: the name of what this side simulated: a what-if's own name, a comparison's base
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
    #: the registry id of the record holding this side, and the record's kind
    record_id: str = ""
    kind: str = "run"

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
def _load_run_cached(folder: str, mtime_ns: int, run_id: str, scenario: str,
                     side: str = "", record_id: str = "", kind: str = "run") -> RunData:
    f = Path(folder)
    p = table_prefix(side)  # the tables of a side carry its name as a prefix
    manifest = json.loads((f / "manifest.json").read_text())
    if (f / f"{p}kpis_summary.json").is_file():
        summary = json.loads((f / f"{p}kpis_summary.json").read_text()).get("kpis", {})
        kpis = _read_parquet(f / f"{p}kpis_by_replication.parquet")
    else:  # a single run (supplytwin run without --reps): kpis.json
        single = json.loads((f / "kpis.json").read_text())
        summary = {k: {"mean": v, "sd": None, "ci95": [None, None], "n": 1}
                   for k, v in single.items()}
        kpis = pd.DataFrame([{"replication": manifest.get("replication", 0), **single}])
    by_product = _read_parquet(f / f"{p}kpis_by_product.parquet")
    if "replication" not in by_product.columns and len(by_product):
        by_product = by_product.assign(replication=0)
    timeseries = _read_parquet(f / f"{p}timeseries.parquet")
    if "replication" not in timeseries.columns and len(timeseries):
        timeseries = timeseries.assign(replication=0)
    lanes = f / f"{p}lanes.parquet"  # lane_id, units, excursions, replication
    return RunData(run_id, scenario, manifest, summary, kpis, by_product,
                   _read_parquet(f / f"{p}service_by_customer.parquet"), timeseries,
                   pd.read_parquet(lanes) if lanes.is_file() else None,
                   _facing(manifest, side), record_id or run_id, kind)


@lru_cache(maxsize=16)
def scenario_cached(path: str, mtime_ns: int, overrides: tuple[str, ...]) -> Any:
    """A run's scenario file with its overrides, loaded once per version of the file (the
    Results page needs it for the demand weights and the disruption windows); None when it
    no longer loads."""
    try:
        return supplytwin.load_scenario(path, list(overrides))
    except Exception:  # noqa: BLE001 - files changed since the run: the page says so
        return None


def _facing(manifest: Mapping[str, Any], side: str = "") -> pd.DataFrame:
    """Customer-facing stock points and the demand they serve, from the run's scenario (a
    comparison's what-if: its own scenario file)."""
    cols = ["site_id", "product_id", "weight"]
    path = manifest.get("scenario_file")
    files = manifest.get("scenarios") or []
    if is_whatif(side) and side_index(side) < len(files):
        path = files[side_index(side)]
    if not path or not Path(path).is_file():
        return pd.DataFrame(columns=cols)
    sc = scenario_cached(str(path), Path(path).stat().st_mtime_ns,
                         tuple(manifest.get("overrides") or ()))
    if sc is None:  # files changed since the run: fall back to no weights
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


def side_name(manifest: Mapping[str, Any], rec: RunRecord, side: str) -> str:
    """What a side simulated, by name: the manifest's ``names`` (what-if names), else the
    registry's names (a comparison's base is ``base_name``)."""
    names = manifest.get("names") or []
    k = side_index(side)
    if k < len(names) and names[k]:
        return str(names[k])
    if rec.kind == "compare" and not side:
        return getattr(rec, "base_name", None) or rec.scenario_name or "base"
    return rec.scenario_name or ""


def load_run(ws: Workspace, run_id: object) -> RunData:
    """Artefacts of one side of a completed run inside the runs folder (cached per folder):
    ``ID`` (a run, or a comparison's base) or ``ID@whatifN`` / ``ID@pointNNN``."""
    rid, side = split_ref(run_id)
    rec, folder = _artefacts(ws, rid)
    if rec.kind == "sweep" and not side:
        raise UserError(f"Run {rec.run_id} is a sweep: open it in Results for its table and "
                        "plot, or compare its points (ID@point000, ID@point001, ...).")
    if side and not (folder / f"{table_prefix(side)}kpis_summary.json").is_file():
        raise UserError(f"Run {rec.run_id} has no {side}.")
    try:
        stamp = (folder / "manifest.json").stat().st_mtime_ns
        manifest = json.loads((folder / "manifest.json").read_text())
        ref = side_ref(rec.run_id, side)
        return _load_run_cached(str(folder), stamp, ref, side_name(manifest, rec, side), side,
                                rec.run_id, rec.kind)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"The results of run {rec.run_id} cannot be read: {_shown(exc, 200)}") \
            from None


def run_sides(ws: Workspace, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of complete runs for a run chooser with every side that opens as one run: a
    comparison's (or a stress battery's) base and what-ifs (``ID``, ``ID@whatif1``, ...)
    instead of the record;
    sweeps left out (their points are not runs of their own). Same keys as :func:`list_runs`,
    ``run_id`` holding the reference and ``scenario`` the side's name."""
    out: list[dict[str, Any]] = []
    for r in rows:
        if r["kind"] == "sweep":
            continue
        if r["kind"] not in ("compare", "stress"):
            out.append(dict(r))
            continue
        try:
            rec, folder = _artefacts(ws, r["run_id"])
            manifest = json.loads((folder / "manifest.json").read_text())
        except (UserError, OSError, ValueError):
            continue
        n = len(manifest.get("scenarios") or []) or 2
        if r["kind"] == "stress":  # a battery: the sides it kept (not its failed what-ifs)
            n = len(manifest.get("names") or [])
        for k in range(n):
            side = whatif_side(k)
            if r["kind"] == "stress" and not (
                    folder / f"{table_prefix(side)}kpis_summary.json").is_file():
                continue
            row = {**r, "run_id": side_ref(r["run_id"], side),
                   "scenario": side_name(manifest, rec, side),
                   "base_name": "" if not k else side_name(manifest, rec, ""),
                   "side_of": r["run_id"]}
            if r["kind"] == "stress":  # the record counts the whole battery's replications
                kept = manifest.get("sides") or []
                row["replications"] = kept[k].get("replications") if k < len(kept) else None
            out.append(row)
    return out


def load_sweep(ws: Workspace, run_id: object) -> dict[str, Any]:
    """A sweep's own results: ``table`` (one row per design point and KPI: mean, sd, 95 % CI),
    ``factors`` (the keys it varies), ``kpi`` (the one it was run for) and its ``name``."""
    rid, _side = split_ref(run_id)
    rec, folder = _artefacts(ws, rid)
    if rec.kind != "sweep":
        raise UserError(f"Run {rec.run_id} is a {rec.kind}, not a sweep.")
    try:
        table = pd.read_parquet(folder / "sweep.parquet")
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"The results of sweep {rec.run_id} cannot be read: "
                        f"{_shown(exc, 200)}") from None
    factors = list((manifest.get("grid") or {}).keys())
    summary = rec.kpi_summary if isinstance(rec.kpi_summary, dict) else {}
    kpi = summary.get("kpi") or "fill_rate"
    return {"table": table, "factors": factors, "kpi": kpi, "name": rec.scenario_name or "",
            "run_id": rec.run_id, "manifest": manifest}


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
    ids = list(run_ids)
    for r in ids:
        split_ref(r)  # a run id or a side of one (ID@whatif1), else a UserError
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
        # a what-if named after its changes (manifest "names") needs no override count
        named = bool(r.manifest.get("names"))
        extra = f" +{n} override{'s' if n > 1 else ''}" if n and not named else ""
        out.append(f"{r.scenario or 'run'}{extra} ({tail})")
    seen: dict[str, int] = {}
    for i, label in enumerate(out):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            out[i] = f"{label} #{seen[label]}"
    return out


def run_labels(runs: Sequence[RunData]) -> list[str]:
    return _labels(runs)
