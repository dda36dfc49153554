"""A snapshot of the real network's state: what is where, on the way, owed and down, on a date.

A twin starts from what is true now, not from a made-up initial stock. A :class:`Snapshot` is
that state as plain records, with every date a day offset from the snapshot date (day 0):

- :class:`LotRecord` — units of a lot on hand at a site: product, lot, quantity, manufacture and
  expiry days, status (``released`` or ``quarantine`` awaiting QC/QA release on
  ``release_day``, or at a sampled QC time of the site when unknown), stability budget used;
- :class:`TransitRecord` — units of a lot on a lane: ``in_transit`` (departed on
  ``departure_day``, arriving on ``arrival_day``) or ``awaiting_departure`` (picked, waiting
  for the lane's next departure); shipments to a customer name the order they serve;
- :class:`OpenOrder` — a customer order not yet shipped (the backlog), with order and due days;
- :class:`SiteDown` — a site that is down until a day.

The simulator applies a snapshot (:mod:`supplytwin.sim.initial_state`) and returns the end
state as a snapshot of the same form, so one run's end can seed the next. Reading and writing
the CSV folder that holds a snapshot is :mod:`supplytwin.state`'s business, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from supplytwin.model.enums import DisruptionKind
from supplytwin.model.tables import DisruptionRow

if TYPE_CHECKING:
    from supplytwin.model.network import Scenario

RELEASED = "released"
QUARANTINE = "quarantine"
IN_TRANSIT = "in_transit"
AWAITING_DEPARTURE = "awaiting_departure"


@dataclass(frozen=True)
class LotRecord:
    site_id: str
    product_id: str
    lot_id: str
    quantity_units: float
    manufactured_day: float
    expiry_day: float
    status: str = RELEASED
    release_day: float | None = None
    excursion_hours: float = 0.0


@dataclass(frozen=True)
class TransitRecord:
    shipment_id: str
    lane_id: str
    product_id: str
    lot_id: str
    quantity_units: float
    manufactured_day: float
    expiry_day: float
    status: str = IN_TRANSIT
    departure_day: float | None = None
    arrival_day: float | None = None
    order_id: str | None = None
    excursion_hours: float = 0.0


@dataclass(frozen=True)
class OpenOrder:
    order_id: str
    customer_id: str
    product_id: str
    quantity_units: float
    order_day: float
    due_day: float


@dataclass(frozen=True)
class SiteDown:
    site_id: str
    until_day: float


@dataclass(frozen=True)
class Snapshot:
    snapshot_date: date
    on_hand: tuple[LotRecord, ...] = ()
    in_transit: tuple[TransitRecord, ...] = ()
    open_orders: tuple[OpenOrder, ...] = ()
    sites_down: tuple[SiteDown, ...] = ()
    #: where it came from (file hashes, system, extraction time), carried into run lineage
    provenance: dict = field(default_factory=dict, compare=False)

    def units_by_product(self) -> dict[str, float]:
        """Physical units per product (on hand and on the way; orders are not stock)."""
        out: dict[str, float] = {}
        for r in (*self.on_hand, *self.in_transit):
            out[r.product_id] = out.get(r.product_id, 0.0) + r.quantity_units
        return out


def with_snapshot(scenario: Scenario, snap: Snapshot) -> Scenario:
    """The scenario started from ``snap``: day 0 is the snapshot date, no warm-up (the run starts
    from the real state, not from an arbitrary one that needs to settle), sites down become
    outages from day 0, and the snapshot replaces the initial-stock table."""
    sim = scenario.simulation.model_copy(update={"start_date": snap.snapshot_date,
                                                 "warmup_days": 0.0})
    outages = tuple(
        DisruptionRow(disruption_id=f"snapshot-down-{d.site_id}"[:64], kind=DisruptionKind.SITE_OUTAGE,
                      site_id=d.site_id, start_day=0.0, duration_days=d.until_day)
        for d in snap.sites_down if d.until_day > 0)
    network = replace(scenario.network, disruptions=scenario.network.disruptions + outages,
                      initial_stock=())
    hashes = {f"state/{k}": v for k, v in snap.provenance.get("file_sha256", {}).items()}
    resolved = {**scenario.resolved, "state": {k: v for k, v in snap.provenance.items()
                                               if k != "file_sha256"}}
    return replace(scenario, simulation=sim, network=network, state=snap, resolved=resolved,
                   file_hashes={**scenario.file_hashes, **hashes})
