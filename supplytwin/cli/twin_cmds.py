"""``supplytwin calibrate``, ``backtest`` and ``monitor``: couple the twin to real history.

- ``calibrate shipments CSV``: transit-time laws, on-time rates and delays per lane and mode,
  written as scenario edits, a parameter table, ``calibration.json`` (with provenance) and an
  HTML fit report;
- ``calibrate demand CSV``: orders per day (Poisson or negative binomial), order sizes and
  seasonality per customer and product, written as demand rows;
- ``backtest CSV --split-date D``: calibrate before D, predict after it, score the prediction;
- ``monitor CALIBRATION CSV``: newer actuals against a calibration's prediction intervals; exit 1
  when a lane drifts, so it can run on a schedule.

Columns are named with ``--map COLUMN=FIELD`` (repeatable); ``--preset scms`` maps the USAID
SCMS delivery history shipped in ``data/scms``.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from supplytwin.cli import app
from supplytwin.cli.common import make_console, user_errors
from supplytwin.errors import Problem, ScenarioError

calibrate_app = typer.Typer(
    help="Fit scenario parameters to history: lanes from shipments, demand from orders.",
    no_args_is_help=True)
app.add_typer(calibrate_app, name="calibrate")

MapOption = Annotated[list[str] | None, typer.Option(
    "--map", "-m", help="COLUMN=FIELD: which CSV column holds which field (repeatable).")]
PresetOption = Annotated[str | None, typer.Option(
    help="A known column map: 'scms' (USAID SCMS delivery history).")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write the results folder here (atomically).")]
OverwriteOption = Annotated[bool, typer.Option(help="Replace an existing --out folder.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
SeedOption = Annotated[int, typer.Option(help="Seed of the goodness-of-fit bootstrap.")]


def _preset(name: str | None, kind: str) -> dict[str, str]:
    from supplytwin.calibrate import SCMS_ORDER_MAP, SCMS_SHIPMENT_MAP

    if name is None:
        return {}
    if name.lower() != "scms":
        raise ScenarioError([Problem("--preset", field=name, reason="known presets: scms")])
    return dict(SCMS_SHIPMENT_MAP if kind == "shipments" else SCMS_ORDER_MAP)


def _shipments(csv: Path, maps, preset, tolerance: float = 0.0):
    from supplytwin.calibrate.history import SHIPMENT_FIELDS, parse_map, read_shipments

    mapping = parse_map(maps, SHIPMENT_FIELDS, preset=_preset(preset, "shipments"))
    df, report = read_shipments(csv, mapping, on_time_tolerance_days=tolerance)
    if df.empty:
        raise ScenarioError([Problem(str(csv), reason=(
            "no usable shipment: " + ", ".join(f"{k} ({v})" for k, v in report.dropped.items())))])
    return df, report, mapping


def _write_folder(out: Path, overwrite: bool, files: dict[str, str | bytes]) -> None:
    from supplytwin.store.atomic import atomic_directory

    with atomic_directory(out, overwrite=overwrite) as tmp:
        for name, content in files.items():
            p = tmp / name
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8")


def _provenance(report, df, date_col: str, method: dict, mapping: dict) -> dict:
    from supplytwin.cli import version

    return {
        "source": report.source, "sha256": report.sha256,
        "period": f"{df[date_col].min().date()} to {df[date_col].max().date()}",
        "rows_read": report.rows_read, "rows_used": report.rows_kept, "map": mapping,
        "method": method, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "supplytwin_version": version(),
    }


@calibrate_app.command("shipments")
def calibrate_shipments(
    csv: Annotated[Path, typer.Argument(help="Shipment history CSV.")],
    maps: MapOption = None, preset: PresetOption = None, out: OutOption = None,
    overwrite: OverwriteOption = False, as_json: JsonOption = False, seed: SeedOption = 1,
    on_time_tolerance_days: Annotated[float, typer.Option(
        help="A delivery this many days after the scheduled date still counts as on time.",
        min=0, max=365)] = 0.0,
    gof_samples: Annotated[int, typer.Option(
        help="Bootstrap samples of the goodness-of-fit test (0 = skip).", min=0, max=5000)] = 199,
) -> None:
    """Fit transit times, on-time rates and delays per lane and mode.

    \b
    Example (the bundled SCMS history):
      supplytwin calibrate shipments data/scms/scms_shipments.csv --preset scms --out cal/scms
    """
    with user_errors():
        import numpy as np
        import yaml
        from rich.progress import Progress

        from supplytwin.calibrate.fitting import FAMILIES
        from supplytwin.calibrate.lanes import calibrate_lanes, parameters_table, scenario_edits
        from supplytwin.report.calibration import calibration_report
        from supplytwin.store.results import _jsonable

        df, report, mapping = _shipments(csv, maps, preset, on_time_tolerance_days)
        rng = np.random.default_rng(seed)
        with Progress(console=make_console(stderr=True), transient=True) as bar:
            task = bar.add_task("fitting lanes", total=1.0)
            fits = calibrate_lanes(df, rng, gof_samples=gof_samples,
                                   progress=lambda f: bar.update(task, completed=f))
        params = parameters_table(fits)
        method = {"families": list(FAMILIES), "selection": "AIC",
                  "goodness_of_fit": f"parametric-bootstrap KS, {gof_samples} samples, seed {seed}",
                  "on_time": f"delivered <= scheduled + {on_time_tolerance_days:g} days",
                  "interval": "central 90 % prediction interval of the fitted law"}
        prov = _provenance(report, df, "ship_date", method, mapping)
        summary = {"provenance": prov, "cleaning": report.as_dict(),
                   "fitted": int((params["status"] == "fitted").sum()),
                   "unsupported": int((params["status"] != "fitted").sum()),
                   "modes": params[params["level"] == "mode"][
                       ["mode_label", "n", "transit_time_days", "gof_p_value",
                        "on_time_rate"]].to_dict("records")}
        if out is not None:
            samples = {f.lane_id: df.loc[df["mode"] == f.mode_label, "transit_days"].to_numpy()
                       for f in fits if f.level == "mode"}
            calibration = {"kind": "lane_calibration", "provenance": prov,
                           "cleaning": report.as_dict(), "lanes": [f.as_dict() for f in fits]}
            _write_folder(out, overwrite, {
                "calibration.json": _dumps(calibration),
                "lane_parameters.csv": params.to_csv(index=False),
                "edits.yaml": "# transit_time_days fitted by supplytwin calibrate shipments\n"
                              + yaml.safe_dump(_jsonable({"provenance": [{
                                  "kind": "lane_calibration", "source": prov["source"],
                                  "sha256": prov["sha256"], "period": prov["period"],
                                  "method": method, "created": prov["created"]}],
                                  **scenario_edits(fits)}), sort_keys=False, allow_unicode=True),
                "report.html": calibration_report(params, fits, samples, report.as_dict(), prov),
            })
        if as_json:
            typer.echo(_dumps(summary))
            return
        con = make_console()
        con.print(f"{report.rows_kept:,} of {report.rows_read:,} shipments used "
                  f"({escape(prov['period'])}); dropped: "
                  + escape(", ".join(f"{k} {v:,}" for k, v in report.dropped.items()) or "none"))
        t = Table(title="Transit time by mode")
        for c in ("mode", "n", "fitted law", "GOF p", "on time"):
            t.add_column(c, justify="right" if c in ("n", "GOF p", "on time") else "left")
        for r in summary["modes"]:
            t.add_row(escape(str(r["mode_label"])), f"{r['n']:,}",
                      escape(r["transit_time_days"] or "too few to fit"),
                      _fmt(r["gof_p_value"]), _pct(r["on_time_rate"]))
        con.print(t)
        con.print(f"{summary['fitted']} lanes and modes fitted, {summary['unsupported']} with too "
                  "few shipments" + (f"; written to {escape(str(out))}" if out else ""))


@calibrate_app.command("demand")
def calibrate_demand_cmd(
    csv: Annotated[Path, typer.Argument(help="Order history CSV.")],
    maps: MapOption = None, preset: PresetOption = None, out: OutOption = None,
    overwrite: OverwriteOption = False, as_json: JsonOption = False,
) -> None:
    """Fit orders per day (Poisson or negative binomial), order sizes and seasonality.

    \b
    Example:
      supplytwin calibrate demand data/scms/scms_shipments.csv --preset scms --out cal/demand
    """
    with user_errors():
        import pandas as pd

        from supplytwin.calibrate.demand import calibrate_demand, demand_rows
        from supplytwin.calibrate.history import ORDER_FIELDS, parse_map, read_orders
        from supplytwin.report.calibration import demand_report

        mapping = parse_map(maps, ORDER_FIELDS, preset=_preset(preset, "orders"))
        orders, report = read_orders(csv, mapping)
        if orders.empty:
            raise ScenarioError([Problem(str(csv), reason="no usable order")])
        fits = calibrate_demand(orders)
        table = pd.DataFrame([f.as_row() for f in fits])
        rows = demand_rows(fits)
        if out is not None:
            prov = _provenance(report, orders, "order_date", {
                "counts": "Poisson vs negative binomial by AIC, LR test of overdispersion",
                "seasonality": "yearly cosine by Poisson ML, kept at p < 0.05"}, mapping)
            _write_folder(out, overwrite, {
                "demand.csv": rows.to_csv(index=False),
                "demand_fits.csv": table.to_csv(index=False),
                "calibration.json": _dumps({"kind": "demand_calibration", "provenance": prov,
                                            "cleaning": report.as_dict(),
                                            "streams": table.to_dict("records")}),
                "report.html": demand_report(table, report.as_dict()),
            })
        if as_json:
            typer.echo(_dumps({"streams": table.to_dict("records")}))
            return
        t = Table(title="Demand streams")
        for c in ("customer", "product", "orders", "orders/day", "model", "order size",
                  "seasonality"):
            t.add_column(c)
        for f in fits:
            season = (f"±{100 * f.seasonality_amplitude:.0f} % peak day "
                      f"{f.seasonality_peak_day:.0f}" if f.seasonality_amplitude else "none")
            t.add_row(escape(f.customer), escape(f.product), f"{f.orders:,}",
                      _fmt(f.orders_per_day), escape(f.chosen or f.status),
                      escape(f.order_size), season)
        make_console().print(t)


@app.command()
def backtest(
    csv: Annotated[Path, typer.Argument(help="Shipment history CSV.")],
    split_date: Annotated[str, typer.Option(help="Calibrate on shipments before this date "
                                                 "(YYYY-MM-DD), predict those after.")],
    maps: MapOption = None, preset: PresetOption = None, out: OutOption = None,
    overwrite: OverwriteOption = False, as_json: JsonOption = False, seed: SeedOption = 1,
) -> None:
    """Calibrate on an earlier period and score the prediction of a later one.

    \b
    Example:
      supplytwin backtest data/scms/scms_shipments.csv --preset scms --split-date 2013-01-01
    """
    with user_errors():
        import numpy as np
        import pandas as pd

        from supplytwin.calibrate.backtest import backtest as run_backtest
        from supplytwin.report.calibration import backtest_report

        split = pd.to_datetime(split_date, errors="coerce", format="%Y-%m-%d")
        if pd.isna(split):
            raise ScenarioError([Problem("--split-date", field=split_date,
                                         reason="write a date as YYYY-MM-DD")])
        df, _report, _m = _shipments(csv, maps, preset)
        try:
            result = run_backtest(df, split, np.random.default_rng(seed))
        except ValueError as exc:
            raise ScenarioError([Problem("--split-date", field=split_date, reason=str(exc))]) from None
        summary = result.summary()
        if out is not None:
            _write_folder(out, overwrite, {
                "backtest.json": _dumps(summary),
                "groups.csv": result.groups.to_csv(index=False),
                "report.html": backtest_report(summary, result.groups),
            })
        if as_json:
            typer.echo(_dumps(summary))
            return
        con = make_console()
        con.print(f"calibrated on {summary['shipments_fit']:,} shipments before "
                  f"{summary['split_date']}, scored {summary['shipments_test']:,} after "
                  f"({summary['groups_scored']} modes and lanes)")
        con.print(f"transit time: {_pct(summary['transit_interval_coverage'])} of later shipments "
                  f"inside the 90 % prediction interval; median error "
                  f"{summary['median_transit_mae_days']:.1f} days")
        con.print(f"on-time rate: mean absolute error {summary['on_time_mae_pp']:.1f} pp; "
                  f"{_pct(summary['on_time_interval_hit_rate'])} of groups inside their 90 % "
                  "predictive interval")


@app.command()
def monitor(
    calibration: Annotated[Path, typer.Argument(help="Folder written by calibrate shipments.")],
    csv: Annotated[Path, typer.Argument(help="Newer shipments (same columns).")],
    maps: MapOption = None, preset: PresetOption = None, out: OutOption = None,
    overwrite: OverwriteOption = False, as_json: JsonOption = False,
    min_coverage: Annotated[float, typer.Option(
        help="Flag drift when a lane's interval coverage falls below this (and a binomial test "
             "says it is not noise).", min=0.0, max=1.0)] = 0.8,
) -> None:
    """Check newer shipments against a calibration; exit 1 when a lane drifts.

    \b
    Example (cron, next to the stress battery):
      supplytwin monitor cal/scms new_shipments.csv --preset scms --min-coverage 0.8
    """
    with user_errors():
        from supplytwin.calibrate.monitor import load_calibration
        from supplytwin.calibrate.monitor import monitor as run_monitor
        from supplytwin.report.calibration import monitor_report

        cal = load_calibration(calibration)
        df, _report, _m = _shipments(csv, maps, preset)
        result = run_monitor(cal, df, min_coverage=min_coverage)
        summary = result.summary()
        if out is not None:
            _write_folder(out, overwrite, {
                "monitor.json": _dumps(summary | {
                    "by_month": result.by_month.assign(month=result.by_month["month"].astype(str))
                    .to_dict("records")}),
                "groups.csv": result.by_group.to_csv(index=False),
                "report.html": monitor_report(summary, result.by_group, result.by_month),
            })
        if as_json:
            typer.echo(_dumps(summary))
        else:
            con = make_console()
            con.print(f"{summary['shipments']:,} shipments checked ({summary['unmatched_shipments']}"
                      f" on lanes and modes the calibration does not know); coverage "
                      f"{_pct(summary['coverage'])} against nominal "
                      f"{_pct(summary['nominal_coverage'])}")
            for _, r in result.drifting.iterrows():
                con.print(f"DRIFT {escape(r['lane_id'])}: {_pct(r['coverage'])} of {r['n']} inside"
                          f" (p={r['p_value']:.2g})")
        if not result.drifting.empty:
            raise typer.Exit(1)


def _fmt(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def _dumps(o) -> str:
    """JSON that every reader accepts: NaN and infinity become null (store's _jsonable)."""
    from supplytwin.store.results import _jsonable

    return json.dumps(_jsonable(o), indent=2, default=_json_default, allow_nan=False)


def _json_default(o):
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    return str(o)
