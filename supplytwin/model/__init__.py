"""Frozen network objects shared by the simulator, the optimiser and the dashboard.

Imports no SimPy, Pyomo, YAML or Dash: the tables are declared as pydantic row models (the
schema, documented once), the settings as pydantic sections, and :class:`Network` /
:class:`Scenario` hold them.
"""

from supplytwin.model.enums import (
    DemandProcess,
    DisruptionKind,
    Mode,
    Packaging,
    PolicyKind,
    SiteKind,
    SourcingRule,
    TemperatureClass,
    UnmetDemand,
)
from supplytwin.model.network import Network, Scenario
from supplytwin.model.settings import (
    ColdChainSettings,
    CostSettings,
    KpiSettings,
    SimulationSettings,
)
from supplytwin.model.tables import (
    TABLES,
    BomRow,
    DemandRow,
    DisruptionRow,
    InitialStockRow,
    LaneRow,
    PolicyRow,
    ProductionRow,
    ProductRow,
    Row,
    SiteRow,
)

__all__ = [
    "TABLES", "BomRow", "ColdChainSettings", "CostSettings", "DemandProcess", "DemandRow",
    "DisruptionKind", "DisruptionRow", "InitialStockRow", "KpiSettings", "LaneRow", "Mode",
    "Network", "Packaging", "PolicyKind", "PolicyRow", "ProductRow", "ProductionRow", "Row",
    "Scenario", "SimulationSettings", "SiteKind", "SiteRow", "SourcingRule", "TemperatureClass",
    "UnmetDemand",
]
