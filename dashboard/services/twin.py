"""The Twin page: today's position from a snapshot, runs forward from it, calibrations.

Snapshots and calibrations are named by *keys*, never paths:

- ``bundled/NAME``: the snapshot folder ``data/NAME/snapshot`` of the project (read only);
- ``run/RUN_ID``: the end state of a run from a snapshot (``RUNS/RUN_ID/end_state``), so a
  planner can roll the twin forward run after run;
- calibrations and monitoring checks are folders under ``RUNS/calibrations/`` written by
  ``supplytwin calibrate shipments --out`` and ``supplytwin monitor --out``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.services.checks import UserError, _positive, _under
from dashboard.services.jobs import JOBS, JobRunner
from dashboard.services.runs import _artefacts
from dashboard.services.workspace import Workspace, load, scenario_path
from supplytwin.errors import ScenarioError
from supplytwin.experiment import recorded

#: the longest forward run the page starts (days)
MAX_FORWARD_DAYS = 730


def _data_dir(ws: Workspace) -> Path:
    return ws.scenarios_dir.resolve().parent / "data"


def snapshot_keys(ws: Workspace) -> list[dict[str, str]]:
    """Snapshots the page can open: bundled ones, then end states of runs, newest first."""
    out = []
    data = _data_dir(ws)
    if data.is_dir():
        for d in sorted(data.iterdir()):
            if (d / "snapshot" / "snapshot.csv").is_file():
                out.append({"label": f"{d.name} (bundled)", "value": f"bundled/{d.name}"})
    for r in ws.registry().list(limit=200):
        if r.artefacts and (Path(str(r.artefacts)) / "end_state" / "snapshot.csv").is_file():
            out.append({"label": f"end of run {r.run_id}", "value": f"run/{r.run_id}"})
    return out


def _inside(path: Path, root: Path, what: str) -> Path:
    if not _under(path, root) or not path.is_dir():
        raise UserError(f"no such {what}")
    return path


def snapshot_folder(ws: Workspace, key: str) -> Path:
    """The folder a snapshot key names, inside the project's data or the runs folder."""
    kind, _, name = str(key or "").partition("/")
    if kind == "bundled" and name and "/" not in name and name not in (".", ".."):
        return _inside(_data_dir(ws) / name / "snapshot", _data_dir(ws), "snapshot")
    if kind == "run":
        _rec, folder = _artefacts(ws, name)
        return _inside(folder / "end_state", ws.runs_dir, "snapshot")
    raise UserError("choose a snapshot from the list")


def read_position(ws: Workspace, scenario_key: str, snapshot_key: str):
    """(scenario, snapshot) with the snapshot checked against the scenario."""
    from supplytwin.state import read_snapshot

    sc = load(ws, scenario_key)
    try:
        snap = read_snapshot(snapshot_folder(ws, snapshot_key), sc)
    except ScenarioError as exc:
        raise UserError("This snapshot does not fit the scenario: "
                        + "; ".join(str(p) for p in exc.problems[:5])
                        + (f" (and {len(exc.problems) - 5} more)" if len(exc.problems) > 5
                           else "")) from None
    return sc, snap


