"""Tests for supplytwin.analytic: the closed-form oracles checked against independent values.

Expected values come from (a) published textbook numbers, (b) hand derivations written out in
the test with ``math``/``fractions`` (not through the code under test), (c) structural
identities, (d) brute force: an independently solved CTMC or a seeded Monte Carlo simulation
whose tolerance is a multiple of its batch-means standard error.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from collections import deque
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln, logsumexp
from scipy.stats import poisson

from supplytwin.analytic import (
    IID_LEAD_TIME_DISTRIBUTIONS,
    base_stock_backorder,
    base_stock_lost_sales,
    cycle_service_level,
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    mmc_wait_cdf,
    periodic_RS_poisson,
    poisson_loss,
    poisson_second_order_loss,
    rq_poisson,
    sS_poisson,
)

pytestmark = pytest.mark.unit

E = math.e
Z_TOL = 4.5  # Monte Carlo tolerance in standard errors (seeded, so deterministic anyway)


# --------------------------------------------------------------------------- independent helpers


def erlang_b_direct(c: int, a: Fraction) -> Fraction:
    """Textbook definition (a^c/c!) / sum_k a^k/k!, exact rational arithmetic."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def erlang_c_direct(c: int, a: Fraction) -> Fraction:
    """Textbook M/M/c P(wait) (Gross et al. eq. 2.35 form), exact rational arithmetic."""
    top = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def loss_bruteforce(y: int, m: float, order: int = 1) -> float:
    """E[(D-y)^+] (order 1) or E[(D-y)^+ (D-y-1)^+]/2 (order 2) by a long truncated sum."""
    kmax = int(m + 40 * math.sqrt(m + 1) + abs(y) + 60)
    k = np.arange(0, kmax + 1)
    pk = poisson.pmf(k, m)
    x = np.maximum(k - y, 0).astype(float)
    if order == 1:
        return float(np.sum(x * pk))
    return float(np.sum(x * np.maximum(x - 1, 0) * pk) / 2)


