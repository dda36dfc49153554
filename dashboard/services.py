"""The dashboard's one door into supplytwin: scenarios, networks, runs, registry and artefacts.

Every other dashboard module (pages, components, figures) works on plain Python values and
pandas tables and reaches the simulator, the scenario loader and the run registry only through
the functions here. That keeps the pages thin and testable, and it keeps three rules in one
place:

* **Paths.** The browser never sends a path. Scenarios are named by *keys* such as
  ``bundled/baseline.yaml`` or ``saved/my-what-if.yaml`` that :func:`scenario_path` maps to a
  file inside the bundled scenarios folder (read only) or the saved-scenarios folder
  ``RUNS_DIR/scenarios`` (read and write); anything else — ``../../etc/passwd``, absolute paths,
  NUL bytes, very long names, symlinks leading out — is refused with a :class:`UserError`.
  Artefacts and reports are opened only from inside the runs folder.
* **Errors.** What a user can cause (a bad knob, an invalid scenario, an unknown run) becomes a
  :class:`UserError` with a readable message that the page shows; nothing reaches the browser
  as a traceback.
* **Long work.** :class:`JobRunner` runs a recorded experiment (``experiment.recorded.start``,
  the same code path as ``supplytwin run``) in a background thread of the server, publishes its
  progress and lets the page cancel it between replications. See ``docs/dashboard.md`` for why
  a thread rather than Dash background callbacks.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import supplytwin
from supplytwin.errors import ScenarioError, SupplytwinError
from supplytwin.experiment import recorded
from supplytwin.experiment.stats import paired_difference, significant, t_interval, welch_difference
from supplytwin.model import Scenario
from supplytwin.model.enums import PACKAGING_HOLDS, DisruptionKind, SiteKind, TemperatureClass
from supplytwin.report import figures as _report_figures
from supplytwin.report.html import TOPOJSON_FILE
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.registry import Registry, RunRecord, default_runs_dir

log = logging.getLogger(__name__)

__all__ = [
    "HEADLINE_KPIS", "JOBS", "KPI_DOCS", "TOPOJSON_FILE", "JobRunner", "Knobs", "UserError",
    "Workspace",
]

# Figures shared with the HTML report, re-exported so the rest of the dashboard reaches
# supplytwin only through this module (dashboard/figures.py re-exports them in turn).
inventory_band_figure = _report_figures.inventory_band_figure
cost_breakdown_figure = _report_figures.cost_breakdown_figure
waste_figure = _report_figures.waste_figure
paired_difference_figure = _report_figures.paired_difference_figure
normalise_differences = _report_figures.normalise_differences
KIND_STYLE = _report_figures.KIND_STYLE
MODE_STYLE = _report_figures.MODE_STYLE
COST_CATEGORIES = _report_figures.COST_CATEGORIES


def kpi_ci_figure(summary: Mapping[str, Mapping[str, Any]], kpis: Iterable[str] | None = None):
    """The report's KPI interval figure from a JSON summary ({kpi: {mean, sd, ci95, n}})."""
    return _report_figures.kpi_ci_figure(_estimates(summary), kpis)


#: the KPIs on the cards of the Scenario and Results pages, in order
HEADLINE_KPIS: tuple[str, ...] = (
    "fill_rate", "otif", "backordered_units", "lost_units", "patients_affected",
    "expired_units", "excursion_loss_units", "excursions", "cost_total_usd", "co2_kg_total",
)

#: temperature classes from warmest to coldest
TEMPERATURE_ORDER: tuple[str, ...] = tuple(t.value for t in TemperatureClass)

#: a scenario name typed in the browser: becomes ``NAME.yaml``; no dots, slashes or spaces
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
MAX_NAME_LENGTH = 64
#: a run id as written by the registry (date-kind-name-hex)
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
#: upper bounds that keep one browser click from occupying the server for hours
MAX_REPLICATIONS = 200
MAX_HORIZON_DAYS = 3650.0
MAX_MULTIPLIER = 20.0

BUNDLED, SAVED = "bundled", "saved"


class UserError(Exception):
    """Something the user can fix; the message is shown in the page as it is."""


# ================================================================ workspace and paths ===========


@dataclass(frozen=True)
class Workspace:
    """The folders the dashboard may touch: bundled scenarios (read), runs (read and write)."""

    runs_dir: Path
    scenarios_dir: Path

    @property
    def saved_dir(self) -> Path:
        """Where scenarios saved from the browser go: next to the runs that use them."""
        return self.runs_dir / "scenarios"

    def registry(self) -> Registry:
        return Registry(self.runs_dir)


def project_scenarios_dir() -> Path:
    """``./scenarios`` when the dashboard starts in a project folder, else the source tree's."""
    here = Path.cwd() / "scenarios"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "scenarios"


def make_workspace(runs_dir: str | Path | None = None,
                   scenarios_dir: str | Path | None = None) -> Workspace:
    runs = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    scen = Path(scenarios_dir) if scenarios_dir is not None else project_scenarios_dir()
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "scenarios").mkdir(exist_ok=True)
    return Workspace(runs.resolve(), scen.resolve())


#: key of the workspace in the Flask app's config
CONFIG_KEY = "SUPPLYTWIN_WORKSPACE"


def current() -> Workspace:
    """The workspace of the app serving this request (callbacks run inside a Flask request)."""
    import flask

    if not flask.has_app_context():
        raise UserError("no dashboard is running in this context")
    return flask.current_app.config[CONFIG_KEY]


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def _shown(text: object, limit: int = 60) -> str:
    """User input echoed in a message: printable, shortened."""
    s = "".join(c if c.isprintable() else "?" for c in str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def check_name(name: object) -> str:
    """A scenario name for a new file, or :class:`UserError` saying what is wrong with it."""
    if not isinstance(name, str) or not name.strip():
        raise UserError("Give the new scenario a name (letters, digits, '-' or '_').")
    name = name.strip()
    if "\x00" in name:
        raise UserError("A scenario name cannot contain a NUL character.")
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(f"A scenario name has at most {MAX_NAME_LENGTH} characters "
                        f"(this one has {len(name)}).")
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"Scenario name {_shown(name)!r} is not allowed: use letters, digits, '-' and '_' "
            "only, starting with a letter or digit (no '/', '.', spaces or paths). The file is "
            "always written to the saved-scenarios folder.")
    return name


