"""Stock on hand at stock points, from their inventory policies and the flows (Little's law).

The simulator's holding cost is the time-integral of the value of stock *on hand* at the
stock points (``cost_holding_usd``, :mod:`supplytwin.model.costs`): not goods in transit, in
production or in QC. The optimiser prices the same stock. For a stock point with a
continuous-review policy, time averages obey

    E[on hand] = E[inventory position] - E[on order] + E[backorders owed]

(the position is on hand + on order - backorders, so this is its time average). Two terms are
computed from the policy and the flows; the third is taken as zero (full service):

* **E[on order]** (units ordered and not yet received): by Little's law, units ordered per day
  x mean replenishment lead time W. Over a lane: W = mean wait for a departure + mean transit
  (+ the vendor's mean lead time, late orders included, when the origin is an external
  supplier). From production: W = mean QC release + cycle time x the mean position of a batch
  in the queue of one order of ``n`` batches on ``L`` lines, ``mean_k (floor(k / L) + 1)`` over
  k < n (the lines are assumed free when the order arrives).
* **E[inventory position]**, for demand arriving in chunks of ``q`` units (the units a stock
  point is asked for at one instant: a customer order, the daily quantities of demand series,
  which all arrive at the start of a day, or a downstream stock point's order). Just after an
  order the position is at its top ``H``; each chunk lowers it by ``q``; the order is placed
  when it reaches the trigger ``T``. It therefore visits ``H, H - q, ..., T + q`` for equal
  times, and its mean is ``(T + q + H) / 2`` (exact when ``H - T`` is a multiple of ``q``):

  ======================  ==============  ==========================  =======================
  policy                  trigger T       top H                       E[position]
  ======================  ==============  ==========================  =======================
  base stock S            S - q           S                           S
  base stock, batches b   S - q           (a lattice)                 S + (b - gcd(b, q)) / 2
  (s, S)                  s               S                           (s + S + q) / 2
  (r, Q)                  r               r + Q                       r + (Q + q) / 2
  made in batches of b    as above        T + b ceil((H' - T) / b)    (T + q + H) / 2
  (R, S), every R days    (review)        S                           S - rate x R / 2
  days of supply D        (review)        D x rate                    rate x (D - R / 2)
  ======================  ==============  ==========================  =======================

  (``H'`` is the top without batching: a plant rounds every order up to whole batches). The
  mean never exceeds H (a chunk larger than S - s triggers an order at once). A base-stock
  plant orders whole batches as soon as the position falls below S, which leaves the
  position on the levels S, S + g, ..., S + b - g (g = gcd(b, q)), each equally often; with
  chunks of random size g is 1.

Which levels: the design scenario (:func:`supplytwin.opt.design.write_design`) scales the
levels of a stock point replenished over lanes by (design flow / flow in the scenario as
loaded), so the position of such a point is proportional to its flow (plus ``q / 2``, which
does not scale); days-of-supply targets follow the flow by themselves; a plant's make policy
and a stock point with no flow in the scenario keep their levels (a constant while the site
is open). A stock point the design creates gets a days-of-supply row (lead time + review
period + safety days): its stock on hand is rate x (R / 2 + safety days). Every term is
therefore linear in the flows and the site's open binary, and the model takes
``on_hand = max(0, that)`` (a variable that cannot go below zero).

When this is exact: deterministic demand and lead times, full service (no backorders up- or
downstream), lines free when an order arrives, ``H - T`` a multiple of ``q``, flows within 5 %
of the scenario's (inside that band the design keeps the levels as they are) and no storage
cap on the scaled levels. Random demand moves the position only through the chunks (a random
undershoot of the trigger, a finer lattice of batches); random demand and lead times add
backorders (the E[backorders] term, left out) and waiting for stock upstream (a longer W),
which move the simulated stock both ways; ``--evaluate`` writes the comparison per stock point.

Initial stock at a stock point that nothing can reach or drain (pruned from the flows) stays
on hand; it is counted (``stranded``) while its site is open.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from supplytwin.model import Network, PolicyKind, PolicyRow

if TYPE_CHECKING:
    from supplytwin.opt.data import DesignData

DAYS = 365.0
#: review period of the days-of-supply row the design writes for a stock point it creates
REVIEW_DAYS = 7.0


@dataclass(frozen=True)
class Position:
    """Mean inventory position of a stock point: ``fixed`` units while its site is open, plus
    ``days_per_flow`` x its inflow in units per day."""

    fixed_units: float
    days_per_flow: float


def inventory_position(pol: PolicyRow, chunk_units: float, *, batch_units: float | None = None
                       ) -> float:
    """Mean inventory position (units) of a continuous-review policy whose demand comes in
    chunks of ``chunk_units``; ``batch_units`` when orders are made in whole batches.

    (R,S) and days-of-supply policies are reviewed periodically: see :func:`position_terms`.
    """
    q = max(chunk_units, 0.0)
    kind = pol.policy
    if kind == PolicyKind.BASE_STOCK:
        top = float(pol.order_up_to_units)
        trigger = top - q
    elif kind == PolicyKind.S_S:
        top = float(pol.order_up_to_units)
        trigger = float(pol.reorder_point_units)
    elif kind == PolicyKind.R_Q:
        trigger = float(pol.reorder_point_units)
        top = trigger + float(pol.order_quantity_units)
    else:
        raise ValueError(f"{kind.value} is reviewed periodically")
    if kind == PolicyKind.BASE_STOCK:
        if not batch_units:
            return top
        # orders of whole batches leave the position on the lattice S, S + g, ..., S + b - g
        # (g = gcd(b, q) for constant chunks), each level equally often
        return top + (batch_units - _lattice_step(batch_units, q)) / 2.0
    if batch_units:
        top = trigger + batch_units * max(1, math.ceil((top - trigger) / batch_units - 1e-9))
    return min(top, (trigger + q + top) / 2.0)


def _lattice_step(batch_units: float, chunk_units: float) -> float:
    """gcd(b, q) when both are whole numbers, else q (capped at b)."""
    b, q = round(batch_units), round(chunk_units)
    if q >= 1 and abs(batch_units - b) < 1e-9 and abs(chunk_units - q) < 1e-9:
        return float(math.gcd(b, q))
    return min(chunk_units, batch_units)


def batches_per_order(pol: PolicyRow, chunk_units: float, batch_units: float) -> int:
    """Whole batches a make policy orders at once (see :func:`inventory_position`)."""
    kind = pol.policy
    if kind == PolicyKind.BASE_STOCK:
        need = max(chunk_units, 1.0)
    elif kind == PolicyKind.S_S:
        need = float(pol.order_up_to_units) - float(pol.reorder_point_units)
    elif kind == PolicyKind.R_Q:
        need = float(pol.order_quantity_units)
    else:
        need = batch_units
    return max(1, math.ceil(need / batch_units - 1e-9))


def queue_factor(batches: int, lines: int) -> float:
    """Mean completion time of the batches of one order, in cycle times, on free lines: batch
    k (from 0) finishes after floor(k / lines) + 1 cycles."""
    lines = max(int(lines), 1)
    return sum(k // lines + 1 for k in range(batches)) / batches


def position_terms(pol: PolicyRow, chunk_units: float, flow_units_per_day: float, *,
                   rescaled: bool, batch_units: float | None = None) -> Position:
    """The mean inventory position as a linear function of the design's inflow.

    ``flow_units_per_day`` is the stock point's flow in the scenario as loaded; ``rescaled``
    says the design scales the policy's levels with the flow (lane-fed points with a flow).
    """
    kind = pol.policy
    f0 = flow_units_per_day
    if kind == PolicyKind.DAYS_OF_SUPPLY:
        return Position(0.0, float(pol.days_of_supply_target) - pol.review_period_days / 2.0)
    if kind == PolicyKind.PERIODIC_R_S:
        half_review = pol.review_period_days / 2.0
        if rescaled and f0 > 0:
            return Position(0.0, float(pol.order_up_to_units) / f0 - half_review)
        return Position(float(pol.order_up_to_units), -half_review)
    mean = inventory_position(pol, chunk_units, batch_units=batch_units)
    if not (rescaled and f0 > 0):
        return Position(mean, 0.0)
    # the levels scale with the flow, the chunk does not: (s + S) / 2 scales, q / 2 stays
    fixed = 0.0 if kind == PolicyKind.BASE_STOCK else min(mean, chunk_units / 2.0)
    return Position(fixed, (mean - fixed) / f0)


def demand_chunks(net: Network) -> dict[tuple[str, str], float]:
    """Units asked of each stock point at one instant (mean), in the scenario as loaded.

    Demand events per day are counted at each stock point: every order of a Poisson stream;
    one per day for all demand series together (they arrive at the start of each day); a
    downstream base-stock point passes its own events on, an (s,S) or (r,Q) point orders once
    per cycle (flow / order size), a periodic one once per review; a plant consumes inputs
    once per batch. The chunk is the mean daily flow / events per day.
    """
    rate = net.mean_daily_demand
    events: dict[tuple[str, str], float] = defaultdict(float)
    daily_clock: dict[tuple[str, str], bool] = defaultdict(bool)
    for d in net.demand.values():
        srcs = net.demand_sources(d)
        if not srcs:
            continue
        sp = (srcs[0].origin_id, d.product_id)
        if d.orders_per_day is not None:
            events[sp] += d.orders_per_day
        else:
            daily_clock[sp] = True
    for sp in net._supply_order():  # downstream first
        pol = net.policies.get(sp)
        r = rate.get(sp, 0.0)
        if pol is None or r <= 0:
            continue
        if pol.is_make:
            batch = net.batch_units(sp) if sp in net.production else 1.0
            for b in net.bom.get(sp, ()):
                events[(sp[0], b.input_product_id)] += r / batch
            continue
        kind = pol.policy
        up_events, up_clock = 0.0, False
        if kind == PolicyKind.BASE_STOCK:
            up_events, up_clock = events.get(sp, 0.0), daily_clock.get(sp, False)
        elif kind == PolicyKind.S_S:
            up_events = r / max(float(pol.order_up_to_units) - float(pol.reorder_point_units), 1.0)
        elif kind == PolicyKind.R_Q:
            up_events = r / float(pol.order_quantity_units)
        else:
            up_events = 1.0 / pol.review_period_days
        for lane_id, share in zip(pol.sources, net._shares(pol), strict=True):
            lane = net.lanes.get(lane_id)
            if lane is not None and share > 0:  # fail-over lanes take no orders
                up = (lane.origin_id, sp[1])
                events[up] += up_events
                daily_clock[up] = daily_clock[up] or up_clock
    out: dict[tuple[str, str], float] = {}
    for sp, r in rate.items():
        n = events.get(sp, 0.0) + (1.0 if daily_clock.get(sp) else 0.0)
        out[sp] = r / n if n > 0 else 0.0
    return out


def replenishment_lead_days(net: Network, lane_id: str, lane_lead_days: float) -> float:
    """Mean time from a replenishment order over ``lane_id`` to its receipt: wait for a
    departure and transit (``lane_lead_days``), plus an external supplier's own lead time."""
    origin = net.sites[net.lanes[lane_id].origin_id]
    if not origin.is_external_supplier:
        return lane_lead_days
    lead = origin.supply_lead_time_days.mean if origin.supply_lead_time_days else 0.0
    late = origin.supply_late_days.mean if origin.supply_late_days else 0.0
    return lane_lead_days + lead + (1.0 - origin.supply_on_time_prob) * late


