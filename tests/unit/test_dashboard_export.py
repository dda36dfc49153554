"""Every table with an id downloads as CSV and Excel: the buttons, the rows behind them (values,
not their formatting) and the files they make, read back with pandas."""

from __future__ import annotations

import base64
import io

import pandas as pd
import pytest
from dash import dcc, html

from dashboard.app import create_app
from dashboard.components import tables

pytestmark = pytest.mark.unit

ROWS = [{"site": "DC", "fill_rate": 0.9731, "units": 1200.0, "note": "=HYPERLINK(\"x\")"},
        {"site": "C1", "fill_rate": float("nan"), "units": 3.0, "note": "ok"}]
COLUMNS = [("site", "site"), ("fill_rate", "fill rate", lambda r: f"{r['fill_rate']:.1%}"),
           ("units", "units"), ("note", "note")]


def _find(component, cls) -> list:
    out = []

    def walk(c):
        if isinstance(c, cls):
            out.append(c)
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return out


def test_a_table_with_an_id_has_csv_and_excel_buttons_with_its_raw_rows():
    t = tables.data_table(ROWS, COLUMNS, id="demo-table")
    buttons = [b.children for b in _find(t, html.Button)]
    assert buttons == ["CSV", "Excel"]
    (store,) = _find(t, dcc.Store)
    # the values, under the headers shown; not the formatted text ("97.3%")
    assert store.data[0] == {"site": "DC", "fill rate": 0.9731, "units": 1200.0,
                             "note": "=HYPERLINK(\"x\")"}
    assert store.data[1]["fill rate"] is None
    assert len(_find(t, dcc.Download)) == 1
    # no id, or nothing to show: no buttons
    assert not _find(tables.data_table(ROWS, COLUMNS), html.Button)
    assert not _find(tables.data_table([], COLUMNS, id="x"), html.Button)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_files_hold_the_rows_and_no_formula_runs(fmt):
    rows = tables.export_rows(ROWS, COLUMNS)
    out = tables.export_file(fmt, "results-service-table", rows)
    assert out["filename"] == f"results-service-table.{fmt}"
    if fmt == "csv":
        df = pd.read_csv(io.StringIO(out["content"]))
    else:
        assert out["base64"]
        df = pd.read_excel(io.BytesIO(base64.b64decode(out["content"])))
    assert list(df.columns) == ["site", "fill rate", "units", "note"]
    assert df["site"].tolist() == ["DC", "C1"]
    assert df["fill rate"].iloc[0] == pytest.approx(0.9731) and pd.isna(df["fill rate"].iloc[1])
    assert df["units"].tolist() == [1200.0, 3.0]
    # a cell a spreadsheet would run as a formula is quoted
    assert df["note"].iloc[0] == "'=HYPERLINK(\"x\")"


def test_one_export_callback_serves_every_table(tmp_path):
    app = create_app(tmp_path / "runs")
    outputs = [k for k in app.callback_map if tables.EXPORT_DOWNLOAD in k]
    assert len(outputs) == 1
    assert tables._file_stem("../../etc/passwd") == "etc-passwd"
