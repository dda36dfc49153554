"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Each executor maps :func:`run_replication` over replication indices and yields results as they
finish (in any order). The seed of replication *i* depends only on the root seed and *i*, never
on the executor or the order of completion, so every executor gives identical numbers.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from supplytwin.model import Scenario


@dataclass
class ReplicationOutput:
    """What a worker sends back: everything but the event log."""

    replication: int
    seed: int
    kpis: dict[str, float]
    kpis_by_product: Any
    timeseries: Any
    service_by_customer: Any
    #: units and excursions per lane after the warm-up: lane_id, units, excursions
    lanes: Any
    wall_seconds: float
    events_processed: int
    #: the state at the end, for a run started from a snapshot
    end_state: Any = None
    #: on hand, backlog and holding cost per stock point (supplytwin.sim.kpis.stock_point_kpis)
    stock_points: Any = None


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationOutput:
    import pandas as pd

    from supplytwin.sim import simulate

    r = simulate(scenario, seed=seed, replication=replication)
    lane_ids = sorted(set(r.units_by_lane) | set(r.excursions_by_lane))
    lanes = pd.DataFrame({"lane_id": lane_ids,
                          "units": [r.units_by_lane.get(l, 0.0) for l in lane_ids],
                          "excursions": [r.excursions_by_lane.get(l, 0) for l in lane_ids]})
    return ReplicationOutput(replication, seed, r.kpis, r.kpis_by_product, r.timeseries,
                             r.service_by_customer, lanes, r.wall_seconds, r.events_processed,
                             r.end_state, stock_points=r.stock_points)


class Executor:
    name = "executor"

    def map(self, scenario: Scenario, seed: int, reps: Sequence[int]
            ) -> Iterator[ReplicationOutput]:  # pragma: no cover - interface
        raise NotImplementedError

    def map_calls(self, fn: Callable[..., Any], calls: Sequence[tuple]
                  ) -> Iterator[tuple[int, Any]]:  # pragma: no cover - interface
        """``fn(*args)`` for every args tuple; yields ``(index, result)`` as they finish."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcess(Executor):
    name = "in-process"

    def map(self, scenario, seed, reps):
        for i in reps:
            yield run_replication(scenario, seed, i)

    def map_calls(self, fn, calls):
        for k, args in enumerate(calls):
            yield k, fn(*args)


def _die_with_parent(started_by_main_thread: bool = True) -> None:
    """Make this worker die when the process that started it dies, even by ``kill -9``.

    On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``. Elsewhere (or if that
    call is unavailable) a daemon thread polls the parent's pid. Without this, workers of a
    killed run are re-parented to init and keep their memory and CPU, stuck. The parent is the
    worker's actual parent: the run's process with ``fork``, the fork server with
    ``forkserver`` (as in the dashboard), which itself ends with the process it serves.

    The kernel's signal comes when the *thread* that started the worker ends, not its process.
    A worker started from another thread (a dashboard job under ``fork``, a library user's
    thread) was killed as soon as that thread returned, leaving a pool that silently ran no
    more replications; such a worker polls its parent instead
    (``started_by_main_thread=False``).
    """
    parent = os.getppid()
    if parent == 1:  # the parent died before this worker got here
        os._exit(1)
    if started_by_main_thread and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # died between getppid and prctl
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="supplytwin-parent-watch", daemon=True).start()


def _init_worker(started_by_main_thread: bool = True) -> None:
    _die_with_parent(started_by_main_thread)
    # A forked worker inherits its parent's whole heap (a benchmark or the dashboard may hold
    # millions of objects). Left to the cycle collector, every full collection in the worker
    # walks them all and, by touching their headers, copies their pages: measured, rounds of 8
    # baseline replications on 2 workers took up to 2 s longer under a 3-million-object parent.
    # Frozen, they are never scanned; the worker's own objects are collected as usual.
    gc.freeze()
    # Ctrl-C is handled by the parent, which keeps the finished replications; workers must not
    # die half-way through printing their own KeyboardInterrupt tracebacks
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalProcesses(Executor):
    """A pool of local worker processes (all cores by default)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self.name = f"local-processes({self.workers})"
        self._pool: ProcessPoolExecutor | None = None

    def _started_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # the workers are started by this thread (on the first submit), or by the fork
            # server's main thread under "forkserver": see _die_with_parent
            import multiprocessing

            by_main = (threading.current_thread() is threading.main_thread()
                       or multiprocessing.get_start_method() == "forkserver")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                             initargs=(by_main,))
        return self._pool

    def map(self, scenario, seed, reps):
        calls = self.map_calls(run_replication, [(scenario, seed, i) for i in reps])
        try:
            for _, out in calls:
                yield out
        finally:
            calls.close()  # cancels what has not started

    def map_calls(self, fn, calls):
        pool = self._started_pool()
        index = {pool.submit(fn, *args): k for k, args in enumerate(calls)}
        pending = set(index)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield index[f], f.result()
        finally:
            for f in pending:
                f.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Replications as tasks on a Dask distributed cluster (``--dask ADDRESS`` or ``local``)."""

    def __init__(self, address: str = "local", workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            from supplytwin.errors import SupplytwinError

            raise SupplytwinError(
                "Dask is not installed: pip install 'supplytwin[distributed]'") from exc
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
        self.name = f"dask({address})"

    def map(self, scenario, seed, reps):
        from dask.distributed import as_completed

        # hash=False: a fresh key per experiment, so releasing an earlier experiment's copy can
        # never take this one's data away
        sc = self._client.scatter(scenario, broadcast=True, hash=False)
        futures = [self._client.submit(run_replication, sc, seed, i, pure=False) for i in reps]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def map_calls(self, fn, calls):
        from dask.distributed import as_completed

        futures = [self._client.submit(fn, *args, pure=False) for args in calls]
        index = {f.key: k for k, f in enumerate(futures)}
        try:
            for f in as_completed(futures):
                yield index[f.key], f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    if dask:
        return DaskExecutor(dask, workers)
    if workers == 1:
        return InProcess()
    return LocalProcesses(workers)
