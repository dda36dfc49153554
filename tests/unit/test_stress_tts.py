"""The time-to-survive LP against answers worked out by hand on a five-site network.

tests/data/stress_hand: API plants A1 (10/day, 100 in stock) and A2 (5/day, 50 in stock) feed
packaging site PK (30/day, one API per pack, 200 packs in stock), which ships to DC (100 packs)
and straight to customer C; C needs 20 packs a day. By hand, with node X down, TTS is the
largest t with 20 t <= (packs reachable) + (packs PK can make from the API reachable):

* nothing down: 20 t <= 300 + (150 + 15 t)          -> t = 90 (API supply 15/day < 20/day)
* PK down:      20 t <= 100 (only the DC's stock)    -> t = 5
* A1 down:      20 t <= 300 + (50 + 5 t)             -> t = 70/3 = 23.33
* A2 down:      20 t <= 300 + (100 + 10 t)           -> t = 40
* DC down:      20 t <= 200 + min(30 t, 150 + 15 t)  -> t = 70 (PK's own stock, direct lane)
* TTR variant, PK down 10 days: 20 x 10 - 100 = 100 packs lost, x 2 patients/pack = 200.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from supplytwin.scenario import load_scenario
from supplytwin.stress.tts import (
    candidate_nodes,
    lost_at_recovery,
    survival_table,
    time_to_survive,
)

pytestmark = pytest.mark.unit

HAND = Path(__file__).parents[1] / "data" / "stress_hand" / "scenario.yaml"


@pytest.fixture(scope="module")
def net():
    return load_scenario(HAND).network


@pytest.mark.parametrize(("down", "expected"), [
    ((), 90.0), (("PK",), 5.0), (("A1",), 70 / 3), (("A2",), 40.0), (("DC",), 70.0),
    (("A1", "A2"), 15.0),  # no API at all: 20 t <= 300 -> 15
])
def test_tts_matches_hand_computation(net, down, expected):
    assert time_to_survive(net, down) == pytest.approx(expected, rel=1e-6)


def test_ttr_lp_loses_the_demand_beyond_tts(net):
    units, patients = lost_at_recovery(net, ["PK"], 10.0)
    assert units == pytest.approx(100.0, rel=1e-6)
    assert patients == pytest.approx(200.0, rel=1e-6)
    # down for less than its TTS: nothing lost
    assert lost_at_recovery(net, ["PK"], 4.0)[0] == pytest.approx(0.0, abs=1e-6)


def test_survival_table_flags_nodes_whose_tts_is_below_ttr(net):
    assert candidate_nodes(net) == ["A1", "A2", "DC", "PK"]
    table = {r.node: r for r in survival_table(net, {"PK": 10.0, "A2": 30.0})}
    assert table["PK"].at_risk and table["PK"].patients_at_risk == pytest.approx(200.0)
    assert not table["A2"].at_risk  # 40 days of survival > 30 days to recover
    assert table["A1"].ttr_days is None and not table["A1"].at_risk


def test_a_node_the_network_does_not_need_survives_indefinitely(net):
    # with twice the API capacity at A1 the network never runs short with A2 down
    from dataclasses import replace

    a1 = net.production[("A1", "API")].model_copy(update={"batch_size_units": 30.0})
    richer = replace(net, production={**net.production, ("A1", "API"): a1})
    assert math.isinf(time_to_survive(richer, ["A2"]))


def test_stock_given_at_the_disruption_start_replaces_the_initial_stock(net):
    stock = {("DC", "FG"): 160.0}
    assert time_to_survive(net, ["PK"], stock=stock) == pytest.approx(8.0)


def test_an_external_supplier_is_a_source_limited_by_its_daily_capacity(net):
    """A2 replaced by vendor X shipping at most 5 API a day and holding no stock:
    with A1 down, 20 t <= 300 + 5 t -> t = 20."""
    from dataclasses import replace

    from supplytwin.model import LaneRow, SiteRow

    x = SiteRow(site_id="X", kind="external_supplier", latitude=50.0, longitude=5.0,
                supply_capacity_units_per_day=5.0)
    lane = net.lanes["L-A2-PK"].model_copy(update={"lane_id": "L-X-PK", "origin_id": "X"})
    pol = net.policies[("PK", "API")].model_copy(update={"sources": ("L-A1-PK", "L-X-PK")})
    sites = {k: v for k, v in net.sites.items() if k != "A2"} | {"X": x}
    lanes = {k: v for k, v in net.lanes.items() if k != "L-A2-PK"} | {"L-X-PK": lane}
    production = {k: v for k, v in net.production.items() if k[0] != "A2"}
    policies = {k: v for k, v in net.policies.items() if k[0] != "A2"} | {("PK", "API"): pol}
    stock = tuple(l for l in net.initial_stock if l.site_id != "A2")
    vendor = replace(net, sites=sites, lanes=lanes, production=production, policies=policies,
                     initial_stock=stock)
    assert isinstance(lane, LaneRow)
    assert time_to_survive(vendor, ["A1"]) == pytest.approx(20.0)
    assert "X" in candidate_nodes(vendor)
