"""Single-stage inventory against closed-form theory (Poisson demand, unit orders).

Each test simulates a long steady-state run and compares with the exact value from
:mod:`supplytwin.analytic` using a 99 % batch-means confidence interval (30 batches). Each also
asserts the interval is narrow enough to tell the true value from the value one unit of stock
away, so a wrong model (an off-by-one in the policy, lead times that do not cross, a lost sale
counted as a backorder) would fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from supplytwin.analytic import (
    base_stock_backorder,
    base_stock_lost_sales,
    periodic_RS_poisson,
    rq_poisson,
    sS_poisson,
)
from supplytwin.sim.engine import Model
from supplytwin.sim.mass_balance import check_mass_balance
from tests.support.netbuild import single_stage
from tests.support.stats import batch_means_ci

pytestmark = pytest.mark.validation

LAMBDA = 2.0  # orders (= units) per day


def run(scenario, seed=1):
    m = Model(scenario, seed, keep_orders=True)
    m.env.run(until=scenario.simulation.horizon_days)
    check_mass_balance(m)
    return m


def fill_rate_ci(m):
    warm = m.scenario.simulation.warmup_days
    orders = [o for o in m.orders if o.placed_day >= warm]
    t = np.array([o.placed_day for o in orders])
    filled = np.array([o.filled_immediately_units for o in orders])
    qty = np.array([o.quantity_units for o in orders])
    return batch_means_ci(filled, t, warm, m.scenario.simulation.horizon_days, weights=qty)


def backlog_ci(m):
    warm = m.scenario.simulation.warmup_days
    rows = [(row[0], row[-1]) for row in m.recorder.daily if row[1] == "DC" and row[0] > warm]
    t, b = map(np.array, zip(*rows, strict=True))
    return batch_means_ci(b, t, warm, m.scenario.simulation.horizon_days)


def assert_in_ci(ci, expected, neighbour):
    _mean, lo, hi = ci
    assert lo <= expected <= hi, f"theory {expected:.4f} outside CI [{lo:.4f}, {hi:.4f}]"
    # discriminating: the CI excludes the answer of a model one unit of stock away
    assert not (lo <= neighbour <= hi), f"CI [{lo:.4f}, {hi:.4f}] too wide to tell {neighbour:.4f}"


@pytest.mark.parametrize(
    "lead_time, S",
    [("fixed(3)", 8), ("exponential(mean=3)", 8), ("uniform(1, 5)", 9)],
    ids=["fixed", "exponential", "uniform"],
)
def test_base_stock_backorders_fill_rate_and_backorders(tmp_path, lead_time, S):
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time=lead_time,
                      policy={"policy": "base_stock", "order_up_to_units": S},
                      horizon_days=12_000, initial_dc_units=S)
    m = run(sc)
    theory = base_stock_backorder(S, LAMBDA, 3.0)
    neighbour = base_stock_backorder(S + 1, LAMBDA, 3.0)
    assert_in_ci(fill_rate_ci(m), theory.fill_rate, neighbour.fill_rate)
    assert_in_ci(backlog_ci(m), theory.expected_backorders_units,
                 neighbour.expected_backorders_units)


def test_base_stock_lost_sales_matches_erlang_b(tmp_path):
    S = 6
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(3)",
                      policy={"policy": "base_stock", "order_up_to_units": S}, unmet="lost",
                      horizon_days=12_000, initial_dc_units=S)
    m = run(sc)
    theory = base_stock_lost_sales(S, LAMBDA, 3.0).fill_rate
    neighbour = base_stock_lost_sales(S + 1, LAMBDA, 3.0).fill_rate
    assert_in_ci(fill_rate_ci(m), theory, neighbour)
    # and the backorder formula would be wrong here (lost sales fill better for the same S)
    assert theory > base_stock_backorder(S, LAMBDA, 3.0).fill_rate + 0.02


def test_rq_policy_matches_exact_poisson_result(tmp_path):
    r, Q = 4, 5
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(3)",
                      policy={"policy": "r_Q", "reorder_point_units": r, "order_quantity_units": Q},
                      horizon_days=12_000, initial_dc_units=r + Q)
    m = run(sc)
    theory = rq_poisson(r, Q, LAMBDA, 3.0)
    neighbour = rq_poisson(r + 1, Q, LAMBDA, 3.0)
    assert_in_ci(fill_rate_ci(m), theory.fill_rate, neighbour.fill_rate)
    assert_in_ci(backlog_ci(m), theory.expected_backorders_units,
                 neighbour.expected_backorders_units)


def test_sS_policy_matches_exact_poisson_result(tmp_path):
    s, S = 5, 12
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(3)",
                      policy={"policy": "s_S", "reorder_point_units": s, "order_up_to_units": S},
                      horizon_days=12_000, initial_dc_units=S)
    m = run(sc)
    theory = sS_poisson(s, S, LAMBDA, 3.0)
    neighbour = sS_poisson(s + 1, S + 1, LAMBDA, 3.0)
    assert_in_ci(fill_rate_ci(m), theory.fill_rate, neighbour.fill_rate)


def test_periodic_RS_policy_matches_exact_poisson_result(tmp_path):
    # every R = 2 days order up to S; lead time 3 days: the protection period is R + L = 5
    S, R = 12, 2.0
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(3)",
                      policy={"policy": "R_S", "order_up_to_units": S, "review_period_days": R},
                      horizon_days=12_000, initial_dc_units=S)
    m = run(sc)
    theory = periodic_RS_poisson(S, R, LAMBDA, 3.0)
    neighbour = periodic_RS_poisson(S + 1, R, LAMBDA, 3.0)
    assert_in_ci(fill_rate_ci(m), theory.fill_rate, neighbour.fill_rate)


def test_days_of_supply_is_RS_with_target_days_times_mean_demand(tmp_path):
    # a days-of-supply target of 6 days on a DC whose customers order 2 units a day is the
    # (R, S) policy with S = 12: same seed, same orders, same outcome order by order
    R = 2.0
    runs = {}
    for name, policy in {
        "R_S": {"policy": "R_S", "order_up_to_units": 12, "review_period_days": R},
        "days_of_supply": {"policy": "days_of_supply", "days_of_supply_target": 6,
                           "review_period_days": R},
    }.items():
        (tmp_path / name).mkdir()
        sc = single_stage(tmp_path / name, demand_rate=LAMBDA, lead_time="fixed(3)",
                          policy=policy, horizon_days=2_000, initial_dc_units=12)
        runs[name] = [(o.placed_day, o.filled_immediately_units, o.completed_day)
                      for o in run(sc).orders]
    assert len(runs["R_S"]) > 3_000
    assert runs["days_of_supply"] == runs["R_S"]
