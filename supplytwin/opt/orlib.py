"""Beasley's OR-Library capacitated warehouse-location instances, in the project's own format.

An instance (``cap41.txt`` ... ``cap134.txt``, ``capa/b/c``) has *m* warehouses with a capacity
and a fixed cost, and *n* customers with a demand and, per warehouse, the cost of serving
**all** of the customer's demand from it; demand may be split. It becomes an ordinary
supplytwin network (CSV tables + scenario YAML, read by the ordinary loader):

* one product ``GOODS`` (controlled room temperature, unit value 0: no holding cost);
* a plant ``PLANT`` that makes it without limit or cost, and a free lane to every warehouse;
* warehouses ``W001..`` as candidate distribution centres: ``capacity_crt_units`` = capacity,
  ``fixed_cost_usd_per_year`` = fixed cost;
* customers ``C0001..`` with a demand stream of ``demand / 365`` units a day (so
  ``Network.demand_mean_rate x 365`` is the instance's demand);
* a lane from every warehouse to every customer with ``cost_per_unit_usd = cost / demand``.

Solved by :func:`~supplytwin.opt.model.build_network_design_model` with
:func:`orlib_options` (every unit delivered, storage turnover of one: throughput = capacity),
the model's optimum is the instance's optimum. ``python -m supplytwin.opt.orlib --validate DIR``
solves every instance of a folder and compares with ``capopt.txt``; ``--markdown FILE`` writes
the table into ``docs/validation.md``.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from supplytwin.opt.options import DesignOptions
from supplytwin.opt.solver import SolverSettings


@dataclass(frozen=True)
class Instance:
    name: str
    capacity: np.ndarray  # per warehouse (nan where the file says "capacity")
    fixed_cost: np.ndarray
    demand: np.ndarray  # per customer
    cost: np.ndarray  # warehouses x customers: cost of serving all of the customer's demand

    @property
    def m(self) -> int:
        return len(self.fixed_cost)

    @property
    def n(self) -> int:
        return len(self.demand)

    def with_capacity(self, capacity: float) -> Instance:
        name = f"{self.name}-{capacity:g}"
        return Instance(name, np.full(self.m, float(capacity)), self.fixed_cost, self.demand,
                        self.cost)


def read_instance(path: str | Path) -> Instance:
    path = Path(path)
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    cap = np.empty(m)
    fixed = np.empty(m)
    for i in range(m):
        c = tokens[pos]
        cap[i] = math.nan if c.lower() == "capacity" else float(c)
        fixed[i] = float(tokens[pos + 1])
        pos += 2
    demand = np.empty(n)
    cost = np.empty((m, n))
    for j in range(n):
        demand[j] = float(tokens[pos])
        cost[:, j] = [float(t) for t in tokens[pos + 1: pos + 1 + m]]
        pos += 1 + m
    if pos != len(tokens):
        raise ValueError(f"{path.name}: {len(tokens) - pos} numbers left over after the data")
    return Instance(path.stem, cap, fixed, demand, cost)


def read_optima(path: str | Path) -> dict[str, float]:
    """``capopt.txt`` -> {instance name: optimum}; capa/b/c as ``capa-8000`` etc."""
    out: dict[str, float] = {}
    current = None
    for line in Path(path).read_text().splitlines():
        mt = re.match(r"^\s*(cap\w+)?\s+([0-9.]+)\s*(?:\(capacity\s+([0-9]+)\))?\s*$", line)
        if not mt:
            continue
        name, value, capacity = mt.group(1), float(mt.group(2)), mt.group(3)
        if name:
            current = name
        if current is None:
            continue
        out[f"{current}-{capacity}" if capacity else current] = value
    return out


def orlib_options() -> DesignOptions:
    """Every unit must be delivered; a warehouse's capacity bounds its annual throughput."""
    return DesignOptions(allow_unmet=False, storage_cover_days=365.0, linking="strong",
                         lane_fixed_charges=False, allow_new_stocking=False)


