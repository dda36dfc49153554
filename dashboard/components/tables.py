"""Plain HTML tables (the dashboard avoids the deprecated DataTable), each downloadable.

Every :func:`data_table` with an ``id`` carries its rows (the values, not their formatting) in
a ``dcc.Store`` and two buttons, CSV and Excel. One pattern-matching callback for the whole app
(:func:`register_export_callbacks`) turns the rows into the file with ``dcc.send_data_frame``
(Excel through openpyxl), so a new table gets its downloads by having an id, with no callback
of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
from dash import MATCH, Input, Output, State, ctx, dcc, html, no_update

#: ids of the parts of an export, matched by the table's id
EXPORT_DATA, EXPORT_CSV, EXPORT_XLSX, EXPORT_DOWNLOAD = (
    "table-export-data", "table-export-csv", "table-export-xlsx", "table-export-download")
#: a spreadsheet would run a cell starting with one of these as a formula: quote it
_FORMULA_START = ("=", "+", "@", "\t", "\r")

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
    if not id:
        return html.Div(table, className="table-wrap")
    return html.Div([export_buttons(id, rows, columns), html.Div(table, className="table-wrap")],
                    id=id)


def _plain(value: Any) -> Any:
    """A cell's value for a file: numbers and text as they are, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def export_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]
                ) -> list[dict[str, Any]]:
    """The rows of a table for its files: one key per column header, the raw values."""
    return [{c[1]: _plain(r.get(c[0])) for c in columns} for r in rows]


def export_buttons(table_id: str, rows: Sequence[Mapping[str, Any]],
                   columns: Sequence[Column]) -> html.Div:
    """CSV and Excel download buttons for a table, with its rows in a store."""
    key = {"table": table_id}
    return html.Div([
        html.Button("CSV", id={"type": EXPORT_CSV, **key}, className="button small",
                    title="Download this table as CSV"),
        html.Button("Excel", id={"type": EXPORT_XLSX, **key}, className="button small",
                    title="Download this table as an Excel workbook"),
        dcc.Store(id={"type": EXPORT_DATA, **key}, data=export_rows(rows, columns)),
        dcc.Download(id={"type": EXPORT_DOWNLOAD, **key}),
    ], className="table-export")


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _file_stem(table_id: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(table_id))[:60].strip("-") or "table"


def export_file(fmt: str, table_id: Any, rows: Any) -> dict[str, Any]:
    """``dcc.Download`` data of a table's rows: ``fmt`` ``csv`` or ``xlsx``."""
    df = pd.DataFrame([r for r in rows if isinstance(r, dict)]).map(_safe_cell)
    stem = _file_stem(table_id)
    if fmt == "xlsx":
        return dcc.send_data_frame(df.to_excel, f"{stem}.xlsx", sheet_name=stem[:31],
                                   index=False)
    return dcc.send_data_frame(df.to_csv, f"{stem}.csv", index=False)


def export_table(_csv: int | None, _xlsx: int | None, rows: Any):
    """The download of the table whose button was clicked: CSV or Excel, named after it."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not (_csv or _xlsx) or not isinstance(rows, list):
        return no_update
    fmt = "xlsx" if trigger.get("type") == EXPORT_XLSX else "csv"
    return export_file(fmt, trigger.get("table"), rows)


def register_export_callbacks(app) -> None:
    """The one callback behind every table's CSV and Excel buttons."""
    app.callback(
        Output({"type": EXPORT_DOWNLOAD, "table": MATCH}, "data"),
        Input({"type": EXPORT_CSV, "table": MATCH}, "n_clicks"),
        Input({"type": EXPORT_XLSX, "table": MATCH}, "n_clicks"),
        State({"type": EXPORT_DATA, "table": MATCH}, "data"),
        prevent_initial_call=True,
    )(export_table)


def _text(value: Any) -> Any:
    """A value for a file: components (a list, a code block) as their text."""
    if isinstance(value, list | tuple):
        return "; ".join(str(_text(v)) for v in value if v is not None)
    if hasattr(value, "children") and not isinstance(value, str):
        return _text(value.children)
    return _plain(value)


def key_value_table(items: Sequence[tuple[str, Any]], id: str | None = None) -> html.Div:
    """Two columns: what, value (for lineage and site details); downloadable when it has an
    id, like :func:`data_table`."""
    body = [html.Tr([html.Th(k, scope="row"), html.Td(_cell(v))]) for k, v in items]
    t = html.Table(html.Tbody(body), className="table kv")
    if not id:
        return html.Div(t, className="table-wrap")
    rows = [{"what": k, "value": _text(v)} for k, v in items]
    return html.Div([export_buttons(id, rows, [("what", "what"), ("value", "value")]),
                     html.Div(t, className="table-wrap")], id=id)
