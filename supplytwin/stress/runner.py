"""Running a battery: every what-if against the base, common random numbers, in parallel.

Replication *i* of the base and of every what-if draws the same random streams (root seed and
*i*), so a what-if's paired difference from the base isolates the disruption. All (what-if,
replication) runs of a round are handed to one executor at once (in-process, local processes or
a Dask cluster, :mod:`supplytwin.experiment.executors`), so the workers stay busy across
what-ifs. A what-if whose run raises is recorded as failed with the error and the battery goes
on. With ``adaptive=True`` the rounds follow :mod:`supplytwin.stress.adaptive`; otherwise every
what-if runs ``reps`` replications. ``on_output`` sees each replication as it arrives, before it
is kept; with it, every replication also carries a normal run's tables (``StressOutput.tables``),
which the recorder writes to disk there and drops from memory (:mod:`supplytwin.stress.sides`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from supplytwin.errors import SupplytwinError
from supplytwin.experiment.executors import Executor, InProcess
from supplytwin.experiment.stats import paired_difference, t_interval
from supplytwin.model import Scenario
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.stress import adaptive as adapt
from supplytwin.stress.generators import WhatIf, apply_whatif
from supplytwin.stress.measures import (
    MEASURE_DOCS,
    StressOutput,
    stress_replication,
    time_to_recover_days,
)

Progress = Callable[[int, int, str], None]

#: the measures of the per-what-if table, in order: KPIs of the run and disruption measures
MEASURES = ["fill_rate", "fill_rate_during", "fill_rate_after", "lost_units",
            "backordered_units", "patients_affected", "peak_backlog_units", "cost_total_usd",
            "expired_units", "excursion_loss_units", "time_to_first_stockout_days",
            "time_to_recover_days"]


def known_kpis() -> list[str]:
    return list(dict.fromkeys([*MEASURES, *MEASURE_DOCS, *KPI_DOCS]))


def unit_of(name: str) -> str:
    return (MEASURE_DOCS.get(name) or KPI_DOCS.get(name) or ("",))[0]


@dataclass
class Settings:
    reps: int
    thresholds: dict[str, float]
    top_n: int = 5
    ranking_kpi: str = "patients_affected"
    recovery_window_days: int = 7
    recovery_tolerance: float = 0.02
    adaptive: bool = False
    initial_reps: int = adapt.INITIAL_REPS
    step_reps: int = adapt.STEP_REPS


@dataclass
class BatteryRun:
    base: Scenario
    whatifs: list[WhatIf]
    settings: Settings
    seed: int
    executor: str
    outputs: dict[tuple[int, int], StressOutput] = field(default_factory=dict)
    wall_seconds: float = 0.0
    rounds: int = 0

    # ---- bookkeeping ---------------------------------------------------------------------
    def reps_of(self, w: int) -> list[int]:
        return sorted(r for (k, r) in self.outputs if k == w)

    def failed(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for (w, _r), o in sorted(self.outputs.items()):
            if o.error and w not in out:
                out[w] = o.error
        return out

    @property
    def replications_used(self) -> int:
        return len(self.outputs)

    @property
    def uniform_equivalent(self) -> int:
        """Runs a uniform allocation needs to reach the same decisions: every what-if (and the
        base) at the largest replication count any what-if needed."""
        most = max((len(self.reps_of(w)) for w in range(len(self.whatifs))), default=0)
        return most * (len(self.whatifs) + 1)

    def value(self, w: int, r: int, name: str) -> float:
        o = self.outputs[(w, r)]
        if o.error:
            return math.nan
        if name == "time_to_recover_days":
            b = self.outputs.get((-1, r))
            if b is None or b.error or w == -1:
                return 0.0 if w == -1 else math.nan
            wi = self.whatifs[w]
            return time_to_recover_days(b, o, wi.start_day, self.settings.recovery_window_days,
                                        self.settings.recovery_tolerance)
        if name in o.measures:
            return o.measures[name]
        return o.kpis.get(name, math.nan)

    def paired(self, w: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        reps = [r for r in self.reps_of(w) if (-1, r) in self.outputs]
        base = np.array([self.value(-1, r, name) for r in reps])
        other = np.array([self.value(w, r, name) for r in reps])
        return base, other

    # ---- tables --------------------------------------------------------------------------
    def whatif_table(self) -> pd.DataFrame:
        """One row per what-if: mean, 95 % CI and paired difference from the base per measure."""
        failed = self.failed()
        rows = []
        for w, wi in enumerate(self.whatifs):
            row = {"whatif": wi.name, "kind": wi.kind, "target": wi.target,
                   "start_day": wi.start_day, "duration_days": wi.duration_days,
                   "n": len(self.reps_of(w)), "status": "failed" if w in failed else "ok",
                   "error": failed.get(w, "")}
            for m in MEASURES:
                base, other = self.paired(w, m) if w not in failed else (np.array([]),) * 2
                e = t_interval(other)
                row[f"{m}"] = e.mean
                row[f"{m}_ci95_low"], row[f"{m}_ci95_high"] = e.ci95
                if m in ("time_to_first_stockout_days", "time_to_recover_days"):
                    # censored: the share of replications where it happened at all
                    row[f"{m}_share"] = (float(np.mean(~np.isnan(other))) if len(other)
                                         else math.nan)
                    continue
                d = paired_difference(base, other) if len(base) else t_interval([])
                row[f"{m}_diff"] = d.mean
                row[f"{m}_diff_ci95_low"], row[f"{m}_diff_ci95_high"] = d.ci95
            rows.append(row)
        return pd.DataFrame(rows)

    def base_summary(self) -> dict[str, dict]:
        reps = self.reps_of(-1)
        return {m: t_interval([self.value(-1, r, m) for r in reps]).as_dict()
                for m in MEASURES if m != "time_to_recover_days"}

    def customer_table(self) -> pd.DataFrame:
        """Time to first stockout per what-if and customer (mean over replications where a
        stockout happened, and the share of replications with one)."""
        rows = []
        customers = sorted(self.base.network.customers())
        for w, wi in enumerate(self.whatifs):
            reps = [r for r in self.reps_of(w) if not self.outputs[(w, r)].error]
            if not reps:
                continue
            for c in customers:
                days = [self.outputs[(w, r)].first_short_day.get(c, math.nan) - wi.start_day
                        for r in reps]
                hit = [d for d in days if not math.isnan(d)]
                if not hit:
                    continue
                rows.append({"whatif": wi.name, "customer_id": c,
                             "time_to_first_stockout_days": float(np.mean(hit)),
                             "share_of_replications": len(hit) / len(reps)})
        return pd.DataFrame(rows, columns=["whatif", "customer_id", "time_to_first_stockout_days",
                                           "share_of_replications"])

    def product_table(self) -> pd.DataFrame:
        """Patients affected per what-if and product from the disruption start on, paired
        difference from the base (same replications, same window)."""
        rows = []
        products = sorted(self.base.network.products)
        for w, wi in enumerate(self.whatifs):
            reps = [r for r in self.reps_of(w) if not self.outputs[(w, r)].error
                    and (-1, r) in self.outputs]
            if not reps:
                continue
            for p in products:
                diffs = [self.outputs[(w, r)].patients_by_product.get(p, 0.0)
                         - self._base_patients(r, p, wi.start_day) for r in reps]
                if any(diffs):
                    e = t_interval(diffs)
                    rows.append({"whatif": wi.name, "product_id": p,
                                 "patients_affected_diff": e.mean,
                                 "ci95_low": e.ci95[0], "ci95_high": e.ci95[1]})
        return pd.DataFrame(rows, columns=["whatif", "product_id", "patients_affected_diff",
                                           "ci95_low", "ci95_high"])

    def _base_patients(self, r: int, product: str, start_day: float) -> float:
        # the base is run once from the battery's start; a what-if starting later is compared
        # with the base's patients over the whole measured window (an upper bound of the base)
        return self.outputs[(-1, r)].patients_by_product.get(product, 0.0)

    def stock_at_start(self) -> dict[tuple[str, str], float]:
        """Mean stock on hand and in transit per (site, product) at the disruption start, over
        the base's replications (the TTS LP starts from it)."""
        reps = [self.outputs[(-1, r)] for r in self.reps_of(-1)
                if not self.outputs[(-1, r)].error]
        keys = set().union(*(o.stock_at_start for o in reps)) if reps else set()
        return {k: float(np.mean([o.stock_at_start.get(k, 0.0) for o in reps])) for k in keys}

    def breaches(self) -> list[dict]:
        """What-ifs whose mean falls below a threshold (``--fail-under``)."""
        table = self.whatif_table()
        out = []
        for _, row in table.iterrows():
            for kpi, thr in self.settings.thresholds.items():
                v = row.get(kpi, math.nan)
                if row["status"] == "ok" and not math.isnan(v) and v < thr:
                    out.append({"whatif": row["whatif"], "kpi": kpi, "mean": float(v),
                                "threshold": thr})
        return out

    def ranking(self) -> list[str]:
        """What-ifs ordered by the paired difference of the ranking KPI, largest first."""
        table = self.whatif_table()
        col = f"{self.settings.ranking_kpi}_diff"
        if col not in table:
            col = self.settings.ranking_kpi
        ok = table[table["status"] == "ok"].copy()
        ok["_key"] = ok[col].fillna(-math.inf)
        return list(ok.sort_values(["_key", "whatif"], ascending=[False, True])["whatif"])


