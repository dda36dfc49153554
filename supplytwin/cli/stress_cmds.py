"""``supplytwin stress BATTERY`` and ``supplytwin stress history BATTERY``.

Exit codes, for cron, systemd timers and CI schedulers: 0 every threshold holds; 1 a threshold
is breached or a what-if failed to run (each named on stderr); 2 bad input (the battery, its
base scenario or an option), with file, line, field and reason.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from supplytwin.cli import app
from supplytwin.cli.common import make_console, user_errors
from supplytwin.errors import SupplytwinError

EXIT_BREACH = 1

STRESS_HELP = (
    "Run a stress battery (scenarios/stress/*.yaml): every what-if against the base with "
    "common random numbers, the time-to-survive LP per node, a JSON summary and an HTML report, "
    "recorded in the run registry. Exit 0 when every threshold holds, 1 naming the breached "
    "(or failed) what-ifs, 2 for bad input. 'supplytwin stress history BATTERY' shows the trend "
    "of the headline figures over past runs."
)


def _fmt(v, pct: bool = False) -> str:
    if v is None:
        return "–"
    if isinstance(v, str):
        return "∞" if v == "inf" else v
    if isinstance(v, float) and math.isnan(v):
        return "–"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    if pct:
        return f"{100 * v:.2f} %"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)


@app.command("stress", help=STRESS_HELP)
def stress(
    args: Annotated[list[str], typer.Argument(
        metavar="BATTERY | history BATTERY", show_default=False,
        help="A battery file, or 'history' and a battery file or name.")],
    reps: Annotated[int | None, typer.Option(
        "--reps", "-n", min=1, max=1000,
        help="Replications per what-if (default: the battery's); the cap with --adaptive.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, help="Worker processes (default: all cores; 1 = in-process).")
    ] = None,
    dask: Annotated[str | None, typer.Option(
        "--dask", help="Run on a Dask cluster: scheduler ADDRESS (tcp://host:8786).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Artefacts folder (default RUNS_DIR/RUN_ID).")] = None,
    fail_under: Annotated[list[str] | None, typer.Option(
        "--fail-under", metavar="KPI=VALUE",
        help="Fail (exit 1) when a what-if's mean KPI is below VALUE, e.g. fill_rate=0.97 "
        "(repeatable; adds to and overrides the battery's thresholds).")] = None,
    adaptive: Annotated[bool, typer.Option(
        "--adaptive", help="Sequential Bonferroni elimination: a few replications first, more "
        "only where a threshold or a top-N place is still open.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Root seed (default: base's).")
                    ] = None,
    runs_dir: Annotated[Path | None, typer.Option(
        "--runs-dir", help="Run registry folder (default ./runs or $SUPPLYTWIN_RUNS_DIR).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the JSON summary on stdout.")
                        ] = False,
) -> None:
    code = 0
    with user_errors():
        if args and args[0] == "history":
            if len(args) != 2:
                raise SupplytwinError("write: supplytwin stress history BATTERY")
            _history(args[1], runs_dir)
            return
        if len(args) != 1:
            raise SupplytwinError("give one battery file (or: supplytwin stress history BATTERY)")
        if workers and dask:
            raise SupplytwinError("--workers and --dask exclude each other")
        code = _run(Path(args[0]), reps, workers, dask, out, fail_under, adaptive, seed,
                    runs_dir, json_out)
    if code:
        raise typer.Exit(code)


def _run(path, reps, workers, dask, out, fail_under, adaptive, seed, runs_dir, json_out) -> int:
    import json

    from supplytwin.store.registry import Registry
    from supplytwin.stress import record
    from supplytwin.stress.battery import parse_fail_under

    thresholds = parse_fail_under(fail_under)
    err = make_console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("runs"), TimeElapsedColumn(), console=err,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("starting", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label[:40])

        summary = record.run_recorded(
            path, Registry(runs_dir), reps=reps, workers=workers, dask=dask, out=out,
            fail_under=thresholds, adaptive=adaptive, seed=seed, progress=progress,
            announce=lambda text: err.print(text, soft_wrap=True))
    folder = Path(summary["folder"])
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    err.print(f"report: {folder / 'report.html'}  summary: {folder / 'summary.json'}",
              soft_wrap=True)
    failed = summary["failed"]
    breaches = summary["breaches"]
    for f in failed:
        err.print(f"FAILED what-if {f['whatif']}: {f['error']}", soft_wrap=True)
    for x in breaches:
        err.print(f"BREACH {x['whatif']}: {x['kpi']} {x['mean']:.4f} < {x['threshold']:g}",
                  soft_wrap=True)
    return EXIT_BREACH if (failed or breaches) else 0


def _print_summary(summary: dict) -> None:
    con = make_console()
    h = summary["headline"]
    t = Table(title=f"Node risks of {summary['battery']} (TTS from the LP; TTS < TTR = at risk)")
    for c in ("rank", "node", "TTS (d)", "TTR (d)", "at risk", "patients at risk",
              "sim. first stockout (d)", "LP vs simulation"):
        t.add_column(c, justify="left" if c in ("node", "LP vs simulation") else "right")
    for r in summary["node_risks"][:15]:
        t.add_row(str(r["rank"]), r["node"], _fmt(r["tts_days"]), _fmt(r["ttr_days"]),
                  "yes" if r["at_risk"] else "", _fmt(r["patients_at_risk"]),
                  _fmt(r["simulated_time_to_first_stockout_days"]), r["why_they_differ"])
    con.print(t)
    w = Table(title=f"Top {len(summary['ranking'])} what-ifs by "
              f"{summary['settings']['ranking_kpi']} vs base")
    for c in ("what-if", "n", "fill rate", "during", "patients vs base", "first stockout (d)",
              "recover (d)"):
        w.add_column(c, justify="left" if c == "what-if" else "right")
    rows = {r["whatif"]: r for r in summary["whatifs"]}
    for name in summary["ranking"]:
        r = rows[name]
        w.add_row(name, str(r["n"]), _fmt(r["fill_rate"], True), _fmt(r["fill_rate_during"], True),
                  _fmt(r["patients_affected_diff"]), _fmt(r["time_to_first_stockout_days"]),
                  _fmt(r["time_to_recover_days"]))
    con.print(w)
    a = summary["adaptive"]
    con.print(f"{h['whatifs']} what-ifs, {h['failed']} failed, {h['breaches']} breaching; "
              f"{a['replications_used']} replications ({a['procedure']}; uniform equivalent "
              f"{a['uniform_equivalent']}); {h['wall_seconds']:.0f} s")


def _history(battery: str, runs_dir: Path | None) -> None:
    from supplytwin.store.registry import Registry
    from supplytwin.stress import record

    name = battery
    p = Path(battery)
    if p.suffix in (".yaml", ".yml"):
        from supplytwin.stress.battery import load_battery

        name = load_battery(p).name if p.exists() else p.stem
    df = record.history(Registry(runs_dir), name)
    if df.empty:
        raise SupplytwinError(f"no complete stress run of battery {name!r} in the registry")
    t = Table(title=f"History of battery {name} (oldest first)")
    cols = [("created_at", "when"), ("run_id", "run"), ("whatifs", "what-ifs"),
            ("breaches", "breaching"), ("failed", "failed"), ("worst_fill_rate", "worst fill"),
            ("worst_whatif", "worst what-if"), ("nodes_at_risk", "nodes at risk"),
            ("patients_at_risk", "patients at risk"), ("min_tts_days", "min TTS (d)")]
    for _, label in cols:
        t.add_column(label, justify="left" if label in ("when", "run", "worst what-if")
                     else "right", no_wrap=label in ("when", "run"))
    for _, r in df.iterrows():
        t.add_row(*[_fmt(r[c], pct=(c == "worst_fill_rate")) if c not in ("run_id", "created_at",
                    "worst_whatif") else str(r[c]) for c, _ in cols])
    con = make_console()
    con.print(t)
    con.print(f"latest run: {df.iloc[-1]['run_id']}", soft_wrap=True)


def print_sides(con, record) -> None:
    """For ``supplytwin runs show`` of a stress run: its base and every what-if with the
    reference that opens it as a run (the dashboard's Results page: ``/results?run=REF``), one
    line each so that no reference is ever cut; a failed what-if says why instead."""
    from rich.text import Text

    from supplytwin.stress.sides import read_sides

    sides = read_sides(Path(record.artefacts)) if record.artefacts else []
    if not sides:
        con.print("no what-if of this battery run opens as a run (recorded before what-ifs "
                  "were kept, or its folder is missing)", soft_wrap=True)
        return
    con.print(f"what-ifs of this battery ({len(sides) - 1} and the base); open one in the "
              "dashboard's Results page with /results?run=REF", soft_wrap=True)
    for s in sides:
        what = "base " + s["whatif"] if not s.get("side") else s["whatif"]
        if s.get("status") == "ok":
            facts = f"{s.get('replications')} replications"
            con.print(Text(f"  {s['ref']}  {what} · {facts}"), soft_wrap=True)
        else:
            con.print(Text(f"  {what} · failed, no results: {s.get('error')}"), soft_wrap=True)
