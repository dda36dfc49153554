"""Small random networks for the network-design tests, written as real scenario files.

Two plants (the second optionally a candidate) make a room-temperature product (P-CRT) and a refrigerated one (P-COLD); candidate
distribution centres with random fixed costs and storage capacities serve customers over road
(reefer, carries both) and courier (ambient, carries only P-CRT) lanes. Capacities are drawn so
that some of them bind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from supplytwin.scenario import load_scenario
from tests.support.netbuild import write_table


def small_network(tmp: Path, seed: int = 1, n_dc: int = 4, n_cust: int = 6, *,
                  open_now: int = 2, plant_batches: float | None = None,
                  fixed_size: bool = True, horizon_days: float = 200.0,
                  warmup_days: float = 30.0, extra_lanes: list[dict] | None = None,
                  demand_scale: float = 1.0, plant_b_candidate: bool = False,
                  lane_overrides: dict[str, dict] | None = None,
                  no_policy_dcs: tuple[str, ...] = ()) -> Path:
    """Write a random network in ``tmp`` and return its scenario file.

    ``lane_overrides`` changes columns of lanes by id; DCs in ``no_policy_dcs`` get no policy
    rows (a redesign that uses them must add rows)."""
    rng = np.random.default_rng(seed)
    tmp.mkdir(parents=True, exist_ok=True)
    products = [
        {"product_id": "P-CRT", "temperature_class": "crt", "shelf_life_days": 1000,
         "unit_value_usd": 40, "units_per_batch": 500},
        {"product_id": "P-COLD", "temperature_class": "refrigerated", "shelf_life_days": 1000,
         "unit_value_usd": 150, "units_per_batch": 400},
    ]
    write_table(tmp / "products.csv", products)
    plants = ["PL-A", "PL-B"]
    dcs = [f"DC{i + 1}" for i in range(n_dc)]
    custs = [f"C{j + 1}" for j in range(n_cust)]
    sites = [{"site_id": p, "kind": "fill_finish", "latitude": 50, "longitude": 5 + i,
              "fixed_cost_usd_per_year": 1e6} for i, p in enumerate(plants)]
    if plant_b_candidate:  # a second plant the redesign may close (it costs more to run)
        sites[1].update({"candidate": "true", "fixed_cost_usd_per_year": 3e5})
    for i, d in enumerate(dcs):
        sites.append({"site_id": d, "kind": "distribution_centre", "latitude": 48,
                      "longitude": i, "capacity_crt_units": float(rng.integers(150, 400)),
                      "capacity_refrigerated_units": float(rng.integers(60, 200)),
                      "fixed_cost_usd_per_year": float(rng.integers(20, 120)) * 1000,
                      "handling_cost_usd_per_unit": round(float(rng.uniform(0.1, 1.0)), 2),
                      "candidate": "true", "is_open": "true" if i < open_now else "false"})
    for j, c in enumerate(custs):
        sites.append({"site_id": c, "kind": "customer", "latitude": 45, "longitude": j})
    write_table(tmp / "sites.csv", sites)
    prod = []
    for i, p in enumerate(plants):
        for pr in products:
            row = {"site_id": p, "product_id": pr["product_id"], "cycle_time_days": "fixed(1)",
                   "lines": 1, "cost_per_batch_usd": 2000,
                   "cost_per_unit_usd": round(float(rng.uniform(2, 8)), 2)}
            if plant_batches is not None:
                row["capacity_batches_per_year"] = plant_batches
            prod.append(row)
    write_table(tmp / "production.csv", prod)
    lanes = []
    for p in plants:
        for d in dcs:
            lanes.append({"lane_id": f"L-{p}-{d}", "origin_id": p, "destination_id": d,
                          "mode": "road", "transit_time_days": "fixed(1)",
                          "cost_per_unit_usd": round(float(rng.uniform(0.5, 3)), 2),
                          "departure_schedule": "on_demand", "packaging": "reefer",
                          "co2_kg_per_unit": 0.2})
    for d in dcs:
        for c in custs:
            lanes.append({"lane_id": f"L-{d}-{c}-RD", "origin_id": d, "destination_id": c,
                          "mode": "road", "transit_time_days": "fixed(1)",
                          "cost_per_unit_usd": round(float(rng.uniform(0.5, 6)), 2),
                          "capacity_units_per_departure": float(rng.integers(8, 30)),
                          "departure_schedule": "daily", "packaging": "reefer",
                          "co2_kg_per_unit": round(float(rng.uniform(0.05, 0.5)), 3)})
            lanes.append({"lane_id": f"L-{d}-{c}-CR", "origin_id": d, "destination_id": c,
                          "mode": "courier", "transit_time_days": "fixed(1)",
                          "cost_per_unit_usd": round(float(rng.uniform(2, 9)), 2),
                          "cost_per_shipment_usd": 10, "departure_schedule": "on_demand",
                          "packaging": "ambient", "co2_kg_per_unit": 0.8})
    lanes += extra_lanes or []
    for lane in lanes:
        lane.update((lane_overrides or {}).get(lane["lane_id"], {}))
    write_table(tmp / "lanes.csv", lanes)
    pol = [{"site_id": p, "product_id": pr["product_id"], "policy": "s_S",
            "reorder_point_units": 600, "order_up_to_units": 1200, "sources": "make"}
           for p in plants for pr in products]
    for d in dcs:
        if d in no_policy_dcs:
            continue
        for pr in products:
            pol.append({"site_id": d, "product_id": pr["product_id"], "policy": "base_stock",
                        "order_up_to_units": 80, "sources": f"L-PL-A-{d};L-PL-B-{d}"})
    write_table(tmp / "policies.csv", pol)
    stock = [{"site_id": p, "product_id": pr["product_id"], "lot_id": f"{p}-{pr['product_id']}",
              "quantity_units": 1200} for p in plants for pr in products]
    write_table(tmp / "initial_stock.csv", stock)
    demand = []
    for c in custs:
        for pr in products:
            size = int(rng.integers(2, 6))
            demand.append({"customer_id": c, "product_id": pr["product_id"],
                           "orders_per_day": round(float(rng.uniform(0.5, 2.0)) * demand_scale, 3),
                           "order_size_units": f"fixed({size})" if fixed_size
                           else f"gamma(mean={size}, cv=0.5)",
                           "unmet_demand": "backorder"})
    write_table(tmp / "demand.csv", demand)
    doc = {
        "name": f"small-{seed}",
        "network": {t: f"{t}.csv" for t in ("products", "sites", "production", "lanes",
                                             "policies", "initial_stock", "demand")},
        "simulation": {"horizon_days": horizon_days, "warmup_days": warmup_days, "seed": seed},
        "cold_chain": {"seasonal_amplitude": 0},
        "costs": {"lost_sale_penalty_usd_per_unit": 200},
    }
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    load_scenario(path)  # fail here, not in the test, if the generator is wrong
    return path
