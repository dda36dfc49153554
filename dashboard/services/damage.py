"""Where the damage landed, for the pages: which customer sits where and who serves it, a
difference of two runs broken down by product, customer, region and site, one run's service by
customer, the disruption windows of a run as days and dates, and the values that colour the
network map by a run's results.

The arithmetic is :mod:`supplytwin.experiment.breakdown` (pure pandas, unit-tested); this
module only finds its inputs: the run's artefacts (``service_by_customer.parquet``, the daily
time series) and the run's scenario, loaded again from the files and overrides its manifest
names, for the attributes the artefacts do not carry (a customer's region and serving site, a
product's patients per unit, disruption windows, storage capacities).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.services.checks import UserError
from dashboard.services.runs import RunData, check_ref, load_run, run_labels
from dashboard.services.runs import scenario_cached as _scenario_cached
from dashboard.services.workspace import Workspace
from supplytwin.experiment import breakdown as bd
from supplytwin.experiment.sides import split_side_ref
from supplytwin.model import Scenario
from supplytwin.model.enums import TemperatureClass
from supplytwin.stress.sides import with_side_disruptions

#: the breakdowns the Compare page offers: value -> (label, columns)
BREAKDOWNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stock point": ("stock point (site / product)", ("site_id", "product_id")),
    "site": ("serving site", ("site_id",)),
    "product": ("product", ("product_id",)),
    "customer": ("customer", ("customer_id",)),
    "region": ("region", ("region",)),
}

#: what the results-coloured map can show: value -> (label, scale of one run, of a difference)
MAP_METRICS: dict[str, tuple[str, str, str]] = {
    "fill_rate": ("fill rate per customer", "rate", "difference"),
    "patients_affected": ("patients affected per customer", "count", "difference_worse"),
    "storage_utilisation": ("storage utilisation per site", "rate", "difference_worse"),
}


def run_scenario(run: RunData) -> Scenario | None:
    """The run's scenario, loaded from the file and overrides its manifest names; None when
    the file is gone or no longer loads."""
    path = run.manifest.get("scenario_file")
    if not path or not Path(path).is_file():
        return None
    sc = _scenario_cached(str(path), Path(path).stat().st_mtime_ns,
                          tuple(run.manifest.get("overrides") or ()))
    # a stress battery's what-if (ID@whatifK): the base plus the disruptions the what-if adds
    return with_side_disruptions(sc, run.manifest, split_side_ref(run.run_id)[1])


def customer_attributes(sc: Scenario | None) -> pd.DataFrame:
    """Per customer and product: region, the site whose stock serves it (the origin of its
    first supplying lane) and the product's patients per unit."""
    if sc is None:
        return pd.DataFrame(columns=list(bd.ATTRIBUTE_COLUMNS))
    net = sc.network
    rows = []
    for d in net.demand.values():
        sources = net.demand_sources(d)
        customer = net.sites.get(d.customer_id)
        rows.append({
            "customer_id": d.customer_id, "product_id": d.product_id,
            "region": (customer.region if customer is not None else "") or "",
            "site_id": sources[0].origin_id if sources else "",
            "patients_per_unit": float(net.products[d.product_id].patients_per_unit),
        })
    return pd.DataFrame(rows, columns=list(bd.ATTRIBUTE_COLUMNS))


def _attributes(runs: Sequence[RunData]) -> pd.DataFrame:
    frames = [customer_attributes(run_scenario(r)) for r in runs]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(bd.ATTRIBUTE_COLUMNS))
    return pd.concat(frames).drop_duplicates(["customer_id", "product_id"])


def paired(base: RunData, other: RunData) -> bool:
    """The runs share their seed and at least two replications: common random numbers."""
    if base.seed is None or base.seed != other.seed:
        return False
    a = set(base.kpis.get("replication", pd.Series(dtype=int)))
    b = set(other.kpis.get("replication", pd.Series(dtype=int)))
    return len(a & b) >= 2


def check_breakdown(dimension: object) -> str:
    if dimension not in BREAKDOWNS:
        raise UserError(f"Break down by one of: {', '.join(BREAKDOWNS)}.")
    return str(dimension)


def run_breakdown(ws: Workspace, run_ids: Sequence[str], dimension: object = "stock point"
                  ) -> dict[str, Any]:
    """The difference of the second run against the first, by ``dimension``.

    Returns {table, keys, label, paired, base, other, note}: ``table`` as
    :func:`supplytwin.experiment.breakdown.breakdown`, most additional patients first."""
    dim = check_breakdown(dimension)
    ids = list(dict.fromkeys(check_ref(r) for r in run_ids))
    if len(ids) < 2:
        raise UserError("Choose at least two different runs to compare.")
    base, other = load_run(ws, ids[0]), load_run(ws, ids[1])
    labels = run_labels([base, other])
    if base.by_customer.empty or other.by_customer.empty:
        raise UserError("These runs hold no service by customer (service_by_customer.parquet), "
                        "so the difference cannot be broken down.")
    attrs = _attributes([base, other])
    is_paired = paired(base, other)
    keys = BREAKDOWNS[dim][1]
    table = bd.breakdown(base.by_customer, other.by_customer, attrs, keys, paired=is_paired)
    note = ("" if not attrs.empty else
            " The runs' scenario files no longer load, so regions, sites and patients per "
            "unit are unknown.")
    return {"table": table, "keys": list(keys), "label": BREAKDOWNS[dim][0],
            "paired": is_paired, "base": labels[0], "other": labels[1], "note": note}


