"""Mean stock on hand from a stock point's policy and its flows (supplytwin.opt.stock), against
figures worked out by hand in each test (not by the code under test)."""

from __future__ import annotations

import pytest

from supplytwin.model import PolicyRow
from supplytwin.opt.stock import (
    batches_per_order,
    inventory_position,
    position_terms,
    queue_factor,
)

pytestmark = pytest.mark.unit


def policy(**kw) -> PolicyRow:
    return PolicyRow.model_validate({"site_id": "S", "product_id": "P", "sources": "L", **kw})


def test_base_stock_position_is_its_level():
    # one-for-one: every chunk is reordered at once, the position never leaves S
    assert inventory_position(policy(policy="base_stock", order_up_to_units=100), 7) == 100


def test_s_S_position_steps_down_in_chunks():
    # (s,S) = (10, 40), chunks of 10: the position is 40, 30, 20 for equal times (at 10 it
    # reorders at once): mean 30 = (10 + 40 + 10) / 2
    pol = policy(policy="s_S", reorder_point_units=10, order_up_to_units=40)
    assert inventory_position(pol, 10) == pytest.approx(30.0)
    # a chunk larger than S - s triggers an order at every chunk: the position stays at S
    assert inventory_position(pol, 50) == pytest.approx(40.0)


def test_r_Q_position():
    # (r,Q) = (5, 20), unit chunks: 25, 24, ..., 6: mean 15.5 = 5 + (20 + 1) / 2
    pol = policy(policy="r_Q", reorder_point_units=5, order_quantity_units=20)
    assert inventory_position(pol, 1) == pytest.approx(15.5)


def test_made_in_batches_rounds_the_top_up():
    # base stock 100 made in batches of 50, chunks of 20, by hand: 100 -> 80 orders one batch
    # (130), 110, 90 -> one batch (140), 120, 100, 80 -> one batch (130): the cycle visits
    # 130, 110, 140, 120, 100, mean 120
    pol = policy(policy="base_stock", order_up_to_units=100, sources="make")
    assert inventory_position(pol, 20, batch_units=50) == pytest.approx(120.0)
    assert batches_per_order(pol, 20, 50) == 1
    # chunks of 120 (more than a batch): 100 -> -20 orders 3 (130), 10 -> 2 (110), -10 -> 3
    # (140), 20 -> 2 (120), 0 -> 2 (100): the same five levels, mean 120
    assert inventory_position(pol, 120, batch_units=50) == pytest.approx(120.0)
    # (s,S) = (200, 400) in batches of 100, chunks of 20: two batches per order, no round-up
    pol = policy(policy="s_S", reorder_point_units=200, order_up_to_units=400, sources="make")
    assert inventory_position(pol, 20, batch_units=100) == pytest.approx(310.0)
    assert batches_per_order(pol, 20, 100) == 2


def test_queue_of_batches_on_lines():
    # 2 batches on 1 line finish after 1 and 2 cycles: mean 1.5
    assert queue_factor(2, 1) == pytest.approx(1.5)
    # 5 batches on 2 lines finish after 1, 1, 2, 2, 3 cycles: mean 9 / 5
    assert queue_factor(5, 2) == pytest.approx(1.8)
    assert queue_factor(1, 3) == 1.0


def test_rescaled_levels_follow_the_flow_but_the_chunk_does_not():
    # (s,S) = (10, 40) with chunks of 10 and 5 units a day in the scenario: position 30, of
    # which q / 2 = 5 stays and 25 = (10 + 40) / 2 scales with the flow: 25 / 5 = 5 days
    pol = policy(policy="s_S", reorder_point_units=10, order_up_to_units=40)
    pos = position_terms(pol, 10, 5.0, rescaled=True)
    assert pos.fixed_units == pytest.approx(5.0) and pos.days_per_flow == pytest.approx(5.0)
    # a stock point without flow in the scenario keeps its levels
    pos = position_terms(pol, 10, 0.0, rescaled=True)
    assert pos.fixed_units == pytest.approx(30.0) and pos.days_per_flow == 0.0


def test_periodic_policies():
    # days of supply 10, reviewed every 4 days: the position is 10 days of demand just after
    # a review and 6 days just before: mean 8 days per unit a day
    pol = policy(policy="days_of_supply", review_period_days=4, days_of_supply_target=10)
    assert position_terms(pol, 3, 2.0, rescaled=True).days_per_flow == pytest.approx(8.0)
    # (R,S) = (4, 60) at 5 units a day: 60 down to 40 between reviews, mean 50 = 10 days
    pol = policy(policy="R_S", review_period_days=4, order_up_to_units=60)
    pos = position_terms(pol, 5, 5.0, rescaled=True)
    assert pos.fixed_units == 0.0 and pos.days_per_flow * 5.0 == pytest.approx(50.0)
