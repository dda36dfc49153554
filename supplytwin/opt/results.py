"""Tidy tables of a solved network-design model.

:func:`design_result` reads the variable values of a solved model (and, for shadow prices,
re-solves the LP with every binary fixed at its optimum) into a :class:`DesignResult` holding
plain pandas tables, one fact per row:

* ``sites``: every site of the model, open before and after, expanded, fixed cost, throughput;
* ``flows``: annual units and costs per lane and product (flows above a tolerance);
* ``production``: annual units, batches and line-days per plant and product;
* ``demand``: delivered and unmet units per customer and product;
* ``costs``: the objective broken down by category (``group``) and item;
* ``stock_points``: mean units on order and on hand, and holding cost, per site and product;
* ``capacities``: use, capacity, utilisation and shadow price of every production, storage
  and lane capacity (and the CO2 cap), from the LP with binaries fixed at the optimum.

Shadow prices are reported as ``marginal_value_usd``: what one more unit of the capacity (in
the row's ``capacity_unit``) would save per year, >= 0, and 0 when the capacity is slack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pe

from supplytwin.opt.data import DAYS, DesignData
from supplytwin.opt.options import DesignOptions
from supplytwin.opt.solver import SolveOutcome, SolverSettings, solve

#: flows, production and unmet demand below this many units per year are reported as zero
FLOW_TOL = 1e-6
BINDING_TOL = 1e-6


@dataclass
class Design:
    """The first-stage decisions: which candidate sites open, which sites expand, lanes used."""

    open_sites: frozenset[str]
    expanded: frozenset[str] = frozenset()

    def key(self) -> tuple:
        return (tuple(sorted(self.open_sites)), tuple(sorted(self.expanded)))


@dataclass
class DesignResult:
    data: DesignData
    options: DesignOptions
    outcome: SolveOutcome
    design: Design | None
    objective: float
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: annual units per arc of the base case (index as data.arc_*)
    arc_flow: np.ndarray | None = None
    #: model size and timings, for reports
    stats: dict[str, Any] = field(default_factory=dict)
    #: plain-words explanation when the model is infeasible
    explanation: Any = None

    @property
    def ok(self) -> bool:
        return self.outcome.has_solution

    def total_by_group(self) -> dict[str, float]:
        t = self.tables.get("costs")
        if t is None or t.empty:
            return {}
        return t.groupby("group", sort=False)["usd_per_year"].sum().to_dict()


def _val(v) -> float:
    x = v.value
    return 0.0 if x is None else float(x)


def read_design(model: pe.ConcreteModel, data: DesignData) -> Design:
    opened = {s for i, s in enumerate(data.sites) if not data.site_candidate[i] and data.site_open_now[i]}
    opened |= {s for s in model.y if _val(model.y[s]) > 0.5}
    expanded = {s for s in model.e if _val(model.e[s]) > 0.5}
    return Design(frozenset(opened), frozenset(expanded))


def design_result(model: pe.ConcreteModel, data: DesignData, outcome: SolveOutcome,
                  options: DesignOptions | None = None, *, shadow_prices: bool = True,
                  settings: SolverSettings | None = None) -> DesignResult:
    """Tables of the solution held in ``model`` (solved with ``outcome``)."""
    opts = options or data.options
    if not outcome.has_solution:
        return DesignResult(data, opts, outcome, None, math.nan)
    design = read_design(model, data)
    x = np.array([_val(model.x[a]) for a in range(data.n_arcs)])
    q = np.array([_val(v) for v in model.q.values()])
    u = np.array([_val(v) for v in model.u.values()])
    x[x < FLOW_TOL] = 0.0
    q[q < FLOW_TOL] = 0.0
    u[u < FLOW_TOL] = 0.0
    used_lanes = {l for l in model.w if _val(model.w[l]) > 0.5}
    duals: dict[Any, float] = {}
    if shadow_prices:
        duals = _lp_duals(model, settings or SolverSettings())
    res = DesignResult(data, opts, outcome, design, outcome.objective, arc_flow=x)
    res.tables = {
        "sites": _sites(data, design, x, q),
        "flows": _flows(data, opts, x),
        "production": _production(data, q),
        "demand": _demand(data, x, u),
        "costs": _costs(data, opts, design, x, q, u, used_lanes),
        "stock_points": _stock_points(data, design, x, q),
        "capacities": _capacities(model, data, opts, design, x, q, used_lanes, duals),
    }
    return res


# ---------------------------------------------------------------- shadow prices -----------------
def _lp_duals(model: pe.ConcreteModel, settings: SolverSettings) -> dict[Any, float]:
    """Row duals of the LP with every unfixed binary fixed at its (rounded) value."""
    fixed = []
    for v in model.component_data_objects(pe.Var, descend_into=True):
        if v.is_integer() and not v.fixed:
            v.fix(round(_val(v)))
            fixed.append(v)
    saved = {id(v): v.value for v in model.component_data_objects(pe.Var, descend_into=True)}
    try:
        out = solve(model, SolverSettings(time_limit_s=settings.time_limit_s, mip_gap=0.0,
                                          threads=settings.threads, interface="direct"),
                    duals=True)
    finally:
        for v in fixed:
            v.unfix()
    for v in model.component_data_objects(pe.Var, descend_into=True):
        if id(v) in saved and not v.fixed:
            v.set_value(saved[id(v)], skip_validation=True)
    return out.duals or {}


# ---------------------------------------------------------------- tables -----------------------
def _sites(data: DesignData, design: Design, x: np.ndarray, q: np.ndarray) -> pd.DataFrame:
    through = np.zeros(len(data.sites))
    for a in range(data.n_arcs):
        n = data.arc_to_node[a]
        if n >= 0:
            through[data.node_site[n]] += x[a]
    for j, s in enumerate(data.prod_site):
        through[s] += q[j]
    return pd.DataFrame({
        "site_id": data.sites,
        "kind": [k.value for k in data.site_kind],
        "candidate": data.site_candidate,
        "open_before": data.site_open_now,
        "open": [s in design.open_sites for s in data.sites],
        "expanded": [s in design.expanded for s in data.sites],
        "fixed_cost_usd_per_year": [float(data.site_fixed_cost[i]) if s in design.open_sites
                                    else 0.0 for i, s in enumerate(data.sites)],
        "throughput_units_per_year": through,
    })


def _flows(data: DesignData, opts: DesignOptions, x: np.ndarray) -> pd.DataFrame:
    a = np.flatnonzero(x > 0)
    lane = data.arc_lane[a]
    cust = data.arc_to_demand[a] >= 0
    dest = [data.lane_dest_site[l] for l in lane]
    return pd.DataFrame({
        "lane_id": [data.lanes[l] for l in lane],
        "product_id": [data.arc_product[i] for i in a],
        "origin_id": [data.sites[data.lane_origin[l]] for l in lane],
        "destination_id": dest,
        "to_customer": cust,
        "mode": [data.lane_mode[l] for l in lane],
        "units_per_year": x[a],
        "lead_days": data.lane_lead_days[lane],
        "freight_usd": x[a] * data.arc_freight[a],
        "shipment_usd": x[a] * data.arc_shipment[a],
        "handling_usd": x[a] * data.arc_handling[a],
        "co2_kg": x[a] * data.arc_co2_kg[a],
    })


def _stock_points(data: DesignData, design: Design, x: np.ndarray, q: np.ndarray
                  ) -> pd.DataFrame:
    """Mean stock on hand and on order of every stock point the design uses or keeps open
    (:mod:`supplytwin.opt.stock`), and its holding cost: the figures the simulator reports per
    stock point (``supplytwin run``'s stock-point table)."""
    n_nodes = len(data.node_site)
    in_per_day = np.zeros(n_nodes)
    on_hand = np.zeros(n_nodes)
    on_order = np.zeros(n_nodes)
    into = data.arc_to_node >= 0
    nodes = data.arc_to_node[into]
    per_day = x[into] / DAYS
    np.add.at(in_per_day, nodes, per_day)
    np.add.at(on_hand, nodes, per_day * data.arc_on_hand_days[into])
    np.add.at(on_order, nodes, per_day * data.arc_on_order_days[into])
    prod_per_day = q / DAYS
    np.add.at(in_per_day, data.prod_node, prod_per_day)
    np.add.at(on_hand, data.prod_node, prod_per_day * data.prod_on_hand_days)
    np.add.at(on_order, data.prod_node, prod_per_day * data.prod_on_order_days)
    is_open = np.array([s in design.open_sites for s in data.sites])[data.node_site]
    on_hand = np.where(data.node_hold_usd > 0,
                       np.maximum(on_hand + data.node_on_hand_fixed * is_open, 0.0), 0.0)
    keep = is_open & ((in_per_day > 0) | (on_hand > 0))
    stranded = [(data.sites[s], p, units, usd) for s, p, units, usd in data.stranded
                if data.sites[s] in design.open_sites]
    return pd.DataFrame({
        "site_id": [data.sites[data.node_site[n]] for n in np.flatnonzero(keep)]
        + [s for s, _p, _u, _usd in stranded],
        "product_id": [data.node_product[n] for n in np.flatnonzero(keep)]
        + [p for _s, p, _u, _usd in stranded],
        "inflow_units_per_day": [*in_per_day[keep], *(0.0 for _ in stranded)],
        "on_order_units": [*on_order[keep], *(0.0 for _ in stranded)],
        "avg_on_hand_units": [*on_hand[keep], *(u for _s, _p, u, _usd in stranded)],
        "holding_usd_per_year": [*(on_hand * data.node_hold_usd)[keep],
                                 *(usd for _s, _p, _u, usd in stranded)],
    })


def _production(data: DesignData, q: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "site_id": [data.sites[s] for s in data.prod_site],
        "product_id": data.prod_product,
        "units_per_year": q,
        "batches_per_year": q / data.prod_good_per_batch,
        "line_days_per_year": q * data.prod_line_days,
        "cost_usd": q * data.prod_cost,
    })


