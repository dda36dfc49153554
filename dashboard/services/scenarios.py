"""Scenario knobs: what a planner changes on the Scenario page, relative to a chosen scenario.

Knobs become either ``--set`` overrides (:func:`knob_sets`, to run without saving a file, the
same path as the CLI's ``--set``) or a saved scenario that ``extends:`` the chosen one
(:func:`save_scenario`, validated by the scenario loader before it is put in place).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import supplytwin
from dashboard.services.checks import (
    MAX_HORIZON_DAYS,
    MAX_MULTIPLIER,
    MAX_REPLICATIONS,
    UserError,
    _positive,
    _shown,
    _under,
    check_name,
)
from dashboard.services.disruptions import new_disruption
from dashboard.services.network import site_detail
from dashboard.services.workspace import (
    SAVED,
    Workspace,
    display_path,
    list_scenarios,
    load,
    scenario_key,
    scenario_path,
)
from supplytwin.model.enums import DisruptionKind


@dataclass
class Knobs:
    """What a planner changes on the Scenario page, relative to the chosen scenario.

    ``demand`` maps product -> multiplier (a ``demand_surge`` disruption over the whole horizon,
    so the base orders stay those of the original: common random numbers); ``disruptions`` are
    extra disruptions switched on, each a dict of disruptions-table columns with its window;
    ``policies`` maps ``SITE/PRODUCT`` -> {column: new value} (``edits.policies``);
    ``disruption_edits`` maps the id of an inherited disruption -> {column: new value}
    (``edits.disruptions``: ``enabled``, ``start_day``, ``duration_days``).
    """

    horizon_days: float | None = None
    replications: int | None = None
    demand: dict[str, float] = field(default_factory=dict)
    disruptions: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, dict[str, float]] = field(default_factory=dict)
    disruption_edits: dict[str, dict[str, Any]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return (self.horizon_days is None and self.replications is None and not self.demand
                and not self.disruptions and not self.policies and not self.disruption_edits)


#: numeric policy columns a planner may edit
POLICY_FIELDS: tuple[str, ...] = ("reorder_point_units", "order_up_to_units",
                                  "order_quantity_units", "review_period_days",
                                  "days_of_supply_target")


def _disruption_target(d: Mapping[str, Any]) -> str:
    parts = [str(d[k]) for k in ("site_id", "lane_id", "mode", "product_id", "customer_id")
             if d.get(k)]
    return ", ".join(parts) or "everything"


def knob_options(ws: Workspace, key: str) -> dict[str, Any]:
    """What the Scenario page offers for a scenario: settings, products with demand, its own
    disruptions (inherited: switchable and, when scheduled, window editable, as
    ``edits.disruptions``), a catalogue of disruptions from the other scenarios of
    the same network (switchable, window editable) and the sites with policies."""
    sc = load(ws, key)
    net = sc.network
    own = [_disruption_dict(d) for d in net.disruptions]
    own_ids = {d["disruption_id"] for d in own}
    catalogue: dict[str, dict[str, Any]] = {}
    sites_file = sc.resolved.get("network", {}).get("sites")
    for entry in list_scenarios(ws):
        try:
            other = load(ws, entry["key"])
        except UserError:
            continue
        if other.resolved.get("network", {}).get("sites") != sites_file:
            continue
        for d in other.network.disruptions:
            if d.disruption_id in own_ids or d.disruption_id in catalogue or d.is_random:
                continue
            if d.disruption_id.startswith("demand-x"):
                continue  # demand multipliers are their own knob
            row = _disruption_dict(d)
            row["from"] = entry["key"]
            catalogue[d.disruption_id] = row
    demanded = sorted({p for (_c, p) in net.demand})
    policy_sites = sorted({s for (s, _p) in net.policies})
    return {
        "name": sc.name, "description": sc.description,
        "horizon_days": sc.simulation.horizon_days, "warmup_days": sc.simulation.warmup_days,
        "replications": sc.simulation.replications, "seed": sc.simulation.seed,
        "start_date": sc.simulation.start_date.isoformat(),
        "products": [{"product_id": p, "name": net.products[p].name or p,
                      "temperature_class": net.products[p].temperature_class.value}
                     for p in demanded],
        "inherited": own, "catalogue": list(catalogue.values()),
        "policy_sites": [{"site_id": s, "name": net.sites[s].name or s,
                          "kind": net.sites[s].kind.value} for s in policy_sites],
    }


def _disruption_dict(d) -> dict[str, Any]:
    row = d.model_dump(mode="json", exclude_none=True)
    row["target"] = _disruption_target(row)
    return row


def site_policies(ws: Workspace, key: str, site_id: str) -> list[dict[str, Any]]:
    sc = load(ws, key)
    if site_id not in sc.network.sites:
        raise UserError(f"No site {_shown(site_id)!r} in {sc.name}.")
    return site_detail(sc, site_id)["policies"]


def validate_knobs(ws: Workspace, key: str, raw: Mapping[str, Any]) -> Knobs:
    """Knobs from the page's raw values, checked against the scenario; :class:`UserError`
    names the first bad input.

    ``raw``: horizon_days, replications, demand {product: multiplier}, disruptions
    [{disruption_id, on, start_day, duration_days}] (ids inherited or from the
    catalogue), new_disruptions [{kind, target, start, duration_days, magnitude}] (written on
    the page, see :func:`dashboard.services.disruptions.new_disruption`), policies
    {"SITE/PRODUCT": {column: value}}; values as the browser sent them (strings or numbers,
    None for untouched).
    """
    opts = knob_options(ws, key)
    k = Knobs()
    horizon = raw.get("horizon_days")
    if horizon not in (None, ""):
        h = _positive(horizon, "Horizon (days)", upper=MAX_HORIZON_DAYS)
        if h <= opts["warmup_days"]:
            raise UserError(f"Horizon (days): must be longer than the warm-up of "
                            f"{opts['warmup_days']:g} days (got {h:g}).")
        if h != opts["horizon_days"]:
            k.horizon_days = h
    reps = raw.get("replications")
    if reps not in (None, ""):
        r = int(_positive(reps, "Replications", integer=True, upper=MAX_REPLICATIONS))
        if r != opts["replications"]:
            k.replications = r
    products = {p["product_id"] for p in opts["products"]}
    for product, value in (raw.get("demand") or {}).items():
        if product not in products:
            raise UserError(f"Demand multiplier: unknown product {_shown(product)!r}.")
        if value in (None, ""):
            continue
        m = _positive(value, f"Demand multiplier of {product}", upper=MAX_MULTIPLIER,
                      allow_zero=True)
        if m != 1.0:
            k.demand[product] = m
    horizon_now = k.horizon_days or opts["horizon_days"]
    catalogue = {d["disruption_id"]: d for d in opts["catalogue"]}
    inherited = {d["disruption_id"]: d for d in opts["inherited"]}
    for item in raw.get("disruptions") or []:
        did = item.get("disruption_id")
        if did in inherited:
            change = inherited_edit(inherited[did], item, horizon_now)
            if change:
                k.disruption_edits[did] = change
            continue
        if not item.get("on"):
            continue
        if did not in catalogue:
            raise UserError(f"Disruption {_shown(did)!r} is not offered for this scenario.")
        base = {c: v for c, v in catalogue[did].items() if c not in ("target", "from")}
        start = _positive(item.get("start_day", base.get("start_day")),
                          f"Start day of {did}", allow_zero=True, upper=MAX_HORIZON_DAYS)
        duration = _positive(item.get("duration_days", base.get("duration_days")),
                             f"Duration of {did}", upper=MAX_HORIZON_DAYS)
        if start >= horizon_now:
            raise UserError(f"Start day of {did}: {start:g} is after the horizon of "
                            f"{horizon_now:g} days, so it would never happen.")
        base.update(start_day=start, duration_days=duration)
        k.disruptions.append(base)
    # disruptions the planner wrote on the page (dashboard.services.disruptions checks them)
    taken = {d["disruption_id"] for d in [*opts["inherited"], *k.disruptions]}
    for item in raw.get("new_disruptions") or []:
        k.disruptions.append(new_disruption(load(ws, key), item, horizon_now, taken))
    sites = {s["site_id"] for s in opts["policy_sites"]}
    for rid, changes in (raw.get("policies") or {}).items():
        site, _, product = str(rid).partition("/")
        if site not in sites:
            raise UserError(f"Policy: unknown site {_shown(site)!r}.")
        current_rows = {p["product"]: p for p in site_policies(ws, key, site)}
        if product not in current_rows:
            raise UserError(f"Policy: {site} stocks no product {_shown(product)!r}.")
        for col, value in (changes or {}).items():
            if col not in POLICY_FIELDS:
                raise UserError(f"Policy: {_shown(col)!r} is not an editable column.")
            if value in (None, ""):
                continue
            v = _positive(value, f"{col} of {site}/{product}",
                          allow_zero=col in ("reorder_point_units", "order_up_to_units"),
                          upper=1e12)
            if current_rows[product][col] is None or v != current_rows[product][col]:
                k.policies.setdefault(f"{site}/{product}", {})[col] = v
    return k


def inherited_edit(base: Mapping[str, Any], item: Mapping[str, Any],
                   horizon: float) -> dict[str, Any]:
    """The ``edits.disruptions`` columns that turn an inherited disruption ``base`` into what
    the page shows in ``item`` ({on, start_day, duration_days}); empty when unchanged. A window
    left empty (or a random disruption's, which has none) stays as it is."""
    did = base["disruption_id"]
    change: dict[str, Any] = {}
    on = bool(item.get("on"))
    if on != bool(base.get("enabled", True)):
        change["enabled"] = on
    if not on or base.get("start_day") is None:
        return change
    start, duration = item.get("start_day"), item.get("duration_days")
    if start not in (None, ""):
        s = _positive(start, f"Start day of {did}", allow_zero=True, upper=MAX_HORIZON_DAYS)
        if s >= horizon:
            raise UserError(f"Start day of {did}: {s:g} is after the horizon of "
                            f"{horizon:g} days, so it would never happen.")
        if s != base["start_day"]:
            change["start_day"] = s
    if duration not in (None, ""):
        d = _positive(duration, f"Duration of {did}", upper=MAX_HORIZON_DAYS)
        if d != base.get("duration_days"):
            change["duration_days"] = d
    return change


def disruption_edit_sets(edits: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``edits.disruptions.ID.COLUMN=VALUE`` overrides for :attr:`Knobs.disruption_edits`."""
    sets = []
    for did, changes in sorted(edits.items()):
        for col, v in sorted(changes.items()):
            value = str(v).lower() if isinstance(v, bool) else f"{v:g}"
            sets.append(f"edits.disruptions.{did}.{col}={value}")
    return sets


def _demand_disruptions(knobs: Knobs, horizon: float, taken: set[str]) -> list[dict[str, Any]]:
    out = []
    for product, m in sorted(knobs.demand.items()):
        did, n = f"demand-x-{product}", 2
        while did in taken:
            did, n = f"demand-x-{product}-{n}", n + 1
        taken.add(did)
        out.append({"disruption_id": did, "kind": DisruptionKind.DEMAND_SURGE.value,
                    "product_id": product, "magnitude": m, "start_day": 0,
                    "duration_days": horizon})
    return out


def added_disruptions(ws: Workspace, key: str, knobs: Knobs) -> list[dict[str, Any]]:
    """The disruptions the knobs add to the scenario (switched-on ones, demand multipliers)."""
    opts = knob_options(ws, key)
    horizon = knobs.horizon_days or opts["horizon_days"]
    taken = {d["disruption_id"] for d in opts["inherited"]} | {
        d["disruption_id"] for d in knobs.disruptions}
    return [*knobs.disruptions, *_demand_disruptions(knobs, horizon, taken)]


def scenario_document(ws: Workspace, key: str, knobs: Knobs, name: str,
                      target: Path) -> dict[str, Any]:
    """The YAML document of a new scenario that ``extends:`` the chosen one with the knobs."""
    original = scenario_path(ws, key)
    opts = knob_options(ws, key)
    doc: dict[str, Any] = {
        "name": name,
        "extends": _extends_ref(original, target),
        "description": f"Saved from the dashboard: {opts['name']} with "
                       + describe_knobs(knobs) + ".",
    }
    sim = {}
    if knobs.horizon_days is not None:
        sim["horizon_days"] = knobs.horizon_days
    if knobs.replications is not None:
        sim["replications"] = knobs.replications
    if sim:
        doc["simulation"] = sim
    extra = added_disruptions(ws, key, knobs)
    if extra:
        doc["disruptions"] = extra
    edits: dict[str, Any] = {}
    if knobs.policies:
        edits["policies"] = {rid: dict(ch) for rid, ch in knobs.policies.items()}
    if knobs.disruption_edits:
        edits["disruptions"] = {did: dict(ch) for did, ch in knobs.disruption_edits.items()}
    if edits:
        doc["edits"] = edits
    return doc


def _extends_ref(original: Path, target: Path) -> str:
    """``extends:`` relative to the new file, or absolute when they share only the root."""
    a, b = original.resolve(), target.parent.resolve()
    if os.path.commonpath([a, b]) == a.anchor:
        return str(a)
    return os.path.relpath(a, b)


def knob_sets(ws: Workspace, key: str, knobs: Knobs) -> list[str]:
    """The same changes as ``--set`` overrides, for running without saving a file first
    (recorded in the registry and the manifest like the CLI's ``--set``)."""
    sets: list[str] = []
    if knobs.horizon_days is not None:
        sets.append(f"simulation.horizon_days={knobs.horizon_days:g}")
    extra = added_disruptions(ws, key, knobs)
    if extra:
        # a --set replaces the list, so it repeats the disruptions the YAML chain already has
        own_yaml = [d for d in load(ws, key).resolved.get("disruptions", [])
                    if isinstance(d, dict)]
        flow = yaml.safe_dump([*own_yaml, *extra], default_flow_style=True, width=10**6).strip()
        sets.append(f"disruptions={flow}")
    for rid, changes in sorted(knobs.policies.items()):
        for col, v in sorted(changes.items()):
            sets.append(f"edits.policies.{rid}.{col}={v:g}")
    sets += disruption_edit_sets(knobs.disruption_edits)
    return sets


def describe_knobs(knobs: Knobs) -> str:
    parts = []
    if knobs.horizon_days is not None:
        parts.append(f"horizon {knobs.horizon_days:g} days")
    if knobs.replications is not None:
        parts.append(f"{knobs.replications} replications")
    for p, m in sorted(knobs.demand.items()):
        parts.append(f"demand of {p} x{m:g}")
    for d in knobs.disruptions:
        parts.append(f"{d['disruption_id']} from day {d['start_day']:g} for "
                     f"{d['duration_days']:g} days")
    for did, ch in sorted(knobs.disruption_edits.items()):
        if ch.get("enabled") is False:
            parts.append(f"{did} switched off")
            continue
        parts.append(f"{did} " + ", ".join(
            f"{c.replace('_', ' ')}={v if isinstance(v, bool) else format(v, 'g')}"
            for c, v in sorted(ch.items())))
    for rid, ch in sorted(knobs.policies.items()):
        parts.append(f"policy {rid}: " + ", ".join(f"{c}={v:g}" for c, v in sorted(ch.items())))
    return "; ".join(parts) if parts else "no changes"


@dataclass
class Saved:
    key: str
    path: Path
    message: str


def save_scenario(ws: Workspace, key: str, knobs: Knobs, name: object,
                  overwrite: bool = False) -> Saved:
    """Write ``RUNS_DIR/scenarios/NAME.yaml`` extending the chosen scenario with the knobs.

    The file is validated by the scenario loader before it is put in place; an invalid result
    is not written and its problems come back in the :class:`UserError`.
    """
    name = check_name(name)
    ws.saved_dir.mkdir(parents=True, exist_ok=True)
    target = ws.saved_dir / f"{name}.yaml"
    if not _under(target, ws.saved_dir):
        raise UserError(f"Scenario name {_shown(name)!r} is not allowed.")
    if target.exists() and not overwrite:
        raise UserError(f"A saved scenario called {name!r} exists already; choose another name.")
    if scenario_path(ws, key).resolve() == target.resolve():
        raise UserError("A scenario cannot extend itself; choose another name.")
    doc = scenario_document(ws, key, knobs, name, target)
    text = ("# Saved from the supplytwin dashboard; extends the scenario it was made from.\n"
            + yaml.safe_dump(doc, sort_keys=False, width=100))
    tmp = ws.saved_dir / f".{name}.{secrets.token_hex(4)}.yaml"
    try:
        tmp.write_text(text, encoding="utf-8")
        problems = supplytwin.check_scenario(tmp)
        if problems:
            shown = "; ".join(str(p).replace(tmp.name, f"{name}.yaml") for p in problems[:6])
            raise UserError(f"The new scenario would be invalid, so it was not saved: {shown}")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    new_key = scenario_key(SAVED, target)
    return Saved(new_key, target, f"Saved {display_path(ws, target)} (extends "
                 f"{display_path(ws, scenario_path(ws, key))}).")
