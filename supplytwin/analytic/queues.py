"""Exact results for Markovian multi-server queues (Erlang B, Erlang C, M/M/c waiting times).

These are the oracles that the validation tests compare simulated queues against (a
warehouse dock with ``c`` doors, a QC lab with ``c`` analysts, a fleet of ``c`` trucks).

Theory
------
*Offered load.* With Poisson arrivals at rate ``lambda`` and mean service time ``1/mu`` the
offered load is ``a = lambda / mu`` Erlang (the mean number of busy servers if there were
infinitely many). With ``c`` servers the utilisation is ``rho = a / c``.

*Erlang B (loss system M/G/c/c).* Customers who find all ``c`` servers busy are lost. The
blocking probability is::

    B(c, a) = (a^c / c!) / sum_{k=0}^{c} a^k / k!

and, by the insensitivity property of the Erlang loss system, it holds for any service-time
distribution with mean ``1/mu`` (Sevast'yanov 1957; Kleinrock 1975, sec. 3.6). The factorial
form overflows for realistic ``c``; we use the numerically stable recursion::

    B(0, a) = 1,        B(k, a) = a B(k-1, a) / (k + a B(k-1, a)),

which involves only numbers in [0, 1] (Jagerman 1974; Gross et al. 2008, sec. 2.6).

*Erlang C (delay system M/M/c).* Customers who find all servers busy wait in a FCFS queue.
For ``a < c`` the probability that an arriving customer has to wait (equal, by PASTA, to the
time-stationary probability that all servers are busy) is::

    C(c, a) = B(c, a) / (1 - rho (1 - B(c, a)))

(Cooper 1981, sec. 3.5; Gross et al. 2008, eq. 2.35 rewritten through B).

*Waiting time in queue (M/M/c, FCFS).* Conditional on waiting, the waiting time ``Wq`` is
exponential with rate ``c mu - lambda``, because while all servers are busy departures form
a Poisson process of rate ``c mu``. Hence::

    P(Wq <= t) = 1 - C(c, a) exp(-(c mu - lambda) t),    t >= 0,
    E[Wq]      = C(c, a) / (c mu - lambda).

``Wq`` excludes the service time; the mean sojourn time is ``E[Wq] + 1/mu``. Unlike Erlang B,
these waiting-time results *do* depend on exponential service times.

References
----------
* A. K. Erlang (1917), "Solution of some problems in the theory of probabilities of
  significance in automatic telephone exchanges", Elektroteknikeren 13.
* L. Kleinrock (1975), *Queueing Systems, Volume 1: Theory*, Wiley.
* R. B. Cooper (1981), *Introduction to Queueing Theory*, 2nd ed., North-Holland.
* D. Gross, J. F. Shortle, J. M. Thompson, C. M. Harris (2008), *Fundamentals of Queueing
  Theory*, 4th ed., Wiley.
* D. L. Jagerman (1974), "Some properties of the Erlang loss function", Bell System
  Technical Journal 53(3), 525-551.

All functions are pure: no state, no randomness. Rates are per unit time (any unit, used
consistently: ``arrival_rate`` and ``service_rate`` per day give waits in days).
"""

from __future__ import annotations

import math
import operator

import numpy as np

__all__ = ["erlang_b", "erlang_c", "mmc_mean_wait", "mmc_wait_cdf"]


def _check_servers(servers: int, minimum: int) -> int:
    try:
        c = operator.index(servers)
    except TypeError:
        raise TypeError(f"servers must be an integer, got {servers!r}") from None
    if c < minimum:
        raise ValueError(f"servers must be >= {minimum}, got {c}")
    return c


def _check_nonnegative_finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability ``B(c, a)`` of the Erlang loss system M/G/c/c.

    Parameters
    ----------
    servers:
        Number of servers ``c`` (integer >= 0). ``B(0, a) = 1``.
    offered_load:
        Offered load ``a = arrival_rate / service_rate`` in Erlang (>= 0).

    Uses the stable recursion ``B(k) = a B(k-1) / (k + a B(k-1))``; cost O(c).
    """
    c = _check_servers(servers, 0)
    a = _check_nonnegative_finite("offered_load", offered_load)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arriving customer must wait in an M/M/c queue (Erlang C).

    Parameters
    ----------
    servers:
        Number of servers ``c`` (integer >= 1).
    offered_load:
        Offered load ``a = arrival_rate / service_rate`` in Erlang (>= 0).

    Returns ``C(c, a) = B / (1 - (a/c)(1 - B))`` for ``a < c``. For ``a >= c`` the queue has
    no steady state; every arriving customer eventually waits and 1.0 is returned (the limit
    as ``a`` increases to ``c``). Use :func:`mmc_mean_wait`, which raises, when stability
    matters.
    """
    c = _check_servers(servers, 1)
    a = _check_nonnegative_finite("offered_load", offered_load)
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def _mmc_params(arrival_rate: float, service_rate: float, servers: int) -> tuple[int, float, float]:
    """Validate an M/M/c queue; return (c, C(c, a), c*mu - lambda)."""
    c = _check_servers(servers, 1)
    lam = _check_nonnegative_finite("arrival_rate", arrival_rate)
    mu = _check_nonnegative_finite("service_rate", service_rate)
    if mu <= 0.0:
        raise ValueError(f"service_rate must be > 0, got {service_rate!r}")
    drain_rate = c * mu - lam
    if drain_rate <= 0.0:
        raise ValueError(
            f"M/M/{c} queue is unstable: arrival_rate={lam} >= servers*service_rate={c * mu}"
        )
    return c, erlang_c(c, lam / mu), drain_rate


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean waiting time in queue ``E[Wq]`` of a stable M/M/c FCFS queue (service excluded).

    ``E[Wq] = C(c, a) / (c mu - lambda)`` in the time unit of the rates (rates per day give
    days). For ``c = 1`` this is ``rho / (mu - lambda)``.

    Raises ``ValueError`` when ``arrival_rate >= servers * service_rate`` (no steady state).
    """
    _, p_wait, drain_rate = _mmc_params(arrival_rate, service_rate, servers)
    return p_wait / drain_rate


def mmc_wait_cdf(t, arrival_rate: float, service_rate: float, servers: int):
    """``P(Wq <= t)`` for a stable M/M/c FCFS queue: ``1 - C(c, a) exp(-(c mu - lambda) t)``.

    ``t`` may be a scalar (a ``float`` is returned) or array-like (an ``ndarray`` of the same
    shape is returned). For ``t < 0`` the probability is 0; at ``t = 0`` it is the
    probability of not waiting, ``1 - C``. Raises ``ValueError`` when unstable.
    """
    _, p_wait, drain_rate = _mmc_params(arrival_rate, service_rate, servers)
    t_arr = np.asarray(t, dtype=float)
    if np.isnan(t_arr).any():
        raise ValueError("t must not contain NaN")
    with np.errstate(over="ignore"):
        cdf = 1.0 - p_wait * np.exp(-drain_rate * np.maximum(t_arr, 0.0))
    cdf = np.where(t_arr < 0.0, 0.0, cdf)
    if cdf.ndim == 0:
        return float(cdf)
    return cdf
