"""Network design on the Optimise page.

``supplytwin.opt.optimise`` on a chosen scenario in a background job, the design written as a
saved scenario (like the Scenario page's Save), and a simulation of the design against the
scenario it came from (two recorded runs with the same seed, paired on the Compare page).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import supplytwin
from dashboard.services.checks import (
    MAX_NAME_LENGTH,
    MAX_REPLICATIONS,
    UserError,
    _blank,
    _clean,
    _positive,
    _shown,
    _under,
    check_name,
)
from dashboard.services.jobs import JOBS, JobRunner
from dashboard.services.workspace import (
    SAVED,
    Workspace,
    _problems_text,
    display_path,
    load,
    scenario_key,
    scenario_path,
)
from supplytwin.errors import ScenarioError, SupplytwinError
from supplytwin.experiment import recorded
from supplytwin.model import Scenario
from supplytwin.store.registry import Registry

#
# The Optimise page: ``supplytwin.opt.optimise`` on a chosen scenario in a background job, the
# design written as a saved scenario (like the Scenario page's Save), and a simulation of the
# design against the scenario it came from.

OBJECTIVES = {"cost": "total annual cost", "cost+co2": "cost + priced CO2"}
MAX_OPT_TIME_LIMIT_S = 600.0
MAX_K_SOURCING = 10


@dataclass(frozen=True)
class OptimiseSettings:
    """The options of the Optimise page, checked (see :func:`validate_optimise_settings`)."""

    objective: str = "cost"
    co2_price_usd_per_t: float = 100.0
    k_sourcing: int = 1
    #: share 0..1 of demand met after the loss of any one plant; None = off
    n_minus_1_share: float | None = None
    time_limit_s: float = 60.0
    #: relative MIP gap (0.001 = 0.1 %)
    mip_gap: float = 1e-3

    def describe(self) -> str:
        parts = [OBJECTIVES[self.objective]
                 + (f" at {self.co2_price_usd_per_t:g} USD/t CO2" if self.objective == "cost+co2"
                    else "")]
        if self.k_sourcing > 1:
            parts.append(f"{self.k_sourcing}-sourcing")
        if self.n_minus_1_share is not None:
            parts.append(f"N-1 share {self.n_minus_1_share:g}")
        parts.append(f"time limit {self.time_limit_s:g} s, gap {100 * self.mip_gap:g} %")
        return ", ".join(parts)


def validate_optimise_settings(raw: Mapping[str, Any]) -> OptimiseSettings:
    """The page's raw values -> :class:`OptimiseSettings`, or a :class:`UserError` naming the
    option and what is wrong with it. ``gap_percent`` is in percent (0.1 = 0.1 %)."""
    d = OptimiseSettings()
    objective = raw.get("objective") or d.objective
    if objective not in OBJECTIVES:
        raise UserError(f"Objective: choose cost or cost + CO2 (got {_shown(objective)!r}).")
    co2 = raw.get("co2_price")
    co2 = d.co2_price_usd_per_t if _blank(co2) else _positive(
        co2, "CO2 price (USD per tonne)", allow_zero=True, upper=1e6)
    k = raw.get("k_sourcing")
    k = d.k_sourcing if _blank(k) else int(_positive(k, "k-sourcing", integer=True,
                                                     upper=MAX_K_SOURCING))
    n1 = raw.get("n_minus_1")
    if _blank(n1):
        n1 = None
    else:
        n1 = _positive(n1, "N-1 share", allow_zero=True)
        if n1 > 1:
            raise UserError(f"N-1 share: a share of demand between 0 and 1 (got {_shown(n1)}); "
                            "leave it empty to switch N-1 off.")
    tl = raw.get("time_limit")
    tl = d.time_limit_s if _blank(tl) else _positive(tl, "Time limit (s)",
                                                     upper=MAX_OPT_TIME_LIMIT_S)
    gap = raw.get("gap_percent")
    gap = d.mip_gap if _blank(gap) else _positive(gap, "MIP gap (%)", allow_zero=True) / 100
    if gap >= 1:
        raise UserError(f"MIP gap (%): must be below 100 (got {_shown(raw.get('gap_percent'))}).")
    return OptimiseSettings(objective, float(co2), int(k), n1, float(tl), float(gap))


def _design_name(ws: Workspace, key: str, name: object) -> str:
    """The requested design name (checked, not taken yet), or the first free
    ``STEM-design-N``."""
    if not _blank(name):
        name = check_name(name)
        if (ws.saved_dir / f"{name}.yaml").exists():
            raise UserError(f"A saved scenario called {name!r} exists already; choose another "
                            "name.")
        return name
    stem = Path(str(key)).stem[: MAX_NAME_LENGTH - 12]
    n = 1
    while (ws.saved_dir / f"{stem}-design-{n}.yaml").exists():
        n += 1
    return f"{stem}-design-{n}"


def design_tables(sc: Scenario, result) -> dict[str, pd.DataFrame]:
    """Tables of a solved design for the page: ``sites`` (every site of the network with its
    coordinates; ``open`` as decided by the model for the sites it decides, else as in the
    scenario), ``flows`` (units per year aggregated per origin, destination and mode, largest
    first), ``costs`` (group, item, usd_per_year)."""
    model_sites = result.tables["sites"].set_index("site_id")
    rows = []
    for s in sc.network.sites.values():
        in_model = s.site_id in model_sites.index
        m = model_sites.loc[s.site_id] if in_model else None
        rows.append({
            "site_id": s.site_id, "name": s.name or s.site_id, "kind": s.kind.value,
            "latitude": s.latitude, "longitude": s.longitude,
            "candidate": bool(m["candidate"]) if in_model else False,
            "open_before": bool(m["open_before"]) if in_model else bool(s.is_open),
            "open": bool(m["open"]) if in_model else bool(s.is_open),
            "expanded": bool(m["expanded"]) if in_model else False,
            "throughput_units_per_year": float(m["throughput_units_per_year"]) if in_model
            else float("nan"),
        })
    sites = pd.DataFrame(rows)
    f = result.tables["flows"]
    cols = ["origin_id", "destination_id", "mode", "units_per_year", "products", "lanes",
            "to_customer"]
    if f.empty:
        flows = pd.DataFrame(columns=cols)
    else:
        flows = (f.groupby(["origin_id", "destination_id", "mode"], as_index=False, sort=False)
                 .agg(units_per_year=("units_per_year", "sum"),
                      products=("product_id", lambda x: ";".join(sorted(set(x)))),
                      lanes=("lane_id", lambda x: ";".join(sorted(set(x)))),
                      to_customer=("to_customer", "any"))
                 .sort_values("units_per_year", ascending=False, kind="stable")
                 .reset_index(drop=True))[cols]
    return {"sites": sites, "flows": flows, "costs": result.tables["costs"].copy()}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean({k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()})
            for r in df.to_dict(orient="records")]


def optimise_design(ws: Workspace, key: str, settings: OptimiseSettings, *,
                    name: object = None, progress: Callable[..., None] | None = None,
                    cancel: threading.Event | None = None) -> dict[str, Any]:
    """Optimise the network of scenario ``key``; when there is a design, write it as
    ``RUNS_DIR/scenarios/NAME.yaml`` (extending the scenario; validated by the loader, never
    overwriting) and return a JSON-able summary: status, cost, gap, tables (sites, flows,
    costs as records), the design's key and file — or, when infeasible, ``explanation``: the
    plain-words lines of :func:`supplytwin.opt.infeasibility.explain_infeasible`."""
    from supplytwin.opt import DesignOptions, SolverSettings, optimise
    from supplytwin.opt.design import write_design

    def step(done: int, label: str) -> None:
        if progress is not None:
            progress(done, 3, label)

    path = scenario_path(ws, key)
    design_name = _design_name(ws, key, name)
    try:
        options = DesignOptions(objective=settings.objective,
                                co2_price_usd_per_t=settings.co2_price_usd_per_t,
                                k_sourcing=settings.k_sourcing,
                                n_minus_1_share=settings.n_minus_1_share).validate()
        solver = SolverSettings(time_limit_s=settings.time_limit_s,
                                mip_gap=settings.mip_gap).validate()
    except SupplytwinError as exc:
        raise UserError(str(exc)) from None
    step(0, "loading the scenario")
    sc = load(ws, key)
    step(1, "building and solving the model (HiGHS)")
    res = optimise(sc, options, solver)
    o = res.outcome
    out: dict[str, Any] = {
        "scenario_key": key, "scenario_name": sc.name, "settings": settings.describe(),
        "status": o.status, "termination": o.termination, "ok": bool(res.ok),
        "objective_usd": res.objective if res.ok else None, "bound_usd": o.bound, "gap": o.gap,
        "timings_s": {k: res.stats.get(k) for k in ("extract_s", "build_s", "transfer_s",
                                                     "solve_s")},
        "model": {k: res.stats.get(k) for k in ("binaries", "continuous", "constraints")},
        "explanation": res.explanation.lines(25) if res.explanation is not None else None,
        "design_key": None, "design_file": None, "sites": [], "flows": [], "costs": [],
    }
    if not res.ok:
        out["message"] = (f"No design: the model is {o.status}." if o.status == "infeasible"
                          else f"No design: HiGHS stopped with {o.termination} before finding "
                               "one (raise the time limit or the gap).")
        return _clean(out)
    tables = design_tables(sc, res)
    out.update({k: _records(v) for k, v in tables.items()})
    unmet = res.tables["demand"]["unmet_units_per_year"].sum()
    out["unmet_units_per_year"] = float(unmet)
    if cancel is not None and cancel.is_set():
        out["state"] = "cancelled"
        out["message"] = "Cancelled: the design was not saved."
        return _clean(out)
    step(2, "writing the design scenario")
    fingerprint = design_fingerprint(sc, settings, out)
    # the same design again (a second click, a re-run with the same options) reuses its file
    # rather than writing baseline-design-2, -3, ... that all say the same thing
    target = None if not _blank(name) else _saved_design(ws, key, fingerprint)
    reused = target is not None
    if target is None:
        target = _write_design_file(ws, sc, res, design_name, write_design, fingerprint)
    out["design_key"] = scenario_key(SAVED, target)
    out["design_file"] = display_path(ws, target)
    gap = f", gap {o.gap:.2%}" if math.isfinite(o.gap) else ""
    saved = (f"The same design is saved already as {out['design_file']}" if reused
             else f"Saved as {out['design_file']}")
    out["message"] = (f"Design found ({o.status}{gap}): annual cost {res.objective:,.0f} USD "
                      f"in the model. {saved} (extends {display_path(ws, path)}).")
    step(3, "done")
    return _clean(out)


#: first line of a design file written by the dashboard: identifies the design it holds
FINGERPRINT_PREFIX = "# dashboard design fingerprint: "


def design_fingerprint(sc: Scenario, settings: OptimiseSettings,
                       summary: Mapping[str, Any]) -> str:
    """A hash of what makes a design: the scenario as resolved, the options and the decisions
    (sites, flows and costs as in ``summary``). Equal fingerprints mean equal design files."""
    what = {"scenario": sc.resolved, "settings": settings.describe(),
            "tables": {k: summary.get(k) for k in ("sites", "flows", "costs")}}
    text = json.dumps(what, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _saved_design(ws: Workspace, key: str, fingerprint: str) -> Path | None:
    """The saved ``STEM-design-N.yaml`` holding the design of ``fingerprint``, if any."""
    stem = Path(str(key)).stem[: MAX_NAME_LENGTH - 12]
    for path in sorted(ws.saved_dir.glob(f"{stem}-design-*.yaml")):
        try:
            with path.open(encoding="utf-8") as fh:
                first = fh.readline().strip()
        except (OSError, UnicodeDecodeError):
            continue
        if first == (FINGERPRINT_PREFIX + fingerprint).strip() and _under(path, ws.saved_dir):
            return path
    return None


def _write_design_file(ws: Workspace, sc: Scenario, res, name: str, write_design,
                       fingerprint: str | None = None) -> Path:
    """``write_design`` into the saved-scenarios folder, never over an existing file; the file
    is checked by the scenario loader and removed again when invalid. ``fingerprint`` goes on
    its first line (:func:`design_fingerprint`)."""
    saved = ws.saved_dir
    saved.mkdir(parents=True, exist_ok=True)
    target = saved / f"{name}.yaml"
    extra = saved / f"{name}.policies.csv"
    if not _under(target, saved) or target.exists() or extra.exists():
        raise UserError(f"A saved scenario called {name!r} exists already; choose another name.")
    try:
        path = write_design(sc, res, saved, name=name, file_name=name)
    except SupplytwinError as exc:
        raise UserError(f"The design cannot be written as a scenario: {_shown(exc, 300)}") \
            from None
    if fingerprint:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        tmp.write_text(FINGERPRINT_PREFIX + fingerprint + "\n"
                       + path.read_text(encoding="utf-8"), encoding="utf-8")
        tmp.replace(path)  # atomic: a reader sees the file with or without the line, whole
    problems = supplytwin.check_scenario(path)
    if problems:
        path.unlink(missing_ok=True)
        extra.unlink(missing_ok=True)
        raise UserError("The design scenario would be invalid, so it was not saved: "
                        + "; ".join(str(p) for p in problems[:6]))
    return path


def start_optimise(ws: Workspace, key: str, settings: OptimiseSettings, *, name: object = None,
                   runner: JobRunner | None = None) -> str:
    """Optimise in a background job (``JobRunner.submit_task``); the job's ``summary`` is
    :func:`optimise_design`'s. Bad keys and names are refused before the job starts."""
    scenario_path(ws, key)
    _design_name(ws, key, name)

    def task(progress, cancel):
        out = optimise_design(ws, key, settings, name=name, progress=progress, cancel=cancel)
        return {"summary": out, "message": out.get("message"),
                "state": out.get("state") or "done"}

    return (runner or JOBS).submit_task(f"optimise {key}", task)


