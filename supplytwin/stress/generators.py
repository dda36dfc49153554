"""Expanding a battery's generators into concrete what-ifs, and applying a what-if to a scenario.

A :class:`WhatIf` is a name, the node or target it hits, its duration and a tuple of ordinary
disruption rows (:class:`~supplytwin.model.DisruptionRow`). :func:`apply_whatif` appends those
rows to the base scenario's disruption table: the what-if is a scenario transform and the
simulator runs it like any scenario with a disruptions table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from supplytwin.errors import Problem, ScenarioError
from supplytwin.model import DisruptionKind, DisruptionRow, Scenario, SiteKind
from supplytwin.model.enums import PRODUCING_KINDS
from supplytwin.stress.battery import (
    MAX_WHATIFS,
    CapacityLossGen,
    DemandSurgeGen,
    LaneClosureGen,
    LoadedBattery,
    QcFailureSpikeGen,
    RegionalEventGen,
    SiteOutageGen,
    SupplierLossGen,
)

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class WhatIf:
    """One concrete disruption of a battery."""

    name: str
    #: generator kind (site_outage, lane_closure, regional_event, ...)
    kind: str
    #: the node, lane, product or label it hits (the row of the heat map)
    target: str
    start_day: float
    duration_days: float
    disruptions: tuple[DisruptionRow, ...]
    #: sites that are down (outages and regional events): the nodes whose TTS applies
    sites_down: tuple[str, ...] = ()

    @property
    def end_day(self) -> float:
        return self.start_day + self.duration_days


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a spherical Earth (error < 0.5 %, ample for an event radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _days(d: float) -> str:
    return f"{d:g}d"


def _row(i: int, **kw) -> DisruptionRow:
    return DisruptionRow(disruption_id=f"stress-{i}", **kw)


def apply_whatif(base: Scenario, whatif: WhatIf) -> Scenario:
    """The base scenario with the what-if's disruptions added (a scenario transform)."""
    net = replace(base.network, disruptions=base.network.disruptions + whatif.disruptions)
    return replace(base, name=whatif.name, network=net)


