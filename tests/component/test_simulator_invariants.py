"""Invariants of every run, on random networks (tests/support/randnet.py).

Whatever the network, policy, disruption or shelf life, a run must:

* balance its units per product (checked inside the run: a violation raises);
* give identical KPIs and time series for identical seeds;
* never hold negative stock, negative units in transit or on order, or a negative backlog, and
  never count more units in transit towards a stock point than it has on order;
* never fill an order beyond its quantity, nor deliver plus lose more than was ordered, nor
  complete an order before it was placed;
* report rates within [0, 1] and costs, CO2, losses and counts that are not negative; cold
  storage above 100 % only where goods that cannot wait (released batches) overflowed it, which
  the run records.

The examples are derandomised, so CI sees the same networks every run; a failure prints the
network that broke the invariant.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from supplytwin import simulate
from supplytwin.sim.engine import Model
from supplytwin.sim.mass_balance import check_mass_balance
from tests.support.randnet import random_networks, write_network

pytestmark = pytest.mark.component

EPS = 1e-6
RATES = ("fill_rate", "order_fill_rate", "otif", "cycle_service_level")
STORAGE = ("cold_storage_utilisation", "cold_storage_peak_utilisation")


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@settings(max_examples=30, deadline=None, derandomize=True, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(net=random_networks())
def test_every_run_keeps_its_invariants(net):
    with tempfile.TemporaryDirectory() as tmp:
        sc = write_network(Path(tmp), net)
        horizon = sc.simulation.horizon_days

        # determinism, through the public API (mass balance is checked inside each run)
        first, second = simulate(sc, seed=11), simulate(sc, seed=11)
        assert first.kpis.keys() == second.kpis.keys()
        assert all(_same(first.kpis[k], second.kpis[k]) for k in first.kpis), \
            "same seed, different KPIs"
        assert first.timeseries.equals(second.timeseries)

        k = first.kpis
        for name in RATES:
            assert math.isnan(k[name]) or -EPS <= k[name] <= 1 + EPS, (name, k[name])
        if k["storage_overflow_units"] <= 0:
            for name in STORAGE:
                assert math.isnan(k[name]) or k[name] <= 1 + EPS, (name, k[name])
        for name, value in k.items():
            if name not in RATES and not math.isnan(value):
                assert value >= -EPS, (name, value)

        ts = first.timeseries
        for col in ("on_hand_units", "in_transit_units", "on_order_units", "backlog_units"):
            assert (ts[col] >= -EPS).all(), (col, ts.loc[ts[col] < -EPS].head())
        assert (ts["in_transit_units"] <= ts["on_order_units"] + EPS).all()

        # order by order, from the model itself
        m = Model(sc, 11, keep_orders=True)
        m.env.run(until=horizon)
        check_mass_balance(m)
        for o in m.orders:
            assert -EPS <= o.filled_immediately_units <= o.quantity_units + EPS, o
            assert o.delivered_units + o.lost_units <= o.quantity_units + EPS, o
            assert o.lost_units >= -EPS and o.delivered_units >= -EPS, o
            if o.completed_day is not None:
                assert o.placed_day - EPS <= o.completed_day <= horizon + EPS, o
        for sp in m.stockpoints.values():
            assert sp.stock.units >= -EPS and sp.backlog_units >= -EPS
            assert -EPS <= sp.in_transit_units <= sp.on_order_units + EPS, \
                (sp.site_id, sp.product_id, sp.in_transit_units, sp.on_order_units)
