"""Start a replication from a snapshot of the real network, and read its end state back.

:func:`apply` puts a :class:`~supplytwin.model.snapshot.Snapshot` into a freshly built model in
place of the scenario's initial stock:

- released lots go on hand (FEFO by their own expiry dates, not the product's nominal shelf life);
- quarantined lots wait at their site, counted as on order, until their release day (or a QC
  release time of the site when the snapshot does not know it), then are received;
- shipments in transit travel on their lane and arrive on their expected day; shipments waiting
  for a departure join the lane's queue;
- open customer orders are placed at day 0 (backordered at the stock point that serves the
  customer, whatever the stream's unmet-demand rule: they were accepted already), and count as
  demand of the run;
- sites that are down were turned into outages by the scenario transform
  (:func:`~supplytwin.model.snapshot.with_snapshot`), so nothing here.

Every unit of the snapshot enters the mass balance as initial stock. Decisions (serving open
orders, policy reviews) are taken by a process at day 0, so a run of 0 days changes nothing and
:func:`end_state` returns the snapshot it was given.

:func:`end_state` reads the model at the current time into a snapshot of the same form: stock on
hand and in QC, shipments on the way (departed, queued, at the dock or in QA hold after an
excursion: the last two as arriving now), open customer orders, and sites down with the day they
reopen (scheduled outages; a random outage in progress gets its mean repair time, the expected
remaining time of an exponential repair). Batches still in production are not part of the
format (their inputs are already consumed, their output does not exist yet): a run from an end
state restarts production from the policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import TYPE_CHECKING

from supplytwin.model.enums import DisruptionKind
from supplytwin.model.snapshot import (
    AWAITING_DEPARTURE,
    IN_TRANSIT,
    QUARANTINE,
    RELEASED,
    LotRecord,
    OpenOrder,
    SiteDown,
    Snapshot,
    TransitRecord,
)
from supplytwin.sim.inventory import Order, Stockpoint
from supplytwin.sim.lots import Lot, Parcel
from supplytwin.sim.transport import Departure, Shipment

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model


@dataclass
class StateBook:
    """What the model must remember about the snapshot it started from."""

    #: order id in the model -> the order id the real system uses
    order_ids: dict[int, str] = field(default_factory=dict)
    #: quarantine id (``Model.quarantine``) -> (site id, release day as given or None) of
    #: snapshot lots on hold
    holds: dict[int, tuple[str, float | None]] = field(default_factory=dict)
    #: open orders not yet placed (they are placed by the day-0 process)
    pending_orders: list[OpenOrder] = field(default_factory=list)
    shipment_ids: dict[int, str] = field(default_factory=dict)
    _seq: count = field(default_factory=lambda: count(1))


def apply(model: Model, snap: Snapshot) -> StateBook:
    book = StateBook(pending_orders=list(snap.open_orders))
    led = model.recorder.ledger
    lots: dict[str, Lot] = {}

    def parcel(product_id, site_id, lot_id, mday, eday, q, exc) -> Parcel:
        lot = lots.get(lot_id)
        if lot is None:
            lot = lots[lot_id] = Lot(lot_id, product_id, site_id, mday, eday)
        led.initial[product_id] += q
        return Parcel(lot, q, exc)

    for r in snap.on_hand:
        sp = model.stockpoints[(r.site_id, r.product_id)]
        p = parcel(r.product_id, r.site_id, r.lot_id, r.manufactured_day, r.expiry_day,
                   r.quantity_units, r.excursion_hours)
        if r.status == RELEASED:
            sp.add_parcels([p])
        else:
            _hold(model, book, sp, p, r.release_day)

    by_shipment: dict[str, list[TransitRecord]] = {}
    for r in snap.in_transit:
        by_shipment.setdefault(r.shipment_id, []).append(r)
    for sid, rows in by_shipment.items():
        first = rows[0]
        lane = model.lanes[first.lane_id]
        dest = model.stockpoints.get((lane.row.destination_id, first.product_id))
        order = None
        if dest is None:  # a delivery to a customer: the order it serves, already accepted
            order = Order(next(model._order_ids), lane.row.destination_id, first.product_id,
                          sum(r.quantity_units for r in rows), min(0.0, first.departure_day or 0.0),
                          max(0.0, first.arrival_day or 0.0), False)
            model.open_orders[order.order_id] = order
            if model.keep_orders:
                model.orders.append(order)
            if first.order_id:
                book.order_ids[order.order_id] = first.order_id
        parcels = [parcel(r.product_id, lane.row.origin_id, r.lot_id, r.manufactured_day,
                          r.expiry_day, r.quantity_units, r.excursion_hours) for r in rows]
        sh = Shipment(parcels, dest, order, first.product_id,
                      min(0.0, first.departure_day or 0.0), lane_id=first.lane_id)
        book.shipment_ids[id(sh)] = sid
        if dest is not None:
            dest.on_order_units += sh.units
            dest.in_transit_units += sh.units
        if first.status == AWAITING_DEPARTURE:
            lane.enqueue(sh)
        else:
            dep = Departure([sh], first.departure_day or 0.0,
                            (first.arrival_day or 0.0) - (first.departure_day or 0.0), 0.0)
            lane.in_flight.add(dep)
            model.env.process(_arrive(model, lane, dep, max(0.0, first.arrival_day or 0.0)))
    model.env.process(_day_zero(model, book))
    return book


def _hold(model: Model, book: StateBook, sp: Stockpoint, p: Parcel, given) -> None:
    release_day = given
    if release_day is None:
        row = model.net.production.get((sp.site_id, sp.product_id))
        rng = model.streams.get("state.qc_release", sp.site_id, sp.product_id)
        release_day = row.qc_release_days.sample(rng) if row is not None else 0.0
    release_day = max(0.0, release_day)
    qid = next(model._quarantine_ids)
    sh = Shipment([p], sp, None, sp.product_id)
    model.quarantine[qid] = sh
    book.holds[qid] = (sp.site_id, given)
    sp.on_order_units += sh.units
    sp.in_transit_units += sh.units
    model.env.process(_release(model, book, qid, sp, sh, release_day))


def _release(model: Model, book: StateBook, qid: int, sp: Stockpoint, sh: Shipment, day: float):
    yield model.env.timeout(day)
    del model.quarantine[qid]
    del book.holds[qid]
    sp.on_order_units -= sh.units
    sp.in_transit_units -= sh.units
    sp.receive(sh.parcels)


def _arrive(model: Model, lane, dep: Departure, day: float):
    yield model.env.timeout(day)
    lane.in_flight.discard(dep)
    for sh in dep.shipments:
        model.arrive(lane.row, sh, 0.0)


def _day_zero(model: Model, book: StateBook):
    """Decisions at day 0, after every part is in place: serve open orders, review policies."""
    yield model.env.timeout(0)
    for o in book.pending_orders:
        order = model.customer_order_of(o.customer_id, o.product_id, o.quantity_units,
                                        placed_day=o.order_day, due_day=o.due_day,
                                        backorder=True)
        if order is not None:
            book.order_ids[order.order_id] = o.order_id
    book.pending_orders = []
    for sp in model.stockpoints.values():
        sp.review()


# ------------------------------------------------------------------------- the end state
def end_state(model: Model, book: StateBook | None) -> Snapshot:
    """The model's state now, as a snapshot dated ``start_date + now``."""
    now = model.env.now
    start = model.scenario.simulation.start_date
    snap_date = start + timedelta(days=now)
    on_hand: list[LotRecord] = []
    for (site, product), sp in model.stockpoints.items():
        for p in sp.stock.parcels:
            on_hand.append(_lot_record(site, product, p, RELEASED, None, now))
    holds = book.holds if book else {}
    for qid, (site, day) in holds.items():
        sh = model.quarantine[qid]
        for p in sh.parcels:
            on_hand.append(_lot_record(site, sh.product_id, p, QUARANTINE,
                                       None if day is None else day - now, now))
    for site, plant in model.plants.items():
        for b in plant.in_qc:
            on_hand.append(LotRecord(site, b.product_id, b.lot.lot_id, b.output_units,
                                     b.lot.manufactured_day - now, b.lot.expiry_day - now,
                                     QUARANTINE, None))

    transit: list[TransitRecord] = []
    ids = book.shipment_ids if book else {}
    seq = book._seq if book else count(1)

    def add(sh: Shipment, lane_id: str, status: str, dep_day, arr_day, exc_extra=0.0) -> None:
        sid = ids.get(id(sh)) or f"SIM-{next(seq):06d}"
        order_id = None
        if sh.order is not None:
            order_id = (book.order_ids.get(sh.order.order_id) if book else None) or \
                f"SIM-{sh.order.order_id}"
        for p in sh.parcels:
            transit.append(TransitRecord(
                sid, lane_id, sh.product_id, p.lot.lot_id, p.quantity_units,
                p.lot.manufactured_day - now, p.lot.expiry_day - now, status,
                None if dep_day is None else dep_day - now,
                None if arr_day is None else arr_day - now, order_id,
                p.excursion_hours + exc_extra))

    for lane_id, lane in model.lanes.items():
        for sh in lane.queue:
            add(sh, lane_id, AWAITING_DEPARTURE, None, None)
        for dep in lane.in_flight:
            for sh in dep.shipments:
                add(sh, lane_id, IN_TRANSIT, dep.departed_day, dep.departed_day + dep.transit_days,
                    dep.excursion_hours)
    for where in (model.docks.values(),
                  (sh for qid, sh in model.quarantine.items() if qid not in holds)):
        for sh in where:
            add(sh, sh.lane_id, IN_TRANSIT, sh.picked_day, now)

    orders: list[OpenOrder] = []
    if book and book.pending_orders:
        orders.extend(OpenOrder(o.order_id, o.customer_id, o.product_id, o.quantity_units,
                                o.order_day - now, o.due_day - now) for o in book.pending_orders)
    for sp in model.stockpoints.values():
        for req in sp.backlog:
            o = req.order
            if o is None or req.is_consumption:
                continue
            oid = (book.order_ids.get(o.order_id) if book else None) or f"SIM-{o.order_id}"
            orders.append(OpenOrder(oid, o.customer_id, o.product_id, req.quantity_units,
                                    o.placed_day - now, o.due_day - now))
    return Snapshot(snap_date, tuple(on_hand), tuple(transit), tuple(orders),
                    tuple(_sites_down(model, now)),
                    provenance={"source": f"supplytwin run of {model.scenario.name}, day {now:g}"})


def _lot_record(site: str, product: str, p: Parcel, status: str, release_day, now) -> LotRecord:
    return LotRecord(site, product, p.lot.lot_id, p.quantity_units, p.lot.manufactured_day - now,
                     p.lot.expiry_day - now, status, release_day, p.excursion_hours)


def _sites_down(model: Model, now: float) -> list[SiteDown]:
    """Sites down now and the day they reopen: scheduled outages covering now (also one that
    starts now and has not been applied yet), and random outages in progress, which get their
    mean repair time (an exponential repair has that much left on average)."""
    until: dict[str, float] = {}
    for d in model.net.active_disruptions:
        if d.kind != DisruptionKind.SITE_OUTAGE or d.site_id is None:
            continue
        if d.is_random:
            if not model.dis.site_up(d.site_id):
                until[d.site_id] = max(until.get(d.site_id, now), now + d.mttr_days)
        elif d.start_day <= now < d.start_day + d.duration_days:
            until[d.site_id] = max(until.get(d.site_id, now), d.start_day + d.duration_days)
    return [SiteDown(site, day - now) for site, day in sorted(until.items())]
