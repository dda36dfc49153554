"""KPIs of one replication, computed after the warm-up. Definitions: ``docs/kpis.md``.

Every KPI is a plain float in a flat dict (so replications stack into a tidy table) with its
unit in its name; :data:`KPI_DOCS` holds the one-line definition of each, from which
``docs/kpis.md`` is generated.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from supplytwin.model import Mode, SiteKind, TemperatureClass
from supplytwin.model.costs import (
    DAYS_PER_YEAR,
    SIM_COST_KPIS,
    fixed_site_costs_usd_per_year,
    handling_cost_usd,
)
from supplytwin.model.enums import PRODUCING_KINDS
from supplytwin.sim.service import service_tallies

if TYPE_CHECKING:
    import pandas as pd

    from supplytwin.sim.engine import Model

#: name -> (unit, definition). Order is the order of the KPI table.
KPI_DOCS: dict[str, tuple[str, str]] = {
    "fill_rate": ("fraction", "Units shipped from stock at the moment the customer ordered / units ordered (Type 2 service)."),
    "order_fill_rate": ("fraction", "Orders shipped complete from stock at the moment they were placed / orders."),
    "otif": ("fraction", "Orders due by the end of the horizon that were delivered in full (nothing lost) by their due day (order day + due_days) / those orders."),
    "cycle_service_level": ("fraction", "Replenishment cycles (between two orders of a customer-facing stock point) without any customer order short / cycles (Type 1 service)."),
    "backordered_units": ("units", "Units of customer orders not shipped at once and put on backorder."),
    "lost_units": ("units", "Units of customer demand lost (unmet_demand = lost, or replacement impossible)."),
    "stockout_days": ("site-product-days", "Days on which a customer-facing stock point ended the day at or below kpis.stockout_threshold_units, summed over stock points."),
    "patients_affected": ("patients", "Units not shipped at once (backordered or lost) x the product's patients_per_unit."),
    "avg_on_hand_units": ("units", "Time-average of released stock on hand over all stock points (external suppliers hold no stock of ours and are not counted)."),
    "avg_on_hand_plants_units": ("units", "Time-average stock on hand at stock points of producing sites (suppliers, drug-substance, fill-finish and packaging plants): inputs and finished goods."),
    "avg_on_hand_dcs_units": ("units", "Time-average stock on hand at stock points of distribution centres and wholesalers."),
    "avg_backlog_units": ("units", "Time-average of customer units on backorder, over all stock points (expected backorders; per product in kpis_by_product)."),
    "days_of_supply": ("days", "Time-average stock at customer-facing stock points / mean daily customer demand."),
    "expired_units": ("units", "Units written off at expiry (on hand or on arrival)."),
    "excursion_loss_units": ("units", "Units destroyed by QA after temperature excursions exhausted their stability budget."),
    "excursions": ("shipments", "Shipments that suffered a temperature excursion."),
    "qc_rejected_batches": ("batches", "Batches rejected at QC release."),
    "qc_wait_days_mean": ("days", "Mean wait of a batch for the QC lab before testing starts."),
    "cost_production_usd": ("USD", "Batch and per-unit production cost of batches finished after the warm-up."),
    "cost_transport_usd": ("USD", "Per-unit and per-shipment freight cost of departures after the warm-up."),
    "cost_holding_usd": ("USD", "Time-integral of on-hand stock value x costs.holding_rate_per_year (stock points only: not in transit, production or QC; per stock point in stock_points)."),
    "cost_waste_usd": ("USD", "Value + disposal cost of units expired, destroyed after excursions or rejected."),
    "cost_penalty_usd": ("USD", "Backorder unit-days x backorder penalty + lost units x lost-sale penalty."),
    "cost_handling_usd": ("USD", "Units shipped after the warm-up x handling_cost_usd_per_unit of the shipping site."),
    "cost_fixed_sites_usd": ("USD", "fixed_cost_usd_per_year of every open site (not customers) x measured days / 365."),
    "cost_total_usd": ("USD", "Sum of the cost groups (supplytwin.model.costs: production, transport, handling, holding, waste, penalties, fixed site costs); the optimiser reports the same groups per year."),
    **{f"co2_kg_{m.value}": ("kg CO2e", f"Emissions of {m.value} shipments (units x co2_kg_per_unit).") for m in Mode},
    "co2_kg_total": ("kg CO2e", "Emissions of all shipments."),
    "cold_storage_utilisation": ("fraction", "Mean over sites and cold classes (2-8 C, frozen, ultra-cold) with a finite capacity of end-of-day stock / capacity."),
    "cold_storage_peak_utilisation": ("fraction", "Highest stock / capacity reached in any cold class at any site."),
    "storage_refused_units": ("units", "Units that arrived to a full storage class and waited at the dock (never dropped)."),
    "handling_delayed_units": ("units", "Units received off a lane or picked onto one that waited for a later day because the site's handling_capacity_units_per_day was used up."),
    "storage_overflow_units": ("units", "Units released by production into a storage class already full (kept on hand, beyond capacity)."),
    "demand_units": ("units", "Customer demand after the warm-up."),
    "delivered_units": ("units", "Units delivered to customers after the warm-up."),
}

#: columns of the daily time series (end of each day, per stock point)
DAILY_COLUMNS = ["time_days", "site_id", "product_id", "on_hand_units", "in_transit_units",
                 "on_order_units", "backlog_units"]

#: echelons of the on-hand KPIs: the site kinds whose stock points each one sums
ECHELONS: dict[str, frozenset[SiteKind]] = {
    "plants": PRODUCING_KINDS,
    "dcs": frozenset({SiteKind.DISTRIBUTION_CENTRE, SiteKind.WHOLESALER}),
}

COLD = (TemperatureClass.REFRIGERATED, TemperatureClass.FROZEN, TemperatureClass.ULTRA_COLD)


def daily_timeseries(model: Model) -> pd.DataFrame:
    """The daily state of every stock point (columns: DAILY_COLUMNS)."""
    # pandas and numpy are imported where used, not at the top: KPI_DOCS is read by commands
    # that simulate nothing (validate, show), which should not pay for loading them
    import pandas as pd

    return pd.DataFrame(model.recorder.daily, columns=DAILY_COLUMNS)


def compute_kpis(model: Model, daily: pd.DataFrame | None = None
                 ) -> tuple[dict[str, float], pd.DataFrame]:
    """KPIs of a finished run, and per product; ``daily`` is :func:`daily_timeseries` when the
    caller already has it."""
    import numpy as np
    import pandas as pd

    sc = model.scenario
    rec = model.recorder
    horizon = sc.simulation.horizon_days
    warm = sc.simulation.warmup_days
    window = max(horizon - warm, 1e-9)
    net = model.net
    tallies = rec.tally
    k: dict[str, float] = {}

    demand = sum(t.demand_units for t in tallies.values())
    filled = sum(t.filled_immediately_units for t in tallies.values())
    orders = sum(t.orders for t in tallies.values())
    k["fill_rate"] = filled / demand if demand else float("nan")
    k["order_fill_rate"] = (sum(t.orders_filled_immediately for t in tallies.values()) / orders
                            if orders else float("nan"))
    service = service_tallies(model)
    due = sum(t.due for t in service.values())
    on_time = sum(t.on_time for t in service.values())
    k["otif"] = on_time / due if due else float("nan")
    facing = [sp for sp in model.stockpoints.values() if sp.serves_customers]
    cycles = sum(sp.cycles for sp in facing)
    k["cycle_service_level"] = (1 - sum(sp.cycles_with_stockout for sp in facing) / cycles
                                if cycles else float("nan"))
    k["backordered_units"] = sum(t.backordered_units for t in tallies.values())
    k["lost_units"] = sum(t.lost_units for t in tallies.values())

    if daily is None:
        daily = daily_timeseries(model)
    measured = daily[daily["time_days"] > warm]
    facing_keys = {(sp.site_id, sp.product_id) for sp in facing}
    thr = sc.kpis.stockout_threshold_units
    if len(measured):
        is_facing = [(s, p) in facing_keys for s, p in zip(measured["site_id"], measured["product_id"], strict=True)]
        k["stockout_days"] = float(((measured["on_hand_units"] <= thr) & np.array(is_facing, dtype=bool)).sum())
    else:
        k["stockout_days"] = 0.0
    k["patients_affected"] = sum(
        (t.demand_units - t.filled_immediately_units) * net.products[p].patients_per_unit
        for p, t in tallies.items()
    )
    for sp in model.stockpoints.values():
        sp.on_hand.close(horizon)
        sp.customer_backlog.close(horizon)
    k["avg_on_hand_units"] = sum(sp.on_hand.area for sp in model.stockpoints.values()) / window
    for echelon, kinds in ECHELONS.items():
        k[f"avg_on_hand_{echelon}_units"] = sum(
            sp.on_hand.area for sp in model.stockpoints.values()
            if net.sites[sp.site_id].kind in kinds) / window
    backlog_area: dict[str, float] = defaultdict(float)
    on_hand_area: dict[str, float] = defaultdict(float)
    for sp in model.stockpoints.values():
        backlog_area[sp.product_id] += sp.customer_backlog.area
        on_hand_area[sp.product_id] += sp.on_hand.area
    k["avg_backlog_units"] = sum(backlog_area.values()) / window
    facing_on_hand = sum(sp.on_hand.area for sp in facing) / window
    daily_demand = demand / window
    k["days_of_supply"] = facing_on_hand / daily_demand if daily_demand else float("nan")
    k["expired_units"] = sum(t.expired_units for t in tallies.values())
    k["excursion_loss_units"] = sum(t.excursion_loss_units for t in tallies.values())
    k["excursions"] = float(sum(t.excursions for t in tallies.values()))
    k["qc_rejected_batches"] = float(sum(t.qc_rejected_batches for t in tallies.values()))
    k["qc_wait_days_mean"] = float(np.mean(rec.qc_waits_days)) if rec.qc_waits_days else 0.0

    costs = rec.costs
    holding = sum(sp.on_hand.area * net.products[sp.product_id].unit_value_usd
                  for sp in model.stockpoints.values()) * sc.costs.holding_rate_per_year / 365.0
    backorder_penalty = (sum(sp.customer_backlog.area for sp in model.stockpoints.values())
                         * sc.costs.backorder_penalty_usd_per_unit_day)
    k["cost_production_usd"] = costs.production
    k["cost_transport_usd"] = costs.transport
    k["cost_holding_usd"] = holding
    k["cost_waste_usd"] = costs.waste
    k["cost_penalty_usd"] = costs.penalty + backorder_penalty
    # the groups are defined once, for this table and the optimiser's (supplytwin.model.costs)
    k["cost_handling_usd"] = handling_cost_usd(net, rec.units_by_lane)
    k["cost_fixed_sites_usd"] = fixed_site_costs_usd_per_year(net) * window / DAYS_PER_YEAR
    k["cost_total_usd"] = sum(k[name] for name in SIM_COST_KPIS)
    for m in Mode:
        k[f"co2_kg_{m.value}"] = rec.co2_kg_by_mode.get(m.value, 0.0)
    k["co2_kg_total"] = sum(rec.co2_kg_by_mode.values())

    k["cold_storage_utilisation"], k["cold_storage_peak_utilisation"] = _cold_storage(model, measured)
    k["storage_refused_units"] = rec.storage_refused_units
    k["storage_overflow_units"] = rec.storage_overflow_units
    k["handling_delayed_units"] = rec.handling_delayed_units
    k["demand_units"] = demand
    k["delivered_units"] = sum(t.delivered_units for t in tallies.values())

    by_product = pd.DataFrame([
        {
            "product_id": p,
            "demand_units": t.demand_units,
            "fill_rate": t.filled_immediately_units / t.demand_units if t.demand_units else float("nan"),
            "backordered_units": t.backordered_units,
            "lost_units": t.lost_units,
            "patients_affected": (t.demand_units - t.filled_immediately_units) * net.products[p].patients_per_unit,
            "expired_units": t.expired_units,
            "excursion_loss_units": t.excursion_loss_units,
            "qc_rejected_batches": t.qc_rejected_batches,
            "produced_units": t.produced_units,
            "avg_on_hand_units": on_hand_area.get(p, 0.0) / window,
            "avg_backlog_units": backlog_area.get(p, 0.0) / window,
        }
        for p, t in sorted(tallies.items())
    ])
    return {name: float(k[name]) for name in KPI_DOCS}, by_product


def stock_point_kpis(model: Model) -> pd.DataFrame:
    """Per stock point (after :func:`compute_kpis` closed the levels): the time averages of
    stock on hand and customer backlog after the warm-up, and the holding cost of that stock
    over the window (these sum to ``avg_on_hand_units``, ``avg_backlog_units`` and
    ``cost_holding_usd``; the optimiser reports the same per stock point)."""
    import pandas as pd

    sc, net = model.scenario, model.net
    window = max(sc.simulation.horizon_days - sc.simulation.warmup_days, 1e-9)
    rate = sc.costs.holding_rate_per_year / DAYS_PER_YEAR
    rows = [(sp.site_id, sp.product_id, echelon_of(net.sites[sp.site_id].kind),
             sp.on_hand.area / window, sp.customer_backlog.area / window,
             sp.on_hand.area * net.products[sp.product_id].unit_value_usd * rate)
            for sp in model.stockpoints.values()]
    return pd.DataFrame(rows, columns=["site_id", "product_id", "echelon", "avg_on_hand_units",
                                       "avg_backlog_units", "cost_holding_usd"])


def echelon_of(kind: SiteKind) -> str:
    """The echelon of a site kind in the inventory KPIs: plants, dcs, or other."""
    return next((name for name, kinds in ECHELONS.items() if kind in kinds), "other")


def stock_point_levels(timeseries: pd.DataFrame, site_kinds: dict[str, SiteKind],
                       warmup_days: float) -> pd.DataFrame:
    """Mean end-of-day on hand and backlog per stock point after the warm-up.

    ``timeseries`` is the daily table of one run or of stacked replications (a
    ``replication`` column); the result has one row per replication and stock point:
    replication (when given), site_id, product_id, echelon, on_hand_units, backlog_units.
    """
    import pandas as pd

    cols = ["site_id", "product_id", "echelon", "on_hand_units", "backlog_units"]
    if timeseries.empty:
        return pd.DataFrame(columns=cols)
    keys = [c for c in ("replication", "site_id", "product_id") if c in timeseries.columns]
    measured = timeseries[timeseries["time_days"] > warmup_days]
    out = measured.groupby(keys, as_index=False)[["on_hand_units", "backlog_units"]].mean()
    out.insert(keys.index("product_id") + 1, "echelon",
               [echelon_of(site_kinds[s]) for s in out["site_id"]])
    return out


def service_by_customer(model: Model) -> pd.DataFrame:
    """Fill rate and OTIF per customer and product, from the orders placed after the warm-up."""
    import pandas as pd

    service = service_tallies(model)
    if not any(t.orders for t in service.values()):
        return pd.DataFrame(columns=["customer_id", "product_id", "orders", "demand_units",
                                     "filled_immediately_units", "lost_units", "fill_rate", "otif"])
    g = pd.DataFrame(
        [(c, p, t.orders, t.demand_units, t.filled_immediately_units, t.lost_units, t.due,
          t.on_time) for (c, p), t in sorted(service.items()) if t.orders],
        columns=["customer_id", "product_id", "orders", "demand_units",
                 "filled_immediately_units", "lost_units", "due", "on_time"])
    g["fill_rate"] = g["filled_immediately_units"] / g["demand_units"]
    g["otif"] = g["on_time"] / g["due"].where(g["due"] > 0)
    return g.drop(columns=["due", "on_time"])


def _cold_storage(model: Model, measured: pd.DataFrame) -> tuple[float, float]:
    import numpy as np

    net = model.net
    # limited cold rooms (a capacity of 0 cannot be utilised, so it is left out)
    caps = {key: c for key, c in model.storage_capacity.items() if key[1] in COLD and c}
    if not caps:
        return float("nan"), float("nan")
    used: dict[tuple[str, TemperatureClass], np.ndarray] = {}
    if len(measured):
        tclass = measured["product_id"].map(lambda p: net.products[p].temperature_class)
        grouped = measured.assign(tclass=tclass).groupby(["site_id", "tclass", "time_days"])["on_hand_units"].sum()
        # the daily totals of each limited room, in time order (masks, not a loop over rows)
        sites = grouped.index.get_level_values(0).to_numpy()
        classes = grouped.index.get_level_values(1).to_numpy()
        values = grouped.to_numpy(dtype=float)
        for sid, tc in caps:
            used[(sid, tc)] = values[(sites == sid) & (classes == tc)]
    means = [np.mean(used[key]) / cap if len(used.get(key, ())) else 0.0
             for key, cap in caps.items()]
    peaks = [model.storage_peak.get(key, 0.0) / cap for key, cap in caps.items()]
    return float(np.mean(means)), float(max(peaks))
