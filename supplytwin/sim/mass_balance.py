"""The mass balance: no unit is created or destroyed except where the model says so.

For every product, at the end of every run::

    initial stock + produced + supplied (dispatched by external suppliers)
        = delivered to customers + consumed by production
        + on hand + in QC + in transit (queued, travelling, at the dock) + in excursion quarantine
        + written off (expired + destroyed after excursions + rejected by QC)

The left side and the flows come from the :class:`~supplytwin.sim.recorder.Ledger`; the stocks
come from a census of the model's state. The two are computed independently, so a lost or
duplicated parcel anywhere shows up here. A violation raises ``MassBalanceError``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd

from supplytwin.errors import MassBalanceError

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model


def census(model: Model) -> dict[str, dict[str, float]]:
    """Units of each product by where they are now."""
    out: dict[str, dict[str, float]] = {k: defaultdict(float) for k in
                                        ("on_hand", "in_qc", "in_transit", "quarantine")}
    for (_site, product), sp in model.stockpoints.items():
        out["on_hand"][product] += sum(p.quantity_units for p in sp.stock.parcels)
    for plant in model.plants.values():
        for batch in plant.in_qc:
            out["in_qc"][batch.product_id] += batch.output_units
    # parcels are summed afresh (not Shipment.units, the cached total the hot path keeps), so
    # a cache out of step with its parcels would show up here as an imbalance
    def units(sh) -> float:
        return sum(p.quantity_units for p in sh.parcels)

    for lane in model.lanes.values():
        for sh in lane.queue:
            out["in_transit"][sh.product_id] += units(sh)
        for dep in lane.in_flight:
            for sh in dep.shipments:
                out["in_transit"][sh.product_id] += units(sh)
    for sh in model.docks.values():
        out["in_transit"][sh.product_id] += units(sh)
    for sh in model.quarantine.values():
        for p in sh.parcels:
            out["quarantine"][p.lot.product_id] += p.quantity_units
    return out


def _inbound_by_stockpoint(model: Model) -> dict[int, float]:
    """Units on their way to each stock point, from the shipments themselves."""
    inbound: dict[int, float] = defaultdict(float)
    shipments = [sh for lane in model.lanes.values() for sh in lane.queue]
    shipments += [sh for lane in model.lanes.values() for dep in lane.in_flight
                  for sh in dep.shipments]
    shipments += list(model.docks.values())
    shipments += list(model.quarantine.values())
    for sh in shipments:
        if sh.destination is not None:
            inbound[id(sh.destination)] += sum(p.quantity_units for p in sh.parcels)
    return inbound


def check_mass_balance(model: Model, rel_tol: float = 1e-9) -> pd.DataFrame:
    led = model.recorder.ledger
    where = census(model)
    rows = []
    for pid in model.net.products:
        r = {
            "product_id": pid,
            "initial_units": led.initial[pid],
            "produced_units": led.produced[pid],
            "supplied_units": led.supplied[pid],
            "delivered_units": led.delivered[pid],
            "consumed_units": led.consumed[pid],
            "on_hand_units": where["on_hand"][pid],
            "in_qc_units": where["in_qc"][pid],
            "in_transit_units": where["in_transit"][pid],
            "quarantine_units": where["quarantine"][pid],
            "expired_units": led.expired[pid],
            "excursion_destroyed_units": led.excursion_destroyed[pid],
            "rejected_units": led.rejected[pid],
        }
        inflow = r["initial_units"] + r["produced_units"] + r["supplied_units"]
        outflow = sum(v for k, v in r.items() if k not in ("product_id", "initial_units",
                                                            "produced_units", "supplied_units"))
        r["imbalance_units"] = inflow - outflow
        rows.append(r)
        # written so that NaN or inf figures fail too: a balance of inf - inf is no balance
        if not abs(inflow - outflow) <= rel_tol * max(1.0, inflow) + 1e-6 \
                or not math.isfinite(inflow):
            raise MassBalanceError(
                f"mass balance violated for product {pid!r}: in {inflow:.6f} units "
                f"(initial + produced + supplied) but out + stocks {outflow:.6f} units: {r}"
            )
    inbound = _inbound_by_stockpoint(model)
    for sp in model.stockpoints.values():
        if abs(inbound[id(sp)] - sp.in_transit_units) > 1e-6 * max(1.0, sp.in_transit_units):
            raise MassBalanceError(
                f"in-transit units towards {sp.site_id}/{sp.product_id} are booked as "
                f"{sp.in_transit_units:.6f} but the shipments on their way hold "
                f"{inbound[id(sp)]:.6f}")
    return pd.DataFrame(rows)
