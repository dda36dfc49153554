"""Probability distributions written the way a planner reads them.

A scenario writes a duration or a quantity as a small expression::

    fixed(3)                     always 3
    exponential(mean=2)          memoryless, mean 2
    uniform(2, 5)                uniform on [2, 5]
    triangular(2, 3, 6)          min, mode, max
    normal(mean=10, sd=2)        truncated at 0 (durations and quantities cannot be negative)
    lognormal(mean=5, cv=0.4)    parametrised by its own mean and coefficient of variation
    gamma(mean=5, cv=0.5)
    poisson(mean=4)              integer counts
    empirical(file.csv)          resampled from the first numeric column of a CSV file

Each distribution is an immutable object with ``sample(rng)`` (``rng`` is a
``numpy.random.Generator``: there is no global random state anywhere in supplytwin), an analytic
``mean`` and ``variance`` (so tests compare sampled with theoretical moments), and the text it was
parsed from (``str(dist)`` round-trips). The unit is not part of the expression: the column or key
that holds it names the unit (``transit_time_days``).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np


class DistributionError(ValueError):
    """The text does not describe a valid distribution; the message says why."""


@dataclass(frozen=True)
class Distribution:
    """Base class. Subclasses set ``name`` and implement sample/mean/variance."""

    name: ClassVar[str] = ""

    def sample(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample_n(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.array([self.sample(rng) for _ in range(n)])

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def is_deterministic(self) -> bool:
        return self.variance == 0.0

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every value multiplied by ``factor`` (used by delay disruptions)."""
        return Scaled(self, float(factor))


@dataclass(frozen=True)
class Fixed(Distribution):
    name: ClassVar[str] = "fixed"
    value: float

    def sample(self, rng):
        return self.value

    def sample_n(self, rng, n):
        return np.full(n, self.value)

    @property
    def mean(self):
        return self.value

    @property
    def variance(self):
        return 0.0

    def __str__(self):
        return f"fixed({_fmt(self.value)})"


@dataclass(frozen=True)
class Exponential(Distribution):
    name: ClassVar[str] = "exponential"
    mean_value: float

    def sample(self, rng):
        return float(rng.exponential(self.mean_value))

    def sample_n(self, rng, n):
        return rng.exponential(self.mean_value, n)

    @property
    def mean(self):
        return self.mean_value

    @property
    def variance(self):
        return self.mean_value**2

    def __str__(self):
        return f"exponential(mean={_fmt(self.mean_value)})"


