"""A battery over the bundled network ranks the Puerto Rico fill-finish site (FF-PR-JUNCOS, the
only source of the monoclonal-antibody syringe MAB-PFS) as the top risk for that product, in
the TTS/TTR LP and in the simulation, and finishes with every what-if run.

Kept small for CI: every fill-finish site down six weeks plus the Puerto Rico hurricane, a
150-day horizon, 2 replications (tests/data/stress_pr_battery.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytwin.experiment.executors import make_executor
from supplytwin.scenario import load_scenario
from supplytwin.stress.battery import load_battery
from supplytwin.stress.generators import expand
from supplytwin.stress.runner import Settings, run_battery
from supplytwin.stress.summary import build_summary

pytestmark = pytest.mark.integration

BATTERY = Path(__file__).parents[1] / "data" / "stress_pr_battery.yaml"


def test_puerto_rico_fill_finish_is_the_top_risk_for_the_product_it_makes_alone():
    lb = load_battery(BATTERY)
    base = load_scenario(lb.base_path, lb.battery.set)
    ws = expand(lb, base)
    executor = make_executor(2)
    try:
        run = run_battery(base, ws, Settings(reps=2, thresholds={}), executor=executor)
    finally:
        executor.close()
    summary = build_summary(lb, run)
    assert summary["failed"] == [] and summary["headline"]["whatifs"] == 4
    risks = {r["node"]: r for r in summary["node_risks"]}
    juncos = risks["FF-PR-JUNCOS"]
    assert "MAB-PFS" in juncos["sole_source_of"]
    # the LP: TTS below the six weeks it takes to recover, and the most MAB-PFS patients lost
    assert juncos["at_risk"] and juncos["tts_days"] < 42
    by_node = {n: r["patients_at_risk_by_product"].get("MAB-PFS", 0.0) for n, r in risks.items()}
    assert max(by_node, key=by_node.get) == "FF-PR-JUNCOS"
    # overall (all products) it is among the first six of 14 nodes; the DCs that are the only
    # way to their customers (TTS 0) come first
    assert juncos["rank"] <= 6 and juncos["at_risk"]
    # the simulation: the Juncos outages (alone or by the hurricane) hurt MAB-PFS patients most
    mab = [p for p in summary["products"] if p["product_id"] == "MAB-PFS"]
    worst = max(mab, key=lambda p: p["patients_affected_diff"])
    assert worst["whatif"] in ("FF-PR-JUNCOS down 42d", "pr-hurricane 42d")
    # and the simulated stockout comes before the LP's time to survive (lead times, see docs)
    assert juncos["simulated_time_to_first_stockout_days"] <= juncos["tts_days"] + 2
