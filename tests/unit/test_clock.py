"""The simulation clock (``supplytwin.sim.clock``) orders plain calls exactly as SimPy orders
Timeouts, and its one-loop ``run`` keeps SimPy's semantics.

The reference is plain SimPy: the same schedule is built once with Timeouts on a
``simpy.Environment`` and once with ``call_later`` on a ``Clock``, and the order in which
things happen must be the same, ties at one instant included.
"""

from __future__ import annotations

import pytest
import simpy

from supplytwin.sim.clock import Clock

pytestmark = pytest.mark.unit

# (delay, label): ties at 1.0 and 2.0 must keep their creation order
PLAN = [(2.0, "a"), (1.0, "b"), (1.0, "c"), (0.0, "d"), (2.0, "e"), (0.5, "f")]


def _run_with_a_process(env, seen: list) -> list[tuple[float, str]]:
    """Run ``env`` to day 10 with a process in between, whose timeouts interleave with the
    scheduled ones."""

    def proc():
        yield env.timeout(1.0)
        seen.append((env.now, "p1"))
        yield env.timeout(1.0)
        seen.append((env.now, "p2"))

    env.process(proc())
    env.run(until=10)
    return seen


def _with_timeouts() -> list[tuple[float, str]]:
    env = simpy.Environment()
    seen = []
    for delay, label in PLAN:
        env.timeout(delay).callbacks.append(lambda _e, label=label: seen.append((env.now, label)))

    return _run_with_a_process(env, seen)


def _with_calls() -> list[tuple[float, str]]:
    env = Clock()
    seen = []
    for delay, label in PLAN:
        env.call_later(delay, lambda label: seen.append((env.now, label)), label)

    return _run_with_a_process(env, seen)


def test_calls_run_in_the_order_timeouts_would():
    assert _with_calls() == _with_timeouts()
    assert len(_with_calls()) == len(PLAN) + 2


def test_urgent_call_runs_before_regular_events_of_the_instant():
    env = Clock()
    seen = []
    env.call_later(0.0, seen.append, "regular")
    env.call_soon_urgent(seen.append, "urgent")
    env.run(until=1)
    assert seen == ["urgent", "regular"]


def test_run_until_stops_at_the_time_and_resumes():
    env = Clock()
    seen = []
    for t in (1.0, 2.0, 3.0):
        env.call_later(t, seen.append, t)
    env.run(until=2.0)
    assert env.now == 2.0 and seen == [1.0]  # an event at the stop time waits for the next run
    env.run(until=5.0)
    assert seen == [1.0, 2.0, 3.0] and env.now == 5.0
    with pytest.raises(ValueError):
        env.run(until=4.0)


def test_run_until_an_event_and_to_the_end():
    env = Clock()
    done = env.event()
    env.call_later(2.0, lambda _a: done.succeed("ok"))
    assert env.run(until=done) == "ok"
    env.call_later(1.0, lambda _a: None)
    assert env.run() is None and env.now == 3.0


def test_a_failed_event_nobody_handles_crashes_the_run():
    env = Clock()

    def proc():
        yield env.timeout(1.0)
        raise KeyError("boom")

    env.process(proc())
    with pytest.raises(KeyError):
        env.run(until=5)


def test_an_error_in_a_call_propagates_and_negative_delays_are_refused():
    env = Clock()

    def bad(_arg):
        raise IndexError("inside a call")  # not mistaken for an empty schedule

    env.call_later(1.0, bad)
    with pytest.raises(IndexError, match="inside a call"):
        env.run(until=5)
    with pytest.raises(ValueError):
        env.call_later(-1.0, bad)


def test_step_runs_calls_too():
    env = Clock()
    seen = []
    env.call_later(1.0, seen.append, "x")
    env.step()
    assert seen == ["x"] and env.now == 1.0
    with pytest.raises(simpy.core.EmptySchedule):
        env.step()


def test_the_run_budget_report_names_plain_calls():
    # a runaway stopped by the run budget is described by what holds the pending events
    from supplytwin.sim.budget import describe_pending

    class Row:
        lane_id = "L-9"

    class Lane:
        row = Row()

        def depart(self, _arg):
            pass

    env = Clock()
    lane = Lane()
    for _ in range(3):
        env.call_later(1.0, lane.depart)
    env.call_later(1.0, print)
    text = describe_pending(env)
    assert text.startswith("4 events pending")
    assert "Lane.depart (lane L-9): 3 (75 %)" in text