def _demand(data: DesignData, x: np.ndarray, u: np.ndarray) -> pd.DataFrame:
    delivered = np.zeros(len(data.demand_units))
    for a in np.flatnonzero(data.arc_to_demand >= 0):
        delivered[data.arc_to_demand[a]] += x[a]
    return pd.DataFrame({
        "customer_id": data.demand_customer,
        "product_id": data.demand_product,
        "demand_units_per_year": data.demand_units,
        "delivered_units_per_year": delivered,
        "unmet_units_per_year": u,
        "penalty_usd": u * data.demand_penalty,
    })


def _costs(data: DesignData, opts: DesignOptions, design: Design, x, q, u,
           used_lanes: set[str]) -> pd.DataFrame:
    fixed = sum(float(data.site_fixed_cost[i]) for i, s in enumerate(data.sites)
                if s in design.open_sites)
    expansion = sum(float(data.site_expansion_cost[data.site_index[s]]) for s in design.expanded)
    lane_fc = sum(float(data.lane_fixed_charge[data.lane_index[l]]) for l in used_lanes)
    rows = [
        ("fixed", "site fixed costs", fixed),
        ("fixed", "capacity expansions", expansion),
        ("production", "batches and units", float(q @ data.prod_cost)),
        ("transport", "freight per unit", float(x @ data.arc_freight)),
        ("transport", "scheduled departures of used lanes", lane_fc),
        ("transport", "on-demand shipments", float(x @ data.arc_shipment)),
        ("handling", "handling at shipping sites", float(x @ data.arc_handling)),
        ("holding", "stock on hand at stock points",
         float(_stock_points(data, design, x, q)["holding_usd_per_year"].sum())),
        ("penalty", "unmet demand", float(u @ data.demand_penalty) if opts.allow_unmet else 0.0),
    ]
    co2_t = float(x @ data.arc_co2_kg) / 1000.0
    if opts.objective == "cost+co2":
        rows.append(("co2", f"emissions at {opts.co2_price_usd_per_t:g} USD/t",
                     co2_t * opts.co2_price_usd_per_t))
    return pd.DataFrame(rows, columns=["group", "item", "usd_per_year"])


