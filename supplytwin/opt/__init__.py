"""Network redesign: a Pyomo + HiGHS model built from the network objects the simulator runs.

Pipeline, one pure step per module::

    data = extract(scenario, options)                 # supplytwin.opt.data
    model = build_network_design_model(data, options)  # supplytwin.opt.model (Pyomo)
    outcome = solve(model, settings)                   # supplytwin.opt.solver (HiGHS)
    result = design_result(model, data, outcome)       # supplytwin.opt.results (pandas)
    explain_infeasible(data, options, settings)        # supplytwin.opt.infeasibility

:func:`optimise` runs them in order. :mod:`supplytwin.opt.design` writes a design back as a
scenario that extends the original, :mod:`supplytwin.opt.evaluate` simulates the best designs
with common random numbers, and :mod:`supplytwin.opt.orlib` reads Beasley's OR-Library
capacitated warehouse-location instances into the project's own network format.

This package imports no CLI or UI code; only ``design`` and ``orlib`` read or write files.
"""

from __future__ import annotations

import time

from supplytwin.model import Scenario
from supplytwin.opt.data import DesignData, extract, extract_network
from supplytwin.opt.model import build_network_design_model, model_size
from supplytwin.opt.options import DesignOptions, DesignOptionsError
from supplytwin.opt.results import Design, DesignResult, design_result
from supplytwin.opt.solver import SolveOutcome, SolverSettings, solve


def optimise(scenario: Scenario | DesignData, options: DesignOptions | None = None,
             settings: SolverSettings | None = None, *, shadow_prices: bool = True,
             explain: bool = True) -> DesignResult:
    """Extract, build, solve and tabulate; explain the model in words if it is infeasible."""
    options = (options or DesignOptions()).validate()
    settings = (settings or SolverSettings()).validate()
    t0 = time.perf_counter()
    data = scenario if isinstance(scenario, DesignData) else extract(scenario, options)
    t1 = time.perf_counter()
    model = build_network_design_model(data, options)
    t2 = time.perf_counter()
    outcome = solve(model, settings)
    result = design_result(model, data, outcome, options, shadow_prices=shadow_prices,
                           settings=settings)
    result.stats = {
        **model_size(model), "extract_s": t1 - t0, "build_s": t2 - t1,
        "transfer_s": outcome.transfer_s, "solve_s": outcome.solve_s,
        "status": outcome.status, "gap": outcome.gap, "interface": outcome.interface,
    }
    if outcome.status == "infeasible" and explain:
        from supplytwin.opt.infeasibility import explain_infeasible

        net = scenario.network if isinstance(scenario, Scenario) else None
        result.explanation = explain_infeasible(data, options, settings, network=net)
    return result


__all__ = [
    "Design", "DesignData", "DesignOptions", "DesignOptionsError", "DesignResult",
    "SolveOutcome", "SolverSettings", "build_network_design_model", "design_result", "extract",
    "extract_network", "model_size", "optimise", "solve",
]
