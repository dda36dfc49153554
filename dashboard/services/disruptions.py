"""New disruptions a planner writes on the Scenario page: what each kind does, what it
applies to, what its magnitude means, and the check that turns the page's inputs into a
disruption row of the scenario (``disruptions:`` in the saved YAML, or a ``--set`` override).

Windows are entered as calendar dates: day 0 of a simulation is ``simulation.start_date``, so
a start date becomes ``start_day = date - start_date`` (whole days) and the page shows the day
number beside the date. The row is checked by the model's own :class:`DisruptionRow` (the
rules ``supplytwin validate`` applies), and its problems come back as a :class:`UserError`
naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from dashboard.services.checks import MAX_HORIZON_DAYS, UserError, _positive, _shown
from supplytwin.model import Scenario
from supplytwin.model.enums import PRODUCING_KINDS, DisruptionKind, Mode, SiteKind
from supplytwin.model.tables import DisruptionRow

#: kind -> (what happens, what it applies to: site / lane / mode / product / all,
#: what the magnitude means or None when it has none, its upper bound, the default)
NEW_KINDS: dict[str, tuple[str, tuple[str, ...], str | None, float | None, float]] = {
    DisruptionKind.SITE_OUTAGE.value: (
        "the site stops producing, shipping and receiving", ("site",), None, None, 1.0),
    DisruptionKind.PLANNED_SHUTDOWN.value: (
        "the site's production lines stop (maintenance); shipping goes on", ("site",), None,
        None, 1.0),
    DisruptionKind.SUPPLIER_FAILURE.value: (
        "the supplier delivers nothing", ("site",), None, None, 1.0),
    DisruptionKind.CAPACITY_LOSS.value: (
        "production lines or lane capacity reduced", ("site", "lane", "mode"),
        "share of capacity lost, 0 to 1 (0.3 = 30 % less capacity)", 1.0, 0.5),
    DisruptionKind.LANE_CLOSURE.value: (
        "no departures on the lane(s)", ("lane", "mode"), None, None, 1.0),
    DisruptionKind.LANE_DELAY.value: (
        "transit times multiplied", ("lane", "mode"),
        "transit-time multiplier (2 = shipments take twice as long)", 20.0, 2.0),
    DisruptionKind.DEMAND_SURGE.value: (
        "demand multiplied", ("product", "all"),
        "demand multiplier (1.5 = 50 % more orders; 0.5 = half)", 20.0, 1.5),
    DisruptionKind.QC_FAILURE_SPIKE.value: (
        "batches fail quality control more often", ("site",),
        "probability that a batch fails QC, 0 to 1 (0.4 = 40 % of batches)", 1.0, 0.4),
    DisruptionKind.EXCURSION_SPIKE.value: (
        "temperature excursions more likely (a heatwave)", ("lane", "mode", "all"),
        "excursion hazard multiplier (3 = three times as many excursions)", 50.0, 3.0),
}


def kind_options() -> list[dict[str, str]]:
    return [{"label": f"{k.replace('_', ' ')} — {v[0]}", "value": k}
            for k, v in NEW_KINDS.items()]


def magnitude_meaning(kind: object) -> str:
    """What the magnitude of a kind means, for the page to spell out."""
    spec = NEW_KINDS.get(str(kind))
    if spec is None:
        return "Choose a kind first."
    return f"Magnitude: {spec[2]}." if spec[2] else "No magnitude: it is on or off."


def _site_fits(kind: str, site_kind: SiteKind) -> bool:
    if site_kind == SiteKind.CUSTOMER:
        return False
    if kind == DisruptionKind.SUPPLIER_FAILURE.value:
        return site_kind in (SiteKind.SUPPLIER, SiteKind.EXTERNAL_SUPPLIER)
    if kind in (DisruptionKind.PLANNED_SHUTDOWN.value, DisruptionKind.QC_FAILURE_SPIKE.value,
                DisruptionKind.CAPACITY_LOSS.value):
        return site_kind in PRODUCING_KINDS
    # an external supplier has no lines to shut down, but it can be down altogether
    return True


def target_options(sc: Scenario, kind: object) -> list[dict[str, str]]:
    """What a new disruption of ``kind`` can apply to in ``sc``: values ``site:ID``,
    ``lane:ID``, ``mode:MODE``, ``product:ID`` or ``all``."""
    spec = NEW_KINDS.get(str(kind))
    if spec is None:
        return []
    net = sc.network
    out: list[dict[str, str]] = []
    for what in spec[1]:
        if what == "all":
            out.append({"label": "everything (every lane / every product)", "value": "all"})
        elif what == "site":
            out += [{"label": f"site {s.site_id} · {s.kind.value.replace('_', ' ')}",
                     "value": f"site:{s.site_id}"}
                    for s in sorted(net.sites.values(), key=lambda s: s.site_id)
                    if _site_fits(str(kind), s.kind)]
        elif what == "mode":
            modes = sorted({lane.mode.value for lane in net.lanes.values()})
            out += [{"label": f"every {m} lane", "value": f"mode:{m}"} for m in modes]
        elif what == "lane":
            out += [{"label": f"lane {lid} ({lane.origin_id} → {lane.destination_id}, "
                              f"{lane.mode.value})", "value": f"lane:{lid}"}
                    for lid, lane in sorted(net.lanes.items())]
        elif what == "product":
            out += [{"label": f"product {p}", "value": f"product:{p}"}
                    for p in sorted({p for (_c, p) in net.demand})]
    return out


def day_of(start_date: dt.date, value: object, what: str) -> float:
    """A date (YYYY-MM-DD) as a simulation day; a plain number is taken as the day."""
    text = str(value or "").strip()
    if not text:
        raise UserError(f"{what}: enter a date (YYYY-MM-DD).")
    try:
        return float(_positive(text, what, allow_zero=True, upper=MAX_HORIZON_DAYS))
    except UserError:
        pass
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{what}: {_shown(text)!r} is not a date; write YYYY-MM-DD, e.g. "
                        f"{start_date.isoformat()}.") from None
    day = (date - start_date).days
    if day < 0:
        raise UserError(f"{what}: {date.isoformat()} is before the simulation starts "
                        f"({start_date.isoformat()}, day 0).")
    return float(day)


def new_disruption(sc: Scenario, item: Mapping[str, Any], horizon_days: float,
                   taken: set[str]) -> dict[str, Any]:
    """The disruption row the page's inputs describe: ``item`` = {kind, target, start (a date
    or a day), duration_days, magnitude}. Raises :class:`UserError` naming the bad field."""
    kind = str(item.get("kind") or "")
    if kind not in NEW_KINDS:
        raise UserError("New disruption: choose what happens (its kind).")
    what, _targets, meaning, upper, _default = NEW_KINDS[kind]
    target = str(item.get("target") or "")
    if target not in {o["value"] for o in target_options(sc, kind)}:
        raise UserError(f"New disruption ({kind.replace('_', ' ')}): choose what it applies to"
                        + (f"; {_shown(target)!r} is not offered." if target else "."))
    start = day_of(sc.simulation.start_date, item.get("start"), "New disruption: start date")
    if start >= horizon_days:
        raise UserError(f"New disruption: it starts on day {start:g}, after the horizon of "
                        f"{horizon_days:g} days, so it would never happen.")
    duration = _positive(item.get("duration_days"), "New disruption: duration (days)",
                         upper=MAX_HORIZON_DAYS)
    row: dict[str, Any] = {"kind": kind, "start_day": start, "duration_days": float(duration)}
    if meaning is not None:
        m = item.get("magnitude")
        row["magnitude"] = _positive(m, f"New disruption: magnitude ({meaning})",
                                     allow_zero=kind != DisruptionKind.LANE_DELAY.value,
                                     upper=upper)
        if not math.isfinite(row["magnitude"]):
            raise UserError("New disruption: magnitude must be a finite number.")
    field_, _, value = target.partition(":")
    if field_ in ("site", "lane", "product"):
        row[f"{field_}_id"] = value
    elif field_ == "mode":
        row["mode"] = Mode(value).value
    base = f"new-{kind.replace('_', '-')}-{value or 'all'}".lower()
    did, n = base, 2
    while did in taken:
        did, n = f"{base}-{n}", n + 1
    taken.add(did)
    row = {"disruption_id": did, **row}
    try:
        DisruptionRow.model_validate(row)  # the rules supplytwin validate applies
    except ValidationError as exc:
        reason = "; ".join(e["msg"] for e in exc.errors())
        raise UserError(f"New disruption ({what}): {reason}") from None
    return row
