"""Explain an infeasible network-design model in plain words.

Two steps, never just "infeasible":

1. **Structure** (no solver): a customer x product that must be served but has no usable lane
   (each lane into the customer is named with the reason it cannot be used: cold-chain
   packaging, qualified hours, transit limit, no stock at the origin, origin closed), and a
   customer x product that fewer than k making sites can reach even with every candidate site
   open (k-sourcing).
2. **Elastic model**: the same model with a priced slack on every capacity row (production
   line-days, storage throughput, lane capacity, CO2 cap) and, at a much higher price, on every
   requirement row (demand that must be met, N-1 share, k-sourcing). Its optimum is the least
   relaxation that makes the model feasible; each positive slack becomes one finding: which
   family of constraints, which site, lane, product or customer, and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from supplytwin.opt.data import DesignData
from supplytwin.opt.model import build_network_design_model, coverage_paths
from supplytwin.opt.options import DesignOptions
from supplytwin.opt.solver import SolverSettings, solve

TOL = 1e-6

FAMILY_WORDS = {
    "demand": "demand that must be met",
    "production_capacity": "production capacity",
    "storage_capacity": "storage capacity",
    "handling_capacity": "handling capacity",
    "lane_capacity": "lane capacity",
    "co2_cap": "the CO2 cap",
    "k_sourcing": "k-sourcing",
    "n_minus_1": "N-1 resilience",
    "no_lane": "no usable lane",
}


@dataclass
class Finding:
    #: constraint family, e.g. "storage_capacity" (see FAMILY_WORDS)
    family: str
    #: the site, lane or customer/product concerned
    where: str
    text: str
    shortfall: float | None = None
    unit: str = ""
    #: for N-1 findings: the site whose loss is considered
    scenario: str | None = None


@dataclass
class Explanation:
    summary: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(f.family for f in self.findings))

    def lines(self, limit: int | None = 20) -> list[str]:
        out = [self.summary]
        shown = self.findings if limit is None else self.findings[:limit]
        out += [f"  - {f.text}" for f in shown]
        if limit is not None and len(self.findings) > limit:
            out.append(f"  ... and {len(self.findings) - limit} more")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines(None))


def explain_infeasible(data: DesignData, options: DesignOptions | None = None,
                       settings: SolverSettings | None = None, *, network=None) -> Explanation:
    """Why the design model of ``data`` under ``options`` has no feasible solution."""
    opts = options or data.options
    findings = structural_findings(data, opts, network=network)
    if findings:
        fams = ", ".join(FAMILY_WORDS.get(f, f) for f in dict.fromkeys(x.family for x in findings))
        return Explanation(
            f"The network-design model is infeasible before any capacity is considered "
            f"({fams}): {len(findings)} finding(s).", findings)
    elastic = opts.with_(elastic=True)
    m = build_network_design_model(data, elastic)
    s = settings or SolverSettings()
    out = solve(m, SolverSettings(time_limit_s=s.time_limit_s, mip_gap=1e-6, threads=s.threads))
    if not out.has_solution:
        return Explanation(
            f"The network-design model is infeasible and the elastic version that relaxes every "
            f"capacity and requirement could not be solved either ({out.termination}).")
    findings = _elastic_findings(m, data, opts)
    if not findings:
        return Explanation(
            "HiGHS reported the model infeasible, but relaxing capacities and requirements "
            "needs no relaxation at all: the model is at the edge of numerical tolerance. Try "
            "a looser gap, or report it.")
    fams = ", ".join(FAMILY_WORDS.get(f, f) for f in dict.fromkeys(x.family for x in findings))
    return Explanation(
        f"The network-design model is infeasible because of {fams}. The smallest relaxation "
        f"that makes it feasible:", findings)


# ---------------------------------------------------------------- structure --------------------
def structural_findings(data: DesignData, opts: DesignOptions, *, network=None) -> list[Finding]:
    out: list[Finding] = []
    if not opts.allow_unmet:
        for k in range(len(data.demand_units)):
            if data.demand_in[k]:
                continue
            c, p = data.demand_customer[k], data.demand_product[k]
            reasons = _why_no_lane(network, data, opts, c, p) if network is not None else []
            detail = ("; ".join(reasons)) if reasons else "no lane into the customer carries it"
            out.append(Finding("no_lane", f"{c}/{p}",
                               f"{c} must receive {data.demand_units[k]:,.0f} units/year of {p} "
                               f"but no lane can deliver it: {detail}",
                               float(data.demand_units[k]), "units/year"))
    if opts.k_sourcing > 1:
        paths = coverage_paths(data, opts.k_sourcing_max_lanes)
        makers: dict[str, list[str]] = {}
        for j, p in enumerate(data.prod_product):
            makers.setdefault(p, []).append(data.sites[data.prod_site[j]])
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for k, reach in paths.items():
            if len(reach) >= opts.k_sourcing:
                continue
            p = data.demand_product[k]
            key = (p, tuple(sorted(data.sites[s] for s in reach)))
            groups.setdefault(key, []).append(data.demand_customer[k])
        for (p, plants), customers in groups.items():
            made = sorted(set(makers.get(p, [])))
            if len(made) < opts.k_sourcing:
                why = f"{p} is made at only {len(made)} site(s) ({', '.join(made) or 'none'})"
            else:
                why = (f"of the {len(made)} sites making {p} only {len(plants)} "
                       f"({', '.join(plants) or 'none'}) can reach them within "
                       f"{opts.k_sourcing_max_lanes} lanes, even with every candidate site open")
            shown = ", ".join(customers[:4]) + (f" and {len(customers) - 4} more"
                                                if len(customers) > 4 else "")
            out.append(Finding("k_sourcing", p,
                               f"k-sourcing {opts.k_sourcing}: {why}; customers concerned "
                               f"({len(customers)}): {shown}",
                               float(opts.k_sourcing - len(plants)), "sites"))
    return out


def _why_no_lane(net, data: DesignData, opts: DesignOptions, customer: str, product: str
                 ) -> list[str]:
    from supplytwin.opt.data import arc_rule, lane_timing

    reasons = []
    for lane in net.lanes_into.get(customer, ()):
        o = lane.origin_id
        orow = net.sites.get(o)
        if orow is not None and not (orow.is_open or orow.candidate):
            reasons.append(f"{lane.lane_id}: origin {o} is closed and not a candidate")
            continue
        why = arc_rule(net, lane, product, opts)
        if why:
            reasons.append(f"{lane.lane_id}: {why}")
            continue
        lead = lane_timing(lane).lead_days
        if opts.max_transit_days is not None and lead > opts.max_transit_days:
            reasons.append(f"{lane.lane_id}: transit + wait {lead:.1f} days exceeds the "
                           f"{opts.max_transit_days:g}-day limit")
            continue
        if (o, product) not in data.node_index:
            if (o, product) in net.policies:
                reasons.append(f"{lane.lane_id}: no usable lane brings {product} to {o}")
            else:
                reasons.append(f"{lane.lane_id}: {o} does not stock {product}")
            continue
        reasons.append(f"{lane.lane_id}: not usable")
    if not reasons:
        reasons.append(f"there is no lane into {customer} at all")
    return reasons


# ---------------------------------------------------------------- elastic ----------------------
def _slack_values(block, name: str):
    comp = block.component(f"slack_{name}")
    if comp is None:
        return []
    return [(idx, float(v.value or 0.0)) for idx, v in comp.items() if (v.value or 0.0) > TOL]


def _elastic_findings(m, data: DesignData, opts: DesignOptions) -> list[Finding]:
    found: list[Finding] = []
    found += _block_findings(m, data, opts, scenario=None)
    for k, v in _slack_values(m, "demand"):
        c, p = data.demand_customer[k], data.demand_product[k]
        found.append(Finding("demand", f"{c}/{p}",
                             f"{c} cannot receive {v:,.0f} of its {data.demand_units[k]:,.0f} "
                             f"units/year of {p}", v, "units/year"))
    for k, v in _slack_values(m, "k_sourcing"):
        c, p = data.demand_customer[k], data.demand_product[k]
        found.append(Finding("k_sourcing", f"{c}/{p}",
                             f"k-sourcing {opts.k_sourcing}: {c} lacks {v:.0f} more making "
                             f"site(s) able to reach it with {p}", v, "sites"))
    for _i, v in _slack_values(m, "co2_cap"):
        found.append(Finding("co2_cap", "network",
                             f"the CO2 cap of {opts.co2_cap_t:,.0f} t/year is {v:,.1f} t short "
                             "of what meeting demand emits", v, "t CO2e"))
    if opts.n_minus_1_share is not None and m.component("n1") is not None:
        total = float(data.demand_units.sum())
        for s_name in m.n1:
            b = m.n1[s_name]
            for _i, v in _slack_values(b, "share"):
                unmet = sum(float(u.value or 0.0) for u in b.u.values())
                met = 1.0 - unmet / total if total else 1.0
                found.append(Finding(
                    "n_minus_1", s_name,
                    f"N-1: after the loss of {s_name} the network meets {met:.1%} of demand, "
                    f"short of the required {opts.n_minus_1_share:.1%} by {v:,.0f} units/year",
                    v, "units/year", scenario=s_name))
            found += _block_findings(b, data, opts, scenario=s_name)
    order = ["no_lane", "demand", "k_sourcing", "n_minus_1", "co2_cap", "production_capacity",
             "storage_capacity", "handling_capacity", "lane_capacity"]
    found.sort(key=lambda f: (order.index(f.family) if f.family in order else 99,
                              f.scenario or "", -(f.shortfall or 0.0)))
    return found


def _block_findings(b, data: DesignData, opts: DesignOptions, scenario: str | None
                    ) -> list[Finding]:
    pre = f"N-1 without {scenario}: " if scenario else ""
    out = []
    for s_name, v in _slack_values(b, "production_capacity"):
        s = data.site_index[s_name]
        cap = float(data.site_line_days[s])
        made = sorted({data.prod_product[j] for j in range(len(data.prod_site))
                       if data.prod_site[j] == s})
        out.append(Finding("production_capacity", s_name,
                           f"{pre}production at {s_name} ({', '.join(made)}) needs {v:,.0f} more "
                           f"line-days a year than its {cap:,.0f} ({v / cap:.0%} more)"
                           if cap else f"{pre}production at {s_name} has no capacity",
                           v, "line-days/year", scenario))
    turns = 365.0 / opts.storage_cover_days
    for (s_name, tclass), v in _slack_values(b, "storage_capacity"):
        out.append(Finding("storage_capacity", f"{s_name}/{tclass}",
                           f"{pre}{tclass} storage at {s_name} is short by {v / turns:,.0f} units "
                           f"of storage ({v:,.0f} units/year of throughput at "
                           f"{opts.storage_cover_days:g} days of cover)",
                           v / turns, "units of storage", scenario))
    for s_name, v in _slack_values(b, "handling_capacity"):
        cap = float(data.site_handling_capacity[data.site_index[s_name]])
        out.append(Finding("handling_capacity", s_name,
                           f"{pre}{s_name} must receive and ship {v:,.0f} units/year beyond its "
                           f"handling capacity of {cap:,.0f}", v, "units/year", scenario))
    for lid, v in _slack_values(b, "lane_capacity"):
        l = data.lane_index[lid]
        out.append(Finding("lane_capacity", lid,
                           f"{pre}lane {lid} ({data.lane_mode[l]}) needs {v:,.0f} units/year "
                           f"beyond its capacity of {data.lane_capacity[l]:,.0f}",
                           v, "units/year", scenario))
    return out


