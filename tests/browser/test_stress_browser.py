"""A what-if of a stress battery opens in Results from the Stress page, in a real browser.

The hand battery (tests/data/stress_hand) is recorded once; the test opens its Stress page,
clicks the heat-map cell of the packaging site's 12-day outage (a link to it appears) and then
its "open in Results" link in the table of every what-if, and waits for the
Results page to show that what-if: its name, its own fill rate (the battery's whatifs.csv
figure, far below the base's) and its disruption window. Every wait is on page state with
generous timeouts, so a loaded machine only makes it slower.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.browser.conftest import SCENARIOS, screenshot
from tests.browser.test_dashboard_browser import _text_in, _visible, _wait

pytestmark = pytest.mark.browser

BATTERY = Path(__file__).parents[1] / "data" / "stress_hand" / "battery.yaml"
WHATIF = "PK down 12d"


def _href(driver, ident: str) -> str:
    """The href of the element with id ``ident``; "" while it is absent or being redrawn."""
    try:
        found = driver.find_elements(By.ID, ident)
        return (found[0].get_attribute("href") or "") if found else ""
    except StaleElementReferenceException:
        return ""


@pytest.fixture(scope="module")
def battery_runs(tmp_path_factory):
    from supplytwin.store.registry import Registry
    from supplytwin.stress.record import run_recorded

    runs = tmp_path_factory.mktemp("stress-runs")
    summary = run_recorded(BATTERY, Registry(runs), reps=2, workers=1)
    return runs, summary


def test_a_whatif_opens_from_the_stress_page_in_results(dash_duo, battery_runs):
    from dashboard.app import create_app
    from dashboard.components.cards import fmt

    runs, summary = battery_runs
    rid = summary["run_id"]
    table = pd.read_csv(Path(summary["folder"]) / "whatifs.csv")
    k = int(table.index[table["whatif"] == WHATIF][0]) + 1
    expected = fmt("fill_rate", float(table.loc[k - 1, "fill_rate"]))
    base = fmt("fill_rate", summary["base"]["fill_rate"]["mean"])
    assert expected != base  # the outage bites: the page must show the what-if's own figure

    dash_duo.start_server(create_app(runs_dir=runs, scenarios_dir=SCENARIOS))
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + f"/stress?run={rid}")
    link = _visible(driver, f"#stress-open-whatif{k}", 120)
    assert link.get_attribute("href").endswith(f"/results?run={rid}@whatif{k}")
    # a click on the heat map's cell of that what-if (PK x 12 d: top row, right column of the
    # targets A1, A2, DC, L-DC-C, PK x durations 3, 4, 12 d) links it too
    drag = _visible(driver, "#stress-heatmap .nsewdrag", 60)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", drag)
    w, h = drag.size["width"], drag.size["height"]
    # from the centre (the same origin in every Selenium version) to the top-right cell
    ActionChains(driver).move_to_element(drag).move_by_offset(int(w / 3), int(-h * 0.4)) \
        .pause(0.3).click().perform()
    _wait(driver, 60).until(lambda d: _href(d, "stress-heatmap-link").endswith(f"@whatif{k}"))
    link = _visible(driver, f"#stress-open-whatif{k}", 60)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    screenshot(driver, "stress-whatif-links")
    link = _visible(driver, f"#stress-open-whatif{k}", 60)  # found again after the resize
    link.click()
    _wait(driver, 60).until(lambda d: "/results" in d.current_url)
    _text_in(driver, "#results-lineage", WHATIF, 120)
    _text_in(driver, "#results-card-fill_rate", expected, 120)
    # its disruption window is listed (and shaded on the time charts)
    _text_in(driver, "#results-windows-list", "PK", 120)
    assert driver.find_element(By.ID, "results-battery-link").get_attribute(
        "href").endswith(f"/stress?run={rid}")
    screenshot(driver, "stress-whatif-in-results")
