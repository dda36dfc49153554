"""OR-Library capacitated warehouse location: loaded through the project's own network format
(CSV tables + scenario YAML + the ordinary loader), the design model reproduces the published
optimum of Beasley's instances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from supplytwin.opt import SolverSettings, extract, optimise
from supplytwin.opt.orlib import (
    markdown,
    orlib_options,
    read_instance,
    read_optima,
    validate,
    write_instance,
    write_markdown,
)
from supplytwin.scenario import load_scenario

pytestmark = pytest.mark.validation

DATA = Path(__file__).resolve().parents[1] / "data" / "orlib"
SUBSET = ["cap41", "cap61", "cap71", "cap101", "cap131"]
OPTIMA = read_optima(DATA / "capopt.txt")


def test_published_optima_are_read():
    assert OPTIMA["cap41"] == 1040444.375
    assert OPTIMA["cap131"] == 793439.562
    assert OPTIMA["capa-8000"] == 19240822.449
    assert OPTIMA["capc-7250"] == 11505767.394
    assert len([k for k in OPTIMA if "-" not in k]) == 37


def test_instance_becomes_an_ordinary_network(tmp_path):
    inst = read_instance(DATA / "cap41.txt")
    assert (inst.m, inst.n) == (16, 50)
    sc = load_scenario(write_instance(inst, tmp_path))
    data = extract(sc, orlib_options())
    assert int(data.site_candidate.sum()) == 16
    assert np.allclose(sorted(data.demand_units), sorted(inst.demand), rtol=1e-12)
    # a customer's per-unit cost from warehouse i is the file's cost of all its demand / demand
    a = data.demand_in[0][3]
    w = data.sites[data.lane_origin[data.arc_lane[a]]]
    i, j = int(w[1:]) - 1, int(data.demand_customer[0][1:]) - 1
    assert data.arc_freight[a] * inst.demand[j] == pytest.approx(inst.cost[i, j], rel=1e-12)
    # capacity bounds the throughput (storage turnover of one)
    assert np.allclose(data.storage_throughput, data.storage_capacity)


@pytest.mark.parametrize("name", SUBSET)
def test_published_optimum_is_reproduced(tmp_path, name):
    sc = load_scenario(write_instance(read_instance(DATA / f"{name}.txt"), tmp_path))
    res = optimise(sc, orlib_options(), SolverSettings(mip_gap=1e-9), shadow_prices=False)
    assert res.outcome.status == "optimal"
    assert abs(res.objective - OPTIMA[name]) / OPTIMA[name] <= 1e-6


def test_validation_report_is_written_between_markers(tmp_path):
    rows = validate(DATA, ["cap41"], work=tmp_path)
    assert rows[0].rel_error <= 1e-6
    doc = tmp_path / "validation.md"
    doc.write_text("# Validation\n\nother section\n")
    write_markdown(doc, markdown(rows, "cmd"))
    write_markdown(doc, markdown(rows, "cmd"))  # replaced, not appended twice
    text = doc.read_text()
    assert "other section" in text and text.count("| cap41 |") == 1