def expand(loaded: LoadedBattery, base: Scenario) -> list[WhatIf]:
    """Every what-if of the battery, in generator order; unknown ids are problems."""
    b = loaded.battery
    net = base.network
    file = str(loaded.path)
    problems: list[Problem] = []
    default_start = b.start_day if b.start_day is not None else base.simulation.warmup_days
    out: list[WhatIf] = []
    open_sites = {s: r for s, r in net.sites.items() if r.is_open}

    def check_ids(gi: int, field: str, ids, known, what: str) -> list[str]:
        if ids == "all":
            return []
        bad = [x for x in ids if x not in known]
        for x in bad:
            problems.append(Problem(file, line=loaded.line(f"generators.{gi}.{field}"),
                                    field=f"generators.{gi}.{field}",
                                    reason=f"unknown {what} {x!r}"))
        return [x for x in ids if x in known]

    for gi, g in enumerate(b.generators):
        start = g.start_day if g.start_day is not None else default_start
        if start >= base.simulation.horizon_days:
            problems.append(Problem(file, line=loaded.line(f"generators.{gi}"),
                                    field=f"generators.{gi}.start_day",
                                    reason=f"starts on day {start:g}, after the horizon "
                                    f"({base.simulation.horizon_days:g} days)"))
            continue
        n0 = len(out)

        def add(name, target, d, rows, down=(), _start=start, _kind=g.kind):
            out.append(WhatIf(name, _kind, target, _start, d, tuple(rows), tuple(down)))

        if isinstance(g, SiteOutageGen | SupplierLossGen):
            if isinstance(g, SupplierLossGen):
                kinds = {SiteKind.SUPPLIER, SiteKind.EXTERNAL_SUPPLIER}
                dkind = DisruptionKind.SUPPLIER_FAILURE
            else:
                kinds = set(g.site_kinds) or {k for k in SiteKind if k != SiteKind.CUSTOMER}
                dkind = DisruptionKind.SITE_OUTAGE
            sites = (sorted(s for s, r in open_sites.items() if r.kind in kinds)
                     if g.sites == "all" else check_ids(gi, "sites", g.sites, open_sites, "site"))
            for s in sites:
                for d in g.durations_days:
                    word = "lost" if isinstance(g, SupplierLossGen) else "down"
                    add(f"{s} {word} {_days(d)}", s, d,
                        [_row(len(out), kind=dkind, site_id=s, start_day=start, duration_days=d)],
                        down=(s,))
        elif isinstance(g, LaneClosureGen):
            lanes = (sorted(l for l, r in net.lanes.items() if not g.modes or r.mode in g.modes)
                     if g.lanes == "all" else check_ids(gi, "lanes", g.lanes, net.lanes, "lane"))
            for l in lanes:
                for d in g.durations_days:
                    add(f"{l} closed {_days(d)}", l, d,
                        [_row(len(out), kind=DisruptionKind.LANE_CLOSURE, lane_id=l,
                              start_day=start, duration_days=d)])
        elif isinstance(g, RegionalEventGen):
            hit = sorted(s for s, r in open_sites.items() if r.kind != SiteKind.CUSTOMER
                         and great_circle_km(g.latitude, g.longitude, r.latitude, r.longitude)
                         <= g.radius_km)
            if not hit:
                problems.append(Problem(file, line=loaded.line(f"generators.{gi}"),
                                        field=f"generators.{gi}.radius_km",
                                        reason=f"no site lies within {g.radius_km:g} km of "
                                        f"({g.latitude:g}, {g.longitude:g})"))
                continue
            for d in g.durations_days:
                rows = [_row(len(out) * 1000 + k, kind=DisruptionKind.SITE_OUTAGE, site_id=s,
                             start_day=start, duration_days=d) for k, s in enumerate(hit)]
                add(f"{g.label} {_days(d)}", g.label, d, rows, down=hit)
        elif isinstance(g, CapacityLossGen):
            if not (g.mode or g.lane_id or g.site_id):
                problems.append(Problem(file, line=loaded.line(f"generators.{gi}"),
                                        field=f"generators.{gi}",
                                        reason="capacity_loss needs mode, lane_id or site_id"))
                continue
            check_ids(gi, "lane_id", [g.lane_id] if g.lane_id else [], net.lanes, "lane")
            check_ids(gi, "site_id", [g.site_id] if g.site_id else [], open_sites, "site")
            target = g.lane_id or g.site_id or str(g.mode)
            for d in g.durations_days:
                add(f"{target} capacity -{g.magnitude:.0%} {_days(d)}", target, d,
                    [_row(len(out), kind=DisruptionKind.CAPACITY_LOSS, mode=g.mode,
                          lane_id=g.lane_id, site_id=g.site_id, magnitude=g.magnitude,
                          start_day=start, duration_days=d)])
        elif isinstance(g, DemandSurgeGen):
            finished = sorted({p for (_c, p) in net.demand})
            prods = finished if g.products == "all" else check_ids(
                gi, "products", g.products, net.products, "product")
            for p in prods:
                for d in g.durations_days:
                    add(f"{p} demand x{g.magnitude:g} {_days(d)}", p, d,
                        [_row(len(out), kind=DisruptionKind.DEMAND_SURGE, product_id=p,
                              magnitude=g.magnitude, start_day=start, duration_days=d)])
        elif isinstance(g, QcFailureSpikeGen):
            producing = {s for (s, _p) in net.production if s in open_sites}
            sites = (sorted(s for s in producing if open_sites[s].kind in PRODUCING_KINDS)
                     if g.sites == "all" else check_ids(gi, "sites", g.sites, producing,
                                                        "producing site"))
            for s in sites:
                for d in g.durations_days:
                    add(f"{s} QC failures {g.magnitude:.0%} {_days(d)}", s, d,
                        [_row(len(out), kind=DisruptionKind.QC_FAILURE_SPIKE, site_id=s,
                              magnitude=g.magnitude, start_day=start, duration_days=d)])
        if len(out) == n0 and not problems:
            problems.append(Problem(file, line=loaded.line(f"generators.{gi}"),
                                    field=f"generators.{gi}",
                                    reason="this generator produces no what-if on the base "
                                    "network"))
        if len(out) > MAX_WHATIFS:
            problems.append(Problem(file, field="generators", reason=f"more than {MAX_WHATIFS} "
                                    "what-ifs; split the battery"))
            break
    names = [w.name for w in out]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(file, field="generators",
                                reason=f"what-if {n!r} is generated twice"))
    if problems:
        raise ScenarioError(problems)
    return out
