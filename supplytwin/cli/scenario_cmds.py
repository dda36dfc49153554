"""Scenario commands: ``validate``, ``template`` and ``show``."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from supplytwin.cli import app
from supplytwin.cli.common import (
    EXIT_USER_ERROR,
    SetOption,
    check,
    load,
    make_console,
    print_problems,
    user_errors,
)
from supplytwin.model import Network, Scenario
from supplytwin.model.enums import PRODUCING_KINDS, Mode, SiteKind
from supplytwin.model.schedule import SCHEDULE_GUIDE
from supplytwin.model.tables import LaneRow


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_counts(net: Network) -> str:
    """``5 sites, 4 lanes, ...``: the size of a network in one line."""
    parts = [
        _plural(len(net.sites), "site"),
        _plural(len(net.lanes), "lane"),
        _plural(len(net.products), "product"),
        _plural(len(net.production), "production row"),
        _plural(len(net.policies), "policy", "policies"),
        _plural(len(net.demand), "demand stream"),
    ]
    if net.initial_stock:
        parts.append(_plural(len(net.initial_stock), "initial lot"))
    if net.disruptions:
        parts.append(_plural(len(net.disruptions), "disruption"))
    return ", ".join(parts)


# ---------------------------------------------------------------- validate --------------------
@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(
        metavar="SCENARIO", help="Scenario YAML files to check.", show_default=False)],
    sets: SetOption = None,
) -> None:
    """Check scenario files: every problem with its file, row or line, field and reason.

    Exits with code 2 if any scenario has a problem.
    """
    out = make_console()
    err = make_console(stderr=True)
    failed = 0
    with user_errors(err):
        for path in scenarios:
            scenario, problems = check(path, sets)
            if problems:
                failed += 1
                header = Text(f"{path}: {_plural(len(problems), 'problem')}", style="bold red")
                err.print(header, soft_wrap=True)
                print_problems(problems, err)
            else:
                assert scenario is not None
                line = Text.assemble(("ok: ", "bold green"))
                line.append(f"{scenario.name} ({summary_counts(scenario.network)})")
                line.append(f" {path}", style="dim")
                out.print(line, soft_wrap=True)
        if failed:
            if len(scenarios) > 1:
                err.print(Text(f"{failed} of {len(scenarios)} scenarios have problems",
                               style="bold red"), soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR)


# ---------------------------------------------------------------- template --------------------
@app.command()
def template(
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the template to this file instead of printing it.",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", "-f", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Print a fully commented scenario YAML generated from the schema."""
    from supplytwin.scenario.template import render_template

    with user_errors():
        text = render_template()
        if out is None:
            typer.echo(text, nl=False)
            return
        if out.exists() and not force:
            from supplytwin.errors import SupplytwinError

            raise SupplytwinError(f"{out} exists; use --force to overwrite it")
        out.write_text(text, encoding="utf-8")
        make_console(stderr=True).print(f"wrote {escape(str(out))}", soft_wrap=True)


