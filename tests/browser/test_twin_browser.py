"""The Twin page in a real browser: today's position from the bundled snapshot (cards and map),
a run forward from it in the background that opens in Results, and a calibration's table and
monitoring chart. Waits on page state only (generous timeouts for a loaded machine)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from typer.testing import CliRunner

from tests.browser.conftest import record_timing, screenshot

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _wait(driver, timeout: float = 60):
    return WebDriverWait(driver, timeout, poll_frequency=0.05)


@pytest.fixture(scope="module")
def twin_runs(tmp_path_factory) -> Path:
    """A runs folder holding a calibration and a monitoring check (written by the CLI)."""
    from supplytwin.cli import app

    runs = tmp_path_factory.mktemp("twin-runs")
    cal = runs / "calibrations"
    scms = str(ROOT / "data" / "scms" / "scms_shipments.csv")
    r = CliRunner().invoke(app, ["calibrate", "shipments", scms, "--preset", "scms", "--out",
                                 str(cal / "scms"), "--gof-samples", "0"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["monitor", str(cal / "scms"), scms, "--preset", "scms",
                                 "--out", str(cal / "scms-check")])
    assert r.exit_code in (0, 1), r.output
    return runs


def test_twin_position_run_forward_and_calibration(dash_duo, twin_runs):
    from dashboard.app import create_app

    app = create_app(runs_dir=twin_runs, scenarios_dir=ROOT / "scenarios")
    dash_duo.start_server(app)
    driver = dash_duo.driver
    t0 = time.perf_counter()
    driver.get(dash_duo.server_url + "/twin")
    _wait(driver).until(EC.text_to_be_present_in_element((By.ID, "twin-cards"), "2027-05-04"))
    _wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#twin-map .scattergeo"))
    record_timing("twin_position_first_render_s", time.perf_counter() - t0)
    cards = driver.find_element(By.ID, "twin-cards").text
    assert "FF-PR-JUNCOS for 21 days" in cards and "3" in cards
    screenshot(driver, "twin")
    # run forward 10 days, one replication, and open the run in Results
    days = driver.find_element(By.ID, "twin-days")
    days.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    days.send_keys("10", Keys.TAB)
    reps = driver.find_element(By.ID, "twin-reps")
    reps.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    reps.send_keys("1", Keys.TAB)
    driver.find_element(By.ID, "twin-run").click()
    link = _wait(driver, 180).until(EC.element_to_be_clickable((By.ID, "twin-result-link")))
    href = link.get_attribute("href")
    assert "/results?run=" in href
    # the calibration's fitted parameters and the monitoring check's coverage chart
    _wait(driver).until(EC.text_to_be_present_in_element((By.ID, "twin-calibration-view"),
                                                         "ALL-Air"))
    link.click()
    _wait(driver, 60).until(lambda d: d.find_elements(By.ID, "results-card-fill_rate"))


def test_twin_page_says_when_a_snapshot_does_not_fit(dash_duo, twin_runs, tmp_path):
    from dashboard import services
    from dashboard.app import create_app

    app = create_app(runs_dir=twin_runs, scenarios_dir=ROOT / "scenarios")
    dash_duo.start_server(app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/twin")
    _wait(driver).until(EC.text_to_be_present_in_element((By.ID, "twin-cards"), "2027-05-04"))
    # the tiny network does not have the baseline's lanes: the page says so in words
    ws = services.make_workspace(twin_runs, ROOT / "scenarios")
    with pytest.raises(services.UserError, match="does not fit"):
        services.read_position(ws, "bundled/tiny.yaml", "bundled/biopharma")
    with pytest.raises(services.UserError):
        services.snapshot_folder(ws, "bundled/../../etc")
    shutil.rmtree(tmp_path, ignore_errors=True)
