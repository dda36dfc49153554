"""Checks on what the browser sends, shared by every service: names, run ids, numbers.

What a user can cause becomes a :class:`UserError` whose message the page shows as it is;
nothing the user typed is echoed unshortened or with control characters (:func:`_shown`).
The ``MAX_*`` bounds keep one browser click from occupying the server for hours.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

#: a scenario name typed in the browser: becomes ``NAME.yaml``; no dots, slashes or spaces
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
MAX_NAME_LENGTH = 64
#: a run id as written by the registry (date-kind-name-hex)
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
#: upper bounds that keep one browser click from occupying the server for hours
MAX_REPLICATIONS = 200
MAX_HORIZON_DAYS = 3650.0
MAX_MULTIPLIER = 20.0


class UserError(Exception):
    """Something the user can fix; the message is shown in the page as it is."""


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def _shown(text: object, limit: int = 60) -> str:
    """User input echoed in a message: printable, shortened."""
    s = "".join(c if c.isprintable() else "?" for c in str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def check_name(name: object) -> str:
    """A scenario name for a new file, or :class:`UserError` saying what is wrong with it."""
    if not isinstance(name, str) or not name.strip():
        raise UserError("Give the new scenario a name (letters, digits, '-' or '_').")
    name = name.strip()
    if "\x00" in name:
        raise UserError("A scenario name cannot contain a NUL character.")
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(f"A scenario name has at most {MAX_NAME_LENGTH} characters "
                        f"(this one has {len(name)}).")
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"Scenario name {_shown(name)!r} is not allowed: use letters, digits, '-' and '_' "
            "only, starting with a letter or digit (no '/', '.', spaces or paths). The file is "
            "always written to the saved-scenarios folder.")
    return name


def _positive(value: Any, what: str, *, integer: bool = False, upper: float | None = None,
              allow_zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{what}: enter a number (got {_shown(value)!r}).") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise UserError(f"{what}: must be {'zero or more' if allow_zero else 'more than zero'}"
                        f" (got {_shown(value)}).")
    if integer and x != int(x):
        raise UserError(f"{what}: must be a whole number (got {_shown(value)}).")
    if upper is not None and x > upper:
        raise UserError(f"{what}: at most {upper:g} (got {_shown(value)}).")
    return int(x) if integer else x


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x




def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise UserError(f"{_shown(run_id)!r} is not a run id.")
    return run_id


def _blank(x: Any) -> bool:
    return x is None or (isinstance(x, str) and not x.strip())
