"""Sources and docks in the optimiser.

An external supplier is a source: its capacity per day caps its output per year, its purchase
price is a production cost, and an unlimited vendor never binds. A site's handling capacity caps
the units it receives plus ships over lanes per year."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytwin.opt import optimise
from tests.support.netbuild import single_stage

pytestmark = pytest.mark.unit

DEMAND_PER_DAY = 2.0


def design(tmp: Path, **vendor):
    sc = single_stage(tmp, demand_rate=DEMAND_PER_DAY, lead_time="fixed(1)",
                      policy={"policy": "base_stock", "order_up_to_units": 8},
                      horizon_days=100,
                      external_supplier={"supply_lead_time_days": "fixed(2)",
                                         "supply_cost_usd_per_unit": 3, **vendor})
    r = optimise(sc)
    assert r.ok, r.outcome
    return r


def test_vendor_capacity_caps_its_flow_per_year(tmp_path):
    r = design(tmp_path, supply_capacity_units_per_day=1.5)
    prod = r.tables["production"].set_index("site_id")
    assert prod.loc["UP", "units_per_year"] == pytest.approx(1.5 * 365)
    flows = r.tables["flows"].set_index("lane_id")
    assert flows.loc["L-UP-DC", "units_per_year"] == pytest.approx(1.5 * 365)
    dem = r.tables["demand"].iloc[0]
    assert dem["unmet_units_per_year"] == pytest.approx((DEMAND_PER_DAY - 1.5) * 365)
    cap = r.tables["capacities"].set_index("where").loc["UP"]
    assert bool(cap["binding"])


def test_unlimited_vendor_meets_all_demand_at_its_price(tmp_path):
    r = design(tmp_path)
    dem = r.tables["demand"].iloc[0]
    assert dem["delivered_units_per_year"] == pytest.approx(DEMAND_PER_DAY * 365)
    costs = r.tables["costs"]
    production = costs.loc[costs["group"] == "production", "usd_per_year"].sum()
    assert production == pytest.approx(3 * DEMAND_PER_DAY * 365)
    sites = r.tables["sites"].set_index("site_id")
    assert not bool(sites.loc["UP", "expanded"])


def test_dc_handling_capacity_limits_units_received_plus_shipped(tmp_path):
    # the DC may handle 1 unit a day: 365 units a year received plus shipped, so at most
    # 182.5 units a year pass through it to the customer (demand 730)
    sc = single_stage(tmp_path, demand_rate=DEMAND_PER_DAY, lead_time="fixed(1)",
                      policy={"policy": "base_stock", "order_up_to_units": 8},
                      horizon_days=100,
                      site_columns={"DC": {"handling_capacity_units_per_day": 1}})
    r = optimise(sc)
    assert r.ok, r.outcome
    dem = r.tables["demand"].iloc[0]
    assert dem["delivered_units_per_year"] == pytest.approx(365 / 2)
    cap = r.tables["capacities"].set_index("family").loc["handling"]
    assert cap["where"] == "DC"
    assert cap["used"] == pytest.approx(365) and cap["capacity"] == pytest.approx(365)
    assert bool(cap["binding"])


def test_a_handling_capacity_that_never_binds_changes_nothing(tmp_path):
    (tmp_path / "free").mkdir()
    (tmp_path / "wide").mkdir()
    out = {}
    for name, cols in (("free", None),
                       ("wide", {"DC": {"handling_capacity_units_per_day": 1_000}})):
        sc = single_stage(tmp_path / name, demand_rate=DEMAND_PER_DAY, lead_time="fixed(1)",
                          policy={"policy": "base_stock", "order_up_to_units": 8},
                          horizon_days=100, site_columns=cols)
        out[name] = optimise(sc).objective
    assert out["wide"] == pytest.approx(out["free"], rel=1e-9)
