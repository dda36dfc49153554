"""supplytwin: an open-source digital twin of pharmaceutical supply chains.

Notebook API::

    import supplytwin
    scenario = supplytwin.load_scenario("scenarios/baseline.yaml")
    result = supplytwin.simulate(scenario, seed=1)
    result.kpis, result.timeseries
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("supplytwin")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

from supplytwin.scenario import check_scenario, load_scenario


def simulate(scenario, seed: int | None = None, **kwargs):
    """Simulate one replication; see :func:`supplytwin.sim.simulate`."""
    from supplytwin.sim import simulate as _simulate

    return _simulate(scenario, seed=seed, **kwargs)


__all__ = ["__version__", "check_scenario", "load_scenario", "simulate"]
