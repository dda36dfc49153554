"""The optimisation data set, extracted from the very network objects the simulator runs.

:func:`extract` is a pure function of a :class:`~supplytwin.model.Scenario` (or a
:class:`~supplytwin.model.Network` and cost settings) and :class:`DesignOptions`. It turns the
dynamic network (lots, batches, schedules, policies) into the sets and parameters of an annual
flow model:

* **sites**: every non-customer site that is open or a redesign candidate
  (``SiteRow.candidate``); a site that is closed and not a candidate is out of the model;
* **stock nodes** ``(site, product)``: a site may hold a product if it has a policy row for it,
  makes it, or (``allow_new_stocking``) is a distribution centre or wholesaler with room in the
  product's temperature class. Nodes that can neither receive nor send anything are pruned;
* **production** ``(site, product)``: good units per batch = batch x mean yield x (1 - failure
  probability); each good unit uses ``cycle / good`` line-days of the site's ``lines x 365``
  (or ``lines x 365 / capacity_batches_per_year`` per batch when that cap is given) and
  consumes ``input_units_per_batch / good`` of each input of the bill of materials;
* **arcs** ``(lane, product)``: the lane may carry the product (:meth:`Network.lane_can_carry`:
  packaging holds the temperature class and travels on the mode), a passive shipper's
  qualified hours cover the transit (mean + ``qualified_hours_sigmas`` standard deviations),
  the origin stocks the product and the destination stocks it or is a customer demanding it;
  into customers, optionally, transit + wait within ``max_transit_days``;
* **external suppliers** (site kind ``external_supplier``) are sources: each product a stock
  point orders over a lane from the vendor is a production entry with no inputs, one "line-day"
  per unit and the purchase price as its cost, so ``supply_capacity_units_per_day x 365`` caps
  the vendor's output per year (unlimited: a bound that never binds); no expansion;
* **demand** ``(customer, product)``: annual units = ``Network.demand_mean_rate(d) x 365``;
* **capacities**: handling per site (``handling_capacity_units_per_day x 365`` units received
  plus shipped over lanes per year), production line-days, storage throughput per temperature class
  (``capacity x 365 / storage_cover_days``), lane units per year (capacity per departure x
  departures per year of the schedule);
* **costs** per unit and per year (see ``docs/optimisation.md``); stock on hand per stock
  point from its inventory policy and the flows (:mod:`supplytwin.opt.stock`).

Everything is held in flat lists and numpy arrays indexed by integers, so the same data set
feeds the Pyomo model (:mod:`supplytwin.opt.model`), the tidy result tables and a direct
highspy build in the benchmark.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from supplytwin.model import (
    CostSettings,
    LaneRow,
    Network,
    PolicyKind,
    Scenario,
    SiteKind,
    TemperatureClass,
)
from supplytwin.model.feasibility import lane_carry_reason
from supplytwin.model.schedule import parse_schedule
from supplytwin.opt.options import DesignOptions
from supplytwin.opt.stock import fill_stock_terms

DAYS = 365.0
STOCKING_KINDS = frozenset({SiteKind.DISTRIBUTION_CENTRE, SiteKind.WHOLESALER})
#: an expansion costs at least this much a year, so that a site without a fixed cost is not
#: expanded for nothing (the solver would be indifferent)
MIN_EXPANSION_COST = 1.0


@dataclass(frozen=True)
class LaneTiming:
    """What a lane's schedule means for an annual model."""

    departures_per_year: float  # inf for on_demand
    mean_wait_days: float  # mean wait of goods for the next departure
    period_days: float  # 0 for on_demand
    lead_days: float  # mean transit + mean wait

    @property
    def on_demand(self) -> bool:
        return self.period_days == 0


def lane_timing(lane: LaneRow) -> LaneTiming:
    deps, wait, period = _schedule_stats(lane.departure_schedule)
    return LaneTiming(deps, wait, period, lane.transit_time_days.mean + wait)


@lru_cache(maxsize=1024)
def _schedule_stats(text: str) -> tuple[float, float, float]:
    """(departures per year, mean wait for a departure, period) of a schedule."""
    s = parse_schedule(text)
    if s.period_days == 0:
        return math.inf, 0.0, 0.0
    offs = list(s.offsets_days)
    gaps = [b - a for a, b in itertools.pairwise(offs)]
    gaps.append(s.period_days - offs[-1] + offs[0])
    wait = sum(g * g for g in gaps) / (2.0 * s.period_days)
    return DAYS * len(offs) / s.period_days, wait, s.period_days


