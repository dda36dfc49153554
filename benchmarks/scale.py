"""Scale: time and memory against the horizon and the size of the network; start-up per command.

* **horizon**: the peer reference case (25 orders a day) for 500, 2,000 and 8,000 days, each in
  a fresh process: CPU seconds per 1,000 simulated days (linear: constant) and peak resident
  memory (flat: within 10 % from 500 to 8,000 days, since a run keeps only open orders);
* **network size**: the reference network copied k = 1, 2, 4, 8 times side by side (k stock
  points, k times the orders) for 1,000 days: time relative to k = 1 (linear: k; target
  <= 8.5x at k = 8) and peak memory;
* **start-up**: wall seconds of a fresh ``supplytwin --help``, ``validate``, ``show`` and a
  one-replication ``run`` of ``scenarios/tiny.yaml``, best of three.

Every figure comes from a fresh process, so one measurement's imports and garbage do not leak
into the next. CPU seconds (``time.process_time``) are reported for the scaling ratios because
they move less than wall seconds when other work shares the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, tempfile, time
def peak_mib():
    # VmHWM starts afresh at exec; ru_maxrss would carry the peak of a big forking parent
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from pathlib import Path
from benchmarks.peer import reference_scenario
from supplytwin.sim import simulate
days, copies = float(sys.argv[1]), int(sys.argv[2])
sc = reference_scenario(Path(tempfile.mkdtemp()), horizon_days=days, copies=copies)
cpu, wall = time.process_time(), time.perf_counter()
r = simulate(sc, 1)
print(json.dumps({"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
                  "orders": float(r.kpis["demand_units"]), "events": r.events_processed,
                  "peak_mib": peak_mib()}))
"""


def one_run(days: float, copies: int = 1) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(days), str(copies)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def horizon(days=(500, 2_000, 8_000)) -> list[str]:
    runs = {d: one_run(d) for d in days}
    lines = ["horizon (reference case, 25 orders/day):",
             f"  {'days':>6} {'CPU s':>7} {'CPU s/1000 d':>13} {'peak MiB':>9}"]
    for d, r in runs.items():
        lines.append(f"  {d:>6} {r['cpu_s']:>7.2f} {1000 * r['cpu_s'] / d:>13.3f} "
                     f"{r['peak_mib']:>9.1f}")
    growth = runs[days[-1]]["peak_mib"] / runs[days[0]]["peak_mib"] - 1
    lines.append(f"  peak memory {days[0]} -> {days[-1]} days: {growth:+.1%} "
                 f"(target within 10 %: {'met' if abs(growth) <= 0.10 else 'not met'})")
    return lines


def network_size(copies=(1, 2, 4, 8), days: float = 1_000) -> list[str]:
    runs = {k: one_run(days, k) for k in copies}
    base = runs[copies[0]]["cpu_s"]
    lines = [f"network size (reference network x k, {days:g} days):",
             f"  {'k':>3} {'CPU s':>7} {'x k=1':>7} {'orders':>9} {'peak MiB':>9}"]
    for k, r in runs.items():
        lines.append(f"  {k:>3} {r['cpu_s']:>7.2f} {r['cpu_s'] / base:>7.2f} "
                     f"{r['orders']:>9,.0f} {r['peak_mib']:>9.1f}")
    top = runs[copies[-1]]["cpu_s"] / base
    lines.append(f"  k = {copies[-1]}: {top:.2f}x the time of k = 1 (target <= 8.5x: "
                 f"{'met' if top <= 8.5 else 'not met'})")
    return lines


def startup(repeats: int = 3) -> list[str]:
    exe = str(Path(sys.executable).parent / "supplytwin")
    tiny = str(ROOT / "scenarios" / "tiny.yaml")
    with tempfile.TemporaryDirectory() as runs:
        commands = {
            "supplytwin --help": [exe, "--help"],
            "supplytwin validate tiny": [exe, "validate", tiny],
            "supplytwin show tiny": [exe, "show", tiny],
            "supplytwin run tiny --reps 1": [exe, "run", tiny, "--reps", "1", "--runs-dir", runs],
            "python -c 'import supplytwin'": [sys.executable, "-c", "import supplytwin"],
        }
        lines = [f"start-up (fresh process, wall seconds, best of {repeats}):"]
        for name, cmd in commands.items():
            best = float("inf")
            for _ in range(repeats):
                t = time.perf_counter()
                subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT)
                best = min(best, time.perf_counter() - t)
            lines.append(f"  {name:<32} {best:>6.2f} s")
    return lines


def run() -> None:
    print("== scale and start-up (scale.py) ==", flush=True)
    for section in (horizon, network_size, startup):
        for line in section():
            print(line, flush=True)


if __name__ == "__main__":
    run()
