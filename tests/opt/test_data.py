"""Extraction of the design data set from the network objects the simulator runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from supplytwin.opt import DesignOptions, extract
from supplytwin.opt.data import arc_rule, lane_timing
from supplytwin.opt.options import DesignOptionsError
from supplytwin.scenario import load_scenario

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def data(baseline):
    return extract(baseline)


def arcs(data) -> set[tuple[str, str]]:
    return {(data.lanes[data.arc_lane[a]], data.arc_product[a]) for a in range(data.n_arcs)}


def test_every_arc_obeys_the_cold_chain_rule(baseline, data):
    net = baseline.network
    for lane_id, product in arcs(data):
        assert net.lane_can_carry(net.lanes[lane_id], product)
    have = arcs(data)
    # a reefer holds 2-8 C and frozen goods but not ultra-cold mRNA; dry ice does
    assert ("L-FFBE-FRA-RD", "FRZ-VAC") in have
    assert ("L-FFBE-FRA-RD", "MRNA-VAC") not in have
    assert ("L-FFBE-FRA-RD-DI", "MRNA-VAC") in have
    # an ambient air lane carries the tablet API but nothing cold
    assert ("L-SUPCN-DSIE-AIR", "API-ORA") in have


def test_annual_demand_is_the_mean_rate_times_365(baseline, data):
    net = baseline.network
    for c, p, units in zip(data.demand_customer, data.demand_product, data.demand_units,
                           strict=True):
        assert units == pytest.approx(net.demand_mean_rate(net.demand[(c, p)]) * 365.0)
    assert len(data.demand_units) == len(net.demand)


def test_lane_capacity_is_capacity_per_departure_times_departures(data):
    l = data.lane_index["L-FFPR-FRA-AIR"]  # 1500 units, weekly:mon,wed,fri
    assert data.lane_capacity[l] == pytest.approx(1500 * 3 * 365 / 7)
    assert math.isinf(data.lane_capacity[data.lane_index["L-FFIT-MEM-SEA"]])  # no cap


def test_lane_timing_waits_for_the_next_departure(baseline):
    lanes = baseline.network.lanes
    t = lane_timing(lanes["L-DSUS-FFBE-AIR-LN2"])  # weekly:mon,thu: gaps of 3 and 4 days
    assert t.departures_per_year == pytest.approx(2 * 365 / 7)
    assert t.mean_wait_days == pytest.approx((3**2 + 4**2) / (2 * 7))
    assert t.lead_days == pytest.approx(lanes["L-DSUS-FFBE-AIR-LN2"].transit_time_days.mean
                                        + 25 / 14)
    od = lane_timing(lanes["L-LOU-US-NYC-MSKCC-DI"])
    assert od.on_demand and od.mean_wait_days == 0 and math.isinf(od.departures_per_year)


def test_qualified_hours_rule(baseline):
    net = baseline.network
    lane = net.lanes["L-FFPR-MEM-AIR"]  # passive refrigerated, 144 h, triangular(1, 1.5, 3)
    opts = DesignOptions()
    assert arc_rule(net, lane, "MAB-PFS", opts) is None
    short = lane.model_copy(update={"qualified_hours": 48.0})
    reason = arc_rule(net, short, "MAB-PFS", opts)
    assert reason is not None and "48 qualified hours" in reason
    # the rule uses mean + k standard deviations of the transit time
    d = lane.transit_time_days
    hours = 24 * (d.mean + 2 * math.sqrt(d.variance))
    assert arc_rule(net, lane.model_copy(update={"qualified_hours": hours + 0.1}), "MAB-PFS",
                    opts) is None
    assert arc_rule(net, lane.model_copy(update={"qualified_hours": hours - 0.1}), "MAB-PFS",
                    opts) is not None


def test_production_through_the_bill_of_materials(baseline, data):
    net = baseline.network
    j = data.prod_index[("DS-CH-VISP", "DS-MRNA")]  # capacity_batches_per_year = 10
    row = net.production[("DS-CH-VISP", "DS-MRNA")]
    good = 60 * row.yield_frac.mean * (1 - row.batch_failure_prob)
    assert data.prod_good_per_batch[j] == pytest.approx(good)
    assert data.prod_line_days[j] == pytest.approx(365 / 10 / good)
    j = data.prod_index[("FF-PR-JUNCOS", "MAB-PFS")]  # lines x 365 / mean cycle time
    row = net.production[("FF-PR-JUNCOS", "MAB-PFS")]
    good = 12000 * row.yield_frac.mean * (1 - row.batch_failure_prob)
    assert data.prod_line_days[j] == pytest.approx(row.cycle_time_days.mean / good)
    ((node, coef),) = data.prod_inputs[j]
    assert data.node_label(node) == "FF-PR-JUNCOS/DS-MAB"
    assert coef == pytest.approx(550 / good)
    # lines are shared: one capacity row per site, 2 lines x 365 days at Puurs
    assert data.site_line_days[data.site_index["FF-BE-PUURS"]] == 2 * 365


def test_storage_turnover(data):
    g = next(i for i in range(len(data.storage_site))
         if data.sites[data.storage_site[i]] == "DC-US-MEMPHIS"
         and data.storage_class[i].value == "refrigerated")
    assert data.storage_capacity[g] == 1900
    assert data.storage_throughput[g] == pytest.approx(1900 * 365 / 14)


def test_new_stocking_and_pruning(baseline, data):
    # Madrid has no policy rows; as a candidate DC it may stock every product it has room for
    assert ("DC-ES-MADRID", "MAB-PFS") in data.node_index
    assert not data.node_has_policy[data.node_index[("DC-ES-MADRID", "MAB-PFS")]]
    strict = extract(baseline, DesignOptions(allow_new_stocking=False))
    assert not any(s == "DC-ES-MADRID" for s, _p in strict.node_index)
    # the Indian API supplier has no lane in the baseline: pruned
    assert ("SUP-IN-HYDERABAD", "API-ORA") not in data.node_index
    # a stock point that makes its product is not replenished over lanes
    made = {data.prod_node[j] for j in range(len(data.prod_node))}
    assert all(not data.node_in[n] for n in made)


def test_costs_are_per_unit_and_nonnegative(data):
    for arr in (data.arc_freight, data.arc_shipment, data.arc_handling, data.prod_cost,
                data.node_hold_usd, data.node_on_hand_fixed, data.arc_on_order_days,
                data.prod_on_order_days):
        assert np.all(arr >= 0) and np.all(np.isfinite(arr))
    assert np.all(np.isfinite(data.arc_on_hand_days)) and np.all(np.isfinite(data.prod_on_hand_days))
    # courier shipments spread their per-shipment cost over the mean order
    a = next(a for a in range(data.n_arcs) if data.lanes[data.arc_lane[a]] == "L-LOU-US-NYC-MSKCC-DI"
         and data.arc_product[a] == "MRNA-VAC")
    assert data.arc_shipment[a] == pytest.approx(40 / 15)
    # lanes on a schedule carry their per-departure cost as an annual fixed charge
    l = data.lane_index["L-FFPR-FRA-AIR"]
    assert data.lane_fixed_charge[l] == pytest.approx(3000 * 3 * 365 / 7)


def test_bad_options_are_user_errors():
    with pytest.raises(DesignOptionsError, match="n-minus-1 share"):
        DesignOptions(n_minus_1_share=2).validate()
    with pytest.raises(DesignOptionsError, match="objective"):
        DesignOptions(objective="profit").validate()
