"""The simulation model: wires stock points, plants, lanes, demand and disruptions together.

:func:`simulate` runs one replication of a scenario and returns a :class:`RunResult` with KPIs,
daily time series and (on request) the event log of lots and shipments. Every run ends with a
mass balance per product (see :mod:`supplytwin.sim.recorder`); a violation raises
:class:`~supplytwin.errors.MassBalanceError`.

Time is in days (floats) from day 0 = ``simulation.start_date``.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import simpy

from supplytwin.model import LaneRow, Scenario
from supplytwin.model.enums import TemperatureClass
from supplytwin.sim import demand as demand_mod
from supplytwin.sim import initial_state
from supplytwin.sim.capacity import DailyCapacity
from supplytwin.sim.clock import Clock
from supplytwin.sim.disruptions import DisruptionState
from supplytwin.sim.external_supply import ExternalSupplier, SupplyOutlet
from supplytwin.sim.inventory import Order, Request, Stockpoint
from supplytwin.sim.lots import Lot, Parcel
from supplytwin.sim.production import Plant
from supplytwin.sim.recorder import Recorder
from supplytwin.sim.service import tally_order
from supplytwin.sim.transport import Lane, Shipment
from supplytwin.stochastic import RandomStreams


@dataclass(slots=True, eq=False)
class _DemandStream:
    """What serving one customer x product stream needs, resolved once at set-up."""

    lanes: list[LaneRow]  # source lanes in order of preference
    served_by: dict[str, tuple[Stockpoint, Lane]]  # lane id -> its origin stock point, lane
    due_days: float
    min_shelf_life_frac: float | None
    backorder: bool
    #: (stock point, lane) when the stream has a single source lane: no lane to choose
    sole: tuple[Stockpoint, Lane] | None = None


class Model:
    """One replication's dynamic state. Built fresh for every run; never shared."""

    def __init__(self, scenario: Scenario, seed: int, replication: int = 0,
                 log_events: bool = False, keep_orders: bool = False):
        self.scenario = scenario
        self.net = scenario.network
        sim = scenario.simulation
        self.env = Clock()
        self.streams = RandomStreams(seed, replication)
        self.recorder = Recorder(sim.warmup_days, log_events)
        start = sim.start_date
        self.day0_weekday = start.weekday()
        self.day0_of_year = float(start.timetuple().tm_yday - 1)
        self.dis = DisruptionState(self.env, self.net, self.streams, self._log_disruption)
        for site_id, gate in self.dis.site_gate.items():
            gate.on_open.append(self._site_reopened(site_id))
        self.max_surge = self._max_surge()
        self._order_ids = itertools.count(1)
        self._horizon_days = sim.horizon_days
        self._warmup_days = sim.warmup_days
        #: every customer order of the run, kept only on request (``keep_orders``): service is
        #: tallied per customer as orders close, so memory does not grow with the horizon
        self.keep_orders = keep_orders
        self.orders: list[Order] = []
        #: orders not yet closed (units still to deliver), by order id
        self.open_orders: dict[int, Order] = {}
        #: shipments held by QA after an excursion, by quarantine id
        self.quarantine: dict[int, Shipment] = {}
        self._quarantine_ids = itertools.count(1)
        self.docks: dict[int, Shipment] = {}
        self.storage_used: dict[tuple[str, TemperatureClass], float] = defaultdict(float)
        self.storage_peak: dict[tuple[str, TemperatureClass], float] = defaultdict(float)
        #: storage capacity by (site, temperature class), where the site has a limit
        self.storage_capacity: dict[tuple[str, TemperatureClass], float] = {
            (sid, tc): cap for sid, row in self.net.sites.items() for tc in TemperatureClass
            if (cap := row.storage_capacity_units(tc)) is not None
        }

        open_sites = {s for s, row in self.net.sites.items() if row.is_open}
        #: dock capacity of sites with a handling_capacity_units_per_day: receipts off lanes and
        #: picks onto lanes share it, first come first served; what does not fit waits a day
        self.handling: dict[str, DailyCapacity] = {
            s: DailyCapacity(row.handling_capacity_units_per_day)
            for s, row in self.net.sites.items()
            if row.handling_capacity_units_per_day is not None and s in open_sites
        }
        self.lanes: dict[str, Lane] = {
            lid: Lane(self, row) for lid, row in self.net.lanes.items()
            if row.origin_id in open_sites and row.destination_id in open_sites
        }
        self.stockpoints: dict[tuple[str, str], Stockpoint] = {}
        #: vendors outside the network (site kind external_supplier), by site
        self.suppliers: dict[str, ExternalSupplier] = {
            s: ExternalSupplier(self, s) for s, row in self.net.sites.items()
            if row.is_external_supplier and s in open_sites
        }
        #: where a stock point orders from when its lane starts at an external supplier
        self.supply_outlets: dict[tuple[str, str], SupplyOutlet] = {}
        for (site, product), pol in self.net.policies.items():
            if site not in open_sites:
                continue
            pol_lanes = [l for l in pol.sources if l == "make" or l in self.lanes]
            if not pol_lanes:
                continue
            if tuple(pol_lanes) != pol.sources:
                pol = pol.model_copy(update={"sources": tuple(pol_lanes)})
            self.stockpoints[(site, product)] = Stockpoint(
                self, site, product, pol, self.net.products[product].shelf_life_days
            )
        for (_site, product), sp in self.stockpoints.items():
            for lane in sp.lanes:
                if lane.origin_id in self.suppliers:
                    self.supply_outlets[(lane.origin_id, product)] = \
                        self.suppliers[lane.origin_id].outlet(product)
        self.plants: dict[str, Plant] = {
            site: Plant(self, site) for site in {s for (s, _p) in self.net.production}
            if site in open_sites
        }
        self.demand_lanes: dict[tuple[str, str], list[LaneRow]] = {}
        for key, d in self.net.demand.items():
            lanes = [l for l in self.net.demand_sources(d)
                     if l.lane_id in self.lanes and (l.origin_id, d.product_id) in self.stockpoints]
            self.demand_lanes[key] = lanes
            for l in lanes:
                self.stockpoints[(l.origin_id, d.product_id)].serves_customers = True
        self._demand_streams: dict[tuple[str, str], _DemandStream] = {}
        for key, d in self.net.demand.items():
            lanes = self.demand_lanes[key]
            if not lanes:
                continue
            frac = d.min_remaining_shelf_life_frac
            if frac is None:
                frac = self.net.products[d.product_id].min_remaining_shelf_life_frac
            self._demand_streams[key] = _DemandStream(
                lanes=lanes,
                served_by={l.lane_id: (self.stockpoints[(l.origin_id, d.product_id)],
                                       self.lanes[l.lane_id]) for l in lanes},
                due_days=(d.due_days if d.due_days is not None
                          else lanes[0].transit_time_days.mean + 1.0),
                min_shelf_life_frac=frac,
                backorder=demand_mod.backorders(d),
            )
            if len(lanes) == 1:
                self._demand_streams[key].sole = self._demand_streams[key].served_by[
                    lanes[0].lane_id]
        #: what the model remembers of the snapshot it started from (None: initial stock)
        self.state_book = None
        if scenario.state is None:
            self._load_initial_stock()
        else:  # start from the real network's state; decisions wait for day 0's process
            self.state_book = initial_state.apply(self, scenario.state)
        for sp in self.stockpoints.values():
            if not sp.continuous_review:
                self.env.process(sp.periodic_review())
        demand_mod.start_demand(self)
        self.env.process(self._daily())
        if scenario.state is None:
            for sp in self.stockpoints.values():
                sp.review()

    # ---- set-up -----------------------------------------------------------------------------
    def _max_surge(self) -> dict[tuple[str, str], float]:
        """Largest demand multiplier each stream can see (product of all surges on it)."""
        out: dict[tuple[str, str], float] = {}
        for key in self.net.demand:
            f = 1.0
            for d in self.net.active_disruptions:
                if d.kind.value != "demand_surge" or d.magnitude <= 1.0:
                    continue
                if d.customer_id not in (None, key[0]) or d.product_id not in (None, key[1]):
                    continue
                f *= d.magnitude
            out[key] = f
        return out

    def demand_disrupted(self, key: tuple[str, str]) -> bool:
        """Whether any disruption can change the demand of stream ``key`` (else factor 1)."""
        return any(d.kind.value == "demand_surge" and d.customer_id in (None, key[0])
                   and d.product_id in (None, key[1]) for d in self.net.active_disruptions)

    def _load_initial_stock(self) -> None:
        led = self.recorder.ledger
        for row in self.net.initial_stock:
            sp = self.stockpoints.get((row.site_id, row.product_id))
            if sp is None:
                continue  # closed site: its stock is outside the scenario
            shelf = self.net.products[row.product_id].shelf_life_days
            lot = Lot(row.lot_id, row.product_id, row.site_id, -row.age_days, shelf - row.age_days)
            led.initial[row.product_id] += row.quantity_units
            sp.add_parcels([Parcel(lot, row.quantity_units)])

    # ---- hooks used by the parts ------------------------------------------------------------
    def pick_lane(self, lanes: list[LaneRow]) -> LaneRow:
        """The source lane for an order, in the order of preference:

        the first lane that is open, whose origin is up and that is not backed up (fewer
        units queued than one departure can take at its current, possibly cut, capacity);
        else the first that is open with its origin up (it will queue); else the primary.
        This is how an air-freight crunch spills orders onto a slower backup lane.
        """
        if len(lanes) == 1:
            return lanes[0]  # every branch below ends there with a single lane
        first_usable = None
        site_gate, lane_gate, model_lanes = self.dis.site_gate, self.dis.lane_gate, self.lanes
        for l in lanes:
            if site_gate[l.origin_id].is_open and lane_gate[l.lane_id].is_open:
                if not model_lanes[l.lane_id].backed_up():
                    return l
                if first_usable is None:
                    first_usable = l
        return first_usable if first_usable is not None else lanes[0]

    def storage_change(self, key: tuple[str, TemperatureClass], delta: float) -> None:
        """Units in storage of ``key`` = (site, temperature class) change by ``delta``."""
        used = self.storage_used[key] + delta
        self.storage_used[key] = used
        if used > self.storage_peak[key]:
            self.storage_peak[key] = used
            cap = self.storage_capacity.get(key)
            if cap is not None and used > cap + 1e-9 and delta > 0:
                self.recorder.storage_overflow_units += min(delta, used - cap)

    def storage_free(self, key: tuple[str, TemperatureClass]) -> float:
        """Room left in storage of ``key`` = (site, temperature class)."""
        cap = self.storage_capacity.get(key)
        if cap is None:
            return float("inf")
        return cap - self.storage_used[key]

    def customer_order(self, d, quantity: float) -> None:
        self.customer_order_of(d.customer_id, d.product_id, quantity)

    def customer_order_of(self, customer_id: str, product_id: str, quantity: float, *,
                          placed_day: float | None = None, due_day: float | None = None,
                          backorder: bool | None = None) -> Order | None:
        """Place a customer order now (placed and due days default to now and the stream's
        promise; an accepted order from a snapshot passes its own, and is backordered)."""
        stream = self._demand_streams.get((customer_id, product_id))
        if stream is None:
            return None
        now = self.env._now
        counts = now >= self._warmup_days
        order = Order(next(self._order_ids), customer_id, product_id, quantity,
                      now if placed_day is None else placed_day,
                      now + stream.due_days if due_day is None else due_day, counts)
        if self.keep_orders:
            self.orders.append(order)
        self.open_orders[order.order_id] = order
        if stream.sole is not None:
            sp, lane_model = stream.sole
        else:
            sp, lane_model = stream.served_by[self.pick_lane(stream.lanes).lane_id]
        backorder = stream.backorder if backorder is None else backorder
        served = sp.serve_customer(quantity, lane_model, order, stream.min_shelf_life_frac,
                                   backorder)  # sets order.filled_immediately_units
        if counts:
            t = self.recorder.tally[product_id]
            t.demand_units += quantity
            t.orders += 1
            t.filled_immediately_units += served
            t.orders_filled_immediately += served >= quantity - 1e-9
            if backorder:
                t.backordered_units += quantity - served
        return order

    def record_lost(self, order: Order, quantity: float) -> None:
        if order.counts:
            self.recorder.tally[order.product_id].lost_units += quantity
            self.recorder.costs.penalty += quantity * self.scenario.costs.lost_sale_penalty_usd_per_unit
        self._close_if_done(order)

    def _close_if_done(self, order: Order) -> None:
        if order.delivered_units + order.lost_units >= order.quantity_units - 1e-9:
            self.close_order(order)

    def close_order(self, order: Order) -> None:
        """Every unit of ``order`` is delivered or lost: tally its service and forget it."""
        if order.closed:
            return
        order.closed = True
        self.open_orders.pop(order.order_id, None)
        if not order.counts:
            return
        tally_order(self.recorder.service[(order.customer_id, order.product_id)], order,
                    self._horizon_days)

    def consume(self, parcels: list[Parcel], site_id: str) -> None:
        led = self.recorder.ledger
        for p in parcels:
            led.consumed[p.lot.product_id] += p.quantity_units
            self.recorder.event(self.env.now, "consume", lot_id=p.lot.lot_id,
                                product_id=p.lot.product_id, site_id=site_id,
                                quantity_units=p.quantity_units)

    def write_off(self, parcels: Iterable[Parcel], reason: str, site_id: str) -> None:
        rec = self.recorder
        now = self.env.now
        for p in parcels:
            pid = p.lot.product_id
            q = p.quantity_units
            if reason == "expired":
                rec.ledger.expired[pid] += q
                if rec.counts(now):
                    rec.tally[pid].expired_units += q
            elif reason == "excursion":
                rec.ledger.excursion_destroyed[pid] += q
                if rec.counts(now):
                    rec.tally[pid].excursion_loss_units += q
            else:  # pragma: no cover - guarded by callers
                raise ValueError(reason)
            if rec.counts(now):
                value = self.net.products[pid].unit_value_usd
                rec.costs.waste += q * (value + self.scenario.costs.disposal_usd_per_unit)
            rec.event(now, reason, lot_id=p.lot.lot_id, product_id=pid, site_id=site_id,
                      quantity_units=q)

    def record_batch(self, site_id, product_id, row, output, lot) -> None:
        rec = self.recorder
        rec.ledger.produced[product_id] += output
        if rec.counts(self.env.now):
            rec.costs.production += row.cost_per_batch_usd + row.cost_per_unit_usd * output
            rec.tally[product_id].produced_units += output
        rec.event(self.env.now, "produce", lot_id=lot.lot_id, product_id=product_id,
                  site_id=site_id, quantity_units=output, inputs=";".join(lot.inputs))

    def record_supply(self, site, lot: Lot, units: float) -> None:
        """An external supplier dispatches ``units`` of a fresh ``lot``: they enter the system."""
        rec = self.recorder
        pid = lot.product_id
        rec.ledger.supplied[pid] += units
        if rec.counts(self.env.now):
            rec.costs.production += site.supply_cost_usd_per_unit * units
        rec.event(self.env.now, "supply", lot_id=lot.lot_id, product_id=pid,
                  site_id=site.site_id, quantity_units=units)

    def record_rejection(self, site_id, product_id, output, lot, failed: bool) -> None:
        rec = self.recorder
        rec.ledger.rejected[product_id] += output
        now = self.env.now
        if rec.counts(now):
            if failed:
                rec.tally[product_id].qc_rejected_batches += 1
            rec.costs.waste += output * (self.net.products[product_id].unit_value_usd
                                         + self.scenario.costs.disposal_usd_per_unit)
        rec.event(now, "reject", lot_id=lot.lot_id, product_id=product_id, site_id=site_id,
                  quantity_units=output)

    def record_release(self, site_id, product_id, output, lot) -> None:
        rec = self.recorder
        if rec.counts(self.env.now):
            rec.tally[product_id].batches_released += 1
        rec.event(self.env.now, "release", lot_id=lot.lot_id, product_id=product_id,
                  site_id=site_id, quantity_units=output)

    def log_departure(self, lane: LaneRow, load: list[Shipment]) -> None:
        """Event log of a departure (its tallies are kept by ``Lane._dispatch``)."""
        rec = self.recorder
        now = self.env.now
        for s in load:
            for p in s.parcels:
                rec.event(now, "ship", lot_id=p.lot.lot_id, product_id=p.lot.product_id,
                          lane_id=lane.lane_id, site_id=lane.origin_id,
                          to_site_id=lane.destination_id, quantity_units=p.quantity_units,
                          order_id=s.order.order_id if s.order else None)

    # ---- arrivals ---------------------------------------------------------------------------
    def arrive(self, lane: LaneRow, sh: Shipment, excursion_hours: float) -> None:
        """Goods reach the destination: to QA quarantine after an excursion, else to the dock."""
        if excursion_hours > 0:
            for p in sh.parcels:
                p.excursion_hours += excursion_hours
            qid = next(self._quarantine_ids)
            self.quarantine[qid] = sh
            self.env.process(self._qa_disposition(qid, lane, sh))
            return
        site = lane.destination_id
        dock = self.handling.get(site) if self.handling else None
        if dock is not None:
            ready = dock.ready_time(self.env.now, sh.units)
            if ready > self.env.now:
                self._handling_wait(sh)
                self.docks[id(sh)] = sh
                self.env.process(self._handled_in(lane, sh, ready))
                return
        dest = sh.destination
        if self.dis.site_gate[site].is_open and (
                dest is None or not dest._storage_limited  # unlimited storage: always room
                or self.storage_free(dest.storage_key) >= sh.units - 1e-9):
            # nothing to wait for: unload now instead of starting a process (the common case)
            self._unload(lane, sh)
            return
        self.docks[id(sh)] = sh
        self.env.process(self._receive(lane, sh))

    # ---- handling capacity ------------------------------------------------------------------
    def _handling_wait(self, sh: Shipment) -> None:
        if self.recorder.counts(self.env.now):
            self.recorder.handling_delayed_units += sh.units

    def handle_out(self, lane: Lane, sh: Shipment) -> None:
        """Picked goods wait at the origin's dock until its handling capacity has room."""
        now = self.env.now
        ready = self.handling[lane.row.origin_id].ready_time(now, sh.units)
        if ready <= now:
            lane.enqueue(sh)
            return
        self._handling_wait(sh)
        self.docks[id(sh)] = sh
        self.env.process(self._handled_out(lane, sh, ready))

    def _handled_out(self, lane: Lane, sh: Shipment, ready: float):
        yield self.env.timeout(ready - self.env.now)
        del self.docks[id(sh)]
        lane.enqueue(sh)

    def _handled_in(self, lane: LaneRow, sh: Shipment, ready: float):
        """Received goods wait at the dock (registered by the caller) for handling capacity,
        then are received as usual (site up, room in storage)."""
        yield self.env.timeout(ready - self.env.now)
        yield from self._receive(lane, sh)

    def _qa_disposition(self, qid: int, lane: LaneRow, sh: Shipment):
        site = lane.destination_id
        rng = self.streams.get("qa.disposition", site)
        yield self.env.timeout(self.scenario.cold_chain.qa_disposition_days.sample(rng))
        while not self.dis.site_up(site):
            yield self.dis.site_gate[site].wait_open()
        del self.quarantine[qid]
        budget = self.net.products[sh.product_id].excursion_budget_hours
        ok = [p for p in sh.parcels if p.excursion_hours <= budget + 1e-9]
        bad = [p for p in sh.parcels if p.excursion_hours > budget + 1e-9]
        if bad:
            self.write_off(bad, "excursion", site)
            lost = sum(p.quantity_units for p in bad)
            if sh.destination is not None:
                sh.destination.on_order_units -= lost
                sh.destination.in_transit_units -= lost
                sh.destination.review()
            elif sh.order is not None:
                self._replace(lane, sh, lost)
        if ok:
            sh.set_parcels(ok)
            self.docks[id(sh)] = sh
            yield from self._receive(lane, sh)

    def _replace(self, lane: LaneRow, sh: Shipment, quantity: float) -> None:
        """Goods destroyed on the way to a customer are re-sent from the same stock point."""
        order = sh.order
        sp = self.stockpoints.get((lane.origin_id, order.product_id))
        if sp is None:
            order.lost_units += quantity
            self._close_if_done(order)
            return
        frac = self._demand_streams[(order.customer_id, order.product_id)].min_shelf_life_frac
        sp.request(Request(quantity, self.lanes[lane.lane_id].shipper(None, order), frac, order),
                   backorder=True)

    def _receive(self, lane: LaneRow, sh: Shipment):
        """Unload at the dock (registered in ``docks`` by the caller) once the site is up and,
        for stock points, once the temperature class has room; what does not fit waits and is
        recorded."""
        site = lane.destination_id
        dest = sh.destination
        while not self.dis.site_up(site):
            yield self.dis.site_gate[site].wait_open()
        if dest is not None:
            refused = False
            while self.storage_free(dest.storage_key) < sh.units - 1e-9:
                if not refused:
                    refused = True
                    self.recorder.storage_refused_units += sh.units
                yield self.env.timeout(1.0)
        del self.docks[id(sh)]
        self._unload(lane, sh)

    def _unload(self, lane: LaneRow, sh: Shipment) -> None:
        """Goods leave the dock: into the stock point, or delivered to the customer."""
        site = lane.destination_id
        dest = sh.destination
        if dest is not None:
            dest.on_order_units -= sh.units
            dest.in_transit_units -= sh.units
            dest.receive(sh.parcels)
            return
        order = sh.order  # customer delivery
        q = sh.units
        rec = self.recorder
        rec.ledger.delivered[order.product_id] += q
        # Order.deliver, inline (every delivery)
        order.delivered_units += q
        if order.delivered_units + order.lost_units >= order.quantity_units - 1e-9:
            order.completed_day = self.env._now
        if order.completed_day is not None:
            self.close_order(order)
        if order.counts:
            rec.tally[order.product_id].delivered_units += q
        if rec.log_events:
            for p in sh.parcels:
                self.recorder.event(self.env.now, "deliver", lot_id=p.lot.lot_id,
                                    product_id=p.lot.product_id, site_id=site,
                                    customer_id=order.customer_id, order_id=order.order_id,
                                    quantity_units=p.quantity_units)

    # ---- daily bookkeeping ------------------------------------------------------------------
    def _daily(self):
        env = self.env
        rec = self.recorder
        horizon = self.scenario.simulation.horizon_days
        while True:
            yield env.timeout(1.0)
            for sp in self.stockpoints.values():
                sp.expire()
            if env.now > horizon + 1e-9:
                return
            for key, sp in self.stockpoints.items():
                rec.daily.append((env.now, key[0], key[1], sp.stock.units, sp.in_transit_units,
                                  sp.on_order_units, sp.backlog_units))

    def _site_reopened(self, site_id: str) -> Callable[[], None]:
        def reopen() -> None:
            for (s, _p), sp in self.stockpoints.items():
                if s == site_id:
                    sp.serve_backlog()
        return reopen

    def _log_disruption(self, kind: str, d, on: bool) -> None:
        self.recorder.event(self.env.now, "disruption_start" if on else "disruption_end",
                            disruption_id=d.disruption_id, disruption_kind=kind)


