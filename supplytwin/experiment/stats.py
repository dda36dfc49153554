"""Confidence intervals for replicated simulation output.

Replication KPIs are i.i.d. across replications, so a KPI's mean gets a Student-t interval.
Two scenarios run with common random numbers (replication *i* of each draws the same random
streams) are compared on the per-replication *differences*, whose variance is smaller than the
sum of the two variances when the scenarios respond alike to the same randomness; the paired-t
interval is then narrower than the interval of independent samples (Law, *Simulation Modeling
and Analysis*, 5th ed., section 10.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    mean: float
    sd: float
    n: int
    ci95: tuple[float, float]

    @property
    def half_width(self) -> float:
        return (self.ci95[1] - self.ci95[0]) / 2

    def as_dict(self) -> dict:
        return {"mean": self.mean, "sd": self.sd, "ci95": list(self.ci95), "n": self.n}


def t_interval(values, confidence: float = 0.95) -> Estimate:
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    n = len(x)
    if n == 0:
        return Estimate(float("nan"), float("nan"), 0, (float("nan"), float("nan")))
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, float("nan"), 1, (float("nan"), float("nan")))
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    return Estimate(mean, sd, n, (mean - half, mean + half))


def paired_difference(base, other, confidence: float = 0.95) -> Estimate:
    """CI of mean(other - base) over replications paired by index."""
    a = np.asarray(base, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired samples need the same replications")
    ok = ~(np.isnan(a) | np.isnan(b))
    return t_interval((b - a)[ok], confidence)


def welch_difference(base, other, confidence: float = 0.95) -> Estimate:
    """CI of mean(other) - mean(base) for independent samples (Welch)."""
    a = np.asarray([v for v in base if not math.isnan(v)], dtype=float)
    b = np.asarray([v for v in other if not math.isnan(v)], dtype=float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1
    diff = float(b.mean() - a.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * se)
    return Estimate(diff, se, min(len(a), len(b)), (diff - half, diff + half))


def significant(e: Estimate) -> bool:
    lo, hi = e.ci95
    return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)