def _calls(base: Scenario, whatifs: list[WhatIf], seed: int, todo: list[tuple[int, int]],
           start_day: float, keep_tables: bool = False):
    calls = []
    for w, r in todo:
        if w == -1:
            calls.append((base, seed, r, start_day, base.simulation.horizon_days, -1,
                          keep_tables))
        else:
            wi = whatifs[w]
            calls.append((apply_whatif(base, wi), seed, r, wi.start_day, wi.end_day, w,
                          keep_tables))
    return calls


def run_battery(base: Scenario, whatifs: list[WhatIf], settings: Settings, *,
                executor: Executor | None = None, seed: int | None = None,
                progress: Progress | None = None, start_day: float | None = None,
                on_output: Callable[[StressOutput], None] | None = None) -> BatteryRun:
    """Run the battery (see module docstring); ``start_day`` is the base's measuring start."""
    for kpi in [*settings.thresholds, settings.ranking_kpi]:
        if kpi not in known_kpis():
            raise SupplytwinError(f"unknown KPI {kpi!r} in thresholds or ranking; known: "
                                  + ", ".join(known_kpis()))
    executor = executor or InProcess()
    seed = base.simulation.seed if seed is None else int(seed)
    if start_day is None:
        start_day = min((w.start_day for w in whatifs), default=base.simulation.warmup_days)
    run = BatteryRun(base, whatifs, settings, seed, executor.name)
    started = time.time()
    n_w = len(whatifs)
    target = {w: (min(settings.initial_reps, settings.reps) if settings.adaptive
                  else settings.reps) for w in range(n_w)}
    planned = [sum(target.values()) + max(target.values(), default=0)]
    done_count = [0]

    def execute(todo: list[tuple[int, int]]) -> None:
        for _k, out in executor.map_calls(stress_replication,
                                          _calls(base, whatifs, seed, todo, start_day,
                                                 on_output is not None)):
            if on_output is not None:
                on_output(out)
            run.outputs[(out.whatif, out.replication)] = out
            done_count[0] += 1
            if progress:
                label = "base" if out.whatif == -1 else whatifs[out.whatif].name
                progress(done_count[0], planned[0], label)

    while True:
        run.rounds += 1
        most = max(target.values(), default=0)
        todo = [(-1, r) for r in range(most) if (-1, r) not in run.outputs]
        todo += [(w, r) for w in range(n_w) for r in range(target[w])
                 if (w, r) not in run.outputs]
        if not todo:
            break
        execute(todo)
        if not settings.adaptive:
            break
        failed = run.failed()
        live = [w for w in range(n_w) if w not in failed]
        thr_values = {kpi: {w: [run.value(w, r, kpi) for r in run.reps_of(w)] for w in live}
                      for kpi in settings.thresholds}
        rank_values = {}
        for w in live:
            b, o = run.paired(w, settings.ranking_kpi)
            rank_values[w] = list(o - b)
        still = adapt.open_whatifs(thr_values, settings.thresholds, rank_values, settings.top_n)
        grow = [w for w in still if target[w] < settings.reps]
        if not grow:
            break
        for w in grow:
            target[w] = min(settings.reps, target[w] + settings.step_reps)
        planned[0] = done_count[0] + sum(
            target[w] - len(run.reps_of(w)) for w in range(n_w)) + max(
            0, max(target.values()) - len(run.reps_of(-1)))
    run.wall_seconds = time.time() - started
    return run
