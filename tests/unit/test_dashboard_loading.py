"""Every chart of every page shows a loading indicator while its callback draws it (it sits in
a ``dcc.Loading``) and no empty axes before that."""

from __future__ import annotations

import sys
from pathlib import Path

import dash
import pytest
from dash import dcc

from dashboard.app import create_app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _graphs(component, loading: bool = False) -> list[tuple[dcc.Graph, bool]]:
    """Every dcc.Graph below ``component`` and whether a dcc.Loading holds it."""
    out = []
    if isinstance(component, list | tuple):
        for c in component:
            out += _graphs(c, loading)
        return out
    if isinstance(component, dcc.Graph):
        out.append((component, loading))
    children = getattr(component, "children", None)
    if children is not None:
        out += _graphs(children, loading or isinstance(component, dcc.Loading))
    return out


def test_every_chart_of_every_page_is_in_a_loading_indicator(tmp_path):
    app = create_app(tmp_path / "runs", ROOT / "scenarios")
    seen = 0
    with app.server.test_request_context("/"):
        for page in dash.page_registry.values():
            module = sys.modules[page["module"]]
            layout = module.layout() if callable(module.layout) else module.layout
            for graph, loading in _graphs(layout):
                seen += 1
                assert loading, f"{page['module']}: {graph.id} has no loading indicator"
                fig = getattr(graph, "figure", None)
                # no empty axes: a blank figure with hidden axes until the callback draws
                if not fig or not (fig.get("data") if isinstance(fig, dict) else fig.data):
                    layout_ = fig["layout"] if isinstance(fig, dict) else fig.layout
                    assert layout_["xaxis"]["visible"] is False, graph.id
    assert seen >= 8  # Results' six charts, Compare's three, the Network map
