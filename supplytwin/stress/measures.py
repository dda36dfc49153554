"""What a disruption did in one replication, and over replications against the base.

In a worker, :func:`stress_replication` runs one replication of one what-if (the simulator's
own :class:`~supplytwin.sim.engine.Model`, mass balance checked as in every run) and keeps:

* every KPI of the run (``docs/kpis.md``);
* ``fill_rate_during`` / ``fill_rate_after``: units filled from stock at order / units ordered,
  over the orders placed while the disruption lasts and after it ends;
* ``peak_backlog_units``: the largest customer backlog on any day from the disruption start;
* the first day, per customer, on which an order placed after the disruption start could not
  be filled at once (a *stockout* at that customer);
* the network's daily units ordered and filled at once (for the time to recover);
* the stock on hand and in transit towards each (site, product) at the disruption start (the
  TTS LP starts from it);
* the tables a normal replication keeps (:class:`~supplytwin.experiment.executors.
  ReplicationOutput`: KPIs, per product, daily levels, service by customer, lanes), so that the
  what-if opens in the dashboard's Results page like any run. The parent writes them to disk as
  they arrive (:mod:`supplytwin.stress.sides`) rather than holding a battery's worth in memory.

In the parent, :func:`time_to_recover_days` compares a what-if's daily fill rate with the base's
in the same replication (common random numbers): service is *recovered* after the last day on
which the trailing ``window``-day fill rate of the what-if is below the base's minus the
tolerance. Measured from the disruption start; ``nan`` when it never recovered within the
horizon (censored).
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: per-replication measures beside the KPIs: name -> (unit, definition)
MEASURE_DOCS: dict[str, tuple[str, str]] = {
    "fill_rate_during": ("fraction", "Fill rate of the orders placed while the disruption lasts."),
    "fill_rate_after": ("fraction", "Fill rate of the orders placed after the disruption ends."),
    "peak_backlog_units": ("units", ("Largest customer backlog (units ordered, not filled at once, "
                           "not lost, not yet delivered) on any day from the disruption start.")),
    "time_to_first_stockout_days": ("days", ("Days from the disruption start to the first order "
                                    "(any customer) not filled at once; nan if none.")),
    "time_to_recover_days": ("days", ("Days from the disruption start until the trailing fill "
                             "rate stays within the tolerance of the base's; nan if never.")),
}


@dataclass
class StressOutput:
    """What a worker sends back for one (what-if, replication)."""

    whatif: int  # -1 = the base
    replication: int
    kpis: dict[str, float] = field(default_factory=dict)
    measures: dict[str, float] = field(default_factory=dict)
    #: units ordered and filled at once per day (index = day)
    demand_by_day: Any = None
    filled_by_day: Any = None
    #: customer -> first day (absolute) with an order short after the disruption start
    first_short_day: dict[str, float] = field(default_factory=dict)
    #: (site, product) -> on hand + in transit towards it on the disruption start day
    stock_at_start: dict[tuple[str, str], float] = field(default_factory=dict)
    #: product -> patients affected (units not filled at once x patients_per_unit), orders
    #: placed from the disruption start on
    patients_by_product: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    error: str | None = None
    #: the replication's tables as a normal run keeps them (None once written to disk)
    tables: Any = None


def stress_replication(scenario, seed: int, replication: int, start_day: float,
                       end_day: float, whatif: int, keep_tables: bool = False) -> StressOutput:
    """One replication of one what-if; an exception becomes ``error`` (the battery goes on).
    ``keep_tables``: also return the run's tables (``StressOutput.tables``)."""
    started = time.time()
    try:
        out = _run(scenario, seed, replication, start_day, end_day, whatif, keep_tables)
    except Exception as exc:  # noqa: BLE001 - reported per what-if, never stops the battery
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        out = StressOutput(whatif, replication, error=tb)
    out.wall_seconds = time.time() - started
    return out


