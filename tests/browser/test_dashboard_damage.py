"""Where the damage landed, in a real browser: Compare breaks the difference of two runs down
(sorted by patients affected, rates in percentage points) and overlays the most affected stock
point; the Network map is coloured by a run's results and by the change between two runs.

The doc screenshots docs/img/dashboard-compare-breakdown.png and
docs/img/dashboard-network-results.png are copies of the PNGs these tests write to
test-artefacts/screenshots/."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import SCENARIOS, screenshot
from tests.browser.test_dashboard_browser import _choose, _text_in, _visible, _wait

pytestmark = pytest.mark.browser


def _choose_index(driver, dropdown_id: str, index: int) -> str:
    """Pick the ``index``-th option of a dropdown; returns its text."""
    driver.find_element(By.ID, dropdown_id).click()
    _wait(driver).until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, ".dash-dropdown-content [role=option]")) > index)
    option = driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content [role=option]")[index]
    text = option.text
    option.click()
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    return text


def _signed(text: str) -> float:
    return float(text.replace("−", "-").replace(",", "").split()[0])


@pytest.fixture(scope="module")
def hurricane(tmp_path_factory):
    """A runs folder with the baseline and the Puerto Rico hurricane (a 42-day outage of the
    fill-finish plant at Juncos, the only maker of MAB-PFS), 2 replications each, same seed."""
    from dashboard import services

    folder = tmp_path_factory.mktemp("hurricane-runs")
    ws = services.make_workspace(folder, SCENARIOS)
    runner = services.JobRunner()
    ids = []
    for key in ("bundled/baseline.yaml", "bundled/pr-hurricane.yaml"):
        done = runner.wait(services.start_run(ws, key, services.Knobs(), 2, report=False,
                                              runner=runner), 600)
        assert done["state"] == "done", done
        ids.append(done["run_id"])
    return folder, ids


@pytest.fixture
def hurricane_app(hurricane):
    from dashboard.app import create_app

    return create_app(runs_dir=hurricane[0], scenarios_dir=SCENARIOS)


def _rows(driver) -> list[list[str]]:
    """The breakdown table's cells, read in one go (the table may be redrawn meanwhile)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#compare-breakdown tbody tr'))"
        ".map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText.trim()));")


def test_compare_breaks_the_damage_down(dash_duo, hurricane_app, hurricane):
    dash_duo.start_server(hurricane_app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/compare?runs=" + ",".join(hurricane[1]))
    _visible(driver, "#compare-breakdown table", 90)
    rows = _rows(driver)
    # Juncos is the only maker of MAB-PFS: the stock points hit hardest are MAB-PFS ones
    assert rows[0][0].endswith(" / MAB-PFS") and rows[0][3].endswith(" pp")
    changes = [_signed(r[6]) for r in rows]
    assert changes == sorted(changes, reverse=True) and changes[0] > 0
    # the KPI chart's rate axis is in percentage points, never in %
    _wait(driver, 60).until(lambda d: any(
        "pp" in t.text for t in d.find_elements(By.CSS_SELECTOR, "#compare-diff .xtick text")))
    ticks = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#compare-diff .xtick text")]
    assert not any(t.endswith("%") for t in ticks), ticks
    _text_in(driver, "#compare-diff .gtitle", "paired by replication", 60)
    # the overlay opens on the most affected stock point, its outage window shaded
    _text_in(driver, "#compare-overlay .gtitle", rows[0][0], 60)
    _wait(driver, 60).until(lambda d: any(
        s.get("x0") == 259 and s.get("x1") == 301 for s in _shapes(d, "compare-overlay")))
    screenshot(driver, "compare-breakdown")
    # by product: MAB-PFS first; products Juncos does not make barely move
    _choose(driver, "compare-breakdown-by", "product")
    _wait(driver, 60).until(lambda d: _rows(d) and _rows(d)[0][0] == "MAB-PFS")
    assert {r[0] for r in _rows(driver)} == {"MAB-PFS", "MRNA-VAC", "FRZ-VAC", "ORA-TAB"}
    bars = driver.find_elements(By.CSS_SELECTOR, "#compare-breakdown-chart .bars .point")
    assert len(bars) == 4
    assert dash_duo.get_logs() == []


def test_network_map_coloured_by_results_and_by_a_difference(dash_duo, hurricane_app):
    dash_duo.start_server(hurricane_app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/")
    _text_in(driver, "#network-summary", "55 of 55 sites", 60)
    _choose_index(driver, "network-run", 0)  # the newest run: the hurricane
    _text_in(driver, "#network-summary", "fill rate per customer", 60)
    _visible(driver, "#network-map .colorbar", 60)
    _choose(driver, "network-metric", "storage utilisation per site")
    _text_in(driver, "#network-summary", "storage utilisation per site", 60)
    _choose_index(driver, "network-base-run", 1)  # the baseline: the change from it
    _text_in(driver, "#network-summary", "change in storage utilisation", 60)
    _choose(driver, "network-metric", "patients affected per customer")
    _text_in(driver, "#network-summary", "change in patients affected", 60)
    _visible(driver, "#network-map .colorbar", 60)
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, "h2")).perform()
    time.sleep(0.5)
    screenshot(driver, "network-results")
    # a product filter keeps the colours, on that product's chain only
    _choose(driver, "network-products", "MAB-PFS")
    _wait(driver, 60).until(lambda d: "55 of 55" not in d.find_element(
        By.ID, "network-summary").text)
    _text_in(driver, "#network-summary", "change in patients affected", 60)
    assert "Traceback" not in driver.page_source
    assert dash_duo.get_logs() == []


