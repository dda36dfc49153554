"""The simulation clock: SimPy's environment with a leaner event loop and plain callbacks.

SimPy stays the engine (processes, timeouts, events and their order are SimPy's), but two
things it does for every event cost more than the model needs on its hot path:

* a callback at a later time (a demand arrival, the end of a trip) is a :class:`simpy.Timeout`
  whose callback list receives the event: an Event object, a list and a closure per call.
  :meth:`Clock.call_later` puts a plain tuple ``(function, argument)`` on the same heap with
  the same (time, priority, event id) key a Timeout would get, so events run in exactly the
  order they would as Timeouts, and the event-id counter still counts them (a tuple is made
  without any ``__init__`` call; no SimPy event is a tuple);
* :meth:`simpy.Environment.run` calls :meth:`~simpy.Environment.step` once per event.
  :meth:`Clock.run` does the same work in one loop (same semantics: callbacks in order, a
  failed event that nobody defused crashes the run, ``until`` as a time or an event).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, Event

__all__ = ["Clock"]


class Clock(simpy.Environment):
    """A :class:`simpy.Environment` with :meth:`call_later` and a one-loop :meth:`run`."""

    def call_later(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Call ``fn(arg)`` after ``delay`` days, ordered like a Timeout created now."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), (fn, arg)))

    def call_soon_urgent(self, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Call ``fn(arg)`` now, before the regular events of this instant, ordered like the
        start of a SimPy process created now."""
        heappush(self._queue, (self._now, URGENT, next(self._eid), (fn, arg)))

    def run(self, until: float | Event | None = None) -> Any:
        """As :meth:`simpy.Environment.run`, with the body of ``step`` inlined."""
        if until is not None:
            if not isinstance(until, Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self._now:
                    raise ValueError(
                        f"until ({at}) must be greater than the current simulation time")
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self._now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        queue = self._queue
        try:
            while queue:
                self._now, _, _, event = heappop(queue)
                if event.__class__ is tuple:  # a plain call (call_later)
                    event[0](event[1])
                    continue
                callbacks, event.callbacks = event.callbacks, None
                try:
                    for callback in callbacks:
                        callback(event)
                except StopSimulation:
                    # as SimPy: keep the callbacks not yet called for when the run resumes
                    event.callbacks = callbacks[callbacks.index(callback) + 1:]
                    self.schedule(event, URGENT - 1)
                    raise
                if not event._ok and not hasattr(event, "_defused"):
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    raise exc
        except StopSimulation as exc:
            return exc.args[0]
        if until is not None:
            assert not until.triggered
            raise RuntimeError(
                f'No scheduled events left but "until" event was not triggered: {until}')
        return None

    def step(self) -> None:
        """One event (SimPy's ``step``, knowing plain calls)."""
        if not self._queue:
            raise EmptySchedule
        if self._queue[0][-1].__class__ is tuple:
            self._now, _, _, event = heappop(self._queue)
            event[0](event[1])
            return
        super().step()
