"""What a run remembers: the unit ledger for the mass balance, KPI tallies, levels, events.

Two kinds of bookkeeping are kept apart on purpose:

* the :class:`Ledger` counts every unit that enters or leaves the system over the whole run
  (initial stock, production, external supply, deliveries, consumption by production, write-offs). At the end
  of every run it is checked against a census of where the units physically are; a difference
  is a :class:`~supplytwin.errors.MassBalanceError`, never a warning;
* the :class:`Recorder` tallies what KPIs need, only after the warm-up, and integrates levels
  over time (:class:`Level`, a time-weighted accumulator like salabim's level monitor).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


class Level:
    """A piecewise-constant quantity and its time integral from ``start`` on."""

    __slots__ = ("_t", "area", "peak", "start", "value")

    def __init__(self, start: float = 0.0, value: float = 0.0):
        self.value = value
        self._t = 0.0
        self.area = 0.0
        self.start = start
        self.peak = 0.0

    def set(self, t: float, value: float) -> None:
        start = self.start
        if t > start:
            # plain comparisons instead of max(): this runs on every stock change
            last = self._t
            self.area += self.value * (t - (last if last > start else start))  # noqa: FURB136
            if value > self.peak:  # noqa: PLR1730
                self.peak = value
        self._t = t
        self.value = value

    def add(self, t: float, delta: float) -> None:
        self.set(t, self.value + delta)

    def close(self, t: float) -> float:
        """Integral up to ``t`` (the level is carried to ``t``)."""
        self.set(t, self.value)
        return self.area


@dataclass
class Ledger:
    """Units in and out, per product, over the whole run (warm-up included)."""

    initial: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    produced: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    #: dispatched by external suppliers (enters the system like production)
    supplied: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    delivered: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    consumed: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    expired: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    excursion_destroyed: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rejected: dict[str, float] = field(default_factory=lambda: defaultdict(float))


@dataclass
class Tally:
    """Per-product KPI tallies after the warm-up."""

    demand_units: float = 0.0
    filled_immediately_units: float = 0.0
    orders: int = 0
    orders_filled_immediately: int = 0
    backordered_units: float = 0.0
    lost_units: float = 0.0
    delivered_units: float = 0.0
    orders_due: int = 0
    orders_otif: int = 0
    expired_units: float = 0.0
    excursion_loss_units: float = 0.0
    excursions: int = 0
    qc_rejected_batches: int = 0
    batches_released: int = 0
    produced_units: float = 0.0


@dataclass(slots=True)
class ServiceTally:
    """Service of one customer x product stream, tallied order by order as orders close (every
    unit delivered or lost), so that a run need not keep its orders to report service."""

    orders: int = 0
    demand_units: float = 0.0
    filled_immediately_units: float = 0.0
    lost_units: float = 0.0
    due: int = 0  # orders due by the end of the horizon
    on_time: int = 0  # of those, delivered in full by their due day

    def add(self, other: ServiceTally) -> None:
        self.orders += other.orders
        self.demand_units += other.demand_units
        self.filled_immediately_units += other.filled_immediately_units
        self.lost_units += other.lost_units
        self.due += other.due
        self.on_time += other.on_time


@dataclass
class Costs:
    production: float = 0.0
    transport: float = 0.0
    holding: float = 0.0
    waste: float = 0.0
    penalty: float = 0.0


class Recorder:
    def __init__(self, warmup_days: float, log_events: bool):
        self.warmup = warmup_days
        self.ledger = Ledger()
        self.tally: dict[str, Tally] = defaultdict(Tally)
        #: service of closed orders placed after the warm-up, by (customer, product)
        self.service: dict[tuple[str, str], ServiceTally] = defaultdict(ServiceTally)
        self.costs = Costs()
        self.co2_kg_by_mode: dict[str, float] = defaultdict(float)
        self.shipments_by_mode: dict[str, int] = defaultdict(int)
        self.units_by_lane: dict[str, float] = defaultdict(float)
        self.excursions_by_lane: dict[str, int] = defaultdict(int)
        self.qc_waits_days: list[float] = []
        self.storage_refused_units: float = 0.0
        self.storage_overflow_units: float = 0.0
        #: units received or picked after the day they were due, for want of handling capacity
        self.handling_delayed_units: float = 0.0
        self.log_events = log_events
        self.events: list[dict[str, Any]] = []
        self.daily: list[tuple] = []

    def counts(self, t: float) -> bool:
        """Whether an outcome at time ``t`` counts towards KPIs (after the warm-up)."""
        return t >= self.warmup

    def event(self, t: float, kind: str, **fields: Any) -> None:
        if self.log_events:
            self.events.append({"time_days": t, "event": kind, **fields})