def _shapes(driver, graph_id: str) -> list[dict]:
    return driver.execute_script(
        "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return g && g.layout && g.layout.shapes ? g.layout.shapes : [];", f"#{graph_id}")


def test_planner_writes_a_disruption_and_results_shade_it(dash_duo, app):
    """A new site outage written on the Scenario page (start as a date, day number beside),
    run; Results lists its window as dates and days, shades it on the time charts and shows
    service by customer."""
    dash_duo.start_server(app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/scenario?scenario=bundled/tiny.yaml")
    _visible(driver, "#scenario-new-kind")
    _text_in(driver, "#scenario-day-zero", "Day 0 is 2027-01-04")
    _choose(driver, "scenario-new-kind",
            "site outage — the site stops producing, shipping and receiving")
    _text_in(driver, "#scenario-new-meaning", "No magnitude")
    _choose(driver, "scenario-new-target", "site DC · distribution centre")
    box = _visible(driver, "#scenario-new-start")
    box.send_keys("2027-02-13")
    _text_in(driver, "#scenario-new-start-day", "= day 40")
    dur = driver.find_element(By.ID, "scenario-new-duration")
    dur.send_keys(Keys.CONTROL, "a")
    dur.send_keys(Keys.DELETE)
    dur.send_keys("20", Keys.TAB)
    driver.find_element(By.ID, "scenario-new-add").click()
    _text_in(driver, "#scenario-new-message", "Added new-site-outage-dc")
    _text_in(driver, "#scenario-new-rows", "2027-02-13 to 2027-03-05 (day 40 to 60)")
    # the magnitude of another kind is spelled out
    _choose(driver, "scenario-new-kind", "lane delay — transit times multiplied")
    _text_in(driver, "#scenario-new-meaning", "transit-time multiplier")
    screenshot(driver, "scenario-new-disruption")
    reps = driver.find_element(By.ID, "scenario-reps")
    reps.send_keys(Keys.CONTROL, "a")
    reps.send_keys(Keys.DELETE)
    reps.send_keys("2", Keys.TAB)
    time.sleep(0.3)  # the debounced input reaches the server on blur
    driver.find_element(By.ID, "scenario-run").click()
    _visible(driver, "#scenario-results-href", 180).click()
    _text_in(driver, "#results-windows-list", "2027-02-13 to 2027-03-05 (day 40 to 60)", 60)
    _wait(driver, 60).until(lambda d: any(
        s.get("x0") == 40 and s.get("x1") == 60 for s in _shapes(d, "results-bands")))
    _wait(driver, 60).until(lambda d: any(
        s.get("x0") == 40 for s in _shapes(d, "results-service")))
    _text_in(driver, "#results-service-table", "C1", 60)
    rows = driver.find_elements(By.CSS_SELECTOR, "#results-service-table tbody tr")
    assert {r.find_elements(By.TAG_NAME, "td")[0].text for r in rows} == {"C1", "C2"}
    screenshot(driver, "results-disruption")
    assert "Traceback" not in driver.page_source
    assert dash_duo.get_logs() == []
