"""Time to survive (TTS) and time to recover (TTR) as linear programs (Simchi-Levi et al. 2015).

*Time to survive* of a node is how long the network keeps every customer served with that node
down, using the inventory on hand elsewhere and the spare production capacity of the other
sites (Simchi-Levi, Schmidt, Wei et al., "Identifying risks and mitigating disruptions in the
automotive supply chain", Interfaces 45(5), 2015). Over a disruption of length ``t`` days:

* ``make[s,p] <= rate[s,p] * t`` per product, and the lines a site shares across products:
  ``sum_p make[s,p] / rate[s,p] <= t``; ``rate`` is the expected good output per day with every
  line on the product (lines x batch x mean yield x (1 - failure probability) / mean cycle);
* the bill of materials: a site consumes ``input_units_per_batch / batch`` of each input per
  unit it makes;
* stock balance at every (site, product): stock + made + received >= shipped + consumed;
* lane capacity per day (capacity per departure x departures per day) x ``t`` where finite;
* every customer receives ``demand_rate * t`` of every product it orders;
* the node that is down makes, ships and receives nothing, and its stock is out of reach.

TTS maximises ``t`` (capped at :data:`T_MAX_DAYS`; a node the network can lose for ever has
TTS = infinity). The TTR variant fixes ``t`` at the node's time to recover and minimises the
demand lost (units short at customers); the patients at risk are those units x the product's
``patients_per_unit``. A node whose TTS is below its TTR is a risk.

The LP ignores lead times (transit, QC release) and assumes stock can be re-allocated
perfectly; the simulator's time to first stockout is therefore usually *shorter* than TTS
(see :func:`why_they_differ`).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyomo.environ as pe

from supplytwin.model import Network, SiteKind
from supplytwin.model.schedule import parse_schedule
from supplytwin.opt.solver import SolverSettings, solve

#: the horizon of the TTS LP; a node whose TTS reaches it is reported as infinite
T_MAX_DAYS = 3650.0

SiteProduct = tuple[str, str]


@dataclass(frozen=True)
class SurvivalResult:
    node: str
    #: days the network serves every customer with ``node`` down (inf = indefinitely)
    tts_days: float
    #: time to recover of the node (None when unknown)
    ttr_days: float | None = None
    #: units of demand lost when the node is down for its TTR (0 when TTS >= TTR)
    lost_units_at_ttr: float = 0.0
    #: lost units x patients_per_unit
    patients_at_risk: float = 0.0
    solve_seconds: float = 0.0
    #: product -> patients at risk (the TTR LP's lost units of that product x patients_per_unit)
    patients_by_product: dict[str, float] = field(default_factory=dict)

    @property
    def at_risk(self) -> bool:
        return self.ttr_days is not None and self.tts_days < self.ttr_days - 1e-6


def production_rate_units_per_day(net: Network, sp: SiteProduct) -> float:
    """Expected good output per day of (site, product) with all the site's lines on it."""
    row = net.production[sp]
    batch = net.batch_units(sp)
    good = batch * min(1.0, row.yield_frac.mean) * (1.0 - row.batch_failure_prob)
    rate = row.lines * good / max(row.cycle_time_days.mean, 1e-9)
    if row.capacity_batches_per_year is not None:
        rate = min(rate, row.capacity_batches_per_year * good / 365.0)
    return rate


def lane_capacity_units_per_day(lane) -> float:
    if lane.capacity_units_per_departure is None:
        return math.inf
    sched = parse_schedule(lane.departure_schedule)
    if sched.period_days == 0:  # on demand: no consolidation, capacity does not apply
        return math.inf
    return lane.capacity_units_per_departure * len(sched.offsets_days) / sched.period_days


def initial_stock(net: Network) -> dict[SiteProduct, float]:
    stock: dict[SiteProduct, float] = defaultdict(float)
    for lot in net.initial_stock:
        stock[(lot.site_id, lot.product_id)] += lot.quantity_units
    return dict(stock)


def candidate_nodes(net: Network) -> list[str]:
    """Open sites that hold, make or ship something (customers excepted)."""
    used = {s for (s, _p) in net.policies} | {s for (s, _p) in net.production}
    used |= {net.lanes[l].origin_id for pol in net.policies.values() for l in pol.sources
             if l in net.lanes}
    return sorted(s for s, r in net.sites.items()
                  if r.is_open and r.kind != SiteKind.CUSTOMER and s in used)


