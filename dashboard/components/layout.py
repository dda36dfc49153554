"""Page furniture: navigation, headers, labelled fields, messages and a progress bar."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dash import dcc, html

KINDS = ("info", "success", "warning", "error")


def nav_links(pages: Iterable[Mapping[str, Any]], pathname: str | None = None) -> list:
    """One link per page of the registry (``dash.page_registry.values()``), in ``order``;
    pages registered with ``nav=False`` are left out. The page at ``pathname`` is marked."""
    out = []
    for page in sorted(pages, key=lambda p: (p.get("order") is None, p.get("order") or 0,
                                             p.get("name", ""))):
        if page.get("nav") is False:
            continue
        path = page.get("relative_path") or page.get("path")
        active = pathname == page.get("path") or (
            pathname in (page.get("redirect_from") or ()))
        out.append(dcc.Link(page.get("name", path), href=path,
                            className="nav-link active" if active else "nav-link",
                            id=f"nav-{page.get('path', '').strip('/') or 'home'}"))
    return out


def page_header(title: str, intro: str | None = None) -> html.Div:
    return html.Div([html.H2(title), html.P(intro, className="intro") if intro else None],
                    className="page-header")


def field(label: str, control, help_text: str | None = None, className: str = "") -> html.Div:
    return html.Div([html.Label(label, className="field-label"), control,
                     html.Div(help_text, className="field-help") if help_text else None],
                    className=f"field {className}".strip())


def message(text: str | None, kind: str = "info", id: str | None = None) -> html.Div:
    """A message box; ``kind`` is info, success, warning or error (a role=alert)."""
    kind = kind if kind in KINDS else "info"
    props: dict[str, Any] = {"className": f"message message-{kind}" if text else "message empty"}
    if id is not None:
        props["id"] = id
    if kind == "error":
        props["role"] = "alert"
    return html.Div(text or "", **props)


def progress_bar(done: int, total: int, label: str = "", id: str | None = None) -> html.Div:
    """A bar with ``done`` of ``total`` filled and a caption."""
    frac = (done / total) if total else 0.0
    frac = min(max(frac, 0.0), 1.0)
    props: dict[str, Any] = {"className": "progress"}
    if id is not None:
        props["id"] = id
    return html.Div([
        html.Div(html.Div(className="progress-fill", style={"width": f"{100 * frac:.0f}%"}),
                 className="progress-track", role="progressbar",
                 **{"aria-valuenow": f"{100 * frac:.0f}", "aria-valuemin": "0",
                    "aria-valuemax": "100"}),
        html.Div(label, className="progress-label"),
    ], **props)


#: what a chart shows before its callback has drawn it: nothing (no empty axes)
BLANK_FIGURE: dict = {"data": [], "layout": {
    "xaxis": {"visible": False}, "yaxis": {"visible": False},
    "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "height": 120}}


def chart(id: str, config: dict | None = None, **kwargs) -> dcc.Loading:
    """A ``dcc.Graph`` that shows a loading indicator while its callback draws it, and no empty
    axes before that (``BLANK_FIGURE``)."""
    kwargs.setdefault("figure", BLANK_FIGURE)
    return dcc.Loading(dcc.Graph(id=id, config=config or {}, **kwargs), type="circle",
                       delay_show=150, parent_className="chart-loading")
