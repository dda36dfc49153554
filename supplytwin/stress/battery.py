"""A stress battery: a base scenario, disruption generators and the rules that judge the result.

A battery is a YAML file (``scenarios/stress/nightly.yaml``)::

    name: nightly
    base: ../baseline.yaml            # relative to this file
    set: [simulation.horizon_days=240] # overrides of the base, like --set
    replications: 5
    start_day: 90                     # when every disruption starts (default: the warm-up end)
    thresholds: {fill_rate: 0.97}     # --fail-under defaults: a what-if's mean below fails
    time_to_recover_days: {FF-PR-JUNCOS: 42}   # per-node TTR (else the sites-table column)
    generators:
      - {kind: site_outage, site_kinds: [fill_finish], durations_days: [14, 42]}
      - {kind: regional_event, label: pr-hurricane, latitude: 18.2, longitude: -66.0,
         radius_km: 150, durations_days: [42]}

Each generator kind is a class below (a pydantic model, so a wrong field is reported with the
file, its line and the reason); :mod:`supplytwin.stress.generators` expands them. Bad input
raises :class:`~supplytwin.errors.ScenarioError` listing every problem.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from supplytwin.errors import Problem, ScenarioError
from supplytwin.model.enums import Mode, SiteKind

#: a battery file larger than this is refused (a battery is a short hand-written file)
MAX_FILE_BYTES = 1_000_000
#: at most this many concrete what-ifs per battery (each runs every replication)
MAX_WHATIFS = 2000
MAX_REPLICATIONS = 1000

Durations = Annotated[
    list[Annotated[float, Field(gt=0, le=3650, allow_inf_nan=False)]],
    Field(min_length=1, max_length=20),
]
Targets = Literal["all"] | Annotated[list[str], Field(min_length=1, max_length=500)]


class _Gen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    durations_days: Durations = Field(description="Lengths of the disruption, one what-if each.")
    start_day: float | None = Field(
        None, ge=0, allow_inf_nan=False,
        description="First day of the disruption; default: the battery's start_day.")


class SiteOutageGen(_Gen):
    """Every site (or every site of the given kinds) down for each duration."""

    kind: Literal["site_outage"]
    sites: Targets = "all"
    site_kinds: list[SiteKind] = Field(default_factory=list, max_length=10)


class LaneClosureGen(_Gen):
    """Every lane (or every lane of the given modes) closed for each duration."""

    kind: Literal["lane_closure"]
    lanes: Targets = "all"
    modes: list[Mode] = Field(default_factory=list, max_length=10)


class RegionalEventGen(_Gen):
    """All sites (customers excepted) within ``radius_km`` of a point down together."""

    kind: Literal["regional_event"]
    label: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=40)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_km: float = Field(gt=0, le=5000, allow_inf_nan=False)


class CapacityLossGen(_Gen):
    """A transport mode (or one lane or site) loses ``magnitude`` of its capacity."""

    kind: Literal["capacity_loss"]
    mode: Mode | None = None
    lane_id: str | None = None
    site_id: str | None = None
    magnitude: float = Field(gt=0, le=1, allow_inf_nan=False)


class DemandSurgeGen(_Gen):
    """Demand of each product (one what-if per product) multiplied by ``magnitude``."""

    kind: Literal["demand_surge"]
    products: Targets = "all"
    magnitude: float = Field(gt=0, le=100, allow_inf_nan=False)


class QcFailureSpikeGen(_Gen):
    """QC rejects batches of each producing site with probability ``magnitude``."""

    kind: Literal["qc_failure_spike"]
    sites: Targets = "all"
    magnitude: float = Field(gt=0, le=1, allow_inf_nan=False)


class SupplierLossGen(_Gen):
    """Each supplier (sites of kind supplier unless listed) delivers nothing."""

    kind: Literal["supplier_loss"]
    sites: Targets = "all"


Generator = Annotated[
    SiteOutageGen | LaneClosureGen | RegionalEventGen | CapacityLossGen | DemandSurgeGen
    | QcFailureSpikeGen | SupplierLossGen,
    Field(discriminator="kind"),
]


class Battery(BaseModel):
    """The schema of a battery file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("", max_length=80)
    description: str = Field("", max_length=5000)
    base: str = Field(description="Base scenario, relative to the battery file.")
    set: list[str] = Field(default_factory=list, max_length=100)
    replications: int = Field(5, ge=1, le=MAX_REPLICATIONS)
    start_day: float | None = Field(None, ge=0, allow_inf_nan=False)
    thresholds: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict)
    time_to_recover_days: dict[str, Annotated[float, Field(gt=0, le=3650, allow_inf_nan=False)]] = (
        Field(default_factory=dict))
    default_time_to_recover_days: float | None = Field(None, gt=0, le=3650, allow_inf_nan=False)
    recovery_tolerance: float = Field(
        0.02, gt=0, lt=1, description="Service is recovered when the trailing fill rate is "
        "within this many (fraction) of the base's.")
    recovery_window_days: int = Field(7, ge=1, le=90)
    top_n: int = Field(5, ge=1, le=100)
    ranking_kpi: str = "patients_affected"
    generators: list[Generator] = Field(min_length=1, max_length=100)

    @field_validator("thresholds", "time_to_recover_days")
    @classmethod
    def _bounded(cls, v: dict) -> dict:
        if len(v) > 500:
            raise ValueError("at most 500 entries")
        return v


