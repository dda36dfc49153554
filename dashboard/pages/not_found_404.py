"""The page for unknown addresses (Dash uses the module named ``not_found_404``)."""

from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="Not found", nav=False, title="Not found")


def layout(**_query) -> html.Div:
    return html.Div([
        html.H2("This page does not exist"),
        html.P(["Go to the ", dcc.Link("network", href="/network"), " or the ",
                dcc.Link("runs", href="/runs"), "."]),
    ], className="page-header")
