"""``supplytwin run``: simulate a scenario and show the KPIs a planner reads."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from supplytwin.cli import app
from supplytwin.cli.common import (
    MAX_SEED,
    MaxEventsOption,
    SetOption,
    TimeLimitOption,
    budget_sets,
    load,
    make_console,
    user_errors,
)
from supplytwin.errors import SupplytwinError
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.atomic import check_output_folder, output_lock


def fmt_value(name: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = KPI_DOCS[name][0]
    if unit == "fraction":
        return f"{100 * value:.2f} %"
    if unit == "USD":
        return f"{value:,.0f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def kpi_table(kpis: dict[str, float], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, (unit, _doc) in KPI_DOCS.items():
        if name.startswith("co2_kg_") and name != "co2_kg_total" and not kpis.get(name):
            continue  # modes the network does not use
        table.add_row(name, fmt_value(name, kpis[name]), "" if unit == "fraction" else unit)
    return table


@app.command()
def run(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML file.")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Root seed (default: the scenario's).", min=0, max=MAX_SEED,
        metavar="SEED")] = None,
    horizon_days: Annotated[float | None, typer.Option(
        "--horizon-days", metavar="DAYS",
        help="Simulated days (default: the scenario's; 0 only with --state).",
        min=0, max=36_500)] = None,
    reps: Annotated[int | None, typer.Option(
        "--reps", "-n", min=1, metavar="N",
        help="Replications N (a number is required): KPIs with mean, sd and 95 % CI. "
        "Default: the scenario's simulation.replications.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, metavar="N", help="Worker processes (default all cores; 1 = in-process).")] = None,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", help="Run replications on a Dask cluster: ADDRESS or 'local'.")] = None,
    precision: Annotated[str | None, typer.Option(
        metavar="KPI=H", help="KPI=HALF_WIDTH: add replications until the 95 % CI is this narrow.")] = None,
    max_reps: Annotated[int, typer.Option(help="Upper bound for --precision.", min=2,
                                          metavar="N")] = 200,
    report: Annotated[bool, typer.Option(
        "--report", help="Write a self-contained HTML report.")] = False,
    resume: Annotated[str | None, typer.Option(
        help="Continue an interrupted run (its id) from the replications it finished.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Results folder (default: runs/ID).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON on stdout.")] = False,
    events: Annotated[bool, typer.Option(
        "--events", help="Keep the event log of lots and shipments (one replication; "
        "implies --reps 1).")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace an existing --out folder.")] = False,
    runs_dir: Annotated[Path | None, typer.Option(
        "--runs-dir", help="Run registry folder (default ./runs or $SUPPLYTWIN_RUNS_DIR).")] = None,
    sets: SetOption = None,
    max_events: MaxEventsOption = None,
    time_limit: TimeLimitOption = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="Start from this snapshot folder (today's stock, shipments, orders, "
                        "sites down; docs/state-format.md) instead of the initial stock; the "
                        "results hold the end state in the same format.")] = None,
) -> None:
    """Simulate SCENARIO: its simulation.replications (or --reps N) replications with 95 %
    confidence intervals; one replication prints the plain KPI table.

    \b
    Examples:
      supplytwin run scenarios/baseline.yaml
      supplytwin run scenarios/baseline.yaml --reps 30 --report
      supplytwin run scenarios/tiny.yaml --reps 1 --events
      supplytwin run scenarios/tiny.yaml -s simulation.horizon_days=90
    """
    from supplytwin.cli.experiment_cmds import parse_precision, run_request, summary_table
    from supplytwin.experiment.replications import replications_for
    from supplytwin.store.results import _jsonable

    with user_errors(), contextlib.ExitStack() as stack:
        sets = budget_sets(sets, max_events, time_limit)
        if resume is None and scenario is None:
            raise SupplytwinError("give a SCENARIO file (or --resume RUN_ID)")
        if horizon_days == 0 and state is None:
            raise SupplytwinError("--horizon-days 0 only makes sense from a snapshot (--state)")
        if state is not None:  # no warm-up from a real state: any horizon is measured whole
            sets = [*(sets or []), "simulation.warmup_days=0"]
        if horizon_days:
            # validated with the scenario (the warm-up must stay shorter than the horizon)
            sets.append(f"simulation.horizon_days={horizon_days!r}")
            horizon_days = None
        if out is not None:
            # before simulating: a bad --out costs nothing, and one writer per folder
            check_output_folder(out, overwrite)
            stack.enter_context(output_lock(out))
        if events and reps not in (None, 1):
            raise SupplytwinError("--events keeps the event log of one replication: "
                                  "drop --reps or give --reps 1")
        n = None
        if resume is None:
            # the one replications rule (experiment.replications_for), as in the dashboard
            # a 0-day run from a snapshot draws nothing: one replication says it all
            n = 1 if events or horizon_days == 0 else replications_for(load(scenario, sets), reps)
        # one replication without a report is the plain single run (event log, mass balance
        # line); everything else is a recorded experiment, which writes --report always
        if resume is not None or n != 1 or precision is not None or report:
            from supplytwin.experiment.recorded import Request

            req = None
            if resume is None:
                req = Request("run", [str(scenario)], list(sets or []), n, seed,
                              workers, dask, parse_precision(precision), max_reps, report,
                              str(out) if out else None,
                              state=str(state) if state is not None else None)
            outcome = run_request(req, runs_dir, resume_id=resume)
            result = outcome.results[0]
            if as_json:
                payload = {"run_id": outcome.run_id, "scenario": result.label,
                           "base": result.scenario.name,
                           "differences": [c.text for c in result.changes],
                           "seed": result.seed, "replications": result.n,
                           "kpis": {k: e.as_dict() for k, e in result.summary().items()}}
                typer.echo(json.dumps(_jsonable(payload), indent=2))
                return
            con = make_console()
            sc = result.scenario
            if result.changes:
                con.print(f"what-if of {sc.name}: " + "; ".join(c.text for c in result.changes))
            con.print(summary_table(result, f"{result.label}: {result.n} replications, seed "
                                    f"{result.seed}, warm-up {sc.simulation.warmup_days:g} of "
                                    f"{sc.simulation.horizon_days:g} days", list(KPI_DOCS)))
            if result.precision is not None:
                k, h, ok = result.precision
                con.print(f"precision: {k} half width {'<=' if ok else '>'} {h} after "
                          f"{result.n} replications" + ("" if ok else " (max reached)"))
            con.print(f"run {outcome.run_id}: artefacts in {outcome.folder}"
                      + (f", report {outcome.folder}/report.html" if report else ""))
            return
        _single_run(scenario, seed, horizon_days, out, as_json, events, overwrite, runs_dir,
                    sets, state)


def _single_run(scenario, seed, horizon_days, out, as_json, events, overwrite, runs_dir, sets,
                state=None):
    import supplytwin
    from supplytwin.experiment.recorded import identity
    from supplytwin.store.registry import Registry
    from supplytwin.store.results import _jsonable, write_run_folder

    sc = load(scenario, sets)
    if state is not None:
        from supplytwin.model.snapshot import with_snapshot
        from supplytwin.state import read_snapshot

        sc = with_snapshot(sc, read_snapshot(state, sc))
    named = [*(sets or []), *([f"simulation.horizon_days={horizon_days:g}"] if horizon_days
                              else [])]
    who = identity(str(scenario), named, sc if not horizon_days else load(scenario, named))
    reg = Registry(runs_dir)
    run_id = reg.start("run", scenario_name=who.name, base_name=who.base_name if who.changes
                       else None, differences=who.as_records(), scenario_file=str(scenario),
                       scenario_sha256=sc.file_hashes.get(Path(scenario).name),
                       data_sha256=sc.file_hashes, version=supplytwin.__version__,
                       seed=seed if seed is not None else sc.simulation.seed, replications=1,
                       executor="in-process", artefacts=str(out or reg.runs_dir / "pending"),
                       command="supplytwin run", params={"sets": list(sets or [])})
    folder = out or reg.runs_dir / run_id
    err = make_console(stderr=True)
    started = datetime.now(UTC)
    try:
        result = _simulate(sc, seed, horizon_days, events, as_json, err, who.name)
    except SupplytwinError:
        # e.g. over its event budget: nothing was written, and the registry says it failed
        reg.finish(run_id, kpi_summary={}, replications=0, status="failed")
        raise
    ended = datetime.now(UTC)
    write_run_folder(folder, sc, result, started, ended, overwrite=True, run_id=run_id,
                     name=who.name,
                     base_name=who.base_name, differences=who.as_records(),
                     overrides=list(sets or []))
    reg.finish(run_id, kpi_summary={"kpis": {k: {"mean": v, "n": 1} for k, v in
                                             _jsonable(result.kpis).items()}},
               replications=1, artefacts=str(folder))
    if as_json:
        payload = {"run_id": run_id, "scenario": who.name, "base": who.base_name,
                   "differences": [c.text for c in who.changes], "seed": result.seed,
                   "kpis": result.kpis,
                   "stock_points": result.stock_points.to_dict(orient="records")}
        typer.echo(json.dumps(_jsonable(payload), indent=2))
        return
    con = make_console()
    title = (f"{who.name}: seed {result.seed}, {result.kpis['demand_units']:,.0f} units "
             f"demanded after {sc.simulation.warmup_days:g} warm-up days "
             f"({result.wall_seconds:.1f} s)")
    if who.changes:
        con.print(f"what-if of {who.base_name}: " + "; ".join(c.text for c in who.changes))
    con.print(kpi_table(result.kpis, title))
    con.print("mass balance: ok (every product: initial + produced = delivered + consumed "
              "+ stocks + written off)")
    con.print(f"run {run_id}: results in {folder} (on hand, backlog and holding cost per "
              "stock point: stock_points.parquet)")


def _simulate(sc, seed, horizon_days, events, as_json, err, name):
    from supplytwin.sim import simulate

    if err.is_terminal and not as_json:
        with Progress(TextColumn("[bold]simulating[/] {task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task(escape(name), total=1.0)
            return simulate(sc, seed=seed, horizon_days=horizon_days, log_events=events,
                            progress=lambda f: bar.update(task, completed=f))
    return simulate(sc, seed=seed, horizon_days=horizon_days, log_events=events)