class LoadedBattery(BaseModel):
    """A battery with the path it came from (relative paths resolve against its folder)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    battery: Battery
    path: Path
    lines: dict[str, int] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.battery.name or self.path.stem

    @property
    def base_path(self) -> Path:
        return (self.path.parent / self.battery.base).resolve()

    def line(self, key: str) -> int | None:
        return self.lines.get(key)


def _key_lines(node: Any, prefix: str = "") -> dict[str, int]:
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{prefix}.{k.value}" if prefix else str(k.value)
            out[key] = k.start_mark.line + 1
            out.update(_key_lines(v, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = f"{prefix}.{i}"
            out[key] = item.start_mark.line + 1
            out.update(_key_lines(item, key))
    return out


def _reason(err: dict) -> str:
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "union_tag_invalid":
        return (f"unknown generator kind; kinds: site_outage, lane_closure, regional_event, "
                f"capacity_loss, demand_surge, qc_failure_spike, supplier_loss ({msg})")
    return msg


def _field(loc: tuple) -> str:
    # drop the discriminator tag pydantic inserts in a union's location
    kinds = {"site_outage", "lane_closure", "regional_event", "capacity_loss", "demand_surge",
             "qc_failure_spike", "supplier_loss"}
    return ".".join(str(x) for x in loc if str(x) not in kinds)


def load_battery(path: str | Path) -> LoadedBattery:
    """Read and check a battery file (schema only; references are checked on expansion)."""
    path = Path(path)
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError([Problem(shown, reason=f"file is {size:,} bytes; a battery is "
                                         f"at most {MAX_FILE_BYTES:,}")])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(shown, reason="file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(shown, reason=f"cannot read: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError([Problem(shown, line=mark.line + 1 if mark else None,
                                     reason=f"YAML syntax: {getattr(exc, 'problem', exc)}")]
                            ) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ScenarioError([Problem(shown, reason=f"YAML value cannot be read: {exc}")]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(shown, line=1, reason="a battery must be a YAML mapping "
                                     "with at least base: and generators:")])
    lines = _key_lines(node)
    try:
        battery = Battery.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = _field(err.get("loc", ()))
            line = None
            key = field
            while key and line is None:
                line = lines.get(key)
                key = key.rpartition(".")[0]
            problems.append(Problem(shown, line=line, field=field, reason=_reason(err)))
        raise ScenarioError(problems) from None
    return LoadedBattery(battery=battery, path=path, lines=lines)


def parse_fail_under(items: list[str] | None) -> dict[str, float]:
    """``["fill_rate=0.97"]`` -> ``{"fill_rate": 0.97}``; bad items raise SupplytwinError."""
    from supplytwin.errors import SupplytwinError

    out: dict[str, float] = {}
    for item in items or []:
        kpi, sep, value = item.partition("=")
        try:
            v = float(value)
        except ValueError:
            v = math.nan
        if not sep or not kpi.strip() or not math.isfinite(v):
            raise SupplytwinError(f"--fail-under {item!r}: write KPI=VALUE with a finite number, "
                                  "e.g. fill_rate=0.97")
        out[kpi.strip()] = v
    return out
