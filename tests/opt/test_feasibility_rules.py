"""``supplytwin validate`` and the optimiser apply one cold-chain rule: a demand stream none of
whose lanes has a shipper qualified for the transit is a problem for ``validate`` (file, row,
reason, exit code 2), and the optimiser builds no arc for it, for the same reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplytwin.cli import app
from supplytwin.errors import SupplytwinError
from supplytwin.model.feasibility import lane_carry_reason
from supplytwin.scenario import load_scenario
from tests.opt.netgen import small_network

pytestmark = pytest.mark.component


def _short_shippers(tmp: Path, hours: float) -> Path:
    """The small network with every road lane into customer C1 (the only lanes that can carry
    the refrigerated product there; the courier is ambient) turned into a passive refrigerated
    shipper qualified for ``hours`` (transit is fixed at 24 h)."""
    path = small_network(tmp, seed=2)
    lanes_csv = tmp / "lanes.csv"
    with lanes_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["destination_id"] == "C1" and r["mode"] == "road":
            r["packaging"] = "passive_refrigerated"
            r["qualified_hours"] = str(hours)
    with lanes_csv.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "qualified_hours"], restval="")
        w.writeheader()
        w.writerows(rows)
    return path


def _demand_row(tmp: Path, customer: str, product: str) -> int:
    with (tmp / "demand.csv").open(newline="") as f:
        for i, r in enumerate(csv.DictReader(f), start=1):  # data rows count from 1
            if r["customer_id"] == customer and r["product_id"] == product:
                return i
    raise AssertionError("demand row not found")


def test_validate_rejects_a_demand_no_qualified_lane_can_serve(tmp_path):
    path = _short_shippers(tmp_path, hours=12)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "demand.csv" in out and "Traceback" not in out
    assert f"row {_demand_row(tmp_path, 'C1', 'P-COLD')}" in out
    assert "no lane can serve 'C1' with 'P-COLD'" in out
    assert "exceeds the shipper's 12 qualified hours" in out
    # the ambient product still reaches C1 by courier: no problem on its row
    assert f"row {_demand_row(tmp_path, 'C1', 'P-CRT')}" not in out


def test_validate_accepts_the_same_network_with_long_enough_shippers(tmp_path):
    path = _short_shippers(tmp_path, hours=48)  # 24 h fixed transit fits
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0


def test_the_optimiser_uses_the_same_rule(tmp_path):
    from supplytwin.opt import extract

    path = _short_shippers(tmp_path, hours=30)  # fits: the data must hold the arcs
    sc = load_scenario(path)
    data = extract(sc)
    k = list(zip(data.demand_customer, data.demand_product, strict=True)).index(("C1", "P-COLD"))
    lanes = {data.lanes[data.arc_lane[a]] for a in data.demand_in[k]}
    assert lanes == {f"L-DC{i}-C1-RD" for i in range(1, 5)}
    for lid in lanes:
        lane = sc.network.lanes[lid]
        assert lane_carry_reason(sc.network, lane, "P-COLD") is None
        # a 23 h shipper fails the shared rule, and validate refuses the network
        short = lane.model_copy(update={"qualified_hours": 23.0})
        assert "qualified hours" in lane_carry_reason(sc.network, short, "P-COLD")
    with pytest.raises(SupplytwinError):
        load_scenario(_short_shippers(tmp_path / "short", hours=23))
