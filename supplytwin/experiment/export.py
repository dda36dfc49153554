"""Export a recorded run's tables for a spreadsheet: a folder of CSV files or one xlsx workbook.

The tables are those of the run's artefacts folder (see :mod:`supplytwin.store.experiment_store`
and :mod:`supplytwin.store.results`), in the order a planner reads them:

``kpis``                 one row per KPI: unit, mean, sd, 95 % CI and its method, n (a single
                         replication: the value)
``kpis_by_replication``  one row per replication
``kpis_by_product``      per product (and replication)
``service_by_customer``  fill rate and OTIF per customer and product (and replication)
``stock_points``         on hand, backlog and holding cost per stock point (and replication)
``timeseries``           daily levels per site and product (and replication)
``lanes``                units shipped and excursions per lane (and replication)
``comparison``           (compare) paired differences per what-if and KPI
``sweep``                (sweep) one row per design point and KPI

A comparison adds each what-if's tables with the prefix ``whatifN_``, a sweep each design
point's with ``pointNNN_``. Both writers are atomic: a CSV folder is built under a temporary
name and renamed, a workbook written to a temporary file and renamed, so an interrupted export
leaves nothing that looks complete. An Excel sheet holds at most 1,048,576 rows; a longer table
(a long time series of many replications) continues on sheets ``NAME_2``, ``NAME_3`` … .
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from supplytwin.errors import SupplytwinError

#: the tables of a run, in reading order (file stem, without a whatif/point prefix)
TABLE_ORDER = ("kpis", "kpis_by_replication", "kpis_by_product", "service_by_customer",
               "stock_points", "timeseries", "lanes", "mass_balance", "comparison", "sweep")
FORMATS = ("csv", "xlsx")
#: rows of an Excel sheet, the header included
EXCEL_MAX_ROWS = 1_048_576
#: characters of an Excel sheet name
EXCEL_MAX_SHEET_NAME = 31


def _kpi_table(folder: Path, prefix: str) -> pd.DataFrame | None:
    from supplytwin.sim.kpis import KPI_DOCS

    def unit(k: str) -> str:
        return KPI_DOCS.get(k, ("",))[0]

    summary = folder / f"{prefix}kpis_summary.json"
    single = folder / f"{prefix}kpis.json"
    if summary.is_file():
        kpis = json.loads(summary.read_text()).get("kpis", {})
        rows = []
        for k, e in kpis.items():
            lo, hi = (e.get("ci95") or [None, None])[:2]
            rows.append({"kpi": k, "unit": unit(k), "mean": e.get("mean"), "sd": e.get("sd"),
                         "ci95_low": lo, "ci95_high": hi, "ci_method": e.get("method", "t"),
                         "n": e.get("n")})
        return pd.DataFrame(rows)
    if single.is_file():
        kpis = json.loads(single.read_text())
        return pd.DataFrame([{"kpi": k, "unit": unit(k), "value": v} for k, v in kpis.items()])
    return None


def _prefixes(folder: Path) -> list[str]:
    """"" and every whatifN_/pointNNN_ prefix that has tables, in order."""
    found = set()
    for p in folder.iterdir():
        for stem in ("kpis_summary.json", "kpis_by_replication.parquet"):
            if p.name.endswith(stem) and p.name != stem:
                found.add(p.name[: -len(stem)])
    return ["", *sorted(found, key=lambda s: (s.rstrip("_0123456789"),
                                              int("".join(c for c in s if c.isdigit()) or 0)))]


def run_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table of a run's artefacts folder, by sheet/file name, in reading order."""
    folder = Path(folder)
    if not (folder / "manifest.json").is_file():
        raise SupplytwinError(f"{folder} is not a complete results folder (no manifest.json)")
    tables: dict[str, pd.DataFrame] = {}
    for prefix in _prefixes(folder):
        for name in TABLE_ORDER:
            if name == "kpis":
                t = _kpi_table(folder, prefix)
            else:
                path = folder / f"{prefix}{name}.parquet"
                t = pd.read_parquet(path) if path.is_file() else None
            if t is not None:
                tables[f"{prefix}{name}"] = t
    if not tables:
        raise SupplytwinError(f"{folder} holds no tables to export")
    return tables


def _atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _sheet_name(name: str, part: int) -> str:
    suffix = f"_{part}" if part > 1 else ""
    return name[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix


def write_xlsx(tables: dict[str, pd.DataFrame], target: Path,
               progress: Callable[[str], None] | None = None) -> Path:
    """One workbook, a sheet per table (a long table continues on ``NAME_2`` …)."""
    per_sheet = EXCEL_MAX_ROWS - 1  # the header takes a row

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, t in tables.items():
                if progress:
                    progress(name)
                parts = max(1, -(-len(t) // per_sheet))
                for part in range(parts):
                    chunk = t.iloc[part * per_sheet:(part + 1) * per_sheet]
                    chunk.to_excel(xl, sheet_name=_sheet_name(name, part + 1), index=False)

    _atomic_file(Path(target), write)
    return Path(target)


def write_csv(tables: dict[str, pd.DataFrame], target: Path, overwrite: bool = False,
              progress: Callable[[str], None] | None = None) -> Path:
    """A folder with one ``NAME.csv`` per table."""
    from supplytwin.store.atomic import atomic_directory

    with atomic_directory(Path(target), overwrite=overwrite) as tmp:
        for name, t in tables.items():
            if progress:
                progress(name)
            t.to_csv(tmp / f"{name}.csv", index=False)
    return Path(target)


def export_run(folder: Path, fmt: str, target: Path, overwrite: bool = False,
               progress: Callable[[str], None] | None = None) -> Path:
    """Write the tables of the run in ``folder`` as ``fmt`` (csv or xlsx) to ``target``."""
    if fmt not in FORMATS:
        raise SupplytwinError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    target = Path(target)
    if target.exists() and not overwrite and (fmt == "xlsx" or any(target.iterdir())):
        raise SupplytwinError(f"{target} exists (use --overwrite to replace it)")
    if fmt == "xlsx" and target.is_dir():
        raise SupplytwinError(f"{target} is a folder; give the workbook's file name")
    if fmt == "csv" and target.is_file():
        raise SupplytwinError(f"{target} is a file; give a folder for the CSV files")
    tables = run_tables(folder)
    if fmt == "xlsx":
        return write_xlsx(tables, target, progress)
    return write_csv(tables, target, overwrite=overwrite, progress=progress)
