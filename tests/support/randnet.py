"""Random, valid, small supply networks for invariant testing (a hypothesis strategy).

The topology is fixed - an API supplier makes API; a drug-substance plant makes drug substance
from it; a fill-finish plant makes the finished good from that; two distribution centres and
three hospitals - and everything else is drawn: temperature class, shelf lives short enough to
expire, batch sizes, yields, QC failure, lab and line counts, changeovers, storage and lane
capacities tight enough to refuse goods, departure schedules, packaging with qualified hours,
excursion hazards and stability budgets, all five policy kinds, primary or split sourcing,
backordered or lost demand with seasonality, trend and minimum shelf life, aged initial lots,
and up to three disruptions of any kind, scheduled or random.

Every network is written as real scenario files and loaded by the planner's loader, so an
invalid draw fails loudly (it would be a bug in this generator, not a skipped example).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from supplytwin.scenario import load_scenario
from supplytwin.stochastic import parse_distribution
from tests.support.netbuild import write_table

CLASSES = ("crt", "refrigerated", "frozen")
DISRUPTION_KINDS = ("site_outage", "planned_shutdown", "capacity_loss", "lane_closure",
                    "lane_delay", "demand_surge", "qc_failure_spike", "supplier_failure",
                    "excursion_spike")
PRODUCING = ("SUP", "DSP", "FF")
LANES = {  # lane id -> (origin, destination, product carried)
    "L-SUP-DSP": ("SUP", "DSP", "API"),
    "L-DSP-FF": ("DSP", "FF", "DS"),
    "L-FF-DC1": ("FF", "DC1", "FG"),
    "L-FF-DC1-B": ("FF", "DC1", "FG"),  # a second, backup or split source for DC1
    "L-FF-DC2": ("FF", "DC2", "FG"),
    "L-DC1-C1": ("DC1", "C1", "FG"),
    "L-DC1-C2": ("DC1", "C2", "FG"),
    "L-DC2-C2": ("DC2", "C2", "FG"),  # C2 can be served from either DC
    "L-DC2-C3": ("DC2", "C3", "FG"),
}


def _maybe(draw, strategy, p_none: float = 0.5):
    return None if draw(st.floats(0, 1)) < p_none else draw(strategy)


def _dist(draw, low: float, high: float) -> str:
    kind = draw(st.sampled_from(["fixed", "uniform", "triangular", "exponential", "lognormal"]))
    a = draw(st.floats(low, high))
    b = draw(st.floats(low, high))
    lo, hi = min(a, b), max(a, b) + 0.1
    if kind == "fixed":
        return f"fixed({a:.3f})"
    if kind == "uniform":
        return f"uniform({lo:.3f}, {hi:.3f})"
    if kind == "triangular":
        return f"triangular({lo:.3f}, {(lo + hi) / 2:.3f}, {hi:.3f})"
    if kind == "exponential":
        return f"exponential(mean={max(a, 0.05):.3f})"
    return f"lognormal(mean={max(a, 0.05):.3f}, cv={draw(st.floats(0.1, 1.0)):.2f})"


def _policy(draw, site: str, product: str, sources: list[str], scale: float) -> dict[str, Any]:
    kind = draw(st.sampled_from(["s_S", "r_Q", "base_stock", "R_S", "days_of_supply"]))
    s = round(draw(st.floats(0, 3)) * scale)
    big_s = s + max(1, round(draw(st.floats(0.2, 4)) * scale))
    row: dict[str, Any] = {"site_id": site, "product_id": product, "policy": kind,
                           "sources": ";".join(sources)}
    if kind == "s_S":
        row |= {"reorder_point_units": s, "order_up_to_units": big_s}
    elif kind == "r_Q":
        row |= {"reorder_point_units": s, "order_quantity_units": big_s - s}
    elif kind == "base_stock":
        row |= {"order_up_to_units": big_s}
    elif kind == "R_S":
        row |= {"order_up_to_units": big_s, "review_period_days": draw(st.sampled_from([1, 2, 7]))}
    else:
        row |= {"days_of_supply_target": draw(st.floats(1, 30)),
                "review_period_days": draw(st.sampled_from([1, 3, 7]))}
    if len(sources) > 1 and draw(st.booleans()):
        row |= {"sourcing_rule": "split", "split_shares": f"{draw(st.integers(1, 3))};1"}
    return row


@st.composite
def random_networks(draw) -> dict[str, Any]:
    """Tables (lists of row dicts) and scenario keys of one random network."""
    tclass = draw(st.sampled_from(CLASSES))
    fg_shelf = draw(st.floats(40, 800))
    batch = {p: draw(st.integers(20, 400)) for p in ("API", "DS", "FG")}
    products = [
        {"product_id": "API", "temperature_class": "crt", "shelf_life_days": draw(st.floats(60, 900)),
         "unit_value_usd": 1, "units_per_batch": batch["API"]},
        {"product_id": "DS", "temperature_class": tclass, "shelf_life_days": draw(st.floats(60, 900)),
         "unit_value_usd": 10, "units_per_batch": batch["DS"]},
        {"product_id": "FG", "temperature_class": tclass, "shelf_life_days": fg_shelf,
         "unit_value_usd": 100, "units_per_batch": batch["FG"],
         "min_remaining_shelf_life_frac": draw(st.sampled_from([0, 0.1, 0.3, 0.6])),
         "patients_per_unit": draw(st.floats(0, 2)),
         "excursion_budget_hours": draw(st.floats(0, 100))},
    ]
    cap_col = f"capacity_{tclass}_units"
    sites = [{"site_id": s, "kind": k, "latitude": 40 + i, "longitude": 5 + i}
             for i, (s, k) in enumerate([("SUP", "supplier"), ("DSP", "drug_substance"),
                                         ("FF", "fill_finish"), ("DC1", "distribution_centre"),
                                         ("DC2", "distribution_centre"), ("C1", "customer"),
                                         ("C2", "customer"), ("C3", "customer")])]
    for site in sites[1:5]:
        site[cap_col] = _maybe(draw, st.integers(50, 3000), p_none=0.6)
    production, bom = [], []
    for site, product, inp in (("SUP", "API", None), ("DSP", "DS", "API"), ("FF", "FG", "DS")):
        production.append({
            "site_id": site, "product_id": product,
            "cycle_time_days": _dist(draw, 0.2, 4), "lines": draw(st.integers(1, 2)),
            "yield_frac": draw(st.sampled_from(["fixed(1)", "uniform(0.8, 1)"])),
            "batch_failure_prob": draw(st.sampled_from([0, 0.05, 0.3])),
            "qc_release_days": _dist(draw, 0, 5), "qc_lab_capacity": draw(st.integers(1, 3)),
            "cost_per_batch_usd": 100, "cost_per_unit_usd": 1,
        })
        if inp:
            bom.append({"site_id": site, "product_id": product, "input_product_id": inp,
                        "input_units_per_batch": draw(st.integers(1, batch[inp]))})
    lanes = []
    for lane_id, (o, d, p) in LANES.items():
        pclass = "crt" if p == "API" else tclass
        passive = pclass != "frozen" and draw(st.booleans())
        mode = draw(st.sampled_from(["road", "air", "sea", "rail", "courier"] if passive
                                    else ["road", "air", "sea", "rail"]))
        schedule = draw(st.sampled_from(["daily", "on_demand", "every:3", "weekly:mon,thu"]))
        transit = _dist(draw, 0.1, 6)
        qualified = draw(st.floats(12, 120)) if passive else None
        if passive and d.startswith("C"):
            # validate refuses a customer no lane can serve within its shipper's qualified
            # hours (supplytwin.model.feasibility); upstream lanes may still run over them
            t = parse_distribution(transit)
            qualified = max(qualified, 24 * (t.mean + 2 * math.sqrt(t.variance)) + 1)
        lanes.append({
            "lane_id": lane_id, "origin_id": o, "destination_id": d, "mode": mode,
            "transit_time_days": transit,
            "cost_per_unit_usd": 1, "cost_per_shipment_usd": 10,
            # an on_demand lane sends a vehicle per shipment: no capacity per departure
            "capacity_units_per_departure": None if schedule == "on_demand" else
            _maybe(draw, st.integers(5, 500), p_none=0.6),
            "departure_schedule": schedule,
            "packaging": "passive_refrigerated" if passive else "active",
            "qualified_hours": qualified,
            "excursion_hazard_per_day": draw(st.sampled_from([0, 0.01, 0.2])),
            "co2_kg_per_unit": 0.1,
        })
    fg_scale = draw(st.floats(5, 60))
    policies = [
        _policy(draw, "SUP", "API", ["make"], 2 * batch["API"]),
        _policy(draw, "DSP", "API", ["L-SUP-DSP"], batch["API"]),
        _policy(draw, "DSP", "DS", ["make"], batch["DS"]),
        _policy(draw, "FF", "DS", ["L-DSP-FF"], batch["DS"]),
        _policy(draw, "FF", "FG", ["make"], batch["FG"]),
        _policy(draw, "DC1", "FG", ["L-FF-DC1", "L-FF-DC1-B"], fg_scale),
        _policy(draw, "DC2", "FG", ["L-FF-DC2"], fg_scale),
    ]
    initial_stock = []
    for site, product, shelf in (("SUP", "API", products[0]["shelf_life_days"]),
                                 ("DSP", "API", products[0]["shelf_life_days"]),
                                 ("FF", "DS", products[1]["shelf_life_days"]),
                                 ("DC1", "FG", fg_shelf), ("DC2", "FG", fg_shelf)):
        for k in range(draw(st.integers(0, 2))):
            initial_stock.append({"site_id": site, "product_id": product, "lot_id": f"L{k}",
                                  "quantity_units": draw(st.integers(1, 800)),
                                  "age_days": round(draw(st.floats(0, 0.9)) * shelf, 3)})
    demand = []
    for customer in ("C1", "C2", "C3"):
        demand.append({
            "customer_id": customer, "product_id": "FG",
            "orders_per_day": draw(st.floats(0.2, 6)),
            "order_size_units": draw(st.sampled_from(["fixed(1)", "uniform(1, 6)",
                                                      "lognormal(mean=4, cv=0.5)"])),
            "unmet_demand": draw(st.sampled_from(["backorder", "lost"])),
            "seasonality_amplitude": draw(st.sampled_from([0, 0.3])),
            "seasonality_peak_day": draw(st.floats(0, 365)),
            "trend_per_year": draw(st.sampled_from([0, 0.5, -0.5])),
            "min_remaining_shelf_life_frac": _maybe(draw, st.sampled_from([0.0, 0.2, 0.5])),
        })
    disruptions = []
    for k in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(DISRUPTION_KINDS))
        row: dict[str, Any] = {"disruption_id": f"D{k}", "kind": kind}
        if kind in ("site_outage", "planned_shutdown", "supplier_failure", "qc_failure_spike"):
            row["site_id"] = draw(st.sampled_from(
                ["SUP"] if kind == "supplier_failure" else
                list(PRODUCING) if kind in ("planned_shutdown", "qc_failure_spike") else
                ["SUP", "DSP", "FF", "DC1", "DC2"]))
        if kind == "capacity_loss":
            if draw(st.booleans()):
                row["site_id"] = draw(st.sampled_from(PRODUCING))
            else:
                row["lane_id"] = draw(st.sampled_from(list(LANES)))
        if kind in ("lane_closure", "lane_delay", "excursion_spike"):
            if draw(st.booleans()):
                row["lane_id"] = draw(st.sampled_from(list(LANES)))
            else:
                row["mode"] = draw(st.sampled_from(["road", "air", "sea"]))
        if kind == "demand_surge":
            row["customer_id"] = _maybe(draw, st.sampled_from(["C1", "C2", "C3"]))
        row["magnitude"] = {
            "capacity_loss": draw(st.sampled_from([0.5, 1.0])),
            "lane_delay": draw(st.floats(1.1, 3)),
            "demand_surge": draw(st.sampled_from([0.5, 2.0, 3.0])),
            "qc_failure_spike": draw(st.sampled_from([0.5, 1.0])),
            "excursion_spike": draw(st.floats(1, 10)),
        }.get(kind, 1.0)
        if draw(st.booleans()):
            row |= {"start_day": draw(st.floats(0, 100)), "duration_days": draw(st.floats(1, 60))}
        else:
            row |= {"mtbf_days": draw(st.floats(10, 80)), "mttr_days": draw(st.floats(1, 15))}
        disruptions.append(row)
    return {
        "tables": {"products": products, "sites": sites, "production": production, "bom": bom,
                   "lanes": lanes, "policies": policies, "initial_stock": initial_stock,
                   "demand": demand, "disruptions": disruptions},
        "simulation": {"horizon_days": draw(st.sampled_from([60, 120, 200])),
                       "warmup_days": draw(st.sampled_from([0, 10, 30])),
                       "seed": draw(st.integers(0, 10_000))},
    }


def write_network(folder: Path, net: dict[str, Any]):
    """Write ``net`` as scenario files in ``folder`` and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    network = {}
    for table, rows in net["tables"].items():
        if rows:
            write_table(folder / f"{table}.csv", rows)
            network[table] = f"{table}.csv"
    doc = {"name": "random", "network": network, "simulation": net["simulation"]}
    (folder / "scenario.yaml").write_text(yaml.safe_dump(doc))
    return load_scenario(folder / "scenario.yaml")