def position_tables(sc, snap) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Today's position: per site (stock on hand, in quarantine, days of supply), per lane
    (units on the way), and headline figures."""
    net = sc.network
    rows: dict[str, dict[str, float]] = {}
    for r in snap.on_hand:
        d = rows.setdefault(r.site_id, {"on_hand_units": 0.0, "quarantine_units": 0.0})
        d["quarantine_units" if r.status == "quarantine" else "on_hand_units"] += r.quantity_units
    # days of supply: released stock over the mean daily demand the site's stock points serve
    served: dict[str, float] = {}
    for d in net.demand.values():
        for lane in net.demand_sources(d)[:1]:
            served[lane.origin_id] = served.get(lane.origin_id, 0.0) + net.demand_mean_rate(d)
    sites = []
    for sid, s in net.sites.items():
        d = rows.get(sid, {"on_hand_units": 0.0, "quarantine_units": 0.0})
        rate = served.get(sid, 0.0)
        sites.append({"site_id": sid, "name": s.name or sid, "kind": s.kind.value,
                      "latitude": s.latitude, "longitude": s.longitude,
                      "on_hand_units": d["on_hand_units"],
                      "quarantine_units": d["quarantine_units"],
                      "days_of_supply": d["on_hand_units"] / rate if rate > 0 else math.nan,
                      "down": any(x.site_id == sid for x in snap.sites_down)})
    lanes: dict[str, float] = {}
    for r in snap.in_transit:
        lanes[r.lane_id] = lanes.get(r.lane_id, 0.0) + r.quantity_units
    lane_rows = []
    for lid, units in lanes.items():
        lane = net.lanes[lid]
        o, t = net.sites[lane.origin_id], net.sites[lane.destination_id]
        lane_rows.append({"lane_id": lid, "units": units, "mode": lane.mode.value,
                          "o_lat": o.latitude, "o_lon": o.longitude,
                          "d_lat": t.latitude, "d_lon": t.longitude})
    head = {"snapshot_date": snap.snapshot_date.isoformat(),
            "on_hand_units": sum(r.quantity_units for r in snap.on_hand if r.status != "quarantine"),
            "quarantine_units": sum(r.quantity_units for r in snap.on_hand
                                    if r.status == "quarantine"),
            "in_transit_units": sum(lanes.values()), "shipments": len({r.shipment_id
                                                                       for r in snap.in_transit}),
            "open_orders": len(snap.open_orders),
            "sites_down": [f"{x.site_id} for {x.until_day:g} days" for x in snap.sites_down]}
    return pd.DataFrame(sites), pd.DataFrame(lane_rows), head


def start_forward_run(ws: Workspace, scenario_key: str, snapshot_key: str, days: float,
                      replications: int, *, runner: JobRunner | None = None) -> str:
    """Start a recorded run of ``days`` from the snapshot; return the job id."""
    days = _positive(days, "Days", upper=MAX_FORWARD_DAYS)
    reps = int(_positive(replications, "Replications", integer=True, upper=200))
    read_position(ws, scenario_key, snapshot_key)  # refuse a bad pair before queueing
    path = scenario_path(ws, scenario_key)
    req = recorded.Request("run", [str(path)], [f"simulation.horizon_days={days:g}"], reps=reps,
                           workers=1 if reps == 1 else min(reps, os.cpu_count() or 1),
                           report=False, state=str(snapshot_folder(ws, snapshot_key)))
    return (runner or JOBS).submit(ws.runs_dir, req, scenario_key)


def calibration_keys(ws: Workspace) -> list[dict[str, str]]:
    root = ws.runs_dir / "calibrations"
    if not root.is_dir():
        return []
    return [{"label": d.name, "value": d.name} for d in sorted(root.iterdir())
            if (d / "calibration.json").is_file() or (d / "monitor.json").is_file()]


def calibration_view(ws: Workspace, name: str) -> dict[str, Any]:
    """A calibration's parameter table, or a monitoring check's coverage per month."""
    root = ws.runs_dir / "calibrations"
    if not name or "/" in str(name) or str(name) in (".", ".."):
        raise UserError("choose a calibration from the list")
    folder = _inside(root / str(name), root, "calibration")
    out: dict[str, Any] = {"name": str(name)}
    if (folder / "lane_parameters.csv").is_file():
        out["parameters"] = pd.read_csv(folder / "lane_parameters.csv")
        cal = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
        out["provenance"] = cal.get("provenance", {})
    if (folder / "monitor.json").is_file():
        mon = json.loads((folder / "monitor.json").read_text(encoding="utf-8"))
        out["monitor"] = mon
        out["coverage_by_month"] = pd.DataFrame(mon.get("by_month", []))
    return out
