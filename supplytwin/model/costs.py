"""Cost groups: one definition of cost for the simulator's KPIs and the optimiser's results.

Both sides report the same groups, each a money amount for a stated period: the simulator for
its measured window (after the warm-up; :func:`per_year` scales to 365 days), the optimiser per
year. The total of the groups is the cost of running the network for that period, fixed site
costs included (they are most of it), so ``supplytwin run``'s ``cost_total_usd`` scaled to a year
and the optimiser's objective measure the same thing.

=============  ===================================  =========================================
group          simulator KPI                        optimiser (``DesignResult.tables["costs"]``)
=============  ===================================  =========================================
production     ``cost_production_usd``              ``production``
transport      ``cost_transport_usd``               ``transport``
handling       ``cost_handling_usd``                ``handling``
holding        ``cost_holding_usd``                 ``holding``
waste          ``cost_waste_usd``                   (none: no stochastic waste)
penalty        ``cost_penalty_usd``                 ``penalty``
fixed          ``cost_fixed_sites_usd``             ``fixed``
co2            (none: kg only, ``co2_kg_total``)    ``co2`` (objective ``cost+co2``)
=============  ===================================  =========================================

:data:`COST_GROUPS` holds each group's definition and, where the two sides count it
differently, why; ``docs/kpis.md`` and ``docs/optimisation.md`` point here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from supplytwin.model.enums import SiteKind
from supplytwin.model.network import Network

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class CostGroup:
    key: str
    #: the simulator's KPI of the group (None: the simulator does not price it)
    kpi: str | None
    label: str
    definition: str
    #: why the simulator's and the optimiser's figures of the group may differ ("" if they
    #: count the same thing and differ only by randomness)
    differs: str = ""


COST_GROUPS: tuple[CostGroup, ...] = (
    CostGroup("production", "cost_production_usd", "production",
              "Batch and per-unit production cost of the units made.",
              "the optimiser costs good units at mean yield and failure rate; the simulator "
              "costs the batches it actually finished (failed batches included)"),
    CostGroup("transport", "cost_transport_usd", "transport",
              "Per-unit freight of the units shipped, plus per-shipment costs (scheduled lanes: "
              "per departure used; on-demand lanes: per shipment)."),
    CostGroup("handling", "cost_handling_usd", "handling",
              "Units shipped out of a site x the site's handling_cost_usd_per_unit."),
    CostGroup("holding", "cost_holding_usd", "holding",
              "Value of stock on hand at stock points x holding_rate_per_year x time (not in "
              "transit, production or QC).",
              "the simulator integrates stock on hand; the optimiser derives its mean from each "
              "stock point's policy and the flows, assuming full service (docs/optimisation.md): "
              "backorders and waiting for stock upstream add to the simulated figure"),
    CostGroup("waste", "cost_waste_usd", "waste",
              "Value + disposal cost of units expired, destroyed after excursions or rejected.",
              "the optimiser has no stochastic waste (expiry, excursions, QC rejections)"),
    CostGroup("penalty", "cost_penalty_usd", "penalties",
              "Backorder unit-days x backorder penalty + lost units x lost-sale penalty.",
              "the optimiser prices unmet annual demand at the lost-sale penalty; it has no "
              "backorders"),
    CostGroup("fixed", "cost_fixed_sites_usd", "fixed site costs",
              "fixed_cost_usd_per_year of every open site (not customers), prorated to the "
              "period; the optimiser adds capacity expansions."),
    CostGroup("co2", None, "CO2 price",
              "Emissions (kg CO2e) x the CO2 price.",
              "priced by the optimiser only (objective cost+co2, --co2-price); the simulator "
              "reports emissions in kg (co2_kg_total)"),
)

GROUP_BY_KEY: dict[str, CostGroup] = {g.key: g for g in COST_GROUPS}
#: the simulator's cost KPIs whose sum is ``cost_total_usd``
SIM_COST_KPIS: tuple[str, ...] = tuple(g.kpi for g in COST_GROUPS if g.kpi is not None)


def fixed_site_costs_usd_per_year(net: Network) -> float:
    """Fixed costs per year of the network's open sites (customers have none)."""
    return float(sum(r.fixed_cost_usd_per_year for r in net.sites.values()
                     if r.is_open and r.kind != SiteKind.CUSTOMER))


def handling_cost_usd(net: Network, units_by_lane: Mapping[str, float]) -> float:
    """Handling cost of the units shipped on each lane, charged at the lane's origin."""
    return float(sum(u * net.sites[net.lanes[l].origin_id].handling_cost_usd_per_unit
                     for l, u in units_by_lane.items() if u))


def per_year(usd: float, days: float) -> float:
    """An amount over ``days`` scaled to 365 days."""
    return usd * DAYS_PER_YEAR / days if days > 0 else float("nan")


def sim_groups_per_year(kpis: Mapping[str, float], window_days: float) -> dict[str, float]:
    """The simulator's cost groups (KPIs of one run, or their means) per year."""
    return {g.key: per_year(float(kpis.get(g.kpi, 0.0)), window_days)
            for g in COST_GROUPS if g.kpi is not None}


def compare_groups(sim_per_year: Mapping[str, float], opt_per_year: Mapping[str, float],
                   ) -> list[dict[str, object]]:
    """One row per group: both sides per year, the difference, and why they may differ."""
    rows = []
    for g in COST_GROUPS:
        s = sim_per_year.get(g.key) if g.kpi is not None else None
        o = opt_per_year.get(g.key, 0.0 if g.key != "waste" else None)
        diff = (s - o) if s is not None and o is not None else None
        rows.append({"group": g.key, "label": g.label, "sim_usd_per_year": s,
                     "opt_usd_per_year": o, "sim_minus_opt_usd": diff, "why": g.differs})
    return rows
