"""Network-design speed: the Pyomo model at growing sizes against the same model built directly
with highspy, and the bundled network to a 0.1 % gap.

For each size (candidate distribution centres x customers, three products, two plants) the
instance is generated as network objects (:class:`supplytwin.model.Network`), extracted once,
and then:

* **pyomo build**: :func:`supplytwin.opt.build_network_design_model` (data -> ConcreteModel);
* **transfer**: Pyomo model -> HiGHS (``supplytwin.opt.solver``'s direct compile + passModel);
* **HiGHS solve**: ``Highs.run`` to a 0.1 % gap (time limit per size);
* **highspy arrays**: the same rows assembled with numpy and passed with ``Highs.passModel``
  (the fastest a Python program can hand this model to HiGHS);
* **highspy modelling API**: the same rows built one by one with highspy's own expressions
  (``addVariables`` / ``addConstr``), the like-for-like alternative to an algebraic layer.

Both direct builds are checked to give HiGHS the same model (same LP optimum as the Pyomo
model). Targets of the issue: outside-solver time (build + transfer) at most 2x a direct
highspy build, and a small share of the total at the largest size; the bundled network
solves to 0.1 % well within a minute.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SIZES = [(20, 200), (50, 500), (100, 1000)]
PRODUCTS = 3
TIME_LIMITS = {20: 60.0, 50: 120.0, 100: 240.0}


# ---------------------------------------------------------------- instances ---------------------
def make_network(n_dc: int, n_cust: int, seed: int = 7):
    """Two plants, ``n_dc`` candidate DCs, ``n_cust`` customers on a 1000 x 1000 km square,
    three products (two at room temperature, one refrigerated); transport cost by distance."""
    from supplytwin.model import (
        DemandRow,
        LaneRow,
        Network,
        PolicyRow,
        ProductionRow,
        ProductRow,
        SiteRow,
    )

    rng = np.random.default_rng(seed)
    products = {
        f"P{k}": ProductRow.model_validate({
            "product_id": f"P{k}", "temperature_class": "refrigerated" if k == 2 else "crt",
            "shelf_life_days": 1000, "unit_value_usd": [40, 90, 200][k % 3],
            "units_per_batch": 1e6})
        for k in range(PRODUCTS)}
    plants = ["PL1", "PL2"]
    dcs = [f"DC{i:03d}" for i in range(n_dc)]
    custs = [f"C{j:04d}" for j in range(n_cust)]
    xy_pl = rng.uniform(0, 1000, (2, 2))
    xy_dc = rng.uniform(0, 1000, (n_dc, 2))
    xy_c = rng.uniform(0, 1000, (n_cust, 2))
    rate = rng.uniform(0.5, 3.0, (n_cust, PRODUCTS))
    total_per_day = rate.sum() * 5
    sites = {}
    for i, p in enumerate(plants):
        sites[p] = SiteRow.model_validate({"site_id": p, "kind": "fill_finish", "latitude": 0,
                                           "longitude": 0, "fixed_cost_usd_per_year": 0})
    for i, d in enumerate(dcs):
        cap = float(rng.uniform(1.5, 4.0) * total_per_day * 14 / n_dc)
        sites[d] = SiteRow.model_validate({
            "site_id": d, "kind": "distribution_centre", "latitude": 0, "longitude": 0,
            "capacity_crt_units": round(cap), "capacity_refrigerated_units": round(cap / 3),
            "fixed_cost_usd_per_year": round(float(rng.uniform(2e5, 6e5)) * 1000 / n_cust * 10),
            "handling_cost_usd_per_unit": 0.5, "candidate": True, "is_open": True})
    for j, c in enumerate(custs):
        sites[c] = SiteRow.model_validate({"site_id": c, "kind": "customer", "latitude": 0,
                                           "longitude": 0})
    production = {(p, k): ProductionRow.model_validate({
        "site_id": p, "product_id": k, "cycle_time_days": "fixed(1)", "cost_per_unit_usd": 5})
        for p in plants for k in products}
    lanes = {}
    for a, p in enumerate(plants):
        for i, d in enumerate(dcs):
            dist = float(np.hypot(*(xy_pl[a] - xy_dc[i])))
            lanes[f"L-{p}-{d}"] = LaneRow.model_validate({
                "lane_id": f"L-{p}-{d}", "origin_id": p, "destination_id": d, "mode": "road",
                "transit_time_days": "fixed(1)", "cost_per_unit_usd": round(0.002 * dist, 4),
                "departure_schedule": "on_demand", "packaging": "reefer"})
    dist = np.hypot(xy_dc[:, None, 0] - xy_c[None, :, 0], xy_dc[:, None, 1] - xy_c[None, :, 1])
    for i, d in enumerate(dcs):
        for j, c in enumerate(custs):
            lid = f"L-{d}-{c}"
            lanes[lid] = LaneRow.model_validate({
                "lane_id": lid, "origin_id": d, "destination_id": c, "mode": "road",
                "transit_time_days": "fixed(1)", "cost_per_unit_usd": round(0.01 * dist[i, j], 4),
                "departure_schedule": "on_demand", "packaging": "reefer"})
    policies = {(p, k): PolicyRow.model_validate({
        "site_id": p, "product_id": k, "policy": "base_stock", "order_up_to_units": 0,
        "sources": "make"}) for p in plants for k in products}
    for d in dcs:
        for k in products:
            policies[(d, k)] = PolicyRow.model_validate({
                "site_id": d, "product_id": k, "policy": "base_stock", "order_up_to_units": 0,
                "sources": ";".join(f"L-{p}-{d}" for p in plants)})
    demand = {(c, f"P{k}"): DemandRow.model_validate({
        "customer_id": c, "product_id": f"P{k}", "orders_per_day": round(float(rate[j, k]), 4),
        "order_size_units": "fixed(5)"})
        for j, c in enumerate(custs) for k in range(PRODUCTS)}
    return Network(products=products, sites=sites, production=production, bom={}, lanes=lanes,
                   policies=policies, initial_stock=(), demand=demand)


# ---------------------------------------------------------------- direct highspy builds ---------
def assemble_arrays(data, strong: bool):
    """The rows of ``build_network_design_model`` (for these instances: no fixed-charge lanes,
    lane capacities, expansions or resilience options) as numpy arrays.

    Columns: x (arcs), q (production), u (unmet), y (candidate sites)."""
    n_a, n_q, n_u = data.n_arcs, len(data.prod_site), len(data.demand_units)
    cand = np.flatnonzero(data.site_candidate)
    ycol = np.full(len(data.sites), -1)
    ycol[cand] = n_a + n_q + n_u + np.arange(len(cand))
    n_col = n_a + n_q + n_u + len(cand)
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    node_site = data.node_site
    # balance: in + production - out - consumption = 0   (no BOM in these instances)
    to_node = data.arc_to_node
    a_in = np.flatnonzero(to_node >= 0)
    rows += [r + to_node[a_in]]
    cols += [a_in]
    vals += [np.ones(len(a_in))]
    rows += [r + data.prod_node]
    cols += [n_a + np.arange(n_q)]
    vals += [np.ones(n_q)]
    rows += [r + data.arc_from]
    cols += [np.arange(n_a)]
    vals += [-np.ones(n_a)]
    n_nodes = len(node_site)
    lo += [np.zeros(n_nodes)]
    hi += [np.zeros(n_nodes)]
    r += n_nodes
    # demand: in + unmet = D
    a_d = np.flatnonzero(data.arc_to_demand >= 0)
    rows += [r + data.arc_to_demand[a_d], r + np.arange(n_u)]
    cols += [a_d, n_a + n_q + np.arange(n_u)]
    vals += [np.ones(len(a_d)), np.ones(n_u)]
    lo += [data.demand_units]
    hi += [data.demand_units]
    r += n_u
    # production capacity per producing site (plants are not candidates here)
    psites = np.unique(data.prod_site)
    pos = {int(s): k for k, s in enumerate(psites)}
    rows += [r + np.array([pos[int(s)] for s in data.prod_site])]
    cols += [n_a + np.arange(n_q)]
    vals += [data.prod_line_days]
    lo += [np.full(len(psites), -np.inf)]
    hi += [data.site_line_days[psites]]
    r += len(psites)
    # storage throughput per (site, class): in-flows + production - T y <= 0
    g_of_node = np.full(n_nodes, -1)
    for g, nodes in enumerate(data.storage_nodes):
        g_of_node[nodes] = g
    n_g = len(data.storage_nodes)
    a_g = a_in[g_of_node[to_node[a_in]] >= 0]
    rows += [r + g_of_node[to_node[a_g]]]
    cols += [a_g]
    vals += [np.ones(len(a_g))]
    gs = data.storage_site
    is_c = data.site_candidate[gs]
    rows += [r + np.flatnonzero(is_c)]
    cols += [ycol[gs[is_c]]]
    vals += [-data.storage_throughput[is_c]]
    lo += [np.full(n_g, -np.inf)]
    hi += [np.where(is_c, 0.0, data.storage_throughput)]
    r += n_g
    # site link: in-flows + production - U y <= 0 for nodes at candidate sites
    link = np.flatnonzero(data.site_candidate[node_site])
    lrow = np.full(n_nodes, -1)
    lrow[link] = np.arange(len(link))
    a_l = a_in[lrow[to_node[a_in]] >= 0]
    rows += [r + lrow[to_node[a_l]], r + np.arange(len(link))]
    cols += [a_l, ycol[node_site[link]]]
    bound = np.array([data.product_bound[data.node_product[n]] for n in link])
    vals += [np.ones(len(a_l)), -bound]
    lo += [np.full(len(link), -np.inf)]
    hi += [np.zeros(len(link))]
    r += len(link)
    if strong:
        origin = data.lane_origin[data.arc_lane]
        s_rows = np.flatnonzero((data.arc_to_demand >= 0) & data.site_candidate[origin])
        n_s = len(s_rows)
        rows += [r + np.arange(n_s), r + np.arange(n_s)]
        cols += [s_rows, ycol[origin[s_rows]]]
        vals += [np.ones(n_s), -data.demand_units[data.arc_to_demand[s_rows]]]
        lo += [np.full(n_s, -np.inf)]
        hi += [np.zeros(n_s)]
        r += n_s
    import scipy.sparse as sp

    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(r, n_col))
    cost = np.concatenate([data.arc_unit_cost, data.prod_cost,
                           data.demand_penalty, data.site_fixed_cost[cand]])
    offset = float(data.site_fixed_cost[~data.site_candidate & data.site_open_now].sum())
    col_lo = np.zeros(n_col)
    col_hi = np.concatenate([np.full(n_a + n_q + n_u, np.inf), np.ones(len(cand))])
    integer = np.zeros(n_col, dtype=bool)
    integer[n_a + n_q + n_u:] = True
    return A, np.concatenate(lo), np.concatenate(hi), cost, offset, col_lo, col_hi, integer


def highspy_arrays(data, strong: bool):
    import highspy

    from supplytwin.opt.solver import new_highs

    A, lo, hi, cost, offset, clo, chi, integer = assemble_arrays(data, strong)
    h = new_highs()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, clo, chi
    lp.row_lower_, lp.row_upper_ = lo, hi
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = A.shape[1], A.shape[0]
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integer]
    h.passModel(lp)
    return h


def highspy_modelling(data, strong: bool):
    """The same rows, built one expression at a time with highspy's modelling layer (with the
    garbage collector paused, as the Pyomo build does)."""
    from pyomo.common.gc_manager import PauseGC

    with PauseGC():
        return _highspy_modelling(data, strong)


def _highspy_modelling(data, strong: bool):
    from supplytwin.opt.solver import new_highs

    A, lo, hi, cost, offset, clo, chi, integer = assemble_arrays(data, strong)
    h = new_highs()
    n = A.shape[1]
    x = h.addVariables(n, lb=clo.tolist(), ub=chi.tolist(), obj=cost.tolist())
    for j in np.flatnonzero(integer):
        h.setInteger(x[int(j)])
    indptr, indices, values = A.indptr, A.indices, A.data
    for i in range(A.shape[0]):
        s, e = indptr[i], indptr[i + 1]
        expr = h.qsum(float(c) * x[int(j)] for j, c in zip(indices[s:e], values[s:e], strict=True))
        if lo[i] == hi[i]:
            h.addConstr(expr == float(lo[i]))
        elif math.isinf(lo[i]):
            h.addConstr(expr <= float(hi[i]))
        else:
            h.addConstr(float(lo[i]) <= expr <= float(hi[i]))
    h.changeObjectiveOffset(offset)
    return h


# ---------------------------------------------------------------- measurements ------------------
def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def measure_size(n_dc: int, n_cust: int, modelling_api: bool = True) -> dict[str, float]:
    from supplytwin.model import CostSettings
    from supplytwin.opt import DesignOptions, SolverSettings, build_network_design_model
    from supplytwin.opt.data import extract_network
    from supplytwin.opt.model import use_strong_linking
    from supplytwin.opt.solver import _solve_direct, compile_linear, new_highs

    net = make_network(n_dc, n_cust)
    # no holding: the direct arrays below have no on-hand rows (supplytwin.opt.stock), and the
    # synthetic policies (base stock 0, batches of 10^6) are not meant to be simulated
    opts = DesignOptions(lane_fixed_charges=False, allow_new_stocking=False,
                         holding_rate_per_year=0.0)
    t = time.perf_counter()
    data = extract_network(net, CostSettings(), opts, name=f"synthetic-{n_dc}x{n_cust}")
    extract_s = time.perf_counter() - t
    strong = use_strong_linking(data, opts)
    repeats = 3 if n_dc < 100 else 2
    build_s, model = best_of(lambda: build_network_design_model(data, opts), repeats)

    def transfer():
        lp = compile_linear(model)
        h = new_highs()
        h.passModel(lp.to_highs_lp())
        return h

    transfer_s, _ = best_of(transfer, repeats)
    arrays_s, h_direct = best_of(lambda: highspy_arrays(data, strong), repeats)
    modelling_s = math.nan
    if modelling_api:
        modelling_s, _ = best_of(lambda: highspy_modelling(data, strong), 1)
    # same model: the LP relaxations of the Pyomo route and the direct arrays agree
    lp_pyomo = compile_linear(model)
    lp_pyomo.integer[:] = False
    h1 = new_highs()
    h1.passModel(lp_pyomo.to_highs_lp())
    h1.run()
    h_direct.changeColsIntegrality(h_direct.getNumCol(), np.arange(h_direct.getNumCol(), dtype=np.int32),
                                   np.zeros(h_direct.getNumCol(), dtype=np.uint8))
    h_direct.run()
    o1 = h1.getInfo().objective_function_value
    o2 = h_direct.getInfo().objective_function_value
    if abs(o1 - o2) > 1e-6 * max(1.0, abs(o1)):
        raise AssertionError(f"direct highspy model differs: LP {o2} vs Pyomo {o1}")
    limit = TIME_LIMITS.get(n_dc, 120.0)
    out = _solve_direct(model, SolverSettings(mip_gap=1e-3, time_limit_s=limit), False)
    return {
        "size": f"{n_dc}x{n_cust}x{PRODUCTS}", "strong_linking": strong,
        "columns": out.n_vars, "rows": out.n_rows, "nonzeros": out.nnz,
        "extract_s": extract_s, "build_s": build_s, "transfer_s": transfer_s,
        "solve_s": out.solve_s, "status": out.status, "gap": out.gap,
        "highspy_arrays_s": arrays_s, "highspy_modelling_s": modelling_s,
    }


def bundled_network() -> dict[str, float]:
    from supplytwin import load_scenario
    from supplytwin.opt import SolverSettings, optimise

    sc = load_scenario(BASELINE)
    t = time.perf_counter()
    res = optimise(sc, settings=SolverSettings(mip_gap=1e-3), shadow_prices=False, explain=False)
    wall = time.perf_counter() - t
    return {"wall_s": wall, **{k: res.stats[k] for k in ("extract_s", "build_s", "transfer_s",
                                                        "solve_s", "status", "gap", "binaries",
                                                        "continuous", "constraints",
                                                        "nonzeros")}}


def run(sizes=SIZES) -> dict[str, float]:
    figures: dict[str, float] = {}
    print("== network design speed (Pyomo model -> HiGHS; best of repeats) ==")
    hdr = (f"  {'size':>14} {'rows':>8} {'nnz':>9} | {'extract':>7} {'build':>7} {'transfer':>8} "
           f"{'solve':>8} {'gap':>7} | {'hs arrays':>9} {'hs model':>9} | {'out/arrays':>10} "
           f"{'out/model':>9} {'out share':>9}")
    print(hdr)
    for n_dc, n_cust in sizes:
        m = measure_size(n_dc, n_cust)
        outside = m["build_s"] + m["transfer_s"]
        r_arr = outside / m["highspy_arrays_s"]
        r_mod = outside / m["highspy_modelling_s"]
        share = outside / (outside + m["solve_s"])
        print(f"  {m['size']:>14} {m['rows']:>8,} {m['nonzeros']:>9,} | {m['extract_s']:6.2f}s "
              f"{m['build_s']:6.2f}s "
              f"{m['transfer_s']:7.2f}s {m['solve_s']:7.2f}s {m['gap']:7.2%} | "
              f"{m['highspy_arrays_s']:8.2f}s {m['highspy_modelling_s']:8.2f}s | "
              f"{r_arr:10.1f} {r_mod:9.2f} {share:9.1%}"
              + ("" if m["status"] == "optimal" else f"  ({m['status']})"), flush=True)
        key = m["size"]
        figures.update({f"{key}_build_s": m["build_s"], f"{key}_transfer_s": m["transfer_s"],
                        f"{key}_solve_s": m["solve_s"], f"{key}_gap": m["gap"],
                        f"{key}_extract_s": m["extract_s"],
                        f"{key}_highspy_arrays_s": m["highspy_arrays_s"],
                        f"{key}_highspy_modelling_s": m["highspy_modelling_s"],
                        f"{key}_outside_to_arrays": r_arr, f"{key}_outside_to_modelling": r_mod,
                        f"{key}_outside_share": share})
    print("  extract = Network -> DesignData (shared by every build); build = DesignData -> Pyomo "
          "ConcreteModel; transfer = Pyomo -> HiGHS; out = build + transfer; hs arrays / hs model "
          "= the same model built with highspy (numpy arrays / modelling API); targets: out <= 2x "
          "a direct highspy build, small share of the total at the largest size")
    b = bundled_network()
    print(f"  bundled network: {b['binaries']} binaries, {b['continuous']} continuous, "
          f"{b['constraints']} rows: {b['status']} at gap {b['gap']:.3%} in {b['wall_s']:.2f} s "
          f"(HiGHS {b['solve_s']:.2f} s; target: 0.1 % well within a minute)")
    figures.update({"bundled_wall_s": b["wall_s"], "bundled_solve_s": b["solve_s"],
                    "bundled_gap": b["gap"]})
    return figures


if __name__ == "__main__":  # pragma: no cover
    small = "--small" in sys.argv
    run([(20, 200)] if small else SIZES)
