"""The QC lab as an M/M/c queue: mean wait for the lab against Erlang C.

Set-up: unit batches are triggered one-for-one by Poisson customer orders at the plant (base
stock, batch size 1, zero cycle time), so batches reach QC as a Poisson process of rate lambda;
release times are exponential with mean 1/mu; the lab tests c batches at once.
"""

from __future__ import annotations

import numpy as np
import pytest

from supplytwin.analytic import mmc_mean_wait
from supplytwin.sim.engine import Model
from supplytwin.sim.mass_balance import check_mass_balance
from tests.support.netbuild import write_table
from tests.support.stats import batch_means_ci

pytestmark = pytest.mark.validation


def build(tmp, lam, mean_release, servers, horizon):
    import yaml

    from supplytwin.scenario import load_scenario

    write_table(tmp / "products.csv", [{"product_id": "P1", "temperature_class": "crt",
                                        "shelf_life_days": 1e7, "unit_value_usd": 1,
                                        "units_per_batch": 1}])
    write_table(tmp / "sites.csv", [
        {"site_id": "UP", "kind": "fill_finish", "latitude": 50, "longitude": 8},
        {"site_id": "C1", "kind": "customer", "latitude": 52, "longitude": 13},
    ])
    write_table(tmp / "production.csv", [{
        "site_id": "UP", "product_id": "P1", "cycle_time_days": "fixed(0)", "lines": 1,
        "qc_release_days": f"exponential(mean={mean_release})", "qc_lab_capacity": servers}])
    write_table(tmp / "lanes.csv", [{
        "lane_id": "L1", "origin_id": "UP", "destination_id": "C1", "mode": "road",
        "transit_time_days": "fixed(1)", "departure_schedule": "on_demand", "packaging": "ambient"}])
    write_table(tmp / "policies.csv", [{"site_id": "UP", "product_id": "P1", "policy": "base_stock",
                                        "order_up_to_units": 5000, "sources": "make"}])
    write_table(tmp / "initial_stock.csv", [{"site_id": "UP", "product_id": "P1", "lot_id": "A",
                                             "quantity_units": 5000}])
    write_table(tmp / "demand.csv", [{"customer_id": "C1", "product_id": "P1",
                                      "orders_per_day": lam, "order_size_units": "fixed(1)"}])
    doc = {"name": "qc", "network": {t: f"{t}.csv" for t in (
        "products", "sites", "production", "lanes", "policies", "initial_stock", "demand")},
        "simulation": {"horizon_days": horizon, "warmup_days": 50}}
    (tmp / "s.yaml").write_text(yaml.safe_dump(doc))
    return load_scenario(tmp / "s.yaml")


@pytest.mark.parametrize("lam, servers", [(1.5, 2), (2.4, 3)])
def test_qc_lab_wait_matches_erlang_c(tmp_path, lam, servers):
    mean_release = 1.0
    sc = build(tmp_path, lam, mean_release, servers, horizon=8_000)
    m = Model(sc, seed=3)
    m.env.run(until=sc.simulation.horizon_days)
    check_mass_balance(m)
    waits = np.array(m.recorder.qc_waits_days)
    # waits are recorded in arrival order; batch them by index (equal-count batches)
    idx = np.arange(len(waits), dtype=float)
    _mean, lo, hi = batch_means_ci(waits, idx, 0, len(waits), n_batches=30)
    theory = mmc_mean_wait(lam, 1 / mean_release, servers)
    assert lo <= theory <= hi, f"Erlang C {theory:.4f} outside [{lo:.4f}, {hi:.4f}]"
    # discriminating: a lab 10 % faster would be told apart
    assert not (lo <= mmc_mean_wait(lam, 1.1 / mean_release, servers) <= hi)
