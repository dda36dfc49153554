"""Closed vocabularies of the pharma network: temperature classes, site kinds, modes, packaging.

The cold-chain compatibility rules live here, beside the words they relate, so the validator,
the simulator and the optimiser apply the same rule.
"""

from __future__ import annotations

from enum import StrEnum


class TemperatureClass(StrEnum):
    """Storage condition on the label (USP <659>)."""

    CRT = "crt"  # controlled room temperature, 20-25 C
    REFRIGERATED = "refrigerated"  # 2-8 C
    FROZEN = "frozen"  # -25 to -10 C
    ULTRA_COLD = "ultra_cold"  # -90 to -60 C (mRNA vaccines)


class SiteKind(StrEnum):
    SUPPLIER = "supplier"  # API / raw-material supplier modelled with its own production
    #: a vendor outside the network who ships whatever is ordered after a lead time: no stock,
    #: policy or production row of ours (optionally capacity-limited and not always on time)
    EXTERNAL_SUPPLIER = "external_supplier"
    DRUG_SUBSTANCE = "drug_substance"  # drug-substance (API / bulk biologic) plant
    FILL_FINISH = "fill_finish"  # formulation and aseptic fill-finish
    PACKAGING = "packaging"  # secondary packaging and labelling
    DISTRIBUTION_CENTRE = "distribution_centre"
    WHOLESALER = "wholesaler"
    CUSTOMER = "customer"  # hospital, pharmacy, clinical site: where demand arises


PRODUCING_KINDS = frozenset(
    {SiteKind.SUPPLIER, SiteKind.DRUG_SUBSTANCE, SiteKind.FILL_FINISH, SiteKind.PACKAGING}
)


class Mode(StrEnum):
    ROAD = "road"
    AIR = "air"
    SEA = "sea"
    RAIL = "rail"
    COURIER = "courier"


class Packaging(StrEnum):
    AMBIENT = "ambient"  # no temperature control
    PASSIVE_REFRIGERATED = "passive_refrigerated"  # insulated shipper with gel packs
    PASSIVE_DRY_ICE = "passive_dry_ice"  # insulated shipper with dry ice (-78 C)
    ACTIVE = "active"  # powered container (e.g. Envirotainer)
    REEFER = "reefer"  # refrigerated truck, rail car or sea container
    CRYOGENIC = "cryogenic"  # liquid-nitrogen dry shipper


#: Which temperature classes a packaging can hold.
PACKAGING_HOLDS: dict[Packaging, frozenset[TemperatureClass]] = {
    Packaging.AMBIENT: frozenset({TemperatureClass.CRT}),
    Packaging.PASSIVE_REFRIGERATED: frozenset({TemperatureClass.CRT, TemperatureClass.REFRIGERATED}),
    Packaging.PASSIVE_DRY_ICE: frozenset({TemperatureClass.FROZEN, TemperatureClass.ULTRA_COLD}),
    Packaging.ACTIVE: frozenset(
        {TemperatureClass.CRT, TemperatureClass.REFRIGERATED, TemperatureClass.FROZEN}
    ),
    Packaging.REEFER: frozenset(
        {TemperatureClass.CRT, TemperatureClass.REFRIGERATED, TemperatureClass.FROZEN}
    ),
    Packaging.CRYOGENIC: frozenset({TemperatureClass.FROZEN, TemperatureClass.ULTRA_COLD}),
}

#: Which modes a packaging can travel on (a reefer is a vehicle or container, not a parcel).
PACKAGING_MODES: dict[Packaging, frozenset[Mode]] = {
    Packaging.AMBIENT: frozenset(Mode),
    Packaging.PASSIVE_REFRIGERATED: frozenset(Mode),
    Packaging.PASSIVE_DRY_ICE: frozenset({Mode.ROAD, Mode.AIR, Mode.RAIL, Mode.COURIER}),
    Packaging.ACTIVE: frozenset({Mode.ROAD, Mode.AIR, Mode.SEA, Mode.RAIL}),
    Packaging.REEFER: frozenset({Mode.ROAD, Mode.SEA, Mode.RAIL}),
    Packaging.CRYOGENIC: frozenset({Mode.ROAD, Mode.AIR, Mode.COURIER}),
}

#: Packagings whose hold time is limited (qualified hours apply); active ones hold while powered.
PASSIVE_PACKAGING = frozenset(
    {Packaging.PASSIVE_REFRIGERATED, Packaging.PASSIVE_DRY_ICE, Packaging.CRYOGENIC}
)


class PolicyKind(StrEnum):
    S_S = "s_S"  # continuous review: when position <= s, order up to S
    R_Q = "r_Q"  # continuous review: when position <= r, order Q (repeatedly until above r)
    BASE_STOCK = "base_stock"  # continuous review: keep position at S (one-for-one)
    PERIODIC_R_S = "R_S"  # every R days order up to S
    DAYS_OF_SUPPLY = "days_of_supply"  # every R days order up to target days x mean daily demand


class SourcingRule(StrEnum):
    PRIMARY = "primary"  # first listed source that is available; fail over to the next
    SPLIT = "split"  # orders divided between sources by split_shares


class DemandProcess(StrEnum):
    POISSON = "poisson"  # Poisson order arrivals with an order-size distribution
    SERIES = "series"  # a daily quantity series read from a CSV file


class UnmetDemand(StrEnum):
    BACKORDER = "backorder"
    LOST = "lost"


class DisruptionKind(StrEnum):
    SITE_OUTAGE = "site_outage"  # site stops producing, shipping and receiving
    PLANNED_SHUTDOWN = "planned_shutdown"  # production lines stop (maintenance); logistics go on
    CAPACITY_LOSS = "capacity_loss"  # production lines or lane capacity reduced by magnitude
    LANE_CLOSURE = "lane_closure"  # no departures on the lane(s)
    LANE_DELAY = "lane_delay"  # transit times multiplied by magnitude
    DEMAND_SURGE = "demand_surge"  # demand multiplied by magnitude
    QC_FAILURE_SPIKE = "qc_failure_spike"  # batch failure probability set to magnitude
    SUPPLIER_FAILURE = "supplier_failure"  # a supplier site delivers nothing
    EXCURSION_SPIKE = "excursion_spike"  # excursion hazard multiplied by magnitude (heatwave)
