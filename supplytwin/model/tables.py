"""The network tables: one row model per entity, each column declared once.

A planner keeps a network as spreadsheet-friendly CSV files, one per entity (products, sites,
production, bill of materials, lanes, policies, initial stock, demand, disruptions). Each class
below is the schema of one table: every field is a column, with its unit in its name and in its
metadata, its default, and the values it allows. ``docs/scenario-format.md`` and
``supplytwin template`` are generated from these declarations, so documentation and code cannot
drift apart.

Rows are immutable pydantic models. Distribution-valued columns hold parsed
:class:`~supplytwin.stochastic.Distribution` objects; a relative ``empirical(file.csv)`` path is
resolved against the table's folder, passed in the validation context as ``base_dir``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from supplytwin.model.enums import (
    DemandProcess,
    DisruptionKind,
    Mode,
    Packaging,
    PolicyKind,
    SiteKind,
    SourcingRule,
    TemperatureClass,
    UnmetDemand,
)
from supplytwin.stochastic import Distribution, DistributionError, parse_distribution


def _parse_dist(value: Any, info: ValidationInfo) -> Distribution:
    if isinstance(value, Distribution):
        return value
    base_dir = (info.context or {}).get("base_dir")
    try:
        return parse_distribution(value, base_dir)
    except DistributionError as exc:
        raise ValueError(str(exc)) from None


Dist = Annotated[
    Distribution,
    BeforeValidator(_parse_dist),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "format": "distribution"}),
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]


def _split_list(value: Any) -> Any:
    """``"L1;L2"`` -> ``("L1", "L2")``; empty -> ``()``."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(";") if p.strip())
    return value


IdList = Annotated[
    tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...],
    BeforeValidator(_split_list),
    PlainSerializer(lambda v: ";".join(v), return_type=str),
    WithJsonSchema({"type": "string", "format": "semicolon-separated ids"}),
]
FloatList = Annotated[
    tuple[Annotated[float, Field(ge=0)], ...],
    BeforeValidator(_split_list),
    PlainSerializer(lambda v: ";".join(f"{x:g}" for x in v), return_type=str),
    WithJsonSchema({"type": "string", "format": "semicolon-separated numbers"}),
]


#: Bounds on sizes, far beyond any real supply chain. They exist so that a typo (1e9 for 1e3),
#: ``1e308`` or an overflow is refused with a message at load time instead of running for hours
#: or turning costs into inf/NaN. Bounds by unit apply to every column of that unit (including
#: the mean of a distribution); a column can be tighter with its own ``le=``/``ge=``.
MAX_UNITS = 1e9
MAX_DAYS = 1e7
MAX_ORDERS_PER_DAY = 1e5
#: any other number (money, rates, counts)
MAX_MAGNITUDE = 1e12
#: shortest period a review, a failure or a repair may have: shorter ones only multiply events
MIN_PERIOD_DAYS = 1e-3
UNIT_LIMITS: dict[str, float] = {
    "units": MAX_UNITS, "units/batch": MAX_UNITS, "days": MAX_DAYS, "hours": 24 * MAX_DAYS,
    "orders/day": MAX_ORDERS_PER_DAY,
}


def check_magnitude(value: Any, unit: str) -> Any:
    """Refuse a number (or a distribution's mean) beyond the bound of its unit."""
    limit = UNIT_LIMITS.get(unit, MAX_MAGNITUDE)
    what = f"{limit:.0e} {unit}".strip() if unit else f"{limit:.0e}"
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, Distribution):
        mean = value.mean
        if not abs(mean) <= limit:  # also catches NaN
            raise ValueError(f"mean {mean:.4g} is absurdly large: at most {what}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not abs(value) <= limit:
            raise ValueError(f"{value:.4g} is absurdly large: at most {what}")
    elif isinstance(value, tuple):
        for x in value:
            check_magnitude(x, unit)
    return value


#: characters a name must not hold: C0/C1 controls (ESC starts terminal escape sequences) and
#: the bidirectional overrides that make text read differently from what it is ("Trojan source")
_FORBIDDEN_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def check_text(value: str) -> str:
    """Refuse control and bidirectional-override characters in user text."""
    bad = _FORBIDDEN_CHARS.search(value)
    if bad is not None:
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X} at position "
                         f"{bad.start() + 1}; names must be plain text")
    return value


