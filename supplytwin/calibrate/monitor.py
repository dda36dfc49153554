"""Monitoring: do newer actuals still fall inside the calibrated prediction intervals?

A twin's credibility decays as the world changes (a new carrier, a port strike, a route change).
A calibration (``calibration.json`` written by ``supplytwin calibrate shipments``) holds, for
every fitted lane and mode, the central prediction interval of one shipment's transit time at a
nominal level (90 %). Newer shipments are matched to their lane (or, where the lane was not
fitted, to the pooled fit of their mode), and per lane and mode the monitor reports the share
inside the interval: its *coverage*.

A lane drifts when its coverage is below the planner's floor **and** the shortfall is not
sampling noise: a one-sided exact binomial test of "coverage = nominal level" rejects at
``alpha``. Both conditions are needed: with 8 shipments, 6 inside (75 %) is not evidence of
drift; with 300 shipments, 87 % against a nominal 90 % is evidence, but of a shortfall the planner
said to tolerate. Coverage per calendar month (all lanes together) shows when drift began.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy import stats

from supplytwin.errors import Problem, ScenarioError


@dataclass(frozen=True)
class IntervalRef:
    lane_id: str
    level: str
    low_days: float
    high_days: float


@dataclass
class MonitorResult:
    nominal: float
    min_coverage: float
    by_group: pd.DataFrame
    by_month: pd.DataFrame
    unmatched: int

    @property
    def drifting(self) -> pd.DataFrame:
        return self.by_group[self.by_group["drift"]]

    def summary(self) -> dict:
        g = self.by_group
        n = int(g["n"].sum())
        return {
            "nominal_coverage": self.nominal, "min_coverage": self.min_coverage,
            "shipments": n, "unmatched_shipments": self.unmatched,
            "coverage": float((g["coverage"] * g["n"]).sum() / n) if n else math.nan,
            "groups": len(g), "drifting": self.drifting["lane_id"].tolist(),
        }


def load_calibration(folder: str | Path) -> dict:
    path = Path(folder) / "calibration.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), reason=(
            "no calibration here; write one with: supplytwin calibrate shipments CSV --out "
            f"{folder}"))]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), reason=f"not a calibration file ({exc})")]) from None
    if not isinstance(data, dict) or "lanes" not in data:
        raise ScenarioError([Problem(str(path), reason="not a calibration file (no 'lanes')")])
    return data


def _references(calibration: dict) -> tuple[dict, dict, float]:
    by_lane, by_mode = {}, {}
    nominal = math.nan
    for lane in calibration["lanes"]:
        iv = lane.get("interval") or {}
        lo, hi = iv.get("low_days"), iv.get("high_days")
        if lane.get("status") != "fitted" or lo is None or hi is None:
            continue
        nominal = float(iv.get("level", 0.9))
        ref = IntervalRef(lane["lane_id"], lane["level"], float(lo), float(hi))
        if lane["level"] == "lane":
            by_lane[(lane["origin"], lane["destination"], lane["mode_label"])] = ref
        else:
            by_mode[lane["mode_label"]] = ref
    return by_lane, by_mode, nominal


def monitor(calibration: dict, shipments: pd.DataFrame, *, min_coverage: float = 0.8,
            alpha: float = 0.05) -> MonitorResult:
    """Coverage of the calibrated intervals by ``shipments`` (a clean shipment table)."""
    by_lane, by_mode, nominal = _references(calibration)
    if math.isnan(nominal):
        raise ScenarioError([Problem("calibration.json", reason="no fitted lane or mode to check")])
    refs = []
    for o, d, m in zip(shipments["origin"], shipments["destination"], shipments["mode"],
                       strict=True):
        refs.append(by_lane.get((o, d, m)) or by_mode.get(m))
    df = shipments.assign(ref=refs)
    unmatched = int(df["ref"].isna().sum())
    df = df[df["ref"].notna()].copy()
    df["lane_id"] = [r.lane_id for r in df["ref"]]
    df["inside"] = [r.low_days <= x <= r.high_days for r, x in zip(df["ref"], df["transit_days"],
                                                                    strict=True)]
    rows = []
    for lane_id, g in df.groupby("lane_id", sort=True):
        n, k = len(g), int(g["inside"].sum())
        p = float(stats.binomtest(k, n, nominal, alternative="less").pvalue)
        cov = k / n
        rows.append({"lane_id": lane_id, "mode_label": g["mode"].iloc[0], "n": n,
                     "inside": k, "outside_share": 1 - cov, "coverage": cov,
                     "p_value": p, "drift": bool(cov < min_coverage and p < alpha)})
    by_group = pd.DataFrame(rows, columns=["lane_id", "mode_label", "n", "inside",
                                           "outside_share", "coverage", "p_value", "drift"])
    month = df["ship_date"].dt.to_period("M").dt.to_timestamp()
    by_month = (df.groupby(month)["inside"].agg(["size", "mean"])
                .rename(columns={"size": "n", "mean": "coverage"}).reset_index()
                .rename(columns={"ship_date": "month"}))
    return MonitorResult(nominal, min_coverage, by_group, by_month, unmatched)
