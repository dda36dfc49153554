"""Transport lanes and the cold chain in transit.

A :class:`Lane` keeps a queue of shipments waiting at its origin. Shipments leave on the lane's
departure schedule (a weekly sailing waits for its day; ``on_demand`` lanes leave at once), each
departure taking at most the lane's capacity (cut by capacity-loss disruptions; the rest waits
for the next departure), and not while the lane is closed or its origin site is down. All goods
on one departure share one transit-time draw (stretched by delay disruptions) and one
cold-chain outcome.

Excursions: over a transit of T days the hazard is ``h(t) = base x season x spike`` per day,
multiplied by ``overdue_hazard_multiplier`` for the part of the trip beyond the packaging's
qualified hours. P(excursion) = 1 - exp(-h x exposure). An excursion adds a sampled number of
hours to every parcel's stability budget use and sends the goods to quarantine at receipt for a
QA disposition time; QA then releases the parcels whose cumulative excursion hours stay within
the product's budget and destroys the others.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from supplytwin.model import LaneRow
from supplytwin.model.enums import PASSIVE_PACKAGING
from supplytwin.model.schedule import parse_schedule
from supplytwin.sim.draws import block_sampler
from supplytwin.sim.lots import Parcel

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model
    from supplytwin.sim.inventory import Order, Stockpoint


class Shipment:
    """Picked parcels on their way along one lane, to a stock point or to a customer."""

    __slots__ = ("destination", "lane_id", "order", "parcels", "picked_day", "product_id",
                 "units")

    def __init__(self, parcels: list[Parcel], destination: Stockpoint | None,
                 order: Order | None, product_id: str, picked_day: float = 0.0,
                 units: float | None = None, lane_id: str | None = None):
        self.parcels = parcels
        #: receiving stock point (replenishment) or None for a customer delivery
        self.destination = destination
        self.order = order
        self.product_id = product_id
        self.picked_day = picked_day
        #: total of the parcels, kept in step by set_parcels (the hot path reads it often)
        self.units = sum(p.quantity_units for p in parcels) if units is None else units
        #: the lane it travels on (end-state snapshots name it)
        self.lane_id = lane_id

    def set_parcels(self, parcels: list[Parcel]) -> None:
        self.parcels = parcels
        self.units = sum(p.quantity_units for p in parcels)


@dataclass(slots=True, eq=False)
class Departure:
    shipments: list[Shipment]
    departed_day: float
    transit_days: float
    excursion_hours: float  # 0 when no excursion


@dataclass(eq=False)
class Lane:
    model: Model
    row: LaneRow
    queue: deque[Shipment] = field(default_factory=deque)
    in_flight: set[Departure] = field(default_factory=set)

    def __post_init__(self) -> None:
        env = self.model.env
        self.schedule = parse_schedule(self.row.departure_schedule)
        self.on_demand = self.schedule.period_days == 0
        #: a scheduled lane with nothing queued waits for a shipment (see _start)
        self._idle = False
        self._last_departure = -math.inf
        self._rng_transit = self.model.streams.get("lane.transit", self.row.lane_id)
        #: the next transit-time draw (drawn in blocks: nothing else reads this stream)
        self._next_transit = block_sampler(self.row.transit_time_days, self._rng_transit)
        self._rng_exc = self.model.streams.get("lane.excursion", self.row.lane_id)
        tclass_budget = self.row.qualified_hours if self.row.packaging in PASSIVE_PACKAGING else None
        self.qualified_days = tclass_budget / 24.0 if tclass_budget else math.inf
        self.queued_units = 0.0
        #: the origin's dock capacity (sites.handling_capacity_units_per_day), if limited
        self._origin_dock = self.model.handling.get(self.row.origin_id)
        # row fields read on every departure, looked up once
        self._lane_id = self.row.lane_id
        self._transit = self.row.transit_time_days
        self._hazard_per_day = self.row.excursion_hazard_per_day
        #: whether any disruption can stretch this lane's transit (else its factor is always 1,
        #: and multiplying by 1.0 changes nothing, so it is skipped)
        self._may_be_delayed = self._lane_id in self.model.dis.delayable_lanes
        #: likewise for excursion spikes (the hazard's disruption factor)
        self._may_spike = self._lane_id in self.model.dis.spikable_lanes
        cc = self.model.scenario.cold_chain
        self._season_amplitude = cc.seasonal_amplitude
        self._season_peak_day = cc.seasonal_peak_day
        self._day0_of_year = self.model.day0_of_year
        self._overdue_multiplier = cc.overdue_hazard_multiplier
        self._excursion_hours = cc.excursion_duration_hours
        # what a departure adds to the cost, CO2 and lane tallies
        self._cost_per_shipment = self.row.cost_per_shipment_usd
        self._cost_per_unit = self.row.cost_per_unit_usd
        self._co2_per_unit = self.row.co2_kg_per_unit
        self._mode = self.row.mode.value
        # gates looked up once: every shipment on an on-demand lane asks them
        self._lane_gate = self.model.dis.lane_gate[self.row.lane_id]
        self._origin_gate = self.model.dis.site_gate[self.row.origin_id]
        #: whether a departure can be backed up at all (only capacity-limited scheduled lanes)
        self._can_back_up = (self.row.capacity_units_per_departure is not None
                             and not self.on_demand)
        if not self.on_demand:
            env.call_soon_urgent(self._start)

    def backed_up(self) -> bool:
        """More units wait than the next departure can take (capacity cut by disruptions)."""
        if not self._can_back_up:
            return False
        cap = self.row.capacity_units_per_departure
        return self.queued_units >= cap * self.model.dis.lane_capacity_factor(self.row.lane_id)

    # ---- loading ----------------------------------------------------------------------------
    def shipper(self, destination: Stockpoint | None, order: Order | None
                ) -> Callable[[list[Parcel], float], None]:
        """A callback that puts picked parcels on this lane towards ``destination``/``order``."""
        product_id = destination.product_id if destination is not None else order.product_id

        def ship(parcels: list[Parcel], units: float) -> None:
            sh = Shipment(parcels, destination, order, product_id, self.model.env.now, units,
                          self.row.lane_id)
            if destination is not None:
                destination.in_transit_units += sh.units
            self._send(sh)

        return ship

    def ship_to_customer(self, parcels: list[Parcel], units: float, order: Order) -> None:
        """What ``shipper(None, order)`` does with picked parcels, without the closure."""
        sh = Shipment(parcels, None, order, order.product_id, self.model.env._now, units,
                      self._lane_id)
        self._send(sh)

    def ship_to_stockpoint(self, parcels: list[Parcel], units: float,
                           destination: Stockpoint) -> None:
        """What ``shipper(destination, None)`` does with picked parcels, without the closure."""
        sh = Shipment(parcels, destination, None, destination.product_id, self.model.env._now,
                      units, self._lane_id)
        destination.in_transit_units += units
        self._send(sh)

    def _send(self, sh: Shipment) -> None:
        """A picked shipment goes through the origin's dock when it has one, else onto the
        lane (see :meth:`enqueue`)."""
        if self._origin_dock is not None:
            self.model.handle_out(self, sh)
        elif (self.on_demand and not self.queue and self._lane_gate.is_open
              and self._origin_gate.is_open):
            self._dispatch([sh], sh.units)  # enqueue's common case, one call fewer per order
        else:
            self.enqueue(sh)

    def enqueue(self, shipment: Shipment) -> None:
        if self.on_demand:
            if not self.queue and self._lane_gate.is_open and self._origin_gate.is_open:
                # the common case: nothing waits ahead of it and the lane is open, so it leaves
                # now, without a departure process (two SimPy events fewer per shipment)
                self._dispatch([shipment], shipment.units)
                return
            self.queue.append(shipment)
            self.queued_units += shipment.units
            self.model.env.process(self._depart_now(shipment))
            return
        self.queue.append(shipment)
        self.queued_units += shipment.units
        if self._idle:
            self._idle = False
            self.model.env.call_later(0.0, self._woken)

    def _can_depart(self) -> bool:
        dis = self.model.dis
        return dis.lane_open(self.row.lane_id) and dis.site_up(self.row.origin_id)

    def _depart_now(self, shipment: Shipment):
        dis = self.model.dis
        while not self._can_depart():
            yield dis.lane_gate[self.row.lane_id].wait_open() if not dis.lane_open(self.row.lane_id) \
                else dis.site_gate[self.row.origin_id].wait_open()
        self.queue.remove(shipment)
        self.queued_units -= shipment.units
        self._dispatch([shipment], shipment.units)

    # ---- scheduled departures ---------------------------------------------------------------
    # A scheduled lane is a small state machine driven by scheduled calls rather than a SimPy
    # process: idle until a shipment is queued, then a call at the next departure slot, which
    # loads what fits and either goes idle again or plans the next slot for what is left. Its
    # calls are scheduled at the same moments, with the same priorities, as the process's
    # wake-up event and timeouts were, so events keep their order; resuming a process cost
    # more than the departure's own work.

    def _start(self, _arg=None) -> None:
        """The lane starts (at time 0, before regular events, as a process would)."""
        self._idle = not self.queue
        if not self._idle:
            self._plan()

    def _woken(self, _arg=None) -> None:
        """A shipment was queued on the idle lane."""
        self._plan()

    def _plan(self) -> None:
        """Wait for the next departure slot (one departure per slot)."""
        env = self.model.env
        now = env._now
        dep = self.schedule.next_departure(max(now, self._last_departure + 1e-6),
                                           self.model.day0_weekday)
        if dep > now:
            env.call_later(dep - now, self._depart_scheduled)
        else:
            self._depart_scheduled()

    def _reopened(self, _event=None) -> None:
        """The closed lane or origin reopened: wait for the next slot after reopening."""
        if self.queue:
            self._plan()
        else:  # pragma: no cover - nothing takes shipments off a waiting lane's queue
            self._idle = True

    def _depart_scheduled(self, _arg=None) -> None:
        dis = self.model.dis
        if not (self._lane_gate.is_open and self._origin_gate.is_open):
            gate = self._lane_gate if not self._lane_gate.is_open else self._origin_gate
            gate.wait_open().callbacks.append(self._reopened)
            return
        now = self.model.env._now
        self._last_departure = now
        cap = self.row.capacity_units_per_departure
        limit = math.inf if cap is None else cap * dis.lane_capacity_factor(self._lane_id)
        load: list[Shipment] = []
        loaded = 0.0
        queue = self.queue
        while queue and limit > 1e-9:
            sh = queue[0]
            if sh.units <= limit + 1e-9:
                queue.popleft()
                load.append(sh)
                loaded += sh.units
                limit -= sh.units
            else:
                part = _split_shipment(sh, math.floor(limit))
                if part is None:
                    break
                load.append(part)
                loaded += part.units
                limit = 0.0
        if load:
            self.queued_units -= loaded
            self._dispatch(load, loaded)
        if queue:
            self._plan()
        else:
            self._idle = True

    # ---- travel -----------------------------------------------------------------------------
    def _dispatch(self, load: list[Shipment], units: float) -> None:
        """``load`` (``units`` in all) leaves now: one transit draw and one cold-chain outcome."""
        m = self.model
        env = m.env
        now = env._now
        transit = self._next_transit()
        if self._may_be_delayed:
            transit *= m.dis.lane_delay_factor(self._lane_id)
        hours = self._excursion(now, transit) if self._hazard_per_day > 0 else 0.0
        rec = m.recorder
        if now >= rec.warmup:  # cost, CO2 and lane tallies count after the warm-up
            rec.costs.transport += self._cost_per_shipment + self._cost_per_unit * units
            rec.co2_kg_by_mode[self._mode] += self._co2_per_unit * units
            rec.shipments_by_mode[self._mode] += 1
            rec.units_by_lane[self._lane_id] += units
            if hours > 0:
                rec.excursions_by_lane[self._lane_id] += 1
                for s in load:
                    rec.tally[s.product_id].excursions += 1
        if rec.log_events:
            m.log_departure(self.row, load)
        if transit == 0.0 and _to_customers(load):
            # a trip of no time to customers (a pick-up, a courier counted in hours): the goods
            # arrive now. Delivering touches only the order and the tallies, which nothing
            # else scheduled for this same instant reads, so an event for it would change
            # nothing but the time spent
            for s in load:
                m.arrive(self.row, s, hours)
            return
        dep = Departure(load, now, transit, hours)
        self.in_flight.add(dep)
        # the trip is one scheduled call that unloads it, not a process: a process would
        # cost two more SimPy events (its start and its end) for every departure
        env.call_later(transit, self._arrived, dep)

    def _excursion(self, now: float, transit_days: float) -> float:
        h = self._hazard_per_day
        if h <= 0:
            return 0.0
        # the cold-chain season (demand.seasonal_factor's arithmetic, inline)
        amplitude = self._season_amplitude
        if amplitude:
            doy = (self._day0_of_year + now) % 365.0
            season = 1.0 + amplitude * math.cos(
                2 * math.pi * (doy - self._season_peak_day) / 365.0)
        else:
            season = 1.0  # 1 + 0 x cos(...) is exactly 1
        if self._may_spike:
            h *= season * self.model.dis.excursion_factor(self._lane_id)
        else:
            h *= season  # the factor is exactly 1 on lanes no spike can touch
        within = min(transit_days, self.qualified_days)
        over = transit_days - within
        exposure = within + self._overdue_multiplier * over
        # one uniform draw per departure keeps the stream aligned across scenarios (CRN)
        rng = self._rng_exc
        u = rng.random()
        hours = self._excursion_hours.sample(rng)
        if u < 1.0 - math.exp(-h * exposure):
            return max(hours, 1e-6)
        return 0.0

    def _arrived(self, dep: Departure) -> None:
        m = self.model
        self.in_flight.discard(dep)
        for sh in dep.shipments:
            m.arrive(self.row, sh, dep.excursion_hours)


def _to_customers(load: list[Shipment]) -> bool:
    """Whether every shipment of ``load`` goes to a customer (none to a stock point)."""
    for s in load:
        if s.destination is not None:
            return False
    return True


def _split_shipment(sh: Shipment, units: float) -> Shipment | None:
    """Take ``units`` (whole units) off the front of ``sh`` as a new shipment."""
    if units <= 0:
        return None
    taken: list[Parcel] = []
    rest = list(sh.parcels)
    need = units
    while need > 1e-9 and rest:
        p = rest[0]
        if p.quantity_units <= need + 1e-9:
            taken.append(rest.pop(0))
            need -= p.quantity_units
        else:
            taken.append(p.split(need))
            need = 0.0
    sh.set_parcels(rest)
    return Shipment(taken, sh.destination, sh.order, sh.product_id, sh.picked_day,
                    lane_id=sh.lane_id)
