"""Write an optimised design back as a scenario that ``supplytwin run`` takes directly.

The design scenario ``extends:`` the scenario it was optimised from and changes it only through
``edits:`` (see :mod:`supplytwin.scenario.loader`):

* ``sites``: ``is_open`` of every candidate site; an expanded distribution centre gets its
  storage capacities x (1 + ``expansion_storage_share``), an expanded plant one more line
  (on every production row of the site; ``capacity_batches_per_year`` scaled alike);
* ``policies``: the ``sources`` of every stock point that receives goods in the design: the
  lanes that carry them, largest flow first. One lane: ``sourcing_rule: primary`` followed by
  the stock point's other original lanes that remain usable (fail-over). Several lanes:
  ``sourcing_rule: split`` with ``split_shares`` proportional to the optimised flows;
  Reorder points, order-up-to levels and order quantities are scaled by the ratio of the
  design's flow through the stock point to its flow in the scenario as loaded
  (``rescale_policies``), so a site taking over another site's customers holds stock in
  proportion, but never more than the storage capacity of the product's temperature class at
  the site (levels of the products sharing a class are scaled down together). A stock point
  the design sends nothing to is set to order nothing (``s_S`` with both levels 0): its
  initial stock stays where it is;
* ``demand``: the ``sources`` of every customer x product: the lanes that serve it, largest
  flow first, then the other usable lanes from open sites, cheapest first (fail-over). The
  simulator serves a demand stream from its first available source, so a stream the
  optimiser split between lanes (only when a capacity binds) is served from the largest.

A distribution centre that the design makes stock a product it had no policy row for needs a
new row, which ``edits:`` cannot add: the design folder then holds a copy of the policies table
with the new rows (``days_of_supply``, reviewed weekly, target = lead time + review period +
safety stock in days) and the scenario points ``network.policies`` at it.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from supplytwin.errors import SupplytwinError
from supplytwin.model import PolicyRow, Scenario, TemperatureClass
from supplytwin.opt.data import DesignData, lane_timing
from supplytwin.opt.results import DesignResult
from supplytwin.opt.stock import REVIEW_DAYS, replenishment_lead_days


class DesignWriteError(SupplytwinError):
    """The design cannot be written as a scenario (e.g. the scenario has no source file)."""


def design_document(scenario: Scenario, result: DesignResult, *, name: str | None = None,
                    extends: str | None = None, policies_file: str = "policies.csv",
                    rescale_policies: bool = True
                    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """The YAML document of the design and, when new policy rows are needed, every row of the
    policies table (the original rows, then the new ones) as plain dicts."""
    if not result.ok or result.design is None or result.arc_flow is None:
        raise DesignWriteError("there is no solution to write as a scenario")
    data, net = result.data, scenario.network
    design, x = result.design, result.arc_flow
    open_sites = design.open_sites
    opts = result.options
    edits: dict[str, dict[str, dict[str, Any]]] = {"sites": {}, "policies": {}, "demand": {}}

    # ---- sites
    for i, s in enumerate(data.sites):
        if data.site_candidate[i]:
            edits["sites"][s] = {"is_open": s in open_sites}
    for s in sorted(design.expanded):
        i = data.site_index[s]
        if data.site_expansion_line_days[i] > 0:  # plant: one more line on every row
            for (ps, pp), prow in net.production.items():
                if ps != s:
                    continue
                change: dict[str, Any] = {"lines": prow.lines + 1}
                if prow.capacity_batches_per_year is not None:
                    change["capacity_batches_per_year"] = round(
                        prow.capacity_batches_per_year * (prow.lines + 1) / prow.lines, 6)
                edits.setdefault("production", {})[f"{ps}/{pp}"] = change
        else:
            row = net.sites[s]
            caps = edits["sites"].setdefault(s, {})
            for t in TemperatureClass:
                cap = row.storage_capacity_units(t)
                if cap is not None:
                    caps[f"capacity_{t.value}_units"] = round(
                        cap * (1.0 + opts.expansion_storage_share), 3)

    # ---- stock points: inbound lanes of the design
    new_rows: list[dict[str, Any]] = []
    inflow: dict[int, list[tuple[float, int]]] = {}
    for a in np.flatnonzero(x > 0):
        n = int(data.arc_to_node[a])
        if n >= 0:
            inflow.setdefault(n, []).append((float(x[a]), int(data.arc_lane[a])))
    for n, flows in sorted(inflow.items()):
        s, p = data.sites[data.node_site[n]], data.node_product[n]
        flows.sort(key=lambda fl: (-fl[0], data.lanes[fl[1]]))
        lanes = [data.lanes[l] for _f, l in flows]
        pol = net.policies.get((s, p))
        if len(lanes) > 1:
            total = sum(f for f, _l in flows)
            change = {"sources": ";".join(lanes), "sourcing_rule": "split",
                      "split_shares": ";".join(f"{f / total:.6g}" for f, _l in flows)}
        else:
            failover = [] if pol is None else [
                l for l in pol.sources if l != "make" and l not in lanes
                and l in net.lanes and net.lanes[l].origin_id in open_sites]
            change = {"sources": ";".join(lanes + failover), "sourcing_rule": "primary"}
            if pol is not None and pol.split_shares:
                change["split_shares"] = None
        if pol is not None:
            if rescale_policies:
                change.update(_rescaled(pol, net, sum(f for f, _l in flows)))
            edits["policies"][f"{s}/{p}"] = change
        else:
            new_rows.append(_new_policy(data, scenario, s, p, lanes, flows))

    if rescale_policies:
        _fit_storage(net, edits["policies"])

    # ---- stock points the design leaves without inflow order nothing (their stock stays)
    for (s, p), pol in net.policies.items():
        if pol.is_make or s not in open_sites or (s, p) not in data.node_index:
            continue
        if data.node_index[(s, p)] not in inflow and f"{s}/{p}" not in edits["policies"]:
            edits["policies"][f"{s}/{p}"] = {"policy": "s_S", "reorder_point_units": 0,
                                             "order_up_to_units": 0}

    # ---- demand streams (a fail-over lane must start at a stock point with a policy row)
    stocked = set(net.policies) | {(r["site_id"], r["product_id"]) for r in new_rows}
    unit = data.arc_unit_cost
    for k in range(len(data.demand_units)):
        c, p = data.demand_customer[k], data.demand_product[k]
        arcs = data.demand_in[k]
        served = sorted((a for a in arcs if x[a] > 0), key=lambda a: (-x[a], data.arc_label(a)))
        spare = sorted((a for a in arcs if x[a] <= 0
                        and data.sites[data.lane_origin[data.arc_lane[a]]] in open_sites
                        and (data.sites[data.lane_origin[data.arc_lane[a]]], p) in stocked),
                       key=lambda a: (unit[a], data.arc_label(a)))
        lanes = list(dict.fromkeys(data.lanes[data.arc_lane[a]] for a in served + spare))
        if lanes:
            edits["demand"][f"{c}/{p}"] = {"sources": ";".join(lanes)}

    edits = {t: rows for t, rows in edits.items() if rows}
    doc: dict[str, Any] = {
        "name": name or f"{scenario.name}-design",
        "description": _description(scenario, result),
    }
    if extends is not None:
        doc["extends"] = extends
    policies_rows = None
    if new_rows:
        doc["network"] = {"policies": policies_file}
        policies_rows = [r.model_dump(mode="json") for r in net.policies.values()] + new_rows
    doc["edits"] = edits
    return doc, policies_rows


def write_design(scenario: Scenario, result: DesignResult, folder: Path, *,
                 name: str | None = None, file_name: str | None = None,
                 final_folder: Path | None = None, rescale_policies: bool = True,
                 sets: Sequence[str] = ()) -> Path:
    """Write the design scenario (and its policies table if needed) into ``folder``.

    ``extends`` is written relative to ``final_folder`` (default ``folder``): the folder the
    files will finally live in when ``folder`` is a temporary one renamed afterwards. ``sets``
    are the ``--set`` overrides the scenario was loaded with: they are written into the design
    (under the design's own edits), so the design scenario is the network that was optimised.
    """
    if scenario.source is None:
        raise DesignWriteError("the scenario was built in code, not loaded from a file: a design "
                               "scenario must extend a scenario file")
    folder = Path(folder)
    final = Path(final_folder or folder).resolve()
    extends = os.path.relpath(scenario.source, final)
    stem = file_name or f"{name or scenario.name + '-design'}"
    policies_file = f"{stem}.policies.csv"
    doc, policies_rows = design_document(scenario, result, name=name, extends=extends,
                                         policies_file=policies_file,
                                         rescale_policies=rescale_policies)
    if sets:
        doc = _with_sets(doc, sets)
    folder.mkdir(parents=True, exist_ok=True)
    if policies_rows is not None:
        _write_csv(folder / policies_file, policies_rows, list(PolicyRow.model_fields))
    path = folder / f"{stem}.yaml"
    header = ("# Network design written by supplytwin optimize. It extends the scenario it was\n"
              "# optimised from; run it with `supplytwin run` or compare it with "
              "`supplytwin compare`.\n")
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True,
                                            width=100), encoding="utf-8")
    return path


def _with_sets(doc: dict[str, Any], sets: Sequence[str]) -> dict[str, Any]:
    """``doc`` with the ``--set`` overrides underneath it (the design's own keys win)."""
    from supplytwin.scenario.loader import apply_sets

    class _Ignore:  # the overrides were checked when the scenario was loaded
        def add(self, *args: Any, **kwargs: Any) -> None:
            pass

    base: dict[str, Any] = {}
    apply_sets(base, list(sets), _Ignore())  # type: ignore[arg-type]
    for k in ("name", "description", "extends"):
        base.pop(k, None)
    head = {k: doc[k] for k in ("name", "description", "extends") if k in doc}
    return {**head, **_merge(base, {k: v for k, v in doc.items() if k not in head})}


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _description(scenario: Scenario, result: DesignResult) -> str:
    o = result.options
    opened = sorted(result.design.open_sites & {s for i, s in enumerate(result.data.sites)
                                                if result.data.site_candidate[i]})
    closed = sorted({s for i, s in enumerate(result.data.sites) if result.data.site_candidate[i]}
                    - result.design.open_sites)
    parts = [f"Network design of {scenario.name} (objective {o.objective}",
             f"{result.outcome.status}, gap {result.outcome.gap:.3%})." if math.isfinite(
                 result.outcome.gap) else f"{result.outcome.status}).",
             f"Annual cost {result.objective:,.0f} USD in the design model."]
    if opened:
        parts.append("Candidate sites open: " + ", ".join(opened) + ".")
    if closed:
        parts.append("Candidate sites closed: " + ", ".join(closed) + ".")
    if result.design.expanded:
        parts.append("Expanded: " + ", ".join(sorted(result.design.expanded)) + ".")
    extra = []
    if o.k_sourcing > 1:
        extra.append(f"k-sourcing {o.k_sourcing}")
    if o.n_minus_1_share is not None:
        extra.append(f"N-1 share {o.n_minus_1_share:g}")
    if o.single_sourcing:
        extra.append("single sourcing")
    if o.co2_cap_t is not None:
        extra.append(f"CO2 cap {o.co2_cap_t:g} t")
    if o.max_transit_days is not None:
        extra.append(f"max transit {o.max_transit_days:g} days")
    if extra:
        parts.append("Options: " + ", ".join(extra) + ".")
    return " ".join(parts)


def _new_policy(data: DesignData, scenario: Scenario, site: str, product: str, lanes: list[str],
                flows: list[tuple[float, int]]) -> dict[str, Any]:
    """A days-of-supply policy for a stock point the design creates."""
    net = scenario.network
    lead = replenishment_lead_days(net, lanes[0], lane_timing(net.lanes[lanes[0]]).lead_days)
    cover = lead + REVIEW_DAYS
    safety = data.options.service_z * math.sqrt(cover) * data.product_cv.get(product, 0.5)
    row: dict[str, Any] = {
        "site_id": site, "product_id": product, "policy": "days_of_supply",
        "review_period_days": REVIEW_DAYS, "days_of_supply_target": round(cover + safety, 2),
        "sources": ";".join(lanes),
    }
    if len(lanes) > 1:
        total = sum(f for f, _l in flows)
        row["sourcing_rule"] = "split"
        row["split_shares"] = ";".join(f"{f / total:.6g}" for f, _l in flows)
    else:
        row["sourcing_rule"] = "primary"
    # validate now: a bad row is a bug here, not the user's
    PolicyRow.model_validate(row)
    return row


def _rescaled(pol: PolicyRow, net, new_units_per_year: float) -> dict[str, Any]:
    """Reorder points and order-up-to levels scaled by (design flow / flow in the scenario as
    loaded) so a stock point that takes over another one's customers holds stock in proportion;
    days-of-supply targets follow the flow by themselves."""
    old = net.mean_daily_demand.get((pol.site_id, pol.product_id), 0.0) * 365.0
    if pol.policy.value == "days_of_supply" or old <= 0 or new_units_per_year <= 0:
        return {}
    f = new_units_per_year / old
    if abs(f - 1.0) < 0.05:
        return {}
    out: dict[str, Any] = {}
    for col in ("reorder_point_units", "order_up_to_units", "order_quantity_units"):
        v = getattr(pol, col)
        if v is not None:
            out[col] = max(float(round(v * f)), 1.0 if col == "order_quantity_units" else 0.0)
    return out


def _fit_storage(net, changes: dict[str, dict[str, Any]]) -> None:
    """Scale down rescaled stock levels whose sum over a site's products of one temperature
    class exceeds the class's storage capacity: a base-stock level above the room there is
    could never be put away (replenishments would wait at the dock for ever)."""
    groups: dict[tuple[str, TemperatureClass], list[tuple[str, PolicyRow]]] = {}
    for key, change in changes.items():
        s, p = key.split("/", 1)
        pol = net.policies.get((s, p))
        if pol is None or "order_up_to_units" not in change and "reorder_point_units" not in change:
            continue
        groups.setdefault((s, net.products[p].temperature_class), []).append((key, pol))
    for (s, tclass), members in groups.items():
        cap = net.sites[s].storage_capacity_units(tclass)
        if cap is None:
            continue

        def top(key: str, pol: PolicyRow) -> float:
            c = changes[key]
            up = c.get("order_up_to_units", pol.order_up_to_units)
            if up is not None:
                return float(up)
            q = c.get("order_quantity_units", pol.order_quantity_units) or 0.0
            return float(c.get("reorder_point_units", pol.reorder_point_units) or 0.0) + q

        total = sum(top(k, pol) for k, pol in members)
        if total <= cap:
            continue
        f = cap / total
        for key, _pol in members:
            for col in ("reorder_point_units", "order_up_to_units", "order_quantity_units"):
                if col in changes[key]:
                    floor = 1.0 if col == "order_quantity_units" else 0.0
                    changes[key][col] = max(float(math.floor(changes[key][col] * f)), floor)


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k)) for k in columns})


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return ";".join(str(x) for x in v)
    return v
