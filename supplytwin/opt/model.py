"""The network-design MILP as a Pyomo model, built by a pure function of the design data.

:func:`build_network_design_model` reads a :class:`~supplytwin.opt.data.DesignData` and
:class:`~supplytwin.opt.options.DesignOptions` and returns a ``ConcreteModel``; it solves
nothing and touches no file. The mathematics is written out in ``docs/optimisation.md``; the
names below follow it:

=================  =====================================================================
``y[s]``           site ``s`` open (binary; candidate sites only, others are fixed)
``e[s]``           site ``s`` expanded (binary; with ``allow_expansion``)
``w[l]``           lane ``l`` used (binary; lanes with a fixed annual charge)
``x[a]``           annual units on arc ``a`` = (lane, product) (index into ``data.arc_*``)
``q[s, p]``        annual good units of ``p`` made at ``s``
``u[c, p]``        annual units of demand not met
``v[a]``           arc ``a`` is the single source of its customer x product (binary)
``oh[n]``          mean units on hand at stock node ``n`` (:mod:`supplytwin.opt.stock`)
=================  =====================================================================

Constraint families (each a Pyomo ``Constraint`` named as in the docs): ``on_hand``, ``balance``,
``demand``, ``production_capacity``, ``storage_capacity``, ``lane_capacity``, ``lane_use``,
``site_link``, ``expansion_link``, ``arc_link``, ``single_source``, ``single_source_link``,
``co2_cap``, ``k_sourcing`` (with ``k_path_open`` and ``k_reach``), and for N-1 one block
``n1[s]`` per producing site holding its own flow variables and the families ``balance``,
``demand``, ``production_capacity``, ``storage_capacity``, ``lane_capacity``, ``lane_use``,
``site_link`` and ``share``.

Every constraint body is a Pyomo ``LinearExpression`` built from precomputed index lists, so
the build stays linear in the number of nonzeros (see ``benchmarks/opt_speed.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pe
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from supplytwin.opt.data import DesignData
from supplytwin.opt.options import DesignOptions

#: elastic mode prices a slack by the share of its row's right-hand side it relaxes; a share of
#: a requirement (demand, N-1 share, k-sourcing) weighs this much more than a share of a
#: capacity, so capacities are relaxed first
REQUIREMENT_WEIGHT = 1e3

Term = tuple[float, object]


def lin(terms: Sequence[Term]) -> LinearExpression:
    """A linear expression from (coefficient, variable) pairs (coefficients are floats)."""
    mono = MonomialTermExpression
    return LinearExpression([v if c == 1.0 else mono((c, v)) for c, v in terms])


def row(terms: Sequence[Term], lb: float | None, ub: float | None, const: float = 0.0):
    """``lb <= sum(terms) + const <= ub`` as a Pyomo constraint tuple: the constant moves into
    the bounds, so every constraint body is a pure sum of monomials."""
    return (None if lb is None else lb - const, lin(terms), None if ub is None else ub - const)


@dataclass
class _Context:
    """What every family builder needs: the data, options, first-stage decisions, lookups."""

    data: DesignData
    opts: DesignOptions
    #: per site: its open variable, or None for a site whose status is fixed
    open_var: list
    #: per site: 1.0 if open and fixed, 0.0 if closed and fixed (ignored when open_var is set)
    open_const: list[float]
    expand: list  # per site: expansion variable or None
    used: list  # per lane: lane-use variable or None
    prod_of_node: dict[int, int]
    storage_key: dict[tuple[str, str], int]
    slack_terms: list[Term] = field(default_factory=list)

    def opened(self, s: int, coef: float) -> tuple[list[Term], float]:
        """``coef x open_s`` as (variable terms, constant)."""
        v = self.open_var[s]
        return ([(coef, v)], 0.0) if v is not None else ([], coef * self.open_const[s])

    def slack(self, block, name: str, index, weight: float):
        """Elastic mode: a nonnegative slack for one row, weighted in the objective."""
        comp = block.component(f"slack_{name}")
        if comp is None:
            comp = pe.Var(pe.Any, within=pe.NonNegativeReals, dense=False)
            block.add_component(f"slack_{name}", comp)
        v = comp[index]
        self.slack_terms.append((weight, v))
        return v


def use_strong_linking(data: DesignData, options: DesignOptions) -> bool:
    """Whether customer flows get one linking row each (see ``DesignOptions.linking``)."""
    if options.linking == "strong":
        return True
    if options.linking == "aggregate":
        return False
    return len(_strong_rows(data)) <= options.strong_linking_max_rows


def _strong_rows(data: DesignData) -> list[int]:
    origin = data.lane_origin[data.arc_lane]
    mask = (data.arc_to_demand >= 0) & data.site_candidate[origin]
    return np.flatnonzero(mask).tolist()


def build_network_design_model(data: DesignData, options: DesignOptions | None = None
                               ) -> pe.ConcreteModel:
    """The network-design MILP of ``data`` (see the module docstring and docs/optimisation.md).

    ``options`` defaults to the options the data were extracted with. Options that shape the
    data (cold-chain rule, storage turnover, inventory approximations) act through the data.
    """
    opts = (options or data.options).validate()
    # the build creates millions of small objects and frees none: the cyclic garbage collector
    # would only rescan them (it costs half the build time at 300,000 arcs)
    with PauseGC():
        return _build(data, opts)


def _build(data: DesignData, opts: DesignOptions) -> pe.ConcreteModel:
    m = pe.ConcreteModel(name=f"network_design[{data.scenario_name}]")
    n_sites = len(data.sites)
    n_lanes = len(data.lanes)

    # ---- first-stage binaries ---------------------------------------------------------------
    cand = [data.sites[i] for i in range(n_sites) if data.site_candidate[i]]
    m.y = pe.Var(cand, within=pe.Binary)
    open_var = [m.y[s] if data.site_candidate[i] else None for i, s in enumerate(data.sites)]
    open_const = [0.0 if data.site_candidate[i] else float(data.site_open_now[i])
                  for i in range(n_sites)]
    exp_sites = [data.sites[i] for i in range(n_sites) if data.site_expandable[i]]
    m.e = pe.Var(exp_sites, within=pe.Binary)
    expand = [m.e[s] if data.site_expandable[i] else None for i, s in enumerate(data.sites)]
    m.expansion_link = pe.Constraint(
        [s for s in exp_sites if data.site_candidate[data.site_index[s]]],
        rule=lambda m, s: row([(1.0, m.e[s]), (-1.0, m.y[s])], None, 0.0))
    fc_lanes = [data.lanes[l] for l in range(n_lanes) if data.lane_fixed_charge[l] > 0]
    m.w = pe.Var(fc_lanes, within=pe.Binary)
    used = [m.w[lid] if data.lane_fixed_charge[l] > 0 else None
            for l, lid in enumerate(data.lanes)]
    ctx = _Context(
        data, opts, open_var, open_const, expand, used,
        prod_of_node={int(n): j for j, n in enumerate(data.prod_node)},
        storage_key={(data.sites[s], t.value): g for g, (s, t)
                     in enumerate(zip(data.storage_site, data.storage_class, strict=True))},
    )

    # ---- flows of the base case -------------------------------------------------------------
    n_arcs = data.n_arcs
    m.x = pe.Var(range(n_arcs), within=pe.NonNegativeReals, dense=True)
    X = list(m.x.values())
    prod_keys = [(data.sites[data.prod_site[j]], data.prod_product[j])
                 for j in range(len(data.prod_site))]
    m.q = pe.Var(prod_keys, within=pe.NonNegativeReals, dense=True)
    Q = [m.q[k] for k in prod_keys]
    dem_keys = list(zip(data.demand_customer, data.demand_product, strict=True))
    m.u = pe.Var(dem_keys, within=pe.NonNegativeReals, dense=True)
    U = [m.u[k] for k in dem_keys]
    if not opts.allow_unmet:
        for v in U:
            v.fix(0.0)
    _flow_families(m, ctx, X, Q, U, lost_site=None)

    # ---- linking and single sourcing of customer flows ----------------------------------------
    cust_arcs = np.flatnonzero(data.arc_to_demand >= 0).tolist()
    if opts.single_sourcing:
        m.v = pe.Var(cust_arcs, within=pe.Binary)
        m.single_source = pe.Constraint(
            [k for k in range(len(dem_keys)) if data.demand_in[k]],
            rule=lambda m, k: row([(1.0, m.v[a]) for a in data.demand_in[k]], None, 1.0))
        m.single_source_link = pe.Constraint(cust_arcs, rule=lambda m, a: row(
            [(1.0, X[a]), (-float(data.demand_units[data.arc_to_demand[a]]), m.v[a])], None, 0.0))
    if use_strong_linking(data, opts):
        def arc_link(m, a):
            o = int(data.lane_origin[data.arc_lane[a]])
            d = float(data.demand_units[data.arc_to_demand[a]])
            ot, oc = ctx.opened(o, -d)
            return row([(1.0, X[a])] + ot, None, 0.0, oc)

        m.arc_link = pe.Constraint(_strong_rows(data), rule=arc_link)

    # ---- CO2 cap ------------------------------------------------------------------------------
    if opts.co2_cap_t is not None:
        terms = [(float(c), X[a]) for a, c in enumerate(data.arc_co2_kg.tolist()) if c]
        if opts.elastic:
            terms.append((-1000.0, ctx.slack(m, "co2_cap", 0, 1.0 / max(opts.co2_cap_t, 1.0))))
        m.co2_cap = pe.Constraint(expr=row(terms, None, opts.co2_cap_t * 1000.0))

    # ---- k-sourcing ---------------------------------------------------------------------------
    if opts.k_sourcing > 1:
        _k_sourcing(m, ctx)

    # ---- N-1 --------------------------------------------------------------------------------
    if opts.n_minus_1_share is not None:
        _n_minus_1(m, ctx, prod_keys, dem_keys)

    # ---- objective ---------------------------------------------------------------------------
    if opts.elastic:
        m.cost = pe.Objective(expr=lin(ctx.slack_terms), sense=pe.minimize)
        return m
    const = float(sum(data.site_fixed_cost[i] for i in range(n_sites)
                      if not data.site_candidate[i] and data.site_open_now[i]))
    const += float(sum(usd for s, _p, _u, usd in data.stranded
                       if not data.site_candidate[s] and data.site_open_now[s]))
    terms: list[Term] = []
    terms += [(float(data.site_fixed_cost[data.site_index[s]]), m.y[s]) for s in cand
              if data.site_fixed_cost[data.site_index[s]]]
    terms += [(float(data.site_expansion_cost[data.site_index[s]]), m.e[s]) for s in exp_sites
              if data.site_expansion_cost[data.site_index[s]]]
    terms += [(float(data.lane_fixed_charge[data.lane_index[l]]), m.w[l]) for l in fc_lanes]
    terms += [(c, x) for c, x in zip(arc_cost(data, opts).tolist(), X, strict=True) if c]
    terms += [(c, q) for c, q in zip(data.prod_cost.tolist(), Q, strict=True) if c]
    terms += _on_hand(m, ctx, X, Q)
    if opts.allow_unmet:
        terms += [(p, U[k]) for k, p in enumerate(data.demand_penalty.tolist()) if p]
    expr = lin(terms)
    if const:
        expr = LinearExpression([*expr.args, const])
    m.cost = pe.Objective(expr=expr, sense=pe.minimize)
    return m


def arc_cost(data: DesignData, options: DesignOptions) -> np.ndarray:
    """Objective coefficient of every arc: unit costs, plus priced CO2 for cost+co2."""
    c = data.arc_unit_cost
    if options.objective == "cost+co2":
        c = c + data.arc_co2_kg * options.co2_price_usd_per_t / 1000.0
    return c


def _on_hand(m, ctx: _Context, X: list, Q: list) -> list[Term]:
    """Stock on hand per stock point, ``oh[n] >= fixed x open + on-hand days x inflow / 365``
    and ``oh[n] >= 0`` (:mod:`supplytwin.opt.stock`); returns its holding-cost terms."""
    data = ctx.data
    rows: dict[int, tuple[list[Term], float]] = {}
    for n in np.flatnonzero(data.node_hold_usd > 0).tolist():
        t = [(-float(data.arc_on_hand_days[a]) / 365.0, X[a]) for a in data.node_in[n]
             if data.arc_on_hand_days[a]]
        j = ctx.prod_of_node.get(n)
        if j is not None and data.prod_on_hand_days[j]:
            t.append((-float(data.prod_on_hand_days[j]) / 365.0, Q[j]))
        ot, oc = ctx.opened(int(data.node_site[n]), -float(data.node_on_hand_fixed[n]))
        t += ot
        if any(c < 0 for c, _v in t) or oc < 0:  # else the stock is always zero
            rows[n] = (t, oc)
    m.oh = pe.Var(list(rows), within=pe.NonNegativeReals, dense=True)
    m.on_hand = pe.Constraint(list(rows), rule=lambda m, n: row(
        [(1.0, m.oh[n])] + rows[n][0], 0.0, None, rows[n][1]))
    terms = [(float(data.node_hold_usd[n]), m.oh[n]) for n in rows]
    # stranded initial stock: held while its site is open (a constant for a fixed site)
    for s, _p, _units, usd in data.stranded:
        if ctx.open_var[s] is not None:
            terms.append((usd, ctx.open_var[s]))
    return terms


# ---------------------------------------------------------------- flow families ----------------
def _flow_families(b, ctx: _Context, X: list, Q: list, U: list, lost_site: int | None) -> None:
    """Balance, demand, capacities and site linking of one set of flow variables: the base case
    or an N-1 scenario that loses ``lost_site``. A missing variable (None) is a zero flow. In
    elastic mode only the base case's capacities get slacks: an N-1 scenario that cannot be
    met shows as a shortfall of its share."""
    data, opts = ctx.data, ctx.opts
    elastic = opts.elastic
    base = lost_site is None

    def inflow(n: int) -> list[Term]:
        t = [(1.0, X[a]) for a in data.node_in[n] if X[a] is not None]
        j = ctx.prod_of_node.get(n)
        if j is not None and Q[j] is not None:
            t.append((1.0, Q[j]))
        return t

    # balance: shipments + consumption by production = receipts + production (written with the
    # shipments, usually the longest part, at coefficient +1)
    def balance(bl, n):
        t = [(1.0, X[a]) for a in data.node_out[n] if X[a] is not None]
        t += [(coef, Q[j]) for j, coef in data.node_consumers[n] if Q[j] is not None]
        t += [(-1.0, v) for _c, v in inflow(n)]
        return row(t, 0.0, 0.0)

    live_nodes = [n for n in range(len(data.node_site)) if data.node_site[n] != lost_site]
    b.balance = pe.Constraint(live_nodes, rule=balance)

    # demand: delivered + unmet = annual demand
    def demand(bl, k):
        t = [(1.0, X[a]) for a in data.demand_in[k] if X[a] is not None]
        t.append((1.0, U[k]))
        d = float(data.demand_units[k])
        if elastic and base and not opts.allow_unmet:
            t.append((1.0, ctx.slack(bl, "demand", k, REQUIREMENT_WEIGHT / max(d, 1.0))))
        return row(t, d, d)

    b.demand = pe.Constraint(range(len(data.demand_units)), rule=demand)

    # production capacity in line-days per producing site
    by_site: dict[int, list[int]] = defaultdict(list)
    for j, s in enumerate(data.prod_site.tolist()):
        by_site[s].append(j)

    def production_capacity(bl, s_name):
        s = data.site_index[s_name]
        t = [(float(data.prod_line_days[j]), Q[j]) for j in by_site[s] if Q[j] is not None]
        ot, oc = ctx.opened(s, -float(data.site_line_days[s]))
        t += ot
        if ctx.expand[s] is not None and data.site_expansion_line_days[s] > 0:
            t.append((-float(data.site_expansion_line_days[s]), ctx.expand[s]))
        if elastic and base:
            t.append((-1.0, ctx.slack(bl, "production_capacity", s_name,
                                      1.0 / max(float(data.site_line_days[s]), 1.0))))
        return row(t, None, 0.0, oc)

    b.production_capacity = pe.Constraint(
        [data.sites[s] for s in sorted(by_site) if s != lost_site], rule=production_capacity)

    # storage throughput per (site, temperature class) with a finite capacity
    share = opts.expansion_storage_share

    def storage_capacity(bl, s_name, tclass):
        g = ctx.storage_key[(s_name, tclass)]
        s = int(data.storage_site[g])
        t: list[Term] = []
        for n in data.storage_nodes[g]:
            t += inflow(n)
        cap = float(data.storage_throughput[g])
        ot, oc = ctx.opened(s, -cap)
        t += ot
        if ctx.expand[s] is not None and data.site_expansion_line_days[s] == 0:
            t.append((-cap * share, ctx.expand[s]))
        if elastic and base:
            t.append((-1.0, ctx.slack(bl, "storage_capacity", (s_name, tclass),
                                      1.0 / max(cap, 1.0))))
        return row(t, None, 0.0, oc)

    b.storage_capacity = pe.Constraint(
        [(data.sites[s], data.storage_class[g].value)
         for g, s in enumerate(data.storage_site.tolist()) if s != lost_site],
        rule=storage_capacity)

    # handling (dock) throughput per site with a handling capacity: units received over lanes
    # plus units shipped over lanes per year (production and consumption on site are not
    # handled at the dock, as in the simulator)
    def handling_capacity(bl, s_name):
        s = data.site_index[s_name]
        t: list[Term] = []
        for n in data.site_nodes(s):
            t += [(1.0, X[a]) for a in data.node_in[n] + data.node_out[n] if X[a] is not None]
        cap = float(data.site_handling_capacity[s])
        ot, oc = ctx.opened(s, -cap)
        t += ot
        if elastic and base:
            t.append((-1.0, ctx.slack(bl, "handling_capacity", s_name, 1.0 / max(cap, 1.0))))
        return row(t, None, 0.0, oc)

    b.handling_capacity = pe.Constraint(
        [data.sites[s] for s in np.flatnonzero(np.isfinite(data.site_handling_capacity)).tolist()
         if s != lost_site], rule=handling_capacity)

    # lane capacity (units/year); use of lanes with a fixed charge
    def on_lane(l: int) -> list[Term]:
        return [(1.0, X[a]) for a in data.lane_arcs[l] if X[a] is not None]

    alive = [any(X[a] is not None for a in data.lane_arcs[l]) for l in range(len(data.lanes))]

    def lane_capacity(bl, lid):
        l = data.lane_index[lid]
        t = on_lane(l)
        c = float(data.lane_capacity[l])
        if elastic and base:
            t.append((-1.0, ctx.slack(bl, "lane_capacity", lid, 1.0 / max(c, 1.0))))
        if ctx.used[l] is not None:
            return row(t + [(-c, ctx.used[l])], None, 0.0)
        return row(t, None, c)

    b.lane_capacity = pe.Constraint(
        [lid for l, lid in enumerate(data.lanes) if alive[l] and np.isfinite(data.lane_capacity[l])],
        rule=lane_capacity)

    def lane_use(bl, lid):
        l = data.lane_index[lid]
        big = sum(data.product_bound[data.arc_product[a]] for a in data.lane_arcs[l])
        return row(on_lane(l) + [(-float(big), ctx.used[l])], None, 0.0)

    b.lane_use = pe.Constraint(
        [lid for l, lid in enumerate(data.lanes) if alive[l] and ctx.used[l] is not None
         and not np.isfinite(data.lane_capacity[l])], rule=lane_use)

    # site linking: nothing passes through a closed candidate site
    def site_link(bl, n):
        s = int(data.node_site[n])
        bound = float(data.product_bound[data.node_product[n]])
        return row(inflow(n) + [(-bound, ctx.open_var[s])], None, 0.0)

    b.site_link = pe.Constraint(
        [n for n in live_nodes if ctx.open_var[data.node_site[n]] is not None], rule=site_link)


# ---------------------------------------------------------------- N-1 --------------------------
def _n_minus_1(m, ctx: _Context, prod_keys: list, dem_keys: list) -> None:
    """One block per producing site: the network without that site must still meet
    ``n_minus_1_share`` of total demand, with its own flows, under the same first-stage
    decisions (open sites, expansions, used lanes)."""
    data, opts = ctx.data, ctx.opts
    lost = [data.sites[s] for s in data.producing_sites]
    m.n1 = pe.Block(lost)
    total = float(data.demand_units.sum())
    origin = data.lane_origin[data.arc_lane]
    dest_site = np.where(data.arc_to_node >= 0, data.node_site[np.maximum(data.arc_to_node, 0)], -1)
    for s_name in lost:
        b = m.n1[s_name]
        si = data.site_index[s_name]
        keep = np.flatnonzero((origin != si) & (dest_site != si)).tolist()
        b.x = pe.Var(keep, within=pe.NonNegativeReals, dense=True)
        Xs: list = [None] * data.n_arcs
        for a in keep:
            Xs[a] = b.x[a]
        keep_prod = [k for j, k in enumerate(prod_keys) if data.prod_site[j] != si]
        b.q = pe.Var(keep_prod, within=pe.NonNegativeReals, dense=True)
        Qs = [b.q[k] if data.prod_site[j] != si else None for j, k in enumerate(prod_keys)]
        b.u = pe.Var(dem_keys, within=pe.NonNegativeReals, dense=True)
        Us = [b.u[k] for k in dem_keys]
        _flow_families(b, ctx, Xs, Qs, Us, lost_site=si)
        terms = [(1.0, v) for v in Us]
        if opts.elastic:
            terms.append((-1.0, ctx.slack(b, "share", 0, REQUIREMENT_WEIGHT / max(total, 1.0))))
        b.share = pe.Constraint(expr=row(terms, None, (1.0 - opts.n_minus_1_share) * total))


# ---------------------------------------------------------------- k-sourcing -------------------
def coverage_paths(data: DesignData, max_lanes: int) -> dict[int, dict[int, list[frozenset[int]]]]:
    """For every demand, the sites making its product that can reach it, each with the minimal
    sets of candidate sites that must be open along some chain of at most ``max_lanes`` lanes
    (an empty set: always reachable). ``{demand: {plant site: [candidate-site sets]}}``."""
    makes: dict[int, set[int]] = defaultdict(set)  # node -> sites producing into it
    for j, n in enumerate(data.prod_node.tolist()):
        makes[n].add(int(data.prod_site[j]))
    cand = data.site_candidate
    out: dict[int, dict[int, list[frozenset[int]]]] = {}
    for k in range(len(data.demand_units)):
        found: dict[int, set[frozenset[int]]] = defaultdict(set)
        # depth-first search backwards from the customer through nodes of the same product
        stack = [(int(data.arc_from[a]), frozenset(), frozenset({int(data.arc_from[a])}), 1)
                 for a in data.demand_in[k]]
        while stack:
            n, need, seen, depth = stack.pop()
            s = int(data.node_site[n])
            need2 = need | {s} if cand[s] else need
            if s in makes.get(n, ()):
                found[s].add(need2)
            if depth >= max_lanes:
                continue
            for a in data.node_in[n]:
                n2 = int(data.arc_from[a])
                if n2 not in seen:
                    stack.append((n2, need2, seen | {n2}, depth + 1))
        reach: dict[int, list[frozenset[int]]] = {}
        for plant, sets in found.items():
            minimal = [st for st in sets if not any(o < st for o in sets)]
            reach[plant] = sorted(minimal, key=lambda st: (len(st), sorted(st)))
        out[k] = reach
    return out


def _k_sourcing(m, ctx: _Context) -> None:
    """Each customer x product reachable from >= k making sites through open sites:
    ``sum_plant r[k, plant] >= k``, ``r <= sum_paths pi``, ``pi <= y[s]`` for every candidate
    site ``s`` on the path (a path through fixed-open sites only counts as 1)."""
    data, opts = ctx.data, ctx.opts
    paths = coverage_paths(data, opts.k_sourcing_max_lanes)
    m.k_paths = paths  # kept for the explanation of infeasible models
    r_index: list[tuple[int, int]] = []
    pi_index: list[tuple[int, int, int]] = []
    always: dict[int, int] = {}
    by_k: dict[int, list[int]] = defaultdict(list)
    for k, reach in paths.items():
        always[k] = 0
        for plant, sets in reach.items():
            if any(len(st) == 0 for st in sets):
                always[k] += 1
                continue
            r_index.append((k, plant))
            by_k[k].append(plant)
            pi_index += [(k, plant, i) for i in range(len(sets))]
    m.k_reach_var = pe.Var(r_index, bounds=(0.0, 1.0))
    m.k_path_var = pe.Var(pi_index, bounds=(0.0, 1.0))
    m.k_unreachable = pe.Var(bounds=(0.0, 0.0))  # stands in for "no plant can reach"
    open_rows = [(k, plant, i, s) for (k, plant, i) in pi_index for s in paths[k][plant][i]]
    m.k_path_open = pe.Constraint(open_rows, rule=lambda m, k, plant, i, s: row(
        [(1.0, m.k_path_var[k, plant, i]), (-1.0, ctx.open_var[s])], None, 0.0))
    m.k_reach = pe.Constraint(r_index, rule=lambda m, k, plant: row(
        [(1.0, m.k_reach_var[k, plant])]
        + [(-1.0, m.k_path_var[k, plant, i]) for i in range(len(paths[k][plant]))], None, 0.0))

    def k_sourcing(m, k):
        t = [(1.0, m.k_reach_var[k, plant]) for plant in by_k[k]] or [(1.0, m.k_unreachable)]
        if opts.elastic:
            t.append((1.0, ctx.slack(m, "k_sourcing", k, REQUIREMENT_WEIGHT)))
        return row(t, float(opts.k_sourcing - always[k]), None)

    m.k_sourcing = pe.Constraint([k for k in paths if always[k] < opts.k_sourcing], rule=k_sourcing)


def model_size(m: pe.ConcreteModel) -> dict[str, int]:
    """Variables (binary, continuous), constraints and nonzeros of the active model."""
    n_bin = n_cont = n_fixed = 0
    for v in m.component_data_objects(pe.Var, descend_into=True):
        if v.fixed:
            n_fixed += 1
        elif v.is_binary() or v.is_integer():
            n_bin += 1
        else:
            n_cont += 1
    n_con = nnz = 0
    for c in m.component_data_objects(pe.Constraint, active=True, descend_into=True):
        n_con += 1
        body = c.body
        nnz += len(body.args) if isinstance(body, LinearExpression) else 1
    return {"binaries": n_bin, "continuous": n_cont, "fixed": n_fixed, "constraints": n_con,
            "nonzeros": nnz}