def _build(net: Network, down: frozenset[str], stock: Mapping[SiteProduct, float],
           t_fixed: float | None) -> pe.ConcreteModel:
    m = pe.ConcreteModel(name="time_to_survive")
    open_ = {s for s, r in net.sites.items() if r.is_open and s not in down}
    demand = {k: net.demand_mean_rate(d) for k, d in net.demand.items()}
    holders = {sp for sp in net.policies} | {sp for sp in net.production} | set(demand)
    # an external supplier ships whatever its buyers' policies order on its lanes, up to its
    # daily capacity: a source with no stock and no bill of materials
    bought: list[SiteProduct] = []
    for (_site, product), pol in net.policies.items():
        for lane_id in pol.sources:
            lane = net.lanes.get(lane_id)
            if lane is not None and lane.origin_id in open_ and (
                    net.sites[lane.origin_id].kind == SiteKind.EXTERNAL_SUPPLIER):
                bought.append((lane.origin_id, product))
    bought = sorted(set(bought))
    holders |= set(bought)
    make_keys = [sp for sp in net.production if sp[0] in open_]
    # a customer is served only through the lanes the simulator would use for it
    serving = {k: {l.lane_id for l in net.demand_sources(d)} for k, d in net.demand.items()}
    arcs = []  # (lane_id, product)
    for lane in net.lanes.values():
        if lane.origin_id not in open_ or lane.destination_id not in open_:
            continue
        for p in net.products:
            dest = (lane.destination_id, p)
            if dest in serving and lane.lane_id not in serving[dest]:
                continue
            if ((lane.origin_id, p) in holders and dest in holders
                    and net.lane_can_carry(lane, p)):
                arcs.append((lane.lane_id, p))
    m.t = pe.Var(bounds=(0, T_MAX_DAYS))
    if t_fixed is not None:
        m.t.fix(t_fixed)
    m.make = pe.Var(make_keys, within=pe.NonNegativeReals)
    m.ship = pe.Var(arcs, within=pe.NonNegativeReals)
    customers = [k for k in demand if k[0] in open_ and demand[k] > 0]
    m.lost = pe.Var(customers, within=pe.NonNegativeReals)
    if t_fixed is None:
        m.lost.fix(0.0)
    m.buy = pe.Var(bought, within=pe.NonNegativeReals)
    m.rows = pe.ConstraintList()
    for site in sorted({s for s, _p in bought}):
        cap = net.sites[site].supply_capacity_units_per_day
        if cap is not None:
            m.rows.add(sum(m.buy[sp] for sp in bought if sp[0] == site) <= cap * m.t)
    rate = {sp: production_rate_units_per_day(net, sp) for sp in make_keys}
    by_site: dict[str, list[SiteProduct]] = defaultdict(list)
    for sp in make_keys:
        by_site[sp[0]].append(sp)
    for sps in by_site.values():
        usable = [sp for sp in sps if rate[sp] > 0]
        for sp in sps:
            if rate[sp] <= 0:
                m.make[sp].fix(0.0)
        if usable:
            # shared lines: the fractions of time spent on each product add up to at most t
            m.rows.add(sum(m.make[sp] * (1.0 / rate[sp]) for sp in usable) <= m.t)
    for lane_id, p in arcs:
        cap = lane_capacity_units_per_day(net.lanes[lane_id])
        if math.isfinite(cap):
            m.rows.add(m.ship[(lane_id, p)] <= cap * m.t)
    inflow: dict[SiteProduct, list] = defaultdict(list)
    outflow: dict[SiteProduct, list] = defaultdict(list)
    for lane_id, p in arcs:
        lane = net.lanes[lane_id]
        inflow[(lane.destination_id, p)].append(m.ship[(lane_id, p)])
        outflow[(lane.origin_id, p)].append(m.ship[(lane_id, p)])
    consumed: dict[SiteProduct, list] = defaultdict(list)
    for sp in make_keys:
        batch = net.batch_units(sp)
        for b in net.bom.get(sp, ()):
            consumed[(sp[0], b.input_product_id)].append(
                (b.input_units_per_batch / batch) * m.make[sp])
    for sp in sorted(holders):
        if sp[0] not in open_:
            continue
        have = stock.get(sp, 0.0)
        made = [m.make[sp]] if sp in rate else []
        if sp in m.buy:
            made.append(m.buy[sp])
        if sp in demand and demand[sp] > 0 and sp[0] in open_:
            # a customer: what arrives (and what is lost, in the TTR variant) covers demand
            m.rows.add(sum(inflow[sp]) + have + m.lost[sp] >= demand[sp] * m.t)
            continue
        lhs = have + sum(made) + sum(inflow[sp])
        rhs = sum(outflow[sp]) + sum(consumed[sp])
        if isinstance(lhs, float | int) and isinstance(rhs, float | int):
            continue
        m.rows.add(lhs >= rhs)
    if t_fixed is None:
        m.obj = pe.Objective(expr=m.t, sense=pe.maximize)
    else:
        m.obj = pe.Objective(expr=sum(m.lost[k] for k in customers) + 0.0 * m.t,
                             sense=pe.minimize)
    m._customers = customers
    return m