def most_affected_stock_point(ws: Workspace, run_ids: Sequence[str]) -> tuple[str, str] | None:
    """(site, product) whose patients affected grew most from the first run to the second."""
    try:
        b = run_breakdown(ws, run_ids, "stock point")
    except UserError:
        return None
    t = b["table"]
    t = t[(t["site_id"] != bd.UNKNOWN) & (t["site_id"] != "")]
    found = bd.most_affected(t, ("site_id", "product_id"))
    return (found[0], found[1]) if found else None


def run_service(ws: Workspace, run_id: object, dimension: object = "customer") -> pd.DataFrame:
    """One run's service by ``dimension``: :func:`supplytwin.experiment.breakdown.service`."""
    dim = check_breakdown(dimension)
    run = load_run(ws, run_id)
    return bd.service(run.by_customer, _attributes([run]), BREAKDOWNS[dim][1])


# ---------------------------------------------------------------- disruption windows ----------


def day_date(start_date: dt.date | str | None, day: float) -> str:
    """The calendar date of a simulation day (day 0 is ``simulation.start_date``)."""
    if start_date is None or not math.isfinite(day):
        return ""
    d0 = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
    return (d0 + dt.timedelta(days=math.floor(day))).isoformat()


def _target(d: Mapping[str, Any]) -> str:
    parts = [str(d[k]) for k in ("site_id", "lane_id", "mode", "product_id", "customer_id")
             if d.get(k)]
    return ", ".join(parts) or "everything"


def disruption_windows(sc: Scenario | None) -> list[dict[str, Any]]:
    """The scheduled, enabled disruptions of a scenario within its horizon: disruption_id,
    kind, target, start_day, end_day, start_date, end_date, label. Random ones (MTBF/MTTR)
    have no fixed window, and ones lasting the whole horizon (a demand multiplier) are a
    setting rather than an event: both are left out."""
    if sc is None:
        return []
    horizon = sc.simulation.horizon_days
    start_date = sc.simulation.start_date
    out = []
    for d in sc.network.disruptions:
        if not d.enabled or d.start_day is None or d.duration_days is None:
            continue
        if d.start_day >= horizon:
            continue
        if d.start_day <= 0 and d.start_day + d.duration_days >= horizon:
            continue  # all along (a demand multiplier of the Scenario page): not a window
        end = min(d.start_day + d.duration_days, horizon)
        row = d.model_dump(mode="json", exclude_none=True)
        out.append({
            "disruption_id": d.disruption_id, "kind": d.kind.value, "target": _target(row),
            "start_day": float(d.start_day), "end_day": float(end),
            "start_date": day_date(start_date, d.start_day), "end_date": day_date(start_date, end),
            "label": f"{d.disruption_id} ({d.kind.value.replace('_', ' ')})",
        })
    return out


def run_disruption_windows(ws: Workspace, run_id: object) -> list[dict[str, Any]]:
    return disruption_windows(run_scenario(load_run(ws, run_id)))


# ---------------------------------------------------------------- results on the map ----------


def _tclass(sc: Scenario, product: str) -> TemperatureClass | None:
    p = sc.network.products.get(product)
    return p.temperature_class if p is not None else None


def storage_utilisation(run: RunData, sc: Scenario | None) -> pd.DataFrame:
    """Per site: the mean stock on hand over the measured period (after the warm-up) and
    the replications, divided by the site's storage capacity, per temperature class with a
    capacity; a site's value is its fullest class. Columns: site_id, value, detail."""
    cols = ["site_id", "value", "detail"]
    ts = run.timeseries
    if sc is None or ts is None or ts.empty:
        return pd.DataFrame(columns=cols)
    ts = ts[ts["time_days"] >= run.warmup_days]
    tclass = {p: (t.value if t is not None else None)
              for p in ts["product_id"].unique() for t in [_tclass(sc, p)]}
    ts = ts.assign(tclass=ts["product_id"].map(tclass))
    daily = ts.groupby(["site_id", "tclass", "replication", "time_days"], dropna=True)[
        "on_hand_units"].sum()
    mean = daily.groupby(["site_id", "tclass"]).mean()
    rows: dict[str, tuple[float, str]] = {}
    for (site, tc), units in mean.items():
        s = sc.network.sites.get(site)
        tc = TemperatureClass(tc)
        cap = s.storage_capacity_units(tc) if s is not None else None
        if not cap:
            continue
        u = float(units) / float(cap)
        if site not in rows or u > rows[site][0]:
            rows[site] = (u, f"{tc.value}: {units:,.0f} of {cap:,.0f} units")
    return pd.DataFrame([{"site_id": s, "value": v, "detail": t} for s, (v, t) in rows.items()],
                        columns=cols)