def scenario_key(origin: str, path: Path) -> str:
    return f"{origin}/{path.name}"


def scenario_path(ws: Workspace, key: object) -> Path:
    """The file of a scenario key (``bundled/NAME.yaml`` or ``saved/NAME.yaml``).

    Only plain file names inside the two scenario folders are accepted; the resolved file must
    stay inside its folder (no ``..``, no absolute path, no symlink out).
    """
    if not isinstance(key, str) or not key:
        raise UserError("Choose a scenario.")
    if "\x00" in key or len(key) > MAX_NAME_LENGTH + 20:
        raise UserError("That is not a scenario of this dashboard.")
    origin, sep, filename = key.partition("/")
    roots = {BUNDLED: ws.scenarios_dir, SAVED: ws.saved_dir}
    stem = filename[:-5] if filename.endswith(".yaml") else ""
    if not sep or origin not in roots or not NAME_PATTERN.fullmatch(stem or "-"):
        raise UserError(f"{_shown(key)!r} is not a scenario of this dashboard: pick one from the "
                        "list.")
    root = roots[origin]
    path = root / filename
    if not _under(path, root) or not path.is_file():
        raise UserError(f"Scenario {_shown(key)!r} does not exist (any more).")
    return path


def list_scenarios(ws: Workspace) -> list[dict[str, str]]:
    """Bundled then saved scenarios: ``{"key", "label", "origin", "name", "description"}``."""
    out: list[dict[str, str]] = []
    for origin, root in ((BUNDLED, ws.scenarios_dir), (SAVED, ws.saved_dir)):
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*.yaml")):
            if not NAME_PATTERN.fullmatch(path.stem) or not _under(path, root):
                continue
            head = _yaml_head(path)
            name = str(head.get("name") or path.stem)
            label = f"{path.stem}" + ("" if origin == BUNDLED else "  (saved)")
            out.append({"key": scenario_key(origin, path), "label": label, "origin": origin,
                        "name": name, "description": str(head.get("description") or ""),
                        "extends": str(head.get("extends") or "")})
    return out


