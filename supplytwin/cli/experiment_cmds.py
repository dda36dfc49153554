"""``supplytwin compare``, ``supplytwin sweep`` and ``supplytwin runs``; the replicated mode of
``supplytwin run`` lives in :mod:`run_cmds` and shares :func:`run_request` with these."""

from __future__ import annotations

import contextlib
import json
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from supplytwin.cli import app
from supplytwin.cli.common import (
    MAX_SEED,
    MaxEventsOption,
    SetOption,
    TimeLimitOption,
    budget_sets,
    make_console,
    user_errors,
)
from supplytwin.errors import SupplytwinError
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.atomic import check_output_folder, output_lock

runs_app = typer.Typer(help="The run registry: list, show, diff and export recorded runs.",
                       no_args_is_help=True)
app.add_typer(runs_app, name="runs")

#: KPIs shown in terminal tables unless --kpi asks for others (JSON has them all)
HEADLINE = ["fill_rate", "order_fill_rate", "otif", "cycle_service_level", "backordered_units",
            "lost_units", "patients_affected", "expired_units", "excursion_loss_units",
            "cost_total_usd", "co2_kg_total"]

RunsDir = Annotated[Path | None, typer.Option(
    "--runs-dir", help="Run registry folder (default ./runs or $SUPPLYTWIN_RUNS_DIR).")]
Workers = Annotated[int | None, typer.Option(
    "--workers", "-w", min=1, metavar="N",
    help="Worker processes (default: all cores; 1 = in-process).")]
Dask = Annotated[str | None, typer.Option(
    "--dask", help="Run on a Dask cluster: scheduler ADDRESS (tcp://host:8786) or 'local'.")]


def fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "fraction":
        return f"{100 * value:.2f} %"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def fmt_diff(value: float | None, unit: str, sign: bool = True) -> str:
    """A difference: of two fractions in percentage points (pp), else as :func:`fmt`."""
    if unit != "fraction" or value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt(value, unit)
    v = 100 * value
    if round(v, 2) == 0:
        v = 0.0  # no "-0.00 pp"
    return f"{v:+.2f} pp" if sign else f"{v:.2f} pp"


def parse_precision(text: str | None) -> tuple[str, float] | None:
    if not text:
        return None
    kpi, sep, hw = text.partition("=")
    try:
        value = float(hw)
    except ValueError:
        value = -1.0
    if not sep or kpi not in KPI_DOCS or not value > 0:
        raise SupplytwinError(f"--precision {text!r}: write KPI=HALF_WIDTH with a known KPI, "
                              "e.g. fill_rate=0.005")
    return kpi, value


def run_request(req, runs_dir: Path | None, *, resume_id: str | None = None):
    """Run a recorded experiment with a progress bar on stderr; return the outcome."""
    from supplytwin.experiment import recorded
    from supplytwin.store.registry import Registry

    reg = Registry(runs_dir)
    err = make_console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("replications"), TimeElapsedColumn(), console=err,
                  transient=False, disable=not err.is_terminal) as bar:
        task = bar.add_task("starting", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=escape(label))

        if resume_id:
            outcome = recorded.resume(resume_id, reg, progress)
        else:
            outcome = recorded.start(req, reg, progress)
    if outcome.interrupted:
        n = sum(r.n for r in outcome.results)
        err.print(f"interrupted after {n} replication(s); they are kept. Resume with: "
                  f"supplytwin run --resume {outcome.run_id}")
        raise typer.Exit(130)
    return outcome


def summary_table(result, title: str, kpis: list[str]) -> Table:
    summary = result.summary()
    t = Table(title=title)
    for c in ("KPI", "mean", "sd", "95 % CI", "n", "unit"):
        t.add_column(c, justify="left" if c in ("KPI", "unit") else "right")
    for k in kpis:
        e, unit = summary[k], KPI_DOCS[k][0]
        t.add_row(k, fmt(e.mean, unit), fmt(e.sd, unit),
                  f"[{fmt(e.ci95[0], unit)}, {fmt(e.ci95[1], unit)}]", str(e.n),
                  "" if unit == "fraction" else unit)
    return t


