"""Stress-battery speed: battery wall time with 1 and 2 workers, replications and wall time
saved by ``--adaptive``, and the TTS LPs of every node of the bundled network.

The battery is the bundled ``scenarios/stress/nightly.yaml`` cut to its production sites and
regional events and a 150-day horizon, so ``make bench`` stays within minutes on a 2-core
machine; the whole nightly battery with ``--adaptive`` is timed in docs/stress.md.
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NIGHTLY = ROOT / "scenarios" / "stress" / "nightly.yaml"
SETS = ["simulation.horizon_days=150", "simulation.warmup_days=30"]
KINDS = ("site_outage", "regional_event")
ADAPTIVE_CAP = 6


def _battery():
    from supplytwin.scenario import load_scenario
    from supplytwin.stress.battery import load_battery
    from supplytwin.stress.generators import expand

    lb = load_battery(NIGHTLY)
    base = load_scenario(lb.base_path, [*lb.battery.set, *SETS])
    ws = [w for w in expand(lb, base)
          if w.kind in KINDS and (w.kind != "site_outage" or not w.target.startswith("DC-"))]
    return lb, base, ws


def _timed(base, ws, settings, workers: int):
    from supplytwin.experiment.executors import make_executor
    from supplytwin.stress.runner import run_battery

    ex = make_executor(workers)
    try:
        t = time.perf_counter()
        run = run_battery(base, ws, settings, executor=ex)
        return run, time.perf_counter() - t
    finally:
        ex.close()


def run() -> dict[str, float]:
    from supplytwin.stress.runner import Settings
    from supplytwin.stress.tts import candidate_nodes, survival_table

    lb, base, ws = _battery()
    thr = dict(lb.battery.thresholds)
    one = Settings(reps=1, thresholds=thr)
    _, w1 = _timed(base, ws, one, 1)
    _, w2 = _timed(base, ws, one, 2)
    uni_run, uni_s = _timed(base, ws, Settings(reps=ADAPTIVE_CAP, thresholds=thr), 2)
    ada_run, ada_s = _timed(base, ws, Settings(reps=ADAPTIVE_CAP, thresholds=thr,
                                               adaptive=True), 2)
    same = (sorted(b["whatif"] for b in uni_run.breaches())
            == sorted(b["whatif"] for b in ada_run.breaches())
            and uni_run.ranking()[:5] == ada_run.ranking()[:5])
    nodes = candidate_nodes(base.network)
    t = time.perf_counter()
    survival_table(base.network, {n: 42.0 for n in nodes})
    lp_s = time.perf_counter() - t
    figures = {"battery_s_1_worker": w1, "battery_s_2_workers": w2, "uniform_s": uni_s,
               "adaptive_s": ada_s, "uniform_reps": uni_run.replications_used,
               "adaptive_reps": ada_run.replications_used, "tts_lp_s": lp_s}
    print(f"== stress battery ({len(ws)} what-ifs + base of nightly.yaml, 150-day horizon)")
    print(f"  1 replication each, 1 worker     {w1:8.1f} s")
    print(f"  1 replication each, 2 workers    {w2:8.1f} s   speed-up {w1 / w2:.2f}x")
    print(f"  uniform, {ADAPTIVE_CAP} replications, 2 workers {uni_s:8.1f} s   "
          f"{uni_run.replications_used} runs")
    print(f"  --adaptive (cap {ADAPTIVE_CAP}), 2 workers   {ada_s:8.1f} s   "
          f"{ada_run.replications_used} runs ({1 - ada_run.replications_used / uni_run.replications_used:.0%} "
          f"fewer; same flags and top 5: {'yes' if same else 'NO'})")
    print(f"  TTS + TTR LPs, {len(nodes)} nodes      {lp_s:8.2f} s   "
          f"({lp_s / max(len(nodes), 1) * 1000:.0f} ms per node)")
    return figures


if __name__ == "__main__":
    run()