def _solve(m: pe.ConcreteModel, settings: SolverSettings | None):
    # threads left to HiGHS: its thread pool is global, and a second thread count is an error
    out = solve(m, settings or SolverSettings(time_limit_s=60))
    if not out.has_solution:
        raise RuntimeError(f"the TTS LP ended {out.status} ({out.termination})")
    return out


def time_to_survive(net: Network, down: Iterable[str], *,
                    stock: Mapping[SiteProduct, float] | None = None,
                    settings: SolverSettings | None = None) -> float:
    """Days every customer stays served with the sites in ``down`` out (inf = indefinitely)."""
    m = _build(net, frozenset(down), initial_stock(net) if stock is None else stock, None)
    _solve(m, settings)
    t = max(0.0, float(pe.value(m.t)))  # no "-0.0" from the solver
    return math.inf if t >= T_MAX_DAYS * (1 - 1e-9) else t


def lost_by_customer(net: Network, down: Iterable[str], ttr_days: float, *,
                     stock: Mapping[SiteProduct, float] | None = None,
                     settings: SolverSettings | None = None) -> dict[SiteProduct, float]:
    """Units lost per (customer, product) with ``down`` out for ``ttr_days`` (the TTR LP)."""
    m = _build(net, frozenset(down), initial_stock(net) if stock is None else stock,
               float(ttr_days))
    _solve(m, settings)
    return {k: max(0.0, float(pe.value(m.lost[k]))) for k in m._customers}


def lost_at_recovery(net: Network, down: Iterable[str], ttr_days: float, *,
                     stock: Mapping[SiteProduct, float] | None = None,
                     settings: SolverSettings | None = None) -> tuple[float, float]:
    """(units lost, patients at risk) with ``down`` out for ``ttr_days`` (the TTR LP)."""
    lost = lost_by_customer(net, down, ttr_days, stock=stock, settings=settings)
    units = sum(lost.values())
    patients = sum(v * net.products[k[1]].patients_per_unit for k, v in lost.items())
    return units, patients


def survival_table(net: Network, ttr_days: Mapping[str, float], *,
                   nodes: Iterable[str] | None = None,
                   stock: Mapping[SiteProduct, float] | None = None,
                   settings: SolverSettings | None = None) -> list[SurvivalResult]:
    """TTS of every node, and the TTR LP where the node's time to recover is known."""
    stock = initial_stock(net) if stock is None else stock
    out = []
    for node in nodes if nodes is not None else candidate_nodes(net):
        started = time.perf_counter()
        tts = time_to_survive(net, [node], stock=stock, settings=settings)
        ttr = ttr_days.get(node)
        lost = patients = 0.0
        by_product: dict[str, float] = defaultdict(float)
        if ttr is not None and tts < ttr:
            per = lost_by_customer(net, [node], ttr, stock=stock, settings=settings)
            for (_c, p), units in per.items():
                lost += units
                by_product[p] += units * net.products[p].patients_per_unit
            patients = sum(by_product.values())
        out.append(SurvivalResult(node, tts, ttr, lost, patients,
                                  time.perf_counter() - started,
                                  {p: v for p, v in sorted(by_product.items()) if v > 0}))
    return out


def why_they_differ(tts_days: float, simulated_days: float | None, tolerance_days: float = 2.0
                    ) -> str:
    """A plain-words reason for a gap between the LP's TTS and the simulated first stockout."""
    if simulated_days is None or (isinstance(simulated_days, float) and math.isnan(simulated_days)):
        if math.isinf(tts_days):
            return "agree: no stockout simulated and the LP finds the node can be lost for good"
        return ("no stockout within the simulated disruption: the disruption (or the horizon) "
                "ended before the TTS, or the simulated stock was above the LP's")
    if math.isinf(tts_days):
        return ("the simulator ran short although the LP survives indefinitely: sourcing rules "
                "and order-up-to levels do not re-route stock and spare capacity the way the "
                "LP's perfect re-allocation does")
    gap = simulated_days - tts_days
    if abs(gap) <= tolerance_days:
        return "agree within the tolerance"
    if gap < 0:
        return ("simulated stockout earlier: lead times (transit, QC release, departures) and "
                "stock held where the policies keep it, not where it is needed, are outside the "
                "LP, which re-allocates perfectly and instantly")
    return ("simulated stockout later: backlogged orders served from stock in transit or "
            "released after the start, or a random surplus over the mean demand the LP uses")
