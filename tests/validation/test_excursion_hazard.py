"""The chance of a temperature excursion per departure, against its hazard.

A lane with excursion hazard h per day and a fixed transit of T days (active packaging, so no
qualified-hours limit; no seasonality, no spikes) has an excursion on a departure with
probability p = 1 - exp(-h T), independently from departure to departure. Over n departures
the share with an excursion must lie within 4 standard errors sqrt(p (1 - p) / n) of p, on
two seeds (about +-0.011 around p = 0.113 here; a hazard off by a fifth would miss it).
"""

from __future__ import annotations

import csv
import math

import pytest

from supplytwin.scenario import load_scenario
from supplytwin.sim.engine import Model
from tests.support.netbuild import single_stage

pytestmark = pytest.mark.validation

HAZARD_PER_DAY = 0.03
TRANSIT_DAYS = 4.0


def _run(tmp_path, seed: int) -> tuple[int, int]:
    single_stage(tmp_path, demand_rate=20.0, lead_time=f"fixed({TRANSIT_DAYS:g})",
                 policy={"policy": "base_stock", "order_up_to_units": 120},
                 initial_dc_units=120, horizon_days=650, warmup_days=50, seed=seed)
    lanes_csv = tmp_path / "lanes.csv"
    rows = list(csv.DictReader(lanes_csv.open()))
    for row in rows:  # the replenishment lane by air (its own mode: departures counted apart)
        upstream = row["lane_id"] == "L-UP-DC"
        row["mode"] = "air" if upstream else "road"
        row["excursion_hazard_per_day"] = HAZARD_PER_DAY if upstream else 0
    with lanes_csv.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    scenario = load_scenario(tmp_path / "scenario.yaml")
    model = Model(scenario, seed)
    model.env.run(until=scenario.simulation.horizon_days)
    rec = model.recorder
    return rec.excursions_by_lane.get("L-UP-DC", 0), rec.shipments_by_mode["air"]


@pytest.mark.parametrize("seed", [1, 2])
def test_share_of_departures_with_an_excursion_matches_the_hazard(tmp_path, seed):
    excursions, departures = _run(tmp_path, seed)
    p = 1.0 - math.exp(-HAZARD_PER_DAY * TRANSIT_DAYS)
    assert departures > 10_000  # enough for the tolerance below (about +-0.011)
    half_width = 4 * math.sqrt(p * (1 - p) / departures)
    share = excursions / departures
    assert abs(share - p) <= half_width, (
        f"{excursions} excursions in {departures} departures = {share:.4f}, theory {p:.4f} "
        f"+- {half_width:.4f}")
