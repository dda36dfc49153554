"""Stock points: the lots of one product at one site, their backlog and their policy.

A :class:`Stockpoint` serves three kinds of request, all picked first-expiry-first-out:

* customer orders (with the customer's minimum remaining shelf life at shipment), shipped on
  the lane that serves the customer, backordered or lost when stock is short;
* replenishment orders from downstream stock points, shipped on the lane that links them and
  always backordered;
* consumption by production at the same site (bill of materials), waited for in full.

The policy acts on the inventory position: on hand + on order (in production, in transit, or
backordered upstream) − backorders owed. Continuous-review policies ((s,S), (r,Q), base stock)
review after every change of the position; periodic ones ((R,S), days of supply) every R days.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from supplytwin.model import LaneRow, PolicyKind, PolicyRow, SourcingRule
from supplytwin.sim.lots import LotStock, Parcel
from supplytwin.sim.recorder import Level

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model
    from supplytwin.sim.transport import Lane


# policy kinds compared on every review (module constants: an enum member lookup costs more)
_BASE_STOCK, _S_S, _R_Q = PolicyKind.BASE_STOCK, PolicyKind.S_S, PolicyKind.R_Q


@dataclass(slots=True, eq=False)
class Order:
    """A customer order and what became of it."""

    order_id: int
    customer_id: str
    product_id: str
    quantity_units: float
    placed_day: float
    due_day: float
    counts: bool  # placed after the warm-up
    filled_immediately_units: float = 0.0
    lost_units: float = 0.0
    delivered_units: float = 0.0
    completed_day: float | None = None
    #: its service is tallied (see supplytwin.sim.service); set once, by Model.close_order
    closed: bool = False

    def deliver(self, quantity_units: float, t: float) -> None:
        self.delivered_units += quantity_units
        if self.delivered_units + self.lost_units >= self.quantity_units - 1e-9:
            self.completed_day = t


@dataclass(slots=True, eq=False)
class Request:
    """Demand on a stock point still to be served."""

    quantity_units: float
    #: called with each picked list of parcels and their total units
    fulfil: Callable[[list[Parcel], float], None]
    #: customer orders need this fraction of shelf life left at shipment; None for internal
    min_shelf_life_frac: float | None = None
    order: Order | None = None
    is_consumption: bool = False


@dataclass(eq=False)
class Stockpoint:
    model: Model
    site_id: str
    product_id: str
    policy: PolicyRow
    shelf_life_days: float
    stock: LotStock = field(default_factory=LotStock)
    backlog: deque[Request] = field(default_factory=deque)
    backlog_units: float = 0.0
    on_order_units: float = 0.0
    #: units shipped towards this stock point and not yet received (queued, travelling, at the
    #: dock, in QA quarantine); part of on_order_units
    in_transit_units: float = 0.0
    customer_backlog: Level | None = None
    on_hand: Level | None = None
    serves_customers: bool = False
    # cycle service level: replenishment cycles and whether each saw a stockout
    cycles: int = 0
    cycles_with_stockout: int = 0
    _stockout_this_cycle: bool = False
    _rr: int = 0  # round-robin counter for split sourcing

    def __post_init__(self) -> None:
        m = self.model
        w = m.recorder.warmup
        self.customer_backlog = Level(w)
        self.on_hand = Level(w)
        self.lanes = [m.net.lanes[l] for l in self.policy.sources if l != "make"]
        # resolved once: the hot path (every order, every receipt) reads these
        self._site_gate = m.dis.site_gate[self.site_id]
        #: where this stock is stored: (site, temperature class)
        self.storage_key = (self.site_id, m.net.products[self.product_id].temperature_class)
        #: (s,S), (r,Q), base stock review on every change; (R,S), days of supply every R days
        self.continuous_review = self.policy.policy not in (PolicyKind.PERIODIC_R_S,
                                                            PolicyKind.DAYS_OF_SUPPLY)
        #: storage of this class at this site is limited: only then is its use tracked (the
        #: books of unlimited storage would be written on every stock change, never read)
        self._storage_limited = self.storage_key in m.storage_capacity
        self._env = m.env
        self._warmup = m.recorder.warmup
        # the policy's kind and levels, read on every review
        self._kind = self.policy.policy
        self._s = self.policy.reorder_point_units
        self._S = self.policy.order_up_to_units
        self._Q = self.policy.order_quantity_units
        self._is_make = self.policy.is_make
        #: (upstream stock point, lane) when this stock point has one source lane; resolved on
        #: the first order, once every stock point exists
        self._sole_source: tuple | None = None

    # ---- position ---------------------------------------------------------------------------
    @property
    def position(self) -> float:
        return self.stock.units + self.on_order_units - self.backlog_units

    def _min_expiry(self, req: Request) -> float:
        now = self._env.now
        if req.min_shelf_life_frac is None:
            return now
        return now + req.min_shelf_life_frac * self.shelf_life_days

    # ---- stock movements --------------------------------------------------------------------
    def _take(self, quantity: float, min_expiry: float) -> tuple[list[Parcel], float]:
        parcels, taken = self.stock.pick(quantity, min_expiry)
        if parcels:
            self._stock_changed(-taken)
        return parcels, taken

    def _stock_changed(self, delta: float) -> None:
        self.on_hand.set(self._env._now, self.stock.units)
        if self._storage_limited:
            self.model.storage_change(self.storage_key, delta)

    def add_parcels(self, parcels: list[Parcel]) -> None:
        """Put released parcels on hand (no backlog service or review)."""
        for p in parcels:
            self.stock.add(p)
        self._stock_changed(sum(p.quantity_units for p in parcels))

    def receive(self, parcels: list[Parcel]) -> None:
        """Goods arrive (released from QC or from transit): stock them, serve backlog, review."""
        now = self._env.now
        fresh, expired = parcels, None
        for p in parcels:
            if p.lot.expiry_day <= now:  # rare: split the list only when something expired
                fresh = [p for p in parcels if p.lot.expiry_day > now]
                expired = [p for p in parcels if p.lot.expiry_day <= now]
                break
        if expired:
            self.model.write_off(expired, "expired", self.site_id)
        if fresh:
            self.add_parcels(fresh)
        self.serve_backlog()
        self.review()

    def expire(self) -> None:
        gone = self.stock.remove_expired(self.model.env.now)
        if gone:
            self._stock_changed(-sum(p.quantity_units for p in gone))
            self.model.write_off(gone, "expired", self.site_id)
            self.review()

    # ---- demand -----------------------------------------------------------------------------
    def request(self, req: Request, backorder: bool = True) -> float:
        """Serve what can be served now; backorder the rest (or lose it). Returns units served."""
        served = 0.0
        if self._site_gate.is_open and not (self.backlog and backorder):
            frac = req.min_shelf_life_frac
            now = self._env.now
            parcels, served = self.stock.pick(
                req.quantity_units, now if frac is None else now + frac * self.shelf_life_days)
            if parcels:
                self._stock_changed(-served)
                req.quantity_units -= served
                req.fulfil(parcels, served)
        if req.quantity_units > 1e-9:
            self._stockout_this_cycle = self._stockout_this_cycle or req.order is not None
            if backorder:
                self.backlog.append(req)
                self._backlog_add(req, req.quantity_units)
            elif req.order is not None:
                req.order.lost_units += req.quantity_units
                self.model.record_lost(req.order, req.quantity_units)
        self.review()
        return served

    def serve_customer(self, quantity: float, lane: Lane, order: Order,
                       min_shelf_life_frac: float | None, backorder: bool) -> float:
        """A customer order: as :meth:`request` with a request that ships on ``lane`` to
        ``order``, but a :class:`Request` (and its shipper) is made only for what must wait in
        the backlog; what is picked now goes straight onto the lane. Returns units served."""
        served = 0.0
        parcels = None
        if self._site_gate.is_open and not (self.backlog and backorder):
            now = self._env._now
            stock = self.stock
            parcels, served = stock.pick(
                quantity, now if min_shelf_life_frac is None
                else now + min_shelf_life_frac * self.shelf_life_days)
            if parcels:
                self.on_hand.set(now, stock.units)  # _stock_changed, inline (every order)
                if self._storage_limited:
                    self.model.storage_change(self.storage_key, -served)
                quantity -= served
        if quantity > 1e-9:
            self._stockout_this_cycle = True
            if backorder:
                req = Request(quantity, lane.shipper(None, order), min_shelf_life_frac, order)
                self.backlog.append(req)
                self._backlog_add(req, quantity)
            else:
                order.lost_units += quantity
                self.model.record_lost(order, quantity)
        order.filled_immediately_units = served
        if parcels:
            # shipped after the order's outcome is booked: a trip of no time delivers at once
            # (Lane._dispatch), and the order must know its lost and filled units when it
            # completes
            lane.ship_to_customer(parcels, served, order)
        if self.continuous_review:
            self.review()
        return served

    def serve_replenishment(self, quantity: float, lane: Lane, destination: Stockpoint) -> None:
        """A replenishment order of ``destination`` arriving over ``lane``: as :meth:`request`
        (always backordered, no shelf-life requirement), a :class:`Request` made only for what
        must wait."""
        if self._site_gate.is_open and not self.backlog:
            now = self._env._now
            stock = self.stock
            parcels, served = stock.pick(quantity, now)
            if parcels:
                self.on_hand.set(now, stock.units)  # _stock_changed, inline
                if self._storage_limited:
                    self.model.storage_change(self.storage_key, -served)
                quantity -= served
                lane.ship_to_stockpoint(parcels, served, destination)
        if quantity > 1e-9:
            req = Request(quantity, lane.shipper(destination, None))
            self.backlog.append(req)
            self.backlog_units += quantity
        if self.continuous_review:
            self.review()

    def _backlog_add(self, req: Request, delta: float) -> None:
        self.backlog_units += delta
        if req.order is not None:
            self.customer_backlog.add(self.model.env.now, delta)

    def serve_backlog(self) -> None:
        if not self.backlog or not self._site_gate.is_open or self.stock.units <= 0:
            return
        remaining: deque[Request] = deque()
        while self.backlog:
            req = self.backlog.popleft()
            if self.stock.units > 1e-9:
                parcels, q = self._take(req.quantity_units, self._min_expiry(req))
                if parcels:
                    req.quantity_units -= q
                    self._backlog_add(req, -q)
                    req.fulfil(parcels, q)
            if req.quantity_units > 1e-9:
                remaining.append(req)
        self.backlog = remaining
        if abs(self.backlog_units) < 1e-9:
            self.backlog_units = 0.0

    # ---- policy -----------------------------------------------------------------------------
    def review(self) -> None:
        if not self.continuous_review:
            return
        kind = self._kind
        ip = self.stock.units + self.on_order_units - self.backlog_units  # the position
        qty = 0.0
        if kind is _BASE_STOCK:
            if ip < self._S - 1e-9:
                qty = self._S - ip
        elif ip > self._s:
            pass  # (s,S) and (r,Q) order only at or below the reorder point
        elif kind is _S_S:
            qty = self._S - ip
        elif kind is _R_Q:
            n = math.floor((self._s - ip) / self._Q) + 1
            qty = n * self._Q
        if qty > 1e-9:
            self.place_order(qty)

    def periodic_review(self):
        """SimPy process for (R,S) and days-of-supply: review every R days."""
        env = self.model.env
        pol = self.policy
        while True:
            if pol.policy == PolicyKind.PERIODIC_R_S:
                target = pol.order_up_to_units
            else:
                rate = self.model.net.mean_daily_demand.get((self.site_id, self.product_id), 0.0)
                target = pol.days_of_supply_target * rate
            ip = self.position
            if target - ip > 1e-9:
                self.place_order(target - ip)
            else:
                self._close_cycle()
            yield env.timeout(pol.review_period_days)

    def _close_cycle(self) -> None:
        if self._env._now >= self._warmup:  # counts after the warm-up
            self.cycles += 1
            self.cycles_with_stockout += self._stockout_this_cycle
        self._stockout_this_cycle = False

    def place_order(self, quantity: float) -> None:
        self._close_cycle()
        quantity = math.ceil(quantity - 1e-9)
        if self._is_make:
            plant = self.model.plants[self.site_id]
            batch = self.model.net.batch_units((self.site_id, self.product_id))
            n = max(1, math.ceil(quantity / batch - 1e-9))
            self.on_order_units += n * batch
            plant.start_batches(self.product_id, n, batch, self)
            return
        if len(self.lanes) == 1:  # one source: no split, no lane choice (the common case)
            if self._sole_source is None:
                self._sole_source = self._source(self.lanes[0])
            if quantity > 0:
                upstream, lane_model = self._sole_source
                self.on_order_units += quantity
                if upstream.__class__ is Stockpoint:
                    upstream.serve_replenishment(quantity, lane_model, self)
                else:  # an external supplier's outlet
                    upstream.request(Request(quantity, lane_model.shipper(self, None)))
            return
        for lane, q in self._split(quantity):
            if q <= 0:
                continue
            self.on_order_units += q
            upstream, lane_model = self._source(lane)
            upstream.request(Request(q, lane_model.shipper(self, None)))

    def _source(self, lane: LaneRow) -> tuple:
        """The upstream stock point (or supplier outlet) at the origin of ``lane``, and the lane."""
        key = (lane.origin_id, self.product_id)
        upstream = self.model.stockpoints.get(key) or self.model.supply_outlets[key]
        return upstream, self.model.lanes[lane.lane_id]

    def _split(self, quantity: float) -> list[tuple[LaneRow, float]]:
        lanes = self.lanes
        if self.policy.sourcing_rule == SourcingRule.SPLIT and len(lanes) > 1:
            shares = self.policy.split_shares
            total = sum(shares)
            out, left = [], quantity
            for lane, share in zip(lanes[:-1], shares[:-1], strict=True):
                q = math.floor(quantity * share / total)
                out.append((lane, q))
                left -= q
            out.append((lanes[-1], left))
            return out
        return [(self.model.pick_lane(lanes), quantity)]
