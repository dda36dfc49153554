"""Customer service tallied as orders close, so a run need not keep its orders.

An order *closes* when every unit of it is delivered or lost. Its service (units ordered and
filled at once, units lost, and whether it was due by the end of the horizon and delivered in
full by its due day: OTIF) no longer changes then, so it is added to the tally of its customer
x product stream and the order is forgotten. At the end of a run the orders still open are
added as they stand. Memory then holds only the open orders, however long the horizon.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from supplytwin.sim.recorder import ServiceTally

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model
    from supplytwin.sim.inventory import Order


def tally_order(t: ServiceTally, order: Order, horizon_days: float) -> None:
    """Add one order's service (as it stands) to the tally ``t``."""
    t.orders += 1
    t.demand_units += order.quantity_units
    t.filled_immediately_units += order.filled_immediately_units
    t.lost_units += order.lost_units
    if order.due_day <= horizon_days:
        t.due += 1
        t.on_time += (order.lost_units == 0 and order.completed_day is not None
                      and order.completed_day <= order.due_day + 1e-9)


def service_tallies(model: Model) -> dict[tuple[str, str], ServiceTally]:
    """Service by (customer, product) over the orders placed after the warm-up: the closed
    orders' tallies plus the orders still open at the end, as they stand."""
    out: dict[tuple[str, str], ServiceTally] = defaultdict(ServiceTally)
    horizon_days = model.scenario.simulation.horizon_days
    for key, t in model.recorder.service.items():
        out[key].add(t)
    for order in model.open_orders.values():
        if order.counts:
            tally_order(out[(order.customer_id, order.product_id)], order, horizon_days)
    return out
