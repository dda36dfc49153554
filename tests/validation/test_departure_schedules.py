"""What a lane's departure schedule does to a base-stock point, against theory.

A DC with base stock S replenishes one unit per customer unit (Poisson, lambda per day) over a
lane whose transit time T is exponential with mean 3 days.

* ``on_demand``: every unit travels alone with its own transit draw, so lead times are i.i.d.
  and the units on order are Poisson(lambda E[T]) (Palm): one-for-one theory.
* ``daily``: the units ordered during a day wait for the departure at the start of the next day
  and travel together on one transit draw. At a time t = d + u (departure day d, phase u in
  [0, 1)) the units on order are Poisson(lambda u) still waiting plus, for each earlier
  departure j = 0, 1, ... days before d, its whole batch N_j ~ Poisson(lambda) if that batch's
  shared transit exceeds u + j (probability q_j = P(T > u + j)), else nothing. The batches
  are independent, so the distribution of the units on order is a convolution, averaged over
  the phase u (PASTA). The fill rate is P(on order <= S - 1), the expected backorders
  E[(on order - S)+].

The daily answer must differ from one-for-one theory with the same mean lead time (T plus the
half-day wait), so the test tells shared transit draws from the wait alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from supplytwin.analytic import base_stock_backorder
from tests.support.netbuild import single_stage
from tests.validation.test_inventory_theory import (
    LAMBDA,
    assert_in_ci,
    backlog_ci,
    fill_rate_ci,
    run,
)

pytestmark = pytest.mark.validation

MEAN_TRANSIT_DAYS = 3.0
S = 8
#: on the daily lane a higher S, where the extra spread of shared draws shows (near S = lambda
#: E[lead] every distribution of the same mean fills about the same)
S_DAILY = 11
MAX_UNITS = 200  # support of the on-order distribution (P(more) is far below 1e-12 here)


def _batch_pmf(q: float) -> np.ndarray:
    """Units of one departure still travelling: Poisson(lambda) batch with probability q."""
    pmf = q * stats.poisson.pmf(np.arange(MAX_UNITS), LAMBDA)
    pmf[0] += 1.0 - q
    return pmf


def daily_lane_theory(base_stock: int, phases: int = 400) -> tuple[float, float]:
    """(fill rate, expected backorders) of base stock on a daily lane with shared transit."""
    fill = backorders = 0.0
    k = np.arange(MAX_UNITS)
    for u in (np.arange(phases) + 0.5) / phases:
        pmf = stats.poisson.pmf(k, LAMBDA * u)  # ordered since the last departure
        j = 0
        while (q := float(np.exp(-(u + j) / MEAN_TRANSIT_DAYS))) > 1e-13:
            pmf = np.convolve(pmf, _batch_pmf(q))[:MAX_UNITS]
            j += 1
        fill += pmf[:base_stock].sum()
        backorders += (np.maximum(k - base_stock, 0) * pmf).sum()
    return fill / phases, backorders / phases


def test_daily_theory_conserves_probability_and_the_mean():
    # the oracle itself: a distribution, whose mean is what sharing draws does not change,
    # lambda u + lambda sum_j P(T > u + j)
    k = np.arange(MAX_UNITS)
    u = 0.3
    pmf = stats.poisson.pmf(k, LAMBDA * u)
    j = 0
    while (q := float(np.exp(-(u + j) / MEAN_TRANSIT_DAYS))) > 1e-13:
        pmf = np.convolve(pmf, _batch_pmf(q))[:MAX_UNITS]
        j += 1
    expected = LAMBDA * u + LAMBDA * sum(np.exp(-(u + i) / MEAN_TRANSIT_DAYS) for i in range(j))
    assert (k * pmf).sum() == pytest.approx(expected, rel=1e-9)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)


def _scenario(tmp_path, schedule: str, base_stock: int):
    return single_stage(tmp_path, demand_rate=LAMBDA, lead_time="exponential(mean=3)",
                        policy={"policy": "base_stock", "order_up_to_units": base_stock},
                        horizon_days=12_000, initial_dc_units=base_stock, schedule=schedule)


def test_on_demand_lane_gives_one_for_one_theory(tmp_path):
    m = run(_scenario(tmp_path, "on_demand", S))
    theory = base_stock_backorder(S, LAMBDA, MEAN_TRANSIT_DAYS)
    neighbour = base_stock_backorder(S + 1, LAMBDA, MEAN_TRANSIT_DAYS)
    assert_in_ci(fill_rate_ci(m), theory.fill_rate, neighbour.fill_rate)
    assert_in_ci(backlog_ci(m), theory.expected_backorders_units,
                 neighbour.expected_backorders_units)


def test_daily_lane_gives_the_batched_answer(tmp_path):
    m = run(_scenario(tmp_path, "daily", S_DAILY))
    fill, backorders = daily_lane_theory(S_DAILY)
    # the same mean lead time without shared draws: what the daily lane must NOT give
    wait_only = base_stock_backorder(S_DAILY, LAMBDA, MEAN_TRANSIT_DAYS + 0.5)
    assert fill < wait_only.fill_rate - 0.03
    assert_in_ci(fill_rate_ci(m), fill, wait_only.fill_rate)
    assert_in_ci(backlog_ci(m), backorders, wait_only.expected_backorders_units)