def col(description: str, *, unit: str = "", default: Any = ..., **kw: Any) -> Any:
    """Declare a column: its documentation and unit live beside its type."""
    extra = {"unit": unit} if unit else {}
    return Field(default, description=description, json_schema_extra=extra or None, **kw)


class Row(BaseModel):
    """Base of every table row: unknown columns are errors, rows are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True,
        allow_inf_nan=False,
    )

    #: file stem of the table, e.g. "products"
    table: ClassVar[str] = ""
    #: the columns that identify a row (used by ``edits:`` and error messages)
    key: ClassVar[tuple[str, ...]] = ()
    #: one-line description of the table for the docs
    doc: ClassVar[str] = ""

    @property
    def row_id(self) -> str:
        return "/".join(str(getattr(self, k)) for k in self.key)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        return check_magnitude(value, column_unit(cls, info.field_name))


def column_unit(model: type[BaseModel], name: str | None) -> str:
    field = model.model_fields.get(name or "")
    extra = field.json_schema_extra if field is not None else None
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


class ProductRow(Row):
    table: ClassVar[str] = "products"
    key: ClassVar[tuple[str, ...]] = ("product_id",)
    doc: ClassVar[str] = (
        "Every material that moves or is stocked: APIs, drug substance, bulk and finished packs."
    )

    product_id: Id = col("Unique product id.")
    name: str = col("Readable name.", default="")
    temperature_class: TemperatureClass = col("Labelled storage condition.")
    shelf_life_days: float = col("Shelf life from manufacture.", unit="days", gt=0)
    unit_value_usd: float = col("Value of one unit (for holding and waste cost).", unit="USD/unit", ge=0)
    units_per_batch: float = col(
        "Nominal batch size; used where production.csv leaves batch_size_units empty.",
        unit="units", gt=0, default=1000.0,
    )
    min_remaining_shelf_life_frac: float = col(
        "Minimum remaining shelf life at shipment to a customer, as a fraction of the shelf life "
        "(overridable per customer in demand.csv).", unit="fraction", ge=0, le=1, default=0.0,
    )
    patients_per_unit: float = col(
        "Patients treated per unit (for patient-impact KPIs).", unit="patients/unit", ge=0, default=1.0
    )
    excursion_budget_hours: float = col(
        "Stability budget: cumulative hours outside the labelled range a lot may suffer and still "
        "be released by QA.", unit="hours", ge=0, default=24.0,
    )


#: columns of the sites table that describe an external supplier and nothing else
EXTERNAL_SUPPLY_COLUMNS = ("supply_lead_time_days", "supply_capacity_units_per_day",
                           "supply_on_time_prob", "supply_late_days", "supply_cost_usd_per_unit")


class SiteRow(Row):
    table: ClassVar[str] = "sites"
    key: ClassVar[tuple[str, ...]] = ("site_id",)
    doc: ClassVar[str] = (
        "Suppliers, plants, distribution centres, wholesalers and customers. An "
        "external_supplier is a vendor who ships whatever is ordered after a lead time: it needs "
        "no stock, policy or production row, and its supply_* columns say how fast, how much "
        "and how reliably it delivers."
    )

    site_id: Id = col("Unique site id.")
    name: str = col("Readable name.", default="")
    kind: SiteKind = col("What the site does.")
    latitude: float = col("Latitude (WGS84).", unit="degrees", ge=-90, le=90)
    longitude: float = col("Longitude (WGS84).", unit="degrees", ge=-180, le=180)
    country: str = col("ISO 3166 alpha-2 country code.", default="", max_length=2)
    region: str = col("Planning region (e.g. EU, US, APAC) used for filters.", default="")
    capacity_crt_units: float | None = col(
        "Storage capacity for controlled-room-temperature goods; empty = unlimited.", unit="units",
        default=None, ge=0,
    )
    capacity_refrigerated_units: float | None = col(
        "Storage capacity at 2-8 C; empty = unlimited.", unit="units", default=None, ge=0
    )
    capacity_frozen_units: float | None = col(
        "Storage capacity at -25 to -10 C; empty = unlimited.", unit="units", default=None, ge=0
    )
    capacity_ultra_cold_units: float | None = col(
        "Storage capacity at -90 to -60 C; empty = unlimited.", unit="units", default=None, ge=0
    )
    fixed_cost_usd_per_year: float = col(
        "Fixed cost of operating the site.", unit="USD/year", ge=0, default=0.0
    )
    handling_cost_usd_per_unit: float = col(
        "Variable cost per unit received and shipped.", unit="USD/unit", ge=0, default=0.0
    )
    handling_capacity_units_per_day: float | None = col(
        "Dock and handling capacity: units the site can receive plus pick per day over all "
        "temperature classes (receipts and picks beyond it wait for the next day); "
        "empty = unlimited.", unit="units/day", default=None, gt=0,
    )
    candidate: bool = col(
        "True if network redesign may open or close this site.", default=False
    )
    is_open: bool = col("Whether the site operates in this scenario.", default=True)
    time_to_recover_days: float | None = col(
        "Days the site takes to recover after a disruption (TTR); stress batteries flag a site "
        "whose time to survive is shorter. Empty = unknown (a battery may give it).",
        unit="days", default=None, gt=0, le=3650,
    )
    # ---- external suppliers (kind = external_supplier): a vendor who ships what is ordered
    supply_lead_time_days: Dist | None = col(
        "external_supplier only: time from an order reaching the vendor to its dispatch on the "
        "lane (the lane's transit follows); empty = dispatched at once.", unit="days",
        default=None,
    )
    supply_capacity_units_per_day: float | None = col(
        "external_supplier only: units the vendor starts per day over all products and "
        "buyers, first come first served (what does not fit starts the next day); "
        "empty = unlimited.", unit="units/day", default=None, gt=0,
    )
    supply_on_time_prob: float = col(
        "external_supplier only: probability that an order is dispatched after the lead time; "
        "the other orders are late by a supply_late_days draw.", unit="probability", ge=0,
        le=1, default=1.0,
    )
    supply_late_days: Dist | None = col(
        "external_supplier only: extra days a late order takes (needed when "
        "supply_on_time_prob < 1).", unit="days", default=None,
    )
    supply_cost_usd_per_unit: float = col(
        "external_supplier only: purchase price per unit dispatched (a production cost).",
        unit="USD/unit", ge=0, default=0.0,
    )

    @model_validator(mode="after")
    def _external_supplier(self) -> SiteRow:
        if self.handling_capacity_units_per_day is not None and self.kind in (
                SiteKind.CUSTOMER, SiteKind.EXTERNAL_SUPPLIER):
            raise ValueError(f"handling_capacity_units_per_day is the dock capacity of a site of "
                             f"the network; a {self.kind.value} has none")
        if self.kind != SiteKind.EXTERNAL_SUPPLIER:
            given = [n for n in EXTERNAL_SUPPLY_COLUMNS
                     if getattr(self, n) != type(self).model_fields[n].default]
            if given:
                verb = "applies" if len(given) == 1 else "apply"
                raise ValueError(f"{', '.join(given)} only {verb} to kind external_supplier "
                                 f"(this site is a {self.kind.value})")
        elif self.supply_on_time_prob < 1 and self.supply_late_days is None:
            raise ValueError("supply_on_time_prob < 1 needs supply_late_days: how late a late "
                             "order is")
        return self

    @property
    def is_external_supplier(self) -> bool:
        return self.kind == SiteKind.EXTERNAL_SUPPLIER

    def storage_capacity_units(self, temperature_class: TemperatureClass) -> float | None:
        return getattr(self, f"capacity_{temperature_class.value}_units")


class ProductionRow(Row):
    table: ClassVar[str] = "production"
    key: ClassVar[tuple[str, ...]] = ("site_id", "product_id")
    doc: ClassVar[str] = "What each plant makes, how fast, how reliably, and how it is released."

    site_id: Id = col("Producing site.")
    product_id: Id = col("Product made.")
    batch_size_units: float | None = col(
        "Planned output of one batch; empty = the product's units_per_batch.", unit="units",
        default=None, gt=0,
    )
    cycle_time_days: Dist = col("Time a batch occupies a line.", unit="days")
    lines: int = col(
        "Production lines at the site; the lines are shared by every product the site makes "
        "(rows of one site must agree). A line switching product loses changeover_days.",
        ge=1, default=1,
    )
    yield_frac: Dist = col(
        "Good output as a fraction of the planned batch (samples are capped at 1).",
        unit="fraction", default="fixed(1)",
    )
    batch_failure_prob: float = col(
        "Probability that QC rejects a batch.", unit="probability", ge=0, le=1, default=0.0
    )
    qc_release_days: Dist = col(
        "QC testing and QA release time once the lab starts on the batch.", unit="days",
        default="fixed(0)",
    )
    qc_lab_capacity: int = col(
        "Batches the site's QC lab tests at once (shared by all products of the site; rows of "
        "one site must agree).", ge=1, default=1,
    )
    changeover_days: float = col(
        "Line time lost when a line switches to this product from another.", unit="days", ge=0,
        default=0.0,
    )
    cost_per_batch_usd: float = col("Fixed cost of starting a batch.", unit="USD/batch", ge=0, default=0.0)
    cost_per_unit_usd: float = col("Variable production cost.", unit="USD/unit", ge=0, default=0.0)
    capacity_batches_per_year: float | None = col(
        "Optional cap on batches per year used by network design; empty = lines x 365 / mean "
        "cycle time.", unit="batches/year", default=None, gt=0,
    )

    @model_validator(mode="after")
    def _makes_something(self) -> ProductionRow:
        # a batch that takes no time and never yields good output would be restarted forever at
        # one instant of simulated time: the simulator would hang without advancing its clock
        if self.cycle_time_days.mean <= 0 and (self.yield_frac.mean <= 0
                                               or self.batch_failure_prob >= 1):
            raise ValueError("cycle_time_days is zero and no batch ever yields good output "
                             "(yield_frac 0 or batch_failure_prob 1): the line would restart "
                             "batches forever at one instant")
        return self

    @property
    def nominal_batch_units(self) -> float | None:
        return self.batch_size_units


class BomRow(Row):
    table: ClassVar[str] = "bom"
    key: ClassVar[tuple[str, ...]] = ("site_id", "product_id", "input_product_id")
    doc: ClassVar[str] = "Bill of materials: inputs consumed per batch at a producing site."

    site_id: Id = col("Producing site.")
    product_id: Id = col("Product made.")
    input_product_id: Id = col("Material consumed.")
    input_units_per_batch: float = col(
        "Units of the input consumed by one batch.", unit="units/batch", gt=0
    )


class LaneRow(Row):
    table: ClassVar[str] = "lanes"
    key: ClassVar[tuple[str, ...]] = ("lane_id",)
    doc: ClassVar[str] = "Transport lanes between sites, by mode, with cold-chain packaging."

    lane_id: Id = col("Unique lane id.")
    origin_id: Id = col("Shipping site.")
    destination_id: Id = col("Receiving site.")
    mode: Mode = col("Transport mode.")
    transit_time_days: Dist = col("Door-to-door transit time from departure.", unit="days")
    cost_per_unit_usd: float = col("Freight cost per unit.", unit="USD/unit", ge=0, default=0.0)
    cost_per_shipment_usd: float = col(
        "Fixed cost per shipment (one per departure that carries goods).", unit="USD/shipment",
        ge=0, default=0.0,
    )
    capacity_units_per_departure: float | None = col(
        "Units one departure can carry; empty = unlimited.", unit="units", default=None, gt=0
    )
    departure_schedule: str = col(
        "When shipments leave: 'daily', 'every:N' (every N days), 'weekly:mon,thu' (weekdays "
        "follow simulation.start_date), or 'on_demand' (each shipment leaves when picked, no "
        "consolidation, its own transit-time draw; capacity does not apply). Orders wait for "
        "the next departure; all goods on one departure share its transit time and its "
        "excursions. Pick 'on_demand' for courier or parcel lanes fed one order at a time, a "
        "schedule for consolidated trucks, sailings and flights.", default="daily",
    )
    packaging: Packaging = col("Shipper or container used on the lane.")
    qualified_hours: float | None = col(
        "Hours the packaging is qualified to hold its range; empty = unlimited (active, reefer).",
        unit="hours", default=None, gt=0,
    )
    excursion_hazard_per_day: float = col(
        "Base rate of temperature excursions while in transit.", unit="1/day", ge=0, default=0.0
    )
    co2_kg_per_unit: float = col("Emissions per unit shipped.", unit="kg CO2e/unit", ge=0, default=0.0)

    @field_validator("departure_schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        from supplytwin.model.schedule import parse_schedule

        parse_schedule(v)  # raises ValueError with a readable reason
        return v


class PolicyRow(Row):
    table: ClassVar[str] = "policies"
    key: ClassVar[tuple[str, ...]] = ("site_id", "product_id")
    doc: ClassVar[str] = (
        "Inventory policy and sourcing of each stocked product at each site. At a producing site "
        "the policy triggers batches (sources = make)."
    )

    site_id: Id = col("Stocking site.")
    product_id: Id = col("Product stocked.")
    policy: PolicyKind = col("Replenishment rule on the inventory position.")
    reorder_point_units: float | None = col(
        "s of (s,S) or r of (r,Q): order when the inventory position is at or below it.",
        unit="units", default=None, ge=0,
    )
    order_up_to_units: float | None = col(
        "S of (s,S), base_stock and (R,S).", unit="units", default=None, ge=0
    )
    order_quantity_units: float | None = col("Q of (r,Q).", unit="units", default=None, gt=0)
    review_period_days: float | None = col(
        "R of (R,S) and days_of_supply.", unit="days", default=None, ge=MIN_PERIOD_DAYS
    )
    days_of_supply_target: float | None = col(
        "For days_of_supply: order up to this many days of mean demand.", unit="days",
        default=None, gt=0,
    )
    sources: IdList = col(
        "'make' to produce here, or lane ids separated by ';' in order of preference."
    )
    sourcing_rule: SourcingRule = col("How orders are divided between sources.", default="primary")
    split_shares: FloatList = col(
        "For sourcing_rule=split: shares per source, ';'-separated (normalised).", default=()
    )

    @model_validator(mode="after")
    def _parameters(self) -> PolicyRow:
        need = {
            PolicyKind.S_S: ("reorder_point_units", "order_up_to_units"),
            PolicyKind.R_Q: ("reorder_point_units", "order_quantity_units"),
            PolicyKind.BASE_STOCK: ("order_up_to_units",),
            PolicyKind.PERIODIC_R_S: ("review_period_days", "order_up_to_units"),
            PolicyKind.DAYS_OF_SUPPLY: ("review_period_days", "days_of_supply_target"),
        }[self.policy]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"policy {self.policy.value} needs {', '.join(missing)}")
        if self.policy == PolicyKind.S_S and self.order_up_to_units < self.reorder_point_units:
            raise ValueError("order_up_to_units (S) must be >= reorder_point_units (s)")
        if not self.sources:
            raise ValueError("sources is empty: write 'make' or one or more lane ids")
        if "make" in self.sources and len(self.sources) > 1:
            raise ValueError("'make' cannot be combined with lanes in sources")
        if self.sourcing_rule == SourcingRule.SPLIT and len(self.split_shares) != len(self.sources):
            raise ValueError("split_shares needs one share per source")
        if self.split_shares and sum(self.split_shares) <= 0:
            raise ValueError("split_shares must not all be zero")
        return self

    @property
    def is_make(self) -> bool:
        return self.sources == ("make",)


class InitialStockRow(Row):
    table: ClassVar[str] = "initial_stock"
    key: ClassVar[tuple[str, ...]] = ("site_id", "product_id", "lot_id")
    doc: ClassVar[str] = "Stock on hand at day 0, as lots with ages."

    site_id: Id = col("Site holding the lot.")
    product_id: Id = col("Product.")
    lot_id: Id = col("Lot id (unique per site and product).")
    quantity_units: float = col("Units on hand.", unit="units", gt=0)
    age_days: float = col("Days since manufacture at day 0.", unit="days", ge=0, default=0.0)


class DemandRow(Row):
    table: ClassVar[str] = "demand"
    key: ClassVar[tuple[str, ...]] = ("customer_id", "product_id")
    doc: ClassVar[str] = "Customer demand streams and what happens to demand that cannot be met."

    customer_id: Id = col("Customer site.")
    product_id: Id = col("Finished product ordered.")
    process: DemandProcess = col("How orders arrive.", default="poisson")
    orders_per_day: float | None = col(
        "Mean order arrival rate (poisson).", unit="orders/day", default=None, gt=0,
        le=MAX_ORDERS_PER_DAY,
    )
    order_size_units: Dist = col("Units per order (poisson).", unit="units", default="fixed(1)")
    series_file: str | None = col(
        "CSV with columns day,quantity_units (series); relative to the table's folder.",
        default=None,
    )
    seasonality_amplitude: float = col(
        "Relative amplitude of a yearly cosine seasonality (0.2 = +/-20 %).", unit="fraction",
        ge=0, lt=1, default=0.0,
    )
    seasonality_peak_day: float = col(
        "Day of year of the seasonal peak.", unit="day of year", ge=0, lt=366, default=0.0
    )
    trend_per_year: float = col(
        "Linear growth of the rate per year (0.05 = +5 % per year).", unit="fraction/year",
        gt=-1, default=0.0,
    )
    unmet_demand: UnmetDemand = col("What happens to demand not served from stock.", default="backorder")
    min_remaining_shelf_life_frac: float | None = col(
        "Overrides the product's minimum remaining shelf life for this customer.", unit="fraction",
        default=None, ge=0, le=1,
    )
    due_days: float | None = col(
        "Promised delivery time from order, for on-time KPIs; empty = mean transit time of the "
        "primary lane + 1 day.", unit="days", default=None, ge=0,
    )
    sources: IdList = col(
        "Lanes into the customer, ';'-separated in order of preference; empty = every lane into "
        "the customer, cheapest first.", default=(),
    )

    @model_validator(mode="after")
    def _process(self) -> DemandRow:
        if self.process == DemandProcess.POISSON and self.orders_per_day is None:
            raise ValueError("process=poisson needs orders_per_day")
        if self.process == DemandProcess.SERIES and not self.series_file:
            raise ValueError("process=series needs series_file")
        return self


class DisruptionRow(Row):
    table: ClassVar[str] = "disruptions"
    key: ClassVar[tuple[str, ...]] = ("disruption_id",)
    doc: ClassVar[str] = (
        "Scheduled (start_day + duration_days) or random (mtbf_days + mttr_days) disruptions. "
        "Also written as a list under the scenario's disruptions: key."
    )

    disruption_id: Id = col("Unique id.")
    kind: DisruptionKind = col("What happens.")
    site_id: Id | None = col("Affected site (outages, capacity loss, QC spike, supplier).", default=None)
    lane_id: Id | None = col("Affected lane (lane closure, delay, capacity loss).", default=None)
    mode: Mode | None = col(
        "Affects every lane of this mode instead of one lane_id (e.g. an air-freight crunch).",
        default=None,
    )
    product_id: Id | None = col("Restrict to one product (demand surge, QC spike).", default=None)
    customer_id: Id | None = col("Restrict a demand surge to one customer.", default=None)
    start_day: float | None = col("First day of a scheduled disruption.", unit="day", default=None, ge=0)
    duration_days: float | None = col("Length of a scheduled disruption.", unit="days", default=None, gt=0)
    mtbf_days: float | None = col(
        "Random disruptions: mean time between failures (exponential).", unit="days", default=None,
        ge=MIN_PERIOD_DAYS,
    )
    mttr_days: float | None = col(
        "Random disruptions: mean time to repair (exponential).", unit="days", default=None,
        ge=MIN_PERIOD_DAYS,
    )
    enabled: bool = col(
        "false switches the disruption off, e.g. one inherited from a base scenario: "
        "edits: {disruptions: {ID: {enabled: false}}}.", default=True,
    )
    magnitude: float = col(
        "Capacity or lane-capacity loss fraction (capacity_loss), transit multiplier (lane_delay), "
        "demand multiplier (demand_surge), failure probability (qc_failure_spike), hazard "
        "multiplier (excursion_spike); unused by outages and closures.", default=1.0, ge=0,
        le=1000,
    )

    @model_validator(mode="after")
    def _shape(self) -> DisruptionRow:
        scheduled = self.start_day is not None or self.duration_days is not None
        random_ = self.mtbf_days is not None or self.mttr_days is not None
        if scheduled == random_:
            raise ValueError(
                "give either start_day and duration_days (scheduled) or mtbf_days and mttr_days "
                "(random)"
            )
        if scheduled and (self.start_day is None or self.duration_days is None):
            raise ValueError("a scheduled disruption needs both start_day and duration_days")
        if random_ and (self.mtbf_days is None or self.mttr_days is None):
            raise ValueError("a random disruption needs both mtbf_days and mttr_days")
        k = self.kind
        site_kinds = {
            DisruptionKind.SITE_OUTAGE, DisruptionKind.PLANNED_SHUTDOWN,
            DisruptionKind.SUPPLIER_FAILURE,
        }
        if k in site_kinds and not self.site_id:
            raise ValueError(f"{k.value} needs site_id")
        lane_kinds = {DisruptionKind.LANE_CLOSURE, DisruptionKind.LANE_DELAY}
        if k in lane_kinds and not (self.lane_id or self.mode):
            raise ValueError(f"{k.value} needs lane_id or mode")
        if k == DisruptionKind.CAPACITY_LOSS:
            if not (self.site_id or self.lane_id or self.mode):
                raise ValueError("capacity_loss needs site_id, lane_id or mode")
            if self.magnitude > 1:
                raise ValueError("capacity_loss magnitude is a fraction lost, 0..1")
        if k == DisruptionKind.QC_FAILURE_SPIKE and self.magnitude > 1:
            raise ValueError("qc_failure_spike magnitude is a probability, 0..1")
        return self

    @property
    def is_random(self) -> bool:
        return self.mtbf_days is not None


#: Every table, in the order they are documented and loaded. ``required`` tables must be named
#: by a scenario; the others may be omitted.
TABLES: dict[str, tuple[type[Row], bool]] = {
    "products": (ProductRow, True),
    "sites": (SiteRow, True),
    "production": (ProductionRow, True),
    "bom": (BomRow, False),
    "lanes": (LaneRow, True),
    "policies": (PolicyRow, True),
    "initial_stock": (InitialStockRow, False),
    "demand": (DemandRow, True),
    "disruptions": (DisruptionRow, False),
}
