"""The workspace: the folders the dashboard may touch, and scenarios named by keys.

The browser never sends a path. Scenarios are named by *keys* such as
``bundled/baseline.yaml`` or ``saved/my-what-if.yaml`` that :func:`scenario_path` maps to a
file inside the bundled scenarios folder (read only) or the saved-scenarios folder
``RUNS_DIR/scenarios`` (read and write); anything else — ``../../etc/passwd``, absolute paths,
NUL bytes, very long names, symlinks leading out — is refused with a :class:`UserError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import supplytwin
from dashboard.services.checks import MAX_NAME_LENGTH, NAME_PATTERN, UserError, _shown, _under
from supplytwin.errors import ScenarioError, SupplytwinError
from supplytwin.model import Scenario
from supplytwin.store.registry import Registry, default_runs_dir

BUNDLED, SAVED = "bundled", "saved"




@dataclass(frozen=True)
class Workspace:
    """The folders the dashboard may touch: bundled scenarios (read), runs (read and write)."""

    runs_dir: Path
    scenarios_dir: Path

    @property
    def saved_dir(self) -> Path:
        """Where scenarios saved from the browser go: next to the runs that use them."""
        return self.runs_dir / "scenarios"

    def registry(self) -> Registry:
        return Registry(self.runs_dir)


def project_scenarios_dir() -> Path:
    """``./scenarios`` when the dashboard starts in a project folder, else the source tree's."""
    here = Path.cwd() / "scenarios"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "scenarios"  # repo/dashboard/services/this file


def make_workspace(runs_dir: str | Path | None = None,
                   scenarios_dir: str | Path | None = None) -> Workspace:
    runs = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    scen = Path(scenarios_dir) if scenarios_dir is not None else project_scenarios_dir()
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "scenarios").mkdir(exist_ok=True)
    return Workspace(runs.resolve(), scen.resolve())


#: key of the workspace in the Flask app's config
CONFIG_KEY = "SUPPLYTWIN_WORKSPACE"


def current() -> Workspace:
    """The workspace of the app serving this request (callbacks run inside a Flask request)."""
    import flask

    if not flask.has_app_context():
        raise UserError("no dashboard is running in this context")
    return flask.current_app.config[CONFIG_KEY]


def scenario_key(origin: str, path: Path) -> str:
    return f"{origin}/{path.name}"


def scenario_path(ws: Workspace, key: object) -> Path:
    """The file of a scenario key (``bundled/NAME.yaml`` or ``saved/NAME.yaml``).

    Only plain file names inside the two scenario folders are accepted; the resolved file must
    stay inside its folder (no ``..``, no absolute path, no symlink out).
    """
    if not isinstance(key, str) or not key:
        raise UserError("Choose a scenario.")
    if "\x00" in key or len(key) > MAX_NAME_LENGTH + 20:
        raise UserError("That is not a scenario of this dashboard.")
    origin, sep, filename = key.partition("/")
    roots = {BUNDLED: ws.scenarios_dir, SAVED: ws.saved_dir}
    stem = filename[:-5] if filename.endswith(".yaml") else ""
    if not sep or origin not in roots or not NAME_PATTERN.fullmatch(stem or "-"):
        raise UserError(f"{_shown(key)!r} is not a scenario of this dashboard: pick one from the "
                        "list.")
    root = roots[origin]
    path = root / filename
    if not _under(path, root) or not path.is_file():
        raise UserError(f"Scenario {_shown(key)!r} does not exist (any more).")
    return path


def list_scenarios(ws: Workspace) -> list[dict[str, str]]:
    """Bundled then saved scenarios: ``{"key", "label", "origin", "name", "description"}``."""
    out: list[dict[str, str]] = []
    for origin, root in ((BUNDLED, ws.scenarios_dir), (SAVED, ws.saved_dir)):
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*.yaml")):
            if not NAME_PATTERN.fullmatch(path.stem) or not _under(path, root):
                continue
            head = _yaml_head(path)
            name = str(head.get("name") or path.stem)
            label = f"{path.stem}" + ("" if origin == BUNDLED else "  (saved)")
            out.append({"key": scenario_key(origin, path), "label": label, "origin": origin,
                        "name": name, "description": str(head.get("description") or ""),
                        "extends": str(head.get("extends") or "")})
    return out


def _yaml_head(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _problems_text(exc: ScenarioError, limit: int = 8) -> str:
    lines = [str(p) for p in exc.problems[:limit]]
    more = len(exc.problems) - limit
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


@lru_cache(maxsize=32)
def _load_cached(path: str, mtime_ns: int, sets: tuple[str, ...]) -> Scenario:
    return supplytwin.load_scenario(path, list(sets))


def load(ws: Workspace, key: str, sets: Sequence[str] = ()) -> Scenario:
    """The scenario of ``key`` (cached until its file changes), or :class:`UserError`."""
    path = scenario_path(ws, key)
    try:
        return _load_cached(str(path), path.stat().st_mtime_ns, tuple(sets))
    except ScenarioError as exc:
        raise UserError(f"{key} has {len(exc.problems)} problem(s): {_problems_text(exc)}") from None
    except (SupplytwinError, OSError, yaml.YAMLError, ValueError) as exc:
        raise UserError(f"{key} cannot be loaded: {_shown(exc, 300)}") from None


def display_path(ws: Workspace, path: Path) -> str:
    """A path as shown to the user: relative to the working directory where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
