"""Long work in background threads of the dashboard server, polled by the pages.

:class:`JobRunner` runs a recorded experiment (``experiment.recorded.start``, the same code
path as ``supplytwin run``) or any long task, publishes its progress and lets the page cancel
it between replications. See ``docs/dashboard.md`` for why a thread rather than Dash background
callbacks.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import supplytwin
from dashboard.services.checks import MAX_REPLICATIONS, UserError, _clean, _positive, _shown
from dashboard.services.scenarios import Knobs, knob_sets
from dashboard.services.workspace import Workspace, _problems_text, load, scenario_path
from supplytwin.errors import ScenarioError, SupplytwinError
from supplytwin.experiment import recorded
from supplytwin.experiment.replications import replications_for
from supplytwin.store.registry import Registry

log = logging.getLogger(__name__)


#: a long function for :meth:`JobRunner.submit_task`: (progress, cancel) -> result mapping
Task = Callable[[Callable[..., None], threading.Event], Mapping[str, Any] | None]


@dataclass
class Job:
    id: str
    scenario: str
    #: what the job's thread runs: ``target(job)`` updates the job as it goes
    target: Callable[[Job], None]
    state: str = "queued"  # queued | running | done | cancelled | error
    done: int = 0
    total: int = 0
    label: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    run_id: str | None = None
    message: str = ""
    summary: dict[str, Any] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total,
                "label": self.label, "scenario": self.scenario, "run_id": self.run_id,
                "message": self.message, "summary": self.summary,
                "elapsed_s": round(end - self.started, 2),
                "cancel_requested": self.cancel.is_set()}


class JobRunner:
    """Recorded experiments in background threads of the dashboard server.

    A job calls :func:`supplytwin.experiment.recorded.start` — the code path of the CLI — so the
    run is registered, checkpointed and written exactly like ``supplytwin run``. One replication
    runs in the job's thread; more run in worker processes, so the server stays responsive.
    Cancelling is cooperative: the next finished replication interrupts the experiment, which
    the registry then records as ``interrupted`` (resumable with ``supplytwin run --resume``).
    """

    def __init__(self, max_active: int = 2, keep: int = 50):
        self.max_active = max_active
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def active(self) -> int:
        with self._lock:
            return sum(j.state in ("queued", "running") for j in self._jobs.values())

    def submit(self, runs_dir: Path, request: recorded.Request, scenario: str) -> str:
        """Run a recorded experiment (``recorded.start``); return the job id."""
        return self._start(scenario, lambda job: self._run_recorded(job, Path(runs_dir),
                                                                    request))

    def submit_task(self, label: str, task: Task) -> str:
        """Run any long function, e.g. an optimisation: ``task(progress, cancel)`` calls
        ``progress(done, total, label)`` as it goes, should stop soon after ``cancel`` (a
        :class:`threading.Event`) is set, and returns a mapping with any of ``message``,
        ``summary``, ``run_id`` and ``state`` (default ``done``, or ``cancelled`` when it
        was). A :class:`UserError` or ``SupplytwinError`` it raises becomes the job's
        message."""
        return self._start(label, lambda job: self._run_task(job, task))

    def _start(self, label: str, target: Callable[[Job], None]) -> str:
        with self._lock:
            busy = sum(j.state in ("queued", "running") for j in self._jobs.values())
            if busy >= self.max_active:
                raise UserError(f"{busy} run(s) are already in progress; wait for one to finish "
                                "or cancel it.")
            job = Job(secrets.token_urlsafe(12), label, target)
            self._jobs[job.id] = job
            for old in list(self._jobs)[: max(0, len(self._jobs) - self.keep)]:
                if self._jobs[old].state not in ("queued", "running"):
                    del self._jobs[old]
        threading.Thread(target=self._run, args=(job,), name=f"supplytwin-job-{job.id[:6]}",
                         daemon=True).start()
        return job.id

    def status(self, job_id: object) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            return {"id": job_id, "state": "unknown", "done": 0, "total": 0, "label": "",
                    "message": "This run is not known to the server (was it restarted?); "
                               "look for it in the Runs page.", "run_id": None, "summary": None,
                    "elapsed_s": 0.0, "cancel_requested": False}
        return job.view()

    def cancel(self, job_id: object) -> bool:
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None or job.state not in ("queued", "running"):
            return False
        job.cancel.set()
        return True

    def wait(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the job ends (for tests and scripts)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.status(job_id)
            if s["state"] not in ("queued", "running"):
                return s
            time.sleep(0.05)
        return self.status(job_id)

    def _run(self, job: Job) -> None:
        job.state = "running"
        try:
            job.target(job)
        except Exception as exc:  # a bug must not end the server thread silently
            log.exception("dashboard job failed")
            job.message = (f"The job failed with an internal error ({type(exc).__name__}: "
                           f"{_shown(exc, 200)}); the server log has the details.")
            job.state = "error"
        finally:
            job.finished = time.monotonic()

    @staticmethod
    def _run_task(job: Job, task: Task) -> None:
        def progress(done: int, total: int, label: str = "") -> None:
            job.done, job.total, job.label = done, total, label

        try:
            out = dict(task(progress, job.cancel) or {})
        except (UserError, SupplytwinError) as exc:
            job.message, job.state = _shown(exc, 400), "error"
            return
        except KeyboardInterrupt:
            job.message, job.state = "Cancelled.", "cancelled"
            return
        state = out.get("state") or ("cancelled" if job.cancel.is_set() else "done")
        job.summary = out.get("summary")
        job.run_id = out.get("run_id")
        job.message = out.get("message") or ("Cancelled." if state == "cancelled" else "Done.")
        job.state = state  # last: a reader that sees the final state sees everything else

    @staticmethod
    def _run_recorded(job: Job, runs_dir: Path, request: recorded.Request) -> None:
        last_label: list[str | None] = [None]

        def progress(done: int, total: int, label: str) -> None:
            first_of_label = label != last_label[0]
            last_label[0] = label
            job.done, job.total, job.label = done, total, label
            # raising here lands in run_experiment's KeyboardInterrupt handler, which keeps the
            # finished replications and marks the run interrupted; the first call of each
            # scenario comes before that handler, so it is never the one to raise
            if job.cancel.is_set() and not first_of_label and done < total:
                raise KeyboardInterrupt

        try:
            outcome = recorded.start(request, Registry(runs_dir), progress)
        except ScenarioError as exc:
            job.message, job.state = f"The scenario is invalid: {_problems_text(exc)}", "error"
        except SupplytwinError as exc:
            job.message, job.state = _shown(exc, 400), "error"
        except KeyboardInterrupt:
            job.message, job.state = "Cancelled before the first replication.", "cancelled"
        else:
            job.run_id = outcome.run_id
            # the state goes last: a page that sees "done" must find the summary there
            if outcome.interrupted:
                n = sum(r.n for r in outcome.results)
                job.message = (f"Cancelled after {n} of {job.total} replication(s); run "
                               f"{outcome.run_id} is recorded as interrupted (continue it with "
                               f"supplytwin run --resume {outcome.run_id}).")
                job.state = "cancelled"
            else:
                job.summary = _summary_dict(outcome.results[0])
                job.message = (f"Run {outcome.run_id} finished: {outcome.results[0].n} "
                               f"replication(s).")
                job.state = "done"


#: the jobs of this server process
JOBS = JobRunner()


def start_run(ws: Workspace, key: str, knobs: Knobs, replications: int | None, *,
              report: bool = True, runner: JobRunner | None = None,
              workers: int | None = None) -> str:
    """Start a recorded run of the chosen scenario with the knobs as ``--set`` overrides;
    return the job id. One replication runs in process, more on up to all cores (unless
    ``workers`` says otherwise)."""
    path = scenario_path(ws, key)
    if replications not in (None, ""):
        _positive(replications, "Replications", integer=True, upper=MAX_REPLICATIONS)
    try:  # the CLI's one rule: a number given wins, else the scenario's simulation.replications
        reps = replications_for(load(ws, key), replications)
    except SupplytwinError as exc:
        raise UserError(f"Replications: {exc}.") from None
    sets = knob_sets(ws, key, knobs)
    problems = supplytwin.check_scenario(path, sets)
    if problems:
        raise UserError("These settings make the scenario invalid: "
                        + "; ".join(str(p) for p in problems[:6]))
    if workers is None:
        workers = 1 if reps == 1 else min(reps, os.cpu_count() or 1)
    req = recorded.Request("run", [str(path)], sets, reps=reps, workers=workers, report=report)
    return (runner or JOBS).submit(ws.runs_dir, req, key)


def _summary_dict(result) -> dict[str, Any]:
    out = {}
    for k, e in result.summary().items():
        out[k] = _clean({"mean": e.mean, "sd": e.sd, "ci95": list(e.ci95), "n": e.n})
    return out