@dataclass(frozen=True)
class Uniform(Distribution):
    name: ClassVar[str] = "uniform"
    low: float
    high: float

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def sample_n(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    @property
    def mean(self):
        return (self.low + self.high) / 2

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def __str__(self):
        return f"uniform({_fmt(self.low)}, {_fmt(self.high)})"


@dataclass(frozen=True)
class Triangular(Distribution):
    name: ClassVar[str] = "triangular"
    low: float
    mode: float
    high: float

    def sample(self, rng):
        if self.low == self.high:
            return self.low
        return float(rng.triangular(self.low, self.mode, self.high))

    def sample_n(self, rng, n):
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, n)

    @property
    def mean(self):
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self):
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def __str__(self):
        return f"triangular({_fmt(self.low)}, {_fmt(self.mode)}, {_fmt(self.high)})"


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal truncated at zero by resampling; mean/variance are of the untruncated law.

    Scenarios should keep sd well below mean (validation warns-by-error when sd > mean/2) so the
    truncation is negligible.
    """

    name: ClassVar[str] = "normal"
    mean_value: float
    sd: float

    def sample(self, rng):
        for _ in range(100):
            x = rng.normal(self.mean_value, self.sd)
            if x >= 0:
                return float(x)
        return 0.0

    @property
    def mean(self):
        return self.mean_value

    @property
    def variance(self):
        return self.sd**2

    def __str__(self):
        return f"normal(mean={_fmt(self.mean_value)}, sd={_fmt(self.sd)})"


@dataclass(frozen=True)
class LogNormal(Distribution):
    name: ClassVar[str] = "lognormal"
    mean_value: float
    cv: float
    _mu: float = field(init=False, repr=False, compare=False)
    _sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        sigma2 = math.log(1 + self.cv**2)
        object.__setattr__(self, "_sigma", math.sqrt(sigma2))
        object.__setattr__(self, "_mu", math.log(self.mean_value) - sigma2 / 2)

    def sample(self, rng):
        return float(rng.lognormal(self._mu, self._sigma))

    def sample_n(self, rng, n):
        return rng.lognormal(self._mu, self._sigma, n)

    @property
    def mean(self):
        return self.mean_value

    @property
    def variance(self):
        return (self.cv * self.mean_value) ** 2

    def __str__(self):
        return f"lognormal(mean={_fmt(self.mean_value)}, cv={_fmt(self.cv)})"


@dataclass(frozen=True)
class Gamma(Distribution):
    name: ClassVar[str] = "gamma"
    mean_value: float
    cv: float

    def sample(self, rng):
        shape = 1 / self.cv**2
        return float(rng.gamma(shape, self.mean_value / shape))

    def sample_n(self, rng, n):
        shape = 1 / self.cv**2
        return rng.gamma(shape, self.mean_value / shape, n)

    @property
    def mean(self):
        return self.mean_value

    @property
    def variance(self):
        return (self.cv * self.mean_value) ** 2

    def __str__(self):
        return f"gamma(mean={_fmt(self.mean_value)}, cv={_fmt(self.cv)})"


@dataclass(frozen=True)
class Weibull(Distribution):
    """Weibull with ``shape`` k and ``scale`` lambda (days): a common fit for transit and
    repair times; k < 1 gives a long right tail, k = 1 is the exponential."""

    name: ClassVar[str] = "weibull"
    shape: float
    scale: float

    def sample(self, rng):
        return float(self.scale * rng.weibull(self.shape))

    def sample_n(self, rng, n):
        return self.scale * rng.weibull(self.shape, n)

    @property
    def mean(self):
        return self.scale * math.gamma(1 + 1 / self.shape)

    @property
    def variance(self):
        g1 = math.gamma(1 + 1 / self.shape)
        return self.scale**2 * (math.gamma(1 + 2 / self.shape) - g1**2)

    def __str__(self):
        return f"weibull(shape={_fmt(self.shape)}, scale={_fmt(self.scale)})"


@dataclass(frozen=True)
class Poisson(Distribution):
    name: ClassVar[str] = "poisson"
    mean_value: float

    def sample(self, rng):
        return float(rng.poisson(self.mean_value))

    def sample_n(self, rng, n):
        return rng.poisson(self.mean_value, n).astype(float)

    @property
    def mean(self):
        return self.mean_value

    @property
    def variance(self):
        return self.mean_value

    def __str__(self):
        return f"poisson(mean={_fmt(self.mean_value)})"


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resamples (with replacement) the observed values in a CSV file's first numeric column."""

    name: ClassVar[str] = "empirical"
    source: str
    values: tuple[float, ...] = field(compare=False, repr=False)

    def sample(self, rng):
        return float(self.values[int(rng.integers(len(self.values)))])

    @property
    def mean(self):
        return float(np.mean(self.values))

    @property
    def variance(self):
        return float(np.var(self.values))

    def __str__(self):
        return f"empirical({self.source})"


@dataclass(frozen=True)
class Scaled(Distribution):
    name: ClassVar[str] = "scaled"
    base: Distribution
    factor: float

    def sample(self, rng):
        return self.base.sample(rng) * self.factor

    @property
    def mean(self):
        return self.base.mean * self.factor

    @property
    def variance(self):
        return self.base.variance * self.factor**2

    def __str__(self):
        return f"{self.base} * {_fmt(self.factor)}"


def _fmt(x: float) -> str:
    return f"{x:g}"


# name -> (class, positional parameter names, keyword aliases -> field)
_SPECS: dict[str, tuple[type[Distribution], tuple[str, ...]]] = {
    "fixed": (Fixed, ("value",)),
    "exponential": (Exponential, ("mean",)),
    "uniform": (Uniform, ("low", "high")),
    "triangular": (Triangular, ("low", "mode", "high")),
    "normal": (Normal, ("mean", "sd")),
    "lognormal": (LogNormal, ("mean", "cv")),
    "gamma": (Gamma, ("mean", "cv")),
    "poisson": (Poisson, ("mean",)),
    "weibull": (Weibull, ("shape", "scale")),
}

DISTRIBUTION_NAMES = (*_SPECS, "empirical")


