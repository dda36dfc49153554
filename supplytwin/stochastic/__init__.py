"""Distributions parsed from readable text, and named random streams (no global random state)."""

from supplytwin.stochastic.distributions import (
    DISTRIBUTION_NAMES,
    Distribution,
    DistributionError,
    Fixed,
    parse_distribution,
)
from supplytwin.stochastic.streams import RandomStreams

__all__ = [
    "DISTRIBUTION_NAMES",
    "Distribution",
    "DistributionError",
    "Fixed",
    "RandomStreams",
    "parse_distribution",
]
