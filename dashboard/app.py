"""The Dash application: shell, navigation, shared store, error handling and file routes.

``create_app()`` builds a multi-page app (``Dash(use_pages=True)``): every module in
``dashboard/pages/`` registers itself with ``dash.register_page`` and, when it has callbacks,
exposes ``register_callbacks(app)``, which is called here with this app. (Page callbacks are
bound to the app that is being built rather than to Dash's global callback list, so several
apps in one process — the tests make many — never share or duplicate callbacks.) The navigation
lists the pages of ``dash.page_registry`` in their ``order``; a new page (Optimise, Stress,
Calibration) appears in it by being a file in ``pages/``.

Safety: debug and the dev-tools UI are off; an exception in a callback never reaches the
browser as a traceback — :func:`_on_error` logs it and shows one readable line in the page.
Reports are served only from the runs folder (``/reports/<run_id>``) and the world outline of
the map from supplytwin's bundled topojson, so the dashboard works offline.

Every request is checked before Dash sees it: the ``Host`` header must name this machine, the
address the dashboard is bound to or a name allowed with ``--allowed-host`` /
``$SUPPLYTWIN_ALLOWED_HOSTS`` (otherwise 421: a page elsewhere that re-points its own DNS name
at 127.0.0.1, "DNS rebinding", cannot drive the dashboard), and a callback request must have
the shape Dash sends (otherwise 400 with a plain message). A callback that fails on a value of
the wrong type answers in plain words, not with the exception's name.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import dash
import flask
from dash import Dash, Input, Output, dcc, html, set_props
from markupsafe import escape

from dashboard import figures, services
from dashboard.components import message, nav_links
from dashboard.components.tables import register_export_callbacks

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


#: host names the dashboard answers to by default (plus the address it is bound to)
LOCAL_HOST_NAMES = ("127.0.0.1", "localhost", "::1")
#: environment variable with more host names, comma-separated (e.g. behind a reverse proxy)
ALLOWED_HOSTS_ENV = "SUPPLYTWIN_ALLOWED_HOSTS"
#: exceptions a callback raises when the browser sent a value of the wrong type or shape
_BAD_INPUT_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError,
                     dash.exceptions.UnsupportedRelativePath)  # a URL path that is not ours


def _on_error(err: Exception) -> None:
    """Any exception a callback did not handle: one line in the page, the traceback in the log
    (returning nothing leaves the callback's outputs as they were)."""
    if isinstance(err, services.UserError):
        text = str(err)
    elif isinstance(err, _BAD_INPUT_ERRORS):
        # in practice a value the page sent that this callback cannot use (a hand-made or
        # stale request): say so in plain words; the log keeps the traceback in case it is a bug
        log.warning("dashboard callback refused its input", exc_info=err)
        text = ("A value sent by this page could not be used (wrong kind or shape), so nothing "
                "was done. Reload the page and try again.")
    else:
        log.error("dashboard callback failed", exc_info=err)
        text = (f"Something went wrong ({type(err).__name__}). The page may be out of date; "
                "reload it. The server log has the details.")
    set_props("app-error", {"children": text, "className": "message message-error"})


def _shell() -> html.Div:
    return html.Div([
        dcc.Location(id="app-url", refresh=False),
        # the one store shared by the pages: last run, selected runs, background job
        dcc.Store(id="app-store", storage_type="session", data={}),
        html.Header([
            html.Div([html.Span("supplytwin", className="brand-name"),
                      html.Span("pharmaceutical supply-chain twin", className="brand-sub")],
                     className="brand"),
            html.Nav(nav_links(dash.page_registry.values()), id="app-nav", className="nav"),
        ], className="app-header"),
        message(None, id="app-error"),
        html.Main(dash.page_container, className="app-main"),
        html.Footer("supplytwin dashboard · runs and scenarios stay in your runs folder",
                    className="app-footer"),
    ], className="app")


def _host_name(header: str) -> str:
    """``example.org:8050`` -> ``example.org``; ``[::1]:8050`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts(extra: list[str] | tuple[str, ...] | None = None) -> set[str]:
    """The host names the dashboard answers to: this machine's, those given, and those in
    ``$SUPPLYTWIN_ALLOWED_HOSTS``."""
    env = [h for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip()]
    return {_host_name(h) for h in (*LOCAL_HOST_NAMES, *(extra or ()), *env)}


def _is_item(x: object) -> bool:
    return (isinstance(x, dict) and isinstance(x.get("property"), str)
            and isinstance(x.get("id"), str | dict))


def _payload_problem(body: object) -> str | None:
    """What is wrong with the shape of a ``/_dash-update-component`` request, or None."""
    if not isinstance(body, dict):
        return "the request is not a JSON object"
    if not isinstance(body.get("output"), str):
        return "the request names no output"
    for key in ("inputs", "state"):
        items = body.get(key, [])
        if not isinstance(items, list):
            return f"{key} is not a list"
        for item in items:
            group = item if isinstance(item, list) else [item]
            if not all(_is_item(x) for x in group):
                return f"an item of {key} is not an id with a property"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds is not a list of names"
    return None


def _register_guards(app: Dash, hosts: set[str]) -> None:
    """Refuse requests for other host names (DNS rebinding) and malformed callback calls."""
    server = app.server

    @server.before_request
    def guard():
        host = _host_name(flask.request.headers.get("Host", ""))
        if host not in hosts:
            # a page on another site that re-points its DNS name at this machine arrives
            # with its own name in Host: answering it would hand it the dashboard
            return flask.Response(
                f"This dashboard does not answer to the host name {host[:100]!r}. Open it as "
                "http://127.0.0.1, or start it with --allowed-host NAME (or "
                f"${ALLOWED_HOSTS_ENV}) if that name is yours.\n",
                status=421, mimetype="text/plain")
        if flask.request.path.endswith("/_dash-update-component"):
            body = flask.request.get_json(silent=True)
            problem = _payload_problem(body)
            if problem is None and "callback" not in app.callback_map.get(body["output"], {}):
                # unknown, or a clientside callback (it runs in the browser, not here)
                problem = "the request names an output no server callback has"
            if problem is not None:
                return flask.jsonify({"message": f"Request refused: {problem}. Reload the "
                                      "page."}), 400
        return None

    @server.errorhandler(Exception)
    def unhandled(err: Exception):
        # exceptions inside callbacks are answered by _on_error; one that escapes Dash's own
        # dispatch comes from a request that does not fit the callback it names (ids of the
        # wrong shape): refuse it in plain words rather than answer 500
        from werkzeug.exceptions import HTTPException

        if isinstance(err, HTTPException):
            return err
        if flask.request.path.endswith("/_dash-update-component"):
            log.warning("callback request refused", exc_info=err)
            return flask.jsonify({"message": "Request refused: it does not fit the callback it "
                                  "names. Reload the page."}), 400
        log.error("dashboard request failed", exc_info=err)
        return flask.Response("The dashboard could not answer this request; the server log has "
                              "the details.\n", status=500, mimetype="text/plain")


def _register_routes(app: Dash) -> None:
    server = app.server

    @server.route("/reports/<run_id>")
    def report(run_id: str):
        ws: services.Workspace = server.config[services.CONFIG_KEY]
        try:
            path = services.report_path(ws, run_id)
        except services.UserError as exc:
            page = ("<!doctype html><meta charset=utf-8><title>No report</title>"
                    f"<p style='font-family:sans-serif'>{escape(str(exc))}</p>"
                    "<p style='font-family:sans-serif'><a href='/runs'>Back to the runs</a></p>")
            return flask.Response(page, status=404, mimetype="text/html")
        return flask.send_file(path, mimetype="text/html", max_age=0)

    @server.route("/network")
    def network():  # the Network page is the home page
        return flask.redirect(app.get_relative_path("/"), code=302)

    @server.route("/_supplytwin/topojson/<name>.json")
    def topojson(name: str):
        if name != "world_110m" or not services.TOPOJSON_FILE.is_file():
            return flask.Response("not found", status=404, mimetype="text/plain")
        return flask.send_file(services.TOPOJSON_FILE, mimetype="application/json",
                               max_age=86400)


def create_app(runs_dir: str | Path | None = None,
               scenarios_dir: str | Path | None = None,
               hosts: list[str] | tuple[str, ...] | None = None) -> Dash:
    """The dashboard on a runs folder (default ``./runs`` or ``$SUPPLYTWIN_RUNS_DIR``) and a
    bundled-scenarios folder (default ``./scenarios``). Saved scenarios go to
    ``RUNS_DIR/scenarios``. ``hosts``: host names it answers to besides this machine's (see
    :func:`allowed_hosts`)."""
    ws = services.make_workspace(runs_dir, scenarios_dir)
    app = Dash(
        "dashboard",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,
        title="supplytwin",
        update_title=None,
        on_error=_on_error,
        serve_locally=True,
    )
    app.server.config[services.CONFIG_KEY] = ws
    # debug off, no dev-tools UI (it would show tracebacks); app.run() may override, so the
    # CLI passes the same values again
    app.enable_dev_tools(debug=False, dev_tools_ui=False, dev_tools_props_check=False,
                         dev_tools_hot_reload=False, dev_tools_serve_dev_bundles=False)
    app.layout = _shell()
    for page in list(dash.page_registry.values()):
        module = sys.modules.get(page["module"])
        register = getattr(module, "register_callbacks", None)
        if callable(register) and page["module"].startswith("dashboard.pages."):
            register(app)

    @app.callback(Output("app-nav", "children"), Output("app-error", "children"),
                  Output("app-error", "className"), Input("app-url", "pathname"))
    def on_navigate(pathname: str | None):
        # mark the current page; an error message belongs to the page it came from
        return nav_links(dash.page_registry.values(), pathname), "", "message empty"

    register_export_callbacks(app)  # the CSV and Excel buttons of every table
    # plotly's lazy imports and template, paid here rather than by the first page drawn
    figures.warm_up()
    _register_guards(app, allowed_hosts(hosts))
    _register_routes(app)
    return app