def write_instance(inst: Instance, folder: str | Path) -> Path:
    """Write ``inst`` as CSV tables and ``scenario.yaml`` in ``folder``; return the YAML path."""
    if np.isnan(inst.capacity).any():
        raise ValueError(f"{inst.name}: capacities are not given; use with_capacity()")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wids = [f"W{i + 1:03d}" for i in range(inst.m)]
    cids = [f"C{j + 1:04d}" for j in range(inst.n)]
    total = float(inst.demand.sum())
    r = repr  # shortest text that reads back to the same float

    def table(name: str, header: list[str], rows) -> None:
        with (folder / f"{name}.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)

    table("products", ["product_id", "name", "temperature_class", "shelf_life_days",
                       "unit_value_usd", "units_per_batch"],
          [["GOODS", f"{inst.name} goods", "crt", 1e6, 0, r(max(total, 1.0))]])
    sites = [["PLANT", "unlimited plant", "fill_finish", 0, 0, "", 0, 0, "false", "true"]]
    for i, w in enumerate(wids):
        sites.append([w, f"warehouse {i + 1}", "distribution_centre", 0, 0,
                      r(float(inst.capacity[i])), r(float(inst.fixed_cost[i])), 0, "true", "true"])
    for j, c in enumerate(cids):
        sites.append([c, f"customer {j + 1}", "customer", 0, 0, "", 0, 0, "false", "true"])
    table("sites", ["site_id", "name", "kind", "latitude", "longitude", "capacity_crt_units",
                    "fixed_cost_usd_per_year", "handling_cost_usd_per_unit", "candidate",
                    "is_open"], sites)
    table("production", ["site_id", "product_id", "batch_size_units", "cycle_time_days", "lines"],
          [["PLANT", "GOODS", r(max(total, 1.0)), "fixed(1)", 1]])
    lanes = [[f"L-PLANT-{w}", "PLANT", w, "road", "fixed(1)", 0, "on_demand", "ambient"]
             for w in wids]
    served = [j for j in range(inst.n) if inst.demand[j] > 0]
    for i, w in enumerate(wids):
        for j in served:
            lanes.append([f"L-{w}-{cids[j]}", w, cids[j], "road", "fixed(1)",
                          r(float(inst.cost[i, j] / inst.demand[j])), "on_demand", "ambient"])
    table("lanes", ["lane_id", "origin_id", "destination_id", "mode", "transit_time_days",
                    "cost_per_unit_usd", "departure_schedule", "packaging"], lanes)
    pol = [["PLANT", "GOODS", "s_S", 0, 0, "make"]]
    pol += [[w, "GOODS", "s_S", 0, 0, f"L-PLANT-{w}"] for w in wids]
    table("policies", ["site_id", "product_id", "policy", "reorder_point_units",
                       "order_up_to_units", "sources"], pol)
    table("demand", ["customer_id", "product_id", "orders_per_day", "order_size_units",
                     "unmet_demand"],
          [[cids[j], "GOODS", r(float(inst.demand[j]) / 365.0), "fixed(1)", "lost"]
           for j in served])
    doc = {
        "name": inst.name,
        "description": f"OR-Library capacitated warehouse location instance {inst.name} "
                       f"({inst.m} warehouses x {inst.n} customers), Beasley (1988).",
        "network": {t: f"{t}.csv" for t in ("products", "sites", "production", "lanes",
                                             "policies", "demand")},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class ValidationRow:
    name: str
    m: int
    n: int
    published: float
    objective: float
    rel_error: float
    status: str
    gap: float
    load_s: float
    build_s: float
    transfer_s: float
    solve_s: float


def solve_instance(inst: Instance, work: Path, settings: SolverSettings | None = None
                   ) -> tuple[float, dict]:
    """Write, load, extract, build and solve ``inst``; return (objective, stats)."""
    from supplytwin.opt import optimise
    from supplytwin.scenario import load_scenario

    t0 = time.perf_counter()
    sc = load_scenario(write_instance(inst, work / inst.name))
    load_s = time.perf_counter() - t0
    settings = settings or SolverSettings(mip_gap=1e-9, time_limit_s=600.0)
    res = optimise(sc, orlib_options(), settings, shadow_prices=False, explain=False)
    return res.objective, {**res.stats, "load_s": load_s}


def validate(folder: str | Path, names: list[str] | None = None, *, include_large: bool = False,
             settings: SolverSettings | None = None, work: Path | None = None,
             progress=None) -> list[ValidationRow]:
    """Solve the instances of ``folder`` (default every cap41..cap134; with ``include_large``
    also capa/b/c at the four capacities of capopt.txt) and compare with capopt.txt."""
    import tempfile

    folder = Path(folder)
    optima = read_optima(folder / "capopt.txt")
    if names is None:
        names = sorted((k for k in optima if re.fullmatch(r"cap\d+", k)),
                       key=lambda k: int(k[3:]))
        if include_large:
            names += [k for k in optima if "-" in k]
    rows: list[ValidationRow] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(work or tmp)
        for name in names:
            stem, _, capacity = name.partition("-")
            inst = read_instance(folder / f"{stem}.txt")
            if capacity:
                inst = inst.with_capacity(float(capacity))
            obj, st = solve_instance(inst, base, settings)
            pub = optima[name]
            row = ValidationRow(name, inst.m, inst.n, pub, obj, abs(obj - pub) / abs(pub),
                                st["status"], st["gap"], st["load_s"], st["build_s"],
                                st["transfer_s"], st["solve_s"])
            rows.append(row)
            if progress:
                progress(row)
    return rows


#: what is known about capa/b/c (100 x 1000), which the default run leaves out
LARGE_NOTE = (
    "The large instances capa, capb and capc (100 warehouses x 1000 customers, four capacities "
    "each) are not part of this run (`--large` adds them). One was tried: on capa with capacity "
    "8000 (101,302 rows, 401,602 nonzeros with the strong linking rows) HiGHS 1.16 on 2 cores "
    "spends about 60 s on the root LP, finds 19,240,822.449 - the published optimum, relative "
    "error 2e-11 - after 340 s, and stops at the 600 s limit with the bound 1.96 % below it "
    "(optimality not proven)."
)

MARK_START = "<!-- orlib-validation:start -->"
MARK_END = "<!-- orlib-validation:end -->"


def markdown(rows: list[ValidationRow], command: str) -> str:
    worst = max(r.rel_error for r in rows)
    lines = [
        MARK_START,
        "## Network design: OR-Library capacitated warehouse location",
        "",
        f"<!-- generated by `{command}`; do not edit by hand -->",
        "",
        ("Beasley's instances (J.E. Beasley, *An algorithm for solving large capacitated "
        "warehouse location problems*, EJOR 33 (1988) 314-325; OR-Library) are written as "
        "ordinary supplytwin networks (`supplytwin.opt.orlib.write_instance`: CSV tables + "
        "scenario YAML), loaded by the scenario loader, extracted by `supplytwin.opt.data`, "
        "built by `build_network_design_model` and solved by HiGHS (relative MIP gap 1e-9). "
        "The optimum is compared with the published value of `capopt.txt`."),
        "",
        (f"**{len(rows)} instances, largest relative error {worst:.1e}** "
        f"(the tests require <= 1e-6 on cap41, cap61, cap71, cap101, cap131)."),
        "",
        ("| instance | warehouses x customers | published optimum | supplytwin | relative error "
        "| status | load s | build s | transfer s | solve s |"),
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r.name} | {r.m} x {r.n} | {r.published:,.3f} | {r.objective:,.3f} | "
                     f"{r.rel_error:.1e} | {r.status} | {r.load_s:.2f} | {r.build_s:.3f} | "
                     f"{r.transfer_s:.3f} | {r.solve_s:.2f} |")
    total = sum(r.load_s + r.build_s + r.transfer_s + r.solve_s for r in rows)
    lines += ["", f"Total wall time {total:.1f} s on the machine that generated this file.", ""]
    if not any("-" in r.name for r in rows):
        lines += [LARGE_NOTE, ""]
    lines.append(MARK_END)
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, section: str) -> None:
    """Replace the OR-Library section of ``path`` (between its markers), or append it."""
    from supplytwin.store.atomic import write_text_atomic

    text = path.read_text(encoding="utf-8") if path.exists() else "# Validation\n\n"
    if MARK_START in text and MARK_END in text:
        head, _, rest = text.partition(MARK_START)
        _, _, tail = rest.partition(MARK_END)
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text_atomic(path, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m supplytwin.opt.orlib",
                                 description="Validate the network-design model on OR-Library "
                                             "capacitated warehouse-location instances.")
    ap.add_argument("--validate", metavar="DIR", required=True,
                    help="folder with cap*.txt and capopt.txt")
    ap.add_argument("--only", nargs="*", help="instance names (default: cap41..cap134)")
    ap.add_argument("--large", action="store_true", help="also capa/b/c (4 capacities each)")
    ap.add_argument("--markdown", metavar="FILE", help="write the results section into FILE")
    ap.add_argument("--time-limit", type=float, default=600.0)
    args = ap.parse_args(argv)

    def show(r: ValidationRow) -> None:
        print(f"{r.name:>12} {r.m:>4} x {r.n:<5} published {r.published:>16,.3f}  "
              f"got {r.objective:>16,.3f}  rel.err {r.rel_error:8.1e}  {r.status:<8} "
              f"solve {r.solve_s:7.2f} s", flush=True)

    rows = validate(args.validate, args.only, include_large=args.large,
                    settings=SolverSettings(mip_gap=1e-9, time_limit_s=args.time_limit),
                    progress=show)
    worst = max(r.rel_error for r in rows)
    print(f"{len(rows)} instances, largest relative error {worst:.2e}")
    if args.markdown:
        cmd = "python -m supplytwin.opt.orlib --validate DIR" + (" --large" if args.large else "") \
            + f" --markdown {args.markdown}"
        write_markdown(Path(args.markdown), markdown(rows, cmd))
        print(f"written to {args.markdown}")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
