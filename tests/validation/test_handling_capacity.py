"""A site's handling (dock) capacity: receipts off lanes and picks onto lanes share it per day.

A DC with base stock S and lost sales replenishes exactly what it ships, so every unit that
reaches a customer is handled twice at the DC (picked, and its replacement received). With a
handling capacity of H units a day and customer demand well above H / 2, the DC is the
bottleneck and, in the long run, delivers H / 2 units a day; what does not fit waits for a
later day (never lost, never created: the mass balance holds on every run).
"""

from __future__ import annotations

import numpy as np
import pytest

from supplytwin.sim.engine import simulate
from tests.support.netbuild import single_stage

pytestmark = pytest.mark.validation

DEMAND_PER_DAY = 5.0
HORIZON_DAYS = 2_000
WARMUP_DAYS = 50


def scenario(tmp_path, handling: float | None):
    cols = {"DC": {"handling_capacity_units_per_day": handling}} if handling else None
    return single_stage(tmp_path, demand_rate=DEMAND_PER_DAY, lead_time="fixed(1)",
                        policy={"policy": "base_stock", "order_up_to_units": 20}, unmet="lost",
                        horizon_days=HORIZON_DAYS, warmup_days=WARMUP_DAYS,
                        initial_dc_units=20, site_columns=cols)


@pytest.mark.parametrize("handling", [4.0, 3.0])
def test_a_saturated_dock_delivers_half_its_capacity(tmp_path, handling):
    r = simulate(scenario(tmp_path, handling), log_events=True)
    per_day = r.kpis["delivered_units"] / (HORIZON_DAYS - WARMUP_DAYS)
    # the long-run rate: the DC starts with 20 units, a transient worth well under 1 %
    assert per_day == pytest.approx(handling / 2, rel=0.02)
    assert r.kpis["handling_delayed_units"] > 0
    # and no day ever picks more than the dock can handle
    ev = r.events
    picks = ev[(ev["event"] == "ship") & (ev["site_id"] == "DC")]
    assert picks.groupby(np.floor(picks["time_days"]))["quantity_units"].sum().max() \
        <= handling + 1e-9


def test_a_dock_that_never_fills_changes_nothing(tmp_path):
    (tmp_path / "free").mkdir()
    (tmp_path / "wide").mkdir()
    free = simulate(scenario(tmp_path / "free", None))
    wide = simulate(scenario(tmp_path / "wide", 1_000.0))
    np.testing.assert_equal(wide.kpis, free.kpis)  # NaN KPIs (no cold room) count as equal
