"""Judge the best designs by simulation: the optimum and the next-best designs that move goods
differently.

Alternatives must differ in how goods flow, not only in which sites are paid for: a no-good
cut on the open/closed vector alone returns "the optimum plus an idle open site". So
:func:`next_best_designs` solves the design model for the optimum, then adds to the model, for
every site ``s`` (candidate or fixed open), a binary ``carry[s]``, "the site carries flow",
linked to the site's normalised throughput ``T_s = sum over its stock nodes of inflow /
product_bound`` (the share of each product's network flow that passes through it):

* ``T_s >= MIN_CARRY_SHARE x carry[s]`` (a carrying site moves at least that share) and
  ``T_s <= nodes(s) x carry[s]`` (a site that carries nothing has no inflow);
* for a candidate site ``y[s] <= carry[s]``: an open candidate carries flow (no idle sites);

and a no-good cut on the carrying vector of each design found so far (the optimum's is read
from its flows): ``sum_{s carried} (1 - carry[s]) + sum_{s not carried} carry[s] >= 1``. Each
alternative is the cheapest design whose set of flow-carrying sites differs from all before.
:func:`flow_difference` says how a design differs from the optimum: the sites that carry flow
in one and not the other, the lanes used in one and not the other, and the units per year
that move differently (half the sum of absolute arc-flow changes).

:func:`evaluate_designs` writes each design as a scenario, simulates it with common random
numbers (replication *i* of every design is ``supplytwin.simulate(scenario, seed=seed,
replication=i)``, through :func:`supplytwin.experiment.run_replications` when the experiment
layer is installed) and ranks the designs by simulated annual cost, with 95 % Student-t
intervals, the fill rate, and the paired difference of each design from the model's optimum.

The simulated annual cost is the simulator's ``cost_total_usd`` (every cost group of
:mod:`supplytwin.model.costs` after the warm-up, fixed site costs included) scaled to 365 days,
plus the annual cost of capacity expansions, which the simulator does not know of.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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

#: least share of a product's network flow that a site must pass to count as carrying flow in
#: an alternative design (so an alternative cannot differ by a trickle through an idle site)
MIN_CARRY_SHARE = 0.01
#: normalised throughput above which a site of the optimum counts as carrying flow
CARRY_TOL = 1e-9


def site_throughput_shares(data: DesignData, x: np.ndarray, q: np.ndarray | None = None
                           ) -> np.ndarray:
    """Per site: the sum over its stock nodes of inflow (receipts + production) / the product's
    network flow bound, from arc flows ``x`` (and production ``q``)."""
    out = np.zeros(len(data.sites))
    bound = np.array([max(data.product_bound[p], 1e-12) for p in data.node_product])
    inflow = np.zeros(len(data.node_site))
    to = data.arc_to_node
    np.add.at(inflow, to[to >= 0], x[to >= 0])
    if q is not None and len(q):
        np.add.at(inflow, data.prod_node, q)
    np.add.at(out, data.node_site, inflow / bound)
    return out


def carrying_sites(result: DesignResult, tol: float = CARRY_TOL) -> frozenset[str]:
    """Sites through which the design moves goods (receipts or production)."""
    d = result.data
    prod = result.tables.get("production")
    q = prod["units_per_year"].to_numpy() if prod is not None else None
    t = site_throughput_shares(d, result.arc_flow, q)
    return frozenset(s for i, s in enumerate(d.sites) if t[i] > tol)


def flow_difference(result: DesignResult, base: DesignResult) -> dict[str, object]:
    """How ``result`` moves goods differently from ``base``: sites and lanes that carry flow in
    one and not the other, and the units per year routed differently."""
    d = result.data
    here, there = carrying_sites(result), carrying_sites(base)
    x, x0 = result.arc_flow, base.arc_flow
    lanes_here = {d.lanes[d.arc_lane[a]] for a in np.flatnonzero(x > 0)}
    lanes_base = {d.lanes[d.arc_lane[a]] for a in np.flatnonzero(x0 > 0)}
    return {
        "sites_added": sorted(here - there), "sites_dropped": sorted(there - here),
        "lanes_added": sorted(lanes_here - lanes_base),
        "lanes_dropped": sorted(lanes_base - lanes_here),
        "units_rerouted_per_year": float(0.5 * np.abs(x - x0).sum()),
    }


def _add_carry_rows(m: pe.ConcreteModel, data: DesignData) -> list[str]:
    """The ``carry`` binaries and their links (see the module docstring); returns the sites."""
    from supplytwin.opt.model import row

    nodes_of: dict[int, list[int]] = {}
    for n, s in enumerate(data.node_site.tolist()):
        nodes_of.setdefault(s, []).append(n)
    prod_at = {int(n): j for j, n in enumerate(data.prod_node.tolist())}
    q_vars = list(m.q.values())
    sites = [data.sites[s] for s in sorted(nodes_of)]
    m.carry = pe.Var(sites, within=pe.Binary)

    def throughput(s: int) -> list[tuple[float, object]]:
        t = []
        for n in nodes_of[s]:
            w = 1.0 / max(data.product_bound[data.node_product[n]], 1e-12)
            t += [(w, m.x[a]) for a in data.node_in[n]]
            if n in prod_at:
                t.append((w, q_vars[prod_at[n]]))
        return t

    idx = {s: data.site_index[s] for s in sites}
    m.carry_least = pe.Constraint(sites, rule=lambda m, s: row(
        throughput(idx[s]) + [(-MIN_CARRY_SHARE, m.carry[s])], 0.0, None))
    m.carry_most = pe.Constraint(sites, rule=lambda m, s: row(
        throughput(idx[s]) + [(-float(len(nodes_of[idx[s]])), m.carry[s])], None, 0.0))
    m.carry_open = pe.Constraint([s for s in sites if s in m.y], rule=lambda m, s: row(
        [(1.0, m.y[s]), (-1.0, m.carry[s])], None, 0.0))
    return sites


def next_best_designs(data: DesignData, n: int, options: DesignOptions | None = None,
                      settings: SolverSettings | None = None,
                      on_design: Callable[[int, DesignResult], None] | None = None
                      ) -> list[DesignResult]:
    """The optimum and up to ``n - 1`` next-best designs, each with its own set of sites that
    carry flow (fewer if the network admits fewer)."""
    opts = options or data.options
    m = build_network_design_model(data, opts)
    out: list[DesignResult] = []
    sites: list[str] = []
    for i in range(n):
        outcome = solve(m, settings)
        if not outcome.has_solution:
            break
        res = design_result(m, data, outcome, opts, shadow_prices=(i == 0), settings=settings)
        out.append(res)
        if on_design is not None:
            on_design(i, res)
        if i == n - 1:
            break
        if i == 0:
            sites = _add_carry_rows(m, data)
            m.no_good = pe.ConstraintList()
            if not sites:
                break
        carried = carrying_sites(res)
        on = [s for s in sites if s in carried]
        off = [s for s in sites if s not in carried]
        terms = [(-1.0, m.carry[s]) for s in on] + [(1.0, m.carry[s]) for s in off]
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
    #: measured days of each replication (horizon - warm-up)
    window_days: float = 365.0
    #: per stock point and replication: avg_on_hand_units, cost_holding_usd (for the window)
    stock_points: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def annual_cost(self) -> np.ndarray:
        return self.kpis["annual_cost_usd"].to_numpy()


def simulate_replications(scenario: Scenario, reps: int, seed: int
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """KPIs of replications 0..reps-1 (one row each), with common random numbers, and the
    stock-point table of every replication (a ``replication`` column)."""
    from supplytwin.experiment import run_replications

    result = run_replications(scenario, reps, seed)
    return result.kpi_table().reset_index(drop=True), result.by_stock_point()


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
        table, stock = simulate_replications(sc, reps, seed)
        d = res.data
        fixed = float(sum(d.site_fixed_cost[d.site_index[s]] for s in res.design.open_sites)
                      + sum(d.site_expansion_cost[d.site_index[s]] for s in res.design.expanded))
        expansions = float(sum(d.site_expansion_cost[d.site_index[s]] for s in res.design.expanded))
        # cost_total_usd holds the open sites' fixed costs for the window already
        table = table.assign(annual_cost_usd=table["cost_total_usd"] * 365.0 / window + expansions)
        evaluated.append(EvaluatedDesign(label, i + 1, res, path, table, fixed, window, stock))
    return ranking(evaluated), evaluated


def cost_groups(ev: EvaluatedDesign) -> pd.DataFrame:
    """The design's cost per group per year, in the model and simulated (mean over the
    replications), with why the two may differ (:mod:`supplytwin.model.costs`)."""
    from supplytwin.model.costs import compare_groups, sim_groups_per_year

    means = ev.kpis.mean(numeric_only=True).to_dict()
    sim = sim_groups_per_year(means, ev.window_days)
    return pd.DataFrame(compare_groups(sim, ev.result.total_by_group()))


def stock_point_comparison(ev: EvaluatedDesign) -> pd.DataFrame:
    """Mean stock on hand and holding cost per year of every stock point, in the model
    (:mod:`supplytwin.opt.stock`) and simulated (mean over the replications), and the
    difference: where the model's full-service assumption misses (backorders, waiting)."""
    keys = ["site_id", "product_id"]
    model = ev.result.tables.get("stock_points", pd.DataFrame(columns=keys))
    model = model.rename(columns={"avg_on_hand_units": "model_on_hand_units",
                                  "holding_usd_per_year": "model_holding_usd_per_year"})
    sim = pd.DataFrame(columns=[*keys, "sim_on_hand_units", "sim_holding_usd_per_year"])
    if not ev.stock_points.empty:
        sim = (ev.stock_points.groupby(keys, as_index=False)
               [["avg_on_hand_units", "cost_holding_usd"]].mean()
               .rename(columns={"avg_on_hand_units": "sim_on_hand_units",
                                "cost_holding_usd": "sim_holding_usd_per_year"}))
        sim["sim_holding_usd_per_year"] *= 365.0 / ev.window_days
    out = model[[*keys, "model_on_hand_units", "model_holding_usd_per_year"]].merge(
        sim, on=keys, how="outer").fillna(0.0)
    out["sim_minus_model_units"] = out["sim_on_hand_units"] - out["model_on_hand_units"]
    out = out[(out["model_on_hand_units"] > 0) | (out["sim_on_hand_units"] > 0)]
    return out.sort_values(keys, ignore_index=True)


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
        diff = flow_difference(ev.result, evaluated[0].result)
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
            "sites_added": ";".join(diff["sites_added"]),
            "sites_dropped": ";".join(diff["sites_dropped"]),
            "lanes_added": len(diff["lanes_added"]), "lanes_dropped": len(diff["lanes_dropped"]),
            "units_rerouted_per_year": diff["units_rerouted_per_year"],
            "replications": len(ev.kpis),
            "scenario": ev.scenario_path.name,
        })
    df = pd.DataFrame(rows)
    if not df.empty:
        df["sim_rank"] = df["sim_cost_usd"].rank(method="min").astype(int)
        df = df.sort_values(["sim_rank", "model_rank"], ignore_index=True)
    return df
