"""Closed-form and exact numerical oracles for validating the simulator.

The simulation validation tests run small configurations whose steady-state behaviour is
known exactly and compare simulated statistics with the values computed here. Everything in
this package is a pure function of its arguments (numpy/scipy only, no random state), and
units are part of the argument names (``demand_rate_per_day``, ``lead_time_days``).

:mod:`supplytwin.analytic.queues`
    Erlang B (loss), Erlang C (delay) and M/M/c waiting times:
    :func:`erlang_b`, :func:`erlang_c`, :func:`mmc_mean_wait`, :func:`mmc_wait_cdf`.

:mod:`supplytwin.analytic.inventory`
    Single-stage stock points with unit-sized Poisson demand: base stock with backorders
    (Palm's theorem: any i.i.d. crossing lead-time distribution) and with lost sales
    (Erlang loss), continuous-review (r, Q) and (s, S), periodic-review (R, S); each returns a
    frozen dataclass (``fill_rate``, ``expected_backorders_units``,
    ``expected_on_hand_units``, ...). Poisson loss functions :func:`poisson_loss` and
    :func:`poisson_second_order_loss` are exported as building blocks.

The module docstrings give the derivations, their assumptions and the literature.
"""

from supplytwin.analytic.inventory import (
    IID_LEAD_TIME_DISTRIBUTIONS,
    BaseStockBackorderMetrics,
    BaseStockLostSalesMetrics,
    ContinuousReviewMetrics,
    PeriodicReviewMetrics,
    base_stock_backorder,
    base_stock_lost_sales,
    cycle_service_level,
    periodic_RS_poisson,
    poisson_loss,
    poisson_second_order_loss,
    rq_poisson,
    sS_poisson,
)
from supplytwin.analytic.queues import erlang_b, erlang_c, mmc_mean_wait, mmc_wait_cdf

__all__ = [
    "IID_LEAD_TIME_DISTRIBUTIONS",
    "BaseStockBackorderMetrics",
    "BaseStockLostSalesMetrics",
    "ContinuousReviewMetrics",
    "PeriodicReviewMetrics",
    "base_stock_backorder",
    "base_stock_lost_sales",
    "cycle_service_level",
    "erlang_b",
    "erlang_c",
    "mmc_mean_wait",
    "mmc_wait_cdf",
    "periodic_RS_poisson",
    "poisson_loss",
    "poisson_second_order_loss",
    "rq_poisson",
    "sS_poisson",
]
