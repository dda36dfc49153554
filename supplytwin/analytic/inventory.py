"""Exact single-stage inventory oracles for unit-sized Poisson customer demand.

Every function here models *one* stocking point facing customer demand that arrives as a
Poisson process of rate ``demand_rate_per_day`` (lambda), one unit per customer, and computes
exact steady-state performance of a classical replenishment policy. The simulation
validation tests run the same configuration in the simulator and compare.

Notation
--------
``IL(t)``  inventory level = on hand - backorders;
``IP(t)``  inventory position = IL + on order (outstanding replenishment orders);
``D(s, t]`` customer demand in (s, t], Poisson with mean lambda (t - s);
``D_L``     lead-time demand, Poisson with mean ``m = lambda * L`` for a fixed lead time L.
Poisson loss functions (closed forms, see :func:`poisson_loss`)::

    G(y; m)  = E[(D - y)^+]                              first-order loss
    G2(y; m) = E[(D - y)^+ (D - y - 1)^+] / 2            second-order loss

Performance measures
--------------------
* ``fill_rate`` (Type 2 / beta service): long-run fraction of demand units satisfied
  immediately from stock. With unit Poisson demand, an arriving customer sees the
  time-stationary state (PASTA), so the fill rate equals the ``ready_rate`` P(IL > 0).
* ``cycle_service_level`` (Type 1 / alpha service): probability that no demand is backordered
  during a replenishment cycle (the interval between consecutive order arrivals).
* ``expected_backorders_units``, ``expected_on_hand_units``: time averages of IL^- and IL^+.
* ``expected_customer_wait_days``: mean delay per demand (zero for demand filled from stock),
  ``E[backorders] / lambda`` by Little's law.

Policies and theory
-------------------
*Base stock, backorders* (:func:`base_stock_backorder`). Every demand triggers a
replenishment order for one unit, so ``IP = S`` always and ``IL = S - (number of outstanding
orders)``. Outstanding orders form an M/G/inf queue: Poisson arrivals, each staying for its own
lead time. **Palm's theorem** (Palm 1938; Feeney & Sherbrooke 1966) says the number in an
M/G/inf system in steady state is Poisson with mean ``lambda E[L]`` *whatever the lead-time
distribution*, as long as lead times are i.i.d. and independent of demand, so orders may
cross (overtake each other). Hence ``fill_rate = P(D_L <= S-1)``,
``E[backorders] = G(S; lambda E[L])``, ``E[on hand] = S - lambda E[L] + G(S; lambda E[L])``,
which depend on the lead time only through its mean. This is exactly how the simulator's
transport lanes behave (each shipment draws its own transit time independently). It is *not*
valid for sequential, non-crossing lead times (Kaplan 1970; Zipkin 2000, sec. 7.4), where
lead-time demand is not Poisson(lambda E[L]); that case is rejected explicitly.

*Base stock, lost sales* (:func:`base_stock_lost_sales`). Demand arriving when nothing is on
hand is lost and triggers no order, so outstanding orders form an Erlang loss system
M/G/S/S with offered load ``a = lambda E[L]``. By insensitivity (Sevast'yanov 1957) the
stationary distribution is truncated Poisson for any i.i.d. lead-time distribution, so
``fill_rate = 1 - B(S, a)`` (Erlang B), ``E[on order] = a (1 - B)`` and
``E[on hand] = S - a (1 - B)`` (Karush 1957; Smith 1977).

*Continuous review (r, Q), backorders* (:func:`rq_poisson`). When IP falls to ``r`` an order
of ``Q`` is placed. With unit demand IP never undershoots ``r``, so IP cycles through
``r+1, ..., r+Q`` and is uniformly distributed on that set in steady state, independently of
future demand. With a fixed lead time L, ``IL(t + L) = IP(t) - D(t, t + L]`` (every order
outstanding at t has arrived by t + L, none placed later has). Averaging over the uniform IP::

    fill_rate             = (1/Q) sum_{y=r+1}^{r+Q} P(D_L <= y - 1)
    E[backorders]         = (1/Q) sum_y G(y; lambda L)
    E[on hand]            = (1/Q) sum_y [y - lambda L + G(y; lambda L)]
    cycle_service_level   = P(D_L <= r)

(Hadley & Whitin 1963, ch. 4; Zipkin 2000, sec. 6.2 and 7.3; Axsater 2015, sec. 5.3). The
last line: the order placed when IP hits r arrives L later; just before it arrives
IL = r - D_L, and IL only decreases between arrivals, so no demand in that cycle was
backordered iff ``D_L <= r``. The result needs a fixed lead time: unlike base stock, the
(r, Q) pipeline is not M/G/inf (orders are batches placed every Q demands, not a Poisson
stream), so Palm's theorem does not apply. (For random sequential lead times Zipkin 2000,
sec. 7.4, replaces D_L by a mixed-Poisson variable; that is not implemented here.)

*Continuous review (s, S)* (:func:`sS_poisson`). With unit demands IP decreases one unit at a
time, so it reaches ``s`` exactly (no undershoot) and the order brings it to ``S``: the
policy is identical to ``(r, Q) = (s, S - s)``.

*Periodic review (R, S), backorders* (:func:`periodic_RS_poisson`). Every R days IP is raised
to S; orders arrive after a fixed lead time L. At time L + u after a review (0 <= u < R)
``IL = S - D`` with D Poisson(lambda (L + u)). Backorders at the end and start of a cycle
are ``G(S; lambda (L + R))`` and ``G(S; lambda L)``; with unit demand their difference is
exactly the expected number of demands backordered per cycle, so::

    fill_rate           = 1 - [G(S; lambda(L+R)) - G(S; lambda L)] / (lambda R)
    cycle_service_level = P(D_{L+R} <= S)
    E[backorders]       = (1/R) int_0^R G(S; lambda(L+u)) du
                        = [G2(S; lambda(L+R)) - G2(S; lambda L)] / (lambda R)
    E[on hand]          = S - lambda (L + R/2) + E[backorders]

The integral identity uses ``d/dm G2(S; m) = G(S; m)`` (differentiate the Poisson mean:
``d/dm E f(D_m) = E[f(D_m + 1) - f(D_m)]``), see Hadley & Whitin 1963, ch. 5; Silver, Pyke
& Thomas 2017, ch. 8; Axsater 2015, sec. 5.7.

Numerics
--------
The Poisson loss functions are evaluated in closed form from ``scipy.stats.poisson`` (pmf and
survival function), e.g. ``G(y; m) = (m - y) P(D > y) + m P(D = y)``, so there is no
truncation of an infinite sum at all: the only error is floating-point rounding (well below
the 1e-12 tail-truncation budget one would otherwise use). Values are clipped at 0 to remove
rounding residue in far tails.

References
----------
* C. Palm (1938), "Analysis of the Erlang traffic formulae for busy-signal arrangements",
  Ericsson Technics 4, 39-58.
* J. Karush (1957), "A queuing model for an inventory problem", Operations Research 5(5).
* B. A. Sevast'yanov (1957), "An ergodic theorem for Markov processes and its application to
  telephone systems with refusals", Theory of Probability and its Applications 2(1).
* G. Hadley, T. M. Whitin (1963), *Analysis of Inventory Systems*, Prentice-Hall.
* G. J. Feeney, C. C. Sherbrooke (1966), "The (s-1, s) inventory policy under compound
  Poisson demand", Management Science 12(5), 391-411.
* R. S. Kaplan (1970), "A dynamic inventory model with stochastic lead times", Management
  Science 16(7).
* S. A. Smith (1977), "Optimal inventory for an (S-1, S) system with no backorders",
  Management Science 23(5), 522-528.
* P. H. Zipkin (2000), *Foundations of Inventory Management*, McGraw-Hill.
* S. Axsater (2015), *Inventory Control*, 3rd ed., Springer.
* E. A. Silver, D. F. Pyke, D. J. Thomas (2017), *Inventory and Production Management in
  Supply Chains*, 4th ed., CRC Press.

All functions are pure (no state, no randomness) and return frozen dataclasses.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from supplytwin.analytic.queues import erlang_b

__all__ = [
    "IID_LEAD_TIME_DISTRIBUTIONS",
    "BaseStockBackorderMetrics",
    "BaseStockLostSalesMetrics",
    "ContinuousReviewMetrics",
    "PeriodicReviewMetrics",
    "base_stock_backorder",
    "base_stock_lost_sales",
    "cycle_service_level",
    "periodic_RS_poisson",
    "poisson_loss",
    "poisson_second_order_loss",
    "rq_poisson",
    "sS_poisson",
]

#: Lead-time distribution names for which the base-stock formulas hold (i.i.d. lead times,
#: independent of demand, orders may cross). The names match ``supplytwin.stochastic``.
IID_LEAD_TIME_DISTRIBUTIONS: frozenset[str] = frozenset(
    {
        "fixed",
        "exponential",
        "uniform",
        "triangular",
        "normal",
        "lognormal",
        "gamma",
        "poisson",
        "empirical",
        "iid",
    }
)

_NON_CROSSING_LEAD_TIMES = frozenset({"sequential", "non_crossing", "no_crossing", "fifo"})


# --------------------------------------------------------------------------- helpers


def _as_int(name: str, value) -> int:
    """Accept ints (and integral floats such as 3.0); reject anything else."""
    if isinstance(value, (float, np.floating)):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return int(value)
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def _as_nonneg(name: str, value, *, strictly_positive: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0.0 or (strictly_positive and v == 0.0):
        bound = "> 0" if strictly_positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def poisson_loss(level_units, mean_units: float):
    """First-order Poisson loss function ``G(y; m) = E[(D - y)^+]``, ``D ~ Poisson(m)``.

    ``level_units`` is an integer or an integer array (negative values allowed, where
    ``G = m - y``). Closed form (Zipkin 2000, sec. 6.2.2)::

        G(y; m) = (m - y) P(D > y) + m P(D = y)

    which follows from ``sum_{k > y} k p_k = m P(D >= y)``. Returns a float for scalar input,
    else an ``ndarray``.
    """
    m = _as_nonneg("mean_units", mean_units)
    y = np.asarray(level_units)
    if not np.issubdtype(y.dtype, np.integer):
        yf = y.astype(float)
        if not np.all(np.isfinite(yf)) or not np.all(yf == np.round(yf)):
            raise ValueError("level_units must be integer-valued")
        y = yf.astype(np.int64)
    yf = y.astype(float)
    g = (m - yf) * poisson.sf(y, m) + m * poisson.pmf(y, m)
    g = np.maximum(g, 0.0)
    return float(g) if g.ndim == 0 else g


def poisson_second_order_loss(level_units, mean_units: float):
    """Second-order Poisson loss ``G2(y; m) = E[(D - y)^+ (D - y - 1)^+] / 2``.

    ``G2`` is the antiderivative of ``G`` in the Poisson mean: ``d/dm G2(y; m) = G(y; m)``,
    ``G2(y; 0) = 0`` for ``y >= 0``. Closed form from the factorial moments
    ``sum_{k > y} k (k - 1) p_k = m^2 P(D >= y - 1)``::

        2 G2(y; m) = m^2 P(D >= y-1) - 2 y m P(D >= y) + y (y + 1) P(D >= y+1)
    """
    m = _as_nonneg("mean_units", mean_units)
    y = np.asarray(level_units)
    if not np.issubdtype(y.dtype, np.integer):
        yf = y.astype(float)
        if not np.all(np.isfinite(yf)) or not np.all(yf == np.round(yf)):
            raise ValueError("level_units must be integer-valued")
        y = yf.astype(np.int64)
    yf = y.astype(float)
    two_g2 = (
        m * m * poisson.sf(y - 2, m)
        - 2.0 * yf * m * poisson.sf(y - 1, m)
        + yf * (yf + 1.0) * poisson.sf(y, m)
    )
    g2 = np.maximum(0.5 * two_g2, 0.0)
    return float(g2) if g2.ndim == 0 else g2


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class BaseStockBackorderMetrics:
    """Steady state of a base-stock (S-1, S) policy with backorders (see module docstring)."""

    base_stock_level_units: int
    demand_rate_per_day: float
    mean_lead_time_days: float
    #: lambda * E[L]: mean lead-time demand = mean number of outstanding orders (Palm).
    lead_time_demand_mean_units: float
    #: Type 2 service: fraction of demand filled from stock, P(D_L <= S - 1).
    fill_rate: float
    #: Time-average P(on hand > 0) = P(D_L < S); equals fill_rate by PASTA.
    ready_rate: float
    #: P(on hand = 0) = P(D_L >= S) = 1 - ready_rate.
    stockout_probability: float
    #: Time-average backorders E[(D_L - S)^+].
    expected_backorders_units: float
    #: Time-average on hand E[(S - D_L)^+].
    expected_on_hand_units: float
    #: Time-average units on order, lambda * E[L].
    expected_on_order_units: float
    #: Mean delay per demand unit (0 for filled demand), E[backorders] / lambda (Little).
    expected_customer_wait_days: float


@dataclass(frozen=True)
class BaseStockLostSalesMetrics:
    """Steady state of a base-stock policy where unmet demand is lost (M/G/S/S)."""

    base_stock_level_units: int
    demand_rate_per_day: float
    mean_lead_time_days: float
    #: Offered load a = lambda * E[L] in Erlang.
    offered_load: float
    #: Fraction of demand satisfied, 1 - ErlangB(S, a).
    fill_rate: float
    #: Time-average P(on hand > 0) = 1 - ErlangB(S, a) (PASTA).
    ready_rate: float
    #: Fraction of demand lost, ErlangB(S, a).
    lost_sales_probability: float
    #: Lost demand per day, lambda * ErlangB(S, a).
    lost_sales_rate_per_day: float
    #: Time-average on hand, S - a (1 - B).
    expected_on_hand_units: float
    #: Time-average units on order, a (1 - B).
    expected_on_order_units: float


@dataclass(frozen=True)
class ContinuousReviewMetrics:
    """Steady state of a continuous-review (r, Q) policy with backorders; (s, S) maps to
    ``reorder_point_units = s``, ``order_quantity_units = S - s``."""

    reorder_point_units: int
    order_quantity_units: int
    demand_rate_per_day: float
    lead_time_days: float
    #: Type 2 service, (1/Q) sum_y P(D_L <= y - 1), y uniform on r+1..r+Q.
    fill_rate: float
    #: Time-average P(IL > 0); equals fill_rate by PASTA.
    ready_rate: float
    #: Time-average P(IL <= 0) = 1 - ready_rate.
    stockout_probability: float
    #: Type 1 service: P(no demand backordered in a replenishment cycle) = P(D_L <= r).
    cycle_service_level: float
    #: Time-average backorders.
    expected_backorders_units: float
    #: Time-average on hand.
    expected_on_hand_units: float
    #: r + (Q + 1) / 2.
    expected_inventory_position_units: float
    #: lambda * L.
    expected_on_order_units: float
    #: lambda / Q.
    order_frequency_per_day: float
    #: Mean delay per demand unit, E[backorders] / lambda (Little).
    expected_customer_wait_days: float

    @property
    def order_up_to_level_units(self) -> int:
        """The equivalent (s, S) order-up-to level, r + Q."""
        return self.reorder_point_units + self.order_quantity_units


@dataclass(frozen=True)
class PeriodicReviewMetrics:
    """Steady state of a periodic-review (R, S) order-up-to policy with backorders."""

    order_up_to_level_units: int
    review_period_days: float
    demand_rate_per_day: float
    lead_time_days: float
    #: Type 2 service: 1 - [G(S; lambda(L+R)) - G(S; lambda L)] / (lambda R).
    fill_rate: float
    #: Time-average P(IL > 0); equals fill_rate by PASTA.
    ready_rate: float
    #: Type 1 service: P(no backorder in a review cycle) = P(D_{L+R} <= S).
    cycle_service_level: float
    #: Time-average backorders.
    expected_backorders_units: float
    #: Time-average on hand.
    expected_on_hand_units: float
    #: Backorders just before an order arrives, G(S; lambda (L + R)).
    expected_backorders_end_of_cycle_units: float
    #: On hand just before an order arrives, E[(S - D_{L+R})^+].
    expected_on_hand_end_of_cycle_units: float
    #: Backorders just after an order arrives, G(S; lambda L).
    expected_backorders_start_of_cycle_units: float
    #: Mean order size, lambda * R.
    expected_order_quantity_units: float
    #: Mean delay per demand unit, E[backorders] / lambda (Little).
    expected_customer_wait_days: float


# --------------------------------------------------------------------------- policies


def base_stock_backorder(
    base_stock_level: int,
    demand_rate_per_day: float,
    lead_time_days: float,
    lead_time_dist: str = "fixed",
) -> BaseStockBackorderMetrics:
    """Base-stock (S-1, S) policy, unit Poisson demand, backorders.

    Parameters
    ----------
    base_stock_level:
        S, integer >= 0 (the constant inventory position).
    demand_rate_per_day:
        lambda > 0.
    lead_time_days:
        Mean replenishment lead time E[L] >= 0.
    lead_time_dist:
        Name of the lead-time distribution. By Palm's theorem the result depends only on the
        mean, provided lead times are i.i.d. and independent of demand (orders may cross), so
        any name in :data:`IID_LEAD_TIME_DISTRIBUTIONS` gives the same answer; the argument
        exists to document the assumption at the call site. ``"sequential"``/``"fifo"``/
        ``"non_crossing"`` lead times raise ``ValueError`` (formula not valid).
    """
    s = _as_int("base_stock_level", base_stock_level)
    if s < 0:
        raise ValueError(f"base_stock_level must be >= 0, got {s}")
    lam = _as_nonneg("demand_rate_per_day", demand_rate_per_day, strictly_positive=True)
    mean_l = _as_nonneg("lead_time_days", lead_time_days)
    dist = str(lead_time_dist).strip().lower()
    if dist in _NON_CROSSING_LEAD_TIMES:
        raise ValueError(
            f"lead_time_dist={lead_time_dist!r}: with sequential (non-crossing) lead times the "
            "outstanding orders are not an M/G/inf system and lead-time demand is not "
            "Poisson(lambda*E[L]); Palm's theorem does not apply"
        )
    if dist not in IID_LEAD_TIME_DISTRIBUTIONS:
        raise ValueError(
            f"unknown lead_time_dist {lead_time_dist!r}; expected one of "
            f"{sorted(IID_LEAD_TIME_DISTRIBUTIONS)}"
        )
    m = lam * mean_l
    fill = float(poisson.cdf(s - 1, m))
    stockout = float(poisson.sf(s - 1, m))
    backorders = poisson_loss(s, m)
    on_hand = max(s - m + backorders, 0.0)
    return BaseStockBackorderMetrics(
        base_stock_level_units=s,
        demand_rate_per_day=lam,
        mean_lead_time_days=mean_l,
        lead_time_demand_mean_units=m,
        fill_rate=fill,
        ready_rate=fill,
        stockout_probability=stockout,
        expected_backorders_units=backorders,
        expected_on_hand_units=on_hand,
        expected_on_order_units=m,
        expected_customer_wait_days=backorders / lam,
    )


def base_stock_lost_sales(
    base_stock_level: int,
    demand_rate_per_day: float,
    lead_time_days: float,
) -> BaseStockLostSalesMetrics:
    """Base-stock policy, unit Poisson demand, lost sales: the Erlang loss system M/G/S/S.

    ``lead_time_days`` is the mean lead time; by insensitivity any i.i.d. lead-time
    distribution (orders may cross) gives the same result.
    """
    s = _as_int("base_stock_level", base_stock_level)
    if s < 0:
        raise ValueError(f"base_stock_level must be >= 0, got {s}")
    lam = _as_nonneg("demand_rate_per_day", demand_rate_per_day, strictly_positive=True)
    mean_l = _as_nonneg("lead_time_days", lead_time_days)
    a = lam * mean_l
    blocking = erlang_b(s, a)
    on_order = a * (1.0 - blocking)
    return BaseStockLostSalesMetrics(
        base_stock_level_units=s,
        demand_rate_per_day=lam,
        mean_lead_time_days=mean_l,
        offered_load=a,
        fill_rate=1.0 - blocking,
        ready_rate=1.0 - blocking,
        lost_sales_probability=blocking,
        lost_sales_rate_per_day=lam * blocking,
        expected_on_hand_units=max(s - on_order, 0.0),
        expected_on_order_units=on_order,
    )


def rq_poisson(
    reorder_point: int,
    order_quantity: int,
    demand_rate_per_day: float,
    lead_time_days: float,
) -> ContinuousReviewMetrics:
    """Continuous-review (r, Q) policy, unit Poisson demand, fixed lead time, backorders.

    An order of ``order_quantity`` (Q >= 1) is placed whenever the inventory position drops
    to ``reorder_point`` (r, any integer; r < 0 means ordering only once backorders exist).
    Exact: sums over the uniform inventory position on {r+1, ..., r+Q}.
    """
    r = _as_int("reorder_point", reorder_point)
    q = _as_int("order_quantity", order_quantity)
    if q < 1:
        raise ValueError(f"order_quantity must be >= 1, got {q}")
    lam = _as_nonneg("demand_rate_per_day", demand_rate_per_day, strictly_positive=True)
    lead = _as_nonneg("lead_time_days", lead_time_days)
    m = lam * lead
    y = np.arange(r + 1, r + q + 1, dtype=np.int64)  # inventory positions, equally likely
    fill = float(np.mean(poisson.cdf(y - 1, m)))
    stockout = float(np.mean(poisson.sf(y - 1, m)))
    g = poisson_loss(y, m)
    backorders = float(np.mean(g))
    on_hand = float(np.mean(np.maximum(y - m + g, 0.0)))
    return ContinuousReviewMetrics(
        reorder_point_units=r,
        order_quantity_units=q,
        demand_rate_per_day=lam,
        lead_time_days=lead,
        fill_rate=fill,
        ready_rate=fill,
        stockout_probability=stockout,
        cycle_service_level=float(poisson.cdf(r, m)),
        expected_backorders_units=backorders,
        expected_on_hand_units=on_hand,
        expected_inventory_position_units=r + (q + 1) / 2.0,
        expected_on_order_units=m,
        order_frequency_per_day=lam / q,
        expected_customer_wait_days=backorders / lam,
    )


def sS_poisson(
    s: int,
    S: int,
    demand_rate_per_day: float,
    lead_time_days: float,
) -> ContinuousReviewMetrics:
    """Continuous-review (s, S) policy, unit Poisson demand, fixed lead time, backorders.

    Order up to S whenever the inventory position is <= s (requires S > s).
    """
    s_ = _as_int("s", s)
    big_s = _as_int("S", S)
    if big_s <= s_:
        raise ValueError(f"(s, S) policy needs S > s, got s={s_}, S={big_s}")
    # With unit-sized demands the inventory position falls one unit at a time, so it hits s
    # exactly (there is no undershoot below s) and the order is always S - s units. The
    # (s, S) policy is therefore the (r, Q) policy with r = s, Q = S - s, and its inventory
    # position is uniform on {s+1, ..., S}. (With batch demand this reduction fails.)
    return rq_poisson(s_, big_s - s_, demand_rate_per_day, lead_time_days)


def periodic_RS_poisson(
    order_up_to: int,
    review_period_days: float,
    demand_rate_per_day: float,
    lead_time_days: float,
) -> PeriodicReviewMetrics:
    """Periodic-review (R, S) order-up-to policy, unit Poisson demand, fixed lead time L,
    backorders. Every ``review_period_days`` (R > 0) the inventory position is raised to
    ``order_up_to`` (S >= 0); the order arrives ``lead_time_days`` (L >= 0) later.
    """
    s = _as_int("order_up_to", order_up_to)
    if s < 0:
        raise ValueError(f"order_up_to must be >= 0, got {s}")
    review = _as_nonneg("review_period_days", review_period_days, strictly_positive=True)
    lam = _as_nonneg("demand_rate_per_day", demand_rate_per_day, strictly_positive=True)
    lead = _as_nonneg("lead_time_days", lead_time_days)
    m_start = lam * lead  # demand between the order being placed and its arrival
    m_end = lam * (lead + review)  # ... and until the next order arrives
    per_cycle_demand = lam * review
    g_end = poisson_loss(s, m_end)
    g_start = poisson_loss(s, m_start)
    # Expected demand units backordered per cycle; with unit demand exactly G_end - G_start.
    backordered_per_cycle = max(g_end - g_start, 0.0)
    fill = 1.0 - backordered_per_cycle / per_cycle_demand
    backorders = max(
        (poisson_second_order_loss(s, m_end) - poisson_second_order_loss(s, m_start))
        / per_cycle_demand,
        0.0,
    )
    on_hand = max(s - lam * (lead + review / 2.0) + backorders, 0.0)
    return PeriodicReviewMetrics(
        order_up_to_level_units=s,
        review_period_days=review,
        demand_rate_per_day=lam,
        lead_time_days=lead,
        fill_rate=fill,
        ready_rate=fill,
        cycle_service_level=float(poisson.cdf(s, m_end)),
        expected_backorders_units=backorders,
        expected_on_hand_units=on_hand,
        expected_backorders_end_of_cycle_units=g_end,
        expected_on_hand_end_of_cycle_units=max(s - m_end + g_end, 0.0),
        expected_backorders_start_of_cycle_units=g_start,
        expected_order_quantity_units=per_cycle_demand,
        expected_customer_wait_days=backorders / lam,
    )


def cycle_service_level(
    reorder_level_units: int,
    demand_rate_per_day: float,
    protection_period_days: float,
) -> float:
    """Type 1 service ``P(D <= level)``, D ~ Poisson(lambda * protection period).

    The probability that no demand is backordered in a replenishment cycle:

    * (r, Q) / (s, S) with fixed lead time L: ``cycle_service_level(r, lambda, L)``
      (protection period = lead time; the level is the reorder point);
    * periodic (R, S): ``cycle_service_level(S, lambda, R + L)``.
    * base stock S is (r, Q) with r = S - 1, Q = 1; its cycle service level equals its fill
      rate, ``cycle_service_level(S - 1, lambda, L)``.

    It is meaningless for lost-sales systems and for base stock with random crossing lead
    times (no well-defined cycle), so it is not reported there.
    """
    level = _as_int("reorder_level_units", reorder_level_units)
    lam = _as_nonneg("demand_rate_per_day", demand_rate_per_day, strictly_positive=True)
    period = _as_nonneg("protection_period_days", protection_period_days)
    return float(poisson.cdf(level, lam * period))