def arc_rule(net: Network, lane: LaneRow, product_id: str, options: DesignOptions) -> str | None:
    """Why ``lane`` may not carry ``product_id`` under the cold-chain rules, or None if it may:
    the rule ``supplytwin validate`` applies too (:mod:`supplytwin.model.feasibility`), with
    the options' ``qualified_hours_sigmas``."""
    return lane_carry_reason(net, lane, product_id, options.qualified_hours_sigmas)


@dataclass(eq=False)
class DesignData:
    """Sets and parameters of one network-design instance (see the module docstring)."""

    scenario_name: str
    options: DesignOptions
    holding_rate: float
    # ---- products ----
    products: list[str]
    product_class: dict[str, TemperatureClass]
    product_value: dict[str, float]
    #: upper bound on the annual flow of each product anywhere (all demand met through the BOM)
    product_bound: dict[str, float]
    # ---- sites (non-customer, open or candidate) ----
    sites: list[str]
    site_kind: list[SiteKind]
    site_candidate: np.ndarray  # bool
    site_open_now: np.ndarray  # bool
    site_fixed_cost: np.ndarray
    site_handling: np.ndarray
    #: production line-days per year (lines x 365); 0 for sites that make nothing
    site_line_days: np.ndarray
    site_lines: np.ndarray
    #: one expansion allowed (plants: one more line; DCs: storage x (1 + share)); its cost
    site_expandable: np.ndarray  # bool
    site_expansion_cost: np.ndarray
    site_expansion_line_days: np.ndarray
    # ---- stock nodes ----
    node_site: np.ndarray  # int
    node_product: list[str]
    node_has_policy: np.ndarray  # bool
    node_in: list[list[int]]
    node_out: list[list[int]]
    #: (production index, units of this node's product consumed per good unit)
    node_consumers: list[list[tuple[int, float]]]
    # ---- production ----
    prod_site: np.ndarray  # int
    prod_product: list[str]
    prod_node: np.ndarray  # int: the node receiving the output
    prod_cost: np.ndarray  # USD per good unit (batch + unit costs)
    prod_line_days: np.ndarray  # line-days per good unit
    prod_good_per_batch: np.ndarray
    prod_inputs: list[list[tuple[int, float]]]  # (node, units per good unit)
    # ---- lanes (only those with at least one arc) ----
    lanes: list[str]
    lane_origin: np.ndarray  # site index
    lane_dest_site: list[str]
    lane_mode: list[str]
    lane_capacity: np.ndarray  # units per year; inf = unlimited
    lane_fixed_charge: np.ndarray  # USD per year if used (scheduled lanes)
    lane_departures: np.ndarray
    lane_lead_days: np.ndarray
    lane_arcs: list[list[int]]
    # ---- arcs (lane x product) ----
    arc_lane: np.ndarray  # int
    arc_product: list[str]
    arc_from: np.ndarray  # node index
    arc_to_node: np.ndarray  # node index or -1
    arc_to_demand: np.ndarray  # demand index or -1
    arc_freight: np.ndarray
    arc_shipment: np.ndarray
    arc_handling: np.ndarray
    arc_co2_kg: np.ndarray
    # ---- demand ----
    demand_customer: list[str]
    demand_product: list[str]
    demand_units: np.ndarray  # per year
    demand_penalty: np.ndarray  # USD per unit unmet
    demand_in: list[list[int]]
    # ---- storage throughput groups: (site, class) with a finite capacity ----
    storage_site: np.ndarray
    storage_class: list[TemperatureClass]
    storage_capacity: np.ndarray  # units of storage
    storage_nodes: list[list[int]]
    storage_throughput: np.ndarray  # units per year = capacity x 365 / cover days
    # ---- bookkeeping ----
    site_index: dict[str, int] = field(default_factory=dict)
    node_index: dict[tuple[str, str], int] = field(default_factory=dict)
    lane_index: dict[str, int] = field(default_factory=dict)
    demand_index: dict[tuple[str, str], int] = field(default_factory=dict)
    prod_index: dict[tuple[str, str], int] = field(default_factory=dict)
    #: coefficient of variation of daily demand at a customer-facing site, per product
    product_cv: dict[str, float] = field(default_factory=dict)
    #: demand streams left out of the model, with the reason (customer closed, zero rate)
    notes: list[str] = field(default_factory=list)
    #: units per year a site can receive plus ship over lanes; inf = unlimited
    site_handling_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # ---- stock on hand (supplytwin.opt.stock): on hand of node n = max(0, fixed x open
    # + sum of on-hand days x inflow per day over its arcs and production)
    #: USD per unit on hand per year (value x holding rate; 0 at external suppliers)
    node_hold_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: mean on hand (units) while the site is open, whatever the flow
    node_on_hand_fixed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: mean on hand at the receiving node per unit per day on the arc / from production
    arc_on_hand_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prod_on_hand_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: mean replenishment lead time (days): units on order = inflow per day x this
    arc_on_order_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prod_on_order_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: initial stock that stays where nothing reaches or drains it: (site index, product,
    #: units, holding USD per year while the site is open)
    stranded: list[tuple[int, str, float, float]] = field(default_factory=list)

    # ---- derived -------------------------------------------------------------------------------
    @property
    def n_arcs(self) -> int:
        return len(self.arc_lane)

    @property
    def arc_unit_cost(self) -> np.ndarray:
        """Cost per unit on each arc, CO2 price excluded."""
        return self.arc_freight + self.arc_shipment + self.arc_handling

    def arc_objective_cost(self) -> np.ndarray:
        c = self.arc_unit_cost
        if self.options.objective == "cost+co2":
            c = c + self.arc_co2_kg * self.options.co2_price_usd_per_t / 1000.0
        return c

    def site_nodes(self, s: int) -> list[int]:
        """Stock nodes at site index ``s``."""
        return np.flatnonzero(self.node_site == s).tolist()

    @property
    def candidate_sites(self) -> list[int]:
        return [i for i in range(len(self.sites)) if self.site_candidate[i]]

    @property
    def producing_sites(self) -> list[int]:
        return sorted({int(s) for s in self.prod_site})

    def arc_label(self, a: int) -> str:
        return f"{self.lanes[self.arc_lane[a]]}/{self.arc_product[a]}"

    def node_label(self, n: int) -> str:
        return f"{self.sites[self.node_site[n]]}/{self.node_product[n]}"

    def summary(self) -> dict[str, int]:
        return {
            "sites": len(self.sites), "candidate_sites": int(self.site_candidate.sum()),
            "stock_nodes": len(self.node_site), "production": len(self.prod_site),
            "lanes": len(self.lanes), "arcs": self.n_arcs, "demands": len(self.demand_units),
            "products": len(self.products),
        }


# ---------------------------------------------------------------- extraction -------------------
def extract(scenario: Scenario, options: DesignOptions | None = None) -> DesignData:
    """The design data set of ``scenario`` (pure: reads the network, changes nothing)."""
    return extract_network(scenario.network, scenario.costs, options or DesignOptions(),
                           name=scenario.name)


def extract_network(net: Network, costs: CostSettings, options: DesignOptions,
                    name: str = "network") -> DesignData:
    """The design data set of a network and its cost settings (see the module docstring)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()  # many small objects, none freed: the collector would only rescan them
    try:
        return _extract(net, costs, options.validate(), name)
    finally:
        if enabled:
            gc.enable()


def _extract(net: Network, costs: CostSettings, options: DesignOptions, name: str) -> DesignData:
    h = costs.holding_rate_per_year if options.holding_rate_per_year is None \
        else options.holding_rate_per_year
    penalty = costs.lost_sale_penalty_usd_per_unit if options.unmet_penalty_usd_per_unit is None \
        else options.unmet_penalty_usd_per_unit
    products = list(net.products)
    pclass = {p: r.temperature_class for p, r in net.products.items()}
    pvalue = {p: r.unit_value_usd for p, r in net.products.items()}

    # ---- sites in the model
    site_ids = [s for s, r in net.sites.items()
                if r.kind != SiteKind.CUSTOMER and (r.is_open or r.candidate)]
    in_model = set(site_ids)
    open_customers = {s for s, r in net.sites.items() if r.kind == SiteKind.CUSTOMER and r.is_open}

    # ---- demand
    notes: list[str] = []
    demand_keys: list[tuple[str, str]] = []
    demand_units: list[float] = []
    order_units: list[float] = []
    for (c, p), d in net.demand.items():
        rate = net.demand_mean_rate(d)
        if c not in open_customers:
            notes.append(f"demand {c}/{p} left out: customer site is closed")
            continue
        if rate <= 0:
            notes.append(f"demand {c}/{p} left out: zero mean rate")
            continue
        demand_keys.append((c, p))
        demand_units.append(rate * DAYS)
        order_units.append(d.order_size_units.mean if d.orders_per_day is not None else rate)
    demand_idx = {k: i for i, k in enumerate(demand_keys)}

    # ---- candidate stock nodes
    cand_nodes: set[tuple[str, str]] = set()
    for (s, p) in net.policies:
        if s in in_model:
            cand_nodes.add((s, p))
    for (s, p) in net.production:
        if s in in_model:
            cand_nodes.add((s, p))
    # external suppliers: a source of every product bought from them over a lane
    supply_keys: list[tuple[str, str]] = []
    for (s, p), pol in net.policies.items():
        for lid in pol.sources:
            lane = net.lanes.get(lid)
            if lane is not None and lane.origin_id in in_model \
                    and net.sites[lane.origin_id].is_external_supplier:
                supply_keys.append((lane.origin_id, p))
    supply_keys = list(dict.fromkeys(supply_keys))
    cand_nodes.update(supply_keys)
    for (s, p), bom in net.bom.items():
        if s in in_model:
            for b in bom:
                cand_nodes.add((s, b.input_product_id))
    if options.allow_new_stocking:
        for s in site_ids:
            row = net.sites[s]
            if row.kind not in STOCKING_KINDS:
                continue
            for p in products:
                cap = row.storage_capacity_units(pclass[p])
                if cap is None or cap > 0:
                    cand_nodes.add((s, p))

    # ---- production rows in the model: the stock point's policy makes it (or has no row yet)
    prod_keys = [k for k in net.production if k[0] in in_model
                 and (k not in net.policies or net.policies[k].is_make)]
    prod_keys += supply_keys
    supplied = set(supply_keys)
    made_here = {k for k, pol in net.policies.items() if pol.is_make}

    # ---- arcs between candidate nodes / demands
    timing: dict[str, LaneTiming] = {}
    cand_list = sorted(cand_nodes)
    cand_id = {k: i for i, k in enumerate(cand_list)}
    by_class: dict[TemperatureClass, list[str]] = defaultdict(list)
    for p in products:
        by_class[pclass[p]].append(p)
    arc_keys: list[tuple[str, str]] = []
    arc_o: list[int] = []  # candidate-node id of the origin
    arc_d: list[int] = []  # candidate-node id of the destination, -1 for a customer
    for lid, lane in net.lanes.items():
        o, d = lane.origin_id, lane.destination_id
        if o not in in_model:
            continue
        to_customer = d in open_customers
        if not to_customer and d not in in_model:
            continue
        t = None
        for plist in by_class.values():
            # the cold-chain rule depends on the product only through its temperature class
            if arc_rule(net, lane, plist[0], options) is not None:
                continue
            for p in plist:
                oid = cand_id.get((o, p))
                if oid is None:
                    continue
                if to_customer:
                    if (d, p) not in demand_idx:
                        continue
                    did = -1
                else:
                    did = cand_id.get((d, p))
                    if did is None or (d, p) in made_here:
                        continue  # a make stock point is replenished by its lines, not lanes
                if t is None:
                    t = timing.get(lid) or timing.setdefault(lid, lane_timing(lane))
                if to_customer and options.max_transit_days is not None \
                        and t.lead_days > options.max_transit_days + 1e-9:
                    continue
                arc_keys.append((lid, p))
                arc_o.append(oid)
                arc_d.append(did)

    # ---- prune nodes that can neither receive nor pass on anything (to a fixed point)
    n_cand = len(cand_list)
    ao = np.asarray(arc_o, dtype=np.int64)
    ad = np.asarray(arc_d, dtype=np.int64)
    arc_alive = np.ones(len(arc_keys), dtype=bool)
    prod_out = np.array([cand_id[k] for k in prod_keys], dtype=np.int64)
    prod_in = [[cand_id[(k[0], b.input_product_id)] for b in net.bom.get(k, ())]
               for k in prod_keys]
    prod_alive = np.ones(len(prod_keys), dtype=bool)
    node_alive = np.ones(n_cand, dtype=bool)
    while True:
        inflow = np.bincount(ad[arc_alive & (ad >= 0)], minlength=n_cand) > 0
        outflow = np.bincount(ao[arc_alive], minlength=n_cand) > 0
        made = np.zeros(n_cand, dtype=bool)
        made[prod_out[prod_alive]] = True
        consumed = np.zeros(n_cand, dtype=bool)
        for j in np.flatnonzero(prod_alive):
            consumed[prod_in[j]] = True
        new_nodes = node_alive & (inflow | made) & (outflow | consumed)
        new_prod = prod_alive & new_nodes[prod_out] & np.array(
            [bool(new_nodes[ins].all()) if ins else True for ins in prod_in], dtype=bool)
        new_arcs = arc_alive & new_nodes[ao] & ((ad < 0) | new_nodes[np.maximum(ad, 0)])
        if (np.array_equal(new_nodes, node_alive) and np.array_equal(new_prod, prod_alive)
                and np.array_equal(new_arcs, arc_alive)):
            break
        node_alive, prod_alive, arc_alive = new_nodes, new_prod, new_arcs
    alive_nodes = {cand_list[i] for i in np.flatnonzero(node_alive)}
    arc_keys = [k for k, ok in zip(arc_keys, arc_alive.tolist(), strict=True) if ok]
    prod_keys = [k for k, ok in zip(prod_keys, prod_alive.tolist(), strict=True) if ok]

    # ---- index sites, nodes
    site_idx = {s: i for i, s in enumerate(site_ids)}
    node_keys = sorted(alive_nodes, key=lambda k: (site_idx[k[0]], products.index(k[1])))
    node_idx = {k: i for i, k in enumerate(node_keys)}
    n_sites = len(site_ids)

    # ---- site arrays
    rows = [net.sites[s] for s in site_ids]
    site_lines = np.zeros(n_sites)
    for (s, _p), prow in net.production.items():
        if s in site_idx:
            site_lines[site_idx[s]] = prow.lines
    producing = {site_idx[s] for s, _p in prod_keys}
    site_line_days = np.array([site_lines[i] * DAYS if i in producing else 0.0
                               for i in range(n_sites)])
    # external suppliers: one "line-day" per unit, so their line-days are units per year
    for s in {s for s, _p in supply_keys}:
        if s in site_idx:
            cap = net.sites[s].supply_capacity_units_per_day
            site_line_days[site_idx[s]] = cap * DAYS if cap is not None else 0.0
    fixed = np.array([r.fixed_cost_usd_per_year for r in rows], dtype=float)
    expandable = np.zeros(n_sites, dtype=bool)
    exp_cost = np.zeros(n_sites)
    exp_line_days = np.zeros(n_sites)
    if options.allow_expansion:
        for i, r in enumerate(rows):
            if r.is_external_supplier:
                continue  # a vendor's capacity is contracted, not built
            if i in producing:
                expandable[i] = True
                exp_line_days[i] = DAYS
                exp_cost[i] = options.expansion_cost_share * fixed[i] / max(site_lines[i], 1.0)
                exp_cost[i] = max(exp_cost[i], MIN_EXPANSION_COST)
            elif r.kind in STOCKING_KINDS and any(
                    r.storage_capacity_units(t) is not None for t in TemperatureClass):
                expandable[i] = True
                exp_cost[i] = options.expansion_cost_share * fixed[i]
                exp_cost[i] = max(exp_cost[i], MIN_EXPANSION_COST)

    # ---- production arrays
    prod_idx = {k: i for i, k in enumerate(prod_keys)}
    n_prod = len(prod_keys)
    prod_cost = np.zeros(n_prod)
    prod_days = np.zeros(n_prod)
    prod_good = np.zeros(n_prod)
    prod_inputs: list[list[tuple[int, float]]] = []
    node_consumers: list[list[tuple[int, float]]] = [[] for _ in node_keys]
    for j, (s, p) in enumerate(prod_keys):
        if (s, p) in supplied:  # bought from an external supplier: price per unit, no inputs
            prod_good[j] = 1.0
            prod_cost[j] = net.sites[s].supply_cost_usd_per_unit
            prod_days[j] = 1.0
            prod_inputs.append([])
            continue
        prow = net.production[(s, p)]
        batch = net.batch_units((s, p))
        yld = min(prow.yield_frac.mean, 1.0)
        good = batch * yld * (1.0 - prow.batch_failure_prob)
        if good <= 0:
            good = 1e-9
        prod_good[j] = good
        prod_cost[j] = (prow.cost_per_batch_usd + prow.cost_per_unit_usd * batch * yld) / good
        if prow.capacity_batches_per_year is not None:
            days_per_batch = prow.lines * DAYS / prow.capacity_batches_per_year
        else:
            days_per_batch = prow.cycle_time_days.mean
        prod_days[j] = days_per_batch / good
        ins = []
        for b in net.bom.get((s, p), ()):
            n = node_idx[(s, b.input_product_id)]
            coef = b.input_units_per_batch / good
            ins.append((n, coef))
            node_consumers[n].append((j, coef))
        prod_inputs.append(ins)

    # ---- product bounds: all demand met through the bill of materials
    bound: dict[str, float] = defaultdict(float)
    for (c, p), units in zip(demand_keys, demand_units, strict=True):
        bound[p] += units
    # products in reverse topological order of "made from"
    made_from: dict[str, set[str]] = defaultdict(set)
    for j, (s, p) in enumerate(prod_keys):
        for n, _coef in prod_inputs[j]:
            made_from[p].add(node_keys[n][1])
    order = _topological(products, made_from)
    for p in order:
        coefs: dict[str, float] = {}
        for j, (s, q) in enumerate(prod_keys):
            if q != p:
                continue
            for n, coef in prod_inputs[j]:
                ip = node_keys[n][1]
                coefs[ip] = max(coefs.get(ip, 0.0), coef)
        for ip, coef in coefs.items():
            bound[ip] += coef * bound[p]
    product_bound = {p: float(bound.get(p, 0.0)) for p in products}
    for s in {s for s, _p in supply_keys}:
        i = site_idx[s]
        if site_line_days[i] == 0.0:  # unlimited vendor: a capacity that never binds
            site_line_days[i] = max(1.0, sum(product_bound[p] for v, p in supply_keys if v == s))

    # ---- demand cv per product at a customer-facing site (for the safety-stock term)
    cv_site = _site_cv(net, demand_keys)

    # ---- lanes and arcs
    lane_ids = list(dict.fromkeys(lid for lid, _p in arc_keys))
    lane_idx = {lid: i for i, lid in enumerate(lane_ids)}
    n_lanes = len(lane_ids)
    lane_cap = np.full(n_lanes, np.inf)
    lane_fc = np.zeros(n_lanes)
    lane_deps = np.zeros(n_lanes)
    lane_lead = np.zeros(n_lanes)
    for i, lid in enumerate(lane_ids):
        lane = net.lanes[lid]
        t = timing[lid]
        lane_deps[i] = t.departures_per_year
        lane_lead[i] = t.lead_days
        if not t.on_demand:
            if lane.capacity_units_per_departure is not None:
                lane_cap[i] = lane.capacity_units_per_departure * t.departures_per_year
            if options.lane_fixed_charges:
                lane_fc[i] = lane.cost_per_shipment_usd * t.departures_per_year

    # per-lane and per-product parameters, then gathered per arc (vectorised)
    rows_l = [net.lanes[lid] for lid in lane_ids]
    t_l = [timing[lid] for lid in lane_ids]
    l_freight = np.array([r.cost_per_unit_usd for r in rows_l], dtype=float)
    l_ship = np.array([r.cost_per_shipment_usd for r in rows_l], dtype=float)
    l_co2 = np.array([r.co2_kg_per_unit for r in rows_l], dtype=float)
    l_handling = np.array([net.sites[r.origin_id].handling_cost_usd_per_unit for r in rows_l])
    l_on_demand = np.array([t.on_demand for t in t_l], dtype=bool)

    n_arcs = len(arc_keys)
    arc_product = [p for _lid, p in arc_keys]
    arc_lane = np.fromiter((lane_idx[lid] for lid, _p in arc_keys), dtype=np.int64, count=n_arcs)
    cand_to_node = np.full(len(cand_list), -1, dtype=np.int64)
    for k, i in node_idx.items():
        cand_to_node[cand_id[k]] = i
    ao, ad = ao[arc_alive], ad[arc_alive]
    arc_from = cand_to_node[ao]
    to_cust = ad < 0
    arc_to_node = np.where(to_cust, -1, cand_to_node[np.maximum(ad, 0)])
    dests = [lane_dest for lane_dest in (rows_l[l].destination_id for l in arc_lane.tolist())]
    arc_to_dem = np.array([demand_idx[(d, p)] if c else -1 for d, p, c
                           in zip(dests, arc_product, to_cust.tolist(), strict=True)],
                          dtype=np.int64)
    freight = l_freight[arc_lane]
    handling = l_handling[arc_lane]
    co2 = l_co2[arc_lane]
    stock = ~to_cust
    # on-demand lanes: the per-shipment cost spread over a typical shipment
    size = np.ones(n_arcs)
    order_arr = np.maximum(np.asarray(order_units, dtype=float), 1.0)
    size[to_cust] = order_arr[arc_to_dem[to_cust]] if len(order_arr) else 1.0
    ship_units = {n: _shipment_units(net, node_keys[n], options)
                  for n in set(arc_to_node[stock].tolist())}
    size[stock] = [ship_units[n] for n in arc_to_node[stock].tolist()]
    ship = np.where(l_on_demand[arc_lane], l_ship[arc_lane] / size, 0.0)

    node_in: list[list[int]] = [[] for _ in node_keys]
    node_out: list[list[int]] = [[] for _ in node_keys]
    demand_in: list[list[int]] = [[] for _ in demand_keys]
    lane_arcs: list[list[int]] = [[] for _ in lane_ids]
    for a, (li, nf, nt, k) in enumerate(zip(arc_lane.tolist(), arc_from.tolist(),
                                            arc_to_node.tolist(), arc_to_dem.tolist(),
                                            strict=True)):
        lane_arcs[li].append(a)
        node_out[nf].append(a)
        if nt >= 0:
            node_in[nt].append(a)
        else:
            demand_in[k].append(a)

    # ---- storage groups
    st_site: list[int] = []
    st_class: list[TemperatureClass] = []
    st_cap: list[float] = []
    st_nodes: list[list[int]] = []
    by_site_class: dict[tuple[int, TemperatureClass], list[int]] = defaultdict(list)
    for n, (s, p) in enumerate(node_keys):
        by_site_class[(site_idx[s], pclass[p])].append(n)
    for (si, tc), nodes in sorted(by_site_class.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        cap = net.sites[site_ids[si]].storage_capacity_units(tc)
        if cap is None:
            continue
        st_site.append(si)
        st_class.append(tc)
        st_cap.append(float(cap))
        st_nodes.append(nodes)
    st_cap_arr = np.array(st_cap, dtype=float)

    data = DesignData(
        scenario_name=name, options=options, holding_rate=h,
        products=products, product_class=pclass, product_value=pvalue, product_bound=product_bound,
        sites=site_ids, site_kind=[r.kind for r in rows],
        site_candidate=np.array([r.candidate for r in rows], dtype=bool),
        site_open_now=np.array([r.is_open for r in rows], dtype=bool),
        site_fixed_cost=fixed,
        site_handling=np.array([r.handling_cost_usd_per_unit for r in rows], dtype=float),
        site_line_days=site_line_days, site_lines=site_lines,
        site_expandable=expandable, site_expansion_cost=exp_cost,
        site_expansion_line_days=exp_line_days,
        node_site=np.array([site_idx[s] for s, _p in node_keys], dtype=np.int64),
        node_product=[p for _s, p in node_keys],
        node_has_policy=np.array([k in net.policies for k in node_keys], dtype=bool),
        node_in=node_in, node_out=node_out, node_consumers=node_consumers,
        prod_site=np.array([site_idx[s] for s, _p in prod_keys], dtype=np.int64),
        prod_product=[p for _s, p in prod_keys],
        prod_node=np.array([node_idx[k] for k in prod_keys], dtype=np.int64),
        prod_cost=prod_cost, prod_line_days=prod_days,
        prod_good_per_batch=prod_good, prod_inputs=prod_inputs,
        lanes=lane_ids,
        lane_origin=np.array([site_idx[net.lanes[l].origin_id] for l in lane_ids], dtype=np.int64),
        lane_dest_site=[net.lanes[l].destination_id for l in lane_ids],
        lane_mode=[net.lanes[l].mode.value for l in lane_ids],
        lane_capacity=lane_cap, lane_fixed_charge=lane_fc, lane_departures=lane_deps,
        lane_lead_days=lane_lead, lane_arcs=lane_arcs,
        arc_lane=arc_lane, arc_product=arc_product, arc_from=arc_from, arc_to_node=arc_to_node,
        arc_to_demand=arc_to_dem, arc_freight=freight, arc_shipment=ship, arc_handling=handling,
        arc_co2_kg=co2,
        demand_customer=[c for c, _p in demand_keys], demand_product=[p for _c, p in demand_keys],
        demand_units=np.array(demand_units, dtype=float),
        demand_penalty=np.full(len(demand_keys), float(penalty)),
        demand_in=demand_in,
        storage_site=np.array(st_site, dtype=np.int64), storage_class=st_class,
        storage_capacity=st_cap_arr, storage_nodes=st_nodes,
        storage_throughput=st_cap_arr * DAYS / options.storage_cover_days,
        site_index=site_idx, node_index=node_idx, lane_index=lane_idx, demand_index=demand_idx,
        prod_index=prod_idx, product_cv=cv_site, notes=notes,
        site_handling_capacity=np.array(
            [r.handling_capacity_units_per_day * DAYS
             if r.handling_capacity_units_per_day is not None else np.inf for r in rows],
            dtype=float),
    )
    fill_stock_terms(net, data)
    return data


def _topological(products: list[str], made_from: dict[str, set[str]]) -> list[str]:
    """Products ordered so that every product comes before the inputs it is made from."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(p: str, stack: frozenset[str]) -> None:
        if p in seen or p in stack:
            return
        # every product that is made from p must come first
        for q in products:
            if p in made_from.get(q, ()):
                visit(q, stack | {p})
        seen.add(p)
        out.append(p)

    for p in products:
        visit(p, frozenset())
    return out


def _site_cv(net: Network, demand_keys: list[tuple[str, str]]) -> dict[str, float]:
    """Coefficient of variation of daily demand at a typical customer-facing site, per product.

    Demand of all customers of a product is pooled (compound Poisson: variance per day =
    rate x E[size^2]; a series counts its day-to-day variance), then split evenly over the
    sites that serve it in the scenario as loaded: cv_site = cv_total x sqrt(sites).
    """
    mean: dict[str, float] = defaultdict(float)
    var: dict[str, float] = defaultdict(float)
    servers: dict[str, set[str]] = defaultdict(set)
    for key in demand_keys:
        d = net.demand[key]
        p = key[1]
        if d.orders_per_day is not None:
            m1 = d.order_size_units.mean
            m2 = d.order_size_units.variance + m1 * m1
            mean[p] += d.orders_per_day * m1
            var[p] += d.orders_per_day * m2
        else:
            series = np.asarray(net.demand_series.get(key, ()), dtype=float)
            if series.size:
                mean[p] += float(series.mean())
                var[p] += float(series.var())
        srcs = net.demand_sources(d)
        if srcs:
            servers[p].add(srcs[0].origin_id)
    return {p: math.sqrt(var[p]) / mean[p] * math.sqrt(max(len(servers[p]), 1))
            for p in mean if mean[p] > 0}


def _shipment_units(net: Network, node: tuple[str, str], options: DesignOptions) -> float:
    """Typical units per replenishment order of a stock point (for on_demand shipment costs)."""
    pol = net.policies.get(node)
    if pol is not None:
        if pol.policy == PolicyKind.R_Q and pol.order_quantity_units:
            return pol.order_quantity_units
        if pol.policy == PolicyKind.S_S and pol.order_up_to_units and pol.reorder_point_units is not None:
            q = pol.order_up_to_units - pol.reorder_point_units
            if q > 0:
                return q
    return options.default_shipment_units
