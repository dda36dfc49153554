"""External suppliers: vendors outside the network who ship whatever is ordered after a lead time.

An external supplier (site kind ``external_supplier``) holds no stock of ours, runs no policy and
has no production row. A stock point that replenishes over a lane from it places its order as it
would upstream; the vendor then

1. starts the order on the first day with room left in its ``supply_capacity_units_per_day``
   (shared by every product and buyer, first come first served; an order larger than a day's
   room is split over the following days);
2. takes one ``supply_lead_time_days`` draw per order, plus one ``supply_late_days`` draw when
   the order is late, which it is with probability ``1 - supply_on_time_prob``;
3. dispatches the goods on the lane as a fresh lot (manufactured at dispatch), unless it is
   down (``site_outage`` or ``supplier_failure``): then they leave when it reopens.

Goods enter the system at dispatch: the mass balance counts them as supplied, and until then
they are only "on order" for the buyer. Since the vendor's own stock is not modelled, it never
shows in the network's inventory KPIs (on hand, holding cost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supplytwin.sim.capacity import DailyCapacity
from supplytwin.sim.lots import Lot, Parcel

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model
    from supplytwin.sim.inventory import Request


class ExternalSupplier:
    """One vendor's capacity calendar and its orders under way."""

    def __init__(self, model: Model, site_id: str):
        self.model = model
        self.site_id = site_id
        self.row = model.net.sites[site_id]
        cap = self.row.supply_capacity_units_per_day
        self._capacity = DailyCapacity(cap) if cap is not None else None
        self._rng = model.streams.get("supply.lead", site_id)
        self._lot_seq = 0

    def outlet(self, product_id: str) -> SupplyOutlet:
        """What a buyer of ``product_id`` orders from (it stands where a stock point would)."""
        return SupplyOutlet(self, product_id)

    def order(self, req: Request, product_id: str) -> None:
        """Accept a replenishment order of ``product_id``: it leaves after the lead time."""
        env = self.model.env
        now = env.now
        row = self.row
        # one lead-time draw and one on-time draw per order, in a fixed order (common random
        # numbers: the same orders get the same draws in two scenarios)
        lead = row.supply_lead_time_days.sample(self._rng) if row.supply_lead_time_days else 0.0
        late = self._rng.random() >= row.supply_on_time_prob
        extra = row.supply_late_days.sample(self._rng) if row.supply_late_days else 0.0
        delay = lead + (extra if late else 0.0)
        for start_day, units in self._allocate(now, req.quantity_units):
            env.process(self._dispatch(req, product_id, start_day + delay, units))
        req.quantity_units = 0.0

    def _allocate(self, now: float, units: float) -> list[tuple[float, float]]:
        """(start time, units) parts of an order under the daily capacity."""
        if self._capacity is None:
            return [(now, units)]
        return self._capacity.book(now, units)

    def _dispatch(self, req: Request, product_id: str, at_day: float, units: float):
        m = self.model
        env = m.env
        if at_day > env.now:
            yield env.timeout(at_day - env.now)
        gate = m.dis.site_gate[self.site_id]
        while not gate.is_open:
            yield gate.wait_open()
        self._lot_seq += 1
        now = env.now
        lot = Lot(lot_id=f"{self.site_id}-{product_id}-{self._lot_seq:05d}",
                  product_id=product_id, site_id=self.site_id, manufactured_day=now,
                  expiry_day=now + m.net.products[product_id].shelf_life_days)
        m.record_supply(self.row, lot, units)
        req.fulfil([Parcel(lot, units)], units)


class SupplyOutlet:
    """An external supplier seen by the buyers of one product: orders go to the vendor."""

    __slots__ = ("product_id", "supplier")

    def __init__(self, supplier: ExternalSupplier, product_id: str):
        self.supplier = supplier
        self.product_id = product_id

    def request(self, req: Request, backorder: bool = True) -> float:
        """Accept a replenishment order; nothing is served at once (returns 0 units)."""
        self.supplier.order(req, self.product_id)
        return 0.0
