"""A battery run end to end on the deterministic hand network: the simulated time to first
stockout agrees with the TTS LP, common random numbers pair the base and the what-ifs, a
failing what-if does not stop the battery, and measures have their defined values."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from supplytwin.scenario import load_scenario
from supplytwin.stress.generators import WhatIf, apply_whatif
from supplytwin.stress.measures import stress_replication
from supplytwin.stress.runner import Settings, run_battery
from supplytwin.stress.tts import time_to_survive

pytestmark = pytest.mark.component

HAND = Path(__file__).parents[1] / "data" / "stress_hand" / "scenario.yaml"


def outage(site: str, start: float, days: float) -> WhatIf:
    from supplytwin.model import DisruptionRow

    row = DisruptionRow(disruption_id=f"o-{site}", kind="site_outage", site_id=site,
                        start_day=start, duration_days=days)
    return WhatIf(f"{site} down {days:g}d", "site_outage", site, start, days, (row,), (site,))


@pytest.mark.parametrize("dc_stock", [100.0, 170.0, 260.0])
def test_simulated_first_stockout_agrees_with_tts_on_deterministic_variants(dc_stock):
    """Deterministic network (fixed times, constant demand of 20/day, no failures), packaging
    site down from day 0: the LP's TTS is the DC's stock / 20; the simulator's first short
    order falls on the day the stock runs out. Orders arrive once a day, so the two agree to
    within one day (the LP's t is continuous)."""
    sc = load_scenario(HAND)
    lots = tuple(l.model_copy(update={"quantity_units": dc_stock}) if l.site_id == "DC" else l
                 for l in sc.network.initial_stock)
    sc = replace(sc, network=replace(sc.network, initial_stock=lots))
    tts = time_to_survive(sc.network, ["PK"])
    assert tts == pytest.approx(dc_stock / 20)
    w = outage("PK", 0.0, 30.0)
    out = stress_replication(apply_whatif(sc, w), 11, 0, w.start_day, w.end_day, 0)
    assert out.error is None
    simulated = out.measures["time_to_first_stockout_days"]
    assert abs(simulated - tts) <= 1.0, (simulated, tts)


def test_battery_pairs_replications_and_survives_a_failing_whatif():
    sc = load_scenario(HAND)
    good = outage("PK", 5.0, 10.0)
    bad = outage("PK", 5.0, 10.0)
    bad = replace(bad, name="broken", disruptions=(bad.disruptions[0].model_copy(
        update={"site_id": "NOWHERE"}),))
    run = run_battery(sc, [good, bad], Settings(reps=2, thresholds={"fill_rate": 0.99}))
    assert sorted(run.outputs) == [(-1, 0), (-1, 1), (0, 0), (0, 1), (1, 0), (1, 1)]
    assert set(run.failed()) == {1} and "NOWHERE" in run.failed()[1]
    table = run.whatif_table().set_index("whatif")
    row = table.loc["PK down 10d"]
    # the DC holds 100 units = 5 days; PK is down days 5-15 (the DC had refilled by then)
    assert row["status"] == "ok" and table.loc["broken", "status"] == "failed"
    assert row["fill_rate_during"] < 1.0 and row["fill_rate_diff"] < 0
    assert row["time_to_first_stockout_days"] == pytest.approx(5.0, abs=1.0)
    assert run.breaches() and run.breaches()[0]["whatif"] == "PK down 10d"
    # the base never falls short: it recovers at once, and the what-if takes time
    assert row["time_to_recover_days"] > 0
    # deterministic network: the two replications agree exactly (same seed rule, no noise)
    assert row["fill_rate_ci95_low"] == pytest.approx(row["fill_rate_ci95_high"])
