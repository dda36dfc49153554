"""Sides of a run folder: names, table prefixes and references written by the experiment
recorder and the stress battery and read by the dashboard (supplytwin.experiment.sides)."""

from __future__ import annotations

import pytest

from supplytwin.experiment.sides import (
    SIDE_PATTERN,
    point_side,
    side_index,
    side_ref,
    split_side_ref,
    table_prefix,
    whatif_side,
)

pytestmark = pytest.mark.unit


def test_the_base_has_no_side_no_prefix_and_is_addressed_by_the_run_id():
    assert whatif_side(0) == ""
    assert table_prefix("") == ""
    assert side_ref("20261201-abc", "") == "20261201-abc"
    assert split_side_ref("20261201-abc") == ("20261201-abc", "")
    assert side_index("") == 0


@pytest.mark.parametrize("k", [1, 2, 9, 10, 99, 1000, 2000])
def test_every_what_if_a_battery_can_hold_round_trips_through_its_reference(k):
    side = whatif_side(k)
    assert side == f"whatif{k}"
    assert SIDE_PATTERN.fullmatch(side)
    assert table_prefix(side) == f"whatif{k}_"
    assert split_side_ref(side_ref("RUN", side)) == ("RUN", side)
    assert side_index(side) == k


@pytest.mark.parametrize("k", [0, 7, 120, 999, 1000])
def test_sweep_points_have_three_digits_at_least_and_round_trip(k):
    side = point_side(k)
    assert len(side) >= len("point000")
    assert SIDE_PATTERN.fullmatch(side)
    assert side_index(side) == k
    assert split_side_ref(side_ref("RUN", side)) == ("RUN", side)


@pytest.mark.parametrize("side", ["whatif0", "whatif", "whatif12345", "point1", "base", "x"])
def test_what_no_writer_produces_is_not_a_side(side):
    assert not SIDE_PATTERN.fullmatch(side)


def test_negative_numbers_and_foreign_sides_are_refused():
    with pytest.raises(ValueError):
        whatif_side(-1)
    with pytest.raises(ValueError):
        point_side(-1)
    with pytest.raises(ValueError):
        side_index("base")
