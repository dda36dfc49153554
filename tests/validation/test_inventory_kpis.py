"""The inventory KPIs a planner reads, against base-stock theory.

A DC with base stock S buys one unit per customer unit over an ``on_demand`` lane with i.i.d.
lead times (exponential, mean 3 days) from a vendor: the number of units on order is the
occupancy of an M/G/inf queue, Poisson(lambda E[L]) (Palm's theorem), so the time-average backlog
(expected backorders) is E[(N - S)+] and the time-average stock on hand is E[(S - N)+]. The test
reads the KPIs themselves (time integrals over the run) from independent replications and asks
their 99 % Student-t interval to contain the theory and exclude the answer one unit of stock away.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from supplytwin.analytic import base_stock_backorder
from supplytwin.sim.engine import simulate
from tests.support.netbuild import single_stage

pytestmark = pytest.mark.validation

LAMBDA = 2.0
LEAD_DAYS = 3.0
S = 7
REPS = 12


def t_ci(x: np.ndarray, confidence: float = 0.99) -> tuple[float, float]:
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kpis")
    sc = single_stage(tmp, demand_rate=LAMBDA, lead_time="fixed(0)",
                      policy={"policy": "base_stock", "order_up_to_units": S},
                      horizon_days=2_500, warmup_days=50, initial_dc_units=S,
                      external_supplier={"supply_lead_time_days": "exponential(mean=3)"})
    return [simulate(sc, seed=100 + i) for i in range(REPS)]


def check(values: list[float], expected: float, neighbour: float) -> None:
    lo, hi = t_ci(np.asarray(values))
    assert lo <= expected <= hi, f"theory {expected:.4f} outside CI [{lo:.4f}, {hi:.4f}]"
    assert not (lo <= neighbour <= hi), f"CI [{lo:.4f}, {hi:.4f}] cannot tell {neighbour:.4f}"


def test_time_average_backlog_is_the_expected_backorders(runs):
    theory = base_stock_backorder(S, LAMBDA, LEAD_DAYS).expected_backorders_units
    neighbour = base_stock_backorder(S + 1, LAMBDA, LEAD_DAYS).expected_backorders_units
    check([r.kpis["avg_backlog_units"] for r in runs], theory, neighbour)
    # the product table holds the same figure for the one product
    for r in runs:
        row = r.kpis_by_product.set_index("product_id").loc["P1"]
        assert row["avg_backlog_units"] == pytest.approx(r.kpis["avg_backlog_units"])


def test_on_hand_by_echelon(runs):
    theory = base_stock_backorder(S, LAMBDA, LEAD_DAYS).expected_on_hand_units
    neighbour = base_stock_backorder(S + 1, LAMBDA, LEAD_DAYS).expected_on_hand_units
    check([r.kpis["avg_on_hand_dcs_units"] for r in runs], theory, neighbour)
    for r in runs:
        # the only stock is the DC's: the vendor holds none of ours and there is no plant
        assert r.kpis["avg_on_hand_plants_units"] == 0.0
        assert r.kpis["avg_on_hand_units"] == pytest.approx(r.kpis["avg_on_hand_dcs_units"])
