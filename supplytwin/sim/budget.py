"""The run budget: a replication that explodes is stopped with a message, not left to hang.

A runaway input (a review every microsecond, a million batches started at once, a line that
restarts batches forever at one instant) makes SimPy schedule events without end, often
without advancing simulated time, so neither the horizon nor a check between simulated days
would ever stop it. A watchdog thread therefore watches three figures from outside the event
loop, at no cost per event:

* events scheduled so far (SimPy's event counter) against ``simulation.max_events``;
* events pending at once (the length of the event queue, i.e. memory) against
  :data:`MAX_PENDING_EVENTS`;
* wall-clock seconds against ``simulation.time_limit_seconds``.

When one is exceeded it raises :class:`_Stop` asynchronously in the simulating thread (CPython's
``PyThreadState_SetAsyncExc``, so it works in worker threads too, where signals cannot). The
simulating thread then looks at the event queue to name what exploded (the process kind and
its site, lane or customer holding most pending events) and raises
:class:`RunBudgetExceeded`, a user error: nothing of the run has been written yet.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from supplytwin.errors import SupplytwinError

#: events pending at once; far beyond any real network (a few thousand), far below memory limits
MAX_PENDING_EVENTS = 2_000_000
#: how often the watchdog looks, in seconds
CHECK_EVERY_SECONDS = 0.2


class RunBudgetExceeded(SupplytwinError):
    """A replication exceeded its event, queue or wall-clock budget; the message says why."""


class _Stop(BaseException):
    """Raised inside the event loop by the watchdog. A BaseException, so that model code that
    catches ``Exception`` cannot swallow it."""


def _events_scheduled(env: Any) -> int:
    text = repr(getattr(env, "_eid", "count(0)"))  # "count(12345)", read without advancing it
    try:
        return int(text[text.index("(") + 1:text.index(")")])
    except ValueError:
        return 0


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None)


class _Watchdog(threading.Thread):
    def __init__(self, env: Any, max_events: int | None, time_limit_seconds: float | None,
                 max_pending: int) -> None:
        super().__init__(name="supplytwin-run-budget", daemon=True)
        self.env = env
        self.max_events = max_events
        self.time_limit = time_limit_seconds
        self.max_pending = max_pending
        self.target = threading.get_ident()
        self.started_at = time.perf_counter()
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(CHECK_EVERY_SECONDS):
            reason = self._exceeded()
            if reason is None:
                continue
            with self._lock:
                if self._done.is_set():
                    return
                self.reason = reason
                _set_async_exc(self.target, _Stop)
            # ask again later if the first one landed somewhere that swallowed it
            if self._done.wait(1.0):
                return

    def _exceeded(self) -> str | None:
        elapsed = time.perf_counter() - self.started_at
        events = _events_scheduled(self.env)
        pending = len(self.env._queue)
        if self.max_events is not None and events > self.max_events:
            return (f"the budget of {self.max_events:,} simulator events "
                    "(simulation.max_events, --max-events)")
        if pending > self.max_pending:
            return f"the budget of {self.max_pending:,} events pending at once (memory)"
        if self.time_limit is not None and elapsed > self.time_limit:
            return (f"the time limit of {self.time_limit:g} s (simulation.time_limit_seconds, "
                    "--time-limit)")
        return None

    def stop(self) -> str | None:
        """Stop watching; return the reason if the budget was exceeded."""
        with self._lock:
            self._done.set()
            if self.reason is not None:
                _set_async_exc(self.target, None)  # withdraw a stop not yet delivered
        return self.reason


def _entity(frame: Any) -> str:
    """Which site, lane or customer a process frame works for (best effort)."""
    if frame is None:
        return ""
    names = ("site_id", "lane_id", "customer_id", "product_id")
    me = frame.f_locals.get("self")
    for obj in [me, getattr(me, "row", None), *frame.f_locals.values()]:
        found = [f"{n.removesuffix('_id')} {getattr(obj, n)}" for n in names
                 if isinstance(getattr(obj, n, None), str)]
        if found:
            return ", ".join(found)
    found = [f"{n.removesuffix('_id')} {frame.f_locals[n]}" for n in names
             if isinstance(frame.f_locals.get(n), str)]
    return ", ".join(found)


def describe_pending(env: Any, top: int = 3) -> str:
    """The process kinds (and entities) that hold most pending events, for the message."""
    counts: Counter[str] = Counter()
    for item in list(env._queue):
        event = item[-1]
        if event.__class__ is tuple:  # a plain call of the Clock: (function, argument)
            fn = event[0]
            owner = getattr(fn, "__self__", None)
            where = ", ".join(f"{n.removesuffix('_id')} {v}" for n in ("lane_id", "site_id")
                              if isinstance(v := getattr(getattr(owner, "row", owner), n, None),
                                            str))
            counts[getattr(fn, "__qualname__", "call") + (f" ({where})" if where else "")] += 1
            continue
        for cb in getattr(event, "callbacks", None) or ():
            proc = getattr(cb, "__self__", None)
            gen = getattr(proc, "_generator", None)
            if gen is None:
                continue
            where = _entity(getattr(gen, "gi_frame", None))
            counts[gen.__qualname__ + (f" ({where})" if where else "")] += 1
    total = sum(counts.values())
    if not total:
        return f"{len(env._queue):,} events pending"
    parts = [f"{name}: {n:,} ({100 * n / total:.0f} %)" for name, n in counts.most_common(top)]
    return f"{len(env._queue):,} events pending, most from " + "; ".join(parts)


@contextlib.contextmanager
def run_budget(env: Any, *, max_events: int | None, time_limit_seconds: float | None,
               max_pending: int = MAX_PENDING_EVENTS, what: str = "the run") -> Iterator[None]:
    """Run the body (the event loop) under a budget; raise :class:`RunBudgetExceeded`."""
    dog = _Watchdog(env, max_events, time_limit_seconds, max_pending)
    dog.start()
    reason: str | None = None
    try:
        try:
            yield
        finally:
            reason = dog.stop()
        if reason is None and max_events is not None and _events_scheduled(env) > max_events:
            # a short run may finish between two looks of the watchdog: same rule either way
            reason = (f"the budget of {max_events:,} simulator events (simulation.max_events, "
                      "--max-events)")
    except _Stop:
        dog.stop()  # delivered before the finally above could stop the watchdog
        reason = reason or dog.reason or "its budget"
    if reason is not None:
        raise RunBudgetExceeded(
            f"{what} stopped at simulated day {env.now:.3f} after "
            f"{time.perf_counter() - dog.started_at:.1f} s: it exceeded {reason}. "
            f"{describe_pending(env)}. A runaway input (a tiny period, a huge order or batch "
            "count) is the usual cause; nothing was written.") from None
