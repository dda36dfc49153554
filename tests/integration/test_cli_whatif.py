"""What-ifs keep their names end to end: a run with overrides, a comparison and a sweep are
registered under their own names with what they change, and point at artefacts that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.store.registry import Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "scenarios" / "tiny.yaml")
runner = CliRunner()

# what the dashboard's Scenario page sends: demand x1.2 and a new outage, as --set overrides
DASHBOARD_SETS = [
    "--set",
    ("disruptions=[{disruption_id: demand-x-MAB-T, kind: demand_surge, product_id: "
     "MAB-T, magnitude: 1.2, start_day: 0, duration_days: 120}, {disruption_id: plant-down, "
     "kind: site_outage, site_id: PLANT, start_day: 30, duration_days: 20}]")]


def cli(*args: str):
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def test_a_run_with_overrides_is_recorded_as_a_named_what_if(tmp_path):
    r = cli("run", TINY, "--reps", "2", "--workers", "1", "--report", "--json",
            "--runs-dir", str(tmp_path), *DASHBOARD_SETS)
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    name = "tiny+demand-MAB-T×1.2+plant-down"
    assert payload["scenario"] == name and payload["base"] == "tiny"
    rec = Registry(tmp_path).get(payload["run_id"])
    assert rec.scenario_name == name and rec.base_name == "tiny"
    assert [d["label"] for d in rec.differences] == ["demand-MAB-T×1.2", "plant-down"]
    html = (Path(rec.artefacts) / "report.html").read_text()
    header = html[html.index('<header class="report">'):html.index("</header>")]
    assert f"<h1>What-if: {name}</h1>" in header
    # described by what it changes, not by the base's own description
    assert "plant-down" in header and "For fast tests and examples" not in header
    manifest = json.loads((Path(rec.artefacts) / "manifest.json").read_text())
    assert manifest["names"] == [name]

    listed = cli("runs", "list", "--runs-dir", str(tmp_path))
    assert name in listed.output
    shown = cli("runs", "show", payload["run_id"], "--runs-dir", str(tmp_path))
    assert "what-if" in shown.output and name in shown.output
    assert "adds disruption plant-down: site_outage of PLANT from day 30 for 20 days" \
        in shown.output

    # the same run without overrides is the scenario itself, and a single replication too
    plain = json.loads(cli("run", TINY, "--json", "--runs-dir", str(tmp_path)).output)
    rec = Registry(tmp_path).get(plain["run_id"])
    assert rec.scenario_name == "tiny" and rec.base_name is None and not rec.differences
    single = json.loads(cli("run", TINY, "--json", "--runs-dir", str(tmp_path),
                            "--horizon-days", "60").output)
    assert Registry(tmp_path).get(single["run_id"]).scenario_name == "tiny+horizon_days=60"


def test_a_comparison_is_listed_under_its_what_if_with_the_what_ifs_own_kpis(tmp_path):
    outage = tmp_path / "outage.yaml"
    outage.write_text(f"name: dc-outage\nextends: {TINY}\ndisruptions:\n"
                      "  - {disruption_id: o, kind: site_outage, site_id: DC, start_day: 30, "
                      "duration_days: 25}\n")
    runs = tmp_path / "runs"
    r = cli("compare", TINY, str(outage), "--reps", "3", "--workers", "1", "--json",
            "--runs-dir", str(runs))
    assert r.exit_code == 0, r.output
    rec = Registry(runs).get(json.loads(r.output)["run_id"])
    assert rec.kind == "compare" and rec.scenario_name == "dc-outage" and rec.base_name == "tiny"
    assert any("adds disruption o" in d["text"] for d in rec.differences)
    folder = Path(rec.artefacts)
    whatif = pd.read_parquet(folder / "whatif1_kpis_by_replication.parquet")["fill_rate"]
    base = pd.read_parquet(folder / "kpis_by_replication.parquet")["fill_rate"]
    assert whatif.mean() < base.mean()  # a 25-day DC outage loses service: the test can tell
    assert rec.kpi_summary["kpis"]["fill_rate"]["mean"] == pytest.approx(whatif.mean())
    assert rec.kpi_summary["base"]["kpis"]["fill_rate"]["mean"] == pytest.approx(base.mean())
    shown = cli("runs", "show", rec.run_id, "--runs-dir", str(runs)).output
    assert "dc-outage" in shown and "base tiny mean" in shown


def test_a_sweep_is_registered_with_what_it_varies_and_artefacts_that_exist(tmp_path):
    r = cli("sweep", TINY, "--grid", "edits.policies.DC/MAB-T.order_up_to_units=300,500",
            "--reps", "2", "--workers", "1", "--json", "--runs-dir", str(tmp_path))
    assert r.exit_code == 0, r.output
    (rec,) = Registry(tmp_path).list()
    assert rec.kind == "sweep" and rec.base_name == "tiny"
    assert "order_up_to_units in 300, 500" in rec.differences[0]["text"]
    folder = Path(rec.artefacts)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and (folder / "sweep.parquet").is_file()
    assert manifest["names"] == ["tiny+DC/MAB-T.order_up_to_units=300",
                                 "tiny+DC/MAB-T.order_up_to_units=500"]
