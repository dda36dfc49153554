"""The event loop runs with Python's cycle collector off (``engine._no_cycle_collection``).

That is safe only while the loop makes no reference cycles: everything it allocates must be
freed by reference counting, or memory would grow until the collector is back on. Checked on
bundled scenarios (one with site outages, lane closures and QA holds): a collection right after
the loop finds nothing (past a first run, whose first use of some libraries leaves a few cycles
once per process). And ``simulate`` leaves the collector as it found it, on or off.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from supplytwin.scenario import load_scenario
from supplytwin.sim import simulate
from supplytwin.sim.engine import Model

pytestmark = pytest.mark.unit

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("name", ["tiny", "pr-hurricane"])
def test_the_event_loop_makes_no_reference_cycles(name):
    sc = load_scenario(SCENARIOS / f"{name}.yaml")
    horizon = min(sc.simulation.horizon_days, 120.0)
    # a first run: libraries the loop uses for the first time in this process (networkx's
    # dispatch tables, say) leave a few cycles of their own, once per process
    Model(sc, 7).env.run(until=horizon)
    model = Model(sc, 7)
    gc.collect()  # whatever set-up and earlier tests left
    enabled = gc.isenabled()
    gc.disable()
    try:
        model.env.run(until=horizon)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
    assert next(model._order_ids) > 10  # the loop did place orders


@pytest.mark.parametrize("enabled", [True, False])
def test_simulate_leaves_the_collector_as_it_was(enabled):
    sc = load_scenario(SCENARIOS / "tiny.yaml")
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        simulate(sc, 3)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
