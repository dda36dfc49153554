"""The one place that picks and configures HiGHS for a Pyomo model.

:func:`solve` takes a Pyomo model and :class:`SolverSettings` (time limit, relative MIP gap,
threads, interface) and returns a :class:`SolveOutcome`: a status in plain words, objective,
best bound, gap, the time spent transferring the model and solving it, and (on request) the
row duals. Values are loaded into the model's variables when a feasible solution exists.

Three interfaces reach the same HiGHS (highspy) library:

* ``"direct"`` (default): the model's linear rows are compiled straight into a HiGHS LP
  (:func:`compile_linear`; every constraint body built by :mod:`supplytwin.opt.model` is a
  ``LinearExpression``, read term by term, other linear bodies go through Pyomo's
  ``generate_standard_repn``) and passed with ``Highs.passModel``. This is the fastest route
  from Pyomo to HiGHS: see ``benchmarks/opt_speed.py``;
* ``"appsi_highs"``: Pyomo's APPSI persistent HiGHS interface;
* ``"highs"``: Pyomo's ``pyomo.contrib.solver`` HiGHS interface.

The three are tested to give the same optimum. Fixed variables become columns with equal
bounds (so the LP with binaries fixed has proper row duals, used for shadow prices).

Threads: HiGHS runs its parallel work on one scheduler per process, created with the thread
count of the first solve; a later solve asking for another count stops at once with model
status "Not Set". :class:`_ThreadScheduler` therefore resets the scheduler when the count
changes, once no other solve of this process is running (solves with the same count, or with
``threads=None``, run side by side). A status "error" always carries a ``message`` in words.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pe
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

INTERFACES = ("direct", "appsi_highs", "highs")


class SolverError(RuntimeError):
    """HiGHS could not be used (not installed, or failed internally)."""


@dataclass(frozen=True)
class SolverSettings:
    #: wall-clock limit of one solve, seconds
    time_limit_s: float = 60.0
    #: relative MIP gap at which HiGHS stops (0.001 = 0.1 %)
    mip_gap: float = 1e-3
    #: HiGHS threads; None = HiGHS's default (half the cores)
    threads: int | None = None
    #: "direct", "appsi_highs" or "highs" (see the module docstring)
    interface: str = "direct"
    #: print HiGHS's log
    verbose: bool = False
    #: extra HiGHS options, e.g. {"mip_feasibility_tolerance": 1e-7}
    highs_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> SolverSettings:
        from supplytwin.opt.options import DesignOptionsError

        bad = []
        if not (self.time_limit_s > 0):
            bad.append(f"time limit must be > 0 s (got {self.time_limit_s:g})")
        if not (0 <= self.mip_gap < 1):
            bad.append(f"gap must be within [0, 1) (got {self.mip_gap:g})")
        if self.threads is not None and self.threads < 1:
            bad.append(f"threads must be >= 1 (got {self.threads})")
        if self.interface not in INTERFACES:
            bad.append(f"interface must be one of {', '.join(INTERFACES)}")
        if bad:
            raise DesignOptionsError("invalid solver settings: " + "; ".join(bad))
        return self


@dataclass
class SolveOutcome:
    #: "optimal", "feasible" (stopped by the time limit with a solution), "infeasible",
    #: "unbounded", "no_solution" (stopped before finding one) or "error"
    status: str
    #: HiGHS's own words for the termination
    termination: str
    objective: float = math.nan
    bound: float = math.nan
    #: relative gap |objective - bound| / |objective| (0 for an LP solved to optimality)
    gap: float = math.nan
    transfer_s: float = 0.0
    solve_s: float = 0.0
    interface: str = "direct"
    n_vars: int = 0
    n_rows: int = 0
    n_integer: int = 0
    nnz: int = 0
    #: constraint data -> dual (d objective / d right-hand side), when asked for and available
    duals: dict[Any, float] | None = None
    #: what went wrong, in words (always set when status is "error")
    message: str = ""

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


# ---------------------------------------------------------------- highspy -----------------------
class _ThreadScheduler:
    """Serialises changes of HiGHS's process-wide thread scheduler (see the module docstring).

    ``with SCHEDULER.using(threads):`` around a solve: a solve that wants a thread count other
    than the scheduler's waits until the running solves finish, then resets the scheduler."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        #: thread count the scheduler was started with; None = not started by us yet
        self._threads: int | None = None

    def using(self, threads: int | None):
        return _SchedulerUse(self, threads)

    def _enter(self, threads: int | None) -> None:
        with self._cond:
            if threads is None:  # any scheduler will do
                self._active += 1
                return
            while self._threads != threads and self._active > 0:
                self._cond.wait()
            if self._threads != threads:
                import highspy

                # blocking=True: wait for the old scheduler's workers to stop
                highspy.Highs.resetGlobalScheduler(True)
                self._threads = threads
            self._active += 1

    def _exit(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()


class _SchedulerUse:
    def __init__(self, owner: _ThreadScheduler, threads: int | None) -> None:
        self.owner, self.threads = owner, threads

    def __enter__(self) -> None:
        self.owner._enter(self.threads)

    def __exit__(self, *exc: object) -> None:
        self.owner._exit()


SCHEDULER = _ThreadScheduler()

_banner_lock = threading.Lock()
_banner_done = False


def new_highs():
    """A ``highspy.Highs`` object, the library's start-up banner kept off stdout."""
    global _banner_done
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise SolverError("highspy is not installed: pip install highspy") from exc
    with _banner_lock:
        if _banner_done:
            h = highspy.Highs()
        else:
            h = _quietly(highspy.Highs)
            _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


def _quietly(fn):
    """Call ``fn`` with file descriptor 1 sent to /dev/null (C++ prints there directly)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout
        return fn()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        return fn()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class CompiledLP:
    """A Pyomo model's linear rows and columns as arrays (rowwise sparse matrix)."""

    cols: list[VarData]
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_cost: np.ndarray
    integer: np.ndarray  # bool
    offset: float
    rows: list[Any]  # ConstraintData
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    sense: int  # 1 minimise, -1 maximise

    def to_highs_lp(self):
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_ = len(self.cols)
        lp.num_row_ = len(self.rows)
        lp.col_cost_ = self.col_cost
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        lp.offset_ = self.offset
        lp.sense_ = highspy.ObjSense.kMinimize if self.sense == 1 else highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = len(self.cols)
        lp.a_matrix_.num_row_ = len(self.rows)
        lp.a_matrix_.start_ = self.start
        lp.a_matrix_.index_ = self.index
        lp.a_matrix_.value_ = self.value
        if self.integer.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                               for i in self.integer.tolist()]
        return lp


