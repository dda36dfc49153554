"""Memory does not grow with the horizon; service tallied as orders close equals service from
the orders themselves.

A run keeps only its open orders and tallies each customer's service as orders close (see
:mod:`supplytwin.sim.service`). Peak memory is measured as the peak resident set of a fresh
process running one replication, the figure a planner's machine feels: the orders a run used to
keep cost about 15 MiB per 1,000 days at 25 orders a day, so from 500 to 8,000 days they would
add about +50 % (measured: 137 MiB -> 208 MiB); without them the peak must stay within 10 %.
The same run with ``keep_orders=True`` must exceed that bound, which shows the check can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supplytwin.scenario import load_scenario
from supplytwin.sim.engine import Model
from supplytwin.sim.kpis import compute_kpis, service_by_customer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, resource, sys, tempfile
def peak_mib():
    # VmHWM starts afresh at exec; ru_maxrss would carry the peak of a big forking parent
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from pathlib import Path
from tests.support.netbuild import single_stage
from supplytwin.sim import simulate
days, keep = float(sys.argv[1]), sys.argv[2] == "1"
sc = single_stage(Path(tempfile.mkdtemp()), demand_rate=25.0, lead_time="fixed(6)",
                  policy={"policy": "s_S", "reorder_point_units": 169, "order_up_to_units": 170},
                  unmet="lost", horizon_days=days, warmup_days=100.0, initial_dc_units=170)
r = simulate(sc, 1, keep_orders=keep)
print(json.dumps({"peak_mib": peak_mib(),
                  "orders": float(r.kpis["demand_units"])}))
"""


def run_child(days: float, keep_orders: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(days), "1" if keep_orders else "0"],
                          check=False, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_peak_memory_flat_from_500_to_8000_days():
    short = run_child(500)
    long = run_child(8_000)
    assert long["orders"] > 15 * short["orders"]  # the long run really did 16x the work
    assert long["peak_mib"] <= 1.10 * short["peak_mib"], (short, long)
    # keeping every order (what runs used to do) breaks the bound: the check can fail
    kept = run_child(8_000, keep_orders=True)
    assert kept["peak_mib"] > 1.10 * short["peak_mib"], (short, kept)


@pytest.mark.parametrize("name", ["pr-hurricane", "pandemic-surge"])
def test_service_tallied_on_close_equals_service_from_orders(name):
    # disruptions, backorders, lost sales and orders still open at the end all take part
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    horizon = sc.simulation.horizon_days
    m = Model(sc, 7, keep_orders=True)
    m.env.run(until=horizon)
    assert m.open_orders, "some orders should still be open at the end"
    assert set(m.open_orders) == {o.order_id for o in m.orders
                                  if o.delivered_units + o.lost_units < o.quantity_units - 1e-9}
    counted = [o for o in m.orders if o.counts]
    rows = pd.DataFrame({
        "customer_id": [o.customer_id for o in counted],
        "product_id": [o.product_id for o in counted],
        "demand_units": [o.quantity_units for o in counted],
        "filled": [o.filled_immediately_units for o in counted],
        "lost_units": [o.lost_units for o in counted],
        "due": [o.due_day <= horizon for o in counted],
        "on_time": [o.due_day <= horizon and o.lost_units == 0 and o.completed_day is not None
                    and o.completed_day <= o.due_day + 1e-9 for o in counted],
    })
    expected = rows.groupby(["customer_id", "product_id"], as_index=False).agg(
        orders=("demand_units", "size"), demand_units=("demand_units", "sum"),
        filled=("filled", "sum"), lost_units=("lost_units", "sum"), due=("due", "sum"),
        on_time=("on_time", "sum"))
    got = service_by_customer(m)
    assert list(got["customer_id"]) == list(expected["customer_id"])
    assert list(got["product_id"]) == list(expected["product_id"])
    assert list(got["orders"]) == list(expected["orders"])
    np.testing.assert_allclose(got["demand_units"], expected["demand_units"], rtol=1e-12)
    np.testing.assert_allclose(got["filled_immediately_units"], expected["filled"], rtol=1e-12)
    np.testing.assert_allclose(got["lost_units"], expected["lost_units"], rtol=1e-12)
    otif = expected["on_time"] / expected["due"].where(expected["due"] > 0)
    np.testing.assert_allclose(got["otif"], otif, rtol=1e-12)
    assert expected["on_time"].sum() < expected["due"].sum()  # OTIF is not trivially 1 here
    kpis, _ = compute_kpis(m)
    assert kpis["otif"] == pytest.approx(expected["on_time"].sum() / expected["due"].sum(),
                                         rel=1e-12)
