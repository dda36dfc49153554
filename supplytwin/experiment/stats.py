"""Confidence intervals for replicated simulation output, respecting what a KPI can take.

Replication KPIs are i.i.d. across replications. The 95 % interval of a KPI's mean is chosen
from the KPI's range (:func:`kpi_range`, declared once here from the KPI's unit):

* a **rate** in [0, 1] (fill_rate, otif, …) gets a *logit-scale* interval: the delta method
  gives the standard error of logit(mean), se / (m (1 - m)); the Student-t interval on that
  scale is mapped back with the logistic function, so it stays inside (0, 1) and is longer on
  the side away from the nearer bound, as the sampling distribution of a mean near 1 is;
* a **non-negative total** (lost_units, patients_affected, costs, …) gets a *log-scale*
  interval: m · exp(± t · se / m), always above 0 and longer upwards, as the mean of a
  right-skewed total is;
* anything **unbounded** (a difference between two runs) keeps the Student-t interval.

All three are deterministic (no resampling, no random state) and agree with the t interval
when the sample is large and far from a bound. When every replication gives the same value
the interval is that value. The coverage of these intervals is checked by
``tests/validation/test_ci_coverage.py`` and stated in ``docs/kpis.md``.

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

# scipy.special, not scipy.stats: the t quantile is all this module needs, and scipy.stats costs
# about 0.6 s more to import on every `run` and `compare` (stats.t.ppf calls this same stdtrit,
# so the intervals are identical to the last bit; tests/unit/test_t_quantile.py)
from scipy.special import stdtrit


def t_quantile(p: float, df: float) -> float:
    """The Student-t quantile with ``df`` degrees of freedom: ``scipy.stats.t.ppf(p, df)``."""
    if p <= 0.0:  # stdtrit answers +inf at 0; stats.t.ppf's -inf is the quantile
        return -math.inf
    return float(stdtrit(df, p))


#: the range of KPIs measured in a unit; every other KPI unit (units, patients, USD, days,
#: kg CO2e, batches, shipments, site-product-days) is a count, total, cost or time-average,
#: which cannot be negative
RANGE_OF_UNIT: dict[str, tuple[float, float]] = {"fraction": (0.0, 1.0)}
NON_NEGATIVE = (0.0, math.inf)
UNBOUNDED = (-math.inf, math.inf)

#: the interval used for each kind of range (see the module docstring)
METHOD_NAMES = {"logit": "logit-scale t interval (delta method)",
                "log": "log-scale t interval (delta method)",
                "t": "Student t interval"}


def kpi_range(name: str) -> tuple[float, float]:
    """The values KPI ``name`` can take: [0, 1] for a fraction, [0, inf) for every other KPI,
    unbounded for a name that is not a KPI (a difference, a derived number)."""
    from supplytwin.sim.kpis import KPI_DOCS

    if name not in KPI_DOCS:
        return UNBOUNDED
    return RANGE_OF_UNIT.get(KPI_DOCS[name][0], NON_NEGATIVE)


def method_for(bounds: tuple[float, float]) -> str:
    """"logit" for [0, 1], "log" for [0, inf), "t" otherwise."""
    if bounds == (0.0, 1.0):
        return "logit"
    if bounds == NON_NEGATIVE:
        return "log"
    return "t"


@dataclass(frozen=True)
class Estimate:
    mean: float
    sd: float
    n: int
    ci95: tuple[float, float]
    #: how ci95 was computed: "t", "logit" or "log" (see the module docstring)
    method: str = "t"

    @property
    def half_width(self) -> float:
        return (self.ci95[1] - self.ci95[0]) / 2

    def as_dict(self) -> dict:
        return {"mean": self.mean, "sd": self.sd, "ci95": list(self.ci95), "n": self.n,
                "method": self.method}


def t_interval(values, confidence: float = 0.95) -> Estimate:
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    n = len(x)
    if n == 0:
        return Estimate(float("nan"), float("nan"), 0, (float("nan"), float("nan")))
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, float("nan"), 1, (float("nan"), float("nan")))
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return Estimate(mean, sd, n, (mean - half, mean + half))


def logit_interval(values, confidence: float = 0.95) -> Estimate:
    """Interval of the mean of rates in [0, 1] on the logit scale (delta method, Student t)."""
    e = t_interval(values, confidence)
    if e.n < 2 or math.isnan(e.sd):
        return Estimate(e.mean, e.sd, e.n, e.ci95, "logit")
    m, se = e.mean, e.sd / math.sqrt(e.n)
    if se == 0 or not 0 < m < 1:
        return Estimate(m, e.sd, e.n, (m, m), "logit")
    t = t_quantile(0.5 + confidence / 2, e.n - 1)
    centre, half = math.log(m / (1 - m)), t * se / (m * (1 - m))
    return Estimate(m, e.sd, e.n, (_expit(centre - half), _expit(centre + half)), "logit")


def log_interval(values, confidence: float = 0.95) -> Estimate:
    """Interval of the mean of non-negative values on the log scale (delta method, t)."""
    e = t_interval(values, confidence)
    if e.n < 2 or math.isnan(e.sd):
        return Estimate(e.mean, e.sd, e.n, e.ci95, "log")
    m, se = e.mean, e.sd / math.sqrt(e.n)
    if se == 0 or m <= 0:
        return Estimate(m, e.sd, e.n, (m, m), "log")
    t = t_quantile(0.5 + confidence / 2, e.n - 1)
    # min(...): exp of a huge half width must not overflow for a sample that is nearly all 0
    factor = math.exp(min(t * se / m, 700.0))
    return Estimate(m, e.sd, e.n, (m / factor, m * factor), "log")


def _expit(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def interval(values, bounds: tuple[float, float] = UNBOUNDED,
             confidence: float = 0.95) -> Estimate:
    """The interval for a quantity with range ``bounds`` (:func:`method_for`)."""
    method = method_for(bounds)
    if method == "logit":
        return logit_interval(values, confidence)
    if method == "log":
        return log_interval(values, confidence)
    return t_interval(values, confidence)


def kpi_interval(name: str, values, confidence: float = 0.95) -> Estimate:
    """The interval of KPI ``name``'s mean over replications, within the KPI's range."""
    return interval(values, kpi_range(name), confidence)


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
    half = t_quantile(0.5 + confidence / 2, df) * se
    return Estimate(diff, se, min(len(a), len(b)), (diff - half, diff + half))


def significant(e: Estimate) -> bool:
    lo, hi = e.ci95
    return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)
