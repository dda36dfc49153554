"""Feasibility rules of the cold chain, stated once for ``validate`` and the optimiser.

A lane may carry a product when

* its packaging holds the product's temperature class and travels on the lane's mode
  (:meth:`Network.lane_can_carry`), and
* for passive packaging (a shipper with a qualified hold time), the transit fits within the
  qualified hours: mean + ``QUALIFIED_HOURS_SIGMAS`` standard deviations of the transit time,
  in hours, <= ``qualified_hours``. The simulator would still ship on such a lane, but most
  shipments would run out of qualified time and risk an excursion, so a plan must not rely on
  it.

:func:`lane_carry_reason` says why a lane may not carry a product (or None);
:mod:`supplytwin.scenario.checks` reports a demand stream none of whose lanes may carry it (file,
row, reason), and :mod:`supplytwin.opt.data` builds only the arcs the rule allows (its
``qualified_hours_sigmas`` option defaults to the same number).
"""

from __future__ import annotations

import math

from supplytwin.model.enums import PASSIVE_PACKAGING
from supplytwin.model.network import Network
from supplytwin.model.tables import LaneRow

#: standard deviations of transit time that must fit within a passive shipper's qualified hours
QUALIFIED_HOURS_SIGMAS = 2.0


def transit_hours_to_qualify(lane: LaneRow, sigmas: float = QUALIFIED_HOURS_SIGMAS) -> float:
    """Mean + ``sigmas`` standard deviations of the lane's transit time, in hours."""
    d = lane.transit_time_days
    return 24.0 * (d.mean + sigmas * math.sqrt(max(d.variance, 0.0)))


def qualified_hours_reason(lane: LaneRow, sigmas: float = QUALIFIED_HOURS_SIGMAS) -> str | None:
    """Why the lane's passive shipper does not cover its transit, or None if it does (or the
    packaging is active / unlimited)."""
    if lane.packaging not in PASSIVE_PACKAGING or lane.qualified_hours is None:
        return None
    hours = transit_hours_to_qualify(lane, sigmas)
    if hours > lane.qualified_hours + 1e-9:
        return (f"transit of {hours:.0f} h (mean + {sigmas:g} sd) exceeds the shipper's "
                f"{lane.qualified_hours:g} qualified hours")
    return None


def lane_carry_reason(net: Network, lane: LaneRow, product_id: str,
                      sigmas: float = QUALIFIED_HOURS_SIGMAS) -> str | None:
    """Why ``lane`` may not carry ``product_id`` under the cold-chain rules, or None if it may."""
    if not net.lane_can_carry(lane, product_id):
        tclass = net.products[product_id].temperature_class.value
        return (f"{lane.packaging.value} packaging on {lane.mode.value} cannot hold "
                f"{tclass} goods")
    return qualified_hours_reason(lane, sigmas)
