"""Experiment throughput: replications per minute with 1 and with 2 local workers, and the
overhead of a Dask LocalCluster against the local process pool on the same experiment.

Pools are started before the clock starts (a long experiment amortises start-up; what is
measured is the steady throughput), and every executor runs the same replications of the
baseline, so the ratios compare like with like.
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
REPS = 8


def _timed(executor, scenario, reps: int) -> float:
    from supplytwin.experiment import run_experiment

    # warm the workers (imports, first scenario transfer) on replications not timed
    run_experiment(scenario, 2, seed=999, executor=executor)
    t = time.perf_counter()
    r = run_experiment(scenario, reps, executor=executor)
    assert r.n == reps
    return time.perf_counter() - t


def run() -> dict[str, float]:
    from supplytwin.experiment import DaskExecutor, InProcess, LocalProcesses
    from supplytwin.scenario import load_scenario

    sc = load_scenario(BASELINE)
    one = _timed(InProcess(), sc, REPS)
    pool = LocalProcesses(2)
    try:
        two = _timed(pool, sc, REPS)
    finally:
        pool.close()
    dask = DaskExecutor("local", workers=2)
    try:
        dask_s = _timed(dask, sc, REPS)
    finally:
        dask.close()
    figures = {
        "reps_per_min_1_worker": 60 * REPS / one,
        "reps_per_min_2_workers": 60 * REPS / two,
        "speedup_2_workers": one / two,
        "reps_per_min_dask_local_2": 60 * REPS / dask_s,
        "dask_overhead_vs_pool": dask_s / two - 1,
    }
    print(f"== experiment throughput ({REPS} replications of the baseline each) ==")
    print(f"  1 worker (in-process)   {figures['reps_per_min_1_worker']:8.1f} reps/min")
    print(f"  2 local processes       {figures['reps_per_min_2_workers']:8.1f} reps/min   "
          f"speed-up {figures['speedup_2_workers']:.2f}x (target >= 1.7x)")
    print(f"  Dask LocalCluster (2)   {figures['reps_per_min_dask_local_2']:8.1f} reps/min   "
          f"overhead vs pool {100 * figures['dask_overhead_vs_pool']:+.1f} % (target <= 15 %)")
    return figures