def difference_table(diff, whatif: str, kpis: list[str], what: str = "") -> Table:
    d = diff[(diff["whatif"] == whatif) & diff["kpi"].isin(kpis)].set_index("kpi")
    t = Table(title=f"{whatif} minus base{what} (paired over common random numbers; "
              "* = significant)")
    for c in ("KPI", "base", "what-if", "difference", "paired 95 % CI", ""):
        t.add_column(c, justify="left" if c == "KPI" else "right")
    for k in kpis:
        r, unit = d.loc[k], KPI_DOCS[k][0]
        t.add_row(k, fmt(r["base_mean"], unit), fmt(r["whatif_mean"], unit),
                  fmt_diff(r["difference"], unit),
                  f"[{fmt_diff(r['ci95_low'], unit)}, {fmt_diff(r['ci95_high'], unit)}]",
                  "*" if r["significant"] else "")
    return t


def _kpis(selected: list[str] | None) -> list[str]:
    for k in selected or []:
        if k not in KPI_DOCS:
            raise SupplytwinError(f"unknown KPI {k!r}; KPIs: {', '.join(KPI_DOCS)}")
    return selected or HEADLINE


def _difference_json(r) -> dict:
    """One KPI's difference; for a rate the difference and its CI are in percentage points and
    their keys say so (``difference_pp``, ``ci95_pp``), base and what-if stay fractions."""
    out = {"base": r.base_mean, "whatif": r.whatif_mean}
    if r.unit == "fraction":
        out |= {"difference_pp": 100 * r.difference,
                "ci95_pp": [100 * r.ci95_low, 100 * r.ci95_high]}
    else:
        out |= {"difference": r.difference, "ci95": [r.ci95_low, r.ci95_high]}
    return out | {"significant": bool(r.significant), "n": int(r.n)}


