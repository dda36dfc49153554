"""Options of the network-design model: what to decide, which rules apply, which assumptions.

One frozen dataclass, :class:`DesignOptions`, is read by the data extraction
(:mod:`supplytwin.opt.data`: which lanes are usable, how stock and capacity are approximated)
and by the model (:mod:`supplytwin.opt.model`: which constraint families exist). Solver
settings (time limit, gap, threads) live apart in :class:`supplytwin.opt.solver.SolverSettings`,
so the same model can be solved under different limits.

Every assumption that turns the simulator's dynamic network into an annual flow model is a
field here, with its default and its meaning; ``docs/optimisation.md`` lists them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from supplytwin.errors import SupplytwinError
from supplytwin.model.feasibility import QUALIFIED_HOURS_SIGMAS

OBJECTIVES = ("cost", "cost+co2")
LINKING = ("auto", "strong", "aggregate")


class DesignOptionsError(SupplytwinError):
    """An option of the network-design model is out of range (a user error)."""


@dataclass(frozen=True)
class DesignOptions:
    # ---- objective ----------------------------------------------------------------------------
    #: "cost" or "cost+co2" (emissions priced at ``co2_price_usd_per_t``)
    objective: str = "cost"
    #: price of one tonne of CO2e when the objective is cost+co2
    co2_price_usd_per_t: float = 100.0
    #: cap on the network's annual transport emissions (tonnes CO2e); None = no cap
    co2_cap_t: float | None = None

    # ---- demand and service ---------------------------------------------------------------------
    #: unmet demand is allowed at a penalty (False: every unit must be delivered)
    allow_unmet: bool = True
    #: penalty per unit of unmet annual demand; None = the scenario's lost_sale_penalty_usd_per_unit
    unmet_penalty_usd_per_unit: float | None = None
    #: serve each customer x product from one lane only (binary assignment)
    single_sourcing: bool = False
    #: lanes into customers may be used only if mean transit + mean wait for a departure is at
    #: most this many days; None = no limit
    max_transit_days: float | None = None

    # ---- resilience -----------------------------------------------------------------------------
    #: each customer x product must be reachable (through open sites) from at least k sites
    #: that make the product; 1 = off
    k_sourcing: int = 1
    #: after the loss of any one producing site, the network must still meet this share of
    #: total demand (units); None = off
    n_minus_1_share: float | None = None
    #: longest chain of lanes from a plant to a customer considered by k-sourcing
    k_sourcing_max_lanes: int = 5

    # ---- capacity -------------------------------------------------------------------------------
    #: storage-to-throughput turnover: a site's storage class of capacity K units can pass at
    #: most K x 365 / storage_cover_days units a year (stock covers that many days of flow)
    storage_cover_days: float = 14.0
    #: allow one capacity expansion per plant (one more production line) and per distribution
    #: centre (storage x (1 + expansion_storage_share))
    allow_expansion: bool = False
    expansion_storage_share: float = 0.5
    #: annual cost of an expansion as a share of the site's fixed cost per year (for a plant:
    #: of its fixed cost per line)
    expansion_cost_share: float = 0.3
    #: per-shipment costs of scheduled lanes are a fixed annual charge of a used lane
    #: (cost_per_shipment x departures per year, binary); False = ignored
    lane_fixed_charges: bool = True
    #: a distribution centre or wholesaler may stock a product it has no policy row for (the
    #: design adds the row)
    allow_new_stocking: bool = True

    # ---- cold chain -----------------------------------------------------------------------------
    #: a passive-packaging lane may carry a product only if mean + this many standard deviations
    #: of its transit time fit within the packaging's qualified hours
    qualified_hours_sigmas: float = QUALIFIED_HOURS_SIGMAS

    # ---- inventory approximations ------------------------------------------------------------
    #: z of the safety stock of a stock point the design creates (its days-of-supply row;
    #: 1.645 = 95 % cycle service)
    service_z: float = 1.645
    #: holding rate; None = the scenario's holding_rate_per_year
    holding_rate_per_year: float | None = None
    #: typical units per replenishment shipment on an on_demand lane into a stock point when
    #: the receiving policy does not say (order quantity or S - s)
    default_shipment_units: float = 100.0

    # ---- formulation ----------------------------------------------------------------------------
    #: linking of customer flows to open sites: "strong" (x <= demand x open, one row per
    #: lane x product into a customer: a tight LP bound), "aggregate" (site throughput <= bound x
    #: open only) or "auto" (strong up to ``strong_linking_max_rows`` rows)
    linking: str = "auto"
    strong_linking_max_rows: int = 60_000
    #: elastic mode (used by the infeasibility explanation): every capacity and requirement row
    #: gets a priced slack and the objective minimises the weighted slack
    elastic: bool = False

    def validate(self) -> DesignOptions:
        """Raise :class:`DesignOptionsError` naming every bad option; return self."""
        bad: list[str] = []
        if self.objective not in OBJECTIVES:
            bad.append(f"objective must be one of {', '.join(OBJECTIVES)} (got {self.objective!r})")
        if self.linking not in LINKING:
            bad.append(f"linking must be one of {', '.join(LINKING)} (got {self.linking!r})")
        if self.k_sourcing < 1:
            bad.append(f"k-sourcing must be >= 1 (got {self.k_sourcing})")
        if self.n_minus_1_share is not None and not (0.0 <= self.n_minus_1_share <= 1.0):
            bad.append(f"n-minus-1 share must be within 0..1 (got {self.n_minus_1_share:g})")
        positive = ("storage_cover_days", "default_shipment_units")
        nonneg = ("co2_price_usd_per_t", "expansion_storage_share", "expansion_cost_share",
                  "qualified_hours_sigmas", "service_z")
        for name in positive:
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                bad.append(f"{name} must be a number > 0 (got {v!r})")
        for name in nonneg:
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                bad.append(f"{name} must be a number >= 0 (got {v!r})")
        for name in ("co2_cap_t", "max_transit_days", "unmet_penalty_usd_per_unit",
                     "holding_rate_per_year"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v >= 0):
                bad.append(f"{name} must be a number >= 0 (got {v!r})")
        if self.k_sourcing_max_lanes < 1:
            bad.append("k_sourcing_max_lanes must be >= 1")
        if bad:
            raise DesignOptionsError("invalid optimisation options: " + "; ".join(bad))
        return self

    def with_(self, **changes: Any) -> DesignOptions:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def option_names() -> list[str]:
    return [f.name for f in fields(DesignOptions)]
