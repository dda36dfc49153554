"""Functions that return Dash components. Ids are passed in; nothing here has a callback, reads
a file or asks the registry, so tests call these functions with plain values."""

from dashboard.components.cards import ci_text, fmt, kpi_cards, kpi_label
from dashboard.components.layout import (
    chart,
    field,
    message,
    nav_links,
    page_header,
    progress_bar,
)
from dashboard.components.tables import data_table, key_value_table

__all__ = [
    "chart", "ci_text", "data_table", "field", "fmt", "key_value_table", "kpi_cards", "kpi_label",
    "message", "nav_links", "page_header", "progress_bar",
]
