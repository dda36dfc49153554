"""Results of a 30-replication baseline run draw quickly, each chart behind a loading indicator
(never empty axes). The figure measured goes to test-artefacts/dashboard-timings.json
(``results_30_replications_draw_s.baseline``); the bound asserted is generous so that it holds
on a loaded machine — the target, 3 s, is for a quiet one."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import SCENARIOS, record_timing, screenshot
from tests.browser.test_dashboard_browser import _visible, _wait

pytestmark = pytest.mark.browser

CHARTS = ("ci", "bands", "service", "waste", "cost", "excursions")
#: seconds: the target is 3 s on a quiet machine; measured 2.0–2.1 s at a load average of 1.5
#: and 3.9 s with two CPU hogs beside the browser suite (2 cores), so a loose bound that never
#: flakes on a loaded CI machine
BOUND_S = 60.0


@pytest.fixture(scope="module")
def thirty(tmp_path_factory):
    """A runs folder with one 30-replication run of the baseline (55 sites, 365 days)."""
    from dashboard import services

    folder = tmp_path_factory.mktemp("runs30")
    ws = services.make_workspace(folder, SCENARIOS)
    runner = services.JobRunner()
    job = services.start_run(ws, "bundled/baseline.yaml", services.Knobs(), 30, report=False,
                             runner=runner)
    done = runner.wait(job, 1200)
    assert done["state"] == "done", done
    return folder, done["run_id"]


#: true when every chart has drawn its data (or its message), the KPI cards are there and
#: nothing is loading any more; one script per check, because dash_duo's driver waits 2 s
#: (implicitly_wait) on every look-up that finds nothing: of the fourteen look-ups per check
#: there were, the one for "anything still loading?" found nothing once the page was drawn, so
#: the figure carried 2 s of the test's own waiting
DRAWN_JS = """
if (document.querySelector("[data-dash-is-loading='true']")) return false;
if (!document.getElementById("results-card-fill_rate")) return false;
return arguments[0].every(name =>
    document.querySelector(`#results-${name} .main-svg`) &&
    document.querySelector(`#results-${name} g.trace, #results-${name} .annotation-text`));
"""


def _drawn(driver) -> bool:
    """Every chart has drawn its data (or its message) and nothing is loading any more."""
    return bool(driver.execute_script(DRAWN_JS, list(CHARTS)))


def _choose_other(driver, dropdown_id: str, current: str) -> str:
    """Pick an option of a dropdown other than ``current``; returns its text."""
    driver.find_element(By.ID, dropdown_id).click()
    css = ".dash-dropdown-content [role=option]"
    _wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, css)) > 1)
    option = next(o for o in driver.find_elements(By.CSS_SELECTOR, css) if o.text != current)
    text = option.text
    option.click()
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    return text


def test_results_of_a_30_replication_run_draw_within_the_bound(dash_duo, thirty):
    from dashboard.app import create_app

    folder, run_id = thirty
    dash_duo.start_server(create_app(runs_dir=folder, scenarios_dir=SCENARIOS))
    driver = dash_duo.driver
    # a user arrives on another page first: the scripts are loaded and cached
    driver.get(dash_duo.server_url + "/runs")
    _visible(driver, "#runs-rows table")
    t0 = time.perf_counter()
    driver.get(dash_duo.server_url + f"/results?run={run_id}")
    WebDriverWait(driver, 120, poll_frequency=0.05).until(_drawn)
    seconds = time.perf_counter() - t0
    record_timing("results_30_replications_draw_s.baseline", seconds)
    print(f"Results of a 30-replication baseline run drawn in {seconds:.2f} s")
    assert seconds < BOUND_S
    screenshot(driver, "results-30-replications")  # docs/img/dashboard-results.png: a copy
    assert "30 replication(s)" in driver.find_element(By.ID, "results-lineage").text
    # the tables below download as CSV and Excel
    assert driver.find_elements(By.CSS_SELECTOR, "#results-service-table .table-export button")
    # another site chosen: both charts are redrawn for it, with a product it stocks
    shown = driver.find_element(By.CSS_SELECTOR, "#results-bands .gtitle").text
    site = _choose_other(driver, "results-site", shown.split(": ", 1)[1].split(" / ")[0])
    _wait(driver, 60).until(lambda d: f": {site} / " in d.find_element(
        By.CSS_SELECTOR, "#results-bands .gtitle").text)
    product = driver.find_element(By.CSS_SELECTOR, "#results-bands .gtitle").text.split(" / ")[1]
    assert product in driver.find_element(By.ID, "results-product").text
    _wait(driver, 60).until(lambda d: product in d.find_element(
        By.CSS_SELECTOR, "#results-service .gtitle").text)
    assert dash_duo.get_logs() == []
