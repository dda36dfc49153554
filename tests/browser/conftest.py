"""Browser tests: headless Debian chromium driven by dash[testing]'s ``dash_duo``.

``pytest_setup_options`` is dash's hook for the Chrome options of ``dash_duo``: headless, no
sandbox (containers), and the chromium binary found on PATH. Without chromium and chromedriver
the tests skip locally but fail when ``CI`` is set, because CI must run them (``make test``
installs Debian's ``chromium`` and ``chromium-driver`` where missing).

Shared here: one runs folder for the whole session with two recorded tiny runs (the base and a
demand what-if, same seed, so paired), the screenshot folder and the timings file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts"
SHOTS = ARTEFACTS / "screenshots"
TIMINGS = ARTEFACTS / "dashboard-timings.json"
SCENARIOS = ROOT / "scenarios"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

_lock = threading.Lock()


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--window-size=1400,1000"):
        options.add_argument(arg)
    if CHROMIUM:
        options.binary_location = CHROMIUM
    return options


@pytest.fixture(autouse=True)
def _need_browser():
    if CHROMIUM and CHROMEDRIVER:
        return
    missing = " and ".join(n for n, p in (("chromium", CHROMIUM), ("chromedriver",
                                                                  CHROMEDRIVER)) if not p)
    if os.environ.get("CI"):
        pytest.fail(f"{missing} not found: CI must run the browser tests (apt-get install "
                    "chromium chromium-driver, or make browser-deps)")
    pytest.skip(f"{missing} not found (make browser-deps installs them)")


@pytest.fixture(autouse=True)
def _free_port(request):
    """Each dash_duo server on a free port, so test runs side by side (two checkouts, CI
    beside a developer) never collide on Dash's default 8050."""
    if "dash_duo" not in request.fixturenames:
        return
    duo = request.getfixturevalue("dash_duo")
    start = duo.start_server

    def start_server(app, **kwargs):
        if "port" not in kwargs:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                kwargs["port"] = s.getsockname()[1]
        return start(app, **kwargs)

    duo.start_server = start_server


@pytest.fixture(scope="session")
def seeded_runs(tmp_path_factory) -> tuple[Path, list[str]]:
    """A runs folder with two complete tiny runs, the base and demand x1.5 (same seed, so
    paired); returns the folder and the two run ids."""
    from dashboard import services

    folder = tmp_path_factory.mktemp("runs")
    ws = services.make_workspace(folder, SCENARIOS)
    runner = services.JobRunner()
    base = services.start_run(ws, "bundled/tiny.yaml", services.Knobs(), 2, report=True,
                              runner=runner)
    done = runner.wait(base, 120)
    assert done["state"] == "done", done
    surge = services.validate_knobs(ws, "bundled/tiny.yaml", {"demand": {"MAB-T": 1.5}})
    other = services.start_run(ws, "bundled/tiny.yaml", surge, 2, report=False, runner=runner)
    done2 = runner.wait(other, 120)
    assert done2["state"] == "done", done2
    return folder, [done["run_id"], done2["run_id"]]


@pytest.fixture(scope="session")
def runs_dir(seeded_runs) -> Path:
    return seeded_runs[0]


@pytest.fixture
def app(runs_dir):
    from dashboard.app import create_app

    return create_app(runs_dir=runs_dir, scenarios_dir=SCENARIOS)


def screenshot(driver, name: str) -> Path:
    """A full-page PNG of the current page under test-artefacts/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size["width"], min(max(int(height), size["height"]), 4000))
    time.sleep(0.4)
    path = SHOTS / f"dashboard-{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(size["width"], size["height"])
    return path


def record_timing(key: str, seconds: float) -> None:
    """Merge one timing (seconds) into test-artefacts/dashboard-timings.json."""
    with _lock:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(TIMINGS.read_text())
        except (OSError, ValueError):
            data = {}
        data[key] = round(seconds, 3)
        data["_measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        data["_machine_cpus"] = os.cpu_count()
        TIMINGS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
