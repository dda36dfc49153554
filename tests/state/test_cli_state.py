"""`supplytwin run --state`: a snapshot runs forward from the CLI, the results hold the end state
in the same format (a 0-day run gives back the snapshot), and a bad snapshot is exit 2."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplytwin.cli import app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SNAP = ROOT / "data" / "biopharma" / "snapshot"


def test_run_from_snapshot_writes_the_end_state_and_lineage(tmp_path):
    out = tmp_path / "zero"
    r = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "baseline.yaml"), "--state",
                                 str(SNAP), "--horizon-days", "0", "--out", str(out),
                                 "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    for name in ("on_hand.csv", "in_transit.csv", "open_orders.csv", "sites_down.csv"):
        got = pd.read_csv(out / "end_state" / name, dtype=str, keep_default_na=False)
        want = pd.read_csv(SNAP / name, dtype=str, keep_default_na=False)
        assert sorted(map(tuple, got.to_numpy())) == sorted(map(tuple, want.to_numpy())), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resolved_scenario"]["state"]["snapshot_date"] == "2027-05-04"
    assert "state/on_hand.csv" in manifest["file_sha256"]


def test_replicated_run_from_snapshot_shorter_than_the_warmup(tmp_path):
    """The baseline's warm-up is 60 days; a run from a snapshot has none, so 30 days are
    measured whole, in a recorded experiment too, and the end state is written."""
    out = tmp_path / "thirty"
    r = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "baseline.yaml"), "--state",
                                 str(SNAP), "--horizon-days", "30", "--reps", "2", "--out",
                                 str(out), "--runs-dir", str(tmp_path / "runs"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["replications"] == 2
    end = pd.read_csv(out / "end_state" / "snapshot.csv")
    assert end["snapshot_date"].iloc[0] == "2027-06-03"


def test_zero_days_without_a_snapshot_and_a_bad_snapshot_are_user_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["run", str(ROOT / "scenarios" / "tiny.yaml"), "--horizon-days", "0"])
    assert r.exit_code == 2 and "--state" in r.output
    r = runner.invoke(app, ["run", str(ROOT / "scenarios" / "tiny.yaml"), "--state", str(SNAP),
                            "--runs-dir", str(tmp_path)])
    assert r.exit_code == 2 and "unknown lane" in r.output and "Traceback" not in r.output


def test_calibrated_parameters_run_in_a_scenario_and_their_provenance_shows(tmp_path):
    """calibrate -> a scenario uses the fitted law and the provenance block -> run -> runs show
    names the history (file, sha256, period) the parameters came from."""
    import yaml

    runner = CliRunner()
    cal = tmp_path / "cal"
    r = runner.invoke(app, ["calibrate", "shipments", str(ROOT / "data" / "scms" / "scms_shipments.csv"),
                            "--preset", "scms", "--out", str(cal), "--gof-samples", "0"])
    assert r.exit_code == 0, r.output
    edits = yaml.safe_load((cal / "edits.yaml").read_text())
    params = pd.read_csv(cal / "lane_parameters.csv")
    truck = params.loc[params["lane_id"] == "ALL-Truck", "transit_time_days"].iloc[0]
    sc = tmp_path / "calibrated.yaml"
    sc.write_text(yaml.safe_dump({
        "name": "tiny-calibrated", "extends": str(ROOT / "scenarios" / "tiny.yaml"),
        "provenance": edits["provenance"],
        "edits": {"lanes": {"L-PLANT-DC-RD": {"transit_time_days": truck}}}}))
    runs = tmp_path / "runs"
    r = runner.invoke(app, ["run", str(sc), "--reps", "1", "--horizon-days", "30",
                            "--runs-dir", str(runs), "--json"])
    assert r.exit_code == 0, r.output
    run_id = json.loads(r.output)["run_id"]
    r = runner.invoke(app, ["runs", "show", run_id, "--runs-dir", str(runs)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "lane_calibration" in r.output
    assert edits["provenance"][0]["sha256"][:12] in r.output and "2006-04-19" in r.output
