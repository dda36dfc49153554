"""Block draws give the same numbers, in the same order, as one draw at a time.

The simulator draws a lane's transit times 256 at a time (``supplytwin.sim.draws``); that is
only a speed change if numpy's array draws equal its scalar draws from the same generator
state. Checked for every distribution kind, against scalar draws from a second generator
seeded alike, across more than one block (the refill must continue the stream, not restart it).
"""

from __future__ import annotations

import numpy as np
import pytest

from supplytwin.sim.draws import block_sampler
from supplytwin.stochastic.distributions import parse_distribution

pytestmark = pytest.mark.unit

KINDS = ["fixed(3)", "exponential(mean=2)", "uniform(2, 5)", "triangular(1, 1.5, 3)",
         "triangular(2, 2, 2)", "normal(mean=10, sd=2)", "lognormal(mean=8, cv=1)",
         "gamma(mean=5, cv=0.5)", "weibull(shape=1.5, scale=4)", "poisson(mean=4)"]


@pytest.mark.parametrize("text", KINDS)
def test_block_draws_equal_scalar_draws(text):
    dist = parse_distribution(text)
    block = block_sampler(dist, np.random.default_rng(2026), n=7)  # several refills below
    scalar_rng = np.random.default_rng(2026)
    for i in range(50):
        a, b = block(), dist.sample(scalar_rng)
        assert a == b, f"draw {i} of {text}: block {a!r} != scalar {b!r}"
        assert type(a) is float or text.startswith("fixed"), type(a)


def test_scaled_and_empirical_fall_back_to_scalar_draws(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("days\n1.5\n2\n7\n3.25\n")
    for dist in (parse_distribution("empirical(t.csv)", tmp_path),
                 parse_distribution("triangular(1, 2, 4)").scaled(1.5)):
        block = block_sampler(dist, np.random.default_rng(5), n=3)
        rng = np.random.default_rng(5)
        assert [block() for _ in range(10)] == [dist.sample(rng) for _ in range(10)]


def test_blocks_do_not_touch_other_generators():
    # the sampler reads only its own stream: another generator's sequence is unaffected
    other = np.random.default_rng(9)
    expected = np.random.default_rng(9).random(5).tolist()
    block = block_sampler(parse_distribution("triangular(1, 2, 4)"), np.random.default_rng(1))
    [block() for _ in range(600)]
    assert other.random(5).tolist() == expected
