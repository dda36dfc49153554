"""Helpers shared by every command module: consoles, ``--set``, loading, user errors.

A command reads user input (scenario files, tables, overrides) and must never answer bad input
with a traceback. Wrap the body of a command in :func:`user_errors`::

    @app.command()
    def run(scenario: Path, sets: SetOption = None) -> None:
        with user_errors():
            sc = load(scenario, sets)
            ...

:class:`~supplytwin.errors.ScenarioError` prints each problem on its own line on stderr;
every other user error (a :class:`~supplytwin.errors.SupplytwinError`, invalid settings, a YAML
or file-system error) prints one line. All exit with code 2. Anything else is a bug in supplytwin:
one line saying so, exit code 1, and the traceback only with ``SUPPLYTWIN_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from supplytwin.errors import Problem, ScenarioError, SupplytwinError

if TYPE_CHECKING:
    from supplytwin.model import Scenario

#: exit code of every error caused by user input
EXIT_USER_ERROR = 2
#: exit code of an internal error (a bug)
EXIT_INTERNAL_ERROR = 1
#: set this environment variable to see tracebacks of internal errors
DEBUG_ENV = "SUPPLYTWIN_DEBUG"


def _pass_through() -> tuple[type[BaseException], ...]:
    """typer's and click's own exits and usage errors, which must propagate to them."""
    kinds: list[type[BaseException]] = [typer.Exit, typer.Abort, KeyboardInterrupt]
    for module in ("typer._click.exceptions", "click.exceptions"):  # typer vendors click >= 0.2x
        try:
            mod = __import__(module, fromlist=["ClickException", "Exit", "Abort"])
        except ImportError:
            continue
        kinds += [getattr(mod, n) for n in ("ClickException", "Exit", "Abort") if hasattr(mod, n)]
    return tuple(dict.fromkeys(kinds))


_PASS_THROUGH = _pass_through()


# ---------------------------------------------------------------- consoles --------------------
def make_console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): colours on a terminal, plain text otherwise.

    When the stream is not a terminal (a pipe, a file, a test runner) there are no colours or
    cursor codes and lines are not wrapped at 80 columns (``COLUMNS`` sets the width of tables).
    Markup in strings is not interpreted (see below).
    """
    stream = sys.stderr if stderr else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    # markup=False and emoji=False: every string printed is shown as written, so a scenario or
    # product name such as "[/]" or ":x:" can neither break a table nor restyle the terminal;
    # styling is done with rich.text.Text, never with markup in strings
    if tty:
        return Console(file=stream, highlight=False, markup=False, emoji=False)
    try:
        width = int(os.environ.get("COLUMNS", "0")) or 120
    except ValueError:
        width = 120
    return Console(file=stream, highlight=False, width=width, no_color=True, emoji=False,
                   markup=False)


def problem_text(p: Problem) -> Text:
    """A problem as ``file, row N [field]: reason``, styled for a terminal."""
    where = p.file
    if p.row is not None:
        where += f", row {p.row}"
    if p.line is not None:
        where += f", line {p.line}"
    text = Text()
    text.append(where, style="cyan")
    if p.field:
        text.append(" [")
        text.append(p.field, style="magenta")
        text.append("]")
    text.append(": ")
    text.append(p.reason, style="bold")
    return text


def print_problems(problems: Sequence[Problem], console: Console | None = None,
                   prefix: str = "  - ") -> None:
    """Every problem on its own line (never wrapped, so each line can be grepped)."""
    console = console or make_console(stderr=True)
    for p in problems:
        console.print(Text(prefix) + problem_text(p), soft_wrap=True)


def print_error(message: str, console: Console | None = None) -> None:
    console = console or make_console(stderr=True)
    text = Text.assemble(("error: ", "bold red"), " ".join(message.split()))
    console.print(text, soft_wrap=True)


# ---------------------------------------------------------------- --set ----------------------
def _check_sets(values: list[str] | None) -> list[str]:
    for v in values or []:
        key, sep, _ = v.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(
                f"{v!r}: write KEY.PATH=VALUE, e.g. simulation.horizon_days=90")
        if any(not part.strip() for part in key.strip().split(".")):
            raise typer.BadParameter(f"{v!r}: KEY.PATH has an empty part between dots")
    return list(values or [])


#: the repeatable ``--set KEY.PATH=VALUE`` option; pass its value to :func:`load`
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", "-s", metavar="KEY=VALUE", callback=_check_sets, show_default=False,
        help="Override a scenario key, e.g. simulation.horizon_days=90 or "
        "edits.lanes.L1.mode=air (value read as YAML; repeatable).",
    ),
]


