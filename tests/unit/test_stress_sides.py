"""Every what-if of a recorded battery, and its base, opens as a run of its own (issue 14: "open
any what-if in the Results page").

One battery run on the deterministic-times hand network (tests/data/stress_hand) with a broken
what-if added. Its what-ifs are read back through the dashboard's runs service as ``ID@whatifK``
and checked against the battery's own ``whatifs.csv``: the CSV's means come from the runner's
per-replication measures (:meth:`BatteryRun.whatif_table`), the Results page's from the sides'
parquet tables (:mod:`supplytwin.stress.sides`), so a side holding another what-if's or
another replication set's tables shows. The broken what-if has no side and says why.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dashboard import services
from supplytwin.store.registry import Registry
from supplytwin.stress import generators
from supplytwin.stress.record import run_recorded

pytestmark = pytest.mark.unit

BATTERY = Path(__file__).parents[1] / "data" / "stress_hand" / "battery.yaml"
REPS = 3


@pytest.fixture(scope="module")
def battery(tmp_path_factory):
    """(workspace, summary) of the hand battery plus a what-if whose site does not exist."""
    expand = generators.expand

    def with_broken(loaded, base):
        out = expand(loaded, base)
        bad = out[0]
        row = bad.disruptions[0].model_copy(update={"site_id": "NOWHERE"})
        return [*out, replace(bad, name="broken", disruptions=(row,))]

    runs = tmp_path_factory.mktemp("stress-sides")
    mp = pytest.MonkeyPatch()
    mp.setattr(generators, "expand", with_broken)  # run_recorded imports it when called
    try:
        summary = run_recorded(BATTERY, Registry(runs), reps=REPS, workers=1)
    finally:
        mp.undo()
    ws = services.make_workspace(runs, BATTERY.parent)
    return ws, summary


def test_every_whatif_opens_with_its_own_kpis(battery):
    ws, summary = battery
    rid = summary["run_id"]
    csv = pd.read_csv(Path(summary["folder"]) / "whatifs.csv")
    assert len(csv) == 10 and csv.iloc[-1]["whatif"] == "broken"
    base = services.load_run(ws, rid)
    base_fr = base.summary["fill_rate"]["mean"]
    assert base_fr == pytest.approx(summary["base"]["fill_rate"]["mean"], abs=1e-12)
    assert base.scenario == summary["base_scenario"] and len(base.kpis) == REPS
    bites = 0
    for k, row in enumerate(csv.to_dict("records"), start=1):
        ref = f"{rid}@whatif{k}"
        if row["status"] != "ok":
            continue
        data = services.load_run(ws, ref)
        assert data.run_id == ref and data.scenario == row["whatif"]
        fr = data.summary["fill_rate"]
        assert fr["n"] == row["n"] == REPS
        assert fr["mean"] == pytest.approx(row["fill_rate"], abs=1e-9), row["whatif"]
        assert None not in fr["ci95"] and fr["ci95"][0] <= fr["mean"] <= fr["ci95"][1]
        for kpi in ("lost_units", "backordered_units", "patients_affected"):
            assert data.summary[kpi]["mean"] == pytest.approx(row[kpi], rel=1e-9, abs=1e-9)
        # where the disruption bites (the CSV's paired CI of the difference excludes 0), the
        # what-if's Results differ from the base's in the same direction
        if row["fill_rate_diff_ci95_high"] < -0.01:
            bites += 1
            assert fr["mean"] < base_fr - 0.01
        # its own daily series and service by customer, every replication
        assert sorted(data.timeseries["replication"].unique()) == list(range(REPS))
        assert not data.by_customer.empty
        stock_points = pd.read_parquet(Path(summary["folder"]) / f"whatif{k}_stock_points.parquet")
        assert sorted(stock_points["replication"].unique()) == list(range(REPS))
        # its disruption window is the one the battery scheduled (shaded on the time charts)
        windows = services.run_disruption_windows(ws, ref)
        assert [(w["start_day"], w["end_day"]) for w in windows] == [
            (row["start_day"], row["start_day"] + row["duration_days"])]
    assert bites >= 2  # PK down 3 and 12 days at least (the packaging site feeds everything)
    # a what-if against the base in Compare: same seed, so paired replication by replication
    k = 1 + list(csv["whatif"]).index("PK down 12d")
    diff, note = services.compare_runs(ws, [rid, f"{rid}@whatif{k}"])
    fr = diff.set_index("kpi").loc["fill_rate"]
    assert bool(fr["paired"]) and "paired by replication" in note
    assert fr["difference"] == pytest.approx(csv.loc[k - 1, "fill_rate_diff"], abs=1e-9)
    assert services.run_disruption_windows(ws, rid) == []  # the base has none


def test_a_failed_whatif_has_no_side_and_says_why(battery):
    ws, summary = battery
    rid = summary["run_id"]
    sides = services.stress_sides(ws, rid)
    assert [s["ref"] for s in sides[:2]] == [rid, f"{rid}@whatif1"]
    broken = sides[-1]
    assert broken["whatif"] == "broken" and broken["status"] == "failed"
    assert "NOWHERE" in broken["error"]
    with pytest.raises(services.UserError, match="has no whatif10"):
        services.load_run(ws, f"{rid}@whatif10")
    refs = [r["run_id"] for r in services.run_sides(ws, services.list_runs(ws))]
    assert f"{rid}@whatif9" in refs and f"{rid}@whatif10" not in refs
    # the spilled replications are gone; the folder is the only copy
    assert not list(Path(ws.runs_dir).glob(".partial-*"))
    manifest = json.loads((Path(summary["folder"]) / "manifest.json").read_text())
    assert manifest["kind"] == "stress" and len(manifest["names"]) == 11


def test_the_stress_page_links_every_whatif_and_the_base(battery):
    import sys

    from dashboard.app import create_app

    ws, summary = battery
    rid = summary["run_id"]
    app = create_app(ws.runs_dir, ws.scenarios_dir)
    page = sys.modules["dashboard.pages.stress"]
    with app.server.app_context():  # a click on a heat-map cell (its text starts with the name)
        link = page.heatmap_open({"points": [{"text": "PK down 12d<br>fill rate"}]}, rid)
        k = 1 + [w["whatif"] for w in summary["whatifs"]].index("PK down 12d")
        assert f"/results?run={rid}@whatif{k}'" in str(link)
        # a click event without the text: found by target (y) and duration (x)
        link = page.heatmap_open({"points": [{"x": "12 d", "y": "PK", "z": 33.3}]}, rid)
        assert f"/results?run={rid}@whatif{k}'" in str(link)
    text = str(page.results_view(summary, services.stress_sides(ws, rid)))
    assert f"/results?run={rid}@whatif9'" in text and f"/results?run={rid}'" in text
    assert "stress-open-whatif10" not in text and "failed: " in text and "NOWHERE" in text
    # a run recorded before the what-ifs were kept: no links, no error
    assert "open in Results" not in str(page.results_view(summary, []))
    assert services.open_href("stress", rid) == f"/stress?run={rid}"


def test_runs_show_lists_the_whatifs_with_their_refs(battery):
    from supplytwin.cli import app

    ws, summary = battery
    rid = summary["run_id"]
    res = CliRunner().invoke(app, ["runs", "show", rid, "--runs-dir", str(ws.runs_dir)],
                             env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    assert f"{rid}@whatif1 " in res.output and f"{rid}@whatif9 " in res.output
    assert f"{rid}@whatif10" not in res.output
    assert "broken · failed, no results" in res.output and "NOWHERE" in res.output


def test_replication_tables_are_spilled_not_kept(tmp_path):
    """Memory stays bounded: each replication's tables go to disk as it arrives."""
    from supplytwin.scenario import load_scenario
    from supplytwin.stress.battery import load_battery
    from supplytwin.stress.runner import Settings, run_battery
    from supplytwin.stress.sides import SideSpill

    sc = load_scenario(BATTERY.parent / "scenario.yaml", ["simulation.horizon_days=30"])
    whatifs = generators.expand(load_battery(BATTERY), sc)[:2]
    spill = SideSpill(tmp_path, "x")
    run = run_battery(sc, whatifs, Settings(reps=2, thresholds={}), on_output=spill.keep)
    assert all(o.tables is None for o in run.outputs.values())
    assert sorted(spill.load(1)) == [0, 1] and sorted(spill.load(-1)) == [0, 1]
    assert len(spill.load(1)[0].timeseries) > 0
    # without a consumer the workers do not build the tables at all
    plain = run_battery(sc, whatifs, Settings(reps=1, thresholds={}))
    assert all(o.tables is None for o in plain.outputs.values())