def parse_distribution(text: str | float, base_dir: Path | None = None) -> Distribution:
    """Parse ``lognormal(mean=5, cv=0.4)`` (or a bare number, meaning ``fixed``).

    Raises DistributionError with a message fit to show a planner.
    """
    if isinstance(text, bool):
        raise DistributionError(f"expected a number or a distribution, got {text!r}")
    if isinstance(text, int | float):
        return _build("fixed", [float(text)], {})
    s = str(text).strip()
    if not s:
        raise DistributionError("empty value: expected a number or a distribution such as fixed(3)")
    try:
        number = float(s)
    except ValueError:
        number = None
    if number is not None:
        return _build("fixed", [number], {})
    if "(" not in s or not s.endswith(")"):
        raise DistributionError(
            f"cannot read {s!r}: write a number or name(args), e.g. lognormal(mean=5, cv=0.4); "
            f"known: {', '.join(DISTRIBUTION_NAMES)}"
        )
    name, _, inner = s.partition("(")
    name = name.strip().lower()
    inner = inner[:-1]
    if name == "empirical":
        return _empirical(inner.strip().strip("'\""), base_dir)
    if name not in _SPECS:
        raise DistributionError(
            f"unknown distribution {name!r}; known: {', '.join(DISTRIBUTION_NAMES)}"
        )
    try:
        call = ast.parse(f"f({inner})", mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise DistributionError(f"cannot read the arguments of {s!r}") from exc
    if not isinstance(call, ast.Call):
        raise DistributionError(f"cannot read the arguments of {s!r}")
    try:
        args = [_number(a) for a in call.args]
        kwargs = {k.arg: _number(k.value) for k in call.keywords}
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise DistributionError(f"{s!r}: arguments must be plain numbers") from exc
    return _build(name, args, kwargs)


def _number(node: ast.AST) -> float:
    value = ast.literal_eval(node)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    return float(value)


def _build(name: str, args: list[float], kwargs: dict) -> Distribution:
    cls, params = _SPECS[name]
    if len(args) > len(params):
        raise DistributionError(f"{name}() takes {len(params)} arguments ({', '.join(params)})")
    values = dict(zip(params, args, strict=False))
    for key, val in kwargs.items():
        if key not in params:
            raise DistributionError(f"{name}() has no parameter {key!r}; it takes {', '.join(params)}")
        if key in values:
            raise DistributionError(f"{name}(): {key} given twice")
        values[key] = val
    missing = [p for p in params if p not in values]
    if missing:
        raise DistributionError(f"{name}() needs {', '.join(missing)}")
    for key, val in values.items():
        if not math.isfinite(val):
            raise DistributionError(f"{name}(): {key} must be a finite number")
        values[key] = val + 0.0  # -0.0 -> 0.0, so str() never prints "-0"
    _check(name, values)
    try:
        return cls(*[values[p] for p in params])
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise DistributionError(f"{name}(): parameters out of range ({exc})") from None


def _check(name: str, v: dict[str, float]) -> None:
    def need(cond: bool, why: str) -> None:
        if not cond:
            raise DistributionError(f"{name}(): {why}")

    if name == "fixed":
        need(v["value"] >= 0, "value must be >= 0")
    elif name in ("exponential", "poisson"):
        need(v["mean"] > 0, "mean must be > 0")
    elif name == "uniform":
        need(0 <= v["low"] <= v["high"], "needs 0 <= low <= high")
    elif name == "triangular":
        need(0 <= v["low"] <= v["mode"] <= v["high"], "needs 0 <= low <= mode <= high")
    elif name == "normal":
        need(v["mean"] > 0 and v["sd"] >= 0, "needs mean > 0 and sd >= 0")
        need(v["sd"] <= v["mean"] / 2, "sd > mean/2 would truncate at zero too often; use lognormal")
    elif name in ("lognormal", "gamma"):
        need(v["mean"] > 0, "mean must be > 0")
        need(v["cv"] > 0, "cv must be > 0 (use fixed() for no variability)")
        need(1e-6 <= v["cv"] <= 1e3, "cv must be between 1e-6 and 1000")
    elif name == "weibull":
        need(0.05 <= v["shape"] <= 1e3, "shape must be between 0.05 and 1000")
        need(v["scale"] > 0, "scale must be > 0")


#: largest file an ``empirical(file.csv)`` sample may be read from
EMPIRICAL_MAX_BYTES = 50 * 1024**2


def _empirical(path_text: str, base_dir: Path | None) -> Empirical:
    if not path_text:
        raise DistributionError("empirical() needs a CSV file name")
    path = Path(path_text)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a name too long for the file system
        is_file = False
    if not is_file:
        raise DistributionError(f"empirical(): file not found: {path}")
    if path.stat().st_size > EMPIRICAL_MAX_BYTES:
        raise DistributionError(f"empirical(): {path} is larger than "
                                f"{EMPIRICAL_MAX_BYTES // 1024**2} MiB; an observed sample "
                                "of transit or repair times is far smaller")
    values: list[float] = []
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for line in fh:
                cell = line.split(",")[0].strip()
                try:
                    x = float(cell)
                except ValueError:
                    continue  # header or text row
                if math.isfinite(x) and x >= 0:
                    values.append(x)
    except (OSError, UnicodeDecodeError) as exc:
        raise DistributionError(f"empirical(): cannot read {path}: {exc}") from None
    if not values:
        raise DistributionError(f"empirical(): no non-negative numbers in {path}")
    return Empirical(path_text, tuple(values))
