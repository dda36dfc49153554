"""supplytwin runs export writes a run's tables as CSV files or one xlsx workbook; runs list in
a folder without a registry says so and creates nothing; --help examples are whole at 80
columns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplytwin.cli import app

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "scenarios" / "tiny.yaml")
runner = CliRunner()


def cli(*args: str, columns: int = 200):
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[Path, str]:
    runs = tmp_path_factory.mktemp("runs")
    r = cli("compare", TINY, TINY, "--reps", "2", "--workers", "1", "--json", "--runs-dir",
            str(runs), "--set", "simulation.horizon_days=45")
    assert r.exit_code == 0, r.output
    return runs, json.loads(r.output)["run_id"]


def test_export_csv_writes_every_table_of_the_run(compared, tmp_path):
    runs, run_id = compared
    out = tmp_path / "tables"
    r = cli("runs", "export", run_id, "--format", "csv", "--out", str(out), "--runs-dir",
            str(runs))
    assert r.exit_code == 0, r.output
    names = {p.stem for p in out.glob("*.csv")}
    for t in ("kpis", "kpis_by_replication", "kpis_by_product", "service_by_customer",
              "stock_points", "timeseries", "lanes", "comparison", "whatif1_kpis",
              "whatif1_timeseries"):
        assert t in names, t
    folder = runs / run_id
    # per stock point and replication, the holding cost adds up to the replication's KPI
    sp = pd.read_csv(out / "stock_points.csv").groupby("replication")["cost_holding_usd"].sum()
    per_rep = pd.read_parquet(folder / "kpis_by_replication.parquet")
    assert sp.to_numpy() == pytest.approx(per_rep["cost_holding_usd"].to_numpy())
    # the CSV holds what the artefacts hold
    ts = pd.read_csv(out / "timeseries.csv")
    pd.testing.assert_frame_equal(ts, pd.read_parquet(folder / "timeseries.parquet"),
                                  check_dtype=False)
    kpis = pd.read_csv(out / "kpis.csv").set_index("kpi")
    summary = json.loads((folder / "kpis_summary.json").read_text())["kpis"]
    assert kpis.loc["fill_rate", "mean"] == pytest.approx(summary["fill_rate"]["mean"])
    assert kpis.loc["fill_rate", "ci_method"] == "logit"
    # an existing folder is not replaced without --overwrite
    again = cli("runs", "export", run_id, "--out", str(out), "--runs-dir", str(runs))
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_export_xlsx_writes_one_workbook_with_a_sheet_per_table(compared, tmp_path):
    runs, run_id = compared
    out = tmp_path / "run.xlsx"
    r = cli("runs", "export", run_id, "--format", "xlsx", "--out", str(out), "--runs-dir",
            str(runs))
    assert r.exit_code == 0, r.output
    sheets = pd.read_excel(out, sheet_name=None)
    assert {"kpis", "kpis_by_product", "service_by_customer", "timeseries",
            "comparison"} <= set(sheets)
    per_rep = pd.read_parquet(runs / run_id / "kpis_by_replication.parquet")
    assert sheets["kpis_by_replication"]["fill_rate"].tolist() == pytest.approx(
        per_rep["fill_rate"].tolist())
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically
    bad = cli("runs", "export", run_id, "--format", "pdf", "--runs-dir", str(runs))
    assert bad.exit_code == 2 and "csv or xlsx" in bad.output


def test_xlsx_splits_a_table_longer_than_a_sheet(tmp_path, monkeypatch):
    from supplytwin.experiment import export

    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 4)  # 3 rows and a header per sheet
    tables = {"timeseries": pd.DataFrame({"day": range(7)})}
    export.write_xlsx(tables, tmp_path / "t.xlsx")
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert list(sheets) == ["timeseries", "timeseries_2", "timeseries_3"]
    assert pd.concat(sheets.values())["day"].tolist() == list(range(7))


def test_runs_commands_in_a_folder_without_a_registry_say_so_and_create_nothing(tmp_path):
    where = tmp_path / "nothing-here"
    r = cli("runs", "list", "--runs-dir", str(where))
    assert r.exit_code == 0 and "no run registry in" in r.output
    for args in (("runs", "show", "x"), ("runs", "export", "x"), ("runs", "diff", "a", "b")):
        r = cli(*args, "--runs-dir", str(where))
        assert r.exit_code == 2 and "no run registry in" in r.output, args
    assert not where.exists()


@pytest.mark.parametrize("command", [["run"], ["compare"], ["sweep"], ["runs", "list"],
                                     ["runs", "show"], ["runs", "export"]])
def test_help_at_80_columns_cuts_nothing(command):
    r = cli(*command, "--help", columns=80)
    assert r.exit_code == 0, r.output
    assert "…" not in r.output  # rich cuts a word that does not fit with an ellipsis
    assert max(len(line) for line in r.output.splitlines()) <= 80
    # every example of the docstring is printed whole, on one line of its own
    import typer.main

    cmd = typer.main.get_command(app)
    for name in command:
        cmd = cmd.commands[name]
    doc = cmd.help or ""
    examples = [line.strip() for line in doc.splitlines() if line.strip().startswith("supplytwin ")]
    shown = {line.strip() for line in r.output.splitlines()}
    for example in examples:
        assert example in shown, example
