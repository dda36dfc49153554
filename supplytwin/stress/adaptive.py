"""Spending replications where they decide something: sequential Bonferroni elimination.

A battery makes two kinds of decisions per what-if:

* **threshold flags**: does the mean of a KPI fall below its ``--fail-under`` value?
* **top-N membership**: is the what-if among the N with the largest paired difference of the
  ranking KPI (``patients_affected`` minus the base's, by default)?

The procedure (a Bonferroni-type sequential elimination in the spirit of Paulson's procedure,
Paulson 1964; Kim & Nelson, *Handbook in OR & MS* vol. 13, 2006, section 17.3): every what-if
runs ``n0`` replications; then, round after round, each what-if whose decisions are still
*open* gets ``step`` more, until every decision is settled or the what-if reaches the cap. With
k decisions in all, each uses a t interval at confidence 1 - alpha/k (Bonferroni), so all
settled decisions hold together with probability at least 1 - alpha. A decision is settled
when:

* threshold: the interval of the mean lies wholly above or wholly below the threshold (a mean
  with zero variance settles at once);
* top-N: the what-if's interval lies above the intervals of at least M - N others (surely in)
  or below those of at least N others (surely out), M = number of what-ifs; for members,
  an interval overlapping that of the next member leaves the order within the top N open.

:func:`open_whatifs` returns the what-ifs that need more replications; the runner loops.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

ALPHA = 0.05
INITIAL_REPS = 4
STEP_REPS = 2


def interval(values: Sequence[float], confidence: float) -> tuple[float, float, float]:
    """(mean, low, high) of a t interval; a constant sample has a zero-width interval."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return math.nan, -math.inf, math.inf
    mean = float(x.mean())
    if len(x) == 1:
        return mean, -math.inf, math.inf
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * sd / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def open_whatifs(threshold_values: Mapping[str, Mapping[int, Sequence[float]]],
                 thresholds: Mapping[str, float],
                 ranking_values: Mapping[int, Sequence[float]], top_n: int,
                 alpha: float = ALPHA) -> set[int]:
    """What-ifs (by index) with a decision still open.

    ``threshold_values[kpi][w]`` are the replication values of ``kpi`` in what-if ``w``;
    ``ranking_values[w]`` the paired differences of the ranking KPI.
    """
    whatifs = sorted(ranking_values)
    m = len(whatifs)
    rank_decisions = m if top_n < m else 0
    k = max(1, sum(len(threshold_values[kpi]) for kpi in thresholds) + rank_decisions)
    conf = 1 - alpha / k
    out: set[int] = set()
    for kpi, thr in thresholds.items():
        for w, vals in threshold_values[kpi].items():
            mean, lo, hi = interval(vals, conf)
            if math.isnan(mean):
                continue  # a KPI undefined here (no orders): nothing to decide
            if not (lo >= thr or hi < thr):
                out.add(w)
    if rank_decisions:
        iv = {w: interval(ranking_values[w], conf) for w in whatifs}
        order = sorted(whatifs, key=lambda w: -iv[w][0])
        for w in whatifs:
            above = sum(1 for v in whatifs if v != w and iv[w][1] > iv[v][2])
            below = sum(1 for v in whatifs if v != w and iv[w][2] < iv[v][1])
            if not (above >= m - top_n or below >= top_n):
                out.add(w)
        members = order[:top_n]
        for a, b in itertools.pairwise(members):
            if iv[a][1] <= iv[b][2]:
                out.update((a, b))
    return out


def top(ranking_means: Mapping[int, float], n: int) -> list[int]:
    """The ``n`` what-ifs with the largest mean (ties broken by index)."""
    return sorted(ranking_means, key=lambda w: (-ranking_means[w], w))[:n]
