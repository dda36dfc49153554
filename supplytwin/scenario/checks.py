"""Semantic checks on an assembled network: references, cold chain, sourcing, cycles.

Row models check one row at a time; these checks look across tables: every id refers to a row
that exists, every lane that carries a product can hold its temperature class, every stocked
product has a source, every customer can be reached from a producing site (networkx), the bill
of materials has no cycle, and disruptions name things that exist.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx

from supplytwin.errors import Problem
from supplytwin.model import Network, Row
from supplytwin.model.enums import PACKAGING_HOLDS, PACKAGING_MODES, PASSIVE_PACKAGING, SiteKind

#: batches one replenishment order may start at once
MAX_BATCHES_PER_ORDER = 10_000
from supplytwin.model.feasibility import lane_carry_reason


def check_network(net: Network, tables: dict[str, list[tuple[int, Row]]],
                  files: dict[str, Path], scenario_file: Path) -> list[Problem]:
    out: list[Problem] = []
    from supplytwin.scenario.loader import _show

    def add(table: str, rownum: int, field: str, reason: str) -> None:
        if rownum < 0:  # a disruption written in the scenario YAML
            out.append(Problem(_show(scenario_file), field=f"disruptions.{-rownum - 1}.{field}",
                               reason=reason))
        else:
            out.append(Problem(_show(files.get(table, scenario_file)), row=rownum, field=field,
                               reason=reason))

    sites, products, lanes = net.sites, net.products, net.lanes

    def ref(table: str, i: int, field: str, value: str | None, pool: dict, what: str) -> bool:
        if value is None or value in pool:
            return True
        add(table, i, field, f"unknown {what} {value!r}")
        return False

    external = {s for s, row in sites.items() if row.is_external_supplier}
    for i, r in tables["production"]:
        ref("production", i, "site_id", r.site_id, sites, "site")
        ref("production", i, "product_id", r.product_id, products, "product")
        if r.site_id in external:
            add("production", i, "site_id", f"site {r.site_id!r} is an external_supplier: it "
                "ships what is ordered after its supply_lead_time_days and needs no production "
                "row (use kind supplier to model its production)")
        elif r.site_id in sites and sites[r.site_id].kind in (SiteKind.CUSTOMER, SiteKind.DISTRIBUTION_CENTRE,
                                                            SiteKind.WHOLESALER):
            add("production", i, "site_id", f"site {r.site_id!r} is a {sites[r.site_id].kind.value} "
                "and cannot produce")
    for shared in ("qc_lab_capacity", "lines"):
        first: dict[str, tuple[int, int]] = {}
        for i, r in tables["production"]:
            value = getattr(r, shared)
            if r.site_id in first and first[r.site_id][0] != value:
                add("production", i, shared, f"site {r.site_id!r} has {shared} "
                    f"{first[r.site_id][0]} on row {first[r.site_id][1]}: the site's "
                    f"{'lab' if shared.startswith('qc') else 'lines'} are shared, one value per site")
            first.setdefault(r.site_id, (value, i))

    for i, r in tables["bom"]:
        ref("bom", i, "site_id", r.site_id, sites, "site")
        ref("bom", i, "product_id", r.product_id, products, "product")
        ref("bom", i, "input_product_id", r.input_product_id, products, "product")
        if (r.site_id, r.product_id) not in net.production:
            add("bom", i, "product_id", f"no production row for {r.site_id}/{r.product_id}")
        elif (r.site_id, r.input_product_id) not in net.policies:
            add("bom", i, "input_product_id", f"site {r.site_id!r} consumes {r.input_product_id!r} "
                "but has no policy row to stock it")

    for i, r in tables["lanes"]:
        ref("lanes", i, "origin_id", r.origin_id, sites, "site")
        ref("lanes", i, "destination_id", r.destination_id, sites, "site")
        if r.origin_id == r.destination_id:
            add("lanes", i, "destination_id", "a lane must join two different sites")
        if r.mode not in PACKAGING_MODES[r.packaging]:
            add("lanes", i, "packaging", f"{r.packaging.value} packaging cannot travel by {r.mode.value}")
        if r.departure_schedule.strip().lower() == "on_demand" and r.capacity_units_per_departure:
            add("lanes", i, "capacity_units_per_departure", "an on_demand lane sends a vehicle "
                "per shipment, so a capacity per departure has no meaning; give a schedule")
        if r.packaging in PASSIVE_PACKAGING and r.qualified_hours is None:
            add("lanes", i, "qualified_hours", f"passive packaging {r.packaging.value} needs the "
                "hours it is qualified for")

    def lane_for(table: str, i: int, lane_id: str, product_id: str, dest: str) -> None:
        if not ref(table, i, "sources", lane_id, lanes, "lane"):
            return
        lane = lanes[lane_id]
        if lane.destination_id != dest:
            add(table, i, "sources", f"lane {lane_id!r} goes to {lane.destination_id!r}, not {dest!r}")
        if product_id in products and not net.lane_can_carry(lane, product_id):
            tclass = products[product_id].temperature_class.value
            add(table, i, "sources", f"lane {lane_id!r} ({lane.mode.value}, {lane.packaging.value} "
                f"packaging) cannot hold {product_id!r} ({tclass}); packaging holds "
                f"{', '.join(sorted(t.value for t in PACKAGING_HOLDS[lane.packaging]))}")
        if (lane.origin_id, product_id) not in net.policies and lane.origin_id in sites \
                and lane.origin_id not in external:
            add(table, i, "sources", f"lane {lane_id!r} starts at {lane.origin_id!r}, which has "
                f"no policy row stocking {product_id!r}")

    for i, r in tables["policies"]:
        ok = ref("policies", i, "site_id", r.site_id, sites, "site")
        ref("policies", i, "product_id", r.product_id, products, "product")
        if ok and sites[r.site_id].kind == SiteKind.CUSTOMER:
            add("policies", i, "site_id", "customers order through demand.csv, not policies")
        if ok and r.site_id in external:
            add("policies", i, "site_id", f"site {r.site_id!r} is an external_supplier: it holds "
                "no stock of ours, so it has no policy row")
        if r.is_make:
            if (r.site_id, r.product_id) not in net.production:
                add("policies", i, "sources", f"sources=make but no production row for "
                    f"{r.site_id}/{r.product_id}")
        else:
            for lane_id in r.sources:
                lane_for("policies", i, lane_id, r.product_id, r.site_id)

    # each production batch is simulated as its own process: a policy whose one order starts
    # tens of thousands of batches at once (huge levels, tiny batches) would take hours
    for i, r in tables["policies"]:
        prow = net.production.get((r.site_id, r.product_id))
        if not r.is_make or prow is None or r.product_id not in products:
            continue
        batch = prow.batch_size_units or products[r.product_id].units_per_batch
        level = r.order_quantity_units if r.order_quantity_units is not None \
            else r.order_up_to_units
        if level is not None and batch > 0 and level / batch > MAX_BATCHES_PER_ORDER:
            field = "order_quantity_units" if r.order_quantity_units is not None \
                else "order_up_to_units"
            add("policies", i, field, f"one order of up to {level:,.0f} units would start "
                f"{level / batch:,.0f} batches of {batch:,g} units at once (each batch is "
                f"simulated as its own process; at most {MAX_BATCHES_PER_ORDER:,}): raise the "
                "batch size or lower the policy level")

    for i, r in tables["initial_stock"]:
        ref("initial_stock", i, "site_id", r.site_id, sites, "site")
        if r.site_id in external:
            add("initial_stock", i, "site_id", f"site {r.site_id!r} is an external_supplier: "
                "its stock is the vendor's, not part of the network")
            continue
        if (ref("initial_stock", i, "product_id", r.product_id, products, "product")
                and r.age_days >= products[r.product_id].shelf_life_days):
            add("initial_stock", i, "age_days", "lot is already expired at day 0")
        if (r.site_id, r.product_id) not in net.policies:
            add("initial_stock", i, "product_id", f"site {r.site_id!r} has no policy row for "
                f"{r.product_id!r}, so nothing would ever use this stock")

    for i, r in tables["demand"]:
        ok = ref("demand", i, "customer_id", r.customer_id, sites, "site")
        pok = ref("demand", i, "product_id", r.product_id, products, "product")
        if ok and sites[r.customer_id].kind != SiteKind.CUSTOMER:
            add("demand", i, "customer_id", f"site {r.customer_id!r} is a "
                f"{sites[r.customer_id].kind.value}, not a customer")
        for lane_id in r.sources:
            lane_for("demand", i, lane_id, r.product_id, r.customer_id)
            if lane_id in lanes and lanes[lane_id].origin_id in external:
                add("demand", i, "sources", f"lane {lane_id!r} starts at external supplier "
                    f"{lanes[lane_id].origin_id!r}; customers are served from a stocking site")
        if ok and pok and not net.demand_sources(r):
            add("demand", i, "customer_id", f"no lane into {r.customer_id!r} can carry "
                f"{r.product_id!r} from a site that stocks it")
        elif ok and pok:
            _check_qualified_hours(net, r, lambda reason, i=i: add("demand", i, "sources", reason))

    for i, r in tables["disruptions"]:
        ref("disruptions", i, "site_id", r.site_id, sites, "site")
        ref("disruptions", i, "lane_id", r.lane_id, lanes, "lane")
        ref("disruptions", i, "product_id", r.product_id, products, "product")
        ref("disruptions", i, "customer_id", r.customer_id, sites, "site")
        if r.kind.value == "supplier_failure" and r.site_id in sites and \
                sites[r.site_id].kind not in (SiteKind.SUPPLIER, SiteKind.EXTERNAL_SUPPLIER):
            add("disruptions", i, "site_id", f"supplier_failure needs a supplier site; "
                f"{r.site_id!r} is a {sites[r.site_id].kind.value}")

    out += _check_bom_cycles(net, tables, add)
    if not out:
        out += _check_reachability(net, tables, add)
        _check_sourcing_cycles(net, tables, add)
    return out


def _check_qualified_hours(net: Network, d, report) -> None:
    """A demand stream no lane of which may carry it under the cold-chain rule shared with the
    optimiser (:func:`supplytwin.model.feasibility.lane_carry_reason`)."""
    srcs = [l for l in net.demand_sources(d) if l.origin_id in net.sites
            and d.product_id in net.products]
    reasons = [(l.lane_id, lane_carry_reason(net, l, d.product_id)) for l in srcs]
    if reasons and all(why is not None for _l, why in reasons):
        report(f"no lane can serve {d.customer_id!r} with {d.product_id!r}: "
               + "; ".join(f"lane {l!r}: {why}" for l, why in reasons))


def _check_bom_cycles(net: Network, tables, add) -> list[Problem]:
    g = nx.DiGraph()
    where: dict[tuple[str, str], int] = {}
    for i, r in tables["bom"]:
        g.add_edge(r.product_id, r.input_product_id)
        where.setdefault((r.product_id, r.input_product_id), i)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return []
    path = " -> ".join([cycle[0][0], *(v for _, v in cycle)])
    add("bom", where[cycle[0][0], cycle[0][1]], "input_product_id",
        f"bill-of-materials cycle: {path}")
    return []


def _check_sourcing_cycles(net: Network, tables, add) -> None:
    """A stock point must not replenish, through its lanes, from itself (A <- B <- A).

    The simulator follows sources upstream (lead times, echelons); a loop would never end.
    Every loop is reported once, on the policy row of its first stock point.
    """
    g = nx.DiGraph()
    where: dict[tuple[str, str], int] = {}
    for i, r in tables["policies"]:
        where.setdefault((r.site_id, r.product_id), i)
        if r.is_make:
            continue
        for lane_id in r.sources:
            lane = net.lanes.get(lane_id)
            if lane is not None:
                g.add_edge((r.site_id, r.product_id), (lane.origin_id, r.product_id))
    # a few loops are enough to point at the mistake; a dense graph can have very many
    for cycle in sorted(itertools.islice(nx.simple_cycles(g), 10)):
        first = min(cycle)
        k = cycle.index(first)
        cycle = cycle[k:] + cycle[:k]
        path = " <- ".join(f"{s}" for s, _p in [*cycle, first])
        add("policies", where.get(first, 0), "sources",
            f"sourcing loop for {first[1]!r}: {path} (each site replenishes from the next; "
            "one of them must make the product or buy it from outside the loop)")


def _check_reachability(net: Network, tables, add) -> list[Problem]:
    """Every demand stream traces back through policies and the BOM to production."""
    supplied: dict[tuple[str, str], bool] = {}
    on_stack: set[tuple[str, str]] = set()

    def ok(sp: tuple[str, str]) -> bool:
        if sp in supplied:
            return supplied[sp]
        if sp in on_stack:  # a sourcing loop (A replenishes from B from A): not a source
            return False
        on_stack.add(sp)
        pol = net.policies.get(sp)
        site = net.sites[sp[0]]
        result = site.is_external_supplier and site.is_open  # ships whatever is ordered
        if pol is not None and site.is_open:
            if pol.is_make:
                result = all(ok((sp[0], b.input_product_id)) for b in net.bom.get(sp, ()))
            else:
                result = any(ok((net.lanes[l].origin_id, sp[1])) for l in pol.sources)
        on_stack.discard(sp)
        supplied[sp] = result
        return result

    graph = net.graph
    producers = {s for (s, _p) in net.production}
    for i, d in tables["demand"]:
        srcs = net.demand_sources(d)
        makers = {s for (s, p) in net.production if p == d.product_id}
        makers |= {s for s, row in net.sites.items() if row.is_external_supplier}
        if not makers:
            add("demand", i, "product_id", f"no site produces or supplies {d.product_id!r}")
            continue
        if not any(nx.has_path(graph, m, d.customer_id) for m in makers if m in graph):
            add("demand", i, "customer_id", f"no producing site of {d.product_id!r} can reach "
                f"{d.customer_id!r} over the lanes")
            continue
        if not any(ok((lane.origin_id, d.product_id)) for lane in srcs):
            add("demand", i, "customer_id", f"{d.customer_id!r} cannot be supplied with "
                f"{d.product_id!r}: its sources do not trace back to an open producing site or "
                "external supplier through the policies and bill of materials")
    _ = producers
    return []
