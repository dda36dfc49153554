"""The scenario YAML document: which tables make the network, settings, disruptions, edits.

A scenario file is small and readable, so a what-if is a short diff on its baseline::

    name: pr-hurricane
    extends: baseline.yaml          # inherit everything, override below
    description: Fill-finish site in Puerto Rico down for 6 weeks.
    disruptions:
      - {disruption_id: maria, kind: site_outage, site_id: FF-PR, start_day: 120, duration_days: 42}
    edits:                          # change cells of the network tables by row id
      lanes:
        L-DS-IE-FF-PR-AIR: {mode: sea, transit_time_days: "triangular(14, 18, 25)"}

``extends:`` merges dictionaries key by key (the child wins) and replaces lists, except that
``disruptions:`` lists are concatenated (a what-if adds to the disruptions of its base); an
inherited disruption is switched off with ``edits: {disruptions: {ID: {enabled: false}}}``. Paths are
relative to the file that writes them. ``--set key.path=value`` on the command line overrides
any key the same way, including table cells through ``edits.TABLE.ROW_ID.FIELD=value``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from supplytwin.model.settings import (
    ColdChainSettings,
    CostSettings,
    KpiSettings,
    SimulationSettings,
)
from supplytwin.model.tables import check_text, col


class NetworkFiles(BaseModel):
    """Paths of the network tables (CSV), relative to the scenario file that names them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    products: str = col("products table (CSV).")
    sites: str = col("sites table (CSV).")
    production: str = col("production table (CSV).")
    bom: str | None = col("bill-of-materials table (CSV); optional.", default=None)
    lanes: str = col("lanes table (CSV).")
    policies: str = col("inventory policies table (CSV).")
    initial_stock: str | None = col("initial stock table (CSV); optional.", default=None)
    demand: str = col("demand table (CSV).")
    disruptions: str | None = col("disruptions table (CSV); optional.", default=None)


class ScenarioDocument(BaseModel):
    """A fully resolved scenario file (after ``extends:`` and ``--set``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = col("Short scenario name, used in run records and reports.", min_length=1)
    description: str = col("What this what-if asks.", default="")
    extends: str | None = col(
        "Another scenario file this one inherits from (relative path).", default=None
    )
    network: NetworkFiles = col("The network tables.")
    simulation: SimulationSettings = col("Run length and randomness.", default_factory=SimulationSettings)
    cold_chain: ColdChainSettings = col("Excursions and QA disposition.", default_factory=ColdChainSettings)
    costs: CostSettings = col("Cost rates.", default_factory=CostSettings)
    kpis: KpiSettings = col("KPI definitions.", default_factory=KpiSettings)
    disruptions: list[dict[str, Any]] = col(
        "Disruptions added by this scenario; each item has the columns of the disruptions table.",
        default_factory=list,
    )
    provenance: list[dict[str, Any]] = col(
        "Where calibrated parameters came from (written by `supplytwin calibrate` into its "
        "edits.yaml): source file, sha256, period, method; recorded in every run's lineage.",
        default_factory=list,
    )
    edits: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict,
        description="Cell overrides: edits.TABLE.ROW_ID.COLUMN = value. ROW_ID is the row's key "
        "columns joined by '/', e.g. policies: {DC-US/MAB-01: {order_up_to_units: 900}}.",
    )

    @field_validator("name", "description")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        # shown in terminals, reports and the dashboard: no escape sequences, no bidi tricks
        return check_text(value)
