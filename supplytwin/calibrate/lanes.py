"""Lane calibration: transit times, on-time rates and delays per lane and per mode.

A *lane* of the history is a (origin, destination, mode) triple as the data name them (origin
may be absent: SCMS records only the destination country). Two levels are fitted:

- **per mode**, pooling every lane of that mode: what a planner can use for a new lane;
- **per lane**, where the lane has at least :data:`~supplytwin.calibrate.fitting.MIN_OBSERVATIONS`
  shipments; thinner lanes are listed as unsupported, with their count, never silently fitted.

For each: the transit-time fits of every candidate family (best by AIC, with its bootstrap
goodness-of-fit p-value), the on-time rate (delivered no later than scheduled) with a Wilson 95 %
interval, and the distribution of the delay of late deliveries. The scenario-format output is an
``edits:`` block that sets ``transit_time_days`` of lanes by id, plus a CSV of every parameter.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from supplytwin.calibrate.fitting import MIN_OBSERVATIONS, Fit, fit_transit_times

#: nominal coverage of the prediction intervals written for monitoring and backtests
INTERVAL_LEVEL = 0.90


def slug(text: str) -> str:
    """A scenario id from free text: ASCII, ``[A-Za-z0-9_.-]``, at most 64 characters."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "-", ascii_text).strip("-._")
    return (s or "X")[:64]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (stays inside [0, 1], good at small n)."""
    if n == 0:
        return (math.nan, math.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class LaneFit:
    """What the history says about one lane (or one mode, pooled)."""

    level: str  # "mode" or "lane"
    lane_id: str
    origin: str
    destination: str
    mode_label: str
    lane_mode: str
    n: int
    fits: list[Fit] = field(default_factory=list)
    status: str = "fitted"
    on_time_n: int = 0
    on_time_rate: float = math.nan
    on_time_ci95: tuple[float, float] = (math.nan, math.nan)
    delay_fit: Fit | None = None
    observed_quantiles: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Fit | None:
        return self.fits[0] if self.fits else None

    def interval(self, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
        """The central prediction interval of one shipment's transit time."""
        if self.best is None:
            return (math.nan, math.nan)
        law = self.best.frozen()
        a = (1 - level) / 2
        return (float(law.ppf(a)), float(law.ppf(1 - a)))

    def as_dict(self) -> dict:
        lo, hi = self.interval()
        return {
            "level": self.level, "lane_id": self.lane_id, "origin": self.origin,
            "destination": self.destination, "mode_label": self.mode_label,
            "mode": self.lane_mode, "n": self.n, "status": self.status,
            "fits": [f.as_dict() for f in self.fits],
            "on_time_n": self.on_time_n, "on_time_rate": self.on_time_rate,
            "on_time_ci95": list(self.on_time_ci95),
            "delay_fit": self.delay_fit.as_dict() if self.delay_fit else None,
            "observed_quantiles": self.observed_quantiles,
            "interval": {"level": INTERVAL_LEVEL, "low_days": lo, "high_days": hi},
        }


def _observed_quantiles(x: np.ndarray) -> dict[str, float]:
    return {f"p{int(p * 100)}": float(np.quantile(x, p)) for p in (0.05, 0.1, 0.5, 0.9, 0.95)}


def _fit_group(level: str, lane_id: str, origin: str, destination: str, mode_label: str,
               lane_mode: str, g: pd.DataFrame, rng: np.random.Generator,
               gof_samples: int) -> LaneFit:
    x = g["transit_days"].to_numpy(dtype=float)
    out = LaneFit(level, lane_id, origin, destination, mode_label, lane_mode, len(x))
    if len(x):
        out.observed_quantiles = _observed_quantiles(x)
    if len(x) < MIN_OBSERVATIONS:
        out.status = f"too few shipments to fit (n={len(x)} < {MIN_OBSERVATIONS})"
    else:
        try:
            out.fits = fit_transit_times(x, rng, gof_samples=gof_samples)
        except ValueError as exc:  # e.g. every shipment took the same time
            out.status = f"not fitted: {exc}"
    known = g["on_time"].dropna()
    out.on_time_n = len(known)
    if out.on_time_n:
        hits = int(known.astype(bool).sum())
        out.on_time_rate = hits / out.on_time_n
        out.on_time_ci95 = wilson_interval(hits, out.on_time_n)
    late = g.loc[g["delay_days"] > 0, "delay_days"].to_numpy(dtype=float)
    if len(late) >= MIN_OBSERVATIONS and np.ptp(late) > 0:
        out.delay_fit = fit_transit_times(late, rng, gof_samples=0)[0]
    return out


def calibrate_lanes(shipments: pd.DataFrame, rng: np.random.Generator, *,
                    gof_samples: int = 199, progress=None) -> list[LaneFit]:
    """Fits per mode (pooled) and per lane, modes first, then lanes by descending count."""
    out: list[LaneFit] = []
    groups_mode = list(shipments.groupby(["mode", "lane_mode"], sort=True))
    groups_lane = sorted(shipments.groupby(["origin", "destination", "mode", "lane_mode"]),
                         key=lambda kv: (-len(kv[1]), kv[0]))
    total = len(groups_mode) + len(groups_lane)
    done = 0
    for (mode_label, lane_mode), g in groups_mode:
        out.append(_fit_group("mode", slug(f"ALL-{mode_label}"), "", "", mode_label, lane_mode,
                              g, rng, gof_samples))
        done += 1
        if progress:
            progress(done / total)
    for (origin, destination, mode_label, lane_mode), g in groups_lane:
        lane_id = slug("-".join(p for p in (origin, destination, mode_label) if p))
        out.append(_fit_group("lane", lane_id, origin, destination, mode_label, lane_mode, g,
                              rng, gof_samples))
        done += 1
        if progress:
            progress(done / total)
    return out


def parameters_table(fits: list[LaneFit]) -> pd.DataFrame:
    """One row per lane or mode: every fitted parameter, flat (for CSV and the report)."""
    rows = []
    for f in fits:
        b = f.best
        lo, hi = f.interval()
        rows.append({
            "level": f.level, "lane_id": f.lane_id, "origin": f.origin,
            "destination": f.destination, "mode_label": f.mode_label, "mode": f.lane_mode,
            "n": f.n, "status": f.status,
            "transit_time_days": b.text if b else "",
            "family": b.family if b else "", "aic": b.aic if b else math.nan,
            "aic_margin_next": (f.fits[1].aic - b.aic) if len(f.fits) > 1 else math.nan,
            "ks_statistic": b.ks_statistic if b else math.nan,
            "gof_p_value": b.gof_p_value if b else math.nan,
            "observed_p50_days": f.observed_quantiles.get("p50", math.nan),
            "fitted_p50_days": b.quantiles.get("p50", math.nan) if b else math.nan,
            "interval_low_days": lo, "interval_high_days": hi,
            "on_time_n": f.on_time_n, "on_time_rate": f.on_time_rate,
            "on_time_ci_low": f.on_time_ci95[0], "on_time_ci_high": f.on_time_ci95[1],
            "late_delay_days": f.delay_fit.text if f.delay_fit else "",
        })
    return pd.DataFrame(rows)


def scenario_edits(fits: list[LaneFit]) -> dict:
    """``{"edits": {"lanes": {lane_id: {"transit_time_days": text}}}}`` for fitted lanes, to
    paste into a scenario whose lanes use these ids (or to rename)."""
    lanes = {f.lane_id: {"transit_time_days": f.best.text}
             for f in fits if f.level == "lane" and f.best is not None}
    return {"edits": {"lanes": lanes}}