def simulate_design(ws: Workspace, base_key: str, design_key: str, replications: object, *,
                    report: bool = True, workers: int | None = None,
                    progress: Callable[..., None] | None = None,
                    cancel: threading.Event | None = None) -> dict[str, Any]:
    """Simulate the scenario and its design with the same seed and replications — two recorded
    runs (``recorded.start``, as ``supplytwin run --reps N``), paired by replication on the
    Compare page (common random numbers). Returns the run ids and the Compare address."""
    reps = int(_positive(replications, "Replications", integer=True, upper=MAX_REPLICATIONS))
    paths = [scenario_path(ws, base_key), scenario_path(ws, design_key)]
    if workers is None:
        workers = 1 if reps == 1 else min(reps, os.cpu_count() or 1)
    total = 2 * reps
    ids: list[str] = []
    for k, path in enumerate(paths):
        last: list[str | None] = [None]

        def prog(done: int, _total: int, label: str, k=k, last=last) -> None:
            first = label != last[0]
            last[0] = label
            if progress is not None:
                progress(k * reps + done, total, label)
            # as in JobRunner._run_recorded: never on the first call (before the handler)
            if cancel is not None and cancel.is_set() and not first and done < _total:
                raise KeyboardInterrupt

        if cancel is not None and cancel.is_set():
            break
        req = recorded.Request("run", [str(path)], [], reps=reps, workers=workers,
                               report=report)
        try:
            outcome = recorded.start(req, Registry(ws.runs_dir), prog)
        except ScenarioError as exc:
            raise UserError(f"The scenario is invalid: {_problems_text(exc)}") from None
        except KeyboardInterrupt:
            break
        ids.append(outcome.run_id)
        if outcome.interrupted:
            break
    if len(ids) < 2 or (cancel is not None and cancel.is_set()):
        return {"state": "cancelled", "run_ids": ids,
                "message": "Cancelled; the runs recorded so far are in the Runs page "
                           f"({', '.join(ids) or 'none'})."}
    return {"state": "done", "run_ids": ids, "compare_href": f"/compare?runs={ids[0]},{ids[1]}",
            "message": f"Simulated {reps} replication(s) of each: base run {ids[0]}, design run "
                       f"{ids[1]} (same seed: paired by replication)."}


def start_design_simulation(ws: Workspace, base_key: str, design_key: str,
                            replications: object, *, report: bool = True,
                            workers: int | None = None, runner: JobRunner | None = None) -> str:
    """:func:`simulate_design` in a background job; refuses bad input before it starts."""
    int(_positive(replications, "Replications", integer=True, upper=MAX_REPLICATIONS))
    scenario_path(ws, base_key)
    scenario_path(ws, design_key)

    def task(progress, cancel):
        out = simulate_design(ws, base_key, design_key, replications, report=report,
                              workers=workers, progress=progress, cancel=cancel)
        return {"summary": out, "message": out["message"], "state": out["state"],
                "run_id": (out["run_ids"] or [None])[-1]}

    return (runner or JOBS).submit_task(f"simulate {design_key} against {base_key}", task)
