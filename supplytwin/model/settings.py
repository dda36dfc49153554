"""Scenario-wide settings: run length, cold-chain behaviour and cost rates.

These are the YAML sections ``simulation:``, ``cold_chain:`` and ``costs:`` of a scenario. Like
the tables, every key is declared once here with its unit and default; the template and the
format documentation are generated from these classes.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from supplytwin.model.tables import Dist, col


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True
    )


class SimulationSettings(Section):
    """How long to simulate and with which randomness."""

    horizon_days: float = col("Simulated days, warm-up included.", unit="days", gt=0, default=365.0)
    warmup_days: float = col(
        "Days at the start excluded from KPIs (the model fills its pipelines).", unit="days",
        ge=0, default=0.0,
    )
    seed: int = col("Root seed of every random stream.", ge=0, default=20261129)
    replications: int = col("Replications an experiment runs by default.", ge=1, default=10)
    start_date: dt.date = col(
        "Calendar date of day 0 (sets weekdays of sailings and the season).",
        default=dt.date(2027, 1, 4),
    )


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