def _capacities(model, data: DesignData, opts: DesignOptions, design: Design, x, q,
                used_lanes: set[str], duals: dict[Any, float]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def dual(con) -> float:
        d = duals.get(con)
        return math.nan if d is None else -float(d)

    # production line-days
    for s_name in model.production_capacity:
        s = data.site_index[s_name]
        js = [j for j in range(len(data.prod_site)) if data.prod_site[j] == s]
        used = float(sum(q[j] * data.prod_line_days[j] for j in js))
        cap = float(data.site_line_days[s]) * (s_name in design.open_sites)
        if s_name in design.expanded:
            cap += float(data.site_expansion_line_days[s])
        rows.append(_cap_row("production", s_name, "", used, cap, "line-days",
                             dual(model.production_capacity[s_name])))
    # storage throughput
    share = opts.expansion_storage_share
    group = {(data.sites[s], t.value): g
             for g, (s, t) in enumerate(zip(data.storage_site, data.storage_class, strict=True))}
    prod_at = {int(n): j for j, n in enumerate(data.prod_node)}
    for (s_name, tclass) in model.storage_capacity:
        g = group[(s_name, tclass)]
        used = 0.0
        for n in data.storage_nodes[g]:
            used += sum(x[a] for a in data.node_in[n])
            if n in prod_at:
                used += q[prod_at[n]]
        is_dc = data.site_expansion_line_days[data.site_index[s_name]] == 0
        grown = share if (s_name in design.expanded and is_dc) else 0.0
        factor = (s_name in design.open_sites) * (1.0 + grown)
        turns = DAYS / data.options.storage_cover_days
        # the row limits throughput; one unit of storage passes `turns` units a year
        rows.append(_cap_row("storage", s_name, tclass, used / turns,
                             float(data.storage_capacity[g]) * factor, "units of storage",
                             dual(model.storage_capacity[s_name, tclass]) * turns))
    # handling (dock) throughput: received plus shipped over lanes
    for s_name in getattr(model, "handling_capacity", ()):
        s = data.site_index[s_name]
        used = float(sum(x[a] for n in data.site_nodes(s)
                         for a in data.node_in[n] + data.node_out[n]))
        cap = float(data.site_handling_capacity[s]) * (s_name in design.open_sites)
        rows.append(_cap_row("handling", s_name, "received + shipped", used, cap, "units/year",
                             dual(model.handling_capacity[s_name])))
    # lanes
    for lid in model.lane_capacity:
        l = data.lane_index[lid]
        used = float(sum(x[a] for a in data.lane_arcs[l]))
        cap = float(data.lane_capacity[l])
        if data.lane_fixed_charge[l] > 0 and lid not in used_lanes:
            cap = 0.0
        rows.append(_cap_row("lane", lid, data.lane_mode[l], used, cap, "units/year",
                             dual(model.lane_capacity[lid])))
    if opts.co2_cap_t is not None and model.component("co2_cap") is not None:
        used = float(x @ data.arc_co2_kg) / 1000.0
        rows.append(_cap_row("co2_cap", "network", "", used, float(opts.co2_cap_t),
                             "t CO2e", dual(model.co2_cap) * 1000.0))
    cols = ["family", "where", "detail", "used", "capacity", "capacity_unit", "utilisation",
            "binding", "marginal_value_usd"]
    return pd.DataFrame(rows, columns=cols)


def _cap_row(family: str, where: str, detail: str, used: float, cap: float, unit: str,
             value: float) -> dict[str, Any]:
    util = used / cap if cap > 0 else (math.nan if used == 0 else math.inf)
    if not math.isnan(value) and abs(value) < 1e-9:
        value = 0.0
    binding = cap > 0 and used >= cap * (1 - BINDING_TOL) - 1e-9
    return {"family": family, "where": where, "detail": detail, "used": used, "capacity": cap,
            "capacity_unit": unit, "utilisation": util, "binding": bool(binding),
            "marginal_value_usd": value}