# ---------------------------------------------------------------- run budget and seeds -------
#: the largest seed: seeds are stored as signed 64-bit integers in the registry
MAX_SEED = 2**63 - 1

#: ``--max-events N``: stop a replication that schedules more simulator events
MaxEventsOption = Annotated[
    int | None,
    typer.Option("--max-events", min=1000, show_default=False, metavar="N",
                 help="Stop a replication after this many simulator events (default: the "
                 "scenario's simulation.max_events, 50 million)."),
]
#: ``--time-limit SECONDS``: stop a replication that runs longer
TimeLimitOption = Annotated[
    float | None,
    typer.Option("--time-limit", min=0.001, show_default=False, metavar="SECONDS",
                 help="Stop a replication after this many wall-clock seconds (default: the "
                 "scenario's time_limit_seconds under simulation, none)."),
]


def budget_sets(sets: Sequence[str] | None, max_events: int | None,
                time_limit: float | None) -> list[str]:
    """``--set`` overrides for the run budget options, after the user's own."""
    out = list(sets or [])
    if max_events is not None:
        out.append(f"simulation.max_events={max_events}")
    if time_limit is not None:
        out.append(f"simulation.time_limit_seconds={time_limit!r}")
    return out


# ---------------------------------------------------------------- loading ---------------------
def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def check(path: str | Path, sets: Sequence[str] | None = None
          ) -> tuple[Scenario | None, list[Problem]]:
    """Load a scenario; return ``(scenario, [])`` or ``(None, problems)``.

    An exception the loader should have turned into a problem (a loader bug, triggered by the
    input) becomes a problem on the scenario file, so that a command reports it like any other
    problem instead of crashing; ``SUPPLYTWIN_DEBUG=1`` lets it through with its traceback.
    """
    from supplytwin.scenario import load_scenario

    try:
        return load_scenario(path, list(sets or ())), []
    except ScenarioError as exc:
        return None, list(exc.problems)
    except _PASS_THROUGH:
        raise
    except Exception as exc:
        if _debug():
            raise
        reason = (f"cannot be loaded: {type(exc).__name__}: {_one_line(exc)} (the loader should "
                  f"have reported this as a problem; please report it, {DEBUG_ENV}=1 shows the "
                  "traceback)")
        return None, [Problem(str(path), reason=reason)]


def load(path: str | Path, sets: Sequence[str] | None = None) -> Scenario:
    """Load a scenario or raise :class:`ScenarioError` with every problem."""
    scenario, problems = check(path, sets)
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


# ---------------------------------------------------------------- user errors -----------------
def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _validation_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return f"invalid {exc.title}: " + "; ".join(parts)


def _yaml_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or _one_line(exc)
    if mark is not None:
        return f"{mark.name}, line {mark.line + 1}: YAML syntax: {problem}"
    return f"YAML: {problem}"


def _os_line(exc: OSError) -> str:
    what = exc.strerror or _one_line(exc)
    return f"{exc.filename}: {what}" if exc.filename else what


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


@contextmanager
def user_errors(console: Console | None = None) -> Iterator[None]:
    """Turn user errors into messages on stderr and exit code 2; never show a traceback.

    Usable as ``with user_errors():`` or as a decorator ``@user_errors()``.
    """
    try:
        yield
    except tuple(k for k in _PASS_THROUGH if k is not KeyboardInterrupt):
        raise  # typer/click's own exits and usage errors
    except ScenarioError as exc:
        err = console or make_console(stderr=True)
        n = len(exc.problems)
        err.print(Text(f"{n} problem{'s' if n != 1 else ''} found:", style="bold red"))
        print_problems(exc.problems, err)
        _exit(EXIT_USER_ERROR)
    except SupplytwinError as exc:
        print_error(_one_line(exc), console)
        _exit(EXIT_USER_ERROR)
    except ValidationError as exc:
        print_error(_validation_line(exc), console)
        _exit(EXIT_USER_ERROR)
    except yaml.YAMLError as exc:
        print_error(_yaml_line(exc), console)
        _exit(EXIT_USER_ERROR)
    except BrokenPipeError:
        # the reader of our output went away (``supplytwin template | head``): not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        _exit(0)
    except OSError as exc:
        print_error(_os_line(exc), console)
        _exit(EXIT_USER_ERROR)
    except UnicodeDecodeError as exc:
        print_error(f"cannot read a file as UTF-8 text: {_one_line(exc)}", console)
        _exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        print_error("interrupted", console)
        _exit(130)
    except Exception as exc:
        if _debug():
            raise
        print_error(f"internal error ({type(exc).__name__}: {_one_line(exc)}). This is a bug in "
                    f"supplytwin; run again with {DEBUG_ENV}=1 to see the traceback.", console)
        _exit(EXIT_INTERNAL_ERROR)
