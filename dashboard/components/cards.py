"""KPI cards: a KPI's mean across replications with its 95 % confidence interval."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from dash import html

from dashboard.services import HEADLINE_KPIS, KPI_DOCS

#: short names of the KPIs on cards (others: the KPI name with spaces)
LABELS: dict[str, str] = {
    "fill_rate": "Fill rate", "order_fill_rate": "Order fill rate", "otif": "OTIF",
    "cycle_service_level": "Cycle service level", "backordered_units": "Backordered",
    "lost_units": "Lost sales", "patients_affected": "Patients affected",
    "expired_units": "Expired", "excursion_loss_units": "Lost to excursions",
    "excursions": "Excursions", "cost_total_usd": "Total cost", "co2_kg_total": "CO₂",
    "stockout_days": "Stock-out days", "days_of_supply": "Days of supply",
}

UNIT_SUFFIX = {"units": "units", "patients": "patients", "shipments": "shipments",
               "kg CO2e": "kg CO₂e", "days": "days", "batches": "batches",
               "site-product-days": "days"}


def kpi_label(kpi: str) -> str:
    return LABELS.get(kpi, kpi.replace("_", " ").capitalize())


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def fmt(kpi: str, value: Any, *, unit: bool = False) -> str:
    """A KPI value for people: fractions in %, money in $, big counts with separators."""
    if not _finite(value):
        return "–"
    u = KPI_DOCS.get(kpi, ("", ""))[0]
    if u == "fraction":
        return f"{100 * value:.1f} %"
    if u == "USD":
        if abs(value) >= 1e6:
            return f"${value / 1e6:,.2f} M"
        return f"${value:,.0f}"
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"
    return f"{text} {UNIT_SUFFIX.get(u, u)}".strip() if unit else text


def ci_text(kpi: str, est: Mapping[str, Any]) -> str:
    """"95 % CI a – b · n = N", or why there is no interval."""
    n = int(est.get("n") or 0)
    ci = est.get("ci95") or [None, None]
    lo, hi = (ci[0], ci[1]) if len(ci) == 2 else (None, None)
    if n < 2 or not (_finite(lo) and _finite(hi)):
        return "1 replication: no CI" if n == 1 else f"n = {n}"
    u = KPI_DOCS.get(kpi, ("", ""))[0]
    lo = max(lo, 0.0)  # every KPI is a count, a cost, a duration or a fraction
    if u == "fraction":
        hi = min(hi, 1.0)
    return f"95 % CI {fmt(kpi, lo)} – {fmt(kpi, hi)} · n = {n}"


def kpi_cards(summary: Mapping[str, Mapping[str, Any]] | None,
              kpis: Iterable[str] = HEADLINE_KPIS, id_prefix: str = "kpi") -> html.Div:
    """One card per KPI present in ``summary`` ({kpi: {mean, sd, ci95, n}}); each card has id
    ``{id_prefix}-card-{kpi}`` and carries the KPI's definition as its tooltip."""
    if not summary:
        return html.Div("No results yet.", className="muted", id=f"{id_prefix}-cards-empty")
    cards = []
    for k in kpis:
        if k not in summary:
            continue
        est = summary[k] or {}
        u = KPI_DOCS.get(k, ("", ""))[0]
        unit = "" if u in ("fraction", "USD") else UNIT_SUFFIX.get(u, u)
        cards.append(html.Div([
            html.Div(kpi_label(k), className="card-title"),
            html.Div([html.Span(fmt(k, est.get("mean")), className="card-value"),
                      html.Span(f" {unit}" if unit else "", className="card-unit")]),
            html.Div(ci_text(k, est), className="card-ci"),
        ], className="kpi-card", id=f"{id_prefix}-card-{k}",
            title=KPI_DOCS.get(k, ("", ""))[1]))
    return html.Div(cards, className="kpi-cards", id=f"{id_prefix}-cards")
