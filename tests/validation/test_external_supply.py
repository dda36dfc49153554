"""External suppliers against theory: a vendor's lead time, capacity and reliability.

A DC with a base-stock policy buys from an external supplier (no stock, policy or production
row) over an ``on_demand`` lane. Every replenishment order then has its own lead time (vendor
lead time + transit, i.i.d. per order), so Palm's theorem gives the DC's fill rate and expected
backorders exactly, whatever the lead-time distribution. The vendor's capacity and on-time
probability are checked from the shipments the lane records (times and units), not from the
supplier's own bookkeeping.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from supplytwin.analytic import base_stock_backorder
from supplytwin.sim.engine import simulate
from tests.support.netbuild import single_stage
from tests.validation.test_inventory_theory import (
    LAMBDA,
    assert_in_ci,
    backlog_ci,
    fill_rate_ci,
    run,
)

pytestmark = pytest.mark.validation


def test_base_stock_on_a_vendor_lead_time_matches_palm(tmp_path):
    # vendor lead time exponential(mean 2) + transit 1 day: i.i.d. lead times of mean 3 days
    S = 8
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(1)",
                      policy={"policy": "base_stock", "order_up_to_units": S},
                      horizon_days=12_000, initial_dc_units=S,
                      external_supplier={"supply_lead_time_days": "exponential(mean=2)"})
    m = run(sc)
    theory = base_stock_backorder(S, LAMBDA, 3.0)
    neighbour = base_stock_backorder(S + 1, LAMBDA, 3.0)
    assert_in_ci(fill_rate_ci(m), theory.fill_rate, neighbour.fill_rate)
    assert_in_ci(backlog_ci(m), theory.expected_backorders_units,
                 neighbour.expected_backorders_units)


def test_vendor_stock_stays_out_of_inventory_kpis(tmp_path):
    # the network holds only the DC's stock: E[on hand] = S - lambda L + E[backorders]
    S = 8
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(1)",
                      policy={"policy": "base_stock", "order_up_to_units": S},
                      horizon_days=6_000, initial_dc_units=S,
                      external_supplier={"supply_lead_time_days": "fixed(2)"})
    r = simulate(sc)
    theory = base_stock_backorder(S, LAMBDA, 3.0).expected_on_hand_units
    # 5 % is about 4 standard errors of a 6,000-day time average here, and far below the
    # 10^9 units a supplier stocked with fake inventory would add
    assert r.kpis["avg_on_hand_units"] == pytest.approx(theory, rel=0.05)
    assert r.kpis["cost_holding_usd"] == pytest.approx(
        theory * 1.0 * sc.costs.holding_rate_per_year / 365 * (6_000 - 50), rel=0.05)
    assert set(r.timeseries["site_id"]) == {"DC"}


def test_vendor_capacity_per_day_is_respected(tmp_path):
    # demand of 3 units a day against a vendor that starts 2 a day: the vendor is the
    # bottleneck, every day it ships its capacity and never more
    cap = 2.0
    horizon = 300
    sc = single_stage(tmp_path, demand_rate=3.0, lead_time="fixed(1)",
                      policy={"policy": "base_stock", "order_up_to_units": 5},
                      horizon_days=horizon, warmup_days=0,
                      external_supplier={"supply_capacity_units_per_day": cap})
    r = simulate(sc, log_events=True)
    ev = r.events
    ships = ev[(ev["event"] == "ship") & (ev["lane_id"] == "L-UP-DC")]
    per_day = ships.groupby(np.floor(ships["time_days"]))["quantity_units"].sum()
    assert per_day.max() <= cap + 1e-9
    # saturated: all but the first and last day ship exactly the capacity
    inner = per_day.loc[5:horizon - 2]
    assert len(inner) == horizon - 6
    assert np.allclose(inner, cap)
    # the unmet part waits as a backlog at the DC (never lost, never created)
    assert r.kpis["delivered_units"] < 0.7 * r.kpis["demand_units"]


@pytest.mark.parametrize("on_time_prob", [0.8, 0.5])
def test_vendor_reliability_late_share(tmp_path, on_time_prob):
    # one unit ordered at the start of every day; the vendor ships a quarter of a day later
    # when on time and three quarters when late, so the clock time of each shipment tells
    # whether it was late
    days = 2_000
    (tmp_path / "series.csv").write_text(
        "day,quantity_units\n" + "".join(f"{d},1\n" for d in range(days)))
    sc = single_stage(tmp_path, demand_rate=LAMBDA, lead_time="fixed(1)",
                      policy={"policy": "base_stock", "order_up_to_units": 3},
                      horizon_days=days, warmup_days=0, initial_dc_units=3,
                      extra_demand={"process": "series", "series_file": "series.csv",
                                    "orders_per_day": None},
                      external_supplier={"supply_lead_time_days": "fixed(0.25)",
                                         "supply_on_time_prob": on_time_prob,
                                         "supply_late_days": "fixed(0.5)"})
    r = simulate(sc, log_events=True)
    ev = r.events
    ships = ev[(ev["event"] == "ship") & (ev["lane_id"] == "L-UP-DC")]
    phase = ships["time_days"] % 1.0
    assert np.all(np.isclose(phase, 0.25) | np.isclose(phase, 0.75))
    n = len(ships)
    assert n > 0.95 * days
    late = float(np.isclose(phase, 0.75).mean())
    sd = math.sqrt(on_time_prob * (1 - on_time_prob) / n)
    assert abs(late - (1 - on_time_prob)) < 4 * sd, (late, 1 - on_time_prob, sd)
