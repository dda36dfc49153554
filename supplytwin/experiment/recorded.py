"""Recorded experiments: replications, comparisons and sweeps with registry, checkpoints and
artefacts. The CLI and the dashboard both call these functions, so a run started from either
is the same run, findable in the same registry.

Each function registers the run (status ``running``), checkpoints every finished replication,
builds the final artefacts folder atomically, then marks the run ``complete``. An interrupted
run (Ctrl-C, a killed worker, a killed process) keeps its checkpoints; :func:`resume` continues
it from the replications it finished.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

import supplytwin
from supplytwin.errors import SupplytwinError
from supplytwin.experiment.executors import Executor, make_executor
from supplytwin.experiment.naming import Change, describe_differences, whatif_name
from supplytwin.experiment.replications import (
    ExperimentResult,
    replications_for,
    run_experiment,
)
from supplytwin.experiment.sides import point_side, table_prefix, whatif_side
from supplytwin.experiment.stats import paired_difference, significant, welch_difference
from supplytwin.model import Scenario
from supplytwin.scenario import load_scenario
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.experiment_store import (
    Checkpoint,
    finalize,
    summary_json,
    write_experiment_tables,
)
from supplytwin.store.registry import Registry
from supplytwin.store.results import manifest

Progress = Callable[[int, int, str], None]


@dataclass
class Request:
    """Everything needed to start, or resume, a recorded experiment."""

    kind: str  # run | compare | sweep
    scenarios: list[str]
    sets: list[str] = field(default_factory=list)
    #: replications per scenario; None: the scenario's ``simulation.replications``
    #: (:func:`~supplytwin.experiment.replications.replications_for`)
    reps: int | None = None
    seed: int | None = None
    workers: int | None = None
    dask: str | None = None
    precision: tuple[str, float] | None = None
    max_reps: int = 200
    report: bool = False
    out: str | None = None
    grid: dict[str, list[str]] = field(default_factory=dict)
    kpi: str = "fill_rate"
    #: a snapshot folder to start from (``--state``), or None for the initial-stock table
    state: str | None = None


@dataclass
class Outcome:
    run_id: str
    request: Request
    results: list[ExperimentResult]
    folder: Path | None
    interrupted: bool = False
    differences: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None


def _main_scenario_hash(sc: Scenario) -> str | None:
    if sc.source is None:
        return None
    return sc.file_hashes.get(sc.source.name)


def _load(path: str, sets: Sequence[str], state: str | None = None) -> Scenario:
    if state is None:
        return load_scenario(path, list(sets))
    # a run from a snapshot has no warm-up (it starts from the real state), so a horizon
    # shorter than the scenario's warm-up is fine
    sc = load_scenario(path, [*sets, "simulation.warmup_days=0"])
    from supplytwin.model.snapshot import with_snapshot
    from supplytwin.state import read_snapshot

    return with_snapshot(sc, read_snapshot(state, sc))


@dataclass(frozen=True)
class Identity:
    """What a run is called and what it changes from the scenario it starts from."""

    name: str              # "baseline+demand×1.2+hurricane-pr", or the scenario's own name
    base_name: str         # the scenario as written ("baseline")
    changes: tuple[Change, ...] = ()

    def as_records(self) -> list[dict[str, str]]:
        return [{"label": c.label, "text": c.text} for c in self.changes]


def identity(path: str, sets: Sequence[str], scenario: Scenario) -> Identity:
    """The what-if name of ``scenario`` (``path`` loaded with ``sets``): its own name when no
    override changes what is simulated, else its base's name joined with the changes."""
    if not sets:
        return Identity(scenario.name, scenario.name)
    try:
        base = load_scenario(path, [])
    except SupplytwinError:
        # the file is only valid with its overrides: name the run after the overrides
        changes = tuple(Change("setting", k, f"{k.rsplit('.', 1)[-1]}={v}", f"{k} set to {v}")
                        for k, _, v in (x.partition("=") for x in sets))
        return Identity(whatif_name(scenario.name, changes), scenario.name, changes)
    changes = tuple(describe_differences(base.resolved, scenario.resolved, base.file_hashes,
                                         scenario.file_hashes))
    # a --set name=... renames the run; otherwise the what-if is named after its base
    root = scenario.name if scenario.name != base.name else base.name
    return Identity(whatif_name(root, changes), base.name, changes)


