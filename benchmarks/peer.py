"""supplytwin against SupplyNetPy, the closest open-source peer, on one reference case.

The case, built identically in both tools: one stock point fed by an unlimited source; Poisson
demand of 25 orders a day, one unit each; continuous-review (s,S) = (169,170); deterministic
lead time 6 days; lost sales; 100 warm-up days then 2,000 measured days. Customer deliveries
take no time in either tool.

With unit orders and S = s + 1 the policy is a base stock of 170 under lost sales, so the
stock point is an Erlang loss system with 170 servers and offered load 25 x 6 = 150: the fill
rate is 1 - ErlangB(170, 150) = 0.99104. Both tools must meet it within their confidence
interval (95 %, Student t over the replications), or the speed comparison would mean nothing.

Each replication runs in a fresh process (so peak memory is the process's own), one tool after
the other, alternating which goes first, over several rounds; the figures reported are the
best and the median per tool and the ratio of the medians (supplytwin / SupplyNetPy). Only the
simulation is timed: building the model, the event loop and the end-of-run results; not the
imports (for supplytwin also those ``simulate`` makes on first use: pandas and the result
modules), and for supplytwin not reading the scenario files (read once per experiment). The
peer runs with ``logging=False`` on every node, its fastest setting.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ORDERS_PER_DAY = 25.0
REORDER_POINT_UNITS = 169
ORDER_UP_TO_UNITS = 170
LEAD_TIME_DAYS = 6.0
WARMUP_DAYS = 100.0
MEASURED_DAYS = 2_000.0
HORIZON_DAYS = WARMUP_DAYS + MEASURED_DAYS


def theory_fill_rate() -> float:
    from supplytwin.analytic.queues import erlang_b

    return 1.0 - erlang_b(ORDER_UP_TO_UNITS, ORDERS_PER_DAY * LEAD_TIME_DAYS)


def _write_csv(path: Path, rows: list[dict]) -> None:
    import csv

    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def reference_scenario(folder: Path, orders_per_day: float = ORDERS_PER_DAY,
                       horizon_days: float = HORIZON_DAYS, copies: int = 1):
    """The reference case as supplytwin scenario files in ``folder``, loaded.

    ``copies`` > 1 repeats the whole network that many times, side by side and independent
    (the scale benchmark). The unlimited source is a site holding 10^9 units (the most a scenario
    may hold), which the
    6-day lead time of a few thousand days cannot dent."""
    from supplytwin.scenario import load_scenario

    sites, lanes, policies, stock, demand = [], [], [], [], []
    for k in range(copies):
        up, dc, cu = f"UP{k}", f"DC{k}", f"C{k}"
        sites += [{"site_id": up, "kind": "fill_finish", "latitude": 50, "longitude": 8},
                  {"site_id": dc, "kind": "distribution_centre", "latitude": 51, "longitude": 7},
                  {"site_id": cu, "kind": "customer", "latitude": 52, "longitude": 13}]
        lanes += [{"lane_id": f"L-{up}-{dc}", "origin_id": up, "destination_id": dc,
                   "mode": "road", "transit_time_days": f"fixed({LEAD_TIME_DAYS:g})",
                   "departure_schedule": "on_demand", "packaging": "ambient"},
                  {"lane_id": f"L-{dc}-{cu}", "origin_id": dc, "destination_id": cu,
                   "mode": "road", "transit_time_days": "fixed(0)",
                   "departure_schedule": "on_demand", "packaging": "ambient"}]
        policies += [{"site_id": up, "product_id": "P1", "policy": "s_S",
                      "reorder_point_units": 0, "order_up_to_units": 0, "sources": "make",
                      "order_quantity_units": ""},
                     {"site_id": dc, "product_id": "P1", "policy": "s_S",
                      "reorder_point_units": REORDER_POINT_UNITS,
                      "order_up_to_units": ORDER_UP_TO_UNITS, "sources": f"L-{up}-{dc}",
                      "order_quantity_units": ""}]
        stock += [{"site_id": up, "product_id": "P1", "lot_id": f"SRC{k}",
                   "quantity_units": 1e9},
                  {"site_id": dc, "product_id": "P1", "lot_id": f"DC{k}-0",
                   "quantity_units": ORDER_UP_TO_UNITS}]
        demand += [{"customer_id": cu, "product_id": "P1", "orders_per_day": orders_per_day,
                    "order_size_units": "fixed(1)", "unmet_demand": "lost"}]
    _write_csv(folder / "products.csv", [{
        "product_id": "P1", "name": "reference", "temperature_class": "crt",
        "shelf_life_days": 1e7, "unit_value_usd": 1, "units_per_batch": 1}])
    _write_csv(folder / "sites.csv", sites)
    _write_csv(folder / "production.csv", [{"site_id": f"UP{k}", "product_id": "P1",
                                            "cycle_time_days": "fixed(1)"}
                                           for k in range(copies)])
    _write_csv(folder / "lanes.csv", lanes)
    _write_csv(folder / "policies.csv", policies)
    _write_csv(folder / "initial_stock.csv", stock)
    _write_csv(folder / "demand.csv", demand)
    import yaml

    doc = {"name": "peer-reference",
           "network": {t: f"{t}.csv" for t in ("products", "sites", "production", "lanes",
                                                "policies", "initial_stock", "demand")},
           "simulation": {"horizon_days": horizon_days, "warmup_days": WARMUP_DAYS, "seed": 1},
           "cold_chain": {"seasonal_amplitude": 0}}
    (folder / "scenario.yaml").write_text(yaml.safe_dump(doc))
    return load_scenario(folder / "scenario.yaml")


def run_supplytwin(seed: int) -> dict:
    import time

    # the modules simulate() imports on first use (pandas for the result tables among them)
    # are imports, not simulation: loaded before the clock starts, as the peer's are
    import supplytwin.sim.budget
    import supplytwin.sim.kpis
    import supplytwin.sim.mass_balance
    import supplytwin.sim.result  # noqa: F401
    from supplytwin.sim import simulate

    with tempfile.TemporaryDirectory() as tmp:
        scenario = reference_scenario(Path(tmp))
        started, cpu = time.perf_counter(), time.process_time()
        r = simulate(scenario, seed)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    orders = r.kpis_by_product["demand_units"].sum()  # unit orders: units = orders
    return {"seconds": seconds, "cpu_s": cpu_s, "fill_rate": r.kpis["fill_rate"],
            "events": r.events_processed, "orders": float(orders)}


def run_peer(seed: int) -> dict:
    import random
    import time

    import simpy
    import SupplyNetPy.Components as scm

    started, cpu = time.perf_counter(), time.process_time()
    env = simpy.Environment()
    rng = random.Random(seed)
    source = scm.Supplier(env=env, ID="S1", name="source", node_type="infinite_supplier",
                          logging=False)
    dc = scm.InventoryNode(env=env, ID="D1", name="stock point", node_type="distributor",
                           capacity=10**9, initial_level=ORDER_UP_TO_UNITS,
                           inventory_holding_cost=0.0, replenishment_policy=scm.SSReplenishment,
                           policy_param={"s": REORDER_POINT_UNITS, "S": ORDER_UP_TO_UNITS},
                           product_sell_price=1.0, product_buy_price=0.0, logging=False)
    scm.Link(env=env, ID="L1", source=source, sink=dc, cost=0, lead_time=lambda: LEAD_TIME_DAYS)
    scm.Demand(env=env, ID="C1", name="customers",
               order_arrival_model=lambda: rng.expovariate(ORDERS_PER_DAY),
               order_quantity_model=lambda: 1, demand_node=dc, logging=False)
    env.run(until=WARMUP_DAYS)
    served0, lost0 = dc.stats.demand_fulfilled[1], dc.stats.lost_sales[1]
    env.run(until=HORIZON_DAYS)
    served = dc.stats.demand_fulfilled[1] - served0
    lost = dc.stats.lost_sales[1] - lost0
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    # demand_fulfilled counts orders shipped in full; lost_sales the orders turned away
    return {"seconds": seconds, "cpu_s": cpu_s, "fill_rate": served / (served + lost),
            "events": _events(env), "orders": float(dc.stats.demand_fulfilled[0]
                                                     + dc.stats.lost_sales[0])}


def _events(env) -> int:
    text = repr(getattr(env, "_eid", "count(0)"))
    return int(text[text.index("(") + 1:text.index(")")])


def _child(tool: str, seed: int) -> None:
    import resource

    out = (run_supplytwin if tool == "supplytwin" else run_peer)(seed)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:  # VmHWM starts afresh at exec; ru_maxrss can carry the peak of a big forking parent
        with open("/proc/self/status") as fh:
            out["peak_rss_mib"] = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        pass
    print(json.dumps(out))


def one(tool: str, seed: int) -> dict:
    """One replication of ``tool`` in a fresh process."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.peer", "--child", tool, str(seed)],
                          capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def t_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    from scipy import stats

    mean = statistics.fmean(values)
    half = (stats.t.ppf(0.5 + confidence / 2, len(values) - 1)
            * statistics.stdev(values) / len(values) ** 0.5)
    return mean, mean - half, mean + half