@app.command()
def compare(
    base: Annotated[Path, typer.Argument(help="The baseline scenario.")],
    whatifs: Annotated[list[Path], typer.Argument(help="One or more what-if scenarios.")],
    reps: Annotated[int | None, typer.Option(
        "--reps", "-n", min=2, metavar="N", help="Replications per scenario (a number is required; default: "
        "the base scenario's simulation.replications).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Root seed (default: the base's).", min=0, max=MAX_SEED, metavar="SEED")] = None,
    workers: Workers = None,
    dask: Dask = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="KPIs to show (repeatable).")] = None,
    report: Annotated[bool, typer.Option(
        "--report", help="Write a self-contained HTML report.")] = False,
    out: Annotated[Path | None, typer.Option(help="Artefacts folder (default: runs/ID).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the differences as JSON.")] = False,
    runs_dir: RunsDir = None,
    sets: SetOption = None,
    max_events: MaxEventsOption = None,
    time_limit: TimeLimitOption = None,
) -> None:
    """Paired comparison of what-ifs against a base, replication by replication (CRN)."""
    from supplytwin.experiment.recorded import Request

    with user_errors(), contextlib.ExitStack() as stack:
        sets = budget_sets(sets, max_events, time_limit)
        if out is not None:
            check_output_folder(out, overwrite=True)
            stack.enter_context(output_lock(out))
        shown = _kpis(kpi)
        req = Request("compare", [str(base), *map(str, whatifs)], list(sets or []), reps, seed,
                      workers, dask, report=report, out=str(out) if out else None)
        outcome = run_request(req, runs_dir)
        diff = outcome.differences
        if as_json:
            payload = {"run_id": outcome.run_id, "differences": {}}
            for w, g in diff.groupby("whatif", sort=False):
                payload["differences"][w] = {r.kpi: _difference_json(r) for r in g.itertuples()}
            from supplytwin.store.results import _jsonable

            typer.echo(json.dumps(_jsonable(payload), indent=2))
            return
        con = make_console()
        for r in outcome.results[1:]:
            if r.changes:
                con.print(f"{r.label}: " + "; ".join(c.text for c in r.changes))
            con.print(difference_table(diff, r.label, shown))
            if not kpi:  # which cost groups (supplytwin.model.costs) make the cost difference
                from supplytwin.model.costs import SIM_COST_KPIS

                con.print(difference_table(diff, r.label, list(SIM_COST_KPIS), ", cost by group"))
        con.print(f"run {outcome.run_id}: artefacts in {outcome.folder}")


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario to vary.")],
    grid: Annotated[list[str], typer.Option(
        "--grid", "-g", help="KEY=V1,V2,... over any --set key (repeatable; full factorial).")],
    reps: Annotated[int | None, typer.Option(
        "--reps", "-n", min=2, metavar="N", help="Replications per point (a number is required; default: "
        "the scenario's simulation.replications).")] = None,
    kpi: Annotated[str, typer.Option(help="KPI plotted against the first factor.")] = "fill_rate",
    seed: Annotated[int | None, typer.Option(help="Root seed.", min=0, max=MAX_SEED,
                                             metavar="SEED")] = None,
    workers: Workers = None,
    dask: Dask = None,
    out: Annotated[Path | None, typer.Option(help="Artefacts folder (default: runs/ID).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    runs_dir: RunsDir = None,
    sets: SetOption = None,
) -> None:
    """Full-factorial sweep over scenario keys: a tidy table and a plot with confidence bands."""
    from supplytwin.experiment.recorded import Request, parse_grid

    with user_errors():
        if kpi not in KPI_DOCS:
            raise SupplytwinError(f"unknown KPI {kpi!r}")
        g = parse_grid(grid)
        req = Request("sweep", [str(scenario)], list(sets or []), reps, seed, workers, dask,
                      out=str(out) if out else None, grid=g, kpi=kpi)
        outcome = run_request(req, runs_dir)
        table = outcome.sweep[outcome.sweep["kpi"] == kpi]
        if as_json:
            typer.echo(table.to_json(orient="records", indent=2))
            return
        t = Table(title=f"sweep of {scenario.name}: {kpi} (mean and 95 % CI, "
                  f"{outcome.request.reps} reps per point)")
        for f in g:
            t.add_column(f.split(".")[-1])
        for c in ("mean", "95 % CI"):
            t.add_column(c, justify="right")
        unit = KPI_DOCS[kpi][0]
        # to_dict, not itertuples: factor names such as edits.policies.DC/P.S are not
        # identifiers and itertuples would rename them
        for row in table.to_dict("records"):
            t.add_row(*[str(row[f]) for f in g], fmt(row["mean"], unit),
                      f"[{fmt(row['ci95_low'], unit)}, {fmt(row['ci95_high'], unit)}]")
        con = make_console()
        con.print(t)
        con.print(f"run {outcome.run_id}: table {outcome.folder}/sweep.parquet, plot "
                  f"{outcome.folder}/sweep.html")


# ---------------------------------------------------------------- registry ---------------------
@runs_app.command("list")
def runs_list(
    kind: Annotated[str | None, typer.Option(help="Only run, compare, sweep or optimize.")] = None,
    search: Annotated[str | None, typer.Option(help="Substring of id, scenario name or file.")] = None,
    limit: Annotated[int, typer.Option(min=1, metavar="N")] = 30,
    runs_dir: RunsDir = None,
) -> None:
    """Recorded runs, newest first."""
    from supplytwin.store.registry import Registry, default_runs_dir

    with user_errors():
        where = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        if not Registry.exists(where):
            # never create a registry just to say it is empty
            make_console(stderr=True).print(
                f"no run registry in {where}/ (nothing has been run with this --runs-dir; "
                "runs go to ./runs unless --runs-dir or SUPPLYTWIN_RUNS_DIR say otherwise)",
                soft_wrap=True, markup=False)
            return
        recs = Registry(where).list(limit=limit, kind=kind, search=search)
        con = make_console()
        rows = []
        for r in recs:
            # a comparison's summary is its what-if's (the base's is under "base")
            fr = ((r.kpi_summary or {}).get("kpis", {}).get("fill_rate") or {}).get("mean")
            rows.append((r.run_id, r.kind, r.shown_status,
                         (r.created_at or "")[:16].replace("T", " "), r.scenario_name or "",
                         r.base_name or "", str(r.replications or ""),
                         fmt(fr, "fraction") if fr is not None else ""))
        heads = ("id", "kind", "status", "created", "scenario / what-if", "base", "reps",
                 "fill rate")
        t = Table(title=f"runs ({len(recs)})")
        for c in heads:
            t.add_column(c, no_wrap=True)
        for row in rows:
            t.add_row(*row)
        # each column: its widest cell, 2 of padding and 1 of border; 1 more border at the end
        needed = 1 + sum(3 + max(cell_len(x) for x in col) for col in zip(heads, *rows,
                                                                            strict=True))
        if needed <= con.width:
            con.print(t)
            return
        # too narrow for the table: one block per run, so that no id or name is ever cut
        con.print(f"runs ({len(recs)})")
        for rid, what, status, created, name, base, reps, fr in rows:
            con.print(Text(rid, style="bold"), soft_wrap=True)
            facts = [what, status, created] + ([f"{reps} reps"] if reps else []) \
                + ([f"fill rate {fr}"] if fr else [])
            con.print(Text("  " + " · ".join(facts)), soft_wrap=True)
            con.print(Text(f"  {name}" + (f"  (base {base})" if base else "")), soft_wrap=True)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id (or a unique part of it).")],
              runs_dir: RunsDir = None) -> None:
    """Lineage and KPI summary of one run."""
    from supplytwin.store.registry import Registry

    with user_errors():
        r = Registry.open_existing(runs_dir).get(run_id)
        con = make_console()
        t = Table(title=f"run {r.run_id}", show_header=False)
        t.add_column("field")
        t.add_column("value")
        for f, label in (("kind", "kind"), ("shown_status", "status"),
                         ("created_at", "created_at"), ("finished_at", "finished_at"),
                         ("scenario_name", "what-if" if r.base_name else "scenario"),
                         ("base_name", "base"), ("scenario_file", "scenario_file"),
                         ("scenario_sha256", "scenario_sha256"), ("version", "version"),
                         ("seed", "seed"), ("replications", "replications"),
                         ("executor", "executor"), ("artefacts", "artefacts"),
                         ("command", "command")):
            if f == "base_name" and not r.base_name:
                continue
            t.add_row(label, str(getattr(r, f)))
        con.print(t)
        if r.differences:
            d = Table(title=f"what differs from {r.base_name or 'the base'}")
            d.add_column("change")
            d.add_column("meaning")
            for c in r.differences:
                d.add_row(str(c.get("label", "")), str(c.get("text", "")))
            con.print(d)
        if r.data_sha256:
            h = Table(title="files (sha256)")
            h.add_column("file")
            h.add_column("sha256")
            for f, v in r.data_sha256.items():
                h.add_row(f, v)
            con.print(h)
        _print_provenance(con, r.artefacts)
        kp = (r.kpi_summary or {}).get("kpis", {})
        base = (r.kpi_summary or {}).get("base") or {}
        if kp:
            k = Table(title=f"KPIs of {r.scenario_name} (mean and 95 % CI)")
            for c in ("KPI", "mean", "95 % CI", "n"):
                k.add_column(c)
            if base:
                k.add_column(f"base {base.get('name', '')} mean")
            for name, e in kp.items():
                unit = KPI_DOCS.get(name, ("",))[0]
                lo, hi = (e.get("ci95") or [None, None])
                row = [name, fmt(e.get("mean"), unit), f"[{fmt(lo, unit)}, {fmt(hi, unit)}]",
                       str(e.get("n"))]
                if base:
                    row.append(fmt(((base.get("kpis") or {}).get(name) or {}).get("mean"), unit))
                k.add_row(*row)
            con.print(k)
        if r.kind == "stress":  # its what-ifs and the references that open them
            from supplytwin.cli.stress_cmds import print_sides

            print_sides(con, r)