def _only(table: pd.DataFrame, products: Sequence[str] | None) -> pd.DataFrame:
    if not products or table is None or table.empty or "product_id" not in table.columns:
        return table
    return table[table["product_id"].isin(list(products))]


def _site_values(run: RunData, metric: str, products: Sequence[str] | None = None
                 ) -> pd.DataFrame:
    """Per site (customers for service metrics): value and a short detail text, over
    ``products`` (all when empty)."""
    sc = run_scenario(run)
    if metric == "storage_utilisation":
        if products:
            run = dataclasses.replace(run, timeseries=_only(run.timeseries, products))
        return storage_utilisation(run, sc)
    s = bd.service(_only(run.by_customer, products), _attributes([run]), ("customer_id",))
    s = s.rename(columns={"customer_id": "site_id"})
    if metric == "fill_rate":
        return s.assign(value=s["fill_rate"], detail=[
            f"{d:,.0f} units ordered per replication" for d in s["demand_units"]])[
            ["site_id", "value", "detail"]]
    return s.assign(value=s["patients_affected"], detail=[
        f"{u:,.0f} units not shipped at once" for u in s["unfilled_units"]])[
        ["site_id", "value", "detail"]]


def check_map_metric(metric: object) -> str:
    if metric not in MAP_METRICS:
        raise UserError(f"Colour the map by one of: {', '.join(MAP_METRICS)}.")
    return str(metric)


def _fmt_value(metric: str, x: float, difference: bool = False) -> str:
    if not math.isfinite(x):
        return "–"
    if MAP_METRICS[metric][1] == "rate":
        return f"{100 * x:+.2f} pp" if difference else f"{x:.1%}"
    return f"{x:+,.1f}" if difference else f"{x:,.1f}"


def map_values(ws: Workspace, run_ids: Sequence[str], metric: object,
               products: Sequence[str] | None = None) -> dict[str, Any]:
    """Values that colour the network map: of one run, or of the second run minus the first
    (rates in percentage points). Returns {values (site_id, value, text), metric, scale,
    title, scenario_key}; the map is drawn on the (first) run's scenario."""
    m = check_map_metric(metric)
    ids = list(dict.fromkeys(check_ref(r) for r in run_ids if r))
    if not ids:
        raise UserError("Choose a run to colour the map by.")
    runs = [load_run(ws, r) for r in ids[:2]]
    labels = run_labels(runs)
    label, scale_one, scale_diff = MAP_METRICS[m]
    first = _site_values(runs[0], m, products)
    if len(runs) == 1:
        values = first.assign(text=[
            f"<b>{s}</b><br>{label}: {_fmt_value(m, v)}<br>{d}"
            for s, v, d in zip(first["site_id"], first["value"], first["detail"], strict=True)])
        return {"values": values[["site_id", "value", "text"]], "metric": label,
                "scale": scale_one, "title": f"{labels[0]}: {label}", "run": runs[0]}
    second = _site_values(runs[1], m, products)
    both = first.merge(second, on="site_id", how="outer", suffixes=("_base", "_other"))
    scale = 100.0 if scale_one == "rate" else 1.0
    diff = (both["value_other"] - both["value_base"]) * scale
    values = pd.DataFrame({"site_id": both["site_id"], "value": diff, "text": [
        f"<b>{s}</b><br>{label}: {_fmt_value(m, d / scale, True)}<br>"
        f"{_fmt_value(m, a)} → {_fmt_value(m, b)}"
        for s, d, a, b in zip(both["site_id"], diff, both["value_base"].fillna(math.nan),
                              both["value_other"].fillna(math.nan), strict=True)]})
    unit = " (pp)" if scale_one == "rate" else ""
    return {"values": values, "metric": f"change{unit}", "scale": scale_diff,
            "title": f"{labels[1]} − {labels[0]}: change in {label}", "run": runs[0]}


def upstream_products(sc: Scenario, products: Sequence[str] | None) -> list[str]:
    """``products`` and every material they are made from (the bill of materials, followed
    up the chain): filtering the map by a product then keeps the sites that make its drug
    substance and supply its inputs."""
    if not products:
        return []
    inputs: dict[str, set[str]] = {}
    for (_site, product), rows in sc.network.bom.items():
        for b in rows:
            inputs.setdefault(product, set()).add(b.input_product_id)
    seen = set(products)
    todo = list(products)
    while todo:
        for i in inputs.get(todo.pop(), ()):
            if i not in seen:
                seen.add(i)
                todo.append(i)
    return sorted(seen)
