"""``supplytwin dashboard``: serve the Dash dashboard on this machine.

Dash and the ``dashboard`` package are imported inside the command, so nothing in the
supplytwin package imports Dash at module level and the other commands start as fast as before.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Annotated

import typer

from supplytwin.cli import app
from supplytwin.cli.common import make_console, user_errors
from supplytwin.errors import SupplytwinError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8050,
    host: Annotated[str, typer.Option(
        help="Address to bind; the default serves this machine only. Binding another address "
        "exposes the dashboard (which can start runs and write scenario files) to that "
        "network.")] = "127.0.0.1",
    runs_dir: Annotated[Path | None, typer.Option(
        "--runs-dir", help="Run registry folder (default ./runs or $SUPPLYTWIN_RUNS_DIR); "
        "scenarios saved from the browser go to its scenarios/ subfolder.")] = None,
    scenarios_dir: Annotated[Path | None, typer.Option(
        "--scenarios-dir", help="Bundled scenarios offered in the browser (default "
        "./scenarios).")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="Another host name the dashboard answers to (repeatable), e.g. "
        "the name a reverse proxy forwards; also $SUPPLYTWIN_ALLOWED_HOSTS. Requests for any "
        "other name are refused.")] = None,
) -> None:
    """Serve the dashboard: network map, what-if scenarios, runs, results and comparisons."""
    with user_errors():
        if scenarios_dir is not None and not scenarios_dir.is_dir():
            raise SupplytwinError(f"--scenarios-dir {scenarios_dir}: not a folder")
        try:
            from dashboard.app import create_app
        except ImportError as exc:  # pragma: no cover - an installation without Dash
            raise SupplytwinError(f"the dashboard needs Dash: {exc}") from None
        # worker processes of multi-replication runs must not be forked from a server that
        # has threads (a lock held by another thread would stay locked in the child)
        try:
            multiprocessing.set_start_method("forkserver")
        except (RuntimeError, ValueError):
            pass  # already set, or not available on this platform
        hosts = [*(allowed_host or []), *([host] if host not in ("0.0.0.0", "::") else [])]
        web = create_app(runs_dir=runs_dir, scenarios_dir=scenarios_dir, hosts=hosts)
        con = make_console(stderr=True)
        shown = f"[{host}]" if ":" in host else host
        con.print(f"supplytwin dashboard on http://{shown}:{port}/  (Ctrl-C to stop)")
        if host not in LOCAL_HOSTS:
            con.print(f"warning: bound to {host}; anyone who can reach it can start runs and "
                      "save scenarios")
        web.run(host=host, port=port, debug=False, dev_tools_ui=False,
                dev_tools_props_check=False, dev_tools_hot_reload=False, threaded=True)
