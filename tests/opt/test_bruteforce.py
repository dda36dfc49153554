"""The MILP optimum equals a brute-force enumeration of every open/close combination of the
candidate sites (the LP with those binaries fixed), on small random networks and under the
resilience options."""

from __future__ import annotations

import itertools
import math

import pytest

from supplytwin.opt import DesignOptions, SolverSettings, build_network_design_model, extract, solve
from supplytwin.scenario import load_scenario
from tests.opt.netgen import small_network

pytestmark = pytest.mark.validation

EXACT = SolverSettings(mip_gap=1e-9, time_limit_s=60)


def brute_force(data, options) -> tuple[float, frozenset[str]]:
    """Best objective over all 2^n open/close combinations, each an LP with y fixed."""
    model = build_network_design_model(data, options)
    cand = list(model.y)
    best = (math.inf, frozenset())
    for combo in itertools.product((0, 1), repeat=len(cand)):
        for s, v in zip(cand, combo, strict=True):
            model.y[s].fix(v)
        out = solve(model, EXACT)
        if out.status == "infeasible":
            continue
        assert out.status == "optimal", out.termination
        if out.objective < best[0] - 1e-9:
            best = (out.objective, frozenset(s for s, v in zip(cand, combo, strict=True) if v))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_milp_optimum_equals_enumeration(tmp_path, seed):
    sc = load_scenario(small_network(tmp_path, seed=seed))
    opts = DesignOptions()
    data = extract(sc, opts)
    model = build_network_design_model(data, opts)
    out = solve(model, EXACT)
    assert out.status == "optimal"
    best, _open = brute_force(data, opts)
    assert out.objective == pytest.approx(best, rel=1e-7)


@pytest.mark.parametrize("seed", [5, 6])
@pytest.mark.parametrize("options", [
    DesignOptions(n_minus_1_share=0.45),
    DesignOptions(k_sourcing=2, allow_unmet=False),
    DesignOptions(allow_unmet=False, linking="aggregate"),
    DesignOptions(objective="cost+co2", co2_price_usd_per_t=400, max_transit_days=3),
], ids=["n-1", "k-sourcing", "aggregate-linking", "co2-price"])
def test_enumeration_under_options(tmp_path, options, seed):
    # the second plant is a candidate: N-1 and k-sourcing must keep it open, which the
    # cost-only optimum closes (checked below), so these options change the answer
    sc = load_scenario(small_network(tmp_path, seed=seed, n_dc=4, plant_b_candidate=True))
    data = extract(sc, options)
    model = build_network_design_model(data, options)
    out = solve(model, EXACT)
    assert out.status == "optimal"
    best, open_sites = brute_force(data, options)
    assert out.objective == pytest.approx(best, rel=1e-7)
    resilient = options.n_minus_1_share is not None or options.k_sourcing > 1
    assert ("PL-B" in open_sites) == resilient
