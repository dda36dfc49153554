"""``python -m benchmarks``: every benchmark, printed as a table of measured figures and ratios.

This machine has 2 cores and is noisy: each figure is the best of several repeats, and ratios
compare figures measured in the same run, never figures from different days.
"""

from __future__ import annotations

import sys

from benchmarks import experiment_speed, opt_speed, peer, scale, sim_speed, stress_speed


def main() -> None:
    sections = [peer.main, sim_speed.run, scale.run, experiment_speed.run, opt_speed.run,
                stress_speed.run]
    for section in sections:
        section()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
