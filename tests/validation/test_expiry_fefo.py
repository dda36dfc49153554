"""Expiry and FEFO picking against a hand-computed case.

A DC starts with three lots and never replenishes; a customer orders 8 units every day (a
series) and needs 5 days of remaining shelf life at shipment (5 % of 100 days):

* lot A, 100 units, expires on day 10: shippable while day + 5 < 10, i.e. days 0-4 -> 40 units
  shipped, 60 expire on day 10;
* lot B, 100 units, expires on day 30: days 5-16 take 12 x 8 = 96, day 17 takes the last 4;
* lot C, 100 units, made on day 0 (expires on day 100): from day 17 on, 4 + 12 x 8 = 100
  units by day 29; it never expires within the 40 days.

Expected: expired = 60 units, all from lot A; FEFO means no unit of C leaves before B is
empty; days 30-39 find no stock.
"""

from __future__ import annotations

import pytest

from supplytwin.sim import simulate
from tests.support.netbuild import single_stage, write_table

pytestmark = pytest.mark.validation


def test_fefo_expiry_exact(tmp_path):
    write_table(tmp_path / "series.csv", [{"day": d, "quantity_units": 8} for d in range(40)])
    lots = [
        {"site_id": "DC", "product_id": "P1", "lot_id": lot, "quantity_units": 100,
         "age_days": 100 - expiry}
        for lot, expiry in (("A", 10), ("B", 30))
    ] + [{"site_id": "DC", "product_id": "P1", "lot_id": "C", "quantity_units": 100, "age_days": 0}]
    sc = single_stage(
        tmp_path, demand_rate=1, lead_time="fixed(1)",
        policy={"policy": "R_S", "order_up_to_units": 0, "review_period_days": 1000},
        product={"shelf_life_days": 100, "min_remaining_shelf_life_frac": 0.05},
        extra_demand={"process": "series", "series_file": "series.csv", "orders_per_day": None},
        horizon_days=40, warmup_days=0, upstream_units=1, initial_lots=lots,
    )
    r = simulate(sc, seed=1, log_events=True)
    mb = r.mass_balance.set_index("product_id").loc["P1"]
    assert mb["expired_units"] == 60
    ev = r.events
    expired = ev[ev["event"] == "expired"]
    assert set(expired["lot_id"]) == {"A"} and expired["quantity_units"].sum() == 60
    ships = ev[(ev["event"] == "ship") & (ev["site_id"] == "DC")].sort_values("time_days")
    by_lot = ships.groupby("lot_id")["quantity_units"].sum().to_dict()
    assert by_lot == {"A": 40, "B": 100, "C": 100}  # C (expiry day 100) covers days 17-29 + 4
    # FEFO: the first unit of C leaves on the day B runs out (day 17), not before
    first_c = ships[ships["lot_id"] == "C"]["time_days"].min()
    last_b = ships[ships["lot_id"] == "B"]["time_days"].max()
    assert first_c == last_b == 17
    # A unit of A never ships within 5 days of A's expiry
    assert ships[ships["lot_id"] == "A"]["time_days"].max() == 4
