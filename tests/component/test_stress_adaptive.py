"""--adaptive reaches the decisions of a uniform allocation with fewer replications.

Battery with a known answer (tests/data/stress_tiny_battery.yaml): the tiny network's only
plant down for 2, 15, 40 and 80 days, its DC down a day, a lane closed two days. Fill rate
falls and patients affected grow with the outage length, so the fill-rate flags (below 80 %:
the 40- and 80-day outages) and the top-3 order (80 d, 40 d, 15 d) are settled; the uniform
run at 12 replications is the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytwin.scenario import load_scenario
from supplytwin.stress.adaptive import open_whatifs
from supplytwin.stress.battery import load_battery
from supplytwin.stress.generators import expand
from supplytwin.stress.runner import Settings, run_battery

BATTERY = Path(__file__).parents[1] / "data" / "stress_tiny_battery.yaml"


@pytest.mark.component
def test_adaptive_reaches_the_uniform_flags_and_ranking_with_fewer_replications():
    lb = load_battery(BATTERY)
    base = load_scenario(lb.base_path, lb.battery.set)
    ws = expand(lb, base)

    def run(adaptive: bool):
        return run_battery(base, ws, Settings(reps=12, thresholds={"fill_rate": 0.8}, top_n=3,
                                              adaptive=adaptive))

    uniform, adaptive = run(False), run(True)
    flags = sorted(b["whatif"] for b in uniform.breaches())
    assert flags == ["PLANT down 40d", "PLANT down 80d"]  # the known answer
    assert sorted(b["whatif"] for b in adaptive.breaches()) == flags
    assert uniform.ranking()[:3] == ["PLANT down 80d", "PLANT down 40d", "PLANT down 15d"]
    assert adaptive.ranking()[:3] == uniform.ranking()[:3]
    assert uniform.replications_used == 12 * (len(ws) + 1)
    assert adaptive.replications_used < uniform.replications_used
    assert adaptive.replications_used <= adaptive.uniform_equivalent


@pytest.mark.unit
def test_decisions_open_and_close_as_the_intervals_say():
    # threshold 0.8: a mean far above with little spread is settled; one straddling is open
    thr = {"fill_rate": {0: [0.95, 0.96, 0.95, 0.96], 1: [0.7, 0.9, 0.75, 0.88]}}
    rank = {0: [0.0, 0.0, 0.0, 0.0], 1: [100.0, 101.0, 99.0, 100.0]}
    assert open_whatifs(thr, {"fill_rate": 0.8}, rank, top_n=1) == {1}
    # two members of the top 2 whose intervals overlap leave the order open
    rank = {0: [10.0, 30.0, 20.0, 25.0], 1: [12.0, 28.0, 22.0, 24.0], 2: [0.0, 0.0, 0.0, 0.0]}
    assert open_whatifs({}, {}, rank, top_n=2) == {0, 1}
    # constant samples settle at once
    assert open_whatifs({"fill_rate": {0: [0.9] * 2}}, {"fill_rate": 0.8},
                        {0: [1.0] * 2, 1: [2.0] * 2}, top_n=1) == set()
