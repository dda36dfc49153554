"""Experiments: confidence intervals, common random numbers, executors, precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supplytwin.experiment import (
    InProcess,
    LocalProcesses,
    paired_difference,
    run_experiment,
    t_interval,
    welch_difference,
)
from supplytwin.scenario import load_scenario

pytestmark = pytest.mark.component

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny.yaml"


def test_t_interval_matches_the_textbook_formula():
    x = np.array([0.91, 0.95, 0.93, 0.97, 0.94])
    e = t_interval(x)
    half = stats.t.ppf(0.975, 4) * x.std(ddof=1) / np.sqrt(5)
    assert e.mean == pytest.approx(x.mean())
    assert e.ci95 == pytest.approx((x.mean() - half, x.mean() + half))


def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    trials = 4000
    covered = sum(lo <= 3.0 <= hi for lo, hi in
                  (t_interval(rng.exponential(3.0, 30)).ci95 for _ in range(trials)))
    # exponential samples of 30: t coverage is ~0.93-0.95; a z-interval or a wrong df would
    # still pass, but a missing sqrt(n) or a sd of the mean instead of the sample would not
    rate = covered / trials
    assert 0.91 < rate < 0.965


def test_paired_interval_of_identical_streams_is_exact_zero():
    a = np.array([1.0, 2.0, 3.0])
    assert paired_difference(a, a).ci95 == (0.0, 0.0)
    assert welch_difference(a, a + 1).mean == pytest.approx(1.0)


def test_replications_are_identical_in_process_and_in_worker_processes():
    sc = load_scenario(TINY)
    a = run_experiment(sc, 4, executor=InProcess()).kpi_table()
    pool = LocalProcesses(2)
    try:
        b = run_experiment(sc, 4, executor=pool).kpi_table()
    finally:
        pool.close()
    pd.testing.assert_frame_equal(a, b)


def test_a_worker_process_keeps_its_inherited_heap_out_of_the_cycle_collector():
    """The worker freezes what it inherited (gc.freeze): full collections in a worker must not
    walk the parent's objects, which costs seconds under a large parent and copies pages."""
    import gc

    inherited = [{"n": i} for i in range(50_000)]  # objects the forked worker inherits
    pool = LocalProcesses(1)
    try:
        (_, frozen), = list(pool.map_calls(gc.get_freeze_count, [()]))
    finally:
        pool.close()
    assert frozen >= len(inherited)


def test_a_pool_started_from_a_thread_keeps_its_workers_when_that_thread_ends():
    """The kernel's parent-death signal follows the thread that started a worker: a pool a
    dashboard job started under fork lost its workers when the job's thread returned, and ran
    no replication after (the experiment came back interrupted with none)."""
    import threading

    sc = load_scenario(TINY)
    pool = LocalProcesses(2)
    first: list = []
    job = threading.Thread(target=lambda: first.append(run_experiment(sc, 2, executor=pool)))
    try:
        job.start()
        job.join()
        assert first[0].n == 2
        again = run_experiment(sc, 3, seed=5, executor=pool)
        assert not again.interrupted
        assert again.n == 3
    finally:
        pool.close()


def test_replications_are_identical_on_a_dask_local_cluster():
    pytest.importorskip("distributed")
    from supplytwin.experiment import DaskExecutor

    sc = load_scenario(TINY)
    a = run_experiment(sc, 3, executor=InProcess()).kpi_table()
    dask = DaskExecutor("local", workers=2)
    try:
        b = run_experiment(sc, 3, executor=dask).kpi_table()
    finally:
        dask.close()
    pd.testing.assert_frame_equal(a, b)


def test_replication_i_uses_the_same_streams_in_every_scenario():
    base = load_scenario(TINY)
    costly = load_scenario(TINY, ["edits.lanes.L-DC-C1-RD.cost_per_unit_usd=5"])
    a = run_experiment(base, 3).kpi_table()
    b = run_experiment(costly, 3).kpi_table()
    # identical demand per replication, different between replications
    assert a["demand_units"].tolist() == b["demand_units"].tolist()
    assert a["demand_units"].nunique() == 3


def test_precision_adds_replications_until_the_interval_is_narrow_enough():
    sc = load_scenario(TINY, ["simulation.horizon_days=60"])
    target = 40.0  # units of demand
    r = run_experiment(sc, 3, precision=("demand_units", target), max_reps=60)
    _kpi, _h, reached = r.precision
    assert reached and r.n > 3
    assert t_interval(r.kpi_table()["demand_units"]).half_width <= target
    # and not many more than needed: one replication fewer would not have been enough
    fewer = r.kpi_table().sort_values("replication")["demand_units"].to_numpy()[:-1]
    assert t_interval(fewer).half_width > target * 0.9


def test_interrupt_keeps_finished_replications(monkeypatch):
    sc = load_scenario(TINY, ["simulation.horizon_days=30"])
    seen = []

    def on_result(out):
        seen.append(out.replication)
        if len(seen) == 2:
            raise KeyboardInterrupt

    r = run_experiment(sc, 5, on_result=on_result)
    assert r.interrupted and r.n == 2
    resumed = run_experiment(sc, 5, done=r.outputs)
    full = run_experiment(sc, 5)
    pd.testing.assert_frame_equal(resumed.kpi_table(), full.kpi_table())


def test_a_killed_worker_keeps_finished_replications_and_the_run_resumes():
    import os
    import signal

    sc = load_scenario(TINY, ["simulation.horizon_days=200"])
    pool = LocalProcesses(2)
    seen = []

    def on_result(out):
        seen.append(out.replication)
        if len(seen) == 2:  # a worker dies (OOM killer, node lost) while others are running
            os.kill(next(iter(pool._pool._processes)), signal.SIGKILL)

    try:
        r = run_experiment(sc, 12, executor=pool, on_result=on_result)
    finally:
        pool.close()
    assert r.interrupted and 2 <= r.n < 12
    resumed = run_experiment(sc, 12, done=r.outputs)
    pd.testing.assert_frame_equal(resumed.kpi_table(), run_experiment(sc, 12).kpi_table())
