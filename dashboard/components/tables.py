"""Plain HTML tables (the dashboard avoids the deprecated DataTable)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dash import html

Column = tuple[str, str] | tuple[str, str, Callable[[Any], Any]]


def _cell(value: Any) -> Any:
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 100 or value.is_integer() else f"{value:,.3g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def data_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column],
               id: str | None = None, empty: str = "Nothing to show.",
               row_class: Callable[[Mapping[str, Any]], str] | None = None) -> html.Div:
    """A table of ``rows`` with ``columns`` (key, header[, formatter]); the formatter may
    return a component (a link, a button)."""
    if not rows:
        return html.Div(empty, className="muted", id=id) if id else html.Div(empty,
                                                                             className="muted")
    head = html.Thead(html.Tr([html.Th(c[1]) for c in columns]))
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c[0])
            cells.append(html.Td(c[2](r) if len(c) > 2 else _cell(v)))
        body.append(html.Tr(cells, className=row_class(r) if row_class else None))
    table = html.Table([head, html.Tbody(body)], className="table")
    return html.Div(table, className="table-wrap", id=id) if id else html.Div(
        table, className="table-wrap")


def key_value_table(items: Sequence[tuple[str, Any]], id: str | None = None) -> html.Div:
    """Two columns: what, value (for lineage and site details)."""
    body = [html.Tr([html.Th(k, scope="row"), html.Td(_cell(v))]) for k, v in items]
    t = html.Table(html.Tbody(body), className="table kv")
    return html.Div(t, className="table-wrap", id=id) if id else html.Div(t, className="table-wrap")