@runs_app.command("diff")
def runs_diff(a: Annotated[str, typer.Argument(help="First run id.")],
              b: Annotated[str, typer.Argument(help="Second run id.")],
              runs_dir: RunsDir = None) -> None:
    """What differs between two runs: lineage (files, version, seed) and KPI means."""
    from supplytwin.store.registry import Registry

    with user_errors():
        reg = Registry.open_existing(runs_dir)
        ra, rb = reg.get(a), reg.get(b)
        con = make_console()
        t = Table(title=f"{ra.run_id}  vs  {rb.run_id}")
        for c in ("field", "first", "second"):
            t.add_column(c)
        for f in ("kind", "scenario_name", "scenario_file", "scenario_sha256", "version", "seed",
                  "replications", "executor"):
            va, vb = getattr(ra, f), getattr(rb, f)
            if va != vb:
                t.add_row(f, str(va), str(vb))
        fa, fb = ra.data_sha256 or {}, rb.data_sha256 or {}
        for f in sorted(set(fa) | set(fb)):
            if fa.get(f) != fb.get(f):
                t.add_row(f"file {f}", (fa.get(f) or "–")[:12], (fb.get(f) or "–")[:12])
        ka = (ra.kpi_summary or {}).get("kpis", {})
        kb = (rb.kpi_summary or {}).get("kpis", {})
        for name in KPI_DOCS:
            ma, mb = (ka.get(name) or {}).get("mean"), (kb.get(name) or {}).get("mean")
            if ma != mb and (ma is not None or mb is not None):
                unit = KPI_DOCS[name][0]
                t.add_row(name, fmt(ma, unit), fmt(mb, unit))
        con.print(t if t.row_count else "the two runs agree on lineage and KPIs")