# ---------------------------------------------------------------- show ------------------------
def _num(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"


def _days(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _site_label(net: Network, site_id: str, flows: dict[str, list[tuple[str, float]]]) -> Text:
    site = net.sites[site_id]
    text = Text.assemble((site_id, "bold"))
    text.append(f" {site.kind.value}", style="cyan")
    if site.name:
        text.append(f" \u00b7 {_short(site.name)}", style="dim")
    if not site.is_open:
        text.append(" (closed)", style="red")
    made = sorted(p for (s, p) in net.production if s == site_id)
    if made:
        text.append(f"  makes {', '.join(made)}", style="green")
    if flows.get(site_id):
        text.append("  out: " + ", ".join(f"{p} {_num(r)}/d" for p, r in flows[site_id]),
                    style="yellow")
    return text


def _lane_text(lane: LaneRow) -> str:
    return (f"{lane.lane_id} {lane.mode.value}/{lane.packaging.value} "
            f"{_days(lane.transit_time_days.mean)} d")


def network_tree(net: Network, title: str) -> Tree:
    """The supply chain as a tree: producing sites down to DCs, customers summarised per site."""
    out_lanes: dict[str, list[LaneRow]] = defaultdict(list)
    for lane in sorted(net.lanes.values(), key=lambda l: l.lane_id):
        if lane.origin_id in net.sites and lane.destination_id in net.sites:
            out_lanes[lane.origin_id].append(lane)
    flows: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (site, product), rate in sorted(net.mean_daily_demand.items()):
        if rate > 0:
            flows[site].append((product, rate))

    fed = {lane.destination_id for lanes in out_lanes.values() for lane in lanes}
    producing = [s for s, row in net.sites.items()
                 if row.kind in PRODUCING_KINDS or row.is_external_supplier]
    roots = [s for s in producing if s not in fed] or producing
    tree = Tree(Text(title, style="bold"))
    shown: set[str] = set()

    def grow(node: Tree, site_id: str) -> None:
        customers: list[LaneRow] = []
        for lane in out_lanes.get(site_id, ()):
            dest = lane.destination_id
            if net.sites[dest].kind == SiteKind.CUSTOMER:
                customers.append(lane)
                continue
            label = Text.assemble((f"\u2192 {_lane_text(lane)} \u2192 ", "dim"))
            if dest in shown:
                label.append(dest, style="bold")
                label.append(" (see above)", style="dim")
                node.add(label)
                continue
            shown.add(dest)
            child = node.add(label + _site_label(net, dest, flows))
            grow(child, dest)
        if customers:
            modes = Counter(l.mode.value for l in customers)
            ids = sorted({l.destination_id for l in customers})
            shown.update(ids)
            by_mode = ", ".join(f"{m} \u00d7{n}" for m, n in sorted(modes.items()))
            summary = (f"\u2192 {_plural(len(ids), 'customer')} over "
                       f"{_plural(len(customers), 'lane')} ({by_mode})")
            text = Text.assemble((summary, "dim"))
            if len(ids) <= 6:
                text.append(": " + ", ".join(ids))
            demand = sum(net.demand_mean_rate(d) for d in net.demand.values()
                         if d.customer_id in ids)
            if demand:
                text.append(f"  demand {_num(demand)}/d", style="yellow")
            node.add(text)

    for root in roots:
        shown.add(root)
        grow(tree.add(_site_label(net, root, flows)), root)
    missed = [s for s in net.sites if s not in shown]
    if missed:
        more = f" and {len(missed) - 12} more" if len(missed) > 12 else ""
        tree.add(Text(f"not reached from a producing site: {', '.join(missed[:12])}{more}",
                      style="red"))
    return tree


def _table(title: str, *columns: str) -> Table:
    """A table; columns named with a trailing '#' are numeric (right-aligned)."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for c in columns:
        numeric = c.endswith("#")
        table.add_column(c.removesuffix("#"), justify="right" if numeric else "left")
    return table



def _schedule_kind(text: str) -> str:
    """'daily', 'on_demand', 'every:N' or 'weekly' (days left out) for the lanes table."""
    t = text.strip().lower()
    return "weekly" if t.startswith("weekly") else t


def render_show(scenario: Scenario) -> list:
    """The renderables printed by ``supplytwin show``."""
    net = scenario.network
    sim = scenario.simulation
    head = Text(scenario.name, style="bold")
    if scenario.description:
        head.append(f" \u2014 {scenario.description}")
    src = f"{scenario.source}" if scenario.source else "(built in code)"
    info = Text(f"{summary_counts(net)}\nhorizon {sim.horizon_days:g} d (warm-up "
                f"{sim.warmup_days:g} d), seed {sim.seed}, {sim.replications} replications, "
                f"day 0 = {sim.start_date.isoformat()}\nfrom {src}", style="dim")

    kinds = Counter(s.kind for s in net.sites.values())
    sites = _table("Sites by kind", "kind", "sites#", "open#")
    for kind in SiteKind:
        if kinds[kind]:
            n_open = sum(1 for s in net.sites.values() if s.kind == kind and s.is_open)
            sites.add_row(kind.value, str(kinds[kind]), str(n_open))

    per_product: dict[str, float] = defaultdict(float)
    streams: Counter[str] = Counter()
    for d in net.demand.values():
        per_product[d.product_id] += net.demand_mean_rate(d)
        streams[d.product_id] += 1
    made_at: dict[str, list[str]] = defaultdict(list)
    for (s, p) in sorted(net.production):
        made_at[p].append(s)
    products = _table("Products (mean demand in units/day)", "product", "temperature",
                      "shelf life d#", "made at", "streams#", "demand/d#", "name")
    products.columns[0].no_wrap = True
    for pid, p in net.products.items():
        products.add_row(
            pid, p.temperature_class.value,
            f"{p.shelf_life_days:g}", ", ".join(made_at[pid]) or "-",
            str(streams[pid]) if streams[pid] else "-",
            _num(per_product[pid]) if streams[pid] else "-",
            _short(p.name, 32),
        )

    modes = _table("Lanes by mode", "mode", "lanes#", "packagings", "departures",
                   "mean transit (d)#")
    by_mode: dict[Mode, list[LaneRow]] = defaultdict(list)
    for lane in net.lanes.values():
        by_mode[lane.mode].append(lane)
    for mode in Mode:
        lanes = by_mode.get(mode)
        if lanes:
            packs = Counter(l.packaging.value for l in lanes)
            scheds = Counter(_schedule_kind(l.departure_schedule) for l in lanes)
            mean = sum(l.transit_time_days.mean for l in lanes) / len(lanes)
            modes.add_row(mode.value, str(len(lanes)),
                          ", ".join(f"{k} \u00d7{v}" for k, v in sorted(packs.items())),
                          ", ".join(f"{k} \u00d7{v}" for k, v in sorted(scheds.items())),
                          _days(mean))
    schedule_note = Text(SCHEDULE_GUIDE, style="dim")

    out: list = [head, info, sites, products, modes, schedule_note]
    if net.disruptions:
        dis = _table("Disruptions", "id", "kind", "target", "when")
        for d in net.disruptions:
            target = d.site_id or d.lane_id or (d.mode.value if d.mode else "") or \
                d.customer_id or d.product_id or "all"
            when = (f"day {d.start_day:g} for {d.duration_days:g} d" if not d.is_random
                    else f"random: MTBF {d.mtbf_days:g} d, MTTR {d.mttr_days:g} d")
            dis.add_row(d.disruption_id, d.kind.value, target, when)
        out.append(dis)
    out.append(network_tree(net, "Supply network (mean daily flow out of each site)"))
    return out


@app.command()
def show(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario YAML file.",
                                             show_default=False)],
    sets: SetOption = None,
) -> None:
    """Summarise a scenario: sites, products, lanes, demand and the network as a tree."""
    console = make_console()
    with user_errors():
        sc = load(scenario, sets)
        for item in render_show(sc):
            console.print(item)
            console.print()
