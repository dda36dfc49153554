"""Simulation speed: events per second of the baseline model next to a bare SimPy loop,
seconds per 365-day replication, and peak memory of one replication.

* bare SimPy loop: 100 processes that only ``yield env.timeout(1)`` - the fastest SimPy can
  schedule and resume a process, the ceiling for any model built on it;
* the model: the bundled baseline (55 sites, 159 lanes, ~2,000 customer orders a day), whose
  events carry real work (picking lots FEFO, policies, shipments, KPIs).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
REPEATS = 3


def bare_simpy_events_per_second(n_events: int = 1_000_000) -> float:
    best = 0.0
    for _ in range(REPEATS):
        env = simpy.Environment()

        def tick(env):
            while True:
                yield env.timeout(1)

        for _ in range(100):
            env.process(tick(env))
        t = time.perf_counter()
        env.run(until=n_events / 100)
        best = max(best, n_events / (time.perf_counter() - t))
    return best


def model_run() -> tuple[float, int]:
    from supplytwin import load_scenario, simulate

    sc = load_scenario(BASELINE)
    best = (float("inf"), 0)
    for rep in range(REPEATS):
        t = time.perf_counter()
        r = simulate(sc, seed=1, replication=rep)
        dt = time.perf_counter() - t
        if dt < best[0]:
            best = (dt, r.events_processed)
    return best


PEAK_MEMORY_SCRIPT = """
import json, resource, sys
from supplytwin import load_scenario, simulate
r = simulate(load_scenario(sys.argv[1]), seed=1)
print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def peak_memory_mib() -> float:
    out = subprocess.run([sys.executable, "-c", PEAK_MEMORY_SCRIPT, str(BASELINE)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["maxrss_kib"] / 1024


def run() -> dict[str, float]:
    bare = bare_simpy_events_per_second()
    seconds, events = model_run()
    model_eps = events / seconds
    mem = peak_memory_mib()
    figures = {
        "bare_simpy_events_per_s": bare,
        "model_events_per_s": model_eps,
        "model_to_bare_ratio": model_eps / bare,
        "seconds_per_365_day_replication": seconds,
        "events_per_replication": events,
        "peak_memory_mib": mem,
    }
    print("== simulation speed (best of 3; baseline scenario, 365 days) ==")
    print(f"  bare SimPy loop         {bare:12,.0f} events/s")
    print(f"  baseline model          {model_eps:12,.0f} events/s   "
          f"ratio {model_eps / bare:.2f} (target >= 0.50)")
    print(f"  one 365-day replication {seconds:12.2f} s         ({events:,} events)")
    print(f"  peak memory (one rep)   {mem:12.0f} MiB")
    return figures
