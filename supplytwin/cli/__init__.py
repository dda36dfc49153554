"""The ``supplytwin`` command line.

``app`` is the typer application; each ``*_cmds`` module registers its commands on it when
imported below. To add a command module, create ``supplytwin/cli/<topic>_cmds.py`` that does
``from supplytwin.cli import app`` and decorates its commands with ``@app.command()``, wrap each
command body in :func:`supplytwin.cli.common.user_errors`, and import the module at the end of
this file.
"""

from __future__ import annotations

from typing import Annotated

import typer

HELP = (
    "supplytwin: a digital twin of pharmaceutical supply chains. Scenarios are YAML files that "
    "name CSV tables; validate them, print a commented template, or summarise a network."
)

app = typer.Typer(
    name="supplytwin",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version("supplytwin")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"supplytwin {version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Show the version and exit."),
    ] = False,
) -> None:
    """supplytwin: a digital twin of pharmaceutical supply chains."""


def main() -> None:
    """Entry point of the ``supplytwin`` script and of ``python -m supplytwin.cli``."""
    app(prog_name="supplytwin")


# Command modules register their commands on ``app`` when imported.
from supplytwin.cli import (  # noqa: F401
    dashboard_cmds,
    experiment_cmds,
    optimize_cmds,
    run_cmds,
    scenario_cmds,
    stress_cmds,
    twin_cmds,
)

__all__ = ["app", "main"]
