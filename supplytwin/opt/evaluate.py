"""Judge the best designs by simulation: the optimum and the next-best distinct designs.

:func:`next_best_designs` solves the design model, then adds a no-good cut on the open/close
binaries of the candidate sites (``sum_{s open} (1 - y_s) + sum_{s closed} y_s >= 1``) and
solves again, N times: the optimum and the N-1 next-best *distinct* site configurations (each
with its own best flows).

:func:`evaluate_designs` writes each design as a scenario, simulates it with common random
numbers (replication *i* of every design is ``supplytwin.simulate(scenario, seed=seed,
replication=i)``, through :func:`supplytwin.experiment.run_replications` when the experiment
layer is installed) and ranks the designs by simulated annual cost, with 95 % Student-t
intervals, the fill rate, and the paired difference of each design from the model's optimum.

The simulated annual cost is the simulator's ``cost_total_usd`` (production, transport,
holding, waste, penalties after the warm-up) scaled to 365 days, plus the annual fixed costs of
the design's open sites and expansions, which the simulator does not charge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pe

from supplytwin.model import Scenario
from supplytwin.opt.data import DesignData
from supplytwin.opt.model import build_network_design_model, lin
from supplytwin.opt.options import DesignOptions
from supplytwin.opt.results import DesignResult, design_result
from supplytwin.opt.solver import SolverSettings, solve


def next_best_designs(data: DesignData, n: int, options: DesignOptions | None = None,
                      settings: SolverSettings | None = None,
                      on_design: Callable[[int, DesignResult], None] | None = None
                      ) -> list[DesignResult]:
    """The optimum and up to ``n - 1`` next-best distinct designs (fewer if the candidate
    sites admit fewer feasible configurations)."""
    opts = options or data.options
    m = build_network_design_model(data, opts)
    m.no_good = pe.ConstraintList()
    cand = list(m.y)
    out: list[DesignResult] = []
    for i in range(n):
        outcome = solve(m, settings)
        if not outcome.has_solution:
            break
        res = design_result(m, data, outcome, opts, shadow_prices=(i == 0), settings=settings)
        out.append(res)
        if on_design is not None:
            on_design(i, res)
        if not cand:
            break
        on = [s for s in cand if (m.y[s].value or 0.0) > 0.5]
        off = [s for s in cand if s not in on]
        terms = [(-1.0, m.y[s]) for s in on] + [(1.0, m.y[s]) for s in off]
        m.no_good.add((1.0 - len(on), lin(terms), None))
    return out


@dataclass
class EvaluatedDesign:
    label: str
    model_rank: int
    result: DesignResult
    scenario_path: Path
    kpis: pd.DataFrame  # one row per replication
    fixed_usd: float

    @property
    def annual_cost(self) -> np.ndarray:
        return self.kpis["annual_cost_usd"].to_numpy()


def simulate_replications(scenario: Scenario, reps: int, seed: int) -> pd.DataFrame:
    """KPIs of replications 0..reps-1 (one row each), with common random numbers."""
    try:
        from supplytwin.experiment import run_replications
    except ImportError:  # the experiment layer is not there: loop over simulate
        run_replications = None
    if run_replications is not None:
        table = run_replications(scenario, reps, seed).kpi_table()
        return table.reset_index(drop=True)
    from supplytwin import simulate

    rows = [{"replication": i, "seed": seed, **simulate(scenario, seed=seed, replication=i).kpis}
            for i in range(reps)]
    return pd.DataFrame(rows)


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of a Student-t interval of the mean."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def evaluate_designs(scenario: Scenario, designs: list[DesignResult], folder: Path, reps: int,
                     seed: int | None = None, *, final_folder: Path | None = None,
                     progress: Callable[[str], None] | None = None, sets: Sequence[str] = ()
                     ) -> tuple[pd.DataFrame, list[EvaluatedDesign]]:
    """Write each design into ``folder``, simulate ``reps`` replications of each with common
    random numbers, and return the ranking table and the per-design replications."""
    from supplytwin.opt.design import write_design
    from supplytwin.scenario import load_scenario

    seed = scenario.simulation.seed if seed is None else int(seed)
    sim = scenario.simulation
    window = max(sim.horizon_days - sim.warmup_days, 1e-9)
    evaluated: list[EvaluatedDesign] = []
    for i, res in enumerate(designs):
        label = f"design-{i + 1}"
        path = write_design(scenario, res, folder, name=f"{scenario.name}-{label}",
                            final_folder=final_folder, sets=sets)
        if progress:
            progress(f"simulating {label} ({reps} replications)")
        sc = load_scenario(path)
        table = simulate_replications(sc, reps, seed)
        d = res.data
        fixed = float(sum(d.site_fixed_cost[d.site_index[s]] for s in res.design.open_sites)
                      + sum(d.site_expansion_cost[d.site_index[s]] for s in res.design.expanded))
        table = table.assign(annual_cost_usd=table["cost_total_usd"] * 365.0 / window + fixed)
        evaluated.append(EvaluatedDesign(label, i + 1, res, path, table, fixed))
    return ranking(evaluated), evaluated


def ranking(evaluated: list[EvaluatedDesign]) -> pd.DataFrame:
    rows = []
    base = evaluated[0].annual_cost if evaluated else None
    for ev in evaluated:
        c_mean, c_lo, c_hi = t_interval(ev.annual_cost)
        f_mean, f_lo, f_hi = t_interval(ev.kpis["fill_rate"].to_numpy())
        d_mean, d_lo, d_hi = t_interval(ev.annual_cost - base) if ev.model_rank > 1 \
            else (0.0, 0.0, 0.0)
        d = ev.result.data
        cand = [s for i, s in enumerate(d.sites) if d.site_candidate[i]]
        rows.append({
            "design": ev.label,
            "model_rank": ev.model_rank,
            "model_cost_usd": ev.result.objective,
            "sim_cost_usd": c_mean, "sim_cost_ci_low": c_lo, "sim_cost_ci_high": c_hi,
            "fill_rate": f_mean, "fill_rate_ci_low": f_lo, "fill_rate_ci_high": f_hi,
            "diff_vs_optimum_usd": d_mean, "diff_ci_low": d_lo, "diff_ci_high": d_hi,
            "diff_significant": bool(ev.model_rank > 1 and not math.isnan(d_lo)
                                     and (d_lo > 0 or d_hi < 0)),
            "open_candidates": ";".join(s for s in cand if s in ev.result.design.open_sites),
            "closed_candidates": ";".join(s for s in cand if s not in ev.result.design.open_sites),
            "replications": len(ev.kpis),
            "scenario": ev.scenario_path.name,
        })
    df = pd.DataFrame(rows)
    if not df.empty:
        df["sim_rank"] = df["sim_cost_usd"].rank(method="min").astype(int)
        df = df.sort_values(["sim_rank", "model_rank"], ignore_index=True)
    return df