def _yaml_head(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _problems_text(exc: ScenarioError, limit: int = 8) -> str:
    lines = [str(p) for p in exc.problems[:limit]]
    more = len(exc.problems) - limit
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


@lru_cache(maxsize=32)
def _load_cached(path: str, mtime_ns: int, sets: tuple[str, ...]) -> Scenario:
    return supplytwin.load_scenario(path, list(sets))


def load(ws: Workspace, key: str, sets: Sequence[str] = ()) -> Scenario:
    """The scenario of ``key`` (cached until its file changes), or :class:`UserError`."""
    path = scenario_path(ws, key)
    try:
        return _load_cached(str(path), path.stat().st_mtime_ns, tuple(sets))
    except ScenarioError as exc:
        raise UserError(f"{key} has {len(exc.problems)} problem(s): {_problems_text(exc)}") from None
    except (SupplytwinError, OSError, yaml.YAMLError, ValueError) as exc:
        raise UserError(f"{key} cannot be loaded: {_shown(exc, 300)}") from None


# ================================================================ the network as tables ========


def _coldest(classes: Iterable[str]) -> str:
    ranked = [c for c in TEMPERATURE_ORDER if c in set(classes)]
    return ranked[-1] if ranked else TEMPERATURE_ORDER[0]


def _lane_products(sc: Scenario) -> dict[str, set[str]]:
    """Products each lane carries: sources of policies and of demand streams."""
    net = sc.network
    out: dict[str, set[str]] = {lid: set() for lid in net.lanes}
    for (_site, product), pol in net.policies.items():
        for src in pol.sources:
            if src in out:
                out[src].add(product)
    for d in net.demand.values():
        for lane in net.demand_sources(d):
            out.setdefault(lane.lane_id, set()).add(d.product_id)
    return out


def network_tables(sc: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sites, lanes) of a scenario's network as tidy tables for the map and its filters.

    sites: site_id, name, kind, region, country, latitude, longitude, is_open, products (the
    products the site makes, stocks or orders, ';'-joined). lanes: lane_id, origin_id,
    destination_id, mode, packaging, temperature_class (the coldest class of the products it
    carries, else the warmest its packaging holds), products (';'-joined), transit_days (mean),
    and the coordinates of both ends (o_lat, o_lon, d_lat, d_lon).
    """
    net = sc.network
    products_at: dict[str, set[str]] = {sid: set() for sid in net.sites}
    for site, product in [*net.policies, *net.production]:
        products_at.setdefault(site, set()).add(product)
    for customer, product in net.demand:
        products_at.setdefault(customer, set()).add(product)
    sites = pd.DataFrame([{
        "site_id": s.site_id, "name": s.name or s.site_id, "kind": s.kind.value,
        "region": s.region or "", "country": s.country or "", "latitude": s.latitude,
        "longitude": s.longitude, "is_open": bool(s.is_open),
        "products": ";".join(sorted(products_at.get(s.site_id, ()))),
    } for s in net.sites.values()])
    carried = _lane_products(sc)
    rows = []
    for lane in net.lanes.values():
        o, d = net.sites.get(lane.origin_id), net.sites.get(lane.destination_id)
        if o is None or d is None:
            continue
        prods = sorted(carried.get(lane.lane_id, ()))
        classes = [net.products[p].temperature_class.value for p in prods if p in net.products]
        if not classes:
            classes = [min(PACKAGING_HOLDS[lane.packaging],
                           key=lambda t: TEMPERATURE_ORDER.index(t.value)).value]
        try:
            transit = float(lane.transit_time_days.mean)
        except Exception:  # noqa: BLE001 - a distribution without a mean still draws
            transit = float("nan")
        rows.append({
            "lane_id": lane.lane_id, "origin_id": lane.origin_id,
            "destination_id": lane.destination_id, "mode": lane.mode.value,
            "packaging": lane.packaging.value, "temperature_class": _coldest(classes),
            "products": ";".join(prods), "transit_days": transit,
            "o_lat": o.latitude, "o_lon": o.longitude, "d_lat": d.latitude, "d_lon": d.longitude,
        })
    lanes = pd.DataFrame(rows, columns=[
        "lane_id", "origin_id", "destination_id", "mode", "packaging", "temperature_class",
        "products", "transit_days", "o_lat", "o_lon", "d_lat", "d_lon"])
    return sites, lanes


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def site_detail(sc: Scenario, site_id: str) -> dict[str, Any]:
    """What the Network page shows for a clicked site: its row, products, policies,
    production, capacities and lanes (each a list of plain dicts)."""
    net = sc.network
    site = net.sites.get(site_id)
    if site is None:
        raise UserError(f"No site {_shown(site_id)!r} in {sc.name}.")
    policies = [{
        "product": p, "policy": pol.policy.value,
        "reorder_point_units": _num(pol.reorder_point_units),
        "order_up_to_units": _num(pol.order_up_to_units),
        "order_quantity_units": _num(pol.order_quantity_units),
        "review_period_days": _num(pol.review_period_days),
        "days_of_supply_target": _num(pol.days_of_supply_target),
        "sources": ";".join(pol.sources),
    } for (s, p), pol in sorted(net.policies.items()) if s == site_id]
    production = [{
        "product": p, "lines": row.lines, "batch_units": net.batch_units((s, p)),
        "cycle_time_days": str(row.cycle_time_days), "qc_release_days": str(row.qc_release_days),
        "batch_failure_prob": row.batch_failure_prob,
    } for (s, p), row in sorted(net.production.items()) if s == site_id]
    demand = [{
        "product": p, "orders_per_day": _num(d.orders_per_day),
        "mean_units_per_day": net.demand_mean_rate(d), "unmet_demand": d.unmet_demand.value,
    } for (c, p), d in sorted(net.demand.items()) if c == site_id]
    capacities = {
        t.value: site.storage_capacity_units(t) for t in TemperatureClass
    }
    lanes = []
    for lane in sorted(net.lanes.values(), key=lambda lane: lane.lane_id):
        if site_id not in (lane.origin_id, lane.destination_id):
            continue
        outbound = lane.origin_id == site_id
        other = lane.destination_id if outbound else lane.origin_id
        try:
            transit = float(lane.transit_time_days.mean)
        except Exception:  # noqa: BLE001
            transit = float("nan")
        lanes.append({"lane": lane.lane_id, "direction": "out" if outbound else "in",
                      "other_site": other, "mode": lane.mode.value,
                      "packaging": lane.packaging.value, "transit_days": transit,
                      "cost_per_unit_usd": lane.cost_per_unit_usd})
    return {
        "site_id": site.site_id, "name": site.name or site.site_id, "kind": site.kind.value,
        "region": site.region, "country": site.country, "is_open": site.is_open,
        "fixed_cost_usd_per_year": site.fixed_cost_usd_per_year,
        "capacities": capacities, "policies": policies, "production": production,
        "demand": demand, "lanes": lanes,
    }


# ================================================================ scenario knobs ===============


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


def _positive(value: Any, what: str, *, integer: bool = False, upper: float | None = None,
              allow_zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{what}: enter a number (got {_shown(value)!r}).") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise UserError(f"{what}: must be {'zero or more' if allow_zero else 'more than zero'}"
                        f" (got {_shown(value)}).")
    if integer and x != int(x):
        raise UserError(f"{what}: must be a whole number (got {_shown(value)}).")
    if upper is not None and x > upper:
        raise UserError(f"{what}: at most {upper:g} (got {_shown(value)}).")
    return int(x) if integer else x


def validate_knobs(ws: Workspace, key: str, raw: Mapping[str, Any]) -> Knobs:
    """Knobs from the page's raw values, checked against the scenario; :class:`UserError`
    names the first bad input.

    ``raw``: horizon_days, replications, demand {product: multiplier}, disruptions
    [{disruption_id, on, start_day, duration_days}] (ids inherited or from the
    catalogue), policies
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


def display_path(ws: Workspace, path: Path) -> str:
    """A path as shown to the user: relative to the working directory where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ================================================================ background runs ==============


#: a long function for :meth:`JobRunner.submit_task`: (progress, cancel) -> result mapping
Task = Callable[[Callable[..., None], threading.Event], Mapping[str, Any] | None]


@dataclass
class Job:
    id: str
    scenario: str
    #: what the job's thread runs: ``target(job)`` updates the job as it goes
    target: Callable[[Job], None]
    state: str = "queued"  # queued | running | done | cancelled | error
    done: int = 0
    total: int = 0
    label: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    run_id: str | None = None
    message: str = ""
    summary: dict[str, Any] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total,
                "label": self.label, "scenario": self.scenario, "run_id": self.run_id,
                "message": self.message, "summary": self.summary,
                "elapsed_s": round(end - self.started, 2),
                "cancel_requested": self.cancel.is_set()}


class JobRunner:
    """Recorded experiments in background threads of the dashboard server.

    A job calls :func:`supplytwin.experiment.recorded.start` — the code path of the CLI — so the
    run is registered, checkpointed and written exactly like ``supplytwin run``. One replication
    runs in the job's thread; more run in worker processes, so the server stays responsive.
    Cancelling is cooperative: the next finished replication interrupts the experiment, which
    the registry then records as ``interrupted`` (resumable with ``supplytwin run --resume``).
    """

    def __init__(self, max_active: int = 2, keep: int = 50):
        self.max_active = max_active
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def active(self) -> int:
        with self._lock:
            return sum(j.state in ("queued", "running") for j in self._jobs.values())

    def submit(self, runs_dir: Path, request: recorded.Request, scenario: str) -> str:
        """Run a recorded experiment (``recorded.start``); return the job id."""
        return self._start(scenario, lambda job: self._run_recorded(job, Path(runs_dir),
                                                                    request))

    def submit_task(self, label: str, task: Task) -> str:
        """Run any long function, e.g. an optimisation: ``task(progress, cancel)`` calls
        ``progress(done, total, label)`` as it goes, should stop soon after ``cancel`` (a
        :class:`threading.Event`) is set, and returns a mapping with any of ``message``,
        ``summary``, ``run_id`` and ``state`` (default ``done``, or ``cancelled`` when it
        was). A :class:`UserError` or ``SupplytwinError`` it raises becomes the job's
        message."""
        return self._start(label, lambda job: self._run_task(job, task))

    def _start(self, label: str, target: Callable[[Job], None]) -> str:
        with self._lock:
            busy = sum(j.state in ("queued", "running") for j in self._jobs.values())
            if busy >= self.max_active:
                raise UserError(f"{busy} run(s) are already in progress; wait for one to finish "
                                "or cancel it.")
            job = Job(secrets.token_urlsafe(12), label, target)
            self._jobs[job.id] = job
            for old in list(self._jobs)[: max(0, len(self._jobs) - self.keep)]:
                if self._jobs[old].state not in ("queued", "running"):
                    del self._jobs[old]
        threading.Thread(target=self._run, args=(job,), name=f"supplytwin-job-{job.id[:6]}",
                         daemon=True).start()
        return job.id

    def status(self, job_id: object) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            return {"id": job_id, "state": "unknown", "done": 0, "total": 0, "label": "",
                    "message": "This run is not known to the server (was it restarted?); "
                               "look for it in the Runs page.", "run_id": None, "summary": None,
                    "elapsed_s": 0.0, "cancel_requested": False}
        return job.view()

    def cancel(self, job_id: object) -> bool:
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None or job.state not in ("queued", "running"):
            return False
        job.cancel.set()
        return True

    def wait(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the job ends (for tests and scripts)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.status(job_id)
            if s["state"] not in ("queued", "running"):
                return s
            time.sleep(0.05)
        return self.status(job_id)

    def _run(self, job: Job) -> None:
        job.state = "running"
        try:
            job.target(job)
        except Exception as exc:  # a bug must not end the server thread silently
            log.exception("dashboard job failed")
            job.message = (f"The job failed with an internal error ({type(exc).__name__}: "
                           f"{_shown(exc, 200)}); the server log has the details.")
            job.state = "error"
        finally:
            job.finished = time.monotonic()

    @staticmethod
    def _run_task(job: Job, task: Task) -> None:
        def progress(done: int, total: int, label: str = "") -> None:
            job.done, job.total, job.label = done, total, label

        try:
            out = dict(task(progress, job.cancel) or {})
        except (UserError, SupplytwinError) as exc:
            job.message, job.state = _shown(exc, 400), "error"
            return
        except KeyboardInterrupt:
            job.message, job.state = "Cancelled.", "cancelled"
            return
        state = out.get("state") or ("cancelled" if job.cancel.is_set() else "done")
        job.summary = out.get("summary")
        job.run_id = out.get("run_id")
        job.message = out.get("message") or ("Cancelled." if state == "cancelled" else "Done.")
        job.state = state  # last: a reader that sees the final state sees everything else

    @staticmethod
    def _run_recorded(job: Job, runs_dir: Path, request: recorded.Request) -> None:
        last_label: list[str | None] = [None]

        def progress(done: int, total: int, label: str) -> None:
            first_of_label = label != last_label[0]
            last_label[0] = label
            job.done, job.total, job.label = done, total, label
            # raising here lands in run_experiment's KeyboardInterrupt handler, which keeps the
            # finished replications and marks the run interrupted; the first call of each
            # scenario comes before that handler, so it is never the one to raise
            if job.cancel.is_set() and not first_of_label and done < total:
                raise KeyboardInterrupt

        try:
            outcome = recorded.start(request, Registry(runs_dir), progress)
        except ScenarioError as exc:
            job.message, job.state = f"The scenario is invalid: {_problems_text(exc)}", "error"
        except SupplytwinError as exc:
            job.message, job.state = _shown(exc, 400), "error"
        except KeyboardInterrupt:
            job.message, job.state = "Cancelled before the first replication.", "cancelled"
        else:
            job.run_id = outcome.run_id
            # the state goes last: a page that sees "done" must find the summary there
            if outcome.interrupted:
                n = sum(r.n for r in outcome.results)
                job.message = (f"Cancelled after {n} of {job.total} replication(s); run "
                               f"{outcome.run_id} is recorded as interrupted (continue it with "
                               f"supplytwin run --resume {outcome.run_id}).")
                job.state = "cancelled"
            else:
                job.summary = _summary_dict(outcome.results[0])
                job.message = (f"Run {outcome.run_id} finished: {outcome.results[0].n} "
                               f"replication(s).")
                job.state = "done"


#: the jobs of this server process
JOBS = JobRunner()


def start_run(ws: Workspace, key: str, knobs: Knobs, replications: int, *,
              report: bool = True, runner: JobRunner | None = None,
              workers: int | None = None) -> str:
    """Start a recorded run of the chosen scenario with the knobs as ``--set`` overrides;
    return the job id. One replication runs in process, more on up to all cores (unless
    ``workers`` says otherwise)."""
    path = scenario_path(ws, key)
    reps = int(_positive(replications, "Replications", integer=True, upper=MAX_REPLICATIONS))
    sets = knob_sets(ws, key, knobs)
    problems = supplytwin.check_scenario(path, sets)
    if problems:
        raise UserError("These settings make the scenario invalid: "
                        + "; ".join(str(p) for p in problems[:6]))
    if workers is None:
        workers = 1 if reps == 1 else min(reps, os.cpu_count() or 1)
    req = recorded.Request("run", [str(path)], sets, reps=reps, workers=workers, report=report)
    return (runner or JOBS).submit(ws.runs_dir, req, key)


def _summary_dict(result) -> dict[str, Any]:
    out = {}
    for k, e in result.summary().items():
        out[k] = _clean({"mean": e.mean, "sd": e.sd, "ci95": list(e.ci95), "n": e.n})
    return out


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


# ================================================================ registry and artefacts =======


def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise UserError(f"{_shown(run_id)!r} is not a run id.")
    return run_id


def _record_row(r: RunRecord) -> dict[str, Any]:
    kpis = (r.kpi_summary or {}).get("kpis", {}) if isinstance(r.kpi_summary, dict) else {}
    fr = kpis.get("fill_rate", {}) if isinstance(kpis, dict) else {}
    cost = kpis.get("cost_total_usd", {}) if isinstance(kpis, dict) else {}
    return {
        "run_id": r.run_id, "kind": r.kind, "status": r.shown_status,
        "created_at": r.created_at, "scenario": r.scenario_name or "",
        "replications": r.replications, "seed": r.seed,
        "fill_rate": fr.get("mean") if isinstance(fr, dict) else None,
        "cost_total_usd": cost.get("mean") if isinstance(cost, dict) else None,
        "has_report": report_file(None, r) is not None,
    }


def list_runs(ws: Workspace, search: str | None = None, kind: str | None = None,
              limit: int = 200, complete_only: bool = False) -> list[dict[str, Any]]:
    """Rows of the registry, newest first (search: run id, scenario name or file)."""
    if search is not None and (len(search) > 100 or "\x00" in search):
        raise UserError("Search for at most 100 characters of a run id or scenario name.")
    records = ws.registry().list(limit=limit, kind=kind or None, search=(search or None))
    rows = [_record_row(r) for r in records]
    if complete_only:
        rows = [r for r in rows if r["status"] == "complete"]
    return rows


def run_record(ws: Workspace, run_id: object) -> dict[str, Any]:
    """A run's lineage as plain values."""
    rid = check_run_id(run_id)
    try:
        r = ws.registry().get(rid)
    except SupplytwinError as exc:
        raise UserError(str(exc).replace(str(ws.registry().path), "the registry")) from None
    params = r.params or {}
    return {
        "run_id": r.run_id, "kind": r.kind, "status": r.shown_status,
        "created_at": r.created_at, "finished_at": r.finished_at,
        "scenario_name": r.scenario_name, "scenario_file": r.scenario_file,
        "scenario_sha256": r.scenario_sha256, "data_sha256": r.data_sha256 or {},
        "version": r.version, "seed": r.seed, "replications": r.replications,
        "executor": r.executor, "command": r.command,
        "overrides": params.get("sets") or [], "scenarios": params.get("scenarios") or [],
        "artefacts": r.artefacts,
        "artefacts_inside_runs": r.artefacts is not None and _under(Path(r.artefacts), ws.runs_dir),
        "has_report": report_file(ws, r) is not None,
    }


def _artefacts(ws: Workspace, run_id: object) -> tuple[RunRecord, Path]:
    rid = check_run_id(run_id)
    try:
        rec = ws.registry().get(rid)
    except SupplytwinError:
        raise UserError(f"No run {_shown(rid)!r} in the registry.") from None
    if rec.shown_status != "complete" or not rec.artefacts:
        raise UserError(f"Run {rec.run_id} is {rec.shown_status}; it has no results to show.")
    folder = Path(rec.artefacts)
    if not _under(folder, ws.runs_dir):
        raise UserError(f"The results of run {rec.run_id} are outside the runs folder "
                        "(written with --out); the dashboard only opens results inside it.")
    if not folder.is_dir():
        raise UserError(f"The results folder of run {rec.run_id} is missing.")
    return rec, folder


def report_file(ws: Workspace | None, rec: RunRecord) -> Path | None:
    """The run's ``report.html`` when it exists inside the runs folder."""
    if not rec.artefacts:
        return None
    path = Path(rec.artefacts) / "report.html"
    if ws is not None and not _under(path, ws.runs_dir):
        return None
    return path if path.is_file() else None


def report_path(ws: Workspace, run_id: object) -> Path:
    """For the report route: the report of a run, only from inside the runs folder."""
    rid = check_run_id(run_id)
    try:
        rec = ws.registry().get(rid)
    except SupplytwinError:
        raise UserError(f"No run {_shown(rid)!r}.") from None
    if rec.run_id != rid:
        raise UserError(f"No run {_shown(rid)!r}.")  # no prefix matching from a URL
    path = report_file(ws, rec)
    if path is None:
        raise UserError(f"Run {rid} has no HTML report (start runs with a report to get one).")
    return path


@dataclass
class RunData:
    """The artefacts of one completed run, as tables."""

    run_id: str
    scenario: str
    manifest: dict[str, Any]
    summary: dict[str, dict[str, Any]]
    kpis: pd.DataFrame
    by_product: pd.DataFrame
    by_customer: pd.DataFrame
    timeseries: pd.DataFrame
    excursions_by_lane: pd.DataFrame | None
    #: mean daily demand served by each customer-facing (site, product): site_id, product_id,
    #: weight; empty when the scenario files cannot be loaded any more
    facing: pd.DataFrame

    @property
    def warmup_days(self) -> float:
        return float(self.manifest.get("warmup_days") or 0.0)

    @property
    def seed(self) -> int | None:
        seeds = self.manifest.get("seeds") or []
        return seeds[0] if seeds else None


def _read_parquet(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


@lru_cache(maxsize=16)
def _load_run_cached(folder: str, mtime_ns: int, run_id: str, scenario: str) -> RunData:
    f = Path(folder)
    manifest = json.loads((f / "manifest.json").read_text())
    if (f / "kpis_summary.json").is_file():
        summary = json.loads((f / "kpis_summary.json").read_text()).get("kpis", {})
        kpis = _read_parquet(f / "kpis_by_replication.parquet")
    else:  # a single run (supplytwin run without --reps): kpis.json
        single = json.loads((f / "kpis.json").read_text())
        summary = {k: {"mean": v, "sd": None, "ci95": [None, None], "n": 1}
                   for k, v in single.items()}
        kpis = pd.DataFrame([{"replication": manifest.get("replication", 0), **single}])
    by_product = _read_parquet(f / "kpis_by_product.parquet")
    if "replication" not in by_product.columns and len(by_product):
        by_product = by_product.assign(replication=0)
    timeseries = _read_parquet(f / "timeseries.parquet")
    if "replication" not in timeseries.columns and len(timeseries):
        timeseries = timeseries.assign(replication=0)
    lanes = f / "lanes.parquet"  # lane_id, units, excursions, replication
    return RunData(run_id, scenario, manifest, summary, kpis, by_product,
                   _read_parquet(f / "service_by_customer.parquet"), timeseries,
                   pd.read_parquet(lanes) if lanes.is_file() else None,
                   _facing(manifest))


def _facing(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """Customer-facing stock points and the demand they serve, from the run's scenario."""
    cols = ["site_id", "product_id", "weight"]
    path = manifest.get("scenario_file")
    if not path or not Path(path).is_file():
        return pd.DataFrame(columns=cols)
    try:
        sc = supplytwin.load_scenario(path, list(manifest.get("overrides") or []))
    except Exception:  # noqa: BLE001 - files changed since the run: fall back to no weights
        return pd.DataFrame(columns=cols)
    net = sc.network
    weights: dict[tuple[str, str], float] = {}
    for d in net.demand.values():
        srcs = net.demand_sources(d)
        if srcs:
            key = (srcs[0].origin_id, d.product_id)
            weights[key] = weights.get(key, 0.0) + net.demand_mean_rate(d)
    return pd.DataFrame([{"site_id": s, "product_id": p, "weight": w}
                         for (s, p), w in sorted(weights.items())], columns=cols)


def load_run(ws: Workspace, run_id: object) -> RunData:
    """Artefacts of a completed run inside the runs folder (cached per folder)."""
    rec, folder = _artefacts(ws, run_id)
    try:
        stamp = (folder / "manifest.json").stat().st_mtime_ns
        return _load_run_cached(str(folder), stamp, rec.run_id, rec.scenario_name or "")
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"The results of run {rec.run_id} cannot be read: {_shown(exc, 200)}") \
            from None


def _estimates(summary: Mapping[str, Mapping[str, Any]]):
    from supplytwin.experiment.stats import Estimate

    out = {}
    for k, v in summary.items():
        ci = v.get("ci95") or [None, None]
        out[k] = Estimate(
            float("nan") if v.get("mean") is None else float(v["mean"]),
            float("nan") if v.get("sd") is None else float(v["sd"]), int(v.get("n") or 0),
            tuple(float("nan") if c is None else float(c) for c in ci))
    return out


def compare_runs(ws: Workspace, run_ids: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """Differences of every other run against the first, per KPI, and how they were paired.

    Runs with the same root seed share their random numbers replication by replication
    (common random numbers), so their KPIs are paired by replication index and the CI is that
    of the paired differences; otherwise the runs are independent and Welch's interval is used.
    Columns: whatif, kpi, unit, n, base_mean, whatif_mean, difference, ci95_low, ci95_high,
    significant, paired.
    """
    ids = [check_run_id(r) for r in run_ids]
    if len(dict.fromkeys(ids)) < 2:
        raise UserError("Choose at least two different runs to compare.")
    runs = [load_run(ws, r) for r in dict.fromkeys(ids)]
    base = runs[0]
    rows, notes = [], []
    bt = base.kpis.set_index("replication")
    names = _labels(runs)
    for other, label in zip(runs[1:], names[1:], strict=True):
        ot = other.kpis.set_index("replication")
        common = bt.index.intersection(ot.index)
        paired = base.seed is not None and base.seed == other.seed and len(common) >= 2
        notes.append(f"{label}: " + (f"paired by replication ({len(common)} common, same seed)"
                                     if paired else "independent samples (Welch)"))
        for k in KPI_DOCS:
            if k not in bt.columns or k not in ot.columns:
                continue
            if paired:
                a = bt.loc[common, k].to_numpy(dtype=float)
                b = ot.loc[common, k].to_numpy(dtype=float)
                e = paired_difference(a, b)
            else:
                a = bt[k].dropna().to_numpy(dtype=float)
                b = ot[k].dropna().to_numpy(dtype=float)
                if len(a) < 2 or len(b) < 2:
                    e = t_interval([float(b.mean() - a.mean())] if len(a) and len(b) else [])
                else:
                    e = welch_difference(a, b)
            rows.append({
                "whatif": label, "kpi": k, "unit": KPI_DOCS[k][0], "n": e.n,
                "base_mean": float(pd.Series(a).mean()) if len(a) else float("nan"),
                "whatif_mean": float(pd.Series(b).mean()) if len(b) else float("nan"),
                "difference": e.mean, "ci95_low": e.ci95[0], "ci95_high": e.ci95[1],
                "significant": significant(e), "paired": paired,
            })
    return pd.DataFrame(rows), "; ".join(notes)


def _labels(runs: Sequence[RunData]) -> list[str]:
    """Readable, unique labels: scenario name, '+N overrides' when run with --set, and the
    last part of the run id."""
    out = []
    for r in runs:
        tail = r.run_id.rsplit("-", 1)[-1]
        n = len(r.manifest.get("overrides") or [])
        extra = f" +{n} override{'s' if n > 1 else ''}" if n else ""
        out.append(f"{r.scenario or 'run'}{extra} ({tail})")
    seen: dict[str, int] = {}
    for i, label in enumerate(out):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            out[i] = f"{label} #{seen[label]}"
    return out


def run_labels(runs: Sequence[RunData]) -> list[str]:
    return _labels(runs)


def site_kinds() -> dict[str, str]:
    """Site kind value -> readable label (from the report's legend)."""
    return {k: v[0] for k, v in KIND_STYLE.items()} | {
        k.value: k.value.replace("_", " ") for k in SiteKind if k.value not in KIND_STYLE}


# ================================================================ network design (Optimise) ====
#
# The Optimise page: ``supplytwin.opt.optimise`` on a chosen scenario in a background job, the
# design written as a saved scenario (like the Scenario page's Save), and a simulation of the
# design against the scenario it came from.

OBJECTIVES = {"cost": "total annual cost", "cost+co2": "cost + priced CO2"}
MAX_OPT_TIME_LIMIT_S = 600.0
MAX_K_SOURCING = 10


@dataclass(frozen=True)
class OptimiseSettings:
    """The options of the Optimise page, checked (see :func:`validate_optimise_settings`)."""

    objective: str = "cost"
    co2_price_usd_per_t: float = 100.0
    k_sourcing: int = 1
    #: share 0..1 of demand met after the loss of any one plant; None = off
    n_minus_1_share: float | None = None
    time_limit_s: float = 60.0
    #: relative MIP gap (0.001 = 0.1 %)
    mip_gap: float = 1e-3

    def describe(self) -> str:
        parts = [OBJECTIVES[self.objective]
                 + (f" at {self.co2_price_usd_per_t:g} USD/t CO2" if self.objective == "cost+co2"
                    else "")]
        if self.k_sourcing > 1:
            parts.append(f"{self.k_sourcing}-sourcing")
        if self.n_minus_1_share is not None:
            parts.append(f"N-1 share {self.n_minus_1_share:g}")
        parts.append(f"time limit {self.time_limit_s:g} s, gap {100 * self.mip_gap:g} %")
        return ", ".join(parts)


def _blank(x: Any) -> bool:
    return x is None or (isinstance(x, str) and not x.strip())


def validate_optimise_settings(raw: Mapping[str, Any]) -> OptimiseSettings:
    """The page's raw values -> :class:`OptimiseSettings`, or a :class:`UserError` naming the
    option and what is wrong with it. ``gap_percent`` is in percent (0.1 = 0.1 %)."""
    d = OptimiseSettings()
    objective = raw.get("objective") or d.objective
    if objective not in OBJECTIVES:
        raise UserError(f"Objective: choose cost or cost + CO2 (got {_shown(objective)!r}).")
    co2 = raw.get("co2_price")
    co2 = d.co2_price_usd_per_t if _blank(co2) else _positive(
        co2, "CO2 price (USD per tonne)", allow_zero=True, upper=1e6)
    k = raw.get("k_sourcing")
    k = d.k_sourcing if _blank(k) else int(_positive(k, "k-sourcing", integer=True,
                                                     upper=MAX_K_SOURCING))
    n1 = raw.get("n_minus_1")
    if _blank(n1):
        n1 = None
    else:
        n1 = _positive(n1, "N-1 share", allow_zero=True)
        if n1 > 1:
            raise UserError(f"N-1 share: a share of demand between 0 and 1 (got {_shown(n1)}); "
                            "leave it empty to switch N-1 off.")
    tl = raw.get("time_limit")
    tl = d.time_limit_s if _blank(tl) else _positive(tl, "Time limit (s)",
                                                     upper=MAX_OPT_TIME_LIMIT_S)
    gap = raw.get("gap_percent")
    gap = d.mip_gap if _blank(gap) else _positive(gap, "MIP gap (%)", allow_zero=True) / 100
    if gap >= 1:
        raise UserError(f"MIP gap (%): must be below 100 (got {_shown(raw.get('gap_percent'))}).")
    return OptimiseSettings(objective, float(co2), int(k), n1, float(tl), float(gap))


def _design_name(ws: Workspace, key: str, name: object) -> str:
    """The requested design name (checked, not taken yet), or the first free
    ``STEM-design-N``."""
    if not _blank(name):
        name = check_name(name)
        if (ws.saved_dir / f"{name}.yaml").exists():
            raise UserError(f"A saved scenario called {name!r} exists already; choose another "
                            "name.")
        return name
    stem = Path(str(key)).stem[: MAX_NAME_LENGTH - 12]
    n = 1
    while (ws.saved_dir / f"{stem}-design-{n}.yaml").exists():
        n += 1
    return f"{stem}-design-{n}"


def design_tables(sc: Scenario, result) -> dict[str, pd.DataFrame]:
    """Tables of a solved design for the page: ``sites`` (every site of the network with its
    coordinates; ``open`` as decided by the model for the sites it decides, else as in the
    scenario), ``flows`` (units per year aggregated per origin, destination and mode, largest
    first), ``costs`` (group, item, usd_per_year)."""
    model_sites = result.tables["sites"].set_index("site_id")
    rows = []
    for s in sc.network.sites.values():
        in_model = s.site_id in model_sites.index
        m = model_sites.loc[s.site_id] if in_model else None
        rows.append({
            "site_id": s.site_id, "name": s.name or s.site_id, "kind": s.kind.value,
            "latitude": s.latitude, "longitude": s.longitude,
            "candidate": bool(m["candidate"]) if in_model else False,
            "open_before": bool(m["open_before"]) if in_model else bool(s.is_open),
            "open": bool(m["open"]) if in_model else bool(s.is_open),
            "expanded": bool(m["expanded"]) if in_model else False,
            "throughput_units_per_year": float(m["throughput_units_per_year"]) if in_model
            else float("nan"),
        })
    sites = pd.DataFrame(rows)
    f = result.tables["flows"]
    cols = ["origin_id", "destination_id", "mode", "units_per_year", "products", "lanes",
            "to_customer"]
    if f.empty:
        flows = pd.DataFrame(columns=cols)
    else:
        flows = (f.groupby(["origin_id", "destination_id", "mode"], as_index=False, sort=False)
                 .agg(units_per_year=("units_per_year", "sum"),
                      products=("product_id", lambda x: ";".join(sorted(set(x)))),
                      lanes=("lane_id", lambda x: ";".join(sorted(set(x)))),
                      to_customer=("to_customer", "any"))
                 .sort_values("units_per_year", ascending=False, kind="stable")
                 .reset_index(drop=True))[cols]
    return {"sites": sites, "flows": flows, "costs": result.tables["costs"].copy()}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean({k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()})
            for r in df.to_dict(orient="records")]


def optimise_design(ws: Workspace, key: str, settings: OptimiseSettings, *,
                    name: object = None, progress: Callable[..., None] | None = None,
                    cancel: threading.Event | None = None) -> dict[str, Any]:
    """Optimise the network of scenario ``key``; when there is a design, write it as
    ``RUNS_DIR/scenarios/NAME.yaml`` (extending the scenario; validated by the loader, never
    overwriting) and return a JSON-able summary: status, cost, gap, tables (sites, flows,
    costs as records), the design's key and file — or, when infeasible, ``explanation``: the
    plain-words lines of :func:`supplytwin.opt.infeasibility.explain_infeasible`."""
    from supplytwin.opt import DesignOptions, SolverSettings, optimise
    from supplytwin.opt.design import write_design

    def step(done: int, label: str) -> None:
        if progress is not None:
            progress(done, 3, label)

    path = scenario_path(ws, key)
    design_name = _design_name(ws, key, name)
    try:
        options = DesignOptions(objective=settings.objective,
                                co2_price_usd_per_t=settings.co2_price_usd_per_t,
                                k_sourcing=settings.k_sourcing,
                                n_minus_1_share=settings.n_minus_1_share).validate()
        solver = SolverSettings(time_limit_s=settings.time_limit_s,
                                mip_gap=settings.mip_gap).validate()
    except SupplytwinError as exc:
        raise UserError(str(exc)) from None
    step(0, "loading the scenario")
    sc = load(ws, key)
    step(1, "building and solving the model (HiGHS)")
    res = optimise(sc, options, solver)
    o = res.outcome
    out: dict[str, Any] = {
        "scenario_key": key, "scenario_name": sc.name, "settings": settings.describe(),
        "status": o.status, "termination": o.termination, "ok": bool(res.ok),
        "objective_usd": res.objective if res.ok else None, "bound_usd": o.bound, "gap": o.gap,
        "timings_s": {k: res.stats.get(k) for k in ("extract_s", "build_s", "transfer_s",
                                                     "solve_s")},
        "model": {k: res.stats.get(k) for k in ("binaries", "continuous", "constraints")},
        "explanation": res.explanation.lines(25) if res.explanation is not None else None,
        "design_key": None, "design_file": None, "sites": [], "flows": [], "costs": [],
    }
    if not res.ok:
        out["message"] = (f"No design: the model is {o.status}." if o.status == "infeasible"
                          else f"No design: HiGHS stopped with {o.termination} before finding "
                               "one (raise the time limit or the gap).")
        return _clean(out)
    tables = design_tables(sc, res)
    out.update({k: _records(v) for k, v in tables.items()})
    unmet = res.tables["demand"]["unmet_units_per_year"].sum()
    out["unmet_units_per_year"] = float(unmet)
    if cancel is not None and cancel.is_set():
        out["state"] = "cancelled"
        out["message"] = "Cancelled: the design was not saved."
        return _clean(out)
    step(2, "writing the design scenario")
    target = _write_design_file(ws, sc, res, design_name, write_design)
    out["design_key"] = scenario_key(SAVED, target)
    out["design_file"] = display_path(ws, target)
    gap = f", gap {o.gap:.2%}" if math.isfinite(o.gap) else ""
    out["message"] = (f"Design found ({o.status}{gap}): annual cost {res.objective:,.0f} USD "
                      f"in the model. Saved as {out['design_file']} (extends "
                      f"{display_path(ws, path)}).")
    step(3, "done")
    return _clean(out)


def _write_design_file(ws: Workspace, sc: Scenario, res, name: str, write_design) -> Path:
    """``write_design`` into the saved-scenarios folder, never over an existing file; the file
    is checked by the scenario loader and removed again when invalid."""
    saved = ws.saved_dir
    saved.mkdir(parents=True, exist_ok=True)
    target = saved / f"{name}.yaml"
    extra = saved / f"{name}.policies.csv"
    if not _under(target, saved) or target.exists() or extra.exists():
        raise UserError(f"A saved scenario called {name!r} exists already; choose another name.")
    try:
        path = write_design(sc, res, saved, name=name, file_name=name)
    except SupplytwinError as exc:
        raise UserError(f"The design cannot be written as a scenario: {_shown(exc, 300)}") \
            from None
    problems = supplytwin.check_scenario(path)
    if problems:
        path.unlink(missing_ok=True)
        extra.unlink(missing_ok=True)
        raise UserError("The design scenario would be invalid, so it was not saved: "
                        + "; ".join(str(p) for p in problems[:6]))
    return path


def start_optimise(ws: Workspace, key: str, settings: OptimiseSettings, *, name: object = None,
                   runner: JobRunner | None = None) -> str:
    """Optimise in a background job (``JobRunner.submit_task``); the job's ``summary`` is
    :func:`optimise_design`'s. Bad keys and names are refused before the job starts."""
    scenario_path(ws, key)
    _design_name(ws, key, name)

    def task(progress, cancel):
        out = optimise_design(ws, key, settings, name=name, progress=progress, cancel=cancel)
        return {"summary": out, "message": out.get("message"),
                "state": out.get("state") or "done"}

    return (runner or JOBS).submit_task(f"optimise {key}", task)


def simulate_design(ws: Workspace, base_key: str, design_key: str, replications: object, *,
                    report: bool = True, workers: int | None = None,
                    progress: Callable[..., None] | None = None,
                    cancel: threading.Event | None = None) -> dict[str, Any]:
    """Simulate the scenario and its design with the same seed and replications — two recorded
    runs (``recorded.start``, as ``supplytwin run --reps N``), paired by replication on the
    Compare page (common random numbers). Returns the run ids and the Compare address."""
    reps = int(_positive(replications, "Replications", integer=True, upper=MAX_REPLICATIONS))
    paths = [scenario_path(ws, base_key), scenario_path(ws, design_key)]
    if workers is None:
        workers = 1 if reps == 1 else min(reps, os.cpu_count() or 1)
    total = 2 * reps
    ids: list[str] = []
    for k, path in enumerate(paths):
        last: list[str | None] = [None]

        def prog(done: int, _total: int, label: str, k=k, last=last) -> None:
            first = label != last[0]
            last[0] = label
            if progress is not None:
                progress(k * reps + done, total, label)
            # as in JobRunner._run_recorded: never on the first call (before the handler)
            if cancel is not None and cancel.is_set() and not first and done < _total:
                raise KeyboardInterrupt

        if cancel is not None and cancel.is_set():
            break
        req = recorded.Request("run", [str(path)], [], reps=reps, workers=workers,
                               report=report)
        try:
            outcome = recorded.start(req, Registry(ws.runs_dir), prog)
        except ScenarioError as exc:
            raise UserError(f"The scenario is invalid: {_problems_text(exc)}") from None
        except KeyboardInterrupt:
            break
        ids.append(outcome.run_id)
        if outcome.interrupted:
            break
    if len(ids) < 2 or (cancel is not None and cancel.is_set()):
        return {"state": "cancelled", "run_ids": ids,
                "message": "Cancelled; the runs recorded so far are in the Runs page "
                           f"({', '.join(ids) or 'none'})."}
    return {"state": "done", "run_ids": ids, "compare_href": f"/compare?runs={ids[0]},{ids[1]}",
            "message": f"Simulated {reps} replication(s) of each: base run {ids[0]}, design run "
                       f"{ids[1]} (same seed: paired by replication)."}


def start_design_simulation(ws: Workspace, base_key: str, design_key: str,
                            replications: object, *, report: bool = True,
                            workers: int | None = None, runner: JobRunner | None = None) -> str:
    """:func:`simulate_design` in a background job; refuses bad input before it starts."""
    int(_positive(replications, "Replications", integer=True, upper=MAX_REPLICATIONS))
    scenario_path(ws, base_key)
    scenario_path(ws, design_key)

    def task(progress, cancel):
        out = simulate_design(ws, base_key, design_key, replications, report=report,
                              workers=workers, progress=progress, cancel=cancel)
        return {"summary": out, "message": out["message"], "state": out["state"],
                "run_id": (out["run_ids"] or [None])[-1]}

    return (runner or JOBS).submit_task(f"simulate {design_key} against {base_key}", task)