def compile_linear(model: pe.ConcreteModel) -> CompiledLP:
    """Every variable, active linear constraint and the active objective as arrays."""
    with PauseGC():  # nothing to collect; the collector would rescan the model repeatedly
        return _compile_linear(model)


def _compile_linear(model: pe.ConcreteModel) -> CompiledLP:
    inf = math.inf
    cols: list[VarData] = []
    col_of: dict[int, int] = {}
    lo = array("d")
    hi = array("d")
    integer = array("b")
    by_domain: dict[int, tuple[float, float, int]] = {}
    for v in model.component_data_objects(pe.Var, descend_into=True, sort=False):
        col_of[id(v)] = len(cols)
        cols.append(v)
        if v.fixed:
            val = float(v.value)
            lo.append(val)
            hi.append(val)
            integer.append(0)
            continue
        # bounds and integrality come from the domain unless the variable has its own bounds;
        # both are looked up once per domain (the public accessors cost ~1 us a variable)
        dom = getattr(v, "_domain", None)
        own = getattr(v, "_lb", 0) is not None or getattr(v, "_ub", 0) is not None
        key = id(dom)
        if dom is None or own or key not in by_domain:
            lb, ub = v.bounds
            b = (-inf if lb is None else float(lb), inf if ub is None else float(ub),
                 1 if v.is_integer() else 0)
            if dom is not None and not own:
                by_domain[key] = b
        else:
            b = by_domain[key]
        lo.append(b[0])
        hi.append(b[1])
        integer.append(b[2])
    n = len(cols)

    mono = MonomialTermExpression

    def terms(expr):
        """(columns, coefficients, constant) of a linear expression."""
        if expr.__class__ is LinearExpression:
            args = expr.args
            idx, val, const = [], [], 0.0
            for arg in args:
                cls = arg.__class__
                if cls is mono:
                    c, v = arg.args
                    idx.append(col_of[id(v)])
                    val.append(c)
                elif cls is float or cls is int:
                    const += arg
                else:
                    idx.append(col_of[id(arg)])
                    val.append(1.0)
            return idx, val, const
        return _generic_terms(expr, col_of)

    rows = []
    rlo = array("d")
    rhi = array("d")
    start = array("q", [0])
    index = array("q")
    value = array("d")
    for con in model.component_data_objects(pe.Constraint, active=True, descend_into=True,
                                            sort=False):
        idx, val, const = terms(con.body)
        lb, ub = con.lb, con.ub
        rlo.append(-inf if lb is None else float(lb) - const)
        rhi.append(inf if ub is None else float(ub) - const)
        index.extend(idx)
        value.extend(val)
        start.append(len(index))
        rows.append(con)
    objs = list(model.component_data_objects(pe.Objective, active=True, descend_into=True))
    if len(objs) != 1:
        raise SolverError(f"the model needs exactly one active objective (has {len(objs)})")
    obj = objs[0]
    cost = np.zeros(n)
    idx, val, const = terms(obj.expr)
    np.add.at(cost, np.asarray(idx, dtype=np.int64), np.asarray(val, dtype=float))
    return CompiledLP(
        cols=cols, col_lower=np.frombuffer(lo, dtype=float), col_upper=np.frombuffer(hi, dtype=float),
        col_cost=cost, integer=np.frombuffer(integer, dtype=np.int8).astype(bool),
        offset=float(const), rows=rows,
        row_lower=np.frombuffer(rlo, dtype=float), row_upper=np.frombuffer(rhi, dtype=float),
        start=np.frombuffer(start, dtype=np.int64).astype(np.int32),
        index=np.frombuffer(index, dtype=np.int64).astype(np.int32),
        value=np.frombuffer(value, dtype=float),
        sense=1 if obj.sense == pe.minimize else -1,
    )


