"""docs/kpis.md is generated from the KPI declarations and must match them."""

from pathlib import Path

import pytest

from supplytwin.report.kpi_reference import render_kpi_reference
from supplytwin.scenario import load_scenario
from supplytwin.sim import KPI_DOCS, simulate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_kpi_reference_is_up_to_date():
    assert (ROOT / "docs" / "kpis.md").read_text() == render_kpi_reference(), (
        "docs/kpis.md is stale: run `python -m supplytwin.report.kpi_reference > docs/kpis.md`")


def test_every_kpi_a_run_reports_is_documented_and_vice_versa():
    r = simulate(load_scenario(ROOT / "scenarios" / "tiny.yaml"), seed=1)
    assert list(r.kpis) == list(KPI_DOCS)
    for name, (unit, doc) in KPI_DOCS.items():
        assert unit and len(doc) > 20, name
