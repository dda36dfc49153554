"""Experiment throughput: replications per minute with 1 and with 2 local workers, and the
overhead of a Dask LocalCluster against the local process pool on the same experiment.

Pools are started before the clock starts (a long experiment amortises start-up; what is
measured is the steady throughput), and every executor runs the same replications of the
baseline, so the ratios compare like with like. A pool of one worker and a pool of two are timed
in interleaved rounds before the Dask cluster starts (an idle cluster takes CPU that two busy
workers feel); then the pool of two and the cluster in interleaved rounds beside each other.
The best round of each is kept: with replications now under a second, one burst of noise on a
2-core machine moved a single round's Dask overhead between +4 % and +21 %.
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
REPS = 12
#: timed rounds per executor; the best is kept
ROUNDS = 3
#: issue 13: two local worker processes against one
TARGET_SPEEDUP_2_WORKERS = 1.8


def _timed(executor, scenario, reps: int) -> float:
    from supplytwin.experiment import run_experiment

    t = time.perf_counter()
    r = run_experiment(scenario, reps, executor=executor)
    assert r.n == reps
    return time.perf_counter() - t


def _warm(executor, scenario) -> None:
    """Start the workers (imports, first scenario transfer) on replications not timed."""
    from supplytwin.experiment import run_experiment

    run_experiment(scenario, 2, seed=999, executor=executor)


def run() -> dict[str, float]:
    from supplytwin.experiment import DaskExecutor, LocalProcesses
    from supplytwin.scenario import load_scenario

    sc = load_scenario(BASELINE)
    # one worker is a pool of one, not this process: the same start method, transfers and
    # heap for both. The Dask cluster is started only after: its scheduler, nannies and
    # heartbeats take CPU that two busy workers would feel and one would not.
    single = LocalProcesses(1)
    pool = LocalProcesses(2)
    dask = None
    try:
        _warm(single, sc)
        _warm(pool, sc)
        # interleaved rounds, best of each: a burst of noise on this 2-core machine then hits
        # both executors alike instead of deciding the comparison
        one = two = dask_s = float("inf")
        for _ in range(ROUNDS):
            one = min(one, _timed(single, sc, REPS))
            two = min(two, _timed(pool, sc, REPS))
        single.close()
        dask = DaskExecutor("local", workers=2)
        _warm(dask, sc)
        two_beside_dask = float("inf")
        for _ in range(ROUNDS):
            two_beside_dask = min(two_beside_dask, _timed(pool, sc, REPS))
            dask_s = min(dask_s, _timed(dask, sc, REPS))
    finally:
        single.close()
        pool.close()
        if dask is not None:
            dask.close()
    figures = {
        "reps_per_min_1_worker": 60 * REPS / one,
        "reps_per_min_2_workers": 60 * REPS / two,
        "speedup_2_workers": one / two,
        "reps_per_min_dask_local_2": 60 * REPS / dask_s,
        # against the pool timed beside the same idle cluster
        "dask_overhead_vs_pool": dask_s / two_beside_dask - 1,
    }
    speedup = figures["speedup_2_workers"]
    print(f"== experiment throughput ({REPS} replications of the baseline each, "
          f"best of {ROUNDS} interleaved rounds) ==")
    print(f"  1 local process         {figures['reps_per_min_1_worker']:8.1f} reps/min")
    print(f"  2 local processes       {figures['reps_per_min_2_workers']:8.1f} reps/min   "
          f"speed-up {speedup:.2f}x (target >= {TARGET_SPEEDUP_2_WORKERS}x: "
          f"{'met' if speedup >= TARGET_SPEEDUP_2_WORKERS else 'not met'})")
    print(f"  Dask LocalCluster (2)   {figures['reps_per_min_dask_local_2']:8.1f} reps/min   "
          f"overhead vs pool {100 * figures['dask_overhead_vs_pool']:+.1f} % (target <= 15 %)")
    return figures