def _run(scenario, seed, replication, start_day, end_day, whatif, keep_tables=False
         ) -> StressOutput:
    import pandas as pd

    from supplytwin.experiment.executors import ReplicationOutput
    from supplytwin.sim.engine import Model, _events_processed
    from supplytwin.sim.kpis import (
        compute_kpis,
        daily_timeseries,
        service_by_customer,
        stock_point_kpis,
    )
    from supplytwin.sim.mass_balance import check_mass_balance

    started = time.time()
    model = Model(scenario, seed, replication, False, keep_orders=True)  # reads every order
    horizon = scenario.simulation.horizon_days
    model.env.run(until=horizon)
    check_mass_balance(model)  # raises MassBalanceError: a bug, never a warning
    daily = daily_timeseries(model)
    kpis, by_product = compute_kpis(model, daily)
    tables = None
    if keep_tables:
        rec = model.recorder
        lane_ids = sorted(set(rec.units_by_lane) | set(rec.excursions_by_lane))
        lanes = pd.DataFrame({"lane_id": lane_ids,
                              "units": [rec.units_by_lane.get(x, 0.0) for x in lane_ids],
                              "excursions": [rec.excursions_by_lane.get(x, 0) for x in lane_ids]})
        # the tables of experiment.executors.run_replication, so the same writers store them
        tables = ReplicationOutput(replication, seed, kpis, by_product, daily,
                                   service_by_customer(model), lanes, time.time() - started,
                                   _events_processed(model.env),
                                   stock_points=stock_point_kpis(model))

    n_days = math.ceil(horizon)
    demand = np.zeros(n_days)
    filled = np.zeros(n_days)
    during = [0.0, 0.0]
    after = [0.0, 0.0]
    first_short: dict[str, float] = {}
    patients: dict[str, float] = {}
    products = scenario.network.products
    for o in model.orders:
        day = min(int(o.placed_day), n_days - 1)
        demand[day] += o.quantity_units
        filled[day] += o.filled_immediately_units
        if o.placed_day < start_day:
            continue
        bucket = during if o.placed_day < end_day else after
        bucket[0] += o.quantity_units
        bucket[1] += o.filled_immediately_units
        short = o.quantity_units - o.filled_immediately_units
        patients[o.product_id] = (patients.get(o.product_id, 0.0)
                                  + short * products[o.product_id].patients_per_unit)
        if (o.filled_immediately_units < o.quantity_units - 1e-9
                and o.placed_day < first_short.get(o.customer_id, math.inf)):
            first_short[o.customer_id] = o.placed_day

    # customer backlog: the part of an order neither filled at once nor lost, outstanding from
    # its placing until the order completes (partial deliveries counted at completion)
    owed = np.zeros(n_days + 1)
    for o in model.orders:
        short = o.quantity_units - o.filled_immediately_units - o.lost_units
        if short > 1e-9:
            owed[min(int(o.placed_day), n_days)] += short
            if o.completed_day is not None:
                owed[min(math.ceil(o.completed_day), n_days)] -= short
    backlog = np.cumsum(owed)[math.floor(start_day):n_days]
    stock: dict[tuple[str, str], float] = {}
    # the record stamped t is the state at the end of day t-1, i.e. at the start of day t
    snap = float(math.floor(start_day))
    for t, s, p, on_hand, in_transit, _on_order, _backlog in model.recorder.daily:
        if t == snap:
            stock[(s, p)] = on_hand + in_transit
    if snap < 1.0:
        # before the first record: the initial stock is the state at the start
        for lot in scenario.network.initial_stock:
            key = (lot.site_id, lot.product_id)
            stock[key] = stock.get(key, 0.0) + lot.quantity_units
    first = min(first_short.values(), default=math.nan)
    measures = {
        "fill_rate_during": during[1] / during[0] if during[0] else math.nan,
        "fill_rate_after": after[1] / after[0] if after[0] else math.nan,
        "peak_backlog_units": float(backlog.max()) if len(backlog) else 0.0,
        "time_to_first_stockout_days": first - start_day if math.isfinite(first) else math.nan,
    }
    return StressOutput(whatif, replication, kpis, measures, demand, filled, first_short, stock,
                        patients, tables=tables)


def trailing_fill(demand: np.ndarray, filled: np.ndarray, window: int) -> np.ndarray:
    """Fill rate over the ``window`` days ending on each day (nan where nothing was ordered)."""
    kernel = np.ones(window)
    d = np.convolve(demand, kernel)[: len(demand)]
    f = np.convolve(filled, kernel)[: len(filled)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 0, f / np.where(d > 0, d, 1.0), np.nan)


def time_to_recover_days(base: StressOutput, whatif: StressOutput, start_day: float,
                         window: int, tolerance: float) -> float:
    """Days from the start until service is back within ``tolerance`` of the base (see module
    docstring); 0 when it never fell below; nan when still below at the horizon's end."""
    b = trailing_fill(base.demand_by_day, base.filled_by_day, window)
    w = trailing_fill(whatif.demand_by_day, whatif.filled_by_day, window)
    first = math.floor(start_day)
    bad = [d for d in range(first, len(w))
           if not math.isnan(w[d]) and not math.isnan(b[d]) and w[d] < b[d] - tolerance]
    if not bad:
        return 0.0
    last = bad[-1]
    if last >= len(w) - 1:
        return math.nan
    return float(last + 1 - start_day)
