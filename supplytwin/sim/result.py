"""The result of one replication: KPIs, tables, and the lineage of the run.

A :class:`RunResult` holds plain data only (floats and pandas DataFrames), so it can be pickled
across processes and stacked into experiments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class RunResult:
    scenario_name: str
    seed: int
    replication: int
    #: KPI name -> value (see docs/kpis.md)
    kpis: dict[str, float]
    kpis_by_product: pd.DataFrame
    #: daily state per stock point: time_days, site_id, product_id, on_hand_units,
    #: in_transit_units (shipped towards it, not yet received), on_order_units (in production,
    #: in transit or backordered upstream), backlog_units (owed to customers and downstream)
    timeseries: pd.DataFrame
    #: per-product mass balance (every column in units; imbalance_units is ~0 by check)
    mass_balance: pd.DataFrame
    #: fill rate and OTIF per customer and product
    service_by_customer: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: time-average on hand and backlog and holding cost per stock point after the warm-up
    #: (see supplytwin.sim.kpis.stock_point_kpis)
    stock_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: units shipped per lane after the warm-up (compare with a design's flows)
    units_by_lane: dict[str, float] = field(default_factory=dict)
    #: shipments with a temperature excursion per lane after the warm-up
    excursions_by_lane: dict[str, int] = field(default_factory=dict)
    #: event log (empty unless simulate(..., log_events=True))
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    wall_seconds: float = 0.0
    #: of wall_seconds, the time SimPy spent processing events (set-up and KPIs excluded)
    event_loop_seconds: float = 0.0
    events_processed: int = 0
    #: the state at the end, for a run started from a snapshot (seeds the next run)
    end_state: Any = None

    def customers_of_lot(self, lot_id: str) -> pd.DataFrame:
        """Recall drill: which customers received units of ``lot_id`` (needs log_events)."""
        if self.events.empty:
            raise ValueError("no event log: simulate with log_events=True")
        ev = self.events
        hit = ev[(ev["event"] == "deliver") & (ev["lot_id"] == lot_id)]
        return (hit.groupby("customer_id", as_index=False)["quantity_units"].sum()
                .sort_values("customer_id", ignore_index=True))

    def lots_made_from(self, lot_id: str) -> list[str]:
        """Downstream genealogy: lots whose production consumed ``lot_id`` (needs log_events)."""
        ev = self.events
        prod = ev[ev["event"] == "produce"]
        return sorted(l for l, inputs in zip(prod["lot_id"], prod["inputs"], strict=True)
                      if lot_id in str(inputs).split(";"))
