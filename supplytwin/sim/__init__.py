"""The SimPy twin: manufacturing, QC release, cold-chain transport, lots and inventory.

Modules, one concept each: :mod:`lots` (lots, parcels, FEFO stock), :mod:`inventory` (stock
points, orders, policies), :mod:`production` (lines, batches, QC), :mod:`transport` (lanes,
departures, excursions), :mod:`demand` (order streams), :mod:`disruptions` (time windows and
gates), :mod:`recorder` (ledger, tallies, levels), :mod:`mass_balance`, :mod:`kpis`, and
:mod:`engine`, which wires them into a :class:`Model` and runs :func:`simulate`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model, simulate
    from supplytwin.sim.kpis import KPI_DOCS
    from supplytwin.sim.result import RunResult

__all__ = ["KPI_DOCS", "Model", "RunResult", "simulate"]

# imported on first use (PEP 562): a command that only reads KPI definitions, such as
# ``supplytwin validate``, must not pay for SimPy and pandas at start-up
_WHERE = {"Model": "engine", "simulate": "engine", "KPI_DOCS": "kpis", "RunResult": "result"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"supplytwin.sim.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'supplytwin.sim' has no attribute {name!r}")