def _generic_terms(expr, col_of: dict[int, int]):
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    if not repn.is_linear():
        raise SolverError("the network-design model must be linear")
    idx = [col_of[id(v)] for v in repn.linear_vars]
    return idx, [float(c) for c in repn.linear_coefs], float(repn.constant)


# ---------------------------------------------------------------- solve -------------------------
def solve(model: pe.ConcreteModel, settings: SolverSettings | None = None, *,
          duals: bool = False) -> SolveOutcome:
    """Solve ``model`` with HiGHS; load the values of a feasible solution into the model."""
    settings = (settings or SolverSettings()).validate()
    if settings.interface == "direct":
        return _solve_direct(model, settings, duals)
    return _solve_pyomo(model, settings, duals)


def _options(h, settings: SolverSettings) -> None:
    h.setOptionValue("output_flag", bool(settings.verbose))
    h.setOptionValue("time_limit", float(settings.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(settings.mip_gap))
    if settings.threads is not None:
        h.setOptionValue("threads", int(settings.threads))
    for k, v in settings.highs_options.items():
        h.setOptionValue(k, v)


def _solve_direct(model, settings: SolverSettings, want_duals: bool) -> SolveOutcome:
    import highspy

    t0 = time.perf_counter()
    lp = compile_linear(model)
    h = new_highs()
    _options(h, settings)
    status = h.passModel(lp.to_highs_lp())
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (passModel returned an error)")
    transfer = time.perf_counter() - t0
    t1 = time.perf_counter()
    with SCHEDULER.using(settings.threads):
        run_status = h.run()
    solve_s = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    sol = h.getSolution()
    has_sol = bool(sol.value_valid) and info.primal_solution_status == 2
    status_word = _status(ms, has_sol)
    is_mip = bool(lp.integer.any())
    out = SolveOutcome(status=status_word, termination=h.modelStatusToString(ms),
                       interface="direct", transfer_s=transfer, solve_s=solve_s,
                       n_vars=len(lp.cols), n_rows=len(lp.rows), n_integer=int(lp.integer.sum()),
                       nnz=len(lp.value))
    if status_word == "error":
        out.message = (f"HiGHS stopped with model status {out.termination!r} (run status "
                       f"{run_status.name if hasattr(run_status, 'name') else run_status}); "
                       "rerun with verbose=True to see its log")
    if has_sol:
        out.objective = float(info.objective_function_value)
        values = sol.col_value
        for v, x in zip(lp.cols, values, strict=True):
            if not v.fixed:
                v.set_value(float(x), skip_validation=True)
        if is_mip:
            out.bound = float(info.mip_dual_bound)
            out.gap = _gap(out.objective, out.bound)
        else:
            out.bound = out.objective
            out.gap = 0.0
        if want_duals and not is_mip and sol.dual_valid:
            out.duals = dict(zip(lp.rows, (float(d) for d in sol.row_dual), strict=True))
    return out


def _status(ms, has_sol: bool) -> str:
    import highspy

    S = highspy.HighsModelStatus
    if ms == S.kOptimal:
        return "optimal"
    if ms == S.kInfeasible:
        return "infeasible"
    if ms in (S.kUnbounded, S.kUnboundedOrInfeasible):
        return "unbounded" if ms == S.kUnbounded else "infeasible"
    if ms in (S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt,
              S.kObjectiveBound, S.kObjectiveTarget, S.kMemoryLimit):
        return "feasible" if has_sol else "no_solution"
    if ms == S.kModelEmpty:
        return "optimal"
    return "error"


def _gap(obj: float, bound: float) -> float:
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return math.inf
    if obj == bound:
        return 0.0
    return abs(obj - bound) / max(abs(obj), 1e-10)


def _solve_pyomo(model, settings: SolverSettings, want_duals: bool) -> SolveOutcome:
    """Solve through one of Pyomo's persistent HiGHS interfaces."""
    new_highs()  # keep the start-up banner quiet
    opts = {"output_flag": bool(settings.verbose), **settings.highs_options}
    if settings.threads is not None:
        opts["threads"] = int(settings.threads)
    if settings.interface == "appsi_highs":
        from pyomo.contrib.appsi.base import TerminationCondition as TC
        from pyomo.contrib.appsi.solvers.highs import Highs

        s = Highs()
        s.config.time_limit = settings.time_limit_s
        s.config.mip_gap = settings.mip_gap
        s.config.load_solution = False
        s.config.stream_solver = bool(settings.verbose)
        s.highs_options = opts
        t0 = time.perf_counter()
        s.set_instance(model)
        transfer = time.perf_counter() - t0
        t1 = time.perf_counter()
        with SCHEDULER.using(settings.threads):
            res = s.solve(model)
        solve_s = time.perf_counter() - t1
        tc = res.termination_condition
        obj = res.best_feasible_objective
        has_sol = obj is not None
        status = {TC.optimal: "optimal", TC.infeasible: "infeasible",
                  TC.infeasibleOrUnbounded: "infeasible", TC.unbounded: "unbounded"}.get(tc)
        if status is None:
            status = "feasible" if has_sol else ("no_solution" if tc in (
                TC.maxTimeLimit, TC.maxIterations, TC.interrupted) else "error")
        bound = res.best_objective_bound
        loader = res.solution_loader
        get_duals = s.get_duals
    else:
        from pyomo.contrib.solver.common.results import TerminationCondition as TC
        from pyomo.contrib.solver.solvers.highs import Highs

        s = Highs()
        t0 = time.perf_counter()
        s.set_instance(model)
        transfer = time.perf_counter() - t0
        t1 = time.perf_counter()
        with SCHEDULER.using(settings.threads):
            res = s.solve(model, time_limit=settings.time_limit_s, rel_gap=settings.mip_gap,
                          load_solutions=False, raise_exception_on_nonoptimal_result=False,
                          tee=bool(settings.verbose), solver_options=opts)
        solve_s = time.perf_counter() - t1
        tc = res.termination_condition
        obj = res.incumbent_objective
        has_sol = obj is not None
        status = {TC.convergenceCriteriaSatisfied: "optimal", TC.provenInfeasible: "infeasible",
                  TC.infeasibleOrUnbounded: "infeasible", TC.unbounded: "unbounded"}.get(tc)
        if status is None:
            status = "feasible" if has_sol else ("no_solution" if tc in (
                TC.maxTimeLimit, TC.iterationLimit, TC.interrupted) else "error")
        bound = res.objective_bound
        loader = res.solution_loader
        get_duals = s._get_duals if hasattr(s, "_get_duals") else loader.get_duals
    out = SolveOutcome(status=status, termination=str(tc), interface=settings.interface,
                       transfer_s=transfer, solve_s=solve_s)
    if status == "error":
        out.message = (f"HiGHS (through Pyomo's {settings.interface} interface) stopped with "
                       f"{tc}; rerun with verbose=True to see its log")
    ints = [v for v in model.component_data_objects(pe.Var, descend_into=True)
            if v.is_integer() and not v.fixed]
    out.n_integer = len(ints)
    if has_sol:
        loader.load_vars()
        out.objective = float(obj)
        out.bound = float(bound) if bound is not None else math.nan
        out.gap = _gap(out.objective, out.bound) if ints else 0.0
        if want_duals and not ints:
            try:
                out.duals = dict(get_duals().items())
            except Exception:  # noqa: BLE001 - duals are optional
                out.duals = None
    return out