@runs_app.command("export")
def runs_export(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique part of it).")],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="csv (a folder of CSV files) or xlsx (one Excel workbook).")
    ] = "csv",
    out: Annotated[Path | None, typer.Option(
        help="Where to write (default: ./RUN_ID-tables/ for csv, ./RUN_ID.xlsx for xlsx).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")
                         ] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Write a run's tables (KPIs, per replication, per product, per customer, daily time
    series, lanes; a comparison's differences, a sweep's points) as CSV files or one xlsx
    workbook.

    \b
    Examples:
      supplytwin runs export 20270101-120000-run-baseline-ab12
      supplytwin runs export ab12 --format xlsx --out baseline.xlsx
    """
    from supplytwin.experiment.export import FORMATS, export_run
    from supplytwin.store.registry import Registry

    with user_errors():
        if fmt not in FORMATS:
            raise SupplytwinError(f"--format {fmt!r}: choose csv or xlsx")
        rec = Registry.open_existing(runs_dir).get(run_id)
        if rec.shown_status != "complete" or not rec.artefacts:
            raise SupplytwinError(f"run {rec.run_id} is {rec.shown_status}: it has no complete "
                                  "tables to export")
        target = out or Path(f"{rec.run_id}-tables" if fmt == "csv" else f"{rec.run_id}.xlsx")
        err = make_console(stderr=True)
        with err.status("exporting", spinner="dots") if err.is_terminal else _nothing() as st:
            def progress(name: str) -> None:
                if st is not None:
                    st.update(f"exporting {name}")

            written = export_run(Path(rec.artefacts), fmt, target, overwrite, progress)
        make_console().print(f"run {rec.run_id}: tables written to {written}", soft_wrap=True)


@contextmanager
def _nothing():
    yield None


def _print_provenance(con, artefacts) -> None:
    """Where the run's state and calibrated parameters came from (its manifest's lineage)."""
    import json

    try:
        m = json.loads((Path(str(artefacts)) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return
    resolved = m.get("resolved_scenario") or {}
    rows = []
    if isinstance(resolved.get("state"), dict):
        st = resolved["state"]
        rows.append(("state snapshot", f"{st.get('folder', '')} of {st.get('snapshot_date', '')}"))
    for p in resolved.get("provenance") or []:
        if isinstance(p, dict):
            rows.append((str(p.get("kind", "calibration")),
                         (f"{p.get('source', '')} (sha256 {str(p.get('sha256', ''))[:12]}…), "
                         f"period {p.get('period', '')}")))
    if rows:
        t = Table(title="inputs from the real network")
        t.add_column("input")
        t.add_column("provenance")
        for a, b in rows:
            t.add_row(escape(a), escape(b))
        con.print(t)
