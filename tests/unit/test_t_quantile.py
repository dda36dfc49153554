"""The Student-t quantile behind every confidence interval (supplytwin.experiment.stats.t_quantile)
is scipy.stats.t.ppf to the last bit, and agrees with printed tables."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from supplytwin.experiment.stats import t_quantile

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995, 1.0])
def test_identical_to_scipy_stats_for_every_replication_count_and_welch_df(p):
    dfs = [*range(1, 501), 1.5, 2.7, 10.3, 57.91, 1e4, 1e9, math.inf]
    assert [t_quantile(p, df) for df in dfs] == [float(stats.t.ppf(p, df)) for df in dfs]


# two-sided 95 % (p = 0.975) critical values as printed in Student-t tables (3 decimals)
TABLE = {1: 12.706, 2: 4.303, 4: 2.776, 9: 2.262, 19: 2.093, 29: 2.045, 120: 1.980}


@pytest.mark.parametrize(("df", "value"), sorted(TABLE.items()))
def test_matches_printed_tables(df, value):
    assert t_quantile(0.975, df) == pytest.approx(value, abs=5e-4)


def test_the_normal_limit_and_the_ends():
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959964, abs=1e-6)
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(1.0, 7) == math.inf
    assert t_quantile(0.0, 7) == -math.inf
    assert math.isnan(t_quantile(0.975, math.nan))
