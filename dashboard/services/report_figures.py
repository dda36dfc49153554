"""Figures shared with the HTML report (``supplytwin.report.figures``), re-exported so the rest
of the dashboard reaches supplytwin only through :mod:`dashboard.services`
(``dashboard/figures.py`` re-exports them in turn), and the KPIs on the headline cards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.services.runs import _estimates
from supplytwin.report import figures as _report_figures
from supplytwin.report.sweep import sweep_figure  # noqa: F401 - a sweep's plot, as in sweep.html

# Figures shared with the HTML report, re-exported so the rest of the dashboard reaches
# supplytwin only through this module (dashboard/figures.py re-exports them in turn).
inventory_band_figure = _report_figures.inventory_band_figure
cost_breakdown_figure = _report_figures.cost_breakdown_figure
waste_figure = _report_figures.waste_figure
paired_difference_figure = _report_figures.paired_difference_figure
normalise_differences = _report_figures.normalise_differences
KIND_STYLE = _report_figures.KIND_STYLE
MODE_STYLE = _report_figures.MODE_STYLE
COST_CATEGORIES = _report_figures.COST_CATEGORIES


def kpi_ci_figure(summary: Mapping[str, Mapping[str, Any]], kpis: Iterable[str] | None = None):
    """The report's KPI interval figure from a JSON summary ({kpi: {mean, sd, ci95, n}})."""
    return _report_figures.kpi_ci_figure(_estimates(summary), kpis)


#: the KPIs on the cards of the Scenario and Results pages, in order
HEADLINE_KPIS: tuple[str, ...] = (
    "fill_rate", "otif", "backordered_units", "lost_units", "patients_affected",
    "expired_units", "excursion_loss_units", "excursions", "cost_total_usd", "co2_kg_total",
)
