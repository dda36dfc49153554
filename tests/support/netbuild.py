"""Build small single-purpose networks as real scenario files for the validation tests.

The tests go through the same loader as a planner's files, so a validation result speaks for
the whole path from CSV to KPI.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from supplytwin.scenario import load_scenario


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})


def single_stage(tmp: Path, *, demand_rate: float, lead_time: str, policy: dict[str, Any],
                 unmet: str = "backorder", horizon_days: float, warmup_days: float = 50.0,
                 seed: int = 1, extra_demand: dict[str, Any] | None = None,
                 initial_dc_units: float = 0.0, product: dict[str, Any] | None = None,
                 upstream_units: float = 1e9, initial_lots: list[dict[str, Any]] | None = None,
                 production: dict[str, Any] | None = None,
                 external_supplier: dict[str, Any] | None = None, schedule: str = "on_demand",
                 site_columns: dict[str, dict[str, Any]] | None = None):
    """A supplier with (practically) unlimited stock -> a DC with ``policy`` -> one customer.

    With ``external_supplier`` (its supply_* columns, possibly empty) the supplier is a vendor
    of kind external_supplier instead: no stock, production or policy row of its own.
    ``schedule`` is the departure schedule of the supplier-to-DC lane; ``site_columns`` adds
    columns to sites by id (``{"DC": {"handling_capacity_units_per_day": 4}}``).

    The DC replenishes over an ``on_demand`` lane with transit ``lead_time``; customer orders
    are single units arriving as a Poisson process at ``demand_rate`` per day, served from the
    DC's stock (the DC-to-customer leg does not affect fill rates).
    """
    prod = {"product_id": "P1", "name": "test", "temperature_class": "crt",
            "shelf_life_days": 1e7, "unit_value_usd": 1, "units_per_batch": 1}
    prod.update(product or {})
    write_table(tmp / "products.csv", [prod])
    up = {"site_id": "UP", "kind": "fill_finish", "latitude": 50, "longitude": 8}
    if external_supplier is not None:
        up = {**up, "kind": "external_supplier", **external_supplier}
    sites = [
        up,
        {"site_id": "DC", "kind": "distribution_centre", "latitude": 51, "longitude": 7},
        {"site_id": "C1", "kind": "customer", "latitude": 52, "longitude": 13},
    ]
    for site in sites:
        site.update((site_columns or {}).get(site["site_id"], {}))
    write_table(tmp / "sites.csv", sites)
    prow = {"site_id": "UP", "product_id": "P1", "cycle_time_days": "fixed(1)"}
    prow.update(production or {})
    if external_supplier is None:
        write_table(tmp / "production.csv", [prow])
    else:
        (tmp / "production.csv").write_text("site_id,product_id,cycle_time_days\n")
    write_table(tmp / "lanes.csv", [
        {"lane_id": "L-UP-DC", "origin_id": "UP", "destination_id": "DC", "mode": "road",
         "transit_time_days": lead_time, "departure_schedule": schedule, "packaging": "ambient"},
        {"lane_id": "L-DC-C1", "origin_id": "DC", "destination_id": "C1", "mode": "road",
         "transit_time_days": "fixed(1)", "departure_schedule": "on_demand", "packaging": "ambient"},
    ])
    policies = [{"site_id": "DC", "product_id": "P1", "sources": "L-UP-DC", **policy}]
    stock = []
    if external_supplier is None:
        policies.insert(0, {"site_id": "UP", "product_id": "P1", "policy": "s_S",
                            "reorder_point_units": 0, "order_up_to_units": 0, "sources": "make"})
        stock.append({"site_id": "UP", "product_id": "P1", "lot_id": "BIG",
                      "quantity_units": upstream_units})
    write_table(tmp / "policies.csv", policies)
    if initial_dc_units:
        stock.append({"site_id": "DC", "product_id": "P1", "lot_id": "DC0",
                      "quantity_units": initial_dc_units})
    stock += initial_lots or []
    if stock:
        write_table(tmp / "initial_stock.csv", stock)
    else:
        (tmp / "initial_stock.csv").write_text("site_id,product_id,lot_id,quantity_units\n")
    d = {"customer_id": "C1", "product_id": "P1", "orders_per_day": demand_rate,
         "order_size_units": "fixed(1)", "unmet_demand": unmet}
    d.update(extra_demand or {})
    write_table(tmp / "demand.csv", [d])
    doc = {
        "name": "validation",
        "network": {t: f"{t}.csv" for t in ("products", "sites", "production", "lanes",
                                             "policies", "initial_stock", "demand")},
        "simulation": {"horizon_days": horizon_days, "warmup_days": warmup_days, "seed": seed},
        "cold_chain": {"seasonal_amplitude": 0},
    }
    (tmp / "scenario.yaml").write_text(yaml.safe_dump(doc))
    return load_scenario(tmp / "scenario.yaml")