def compared_identity(base: Scenario, whatif: Scenario, own: Identity) -> Identity:
    """A compared what-if: its own name, and what it changes from the compared base."""
    changes = tuple(describe_differences(base.resolved, whatif.resolved, base.file_hashes,
                                         whatif.file_hashes))
    return Identity(own.name, base.name, changes)


def _manifest(sc: Scenario, req: Request, results: list[ExperimentResult], started, run_id,
              executor: str) -> dict[str, Any]:
    reps = sorted(set().union(*(r.replications for r in results))) if results else []
    return manifest(
        sc, [results[0].seed] if results else [], started, datetime.now(UTC),
        run_id=run_id, kind=req.kind, replications=len(reps), replication_indices=reps,
        executor=executor, overrides=req.sets, warmup_days=sc.simulation.warmup_days,
        horizon_days=sc.simulation.horizon_days,
        names=[r.name for r in results],
        differences=[[{"label": c.label, "text": c.text} for c in r.changes] for r in results],
        precision=(None if results[0].precision is None else
                   dict(zip(("kpi", "half_width", "reached"), results[0].precision, strict=True))),
        scenarios=req.scenarios, grid=req.grid or None,
    )


def _run_one(sc: Scenario, req: Request, executor: Executor, ckpt: Checkpoint, tag: str,
             progress: Progress | None, label: str, offset: int, total: int) -> ExperimentResult:
    done = ckpt.load(tag)
    count = [offset + len(done)]
    if progress:
        progress(count[0], total, label)

    def on_result(out) -> None:
        ckpt.save(out, tag)
        count[0] += 1
        if progress:
            progress(count[0], total, label)

    return run_experiment(sc, req.reps, seed=req.seed, executor=executor, done=done,
                          on_result=on_result, precision=req.precision, max_reps=req.max_reps)


def start(req: Request, registry: Registry, progress: Progress | None = None,
          run_id: str | None = None) -> Outcome:
    """Start (or, with ``run_id`` of an interrupted run, resume) a recorded experiment."""
    scenarios = [_load(p, req.sets, req.state) for p in req.scenarios]
    base = scenarios[0]
    req = replace(req, reps=replications_for(base, req.reps))
    if req.kind in ("compare", "sweep") and req.reps < 2:
        raise SupplytwinError(f"a {req.kind} needs at least 2 replications per scenario for its "
                              f"confidence intervals; {base.name} says {req.reps}: give --reps N")
    if req.kpi not in KPI_DOCS:
        raise SupplytwinError(f"unknown KPI {req.kpi!r}; KPIs: {', '.join(KPI_DOCS)}")
    if req.precision is not None and req.precision[0] not in KPI_DOCS:
        raise SupplytwinError(f"--precision: unknown KPI {req.precision[0]!r}")
    points = _grid_points(req.grid) if req.kind == "sweep" else []
    if req.kind == "sweep":
        scenarios = [_load(req.scenarios[0], [*req.sets, *_point_sets(p)], req.state)
                     for p in points]
    names = _identities(req, scenarios, points)
    shown, base_name, changes = _registry_identity(req, names)
    started = datetime.now(UTC)
    executor = make_executor(req.workers, req.dask)
    resumed = run_id is not None
    if run_id is None:
        target = str(Path(req.out) if req.out else registry.runs_dir / "pending")
        run_id = registry.start(
            req.kind, scenario_name=shown, base_name=base_name, differences=changes,
            scenario_file=req.scenarios[0],
            scenario_sha256=_main_scenario_hash(base), data_sha256=base.file_hashes,
            version=supplytwin.__version__, seed=req.seed if req.seed is not None
            else base.simulation.seed, replications=req.reps, executor=executor.name,
            artefacts=target, command=f"supplytwin {req.kind}", params=asdict(req))
    else:
        registry.resume(run_id)
    folder = Path(req.out) if req.out else registry.runs_dir / run_id
    ckpt = Checkpoint(registry.runs_dir, run_id)
    if not resumed:
        ckpt.write_request({"request": asdict(req), "scenario_sha256":
                            [_main_scenario_hash(s) for s in scenarios]})
    total = req.reps * len(scenarios)
    results: list[ExperimentResult] = []
    interrupted = False
    try:
        for k, sc in enumerate(scenarios):
            label = sc.name if req.kind != "sweep" else _point_label(points[k])
            r = _run_one(sc, req, executor, ckpt, f"-{k}", progress, label, k * req.reps, total)
            r.name, r.changes = names[k].name, names[k].changes
            results.append(r)
            if r.interrupted:
                interrupted = True
                break
    except SupplytwinError:
        # e.g. a replication over its event budget: the run ends here, said so in the registry
        registry.finish(run_id, kpi_summary={}, replications=sum(r.n for r in results),
                        status="failed")
        raise
    finally:
        executor.close()
    outcome = Outcome(run_id, req, results, None, interrupted)
    if interrupted:
        registry.finish(run_id, kpi_summary={}, replications=sum(r.n for r in results),
                        status="interrupted")
        return outcome

    if req.kind == "compare":
        outcome.differences = differences_table(results[0], results[1:])
    if req.kind == "sweep":
        outcome.sweep = sweep_table(points, results, req.grid)

    def write(tmp: Path) -> None:
        if req.kind == "sweep":
            outcome.sweep.to_parquet(tmp / "sweep.parquet", index=False)
            from supplytwin.report.sweep import sweep_figure

            sweep_figure(outcome.sweep, req.kpi, list(req.grid)).write_html(
                tmp / "sweep.html", include_plotlyjs=True, full_html=True)
            for k, r in enumerate(results):
                write_experiment_tables(tmp, r, prefix=table_prefix(point_side(k)))
            return
        write_experiment_tables(tmp, results[0])
        first = results[0].outputs[min(results[0].outputs)] if results[0].outputs else None
        if first is not None and first.end_state is not None:
            from supplytwin.state import write_snapshot

            write_snapshot(tmp / "end_state", first.end_state)  # of the first replication
        for k, r in enumerate(results[1:], start=1):
            write_experiment_tables(tmp, r, prefix=table_prefix(whatif_side(k)))
        if outcome.differences is not None:
            outcome.differences.to_parquet(tmp / "comparison.parquet", index=False)
        if req.report:
            from supplytwin.report.html import (
                render_comparison_report,
                render_experiment_report,
                write_report,
            )

            m = _manifest(base, req, results, started, run_id, executor.name)
            html = (render_experiment_report(results[0], m) if req.kind == "run" else
                    render_comparison_report(results[0], results[1:], outcome.differences, m))
            write_report(tmp / "report.html", html)

    m = _manifest(base, req, results, started, run_id, executor.name)
    finalize(folder, m, write, overwrite=True)
    registry.finish(run_id, kpi_summary=_registry_summary(outcome),
                    replications=results[0].n, artefacts=str(folder))
    ckpt.remove()
    outcome.folder = folder
    return outcome


