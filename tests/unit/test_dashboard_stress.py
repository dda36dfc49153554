"""The Stress page's services and views, without a browser: a bundled battery runs in a
background job on the CLI's code path, its summary is read back from the runs folder, and bad
input is refused with a readable message."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from dashboard import services
from dashboard.app import create_app
from dashboard.services.jobs import JobRunner

pytestmark = pytest.mark.unit

HAND = Path(__file__).parents[1] / "data" / "stress_hand"


@pytest.fixture
def ws(tmp_path):
    scen = tmp_path / "scenarios"
    shutil.copytree(HAND, scen / "hand")
    (scen / "stress").mkdir()
    text = (HAND / "battery.yaml").read_text().replace("base: scenario.yaml",
                                                       "base: ../hand/scenario.yaml")
    (scen / "stress" / "hand.yaml").write_text(text)
    return services.make_workspace(tmp_path / "runs", scen)


def test_page_is_registered_with_its_callbacks(ws):
    app = create_app(ws.runs_dir, ws.scenarios_dir)
    outputs = " ".join(app.callback_map)
    for ident in ("stress-results.children", "stress-job.data", "stress-runs.options"):
        assert ident in outputs


def test_a_battery_runs_in_the_background_and_its_results_show(ws):
    create_app(ws.runs_dir, ws.scenarios_dir)
    page = sys.modules["dashboard.pages.stress"]
    assert services.list_batteries(ws) == ["hand.yaml"]
    runner = JobRunner()
    job = services.start_battery(ws, "hand.yaml", 1, runner=runner, workers=1)
    status = runner.wait(job, timeout=300)
    assert status["state"] == "done", status
    run_id = status["run_id"]
    assert [r["run_id"] for r in services.stress_runs(ws)] == [run_id]
    summary = services.stress_summary(ws, run_id)
    assert summary["node_risks"][0]["node"] == "PK"
    view = page.results_view(summary)
    text = str(view)
    assert "stress-tts" in text and "stress-heatmap" in text and "PK" in text


@pytest.mark.parametrize(("battery", "reps", "needle"), [
    ("../../etc/passwd", 1, "bundled stress batteries"),
    ("nightly.yaml", 1, "bundled stress batteries"),
    ("hand.yaml", 0, "Replications"),
    ("hand.yaml", "abc", "Replications"),
    ("hand.yaml", 10_000, "Replications"),
])
def test_bad_input_is_refused_before_a_job_starts(ws, battery, reps, needle):
    with pytest.raises(services.UserError, match=needle):
        services.start_battery(ws, battery, reps, runner=JobRunner())


def test_a_run_id_that_is_not_a_stress_run_is_refused(ws):
    with pytest.raises(services.UserError):
        services.stress_summary(ws, "../secret")
    with pytest.raises(services.UserError):
        services.stress_summary(ws, "20260101-000000-run-x-0000")
