"""The speed benchmark's "model's event mix alone" replay must reproduce the mix it is given.

``benchmarks/sim_speed.py`` splits the model's time per event into SimPy's own cost (a replay
of the model's kinds and numbers of events with no model work) and the model's work. That split
is only as good as the replay: these tests count the replay's events with the same classifier
the benchmark uses on the model and require the counts the replay was built from.
"""

from __future__ import annotations

import collections

import pytest
import simpy

from benchmarks.sim_speed import WAITERS, count_event_kinds, event_mix_skeleton

pytestmark = pytest.mark.unit


def _replayed(mix: collections.Counter) -> collections.Counter:
    env = event_mix_skeleton(mix, tickers=10)
    return count_event_kinds(env.run)


def test_classifier_counts_known_events():
    env = simpy.Environment()
    gate = env.event()

    def sleeper(env):
        yield env.timeout(1)
        yield env.timeout(1)

    def waiter(env):
        yield gate

    env.process(sleeper(env))
    env.process(waiter(env))
    env.timeout(5)  # nobody waits on it
    env.process(_opener(env, gate))
    counts = count_event_kinds(env.run)
    # 3 processes start and end; sleeper 2 timeouts + opener 1 resume a process;
    # the gate wakes the waiter; the orphan timeout resumes nobody
    assert counts == {"start": 3, "end": 3, "timeout": 3, "wake": 1, "idle": 1}


def _opener(env, gate):
    yield env.timeout(0.5)
    gate.succeed()


@pytest.mark.parametrize("mix", [
    {"start": 3_000, "end": 3_000, "timeout": 9_000, "wake": 1_500, "idle": 20},
    {"start": 36_009, "end": 35_593, "timeout": 105_183, "wake": 17_469, "idle": 262},
])
def test_replay_reproduces_the_mix(mix):
    got = _replayed(collections.Counter(mix))
    # the tickers themselves start and end (10 each) and the waiters start (WAITERS): a
    # fixed handful beyond the mix, nothing proportional to it
    extra = 10 + WAITERS
    assert abs(got["start"] - mix["start"]) <= extra
    assert abs(got["end"] - mix["start"]) <= extra  # every short process ends
    assert abs((got["timeout"] + got["idle"]) - (mix["timeout"] + mix["idle"])) <= extra
    assert abs(got["wake"] - mix["wake"]) <= 1
    assert abs(sum(got.values()) - sum(mix.values())) <= 0.01 * sum(mix.values())


def test_classifier_counts_the_simulators_plain_calls():
    from supplytwin.sim.clock import Clock

    env = Clock()
    seen = []
    for t in (1.0, 2.0):
        env.call_later(t, seen.append, t)

    def sleeper(env):
        yield env.timeout(1)

    env.process(sleeper(env))
    counts = count_event_kinds(lambda: env.run(until=5))
    # two plain calls and run's own stop event resume nobody; the process starts, times out
    # once and ends
    assert counts == {"idle": 3, "start": 1, "timeout": 1, "end": 1}
    assert seen == [1.0, 2.0]
    assert Clock.run is not simpy.Environment.run  # the one-loop run is put back