def production_lead_days(net: Network, site_product: tuple[str, str], batches: int) -> float:
    """Mean time from a make order of ``batches`` batches to the release of its units."""
    prow = net.production[site_product]
    return (prow.qc_release_days.mean
            + prow.cycle_time_days.mean * queue_factor(batches, prow.lines))


def fill_stock_terms(net: Network, data: DesignData) -> None:
    """Set the on-hand terms of ``data`` (see the module docstring):

    ``node_hold_usd`` (USD per unit on hand per year), ``node_on_hand_fixed`` (units while the
    site is open), ``arc_on_hand_days`` / ``prod_on_hand_days`` (units on hand per unit per day
    of inflow over the arc / from production) and ``arc_on_order_days`` / ``prod_on_order_days``
    (the replenishment lead times W, for the on-order report); ``stranded``: the initial stock
    of stock points the model leaves out because nothing can reach or drain them (site, product,
    units, USD per year while the site is open).
    """
    n_nodes = len(data.node_site)
    hold = np.zeros(n_nodes)
    fixed = np.zeros(n_nodes)
    arc_on_hand = np.zeros(data.n_arcs)
    arc_on_order = np.zeros(data.n_arcs)
    prod_on_hand = np.zeros(len(data.prod_site))
    prod_on_order = np.zeros(len(data.prod_site))
    chunks = demand_chunks(net)
    flows = net.mean_daily_demand
    prod_of = {int(n): j for j, n in enumerate(data.prod_node)}
    z = data.options.service_z
    for n in range(n_nodes):
        s, p = data.sites[data.node_site[n]], data.node_product[n]
        if net.sites[s].is_external_supplier:
            continue  # a vendor's stock is not ours
        hold[n] = data.product_value[p] * data.holding_rate
        pol = net.policies.get((s, p))
        q = chunks.get((s, p), 0.0)
        f0 = flows.get((s, p), 0.0)
        j = prod_of.get(n)
        if pol is not None and pol.is_make:
            if j is None or (s, p) not in net.production:
                continue
            batch = net.batch_units((s, p))
            pos = position_terms(pol, q, f0, rescaled=False, batch_units=batch)
            w = production_lead_days(net, (s, p), batches_per_order(pol, q, batch))
            fixed[n] = pos.fixed_units
            prod_on_order[j] = w
            prod_on_hand[j] = pos.days_per_flow - w
            continue
        if pol is not None:
            pos = position_terms(pol, q, f0, rescaled=True)
            fixed[n] = pos.fixed_units
        for a in data.node_in[n]:
            lane_id = data.lanes[data.arc_lane[a]]
            w = replenishment_lead_days(net, lane_id, float(data.lane_lead_days[data.arc_lane[a]]))
            arc_on_order[a] = w
            if pol is not None:
                arc_on_hand[a] = pos.days_per_flow - w
            else:  # the design's new days-of-supply row: lead + review + safety days
                safety = z * math.sqrt(w + REVIEW_DAYS) * data.product_cv.get(p, 0.5)
                arc_on_hand[a] = REVIEW_DAYS / 2.0 + safety
    # stock points no lane or production reaches or drains (pruned from the model): their
    # initial stock stays on hand as long as the site is open
    stranded: dict[tuple[str, str], float] = defaultdict(float)
    for row in net.initial_stock:
        key = (row.site_id, row.product_id)
        if (key in net.policies and key not in data.node_index and row.site_id in data.site_index
                and not net.sites[row.site_id].is_external_supplier):
            stranded[key] += row.quantity_units
    data.stranded = [(data.site_index[s], p, units,
                      units * data.product_value[p] * data.holding_rate)
                     for (s, p), units in sorted(stranded.items())]
    data.node_hold_usd = hold
    data.node_on_hand_fixed = fixed
    data.arc_on_hand_days = arc_on_hand
    data.arc_on_order_days = arc_on_order
    data.prod_on_hand_days = prod_on_hand
    data.prod_on_order_days = prod_on_order
