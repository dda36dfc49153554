"""Random draws taken from a stream in blocks: one numpy call per block instead of one per draw.

A scalar numpy draw costs about a microsecond, most of it the call itself. Where one stream
feeds one kind of draw only (a lane's transit times, say), drawing 256 at a time gives the
very same numbers in the very same order: numpy's generators produce an array element by
element with the same routine as a single draw, so ``dist.sample_n(rng, n)`` equals ``n``
calls of ``dist.sample(rng)`` (``tests/unit/test_block_draws.py`` checks every distribution).
Only streams that nothing else reads may be drawn ahead like this.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np

from supplytwin.stochastic.distributions import Distribution, Fixed

#: draws per numpy call
BLOCK = 256


def _blocks(dist: Distribution, rng: np.random.Generator, n: int) -> Iterator[float]:
    while True:
        yield from dist.sample_n(rng, n).tolist()


def block_sampler(dist: Distribution, rng: np.random.Generator,
                  n: int = BLOCK) -> Callable[[], float]:
    """A function returning the next draw of ``dist`` from ``rng`` (the stream's only reader)."""
    if isinstance(dist, Fixed):
        return itertools.repeat(dist.value).__next__  # no draw at all, as Fixed.sample
    return _blocks(dist, rng, n).__next__
