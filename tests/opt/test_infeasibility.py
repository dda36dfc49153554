"""Infeasible models are explained in plain words: the family of constraints and the sites,
lanes, products or customers concerned, never just "infeasible"."""

from __future__ import annotations

import pytest

from supplytwin.opt import DesignOptions, extract, optimise
from supplytwin.opt.infeasibility import explain_infeasible
from supplytwin.scenario import load_scenario
from tests.opt.netgen import small_network

pytestmark = pytest.mark.component


def explained(sc, options):
    res = optimise(sc, options)
    assert res.outcome.status == "infeasible"
    ex = res.explanation
    assert ex is not None and ex.findings
    text = str(ex)
    assert text.strip().lower() != "infeasible" and len(text.splitlines()) >= 2
    return ex, text


def test_storage_shortage_names_the_sites_and_classes(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=3, demand_scale=1.6))
    ex, text = explained(sc, DesignOptions(allow_unmet=False))
    assert ex.families == ["storage_capacity"]
    assert "refrigerated storage at DC" in text and "units of storage" in text
    assert all(f.where.startswith("DC") and f.shortfall > 0 for f in ex.findings)


def test_co2_cap(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=1))
    ex, text = explained(sc, DesignOptions(allow_unmet=False, co2_cap_t=1.0))
    assert ex.families == ["co2_cap"]
    assert "CO2 cap of 1 t/year" in text


def test_lanes_outside_the_qualified_hours_are_named(tmp_path):
    """A shipper that ``validate`` accepts (mean + 2 sd of transit fits) but a stricter design
    rule (3 sd) does not: the optimiser explains it with the shared rule's words. (A shipper
    too short even for 2 sd is refused by ``validate``: tests/opt/test_feasibility_rules.py.)"""
    # every reefer lane into C1 becomes a passive shipper qualified for 46 h on a trip of
    # triangular(0.5, 1, 2) days: mean + 2 sd = 43 h, mean + 3 sd = 50 h
    over = {f"L-DC{i}-C1-RD": {"packaging": "passive_refrigerated", "qualified_hours": 46,
                               "transit_time_days": "triangular(0.5, 1, 2)"}
            for i in range(1, 5)}
    sc = load_scenario(small_network(tmp_path, seed=1, lane_overrides=over))
    ex, text = explained(sc, DesignOptions(allow_unmet=False, qualified_hours_sigmas=3))
    assert ex.families == ["no_lane"]
    (f,) = ex.findings
    assert f.where == "C1/P-COLD"
    assert "(mean + 3 sd) exceeds the shipper's 46 qualified hours" in text
    assert "ambient packaging on courier cannot hold refrigerated goods" in text


def test_transit_limit(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=1))
    ex, text = explained(sc, DesignOptions(allow_unmet=False, max_transit_days=0.5))
    assert ex.families == ["no_lane"]
    assert len(ex.findings) == 12  # 6 customers x 2 products
    assert "exceeds the 0.5-day limit" in text


def test_k_sourcing_beyond_the_plants(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=1))
    ex, text = explained(sc, DesignOptions(k_sourcing=3))
    assert ex.families == ["k_sourcing"]
    assert "P-COLD is made at only 2 site(s) (PL-A, PL-B)" in text


def test_n_minus_1_names_the_lost_plant(tmp_path):
    # each plant alone can make only part of the demand
    sc = load_scenario(small_network(tmp_path, seed=2, plant_batches=12))
    ex, text = explained(sc, DesignOptions(n_minus_1_share=0.95))
    assert "n_minus_1" in ex.families
    lost = {f.where for f in ex.findings if f.family == "n_minus_1"}
    assert lost <= {"PL-A", "PL-B"} and lost
    assert "after the loss of PL-" in text and "short of the required 95.0%" in text


def test_explanation_works_from_data_alone(tmp_path):
    sc = load_scenario(small_network(tmp_path, seed=3, demand_scale=1.6))
    opts = DesignOptions(allow_unmet=False)
    ex = explain_infeasible(extract(sc, opts), opts)
    assert ex.families == ["storage_capacity"]
