"""dashboard.services: knobs -> overrides and saved scenarios, background runs, the registry and
artefacts. The scenario knobs are checked against the real loader; runs use the tiny network."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import supplytwin
from dashboard import services
from dashboard.services import Knobs, UserError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TINY = "bundled/tiny.yaml"


@pytest.fixture
def ws(tmp_path) -> services.Workspace:
    return services.make_workspace(tmp_path / "runs", ROOT / "scenarios")


# ---------------------------------------------------------------- knobs --------------------------


def test_knob_options_of_a_what_if(ws):
    o = services.knob_options(ws, "bundled/heatwave.yaml")
    assert {d["disruption_id"] for d in o["inherited"]} == {"heatwave-road", "heatwave-courier"}
    catalogue = {d["disruption_id"] for d in o["catalogue"]}
    assert "hurricane-pr" in catalogue and not catalogue & {"heatwave-road", "heatwave-courier"}
    assert {p["product_id"] for p in o["products"]} == {"FRZ-VAC", "MAB-PFS", "MRNA-VAC",
                                                        "ORA-TAB"}
    assert o["horizon_days"] == 365 and o["warmup_days"] == 60


@pytest.mark.parametrize("raw, message", [
    ({"horizon_days": "-5"}, "Horizon"),
    ({"horizon_days": "ten"}, "enter a number"),
    ({"horizon_days": 10}, "longer than the warm-up"),
    ({"horizon_days": 1e9}, "at most"),
    ({"replications": 2.5}, "whole number"),
    ({"replications": 0}, "more than zero"),
    ({"demand": {"NOPE": 2}}, "unknown product"),
    ({"demand": {"MAB-T": -1}}, "zero or more"),
    ({"demand": {"MAB-T": float("nan")}}, "zero or more"),
    ({"disruptions": [{"disruption_id": "nope", "on": True}]}, "not offered"),
    ({"policies": {"NOPE/MAB-T": {"order_up_to_units": 1}}}, "unknown site"),
    ({"policies": {"DC/NOPE": {"order_up_to_units": 1}}}, "stocks no product"),
    ({"policies": {"DC/MAB-T": {"sources": "make"}}}, "not an editable column"),
    ({"policies": {"DC/MAB-T": {"order_up_to_units": -3}}}, "zero or more"),
])
def test_bad_knobs_get_a_clear_message(ws, raw, message):
    with pytest.raises(UserError, match=message):
        services.validate_knobs(ws, TINY, raw)


def test_unchanged_knobs_are_no_changes(ws):
    k = services.validate_knobs(ws, TINY, {"horizon_days": 120, "replications": 5,
                                           "demand": {"MAB-T": 1}, "policies": {}})
    assert k.is_empty() and services.knob_sets(ws, TINY, k) == []
    assert services.describe_knobs(k) == "no changes"


def test_knobs_as_overrides_and_as_a_saved_file_give_the_same_scenario(ws):
    policy = services.site_policies(ws, "bundled/baseline.yaml", "DC-US-MEMPHIS")[0]
    rid = f"DC-US-MEMPHIS/{policy['product']}"
    raw = {"horizon_days": 200, "demand": {"MRNA-VAC": "1.5"},
           "disruptions": [{"disruption_id": "heatwave-road", "on": True, "start_day": 100,
                            "duration_days": 30},
                           {"disruption_id": "hurricane-pr", "on": False}],
           "policies": {rid: {"order_up_to_units": 4321}}}
    k = services.validate_knobs(ws, "bundled/baseline.yaml", raw)
    sets = services.knob_sets(ws, "bundled/baseline.yaml", k)
    via_sets = supplytwin.load_scenario(ROOT / "scenarios" / "baseline.yaml", sets)
    saved = services.save_scenario(ws, "bundled/baseline.yaml", k, "memphis-surge")
    doc = yaml.safe_load(saved.path.read_text())
    assert doc["extends"].endswith("scenarios/baseline.yaml") and doc["name"] == "memphis-surge"
    via_file = supplytwin.load_scenario(saved.path)
    for sc in (via_sets, via_file):
        assert sc.simulation.horizon_days == 200
        dis = {d.disruption_id: d for d in sc.network.disruptions}
        assert dis["heatwave-road"].start_day == 100 and dis["heatwave-road"].duration_days == 30
        surge = dis["demand-x-MRNA-VAC"]
        assert (surge.kind.value, surge.magnitude, surge.start_day, surge.duration_days) == (
            "demand_surge", 1.5, 0, 200)
        assert "hurricane-pr" not in dis
        assert sc.network.policies[tuple(rid.split("/"))].order_up_to_units == 4321
    assert "saved/memphis-surge.yaml" in [e["key"] for e in services.list_scenarios(ws)]


def test_a_saved_what_if_keeps_the_disruptions_it_inherits(ws):
    k = services.validate_knobs(ws, "bundled/heatwave.yaml", {"demand": {"ORA-TAB": 0.5}})
    sets = services.knob_sets(ws, "bundled/heatwave.yaml", k)
    sc = supplytwin.load_scenario(ROOT / "scenarios" / "heatwave.yaml", sets)
    ids = {d.disruption_id for d in sc.network.disruptions}
    assert ids == {"heatwave-road", "heatwave-courier", "demand-x-ORA-TAB"}
    saved = services.save_scenario(ws, "bundled/heatwave.yaml", k, "heatwave-less-tablets")
    again = services.knob_options(ws, saved.key)
    assert {d["disruption_id"] for d in again["inherited"]} == ids
    # a second multiplier on the same product gets its own id
    k2 = services.validate_knobs(ws, saved.key, {"demand": {"ORA-TAB": 2}})
    extra = services.added_disruptions(ws, saved.key, k2)
    assert [d["disruption_id"] for d in extra] == ["demand-x-ORA-TAB-2"]


def test_an_invalid_result_is_not_saved(ws):
    k = Knobs(policies={"DC/MAB-T": {"review_period_days": 0.0}})  # bypasses validate_knobs
    with pytest.raises(UserError, match="invalid, so it was not saved"):
        services.save_scenario(ws, TINY, k, "broken")
    assert not list(ws.saved_dir.iterdir())


# ---------------------------------------------------------------- runs ---------------------------


def test_background_run_then_registry_and_artefacts(ws):
    runner = services.JobRunner()
    k = services.validate_knobs(ws, TINY, {"demand": {"MAB-T": 1.2}})
    job = services.start_run(ws, TINY, k, 2, runner=runner, workers=1)
    status = runner.wait(job, 120)
    assert status["state"] == "done", status
    assert status["summary"]["fill_rate"]["n"] == 2 and status["done"] == status["total"] == 2
    rid = status["run_id"]
    rows = services.list_runs(ws, search="tiny")
    assert [r["run_id"] for r in rows] == [rid] and rows[0]["has_report"]
    rec = services.run_record(ws, rid)
    assert rec["status"] == "complete" and rec["artefacts_inside_runs"]
    assert any(s.startswith("disruptions=") for s in rec["overrides"])
    data = services.load_run(ws, rid)
    assert len(data.kpis) == 2 and set(data.timeseries["replication"]) == {0, 1}
    assert data.facing.to_dict("records") == [{"site_id": "DC", "product_id": "MAB-T",
                                               "weight": pytest.approx(36.0)}]
    assert services.report_path(ws, rid).name == "report.html"
    assert services.list_runs(ws, search="no-such") == []
    with pytest.raises(UserError, match="100 characters"):
        services.list_runs(ws, search="x" * 200)


def test_cancel_stops_between_replications_and_marks_the_run_interrupted(ws):
    runner = services.JobRunner()
    job = services.start_run(ws, TINY, Knobs(), 50, runner=runner, workers=1, report=False)
    assert runner.cancel(job)
    status = runner.wait(job, 120)
    assert status["state"] == "cancelled", status
    assert "interrupted" in status["message"] and "--resume" in status["message"]
    assert status["done"] < 50
    assert services.list_runs(ws)[0]["status"] == "interrupted"
    assert not runner.cancel(job)  # nothing left to cancel
    with pytest.raises(UserError, match="no results"):
        services.load_run(ws, status["run_id"])


def test_job_runner_limits_and_unknown_jobs(ws):
    runner = services.JobRunner(max_active=1)
    first = services.start_run(ws, TINY, Knobs(), 20, runner=runner, workers=1, report=False)
    with pytest.raises(UserError, match="already in progress"):
        services.start_run(ws, TINY, Knobs(), 1, runner=runner)
    runner.cancel(first)
    runner.wait(first, 120)
    assert runner.status("nope")["state"] == "unknown"
    assert runner.status(None)["state"] == "unknown"
    with pytest.raises(UserError, match="invalid"):
        services.start_run(ws, TINY, Knobs(policies={"DC/MAB-T": {"review_period_days": 0.0}}),
                           1, runner=runner)


def test_compare_runs_pairs_by_replication_when_seeds_match(ws):
    runner = services.JobRunner()
    a = runner.wait(services.start_run(ws, TINY, Knobs(), 3, runner=runner, workers=1,
                                       report=False), 120)["run_id"]
    k = services.validate_knobs(ws, TINY, {"demand": {"MAB-T": 1.5}})
    b = runner.wait(services.start_run(ws, TINY, k, 3, runner=runner, workers=1,
                                       report=False), 120)["run_id"]
    diff, note = services.compare_runs(ws, [a, b])
    assert "paired by replication (3 common, same seed)" in note
    demand = diff.set_index("kpi").loc["demand_units"]
    assert demand["paired"] and demand["n"] == 3 and demand["difference"] > 0
    assert demand["significant"]  # 50 % more demand, common random numbers
    labels = services.run_labels([services.load_run(ws, a), services.load_run(ws, b)])
    # the what-if is labelled with its own name, which says what it changes
    assert labels[0].startswith("tiny (") and labels[1].startswith("tiny+demand-MAB-T×1.5 (")
    with pytest.raises(UserError, match="two different runs"):
        services.compare_runs(ws, [a, a])


def test_any_long_function_can_be_a_job():
    """For later pages (Optimise): a task reports progress and honours cancel."""
    import threading

    runner = services.JobRunner()
    gate = threading.Event()

    def task(progress, cancel):
        for i in range(3):
            progress(i + 1, 3, "solving")
        return {"message": "Optimal: 3 sites open.", "summary": {"cost": 1.0}}

    done = runner.wait(runner.submit_task("design", task))
    assert (done["state"], done["message"], done["summary"], done["done"]) == (
        "done", "Optimal: 3 sites open.", {"cost": 1.0}, 3)

    def slow(progress, cancel):
        progress(0, 1, "waiting")
        gate.set()
        cancel.wait(10)

    job = runner.submit_task("slow", slow)
    gate.wait(10)
    assert runner.cancel(job)
    assert runner.wait(job)["state"] == "cancelled"

    def bad(progress, cancel):
        raise UserError("The model is infeasible: demand of CUS-1 cannot be met.")

    assert runner.wait(runner.submit_task("bad", bad))["message"].startswith("The model is")

    def bug(progress, cancel):
        raise ZeroDivisionError("x")

    failed = runner.wait(runner.submit_task("bug", bug))
    assert failed["state"] == "error" and "internal error (ZeroDivisionError" in failed["message"]


def test_blank_replications_take_the_scenarios_own_like_the_cli(ws):
    """One replications rule (experiment.replications_for): the dashboard's blank field means
    the scenario's simulation.replications (tiny: 5), a number wins, a bad one is refused."""
    runner = services.JobRunner()
    job = services.start_run(ws, TINY, Knobs(), None, runner=runner, workers=1, report=False)
    status = runner.wait(job, 120)
    assert status["state"] == "done", status
    assert status["total"] == services.load(ws, TINY).simulation.replications == 5
    with pytest.raises(UserError, match="Replications"):
        services.start_run(ws, TINY, Knobs(), 2.5, runner=runner)
