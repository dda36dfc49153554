"""Backtest and monitoring on histories with a known truth: a stationary history is predicted
with nominal interval coverage and raises no drift; a history whose lanes slow down is caught."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from supplytwin.calibrate.backtest import backtest, beta_binomial_interval
from supplytwin.calibrate.lanes import calibrate_lanes, wilson_interval
from supplytwin.calibrate.monitor import monitor
from supplytwin.cli import app

SCMS = Path(__file__).resolve().parents[2] / "data" / "scms" / "scms_shipments.csv"
LANES = {("Kenya", "Air"): (12.0, 0.4, 0.92), ("Kenya", "Truck"): (30.0, 0.3, 0.8),
         ("Ghana", "Air"): (9.0, 0.5, 0.95)}


def _history(seed: int, n_per_lane=1200, slow_after=None, factor=1.0) -> pd.DataFrame:
    """Shipments over 2018-2021 with lognormal transit times and Bernoulli on-time arrivals."""
    rng = np.random.default_rng(seed)
    rows = []
    for (dest, mode), (mean, cv, p_on_time) in LANES.items():
        ship = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.uniform(0, 1460, n_per_lane), "D")
        s2 = math.log(1 + cv * cv)
        t = rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n_per_lane)
        if slow_after is not None:
            t = np.where(ship >= pd.Timestamp(slow_after), t * factor, t)
        late = rng.random(n_per_lane) > p_on_time
        deliver = ship + pd.to_timedelta(t, "D")
        sched = deliver + pd.to_timedelta(np.where(late, -2.0, 1.0), "D")
        rows.append(pd.DataFrame({"origin": "", "destination": dest, "mode": mode,
                                  "lane_mode": {"Air": "air", "Truck": "road"}[mode],
                                  "ship_date": ship, "scheduled_date": sched,
                                  "delivered_date": deliver, "quantity": 1.0, "transit_days": t,
                                  "delay_days": np.where(late, 2.0, -1.0), "on_time": ~late}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.component
def test_stationary_history_is_predicted_with_nominal_coverage():
    result = backtest(_history(1), "2020-01-01", np.random.default_rng(2))
    s = result.summary()
    # 3 lanes x ~600 later shipments: coverage of a right 90 % interval is 0.90 +- 0.012 (1 sd)
    assert s["transit_interval_coverage"] == pytest.approx(0.90, abs=0.03)
    assert s["on_time_interval_hit_rate"] >= 0.8
    lane = result.groups.set_index("lane_id").loc["Kenya-Truck"]
    assert lane["observed_p50"] == pytest.approx(lane["predicted_p50"], rel=0.06)


@pytest.mark.component
def test_monitor_flags_the_lane_that_slowed_and_only_it():
    rng = np.random.default_rng(3)
    fit_part = _history(4)
    cal = {"lanes": [f.as_dict() for f in calibrate_lanes(fit_part, rng, gof_samples=0)]}
    newer = _history(5, n_per_lane=300)
    newer.loc[newer["destination"] == "Ghana", "transit_days"] *= 1.8
    result = monitor(cal, newer, min_coverage=0.8)
    assert result.drifting["lane_id"].tolist() == ["Ghana-Air"]
    ok = result.by_group.set_index("lane_id").loc["Kenya-Air"]
    assert ok["coverage"] == pytest.approx(0.9, abs=0.06)


def test_intervals_stay_in_range_and_cover():
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(0, 10)[0] == 0.0
    assert 0 <= wilson_interval(3, 10)[0] < 0.3 < wilson_interval(3, 10)[1] <= 1
    lo, hi = beta_binomial_interval(90, 100, 50)
    assert 0 <= lo < 0.9 < hi <= 1
    # predictive coverage of the beta-binomial interval for a known p (repeated experiments)
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(400):
        k = rng.binomial(200, 0.9)
        lo, hi = beta_binomial_interval(int(k), 200, 60)
        share = rng.binomial(60, 0.9) / 60
        hits += lo <= share <= hi
    assert hits / 400 >= 0.87  # nominal 90 %; discreteness makes it conservative


@pytest.mark.integration
def test_cli_calibrate_backtest_and_monitor_on_scms(tmp_path):
    runner = CliRunner()
    cal = tmp_path / "cal"
    r = runner.invoke(app, ["calibrate", "shipments", str(SCMS), "--preset", "scms", "--out",
                            str(cal), "--gof-samples", "9"])
    assert r.exit_code == 0, r.output
    assert {"calibration.json", "lane_parameters.csv", "edits.yaml", "report.html"} <= {
        p.name for p in cal.iterdir()}
    data = json.loads((cal / "calibration.json").read_text())
    prov = data["provenance"]
    assert prov["sha256"] and prov["period"].startswith("2006") and prov["method"]["selection"] == "AIC"
    r = runner.invoke(app, ["backtest", str(SCMS), "--preset", "scms", "--split-date",
                            "2013-01-01", "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["groups_scored"] >= 10 and 0 < s["transit_interval_coverage"] <= 1
    # monitoring the later SCMS years against the full calibration: exit 0 or 1, never an error
    r = runner.invoke(app, ["monitor", str(cal), str(SCMS), "--preset", "scms", "--json"])
    assert r.exit_code in (0, 1), r.output
    assert json.loads(r.output)["shipments"] > 4000


@pytest.mark.integration
def test_cli_bad_input_is_a_clear_message_and_exit_2(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["calibrate", "shipments", str(SCMS), "--map", "Country=dest"])
    assert r.exit_code == 2 and "unknown field 'dest'" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["backtest", str(SCMS), "--preset", "scms", "--split-date", "2031-01-01"])
    assert r.exit_code == 2 and "choose a date" in r.output
    r = runner.invoke(app, ["monitor", str(tmp_path), str(SCMS), "--preset", "scms"])
    assert r.exit_code == 2 and "no calibration here" in r.output


@pytest.mark.integration
def test_cli_calibrate_demand_writes_scenario_rows_and_valid_json(tmp_path):
    from supplytwin.model.tables import DemandRow

    out = tmp_path / "demand"
    r = CliRunner().invoke(app, ["calibrate", "demand", str(SCMS), "--preset", "scms", "--out",
                                 str(out)])
    assert r.exit_code == 0, r.output
    cal = json.loads((out / "calibration.json").read_text())  # strict JSON: no NaN
    assert cal["kind"] == "demand_calibration" and cal["provenance"]["sha256"]
    rows = pd.read_csv(out / "demand.csv")
    assert len(rows) >= 20
    DemandRow.model_validate(rows.iloc[0].to_dict())
