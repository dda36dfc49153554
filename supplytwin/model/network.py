"""The network as frozen objects: what the simulator, the optimiser and the dashboard read.

A :class:`Network` is an information store, apart from any run's dynamic state: rows of every
table indexed by their keys, and a few derived views (the lane graph, the sourcing lanes of a
customer, mean demand rates propagated upstream). A :class:`Scenario` is a network plus the
settings of one what-if and its lineage (the files it came from and their hashes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx

from supplytwin.model.enums import PACKAGING_HOLDS, PACKAGING_MODES, SiteKind
from supplytwin.model.settings import (
    ColdChainSettings,
    CostSettings,
    KpiSettings,
    SimulationSettings,
)
from supplytwin.model.tables import (
    BomRow,
    DemandRow,
    DisruptionRow,
    InitialStockRow,
    LaneRow,
    PolicyRow,
    ProductionRow,
    ProductRow,
    SiteRow,
)

SiteProduct = tuple[str, str]


@dataclass(frozen=True, eq=False)
class Network:
    products: dict[str, ProductRow]
    sites: dict[str, SiteRow]
    production: dict[SiteProduct, ProductionRow]
    bom: dict[SiteProduct, tuple[BomRow, ...]]
    lanes: dict[str, LaneRow]
    policies: dict[SiteProduct, PolicyRow]
    initial_stock: tuple[InitialStockRow, ...]
    demand: dict[SiteProduct, DemandRow]
    disruptions: tuple[DisruptionRow, ...] = ()
    #: daily quantities of demand streams with process=series, by (customer, product)
    demand_series: dict[SiteProduct, tuple[float, ...]] = field(default_factory=dict)

    # ---- derived views -------------------------------------------------------------------
    def lane_can_carry(self, lane: LaneRow, product_id: str) -> bool:
        """Cold-chain rule: the lane's packaging holds the class and travels on the mode."""
        tclass = self.products[product_id].temperature_class
        return tclass in PACKAGING_HOLDS[lane.packaging] and lane.mode in PACKAGING_MODES[lane.packaging]

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """Sites as nodes (with their rows), lanes as keyed edges (with their rows)."""
        g = nx.MultiDiGraph()
        for sid, site in self.sites.items():
            g.add_node(sid, row=site, kind=site.kind.value)
        for lid, lane in self.lanes.items():
            g.add_edge(lane.origin_id, lane.destination_id, key=lid, row=lane, mode=lane.mode.value)
        return g

    @cached_property
    def lanes_into(self) -> dict[str, tuple[LaneRow, ...]]:
        into: dict[str, list[LaneRow]] = defaultdict(list)
        for lane in self.lanes.values():
            into[lane.destination_id].append(lane)
        return {k: tuple(v) for k, v in into.items()}

    def demand_sources(self, demand: DemandRow) -> tuple[LaneRow, ...]:
        """Lanes that serve a demand stream, in order of preference."""
        if demand.sources:
            return tuple(self.lanes[l] for l in demand.sources if l in self.lanes)
        cands = [
            l for l in self.lanes_into.get(demand.customer_id, ())
            if self.lane_can_carry(l, demand.product_id)
            and (l.origin_id, demand.product_id) in self.policies
        ]
        return tuple(sorted(cands, key=lambda l: (l.cost_per_unit_usd, l.lane_id)))

    def customers(self) -> list[str]:
        return [s for s, row in self.sites.items() if row.kind == SiteKind.CUSTOMER]

    @cached_property
    def mean_daily_demand(self) -> dict[SiteProduct, float]:
        """Mean units per day flowing out of each (site, product), propagated upstream.

        Customer demand is pushed to the primary source of each stream, then through each
        site's policy to its sources (split by shares) and through the bill of materials to the
        inputs of producing sites. Used by days-of-supply targets, KPIs and network design.
        Ignores seasonality, trend and yield losses; those are second-order for a target level.
        """
        rate: dict[SiteProduct, float] = defaultdict(float)
        for d in self.demand.values():
            srcs = self.demand_sources(d)
            if not srcs:
                continue
            rate[(srcs[0].origin_id, d.product_id)] += self.demand_mean_rate(d)
        # propagate in topological order of (site, product) supply edges
        order = self._supply_order()
        for sp in order:
            r = rate.get(sp, 0.0)
            pol = self.policies.get(sp)
            if r == 0.0 or pol is None:
                continue
            if pol.is_make:
                prod = self.production.get(sp)
                batch = self.batch_units(sp)
                for b in self.bom.get(sp, ()):
                    rate[(sp[0], b.input_product_id)] += r * b.input_units_per_batch / batch
                _ = prod
            else:
                shares = self._shares(pol)
                for lane_id, share in zip(pol.sources, shares, strict=True):
                    lane = self.lanes.get(lane_id)
                    if lane is not None:
                        rate[(lane.origin_id, sp[1])] += r * share
        return dict(rate)

    @property
    def active_disruptions(self) -> tuple[DisruptionRow, ...]:
        """The disruptions that act (``enabled``); the others are kept for display."""
        return tuple(d for d in self.disruptions if d.enabled)

    def demand_mean_rate(self, d: DemandRow) -> float:
        if d.orders_per_day is not None:
            return d.orders_per_day * d.order_size_units.mean
        series = self.demand_series.get((d.customer_id, d.product_id), ())
        return sum(series) / len(series) if series else 0.0

    def batch_units(self, sp: SiteProduct) -> float:
        prod = self.production[sp]
        return prod.batch_size_units or self.products[sp[1]].units_per_batch

    @staticmethod
    def _shares(pol: PolicyRow) -> list[float]:
        if pol.sourcing_rule.value == "split" and pol.split_shares:
            tot = sum(pol.split_shares)
            return [s / tot for s in pol.split_shares]
        return [1.0] + [0.0] * (len(pol.sources) - 1)

    def _supply_order(self) -> list[SiteProduct]:
        """(site, product) nodes ordered downstream-first (demand flows to upstream nodes)."""
        g = nx.DiGraph()
        for sp, pol in self.policies.items():
            g.add_node(sp)
            if pol.is_make:
                for b in self.bom.get(sp, ()):
                    g.add_edge(sp, (sp[0], b.input_product_id))
            else:
                for lane_id in pol.sources:
                    lane = self.lanes.get(lane_id)
                    if lane is not None:
                        g.add_edge(sp, (lane.origin_id, sp[1]))
        try:
            return list(nx.topological_sort(g))
        except nx.NetworkXUnfeasible:
            return list(g.nodes)  # cycles are reported by validation


@dataclass(frozen=True, eq=False)
class Scenario:
    """One what-if: a network, its settings and where it came from."""

    name: str
    network: Network
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    cold_chain: ColdChainSettings = field(default_factory=ColdChainSettings)
    costs: CostSettings = field(default_factory=CostSettings)
    kpis: KpiSettings = field(default_factory=KpiSettings)
    description: str = ""
    #: the scenario file this was loaded from (None when built in code)
    source: Path | None = None
    #: the fully expanded scenario document (extends and overrides applied), as plain data
    resolved: dict[str, Any] = field(default_factory=dict)
    #: every file read, relative path -> sha256
    file_hashes: dict[str, str] = field(default_factory=dict)
    #: the real network's state to start from (None: the initial-stock table); set by
    #: :func:`supplytwin.model.snapshot.with_snapshot`
    state: Any = None
