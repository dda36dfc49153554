"""The SimPy twin: manufacturing, QC release, cold-chain transport, lots and inventory.

Modules, one concept each: :mod:`lots` (lots, parcels, FEFO stock), :mod:`inventory` (stock
points, orders, policies), :mod:`production` (lines, batches, QC), :mod:`transport` (lanes,
departures, excursions), :mod:`demand` (order streams), :mod:`disruptions` (time windows and
gates), :mod:`recorder` (ledger, tallies, levels), :mod:`mass_balance`, :mod:`kpis`, and
:mod:`engine`, which wires them into a :class:`Model` and runs :func:`simulate`.
"""

from supplytwin.sim.engine import Model, simulate
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.sim.result import RunResult

__all__ = ["KPI_DOCS", "Model", "RunResult", "simulate"]
