"""Replicated runs of one scenario, with confidence intervals and common random numbers.

Replication *i* of a scenario uses the random streams of ``(seed, i)``; every scenario compared
at replication *i* sees the same demand, transit and failure draws wherever the scenarios
agree (common random numbers, see :mod:`supplytwin.stochastic.streams`).

The warm-up (``simulation.warmup_days``) is excluded inside each replication's KPIs. Results
arrive as replications finish; ``on_result`` lets a caller persist each one at once, so an
interrupted experiment keeps what it finished and can be resumed by passing the finished
replications back as ``done``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field

import pandas as pd

from supplytwin.experiment.executors import Executor, InProcess, ReplicationOutput
from supplytwin.experiment.stats import Estimate, kpi_interval, t_interval, t_quantile
from supplytwin.model import Scenario
from supplytwin.sim.kpis import KPI_DOCS


@dataclass
class ExperimentResult:
    scenario: Scenario
    seed: int
    executor: str
    outputs: dict[int, ReplicationOutput] = field(default_factory=dict)
    #: set when a precision target was asked for: (kpi, half width, reached?)
    precision: tuple[str, float, bool] | None = None
    interrupted: bool = False
    #: the what-if name (:mod:`supplytwin.experiment.naming`); None: the scenario's own name
    name: str | None = None
    #: what this run changes from its base (``naming.Change``), for reports and the registry
    changes: tuple = ()

    @property
    def label(self) -> str:
        """The name to show: the what-if name, else the scenario's name."""
        return self.name or self.scenario.name

    @property
    def n(self) -> int:
        return len(self.outputs)

    @property
    def replications(self) -> list[int]:
        return sorted(self.outputs)

    def kpi_table(self) -> pd.DataFrame:
        """One row per replication: replication, seed, then every KPI."""
        rows = [{"replication": i, "seed": self.seed, **self.outputs[i].kpis}
                for i in self.replications]
        return pd.DataFrame(rows, columns=["replication", "seed", *KPI_DOCS])

    def summary(self) -> dict[str, Estimate]:
        table = self.kpi_table()
        # each KPI's interval respects its range (rates in [0, 1], totals >= 0)
        return {k: kpi_interval(k, table[k].to_numpy()) for k in KPI_DOCS}

    def timeseries(self) -> pd.DataFrame:
        """Daily time series of every replication, with a ``replication`` column."""
        frames = [o.timeseries.assign(replication=i) for i, o in sorted(self.outputs.items())]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def by_product(self) -> pd.DataFrame:
        frames = [o.kpis_by_product.assign(replication=i) for i, o in sorted(self.outputs.items())]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def by_lane(self) -> pd.DataFrame:
        """Units shipped and excursions per lane and replication."""
        frames = [o.lanes.assign(replication=i) for i, o in sorted(self.outputs.items())]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def by_stock_point(self) -> pd.DataFrame:
        """On hand, backlog and holding cost per stock point and replication."""
        frames = [o.stock_points.assign(replication=i) for i, o in sorted(self.outputs.items())
                  if getattr(o, "stock_points", None) is not None]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def by_customer(self) -> pd.DataFrame:
        frames = [o.service_by_customer.assign(replication=i)
                  for i, o in sorted(self.outputs.items())]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


#: more replications than any experiment needs; a larger request is a typo
MAX_REPLICATIONS = 10_000


def replications_for(scenario: Scenario, requested: object = None) -> int:
    """The one replications rule of the CLI and the dashboard.

    An explicit number (``--reps N``, the dashboard's field) wins; without one, the scenario's
    ``simulation.replications`` is used. There is no other default: nothing falls back to a
    number written in code. A request that is not a whole number in
    1..:data:`MAX_REPLICATIONS` is refused with a :class:`~supplytwin.errors.SupplytwinError`.
    """
    from supplytwin.errors import SupplytwinError

    if requested is None or requested == "":
        return int(scenario.simulation.replications)
    if isinstance(requested, bool):
        raise SupplytwinError(f"replications must be a whole number, not {requested!r}")
    try:
        value = float(requested)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SupplytwinError(f"replications must be a whole number, not {requested!r}") from None
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_REPLICATIONS:
        raise SupplytwinError(f"replications must be a whole number from 1 to "
                              f"{MAX_REPLICATIONS:,}, not {requested!r}")
    return int(value)


def reps_for_precision(values, half_width: float, confidence: float = 0.95) -> int:
    """Replications needed for a CI half width, from the sample so far (Law, eq. 9.4)."""
    e = t_interval(values, confidence)
    if e.n < 2 or math.isnan(e.sd):
        return e.n + 2
    if e.sd == 0:
        return e.n
    n = e.n
    while True:
        t = t_quantile(0.5 + confidence / 2, n - 1)
        if t * e.sd / math.sqrt(n) <= half_width:
            return n
        n += 1


def run_experiment(
    scenario: Scenario,
    reps: int,
    *,
    seed: int | None = None,
    executor: Executor | None = None,
    done: Mapping[int, ReplicationOutput] | None = None,
    on_result: Callable[[ReplicationOutput], None] | None = None,
    precision: tuple[str, float] | None = None,
    max_reps: int = 200,
) -> ExperimentResult:
    """Run replications 0..reps-1 (skipping those in ``done``); with ``precision=(kpi, h)``
    keep adding replications until the 95 % CI half width of ``kpi`` is at most ``h`` or
    ``max_reps`` is reached.

    KeyboardInterrupt and a broken worker pool are caught: the result holds the finished
    replications and ``interrupted=True``.
    """
    executor = executor or InProcess()
    seed = scenario.simulation.seed if seed is None else int(seed)
    result = ExperimentResult(scenario, seed, executor.name, dict(done or {}))
    target = reps
    try:
        while True:
            todo = [i for i in range(target) if i not in result.outputs]
            for out in executor.map(scenario, seed, todo):
                result.outputs[out.replication] = out
                if on_result is not None:
                    on_result(out)
            if precision is None:
                break
            kpi, h = precision
            values = result.kpi_table()[kpi].to_numpy()
            needed = reps_for_precision(values, h)
            # judged on the interval that is reported, so the target holds for what users see
            reached = kpi_interval(kpi, values).half_width <= h
            if reached or target >= max_reps:
                result.precision = (kpi, h, bool(reached))
                break
            # grow towards the estimate, at least a few at a time, never past the maximum
            target = min(max_reps, max(needed, target + 2))
    except (KeyboardInterrupt, BrokenExecutor):
        # Ctrl-C, or a worker process killed: keep what finished; the caller can resume
        result.interrupted = True
    return result