def measure(rounds: int = 5) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"supplytwin": [], "SupplyNetPy": []}
    for i in range(rounds):
        order = ["supplytwin", "SupplyNetPy"] if i % 2 == 0 else ["SupplyNetPy", "supplytwin"]
        for tool in order:
            runs[tool].append(one(tool, seed=1000 + i))
    return runs


def report(runs: dict[str, list[dict]]) -> list[str]:
    theory = theory_fill_rate()
    lines = [
        (f"Reference case: (s,S)=({REORDER_POINT_UNITS},{ORDER_UP_TO_UNITS}), "
         f"{ORDERS_PER_DAY:g} unit orders/day, lead time {LEAD_TIME_DAYS:g} d, lost sales, "
         f"{WARMUP_DAYS:g} + {MEASURED_DAYS:g} days; {len(runs['supplytwin'])} interleaved "
         "rounds, one fresh process per replication"),
        (f"{'tool':<12} {'best s':>7} {'median s':>9} {'median CPU s':>13} "
         f"{'fill rate (95 % CI)':>31} {'events/order':>13} {'peak MiB':>9}"),
    ]
    wall, cpu, best = {}, {}, {}
    for tool, rs in runs.items():
        wall[tool] = statistics.median(r["seconds"] for r in rs)
        cpu[tool] = statistics.median(r["cpu_s"] for r in rs)
        best[tool] = min(r["seconds"] for r in rs)
        mean, lo, hi = t_interval([r["fill_rate"] for r in rs])
        ok = "ok" if lo <= theory <= hi else "MISSES THEORY"
        ev = statistics.fmean(r["events"] / r["orders"] for r in rs)
        peak = max(r["peak_rss_mib"] for r in rs)
        lines.append(f"{tool:<12} {best[tool]:>7.2f} {wall[tool]:>9.2f} {cpu[tool]:>13.2f} "
                     f"{mean:.5f} [{lo:.5f}, {hi:.5f}] {ok:>2} {ev:>11.1f} {peak:>9.0f}")
    lines.append(f"theory 1 - ErlangB({ORDER_UP_TO_UNITS}, {ORDERS_PER_DAY * LEAD_TIME_DAYS:g}) "
                 f"= {theory:.5f}")
    ratio = wall["supplytwin"] / wall["SupplyNetPy"]
    lines.append(
        f"supplytwin / SupplyNetPy time: {ratio:.2f}x (median wall), "
        f"{cpu['supplytwin'] / cpu['SupplyNetPy']:.2f}x (median CPU), "
        f"{best['supplytwin'] / best['SupplyNetPy']:.2f}x (best wall); "
        f"target <= 0.25x: {'met' if ratio <= 0.25 else 'not met'}")
    return lines


def main() -> None:
    print("== supplytwin vs SupplyNetPy (peer.py) ==", flush=True)
    try:
        import SupplyNetPy  # noqa: F401
    except ImportError:
        print("SupplyNetPy is not installed: pip install -e '.[bench]' (make bench does)")
        return
    for line in report(measure()):
        print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