def batch_stats(values: np.ndarray) -> tuple[float, float]:
    """Mean of batch means and its standard error."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def simulate_inventory_level(
    demand_times: np.ndarray,
    arrival_times: np.ndarray,
    arrival_qty: np.ndarray,
    initial_level: int,
    t_start: float,
    t_end: float,
    n_batches: int = 25,
):
    """Replay unit demands and replenishment arrivals (backorders allowed).

    Returns per-batch arrays (fill rate, time-average on hand, time-average backorders) over
    ``n_batches`` equal time windows in [t_start, t_end). A demand is filled iff the inventory
    level just before it is >= 1.
    """
    times = np.concatenate([demand_times, arrival_times])
    deltas = np.concatenate([-np.ones(len(demand_times)), np.asarray(arrival_qty, float)])
    is_demand = np.concatenate(
        [np.ones(len(demand_times), bool), np.zeros(len(arrival_times), bool)]
    )
    # arrivals before demands at equal times (never happens with continuous time, but be safe)
    order = np.lexsort((is_demand, times))
    times, deltas, is_demand = times[order], deltas[order], is_demand[order]
    level_after = initial_level + np.cumsum(deltas)
    level_before = level_after - deltas

    assert times[0] < t_start < t_end <= times[-1]
    edges = np.linspace(t_start, t_end, n_batches + 1)
    fills, on_hand, backorders = [], [], []
    for lo, hi in itertools.pairwise(edges):
        d = is_demand & (times >= lo) & (times < hi)
        fills.append(np.mean(level_before[d] >= 1))
        # level is piecewise constant: level_after[i] on [times[i], times[i+1])
        seg_start = np.clip(times, lo, hi)
        seg_end = np.clip(np.append(times[1:], np.inf), lo, hi)
        dur = seg_end - seg_start
        width = hi - lo
        # (the last event before lo is clipped to start at lo, so it covers the window's start)
        on_hand.append(np.sum(np.maximum(level_after, 0) * dur) / width)
        backorders.append(np.sum(np.maximum(-level_after, 0) * dur) / width)
    return np.array(fills), np.array(on_hand), np.array(backorders)


def assert_mc(values: np.ndarray, exact: float, max_se: float) -> None:
    est, se = batch_stats(values)
    assert se < max_se, f"Monte Carlo too noisy to be informative: se={se}"
    assert abs(est - exact) <= Z_TOL * se + 1e-12, f"MC {est} +- {se} vs exact {exact}"


# =========================================================================== queues


def test_erlang_b_published_value():
    # Erlang B with 10 servers, 5 Erlang: 0.018385 (standard Erlang B tables).
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-7)


def test_erlang_b_small_closed_forms():
    assert erlang_b(0, 3.7) == 1.0
    for a in (0.0, 0.3, 1.0, 7.5):
        assert erlang_b(1, a) == pytest.approx(a / (1 + a), rel=1e-14)
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-14)  # (1/2)/(1+1+1/2)
    assert erlang_b(5, 0.0) == 0.0


@pytest.mark.parametrize("c", [1, 2, 3, 7, 15, 30])
@pytest.mark.parametrize(
    "a", [Fraction(1, 10), Fraction(1), Fraction(5, 2), Fraction(12), Fraction(40)]
)
def test_erlang_b_matches_factorial_definition(c, a):
    assert erlang_b(c, float(a)) == pytest.approx(float(erlang_b_direct(c, a)), rel=1e-12)


def test_erlang_b_large_system_is_stable():
    # c! overflows a float beyond c = 170; compare with a log-space evaluation of the definition.
    c, a = 2000, 1950.0
    k = np.arange(c + 1)
    log_terms = k * math.log(a) - gammaln(k + 1)
    expected = math.exp(log_terms[-1] - logsumexp(log_terms))
    assert erlang_b(c, a) == pytest.approx(expected, rel=1e-9)
    assert 0.0 < erlang_b(c, a) < 1.0


def test_erlang_c_closed_forms():
    for rho in (0.0, 0.25, 0.5, 0.9, 0.99):
        assert erlang_c(1, rho) == pytest.approx(rho, abs=1e-15)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-14)
    for rho in (0.1, 0.5, 0.8):  # M/M/2: P(wait) = 2 rho^2 / (1 + rho)
        assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-13)


@pytest.mark.parametrize(
    "c,a",
    [
        (1, Fraction(1, 2)),
        (3, Fraction(2)),
        (5, Fraction(9, 2)),
        (10, Fraction(8)),
        (25, Fraction(20)),
    ],
)
def test_erlang_c_matches_textbook_formula(c, a):
    assert erlang_c(c, float(a)) == pytest.approx(float(erlang_c_direct(c, a)), rel=1e-12)


def test_erlang_c_unstable_and_invalid():
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c(3, 10.0) == 1.0
    with pytest.raises(ValueError):
        erlang_c(0, 0.5)
    with pytest.raises(ValueError):
        erlang_b(3, -1.0)
    with pytest.raises(TypeError):
        erlang_b(2.5, 1.0)


def test_mm1_mean_wait():
    lam, mu = 0.8, 1.0
    rho = lam / mu
    assert mmc_mean_wait(lam, mu, 1) == pytest.approx(rho / (mu - lam), rel=1e-13)  # = 4
    assert mmc_mean_wait(3.0, 5.0, 1) == pytest.approx(0.6 / 2.0, rel=1e-13)


def test_mm2_mean_wait():
    # M/M/2: Lq = 2 rho^3 / (1 - rho^2), Wq = Lq / lambda = rho^2 / (mu (1 - rho^2)).
    mu = 2.0
    for rho in (0.2, 0.6, 0.95):
        lam = 2 * rho * mu
        assert mmc_mean_wait(lam, mu, 2) == pytest.approx(rho**2 / (mu * (1 - rho**2)), rel=1e-12)


def test_mmc_unstable_raises():
    with pytest.raises(ValueError, match="unstable"):
        mmc_mean_wait(3.0, 1.0, 3)
    with pytest.raises(ValueError, match="unstable"):
        mmc_wait_cdf(1.0, 5.0, 1.0, 2)
    with pytest.raises(ValueError):
        mmc_mean_wait(1.0, 0.0, 3)


@pytest.mark.parametrize("c,lam,mu", [(1, 0.7, 1.0), (3, 2.4, 1.0), (8, 6.5, 1.0), (20, 15.0, 0.9)])
def test_mmc_against_numerically_solved_ctmc(c, lam, mu):
    # Brute force: generator matrix of the birth-death chain truncated at N, pi Q = 0 by lstsq.
    n_states = 400
    q = np.zeros((n_states, n_states))
    for n in range(n_states):
        if n + 1 < n_states:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = min(n, c) * mu
        q[n, n] = -q[n].sum()
    lhs = np.vstack([q.T, np.ones(n_states)])
    rhs = np.zeros(n_states + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    n = np.arange(n_states)
    p_wait = pi[n >= c].sum()
    lq = np.sum(np.maximum(n - c, 0) * pi)
    assert erlang_c(c, lam / mu) == pytest.approx(p_wait, rel=1e-8)
    assert mmc_mean_wait(lam, mu, c) == pytest.approx(lq / lam, rel=1e-8)  # Little: Wq = Lq/lam
    # P(Wq <= 0) is the probability of not waiting
    assert mmc_wait_cdf(0.0, lam, mu, c) == pytest.approx(1 - p_wait, rel=1e-8)


def test_mm1_wait_cdf_and_shapes():
    lam, mu = 0.6, 1.0
    rho = lam / mu
    ts = np.array([-1.0, 0.0, 0.5, 2.0, 10.0, np.inf])
    got = mmc_wait_cdf(ts, lam, mu, 1)
    expected = np.where(ts < 0, 0.0, 1 - rho * np.exp(-(mu - lam) * np.maximum(ts, 0)))
    assert isinstance(got, np.ndarray) and got.shape == ts.shape
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    assert isinstance(mmc_wait_cdf(1.0, lam, mu, 1), float)
    assert mmc_wait_cdf(np.zeros((2, 3)), lam, mu, 1).shape == (2, 3)


def test_mmc_wait_cdf_integrates_to_mean():
    # E[Wq] = int_0^inf P(Wq > t) dt
    lam, mu, c = 4.2, 1.1, 5
    tail_area, _ = integrate.quad(lambda t: 1 - mmc_wait_cdf(t, lam, mu, c), 0, np.inf)
    assert tail_area == pytest.approx(mmc_mean_wait(lam, mu, c), rel=1e-8)


def test_mmc_wait_distribution_monte_carlo():
    # FCFS M/M/3 simulated customer by customer (server with the earliest free time serves next).
    rng = np.random.default_rng(20240611)
    lam, mu, c, n = 2.1, 1.0, 3, 120_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    services = rng.exponential(1 / mu, n)
    free = [0.0] * c
    waits = np.empty(n)
    for i in range(n):
        f = heapq.heappop(free)
        start = max(arrivals[i], f)
        waits[i] = start - arrivals[i]
        heapq.heappush(free, start + services[i])
    w = waits[5_000:].reshape(25, -1)
    assert_mc(w.mean(axis=1), mmc_mean_wait(lam, mu, c), max_se=0.02)
    assert_mc((w > 0).mean(axis=1), erlang_c(c, lam / mu), max_se=0.01)
    assert_mc((w <= 1.0).mean(axis=1), mmc_wait_cdf(1.0, lam, mu, c), max_se=0.01)


# =========================================================================== Poisson loss functions


@pytest.mark.parametrize("m", [0.0, 0.3, 1.0, 4.5, 25.0, 120.0])
def test_poisson_loss_functions_against_truncated_sums(m):
    ys = list(range(-5, int(m + 6 * math.sqrt(m + 1)) + 8, 1 if m < 30 else 7))
    got1 = poisson_loss(np.array(ys), m)
    got2 = poisson_second_order_loss(np.array(ys), m)
    for y, g1, g2 in zip(ys, got1, got2, strict=True):
        assert g1 == pytest.approx(loss_bruteforce(y, m, 1), rel=1e-10, abs=1e-13)
        assert g2 == pytest.approx(loss_bruteforce(y, m, 2), rel=1e-9, abs=1e-11)
    assert isinstance(poisson_loss(3, m), float)
    assert poisson_loss(0, m) == pytest.approx(m, abs=1e-14)  # E[D]
    assert poisson_second_order_loss(0, m) == pytest.approx(m * m / 2, rel=1e-13, abs=1e-15)


def test_poisson_loss_rejects_non_integer_levels():
    with pytest.raises(ValueError):
        poisson_loss(1.5, 2.0)


# =========================================================================== base stock, backorders


def test_base_stock_zero_stock():
    res = base_stock_backorder(0, 2.0, 3.0)
    assert res.fill_rate == 0.0
    assert res.ready_rate == 0.0
    assert res.stockout_probability == 1.0
    assert res.expected_on_hand_units == 0.0
    assert res.expected_backorders_units == pytest.approx(6.0, rel=1e-14)  # all of lambda*L
    assert res.expected_customer_wait_days == pytest.approx(3.0, rel=1e-14)  # everyone waits L


def test_base_stock_hand_computed():
    # lambda*L = 2, S = 3. P(D<=2) = e^-2 (1 + 2 + 2) = 5 e^-2;
    # E[(D-3)^+] = (m - 3) + E[(3-D)^+] = -1 + (3 p0 + 2 p1 + p2) = 9 e^-2 - 1.
    res = base_stock_backorder(3, demand_rate_per_day=0.5, lead_time_days=4.0)
    assert res.fill_rate == pytest.approx(5 * E**-2, rel=1e-13)
    assert res.stockout_probability == pytest.approx(1 - 5 * E**-2, rel=1e-13)
    assert res.expected_backorders_units == pytest.approx(9 * E**-2 - 1, rel=1e-12)
    assert res.expected_on_hand_units == pytest.approx(9 * E**-2, rel=1e-12)
    assert res.expected_on_order_units == pytest.approx(2.0)
    assert res.expected_customer_wait_days == pytest.approx((9 * E**-2 - 1) / 0.5, rel=1e-12)


def test_base_stock_identities_and_monotonicity():
    lam, lead = 1.7, 2.3
    prev_fill = -1.0
    for s in range(15):
        res = base_stock_backorder(s, lam, lead)
        # IL = S - D_L  =>  E[on hand] - E[backorders] = S - lambda L
        assert res.expected_on_hand_units - res.expected_backorders_units == pytest.approx(
            s - lam * lead, abs=1e-12
        )
        assert res.fill_rate + res.stockout_probability == pytest.approx(1.0, abs=1e-15)
        assert res.fill_rate >= prev_fill
        prev_fill = res.fill_rate
    # fill rate tends to 1 as S grows
    assert base_stock_backorder(40, lam, lead).fill_rate == pytest.approx(1.0, abs=1e-12)


def test_base_stock_depends_only_on_mean_lead_time():
    fixed = base_stock_backorder(4, 1.2, 3.0, lead_time_dist="fixed")
    for name in sorted(IID_LEAD_TIME_DISTRIBUTIONS):
        assert base_stock_backorder(4, 1.2, 3.0, lead_time_dist=name) == fixed
    with pytest.raises(ValueError, match="Palm"):
        base_stock_backorder(4, 1.2, 3.0, lead_time_dist="sequential")
    with pytest.raises(ValueError):
        base_stock_backorder(4, 1.2, 3.0, lead_time_dist="weibull-ish")
    with pytest.raises(ValueError):
        base_stock_backorder(-1, 1.2, 3.0)
    with pytest.raises(ValueError):
        base_stock_backorder(2, 0.0, 3.0)


@pytest.mark.parametrize("dist", ["exponential", "uniform"])
def test_base_stock_palm_monte_carlo_with_crossing_lead_times(dist):
    # Each demand triggers a one-unit order with its own i.i.d. lead time; orders overtake.
    rng = np.random.default_rng(7 if dist == "exponential" else 8)
    lam, mean_lead, s, n = 2.0, 1.5, 4, 150_000
    t = np.cumsum(rng.exponential(1 / lam, n))
    if dist == "exponential":
        lead = rng.exponential(mean_lead, n)
    else:
        lead = rng.uniform(0.0, 2 * mean_lead, n)
    fills, on_hand, backorders = simulate_inventory_level(
        t, t + lead, np.ones(n), s, t_start=20.0, t_end=t[-1] - 10 * mean_lead
    )
    res = base_stock_backorder(s, lam, mean_lead, lead_time_dist=dist)
    assert_mc(fills, res.fill_rate, max_se=0.01)
    assert_mc(on_hand, res.expected_on_hand_units, max_se=0.02)
    assert_mc(backorders, res.expected_backorders_units, max_se=0.02)


# =========================================================================== base stock, lost sales


def test_lost_sales_small_cases():
    assert base_stock_lost_sales(0, 1.0, 2.0).fill_rate == 0.0
    for a in (0.5, 2.0, 9.0):
        res = base_stock_lost_sales(1, a, 1.0)
        assert res.fill_rate == pytest.approx(1 / (1 + a), rel=1e-14)
        assert res.expected_on_hand_units == pytest.approx(1 / (1 + a), rel=1e-14)
    # S = 3, a = 2: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19
    res = base_stock_lost_sales(3, 0.5, 4.0)
    assert res.lost_sales_probability == pytest.approx(4 / 19, rel=1e-14)
    assert res.fill_rate == pytest.approx(15 / 19, rel=1e-14)
    assert res.lost_sales_rate_per_day == pytest.approx(0.5 * 4 / 19, rel=1e-14)
    assert res.expected_on_order_units == pytest.approx(2 * 15 / 19, rel=1e-14)
    assert res.expected_on_hand_units == pytest.approx(3 - 30 / 19, rel=1e-14)


def test_lost_sales_fill_at_least_backorder_fill():
    for lam, lead in [(0.5, 2.0), (3.0, 1.5), (10.0, 4.0)]:
        for s in range(0, 60, 3):
            lost = base_stock_lost_sales(s, lam, lead)
            back = base_stock_backorder(s, lam, lead)
            assert lost.fill_rate >= back.fill_rate - 1e-15
            assert lost.expected_on_hand_units >= back.expected_on_hand_units - 1e-12


def test_lost_sales_monte_carlo_fixed_lead_time():
    # Insensitivity: fixed lead times give Erlang B as well. Event-by-event simulation.
    rng = np.random.default_rng(99)
    lam, lead, s, n = 1.0, 2.0, 3, 60_000
    t = np.cumsum(rng.exponential(1 / lam, n))
    outstanding: deque[float] = deque()  # arrival times, FIFO because lead time is fixed
    filled = np.zeros(n, dtype=bool)
    for j in range(n):
        while outstanding and outstanding[0] <= t[j]:
            outstanding.popleft()
        if len(outstanding) < s:
            filled[j] = True
            outstanding.append(t[j] + lead)
    batches = filled[1000:].reshape(59, -1).mean(axis=1)
    assert_mc(batches, float(1 - erlang_b_direct(3, Fraction(2))), max_se=0.01)
    assert_mc(batches, base_stock_lost_sales(s, lam, lead).fill_rate, max_se=0.01)


# =========================================================================== (r, Q) and (s, S)


def test_rq_with_unit_batch_is_base_stock():
    for lam, lead in [(0.4, 3.0), (2.0, 2.5), (12.0, 1.0)]:
        for r in range(-2, 25, 3):
            rq = rq_poisson(r, 1, lam, lead)
            bs = base_stock_backorder(r + 1, lam, lead) if r + 1 >= 0 else None
            if bs is None:
                continue
            assert rq.fill_rate == pytest.approx(bs.fill_rate, abs=1e-15)
            assert rq.expected_backorders_units == pytest.approx(
                bs.expected_backorders_units, rel=1e-13
            )
            assert rq.expected_on_hand_units == pytest.approx(
                bs.expected_on_hand_units, rel=1e-13, abs=1e-15
            )
            # base-stock cycle service level equals its fill rate
            assert rq.cycle_service_level == pytest.approx(bs.fill_rate, abs=1e-15)


def test_rq_hand_computed():
    # r = 0, Q = 2, lambda L = 1: IP uniform on {1, 2}.
    # fill = (P(D<=0) + P(D<=1)) / 2 = 1.5 e^-1; G(1) = e^-1, G(2) = 3 e^-1 - 1.
    res = rq_poisson(0, 2, demand_rate_per_day=2.0, lead_time_days=0.5)
    assert res.fill_rate == pytest.approx(1.5 / E, rel=1e-13)
    assert res.expected_backorders_units == pytest.approx((4 / E - 1) / 2, rel=1e-12)
    # E[IL] = E[IP] - lambda L = 1.5 - 1
    assert res.expected_on_hand_units == pytest.approx(0.5 + (4 / E - 1) / 2, rel=1e-12)
    assert res.cycle_service_level == pytest.approx(1 / E, rel=1e-13)
    assert res.expected_inventory_position_units == 1.5
    assert res.order_frequency_per_day == 1.0
    assert res.order_up_to_level_units == 2


def test_rq_identities():
    lam, lead = 3.0, 2.0
    for r in (-3, 0, 4, 9):
        for q in (1, 2, 5, 13):
            res = rq_poisson(r, q, lam, lead)
            e_il = r + (q + 1) / 2 - lam * lead
            assert res.expected_on_hand_units - res.expected_backorders_units == pytest.approx(
                e_il, abs=1e-12
            )
            assert res.fill_rate + res.stockout_probability == pytest.approx(1.0, abs=1e-15)
            assert res.cycle_service_level == pytest.approx(poisson.cdf(r, lam * lead), abs=1e-15)
            assert res.cycle_service_level == cycle_service_level(r, lam, lead)


def test_rq_against_inventory_position_markov_chain():
    # Brute force: stationary law of the embedded IP chain (y -> y-1, r+1 -> r+Q) solved
    # numerically, then IL = IP - D_L convolved with a truncated Poisson pmf.
    r, q, lam, lead = 2, 6, 1.5, 4.0
    states = np.arange(r + 1, r + q + 1)
    p = np.zeros((q, q))
    for i, y in enumerate(states):
        p[i, i - 1 if y > r + 1 else q - 1] = 1.0
    lhs = np.vstack([p.T - np.eye(q), np.ones(q)])
    rhs = np.zeros(q + 1)
    rhs[-1] = 1.0
    pi_ip = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    d = np.arange(0, 200)
    pd = poisson.pmf(d, lam * lead)
    fill = sum(w * pd[d <= y - 1].sum() for w, y in zip(pi_ip, states, strict=True))
    back = sum(w * np.sum(np.maximum(d - y, 0) * pd) for w, y in zip(pi_ip, states, strict=True))
    on_hand = sum(w * np.sum(np.maximum(y - d, 0) * pd) for w, y in zip(pi_ip, states, strict=True))
    res = rq_poisson(r, q, lam, lead)
    assert res.fill_rate == pytest.approx(fill, rel=1e-10)
    assert res.expected_backorders_units == pytest.approx(back, rel=1e-10)
    assert res.expected_on_hand_units == pytest.approx(on_hand, rel=1e-10)


def test_rq_monte_carlo():
    # Several orders outstanding at once (lambda L = 6 > Q = 3). Start with IL = IP = r + Q.
    rng = np.random.default_rng(314159)
    r, q, lam, lead, n = 4, 3, 2.0, 3.0, 240_000
    t = np.cumsum(rng.exponential(1 / lam, n))
    order_idx = np.arange(q, n + 1, q) - 1  # the Q-th, 2Q-th, ... demand drops IP to r
    arrivals = t[order_idx] + lead
    fills, on_hand, backorders = simulate_inventory_level(
        t, arrivals, np.full(len(arrivals), q), r + q, t_start=30.0, t_end=t[-1] - 2 * lead
    )
    res = rq_poisson(r, q, lam, lead)
    assert_mc(fills, res.fill_rate, max_se=0.01)
    assert_mc(on_hand, res.expected_on_hand_units, max_se=0.02)
    assert_mc(backorders, res.expected_backorders_units, max_se=0.02)
    # cycle service level: IL just before each arrival >= 0
    k = np.arange(len(arrivals))
    il_before = r + q - np.searchsorted(t, arrivals, side="left") + q * k
    keep = (arrivals > 30.0) & (arrivals < t[-1])
    no_stockout = (il_before[keep] >= 0)[: (keep.sum() // 40) * 40].reshape(40, -1).mean(axis=1)
    assert_mc(no_stockout, res.cycle_service_level, max_se=0.01)


def test_ss_policy_reduces_to_rq():
    for s, big_s in [(-1, 3), (0, 1), (3, 10), (7, 8)]:
        assert sS_poisson(s, big_s, 1.3, 2.2) == rq_poisson(s, big_s - s, 1.3, 2.2)
    res = sS_poisson(0, 2, 2.0, 0.5)
    assert res.fill_rate == pytest.approx(1.5 / E, rel=1e-13)  # same hand case as (r,Q)=(0,2)
    with pytest.raises(ValueError):
        sS_poisson(5, 5, 1.0, 1.0)
    with pytest.raises(ValueError):
        rq_poisson(1, 0, 1.0, 1.0)


# =========================================================================== periodic (R, S)


def g_hand(s: int, m: float) -> float:
    """E[(D - s)^+] = m - s + E[(s - D)^+], the finite sum written out by hand."""
    return m - s + sum((s - k) * math.exp(-m) * m**k / math.factorial(k) for k in range(s))


def test_periodic_hand_computed():
    # S = 2, lambda = R = L = 1. G(2; m) = m - 2 + e^-m (2 + m).
    # fill = 1 - [G(2; 2) - G(2; 1)] = 1 - [4 e^-2 - (3 e^-1 - 1)]
    res = periodic_RS_poisson(
        2, review_period_days=1.0, demand_rate_per_day=1.0, lead_time_days=1.0
    )
    assert res.fill_rate == pytest.approx(1 - (4 * E**-2 - 3 / E + 1), rel=1e-12)
    assert res.cycle_service_level == pytest.approx(5 * E**-2, rel=1e-13)  # P(Poisson(2) <= 2)
    # time-average backorders int_1^2 G(2; m) dm = -1/2 + [-e^-m (m + 3)]_1^2 = -1/2 + 4/e - 5/e^2
    assert res.expected_backorders_units == pytest.approx(-0.5 + 4 / E - 5 * E**-2, rel=1e-12)
    assert res.expected_on_hand_units == pytest.approx(
        2 - 1.5 + (-0.5 + 4 / E - 5 * E**-2), rel=1e-12
    )
    assert res.expected_backorders_end_of_cycle_units == pytest.approx(4 * E**-2, rel=1e-12)
    assert res.expected_backorders_start_of_cycle_units == pytest.approx(3 / E - 1, rel=1e-12)
    assert res.expected_order_quantity_units == 1.0


@pytest.mark.parametrize(
    "s,review,lam,lead", [(10, 2.0, 3.0, 1.5), (4, 0.5, 2.0, 2.0), (30, 7.0, 2.5, 3.0)]
)
def test_periodic_time_averages_by_quadrature(s, review, lam, lead):
    # E[B] = (1/R) int_0^R G(S; lambda (L+u)) du, by numerical quadrature of a hand-coded G.
    back, _ = integrate.quad(lambda u: g_hand(s, lam * (lead + u)), 0.0, review, epsabs=1e-13)
    back /= review
    # fill rate = time-average P(IL > 0) by PASTA
    ready, _ = integrate.quad(
        lambda u: poisson.cdf(s - 1, lam * (lead + u)), 0.0, review, epsabs=1e-13
    )
    ready /= review
    res = periodic_RS_poisson(s, review, lam, lead)
    assert res.expected_backorders_units == pytest.approx(back, rel=1e-8, abs=1e-12)
    assert res.fill_rate == pytest.approx(ready, rel=1e-9)
    assert res.expected_on_hand_units - res.expected_backorders_units == pytest.approx(
        s - lam * (lead + review / 2), abs=1e-10
    )
    assert res.cycle_service_level == cycle_service_level(s, lam, lead + review)


def test_periodic_short_review_tends_to_base_stock():
    bs = base_stock_backorder(5, 2.0, 2.5)
    pr = periodic_RS_poisson(5, 1e-6, 2.0, 2.5)
    assert pr.fill_rate == pytest.approx(bs.fill_rate, abs=1e-5)
    assert pr.expected_backorders_units == pytest.approx(bs.expected_backorders_units, abs=1e-5)
    assert pr.expected_on_hand_units == pytest.approx(bs.expected_on_hand_units, abs=1e-5)


def test_periodic_monte_carlo():
    rng = np.random.default_rng(2718)
    s, review, lam, lead, n = 10, 2.0, 3.0, 1.5, 240_000
    t = np.cumsum(rng.exponential(1 / lam, n))
    reviews = np.arange(review, t[-1], review)
    cum = np.searchsorted(t, reviews, side="right")  # demands up to each review
    qty = np.diff(np.concatenate([[0], cum]))  # raise IP back to S
    fills, on_hand, backorders = simulate_inventory_level(
        t, reviews + lead, qty, s, t_start=20.0, t_end=t[-1] - review - lead
    )
    res = periodic_RS_poisson(s, review, lam, lead)
    assert_mc(fills, res.fill_rate, max_se=0.01)
    assert_mc(on_hand, res.expected_on_hand_units, max_se=0.03)
    assert_mc(backorders, res.expected_backorders_units, max_se=0.03)


def test_periodic_invalid():
    with pytest.raises(ValueError):
        periodic_RS_poisson(5, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        periodic_RS_poisson(-1, 1.0, 1.0, 1.0)


# =========================================================================== misc


def test_results_are_frozen_dataclasses():
    for res in (
        base_stock_backorder(2, 1.0, 1.0),
        base_stock_lost_sales(2, 1.0, 1.0),
        rq_poisson(1, 2, 1.0, 1.0),
        periodic_RS_poisson(3, 1.0, 1.0, 1.0),
    ):
        assert dataclasses.is_dataclass(res)
        with pytest.raises(dataclasses.FrozenInstanceError):
            res.fill_rate = 0.5  # type: ignore[misc]


def test_integral_floats_accepted_for_integer_arguments():
    assert base_stock_backorder(3.0, 1.0, 2.0) == base_stock_backorder(3, 1.0, 2.0)
    with pytest.raises(ValueError):
        rq_poisson(1.5, 2, 1.0, 1.0)