def resume(run_id: str, registry: Registry, progress: Progress | None = None) -> Outcome:
    rec = registry.get(run_id)
    ckpt = Checkpoint(registry.runs_dir, rec.run_id)
    if rec.status == "complete":
        raise SupplytwinError(f"run {rec.run_id} is complete; nothing to resume")
    if rec.shown_status == "running":  # its process is alive: the row's pid is its lock
        raise SupplytwinError(f"run {rec.run_id} is still running (pid {rec.pid} on "
                              f"{rec.host}); wait for it, or stop it before resuming")
    if not (ckpt.dir / "request.json").exists():
        raise SupplytwinError(f"run {rec.run_id} has no checkpoint to resume from")
    saved = ckpt.read_request()
    d = saved["request"]
    if d.get("precision"):
        d["precision"] = tuple(d["precision"])
    req = Request(**d)
    now = [_main_scenario_hash(_load(p, req.sets)) for p in req.scenarios]
    if req.kind != "sweep" and now != saved["scenario_sha256"][: len(now)]:
        raise SupplytwinError(f"the scenario files of run {rec.run_id} changed since it started;"
                              " start a new run instead of resuming")
    return start(req, registry, progress, run_id=rec.run_id)


def _identities(req: Request, scenarios: list[Scenario], points: list[dict[str, str]]
                ) -> list[Identity]:
    """The identity of each scenario the request simulates (one per what-if or sweep point)."""
    if req.kind == "sweep":
        # each point is a what-if of the scenario with the common overrides
        own = _load(req.scenarios[0], req.sets)
        root = identity(req.scenarios[0], req.sets, own)
        out = []
        for sc in scenarios:
            changes = tuple(describe_differences(own.resolved, sc.resolved))
            out.append(Identity(whatif_name(root.name, changes), root.base_name,
                                root.changes + changes))
        return out
    ids = [identity(p, req.sets, sc) for p, sc in zip(req.scenarios, scenarios, strict=True)]
    if req.kind == "compare":
        ids = [ids[0], *(compared_identity(scenarios[0], sc, own)
                         for sc, own in zip(scenarios[1:], ids[1:], strict=True))]
    return ids


