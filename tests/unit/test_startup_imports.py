"""Start-up: commands that simulate nothing do not load what only simulation, optimisation or
the dashboard need, and a run does not load what it does not need (scipy.stats).

``import supplytwin`` and ``supplytwin validate`` / ``show`` are run in a fresh interpreter and
the modules loaded at the end are inspected: Pyomo (optimiser), Dash (dashboard), pandas and
SimPy (simulation results) must not be among them; each costs tenths of a second to a second
at every start. A run, which needs them, is checked too, so the probe itself is shown to see
them when they are loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pyomo", "dash", "pandas", "simpy")

PROBE = """
import json, sys
args = sys.argv[1:]
if args:
    from supplytwin.cli import main
    sys.argv = ["supplytwin", *args]
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
else:
    import supplytwin  # noqa: F401
    code = 0
sys.stdout.flush()
print("\\nPROBE " + json.dumps({"code": code, "loaded": sorted(
    m for m in ("pyomo", "dash", "pandas", "simpy", "scipy.stats") if m in sys.modules)}))
"""


def loaded_after(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)
    line = [l for l in done.stdout.splitlines() if l.startswith("PROBE ")]
    assert line, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(line[-1][len("PROBE "):])


def test_import_supplytwin_loads_no_heavy_library():
    assert loaded_after()["loaded"] == []


@pytest.mark.parametrize("command", ["validate", "show"])
def test_validate_and_show_load_no_heavy_library(command):
    out = loaded_after(command, str(ROOT / "scenarios" / "tiny.yaml"))
    assert out["code"] in (0, None)
    assert out["loaded"] == []


def test_the_probe_sees_libraries_a_run_loads(tmp_path):
    out = loaded_after("run", str(ROOT / "scenarios" / "tiny.yaml"), "--reps", "1",
                       "--runs-dir", str(tmp_path / "runs"))
    assert out["code"] in (0, None)
    assert {"pandas", "simpy"} <= set(out["loaded"])


def test_a_run_with_replications_does_not_load_scipy_stats(tmp_path):
    """Confidence intervals need only the t quantile (scipy.special.stdtrit); scipy.stats
    costs about 0.6 s more at every `run` and `compare`."""
    out = loaded_after("run", str(ROOT / "scenarios" / "tiny.yaml"), "--reps", "3",
                       "--runs-dir", str(tmp_path / "runs"))
    assert out["code"] in (0, None)
    assert "pandas" in out["loaded"]
    assert "scipy.stats" not in out["loaded"]
