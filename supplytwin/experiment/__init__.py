"""Experiments: replications with confidence intervals, paired comparisons, sweeps, executors."""

from supplytwin.experiment.executors import (
    DaskExecutor,
    InProcess,
    LocalProcesses,
    ReplicationOutput,
    make_executor,
    run_replication,
)
from supplytwin.experiment.replications import (
    MAX_REPLICATIONS,
    ExperimentResult,
    replications_for,
    run_experiment,
)
from supplytwin.experiment.stats import (
    Estimate,
    paired_difference,
    significant,
    t_interval,
    welch_difference,
)


def run_replications(scenario, reps: int, seed: int | None = None, **kwargs) -> ExperimentResult:
    """Convenience wrapper: ``run_experiment`` in this process unless an executor is given."""
    return run_experiment(scenario, reps, seed=seed, **kwargs)


__all__ = [
    "MAX_REPLICATIONS",
    "DaskExecutor",
    "Estimate",
    "ExperimentResult",
    "InProcess",
    "LocalProcesses",
    "ReplicationOutput",
    "make_executor",
    "paired_difference",
    "replications_for",
    "run_experiment",
    "run_replication",
    "run_replications",
    "significant",
    "t_interval",
    "welch_difference",
]
