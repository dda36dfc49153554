"""Transit-time fitting: parameters recovered from samples of known laws, AIC picks the law that
made the data, and the bootstrap goodness-of-fit test has its nominal size and real power."""

import math

import numpy as np
import pytest
from scipy import stats

from supplytwin.calibrate.fitting import MIN_OBSERVATIONS, fit_family, fit_transit_times
from supplytwin.stochastic import parse_distribution

pytestmark = pytest.mark.unit

LAWS = {
    "lognormal": stats.lognorm(s=0.5, scale=math.exp(2.0)),   # mean 8.37, cv 0.53
    "gamma": stats.gamma(a=3.0, scale=4.0),                   # mean 12, cv 0.58
    "weibull": stats.weibull_min(c=2.5, scale=10.0),          # mean 8.87
    "exponential": stats.expon(scale=6.0),
}


@pytest.mark.parametrize("family", sorted(LAWS))
def test_mle_recovers_mean_and_sd_and_the_text_parses_to_the_same_law(family):
    law = LAWS[family]
    x = law.rvs(size=4000, random_state=np.random.default_rng(11))
    fit = fit_family(family, x)
    dist = parse_distribution(fit.text)  # what a scenario would read
    # sampling error of the mean at n=4000 is < 1.6 %; of the sd < 3 %
    assert dist.mean == pytest.approx(law.mean(), rel=0.05)
    assert math.sqrt(dist.variance) == pytest.approx(law.std(), rel=0.08)
    assert fit.quantiles["p50"] == pytest.approx(law.median(), rel=0.05)


@pytest.mark.parametrize("family", ["lognormal", "gamma", "weibull"])
def test_aic_chooses_the_law_that_made_the_data(family):
    rng = np.random.default_rng(3)
    hits = sum(fit_transit_times(LAWS[family].rvs(size=1500, random_state=rng), rng,
                                 gof_samples=0)[0].family == family for _ in range(10))
    assert hits >= 8


def test_bootstrap_gof_has_its_size_under_the_null_and_power_against_a_wrong_law():
    rng = np.random.default_rng(5)
    p_null = [fit_transit_times(LAWS["gamma"].rvs(size=150, random_state=rng), rng,
                                families=("gamma",), gof_samples=99)[0].gof_p_value
              for _ in range(30)]
    # under the null the p-value is uniform: P(p < 0.05) = 5 %; 30 draws, 5+ rejections has
    # probability < 2 % when the test is right (a plain KS p-value would almost never reject)
    assert sum(p < 0.05 for p in p_null) <= 4
    assert 0.3 < float(np.mean(p_null)) < 0.7
    # a two-humped history (a direct lane and a transhipment lane mixed): no family fits
    x = np.concatenate([rng.normal(10, 1, 300), rng.normal(30, 2, 300)])
    best = fit_transit_times(x, rng, gof_samples=99)[0]
    assert best.gof_p_value < 0.02


def test_too_few_or_non_positive_observations_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least"):
        fit_transit_times(np.ones(MIN_OBSERVATIONS - 1) * 3, rng)
    with pytest.raises(ValueError, match="> 0"):
        fit_transit_times(np.r_[np.ones(30), 0.0], rng)
