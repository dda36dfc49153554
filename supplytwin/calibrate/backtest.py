"""Backtest: calibrate on an earlier period, predict a later one, score the prediction.

Model-credibility guidance (ASME V&V 40; FDA, *Assessing the Credibility of Computational
Modeling and Simulation in Medical Device Submissions*, 2023) asks for validation against data
the model was not fitted to. Here the shipment history is split by ship date: everything before
the split calibrates the lanes (:func:`~supplytwin.calibrate.lanes.calibrate_lanes`), everything
after is what the twin should have predicted. For each mode and each lane with enough shipments
on both sides:

- **transit time**: predicted quantiles (p10, p50, p90) of the fitted law against the observed
  quantiles of the later period, and the *coverage* of the nominal 90 % prediction interval (the
  share of later shipments inside it; 90 % if the twin is right);
- **on-time rate**: predicted rate with a 90 % *predictive* interval for the share of the later
  shipments that arrive on time (beta-binomial: the uncertainty of the estimated rate plus the
  binomial noise of a finite number of later shipments), against the observed share.

Summary metrics: mean absolute error of the predicted median transit time (days) and of the
on-time rate (percentage points); pooled interval coverage, and the share of groups whose
observed on-time rate falls inside its predictive interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from supplytwin.calibrate.fitting import MIN_OBSERVATIONS
from supplytwin.calibrate.lanes import INTERVAL_LEVEL, LaneFit, calibrate_lanes

#: fewest later shipments a group needs to be scored
MIN_TEST_SHIPMENTS = 10


def beta_binomial_interval(hits: int, n_fit: int, n_new: int,
                           level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Central predictive interval of the on-time *share* among ``n_new`` future shipments,
    given ``hits`` of ``n_fit`` on time in the fitting period (Jeffreys prior Beta(1/2, 1/2))."""
    a, b = hits + 0.5, n_fit - hits + 0.5
    dist = stats.betabinom(n_new, a, b)
    lo_q = (1 - level) / 2
    return float(dist.ppf(lo_q) / n_new), float(dist.ppf(1 - lo_q) / n_new)


@dataclass
class BacktestResult:
    split_date: pd.Timestamp
    n_fit: int
    n_test: int
    groups: pd.DataFrame  # one row per scored mode or lane
    fits: list[LaneFit]

    def summary(self) -> dict:
        g = self.groups
        scored = g[g["scored"]]
        inside_n = scored["test_n"].sum()
        covered = (scored["coverage"] * scored["test_n"]).sum()
        ot = scored.dropna(subset=["observed_on_time"])
        return {
            "split_date": self.split_date.date().isoformat(),
            "shipments_fit": self.n_fit, "shipments_test": self.n_test,
            "groups_scored": len(scored),
            "interval_level": INTERVAL_LEVEL,
            "transit_interval_coverage": float(covered / inside_n) if inside_n else math.nan,
            "median_transit_mae_days": float((scored["predicted_p50"]
                                              - scored["observed_p50"]).abs().mean()),
            "on_time_mae_pp": float(100 * (ot["predicted_on_time"]
                                           - ot["observed_on_time"]).abs().mean()),
            "on_time_interval_hit_rate": float(ot["on_time_in_interval"].mean())
            if len(ot) else math.nan,
        }


def _key(f: LaneFit) -> tuple:
    return (f.level, f.origin, f.destination, f.mode_label)


def backtest(shipments: pd.DataFrame, split_date, rng: np.random.Generator, *,
             gof_samples: int = 0) -> BacktestResult:
    """Fit on shipments before ``split_date`` (by ship date), score those on or after it."""
    split = pd.Timestamp(split_date)
    fit_part = shipments[shipments["ship_date"] < split]
    test_part = shipments[shipments["ship_date"] >= split]
    if len(fit_part) < MIN_OBSERVATIONS or len(test_part) < MIN_TEST_SHIPMENTS:
        raise ValueError(
            f"split {split.date()} leaves {len(fit_part)} shipments to fit and {len(test_part)} "
            f"to test; choose a date with at least {MIN_OBSERVATIONS} and {MIN_TEST_SHIPMENTS}")
    fits = calibrate_lanes(fit_part, rng, gof_samples=gof_samples)
    test_groups = {("mode", "", "", m): g for m, g in test_part.groupby("mode")}
    test_groups |= {("lane", o, d, m): g
                    for (o, d, m), g in test_part.groupby(["origin", "destination", "mode"])}
    rows = []
    for f in fits:
        g = test_groups.get(_key(f))
        row = {"level": f.level, "lane_id": f.lane_id, "destination": f.destination,
               "mode_label": f.mode_label, "fit_n": f.n,
               "test_n": 0 if g is None else len(g), "scored": False}
        rows.append(row)
        if g is None or len(g) < MIN_TEST_SHIPMENTS or f.best is None:
            continue
        x = g["transit_days"].to_numpy(dtype=float)
        law = f.best.frozen()
        lo, hi = f.interval()
        row.update({
            "scored": True, "family": f.best.family,
            "predicted_p10": float(law.ppf(0.1)), "observed_p10": float(np.quantile(x, 0.1)),
            "predicted_p50": float(law.ppf(0.5)), "observed_p50": float(np.quantile(x, 0.5)),
            "predicted_p90": float(law.ppf(0.9)), "observed_p90": float(np.quantile(x, 0.9)),
            "interval_low": lo, "interval_high": hi,
            "coverage": float(np.mean((x >= lo) & (x <= hi))),
        })
        known = g["on_time"].dropna()
        if f.on_time_n and len(known):
            hits = round(f.on_time_rate * f.on_time_n)
            plo, phi = beta_binomial_interval(hits, f.on_time_n, len(known))
            obs = float(known.astype(bool).mean())
            row.update({"predicted_on_time": f.on_time_rate, "observed_on_time": obs,
                        "on_time_low": plo, "on_time_high": phi,
                        "on_time_in_interval": bool(plo <= obs <= phi)})
    cols = ["level", "lane_id", "destination", "mode_label", "fit_n", "test_n", "scored",
            "family", "predicted_p10", "observed_p10", "predicted_p50", "observed_p50",
            "predicted_p90", "observed_p90", "interval_low", "interval_high", "coverage",
            "predicted_on_time", "observed_on_time", "on_time_low", "on_time_high",
            "on_time_in_interval"]
    return BacktestResult(split, len(fit_part), len(test_part),
                          pd.DataFrame(rows).reindex(columns=cols), fits)