def _registry_identity(req: Request, names: list[Identity]
                       ) -> tuple[str, str | None, list[dict[str, str]]]:
    """``(scenario_name, base_name, differences)`` of the registry row: a run is its what-if;
    a comparison is listed under its what-if(s), with the base it was compared against; a
    sweep under its base, its differences saying which keys it varies."""
    if req.kind == "compare":
        whatifs = names[1:]
        return (", ".join(i.name for i in whatifs), names[0].name,
                [rec for i in whatifs for rec in i.as_records()])
    if req.kind == "sweep":
        root = names[0].base_name
        varied = "; ".join(f"{k} in {', '.join(v)}" for k, v in req.grid.items())
        return (f"{root} sweep", root, [{"label": "sweep", "text": f"sweeps {varied}"}])
    first = names[0]
    return first.name, (first.base_name if first.changes else None), list(first.as_records())


# ---------------------------------------------------------------- comparison --------------------
def differences_table(base: ExperimentResult, others: list[ExperimentResult]) -> pd.DataFrame:
    """Paired differences (what-if minus base) per KPI, with the unpaired interval beside it."""
    bt = base.kpi_table().set_index("replication")
    rows = []
    for other in others:
        ot = other.kpi_table().set_index("replication")
        common = bt.index.intersection(ot.index)
        for k in KPI_DOCS:
            a, b = bt.loc[common, k].to_numpy(), ot.loc[common, k].to_numpy()
            p = paired_difference(a, b)
            w = welch_difference(a, b) if len(common) > 1 else p
            rows.append({
                "whatif": other.label, "kpi": k, "unit": KPI_DOCS[k][0], "n": p.n,
                "base_mean": float(pd.Series(a).mean()), "whatif_mean": float(pd.Series(b).mean()),
                "difference": p.mean, "ci95_low": p.ci95[0], "ci95_high": p.ci95[1],
                "significant": significant(p),
                "unpaired_ci95_low": w.ci95[0], "unpaired_ci95_high": w.ci95[1],
            })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- sweeps ------------------------
def split_values(text: str) -> list[str]:
    """``1,2,3`` -> ["1","2","3"], keeping commas inside parentheses (distributions)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    out.append(cur.strip())
    return [v for v in out if v]


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not split_values(values):
            raise SupplytwinError(f"--grid {item!r}: write KEY=V1,V2,... e.g. "
                                  "edits.policies.DC/P.order_up_to_units=500,800")
        grid[key.strip()] = split_values(values)
    return grid


def _grid_points(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _point_sets(point: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in point.items()]


def _point_label(point: dict[str, str]) -> str:
    return ", ".join(f"{re.split(r'[.]', k)[-1]}={v}" for k, v in point.items())


def sweep_table(points: list[dict[str, str]], results: list[ExperimentResult],
                grid: dict[str, list[str]]) -> pd.DataFrame:
    """Tidy: one row per design point and KPI with mean and 95 % CI."""
    rows = []
    for k, (point, r) in enumerate(zip(points, results, strict=True)):
        for name, e in r.summary().items():
            rows.append({"point": k, **point, "kpi": name, "mean": e.mean, "sd": e.sd,
                         "ci95_low": e.ci95[0], "ci95_high": e.ci95[1], "n": e.n})
    return pd.DataFrame(rows)


def _registry_summary(outcome: Outcome) -> dict[str, Any]:
    if outcome.request.kind == "sweep":
        return {"points": len(outcome.results), "kpi": outcome.request.kpi}
    if outcome.request.kind == "compare":
        # listed under the what-if: its own KPIs, the base's beside them
        whatifs = outcome.results[1:]
        s = summary_json(whatifs[0])
        s["base"] = {"name": outcome.results[0].label, **summary_json(outcome.results[0])}
        if len(whatifs) > 1:
            s["whatifs"] = {r.label: summary_json(r)["kpis"] for r in whatifs}
    else:
        s = summary_json(outcome.results[0])
    if outcome.differences is not None:
        sig = outcome.differences[outcome.differences["significant"]]
        s["significant_differences"] = sig[["whatif", "kpi", "difference"]].to_dict("records")
    return s
