"""A scenario's network as plain tables: sites and lanes for the map, one site's detail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from dashboard.services.checks import UserError, _shown
from dashboard.services.report_figures import KIND_STYLE
from supplytwin.model import Scenario
from supplytwin.model.enums import PACKAGING_HOLDS, SiteKind, TemperatureClass

#: temperature classes from warmest to coldest
TEMPERATURE_ORDER: tuple[str, ...] = tuple(t.value for t in TemperatureClass)




def _coldest(classes: Iterable[str]) -> str:
    ranked = [c for c in TEMPERATURE_ORDER if c in set(classes)]
    return ranked[-1] if ranked else TEMPERATURE_ORDER[0]


def _lane_products(sc: Scenario) -> dict[str, set[str]]:
    """Products each lane carries: sources of policies and of demand streams."""
    net = sc.network
    out: dict[str, set[str]] = {lid: set() for lid in net.lanes}
    for (_site, product), pol in net.policies.items():
        for src in pol.sources:
            if src in out:
                out[src].add(product)
    for d in net.demand.values():
        for lane in net.demand_sources(d):
            out.setdefault(lane.lane_id, set()).add(d.product_id)
    return out


def network_tables(sc: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sites, lanes) of a scenario's network as tidy tables for the map and its filters.

    sites: site_id, name, kind, region, country, latitude, longitude, is_open, products (the
    products the site makes, stocks or orders, ';'-joined). lanes: lane_id, origin_id,
    destination_id, mode, packaging, temperature_class (the coldest class of the products it
    carries, else the warmest its packaging holds), products (';'-joined), transit_days (mean),
    and the coordinates of both ends (o_lat, o_lon, d_lat, d_lon).
    """
    net = sc.network
    products_at: dict[str, set[str]] = {sid: set() for sid in net.sites}
    for site, product in [*net.policies, *net.production]:
        products_at.setdefault(site, set()).add(product)
    for customer, product in net.demand:
        products_at.setdefault(customer, set()).add(product)
    sites = pd.DataFrame([{
        "site_id": s.site_id, "name": s.name or s.site_id, "kind": s.kind.value,
        "region": s.region or "", "country": s.country or "", "latitude": s.latitude,
        "longitude": s.longitude, "is_open": bool(s.is_open),
        "products": ";".join(sorted(products_at.get(s.site_id, ()))),
    } for s in net.sites.values()])
    carried = _lane_products(sc)
    rows = []
    for lane in net.lanes.values():
        o, d = net.sites.get(lane.origin_id), net.sites.get(lane.destination_id)
        if o is None or d is None:
            continue
        prods = sorted(carried.get(lane.lane_id, ()))
        classes = [net.products[p].temperature_class.value for p in prods if p in net.products]
        if not classes:
            classes = [min(PACKAGING_HOLDS[lane.packaging],
                           key=lambda t: TEMPERATURE_ORDER.index(t.value)).value]
        try:
            transit = float(lane.transit_time_days.mean)
        except Exception:  # noqa: BLE001 - a distribution without a mean still draws
            transit = float("nan")
        rows.append({
            "lane_id": lane.lane_id, "origin_id": lane.origin_id,
            "destination_id": lane.destination_id, "mode": lane.mode.value,
            "packaging": lane.packaging.value, "temperature_class": _coldest(classes),
            "products": ";".join(prods), "transit_days": transit,
            "o_lat": o.latitude, "o_lon": o.longitude, "d_lat": d.latitude, "d_lon": d.longitude,
        })
    lanes = pd.DataFrame(rows, columns=[
        "lane_id", "origin_id", "destination_id", "mode", "packaging", "temperature_class",
        "products", "transit_days", "o_lat", "o_lon", "d_lat", "d_lon"])
    return sites, lanes


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def site_detail(sc: Scenario, site_id: str) -> dict[str, Any]:
    """What the Network page shows for a clicked site: its row, products, policies,
    production, capacities and lanes (each a list of plain dicts)."""
    net = sc.network
    site = net.sites.get(site_id)
    if site is None:
        raise UserError(f"No site {_shown(site_id)!r} in {sc.name}.")
    policies = [{
        "product": p, "policy": pol.policy.value,
        "reorder_point_units": _num(pol.reorder_point_units),
        "order_up_to_units": _num(pol.order_up_to_units),
        "order_quantity_units": _num(pol.order_quantity_units),
        "review_period_days": _num(pol.review_period_days),
        "days_of_supply_target": _num(pol.days_of_supply_target),
        "sources": ";".join(pol.sources),
    } for (s, p), pol in sorted(net.policies.items()) if s == site_id]
    production = [{
        "product": p, "lines": row.lines, "batch_units": net.batch_units((s, p)),
        "cycle_time_days": str(row.cycle_time_days), "qc_release_days": str(row.qc_release_days),
        "batch_failure_prob": row.batch_failure_prob,
    } for (s, p), row in sorted(net.production.items()) if s == site_id]
    demand = [{
        "product": p, "orders_per_day": _num(d.orders_per_day),
        "mean_units_per_day": net.demand_mean_rate(d), "unmet_demand": d.unmet_demand.value,
    } for (c, p), d in sorted(net.demand.items()) if c == site_id]
    capacities = {
        t.value: site.storage_capacity_units(t) for t in TemperatureClass
    }
    lanes = []
    for lane in sorted(net.lanes.values(), key=lambda lane: lane.lane_id):
        if site_id not in (lane.origin_id, lane.destination_id):
            continue
        outbound = lane.origin_id == site_id
        other = lane.destination_id if outbound else lane.origin_id
        try:
            transit = float(lane.transit_time_days.mean)
        except Exception:  # noqa: BLE001
            transit = float("nan")
        lanes.append({"lane": lane.lane_id, "direction": "out" if outbound else "in",
                      "other_site": other, "mode": lane.mode.value,
                      "packaging": lane.packaging.value, "transit_days": transit,
                      "cost_per_unit_usd": lane.cost_per_unit_usd})
    return {
        "site_id": site.site_id, "name": site.name or site.site_id, "kind": site.kind.value,
        "region": site.region, "country": site.country, "is_open": site.is_open,
        "fixed_cost_usd_per_year": site.fixed_cost_usd_per_year,
        "capacities": capacities, "policies": policies, "production": production,
        "demand": demand, "lanes": lanes,
    }


def site_kinds() -> dict[str, str]:
    """Site kind value -> readable label (from the report's legend)."""
    return {k: v[0] for k, v in KIND_STYLE.items()} | {
        k.value: k.value.replace("_", " ") for k in SiteKind if k.value not in KIND_STYLE}
