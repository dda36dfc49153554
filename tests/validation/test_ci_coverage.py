"""Coverage of the range-respecting confidence intervals (supplytwin.experiment.stats).

A nominal 95 % interval must contain the true mean in about 95 % of repeated experiments. The
true mean is known here because the replications are drawn from a distribution we chose,
shaped like the KPI: per-replication fill rates near 0.99 (a Beta distribution, skewed towards
1) and right-skewed non-negative totals (a Gamma distribution), each with 10 replications per
experiment, as a planner runs. With 4,000 experiments the Monte-Carlo standard error of a
coverage of 0.95 is 0.0034, so the accepted band 0.93–0.97 is almost 6 standard errors wide
on each side: a correct method passes, a method that covers 90 % fails.

A smaller check uses the simulator itself: a pool of replications of the tiny network with a
plant outage, subsamples of 5 replications, coverage of the pool's mean.
"""

from __future__ import annotations

import numpy as np
import pytest

from supplytwin.experiment.stats import kpi_interval, t_interval

pytestmark = pytest.mark.validation

EXPERIMENTS = 4000
N = 10


def coverage(samples: np.ndarray, true_mean: float, kpi: str) -> tuple[float, np.ndarray]:
    cis = np.array([kpi_interval(kpi, row).ci95 for row in samples])
    return float(np.mean((cis[:, 0] <= true_mean) & (true_mean <= cis[:, 1]))), cis


def test_fill_rate_near_099_with_10_replications_covers_95_percent():
    rng = np.random.default_rng(20261201)
    mean, sd = 0.99, 0.004
    k = mean * (1 - mean) / sd**2 - 1
    samples = rng.beta(mean * k, (1 - mean) * k, size=(EXPERIMENTS, N))
    cov, cis = coverage(samples, mean, "fill_rate")
    assert 0.93 <= cov <= 0.97, cov
    assert (cis[:, 0] >= 0).all() and (cis[:, 1] <= 1).all()  # never outside what it can take


def test_non_negative_total_with_10_replications_covers_95_percent():
    rng = np.random.default_rng(7)
    shape, scale = 2.0, 150.0  # coefficient of variation 0.71: lost units in a bad year
    samples = rng.gamma(shape, scale, size=(EXPERIMENTS, N))
    cov, cis = coverage(samples, shape * scale, "lost_units")
    assert 0.93 <= cov <= 0.97, cov
    assert (cis[:, 0] >= 0).all()


def test_rare_losses_never_give_a_negative_lower_bound():
    # the case: most replications lose nothing, one loses a lot
    values = [0, 0, 0, 0, 0, 0, 0, 0, 0, 870.0]
    assert t_interval(values).ci95[0] < 0
    lo, hi = kpi_interval("lost_units", values).ci95
    assert 0 < lo < 87 < hi
    assert kpi_interval("lost_units", [0.0] * 5).ci95 == (0.0, 0.0)
    # the fill rate [99.58 %, 100.20 %]: t passes 100 %, the logit interval cannot
    rates = [1.0, 1.0, 0.985, 1.0, 1.0]
    assert t_interval(rates).ci95[1] > 1
    lo, hi = kpi_interval("fill_rate", rates).ci95
    assert 0.95 < lo < 0.997 < hi < 1
    assert kpi_interval("fill_rate", [1.0] * 5).ci95 == (1.0, 1.0)


def test_simulated_tiny_network_intervals_cover_the_pool_mean():
    from pathlib import Path

    from supplytwin.experiment import run_experiment
    from supplytwin.scenario import load_scenario

    tiny = Path(__file__).resolve().parents[2] / "scenarios" / "tiny.yaml"
    outage = ("disruptions=[{disruption_id: o, kind: site_outage, site_id: PLANT, "
              "start_day: 30, duration_days: 30}]")
    sc = load_scenario(tiny, [outage])
    pool = run_experiment(sc, 60, seed=11).kpi_table()
    rng = np.random.default_rng(3)
    for kpi in ("fill_rate", "otif", "backordered_units", "cost_total_usd"):
        values = pool[kpi].to_numpy()
        picks = np.array([rng.choice(values, 5, replace=False) for _ in range(1500)])
        cov, _ = coverage(picks, float(values.mean()), kpi)
        # 5 of 60 replications per experiment; a looser band than above: the pool is small
        assert 0.91 <= cov <= 0.99, (kpi, cov)
