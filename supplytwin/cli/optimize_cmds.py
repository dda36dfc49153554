"""``supplytwin optimize``: redesign the network with Pyomo + HiGHS and write the design back as
a scenario that ``supplytwin run`` and ``supplytwin compare`` take directly."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from supplytwin.cli import app
from supplytwin.cli.common import EXIT_USER_ERROR, SetOption, load, make_console, user_errors

OUT_TABLES = ("sites", "flows", "production", "demand", "costs", "stock_points", "capacities")


def _usd(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.0f}"


def _summary_table(res, scenario_name: str) -> Table:
    o, st = res.outcome, res.stats
    t = Table(title=f"network design of {scenario_name}", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("status", f"{o.status} ({o.termination})")
    if o.has_solution:
        t.add_row("annual cost (model)", f"{_usd(res.objective)} USD")
        t.add_row("best bound", f"{_usd(o.bound)} USD")
        t.add_row("gap", f"{o.gap:.3%}" if math.isfinite(o.gap) else "–")
    t.add_row("model", f"{st.get('binaries', 0):,} binaries, {st.get('continuous', 0):,} "
                       f"continuous, {st.get('constraints', 0):,} rows, "
                       f"{st.get('nonzeros', 0):,} nonzeros")
    t.add_row("time", f"extract {st.get('extract_s', 0):.2f} s, build {st.get('build_s', 0):.2f} s"
                      f", transfer {o.transfer_s:.2f} s, HiGHS {o.solve_s:.2f} s")
    return t


def _sites_table(res) -> Table:
    df = res.tables["sites"]
    t = Table(title="sites (candidates and changes first)")
    for c in ("site", "kind", "candidate", "open before", "open", "expanded",
              "throughput units/yr"):
        t.add_column(c, justify="right" if c.startswith("throughput") else "left")
    df = df.assign(_changed=(df["open"] != df["open_before"]) | df["expanded"])
    df = df.sort_values(["_changed", "candidate"], ascending=False, kind="stable")
    for r in df.itertuples(index=False):
        t.add_row(r.site_id, r.kind, "yes" if r.candidate else "", "yes" if r.open_before else "no",
                  Text("yes" if r.open else "no", style="bold"), "yes" if r.expanded else "",
                  f"{r.throughput_units_per_year:,.0f}")
    return t


def _costs_table(res) -> Table:
    df = res.tables["costs"]
    t = Table(title="annual cost by category (model)")
    t.add_column("group")
    t.add_column("item")
    t.add_column("USD/year", justify="right")
    t.add_column("share", justify="right")
    total = float(df["usd_per_year"].sum()) or 1.0
    for r in df.itertuples(index=False):
        if r.usd_per_year:
            t.add_row(r.group, r.item, _usd(r.usd_per_year), f"{r.usd_per_year / total:.1%}")
    t.add_row(Text("total", style="bold"), "", Text(_usd(total), style="bold"), "100.0%")
    return t


def _capacity_table(res, top: int = 12) -> Table:
    df = res.tables["capacities"]
    df = df[df["capacity"] > 0].sort_values(["binding", "utilisation"], ascending=False).head(top)
    t = Table(title="capacities: utilisation and shadow prices (LP with binaries fixed)")
    for c in ("family", "where", "", "used", "capacity", "unit", "utilisation",
              "value of +1 unit USD/yr"):
        t.add_column(c, justify="right" if c in ("used", "capacity", "utilisation",
                                                  "value of +1 unit USD/yr") else "left")
    for r in df.itertuples(index=False):
        mv = r.marginal_value_usd
        t.add_row(r.family, r.where, r.detail, f"{r.used:,.0f}", f"{r.capacity:,.0f}",
                  r.capacity_unit, f"{r.utilisation:.1%}",
                  "–" if mv is None or math.isnan(mv) else f"{mv:,.2f}")
    return t


def _flows_table(res, top: int = 15) -> Table:
    df = res.tables["flows"]
    df = df[~df["to_customer"]].sort_values("units_per_year", ascending=False).head(top)
    t = Table(title=f"main flows between sites (top {top} by units)")
    for c in ("lane", "product", "from", "to", "mode", "units/yr", "lead days"):
        t.add_column(c, justify="right" if c in ("units/yr", "lead days") else "left")
    for r in df.itertuples(index=False):
        t.add_row(r.lane_id, r.product_id, r.origin_id, r.destination_id, r.mode,
                  f"{r.units_per_year:,.0f}", f"{r.lead_days:.1f}")
    return t


def _unmet_table(res) -> Table | None:
    df = res.tables["demand"]
    df = df[df["unmet_units_per_year"] > 0]
    if df.empty:
        return None
    t = Table(title="unmet demand (at the penalty)")
    for c in ("customer", "product", "demand units/yr", "unmet units/yr"):
        t.add_column(c, justify="right" if "units" in c else "left")
    for r in df.itertuples(index=False):
        t.add_row(r.customer_id, r.product_id, f"{r.demand_units_per_year:,.0f}",
                  f"{r.unmet_units_per_year:,.0f}")
    return t


def _ranking_table(df) -> Table:
    t = Table(title="designs judged by simulation (common random numbers, 95 % CI)")
    for c in ("sim rank", "design", "model rank", "model cost", "simulated cost",
              "95 % CI ±", "fill rate", "vs optimum", "units rerouted/yr"):
        t.add_column(c, justify="left" if c == "design" else "right")
    for r in df.itertuples(index=False):
        diff = "–" if r.model_rank == 1 else (
            f"{r.diff_vs_optimum_usd:+,.0f}{' *' if r.diff_significant else ''}")
        t.add_row(str(r.sim_rank), r.design, str(r.model_rank), _usd(r.model_cost_usd),
                  _usd(r.sim_cost_usd), _usd((r.sim_cost_ci_high - r.sim_cost_ci_low) / 2),
                  f"{r.fill_rate:.2%}", diff,
                  "–" if r.model_rank == 1 else f"{r.units_rerouted_per_year:,.0f}")
    return t


def _cost_groups_table(df) -> Table:
    """The optimum's cost per group per year: the model's and the simulated, and why they may
    differ (supplytwin.model.costs)."""
    t = Table(title="design-1 cost by group, USD/year: model vs simulation (mean)")
    for c in ("group", "model", "simulated", "simulated - model", "why they may differ"):
        t.add_column(c, justify="left" if c in ("group", "why they may differ") else "right")
    for r in df.itertuples(index=False):
        t.add_row(r.label, _usd(r.opt_usd_per_year), _usd(r.sim_usd_per_year),
                  _usd(r.sim_minus_opt_usd), r.why or "")
    return t


def _flow_changes(df) -> list[str]:
    """One line per alternative: the sites that carry goods in it and not in the optimum (+) or
    the other way round (-), the lanes used or dropped, and the units per year rerouted."""
    lines = []
    for r in df.sort_values("model_rank").itertuples(index=False):
        if r.model_rank == 1:
            continue
        sites = [f"+{s}" for s in str(r.sites_added or "").split(";") if s and s != "nan"]
        sites += [f"-{s}" for s in str(r.sites_dropped or "").split(";") if s and s != "nan"]
        lines.append(f"{r.design} vs the optimum: sites {' '.join(sites) or '(the same)'}; "
                     f"lanes +{r.lanes_added} -{r.lanes_dropped}; "
                     f"{r.units_rerouted_per_year:,.0f} units/yr rerouted")
    return lines


def _write_tables(folder: Path, res) -> None:
    for name in OUT_TABLES:
        df = res.tables[name]
        df.to_csv(folder / f"{name}.csv", index=False)
        try:
            df.to_parquet(folder / f"{name}.parquet", index=False)
        except (ImportError, ValueError):  # pragma: no cover - pyarrow is a dependency
            pass


@app.command()
def optimize(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    objective: Annotated[str, typer.Option(
        help="cost, or cost+co2 (emissions priced at --co2-price).")] = "cost",
    k_sourcing: Annotated[int, typer.Option(
        "--k-sourcing", min=1, help="Each customer x product reachable from >= K making sites.")] = 1,
    n_minus_1: Annotated[float | None, typer.Option(
        "--n-minus-1", help="After the loss of any one producing site, still meet this SHARE "
        "(0..1) of demand.")] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", help="HiGHS time limit, seconds.")] = 60.0,
    gap: Annotated[float, typer.Option(help="Relative MIP gap (0.001 = 0.1 %).")] = 1e-3,
    out: Annotated[Path | None, typer.Option(
        help="Write results (tables, summary, design scenario) into this folder.")] = None,
    evaluate: Annotated[int, typer.Option(
        "--evaluate", min=0, help="Also find the N-1 next-best designs (each moving goods "
        "through a different set of sites) and simulate all N.")] = 0,
    reps: Annotated[int | None, typer.Option(
        "--reps", min=2, help="Replications per design for --evaluate (default: the "
        "scenario's simulation.replications).")] = None,
    seed: Annotated[int | None, typer.Option(help="Root seed for --evaluate.")] = None,
    co2_price: Annotated[float, typer.Option(
        "--co2-price", help="USD per tonne CO2e for --objective cost+co2.")] = 100.0,
    co2_cap: Annotated[float | None, typer.Option(
        "--co2-cap", help="Cap on annual transport emissions, tonnes CO2e.")] = None,
    single_sourcing: Annotated[bool, typer.Option(
        "--single-sourcing", help="Serve each customer x product from one lane.")] = False,
    max_transit_days: Annotated[float | None, typer.Option(
        "--max-transit-days", help="Longest transit + wait on lanes into customers.")] = None,
    expansion: Annotated[bool, typer.Option(
        "--expansion", help="Allow one capacity expansion per plant and DC.")] = False,
    no_unmet: Annotated[bool, typer.Option(
        "--no-unmet", help="Every unit of demand must be delivered (no penalty option).")] = False,
    threads: Annotated[int | None, typer.Option(min=1, help="HiGHS threads.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    sets: SetOption = None,
) -> None:
    """Optimise open/closed sites, flows and production of SCENARIO; write the design as a
    scenario extending SCENARIO. An infeasible model is explained and exits with code 2."""
    from supplytwin.opt import DesignOptions, SolverSettings, optimise
    from supplytwin.opt.design import write_design
    from supplytwin.store.atomic import atomic_directory
    from supplytwin.store.results import _jsonable

    with user_errors():
        options = DesignOptions(
            objective=objective, co2_price_usd_per_t=co2_price, co2_cap_t=co2_cap,
            k_sourcing=k_sourcing, n_minus_1_share=n_minus_1, single_sourcing=single_sourcing,
            max_transit_days=max_transit_days, allow_expansion=expansion,
            allow_unmet=not no_unmet).validate()
        settings = SolverSettings(time_limit_s=time_limit, mip_gap=gap, threads=threads).validate()
        if out is not None and out.exists() and any(out.iterdir()) and not overwrite:
            raise FileExistsError(17, "results folder exists and is not empty (use --overwrite)",
                                  str(out))
        sc = load(scenario, sets)
        reps = reps or max(sc.simulation.replications, 2)
        con = make_console()
        err = make_console(stderr=True)
        started = datetime.now(UTC)
        res = optimise(sc, options, settings)
        data = res.data
        if not as_json:
            con.print(_summary_table(res, sc.name))
        ranking = None
        design_path = None
        if res.ok:
            if not as_json:
                con.print(_sites_table(res))
                con.print(_costs_table(res))
                con.print(_capacity_table(res))
                con.print(_flows_table(res))
                unmet = _unmet_table(res)
                if unmet is not None:
                    con.print(unmet)
        elif res.explanation is not None:
            for line in res.explanation.lines(25):
                err.print(line, soft_wrap=True, markup=False)
        else:
            err.print(res.outcome.message or f"no design: HiGHS stopped with "
                      f"{res.outcome.termination}", markup=False)

        if out is not None:
            with atomic_directory(out, overwrite=overwrite) as tmp:
                final = out.resolve()
                if res.ok:
                    _write_tables(tmp, res)
                    design_path = write_design(sc, res, tmp, final_folder=final, sets=sets or ())
                    if evaluate:
                        ranking = _evaluate(sc, data, options, settings, evaluate, reps,
                                            seed, tmp, final, err, sets or ())
                        ranking.to_csv(tmp / "evaluation.csv", index=False)
                        if ranking.attrs.get("cost_groups") is not None:
                            ranking.attrs["cost_groups"].to_csv(tmp / "cost_groups.csv",
                                                                index=False)
                        if ranking.attrs.get("stock_points") is not None:
                            ranking.attrs["stock_points"].to_csv(
                                tmp / "stock_points_compared.csv", index=False)
                if res.explanation is not None:
                    (tmp / "infeasibility.txt").write_text(str(res.explanation) + "\n")
                summary = _summary(sc, res, options, settings, started, design_path, ranking)
                (tmp / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2))
            if design_path is not None:
                design_path = out / design_path.name
        elif evaluate and res.ok:
            import tempfile

            with tempfile.TemporaryDirectory() as tmpd:
                ranking = _evaluate(sc, data, options, settings, evaluate, reps, seed,
                                    Path(tmpd), Path(tmpd), err, sets or ())
        if ranking is not None and not as_json:
            con.print(_ranking_table(ranking))
            for line in _flow_changes(ranking):
                con.print(line, markup=False)
            if ranking.attrs.get("cost_groups") is not None:
                con.print(_cost_groups_table(ranking.attrs["cost_groups"]))
            if len(ranking) and int(ranking.iloc[0]["model_rank"]) != 1:
                con.print(Text.assemble(
                    ("The model's optimum is not the best design under uncertainty:", "bold"),
                    f" {ranking.iloc[0]['design']} has the lowest simulated cost."))
        if as_json:
            summary = _summary(sc, res, options, settings, started, design_path, ranking)
            typer.echo(json.dumps(_jsonable(summary), indent=2))
        elif out is not None:
            con.print(f"results written to {out}" + (
                f"; design scenario: {design_path}" if design_path else ""))
        if not res.ok:
            raise typer.Exit(EXIT_USER_ERROR)


def _evaluate(sc, data, options, settings, n, reps, seed, folder: Path, final: Path, err, sets):
    from supplytwin.opt.evaluate import (
        cost_groups,
        evaluate_designs,
        next_best_designs,
        stock_point_comparison,
    )

    err.print(f"finding the {n} best distinct designs ...", markup=False)
    designs = next_best_designs(data, n, options, settings)
    sub = folder / "designs"
    ranking, evaluated = evaluate_designs(sc, designs, sub, reps, seed,
                                          final_folder=final / "designs",
                                          progress=lambda msg: err.print(msg, markup=False),
                                          sets=sets)
    ranking.attrs["cost_groups"] = cost_groups(evaluated[0]) if evaluated else None
    ranking.attrs["stock_points"] = stock_point_comparison(evaluated[0]) if evaluated else None
    return ranking


def _summary(sc, res, options, settings, started, design_path, ranking) -> dict:
    o = res.outcome
    return {
        "scenario": sc.name,
        "scenario_file": str(sc.source) if sc.source else None,
        "started_at": started.isoformat(timespec="seconds"),
        "status": o.status,
        "termination": o.termination,
        "message": o.message or None,
        "objective_usd_per_year": res.objective if res.ok else None,
        "bound_usd_per_year": o.bound,
        "gap": o.gap,
        "cost_by_group": res.total_by_group() if res.ok else {},
        "open_sites": sorted(res.design.open_sites) if res.design else [],
        "expanded_sites": sorted(res.design.expanded) if res.design else [],
        "model": {k: res.stats.get(k) for k in ("binaries", "continuous", "constraints",
                                                 "nonzeros")},
        "timings_s": {"extract_s": res.stats.get("extract_s"), "build_s": res.stats.get("build_s"),
                      "transfer_s": o.transfer_s, "solve_s": o.solve_s},
        "options": options.as_dict(),
        "solver": {"time_limit_s": settings.time_limit_s, "mip_gap": settings.mip_gap,
                   "threads": settings.threads, "interface": settings.interface},
        "design_scenario": design_path.name if design_path else None,
        "infeasibility": res.explanation.lines(None) if res.explanation else None,
        "evaluation": ranking.to_dict(orient="records") if ranking is not None else None,
    }