def simulate(scenario: Scenario, seed: int | None = None, *, replication: int = 0,
             horizon_days: float | None = None, log_events: bool = False,
             progress: Callable[[float], None] | None = None, keep_orders: bool = False):
    """Run one replication and return its :class:`~supplytwin.sim.result.RunResult`.

    ``keep_orders`` keeps every customer order in ``Model.orders`` (for tests that look at
    orders one by one); runs do not need them, and without them memory stays flat however long
    the horizon."""
    import pandas as pd

    from supplytwin.sim.budget import run_budget
    from supplytwin.sim.kpis import (
        compute_kpis,
        daily_timeseries,
        service_by_customer,
        stock_point_kpis,
    )
    from supplytwin.sim.mass_balance import check_mass_balance
    from supplytwin.sim.result import RunResult

    if horizon_days is not None:
        scenario = replace(scenario, simulation=scenario.simulation.model_copy(
            update={"horizon_days": float(horizon_days)}))
    seed = scenario.simulation.seed if seed is None else int(seed)
    started = time.time()
    model = Model(scenario, seed, replication, log_events, keep_orders)
    horizon = scenario.simulation.horizon_days
    loop_started = time.perf_counter()
    settings = scenario.simulation
    with run_budget(model.env, max_events=getattr(settings, "max_events", None),
                    time_limit_seconds=getattr(settings, "time_limit_seconds", None),
                    what=f"replication {replication} of {scenario.name!r}"), _no_cycle_collection():
        if horizon <= 0:
            pass  # a run of 0 days (from a snapshot): the state as it was given
        elif progress is None:
            model.env.run(until=horizon)
        else:
            step = max(1.0, horizon / 50)
            t = 0.0
            while t < horizon:
                t = min(horizon, t + step)
                model.env.run(until=t)
                progress(t / horizon)
    event_loop_seconds = time.perf_counter() - loop_started
    balance = check_mass_balance(model)
    timeseries = daily_timeseries(model)
    kpis, by_product = compute_kpis(model, timeseries)
    rec = model.recorder
    return RunResult(
        scenario_name=scenario.name,
        seed=seed,
        replication=replication,
        kpis=kpis,
        kpis_by_product=by_product,
        timeseries=timeseries,
        mass_balance=balance,
        service_by_customer=service_by_customer(model),
        stock_points=stock_point_kpis(model),
        units_by_lane=dict(rec.units_by_lane),
        excursions_by_lane=dict(rec.excursions_by_lane),
        events=pd.DataFrame(rec.events),
        wall_seconds=time.time() - started,
        event_loop_seconds=event_loop_seconds,
        events_processed=_events_processed(model.env),
        end_state=(initial_state.end_state(model, model.state_book)
                   if scenario.state is not None else None),
    )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off while the event loop runs, as it was again after.

    The loop allocates and frees a few hundred thousand small objects (orders, parcels,
    shipments, heap entries); reference counting frees them all, since none is part of a
    reference cycle (a collection after the loop of a bundled scenario finds nothing but, once
    per process, the few cycles of a library's first use: ``tests/unit/test_event_loop_gc.py``).
    The collector's passes over them were wasted work, about 3 % of a replication."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _events_processed(env: simpy.Environment) -> int:
    """Events SimPy scheduled in the run (its event-id counter, read without advancing it)."""
    text = repr(getattr(env, "_eid", "count(0)"))  # "count(12345)"
    return int(text[text.index("(") + 1:text.index(")")])

