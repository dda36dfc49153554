"""Batch-means confidence intervals for steady-state validation."""

from __future__ import annotations

import numpy as np
from scipy import stats


def batch_means_ci(values: np.ndarray, times: np.ndarray, start: float, end: float,
                   n_batches: int = 30, weights: np.ndarray | None = None,
                   confidence: float = 0.99) -> tuple[float, float, float]:
    """Mean and CI of a ratio-free statistic from ``n_batches`` equal time batches.

    With ``weights``, each batch's value is sum(values)/sum(weights) (a ratio such as a fill
    rate); otherwise the batch mean of ``values``.
    """
    edges = np.linspace(start, end, n_batches + 1)
    idx = np.digitize(times, edges) - 1
    means = []
    for b in range(n_batches):
        sel = idx == b
        if weights is None:
            means.append(values[sel].mean())
        else:
            means.append(values[sel].sum() / weights[sel].sum())
    means = np.asarray(means)
    m = means.mean()
    half = stats.t.ppf(0.5 + confidence / 2, n_batches - 1) * means.std(ddof=1) / np.sqrt(n_batches)
    return m, m - half, m + half
