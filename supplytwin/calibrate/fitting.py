"""Fitting transit-time distributions: maximum likelihood, AIC, and a goodness-of-fit test.

Candidate families are those a scenario can state (:mod:`supplytwin.stochastic`): lognormal,
gamma, Weibull and exponential, all on (0, inf) with no shift. Each is fitted by maximum
likelihood; the family with the smallest AIC = 2k - 2 log L is chosen (Burnham & Anderson,
*Model Selection and Multimodel Inference*, 2002).

Choosing by AIC says which family is *best*, not that it is *good*. The chosen fit is tested with
the Kolmogorov-Smirnov statistic; because the parameters were estimated from the same data, the
classical KS p-value is far too lenient, so the p-value comes from a parametric bootstrap:
samples of the same size are drawn from the fitted law, refitted, and their KS statistics form
the null distribution (Lilliefors' idea; Stute, Manteiga & Quindimil, *Metrika* 40, 1993).
A small p-value means the data are unlikely under the fitted family: the report says so rather
than hide it. With thousands of observations even small misfits are detected; the fitted-vs-
empirical quantile plot shows whether the misfit matters.

Every random draw comes from the generator passed in: no global random state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

#: families a transit time may be fitted with, in the order reports list them
FAMILIES = ("lognormal", "gamma", "weibull", "exponential")
#: fewest observations for which a fit is attempted
MIN_OBSERVATIONS = 20


@dataclass(frozen=True)
class Fit:
    """One family fitted to one sample."""

    family: str
    params: dict[str, float]
    n: int
    log_likelihood: float
    aic: float
    #: the distribution as a scenario writes it, e.g. ``lognormal(mean=5.2, cv=0.41)``
    text: str
    ks_statistic: float = math.nan
    #: parametric-bootstrap p-value of the KS statistic (nan when not tested)
    gof_p_value: float = math.nan
    quantiles: dict[str, float] = field(default_factory=dict)

    def frozen(self):
        """The fitted law as a frozen :mod:`scipy.stats` distribution."""
        return frozen_law(self.family, self.params)

    def as_dict(self) -> dict:
        return {"family": self.family, "params": self.params, "n": self.n,
                "log_likelihood": self.log_likelihood, "aic": self.aic, "distribution": self.text,
                "ks_statistic": self.ks_statistic, "gof_p_value": self.gof_p_value,
                "quantiles": self.quantiles}


def frozen_law(family: str, p: dict[str, float]):
    if family == "lognormal":
        return stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"]))
    if family == "gamma":
        return stats.gamma(a=p["shape"], scale=p["scale"])
    if family == "weibull":
        return stats.weibull_min(c=p["shape"], scale=p["scale"])
    if family == "exponential":
        return stats.expon(scale=p["mean"])
    raise ValueError(family)


def _g(x: float) -> str:
    return f"{x:.4g}"


def _text(family: str, p: dict[str, float]) -> str:
    """The scenario's way of writing the fitted law (see ``stochastic.parse_distribution``)."""
    if family == "lognormal":
        mean = math.exp(p["mu"] + p["sigma"] ** 2 / 2)
        cv = math.sqrt(math.expm1(p["sigma"] ** 2))
        return f"lognormal(mean={_g(mean)}, cv={_g(cv)})"
    if family == "gamma":
        return f"gamma(mean={_g(p['shape'] * p['scale'])}, cv={_g(1 / math.sqrt(p['shape']))})"
    if family == "weibull":
        return f"weibull(shape={_g(p['shape'])}, scale={_g(p['scale'])})"
    return f"exponential(mean={_g(p['mean'])})"


def _mle(family: str, x: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood parameters (closed form where there is one)."""
    if family == "lognormal":
        lx = np.log(x)
        return {"mu": float(lx.mean()), "sigma": float(max(lx.std(), 1e-9))}
    if family == "exponential":
        return {"mean": float(x.mean())}
    if family == "gamma":
        # the shape solves log(a) - digamma(a) = log(mean) - mean(log x) (Choi & Wette 1969)
        s = math.log(x.mean()) - float(np.log(x).mean())
        if s <= 1e-12:
            a = 1e6
        else:
            a0 = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)  # Minka's start
            a = optimize.brentq(lambda a: math.log(a) - special.digamma(a) - s,
                                a0 / 20, a0 * 20 + 1.0)
        return {"shape": float(a), "scale": float(x.mean() / a)}
    if family == "weibull":
        c, _loc, scale = stats.weibull_min.fit(x, floc=0)
        return {"shape": float(c), "scale": float(scale)}
    raise ValueError(family)


_K = {"lognormal": 2, "gamma": 2, "weibull": 2, "exponential": 1}


def fit_family(family: str, x: np.ndarray) -> Fit:
    x = np.asarray(x, dtype=float)
    params = _mle(family, x)
    law = frozen_law(family, params)
    ll = float(np.sum(law.logpdf(x)))
    q = {f"p{int(p * 100)}": float(law.ppf(p)) for p in (0.05, 0.1, 0.5, 0.9, 0.95)}
    return Fit(family, params, len(x), ll, 2 * _K[family] - 2 * ll, _text(family, params),
               quantiles=q)


def ks_statistic(x: np.ndarray, law) -> float:
    return float(stats.kstest(x, law.cdf).statistic)


def bootstrap_ks_p_value(fit: Fit, x: np.ndarray, rng: np.random.Generator,
                         samples: int = 199) -> tuple[float, float]:
    """(KS statistic, parametric-bootstrap p-value) of ``fit`` on ``x``."""
    law = fit.frozen()
    observed = ks_statistic(x, law)
    n = len(x)
    exceed = 0
    for _ in range(samples):
        y = law.rvs(size=n, random_state=rng)
        y = y[y > 0]
        if len(y) < MIN_OBSERVATIONS:
            continue
        refit = fit_family(fit.family, y)
        if ks_statistic(y, refit.frozen()) >= observed:
            exceed += 1
    return observed, (exceed + 1) / (samples + 1)


def fit_transit_times(x, rng: np.random.Generator, *, families=FAMILIES,
                      gof_samples: int = 199) -> list[Fit]:
    """Every family fitted to ``x`` (positive days), best AIC first; the best one carries its
    goodness-of-fit test. Raises ValueError below :data:`MIN_OBSERVATIONS` observations."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < MIN_OBSERVATIONS:
        raise ValueError(f"{len(x)} observations; at least {MIN_OBSERVATIONS} are needed")
    if np.any(x <= 0):
        raise ValueError("transit times must be > 0")
    if np.ptp(x) <= 1e-9 * x.mean():
        raise ValueError(f"all {len(x)} observations are {x[0]:g} days: write fixed({x[0]:g})")
    fits = sorted((fit_family(f, x) for f in families), key=lambda f: f.aic)
    best = fits[0]
    ks, p = bootstrap_ks_p_value(best, x, rng, gof_samples) if gof_samples else (
        ks_statistic(x, best.frozen()), math.nan)
    fits[0] = Fit(best.family, best.params, best.n, best.log_likelihood, best.aic, best.text,
                  ks, p, best.quantiles)
    return fits
