"""Scenario-wide settings: run length, cold-chain behaviour and cost rates.

These are the YAML sections ``simulation:``, ``cold_chain:`` and ``costs:`` of a scenario. Like
the tables, every key is declared once here with its unit and default; the template and the
format documentation are generated from these classes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from supplytwin.model.tables import Dist, check_magnitude, col, column_unit

#: longest horizon a scenario may simulate: a century is already beyond any planning question
MAX_HORIZON_DAYS = 36_500.0
#: seeds are stored as SQLite integers (signed 64 bit)
MAX_SEED = 2**63 - 1
#: default budget of simulator events per replication (see ``max_events``)
DEFAULT_MAX_EVENTS = 50_000_000


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True,
        allow_inf_nan=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        return check_magnitude(value, column_unit(cls, info.field_name))


class SimulationSettings(Section):
    """How long to simulate and with which randomness."""

    horizon_days: float = col("Simulated days, warm-up included.", unit="days", gt=0,
                              le=MAX_HORIZON_DAYS, default=365.0)
    warmup_days: float = col(
        "Days at the start excluded from KPIs (the model fills its pipelines).", unit="days",
        ge=0, default=0.0,
    )
    seed: int = col("Root seed of every random stream.", ge=0, le=MAX_SEED, default=20261129)
    replications: int = col("Replications an experiment runs by default.", ge=1, le=100_000,
                            default=10)
    start_date: dt.date = col(
        "Calendar date of day 0 (sets weekdays of sailings and the season).",
        default=dt.date(2027, 1, 4),
    )
    max_events: int = col(
        "Budget of simulator events per replication: a run that schedules more stops with a "
        "message naming the process that exploded (a runaway input, not a result).",
        ge=1000, default=DEFAULT_MAX_EVENTS,
    )
    time_limit_seconds: float | None = col(
        "Wall-clock budget per replication; empty = no limit.", unit="seconds", gt=0,
        default=None,
    )

    @model_validator(mode="after")
    def _warmup_inside_horizon(self) -> SimulationSettings:
        if self.warmup_days >= self.horizon_days:
            raise ValueError(f"warmup_days ({self.warmup_days:g}) must be shorter than "
                             f"horizon_days ({self.horizon_days:g}): no day would be measured")
        return self


class ColdChainSettings(Section):
    """Temperature excursions in transit and their QA disposition."""

    qa_disposition_days: Dist = col(
        "Quarantine time at receipt while QA investigates an excursion.", unit="days",
        default="triangular(1, 2, 5)",
    )
    excursion_duration_hours: Dist = col(
        "Hours outside range caused by one excursion; added to the lot's stability budget use.",
        unit="hours", default="lognormal(mean=8, cv=1)",
    )
    overdue_hazard_multiplier: float = col(
        "Factor on the excursion hazard for the part of a transit beyond the packaging's "
        "qualified hours.", ge=1, default=10.0,
    )
    seasonal_amplitude: float = col(
        "Relative summer increase of the excursion hazard (0.5 = +50 % at the peak, -50 % at "
        "the trough).", unit="fraction", ge=0, le=1, default=0.5,
    )
    seasonal_peak_day: float = col(
        "Day of year of the excursion-hazard peak (northern summer).", unit="day of year", ge=0,
        lt=366, default=200.0,
    )


class CostSettings(Section):
    """Rates that turn physical outcomes into money."""

    holding_rate_per_year: float = col(
        "Holding cost as a fraction of unit value per year.", unit="1/year", ge=0, default=0.2
    )
    backorder_penalty_usd_per_unit_day: float = col(
        "Penalty per backordered unit per day.", unit="USD/unit/day", ge=0, default=5.0
    )
    lost_sale_penalty_usd_per_unit: float = col(
        "Penalty per unit of lost demand.", unit="USD/unit", ge=0, default=500.0
    )
    disposal_usd_per_unit: float = col(
        "Destruction cost per unit written off, on top of its value.", unit="USD/unit", ge=0,
        default=2.0,
    )


class KpiSettings(Section):
    """Choices in how KPIs are computed."""

    stockout_threshold_units: float = col(
        "A site-product is stocked out on a day when its on-hand stock ends the day at or "
        "below this.", unit="units", ge=0, default=0.0,
    )
