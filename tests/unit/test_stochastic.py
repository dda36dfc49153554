"""Distributions: sampled moments match the analytic ones; parsing is strict; streams are CRN."""

import math

import numpy as np
import pytest

from supplytwin.stochastic import DistributionError, RandomStreams, parse_distribution

pytestmark = pytest.mark.unit

CASES = [
    "fixed(3)",
    "exponential(mean=2)",
    "uniform(2, 5)",
    "triangular(2, 3, 6)",
    "normal(mean=10, sd=2)",
    "lognormal(mean=5, cv=0.4)",
    "gamma(mean=5, cv=0.5)",
    "poisson(mean=4)",
    "weibull(shape=1.5, scale=10)",
]


@pytest.mark.parametrize("text", CASES)
def test_sample_mean_matches_analytic_mean(text):
    dist = parse_distribution(text)
    rng = np.random.default_rng(7)
    n = 40_000
    x = np.array([dist.sample(rng) for _ in range(n)])
    se = math.sqrt(dist.variance / n)
    # 4.5 standard errors: a wrong mean formula or parametrisation (e.g. lognormal mu=log(mean))
    # would miss by far more than this
    assert abs(x.mean() - dist.mean) <= 4.5 * se + 1e-12
    if dist.variance > 0:
        assert x.var() == pytest.approx(dist.variance, rel=0.05)


def test_lognormal_is_parametrised_by_its_own_mean_and_cv():
    d = parse_distribution("lognormal(mean=5, cv=0.4)")
    x = d.sample_n(np.random.default_rng(1), 200_000)
    assert x.mean() == pytest.approx(5, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(0.4, rel=0.02)


def test_text_round_trips():
    for text in CASES:
        assert str(parse_distribution(str(parse_distribution(text)))) == str(parse_distribution(text))


def test_bare_number_is_fixed():
    assert parse_distribution("2.5").mean == 2.5
    assert parse_distribution(4).variance == 0


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("lognormal(mean=5)", "needs cv"),
        ("triangular(5, 3, 6)", "low <= mode <= high"),
        ("lognorm(2)", "unknown distribution"),
        ("weibull(2)", "needs scale"),
        ("weibull(shape=0.01, scale=3)", "shape must be between"),
        ("fixed(-1)", ">= 0"),
        ("uniform(1, 2, 3)", "takes 2 arguments"),
        ("normal(mean=1, sd=3)", "lognormal"),
        ("exponential(mean=__import__('os'))", "plain numbers"),
        ("fixed(1e999)", "finite"),
        ("nan", "finite"),
        ("lognormal mean 5", "cannot read"),
        ("", "empty"),
    ],
)
def test_bad_text_gives_a_readable_reason(bad, reason):
    with pytest.raises(DistributionError, match=reason):
        parse_distribution(bad)


def test_empirical_reads_first_numeric_column(tmp_path):
    f = tmp_path / "lt.csv"
    f.write_text("lead_time_days,x\n2,a\n4,b\n6,c\n")
    d = parse_distribution("empirical(lt.csv)", tmp_path)
    assert d.mean == 4
    assert set(d.sample_n(np.random.default_rng(0), 50)) <= {2.0, 4.0, 6.0}


def test_streams_are_reproducible_and_keyed_by_name_not_order():
    a = RandomStreams(42, replication=3)
    b = RandomStreams(42, replication=3)
    x1 = a.get("demand", "C1").random(5)
    b.get("transit", "L9").random(100)  # another stream drawn first must not shift C1's draws
    x2 = b.get("demand", "C1").random(5)
    assert np.array_equal(x1, x2)


def test_streams_differ_by_name_replication_and_seed():
    base = RandomStreams(42, 0).get("demand", "C1").random(4)
    assert not np.array_equal(base, RandomStreams(42, 0).get("demand", "C2").random(4))
    assert not np.array_equal(base, RandomStreams(42, 1).get("demand", "C1").random(4))
    assert not np.array_equal(base, RandomStreams(43, 0).get("demand", "C1").random(4))


def test_empirical_refuses_a_file_too_large_to_be_a_sample(tmp_path, monkeypatch):
    from supplytwin.stochastic import distributions

    (tmp_path / "big.csv").write_text("days\n" + "1.5\n" * 2000)
    monkeypatch.setattr(distributions, "EMPIRICAL_MAX_BYTES", 1000)
    with pytest.raises(DistributionError, match="larger than"):
        parse_distribution("empirical(big.csv)", tmp_path)
    monkeypatch.setattr(distributions, "EMPIRICAL_MAX_BYTES", 1_000_000)
    assert parse_distribution("empirical(big.csv)", tmp_path).mean == pytest.approx(1.5)
