"""Property-based tests: whatever the input, the loader answers with Problems, never a crash.

``check_scenario`` gets random bytes and text as the YAML, random YAML documents, random
mutations of the tiny network's CSV files and random ``--set`` strings; it must return a list of
:class:`~supplytwin.errors.Problem` (and ``load_scenario`` raise only ScenarioError).
``parse_distribution`` must raise only DistributionError.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from supplytwin.errors import Problem, ScenarioError
from supplytwin.model.tables import TABLES
from supplytwin.scenario import check_scenario, load_scenario
from supplytwin.scenario.document import ScenarioDocument
from supplytwin.stochastic import DISTRIBUTION_NAMES, DistributionError, parse_distribution

pytestmark = pytest.mark.unit

TINY = Path(__file__).parents[1] / "data" / "tiny_valid"
TABLE_FILES = sorted(p.name for p in TINY.glob("*.csv"))

#: examples per property; SUPPLYTWIN_FUZZ_EXAMPLES=5000 for a deeper hunt than the default run
FUZZ = settings(max_examples=int(os.environ.get("SUPPLYTWIN_FUZZ_EXAMPLES", "100")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@contextmanager
def tiny_copy() -> Iterator[Path]:
    """A fresh copy of the tiny network per example (hypothesis reuses function fixtures)."""
    with tempfile.TemporaryDirectory(prefix="supplytwin-fuzz-") as tmp:
        dest = Path(tmp) / "tiny"
        shutil.copytree(TINY, dest)
        yield dest


def assert_only_problems(path: Path, sets: list[str] | tuple[str, ...] = ()) -> list[Problem]:
    problems = check_scenario(path, sets)
    assert isinstance(problems, list)
    assert all(isinstance(p, Problem) for p in problems)
    for p in problems:
        assert p.reason, p
        str(p)  # every problem can be printed
    if problems:
        with pytest.raises(ScenarioError):
            load_scenario(path, sets)
    return problems


# ---------------------------------------------------------------- the YAML document -----------
@FUZZ
@given(st.binary(max_size=400))
@example(b"")
@example(b"\xff\xfe\x00garbage")
@example(b"- a\n- b\n")
@example(b"name: [unclosed\n")
def test_random_bytes_as_the_scenario(data: bytes) -> None:
    with tiny_copy() as d:
        path = d / "scenario.yaml"
        path.write_bytes(data)
        assert_only_problems(path)


@FUZZ
@given(st.text(max_size=300))
@example("name: x\nextends: scenario.yaml\n")
@example("name: x\nnetwork: 3\n")
@example("{}")
@example("name: x\nnetwork: {products: products.csv}\nedits: {lanes: {L1: 5}}\n")
def test_random_text_as_the_scenario(text: str) -> None:
    with tiny_copy() as d:
        path = d / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        assert_only_problems(path)


_KEYS = sorted(
    set(ScenarioDocument.model_fields)
    | {f"{name}" for name in TABLES}
    | {"horizon_days", "seed", "mode", "L1", "DC/MAB", "lanes", "policies", "start_day"}
)
_scalars = (
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
    | st.sampled_from(TABLE_FILES + ["scenario.yaml", "fixed(2)", "air", "make", "2027-01-04"])
)
_documents = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


def _base_document() -> dict:
    import yaml

    return yaml.safe_load((TINY / "scenario.yaml").read_text(encoding="utf-8"))


@FUZZ
@given(st.dictionaries(st.sampled_from(_KEYS), _documents, max_size=6), st.booleans())
def test_random_yaml_documents(extra: dict, keep_base: bool) -> None:
    import yaml

    doc = {**_base_document(), **extra} if keep_base else extra
    with tiny_copy() as d:
        path = d / "scenario.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        assert_only_problems(path)


# ---------------------------------------------------------------- CSV mutations ---------------
def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


_cell_values = (
    st.text(max_size=30)
    | st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.integers(-10**12, 10**12).map(str)
    | st.just("")
    | st.sampled_from(["make", "L1;L2", "fixed(0)", "uniform(3, 1)", "poisson(mean=-1)",
                       "empirical(missing.csv)", "empirical(demand.csv)", "every:0", "weekly:",
                       "1e309", "-0", "nan", "true", "ambient", "ultra_cold", "air", "P", "MAB"])
)


@FUZZ
@given(st.sampled_from(TABLE_FILES), st.integers(0, 20), st.integers(0, 20), _cell_values)
def test_csv_cell_replaced(table: str, row: int, col: int, value: str) -> None:
    with tiny_copy() as d:
        rows = _read(d / table)
        r = rows[row % len(rows)]
        r[col % len(r)] = value
        _write(d / table, rows)
        assert_only_problems(d / "scenario.yaml")


@FUZZ
@given(st.sampled_from(TABLE_FILES), st.integers(0, 20), st.sampled_from(
    ["drop_column", "duplicate_row", "drop_row", "extra_cell", "missing_cell", "swap_columns",
     "header_only", "empty_file", "blank_lines"]))
def test_csv_structure_mutated(table: str, index: int, how: str) -> None:
    with tiny_copy() as d:
        rows = _read(d / table)
        i = index % len(rows[0])
        j = 1 + index % max(1, len(rows) - 1) if len(rows) > 1 else 0
        if how == "drop_column":
            rows = [r[:i] + r[i + 1:] for r in rows]
        elif how == "duplicate_row":
            rows.insert(j, list(rows[j]))
        elif how == "drop_row" and len(rows) > 1:
            del rows[j]
        elif how == "extra_cell":
            rows[j].append("surplus")
        elif how == "missing_cell":
            rows[j] = rows[j][:-1]
        elif how == "swap_columns":
            k = (i + 1) % len(rows[0])
            for r in rows:
                if len(r) > max(i, k):
                    r[i], r[k] = r[k], r[i]
        elif how == "header_only":
            rows = rows[:1]
        elif how == "empty_file":
            rows = []
        elif how == "blank_lines":
            rows = [rows[0], [], *rows[1:], []]
        _write(d / table, rows)
        assert_only_problems(d / "scenario.yaml")


@FUZZ
@given(st.sampled_from(TABLE_FILES), st.floats(0, 1), st.binary(max_size=40))
def test_csv_truncated_or_with_random_bytes(table: str, frac: float, junk: bytes) -> None:
    with tiny_copy() as d:
        raw = (d / table).read_bytes()
        cut = int(len(raw) * frac)
        (d / table).write_bytes(raw[:cut] + junk)
        assert_only_problems(d / "scenario.yaml")


# ---------------------------------------------------------------- --set -----------------------
_set_keys = st.lists(
    st.sampled_from(["simulation", "horizon_days", "seed", "start_date", "cold_chain",
                     "qa_disposition_days", "costs", "network", "products", "edits", "lanes", "L1",
                     "mode", "policies", "DC/MAB", "sources", "disruptions", "0", "name", "extends",
                     "kpis", "x"]) | st.text(max_size=6),
    min_size=1, max_size=5,
).map(".".join)
_set_values = st.text(max_size=20) | st.sampled_from(
    ["10", "-1", "air", "[1, 2]", "{a: 1}", "null", "2027-02-30", "fixed(3)", "make", "''",
     "'unterminated", "&a [*a]", "!!python/object:os.system x", "~", ".inf"])


@FUZZ
@given(st.lists(
    st.tuples(_set_keys, _set_values).map(lambda kv: f"{kv[0]}={kv[1]}") | st.text(max_size=30),
    max_size=4,
))
@example(["simulation.horizon_days=10", "edits.lanes.L1.mode=air"])
@example(["=1"])
@example(["edits.lanes.L1=5"])
@example(["network=oops"])
def test_random_set_overrides(sets: list[str]) -> None:
    with tiny_copy() as d:
        assert_only_problems(d / "scenario.yaml", sets)


# ---------------------------------------------------------------- distributions ---------------
_numbers = (
    st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.integers(-10**6, 10**6).map(str)
    | st.sampled_from(["True", "None", "'3'", "1j", "[1]", "x", "", "1e400", "-0.0"])
)
_dist_text = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda name, args, kwargs: f"{name}({', '.join(args + [f'{k}={v}' for k, v in kwargs])})",
        st.sampled_from([*DISTRIBUTION_NAMES, "weibull", "", "FIXED"]),
        st.lists(_numbers, max_size=4),
        st.lists(st.tuples(st.sampled_from(["mean", "cv", "sd", "low", "high", "mode", "value",
                                            "rate"]), _numbers), max_size=3),
    ),
)


@FUZZ
@given(_dist_text)
@example("fixed(3)")
@example("lognormal(mean=5, cv=0.4)")
@example("normal(mean=1, sd=1)")
@example("empirical()")
@example("fixed(**x)")
def test_parse_distribution_raises_only_distribution_error(text: str) -> None:
    try:
        dist = parse_distribution(text)
    except DistributionError as exc:
        assert str(exc)
        return
    # a distribution that parses has a finite, non-negative mean and round-trips through str()
    assert dist.mean >= 0
    assert dist.mean == dist.mean  # not NaN
    again = parse_distribution(str(dist))
    assert str(again) == str(dist)


# ---------------------------------------------------------------- inputs that once crashed, kept as regression tests ----------
_LONG = "a" * 300
_HUGE = "1" + "0" * 400

#: (scenario YAML appended to the tiny one or replacing it, --set, CSV cell edit) -> crash today
FORMER_CRASHES = [
    pytest.param("", [".=1"], None, id="set-key-made-of-dots"),
    pytest.param('name: x\nextends: "a\\0b"\n', [], None, id="nul-in-extends"),
    pytest.param(f"name: x\nextends: {_LONG}.yaml\n", [], None, id="long-extends-name"),
    pytest.param("", ['network.products="a\\0b"'], None, id="nul-in-network-path"),
    pytest.param("+description: 2020-13-45\n", [], None, id="yaml-invalid-date"),
    pytest.param("+description: !!int abc\n", [], None, id="yaml-bad-explicit-tag"),
    pytest.param("[" * 3000, [], None, id="yaml-deep-nesting"),
    pytest.param("", ["description=" + "[" * 3000], None, id="set-deep-nesting"),
    pytest.param("", [], ("production.csv", 1, 2, f"fixed({_HUGE})"), id="csv-huge-integer"),
    pytest.param("", [], ("production.csv", 1, 2, "lognormal(mean=1e308, cv=1e308)"),
                 id="csv-lognormal-overflow"),
    pytest.param("", [], ("production.csv", 1, 2, f"empirical({_LONG}.csv)"),
                 id="csv-empirical-long-name"),
]


@pytest.mark.parametrize(("yaml_text", "sets", "cell"), FORMER_CRASHES)
def test_known_loader_crash(yaml_text: str, sets: list[str],
                            cell: tuple[str, int, int, str] | None) -> None:
    with tiny_copy() as d:
        path = d / "scenario.yaml"
        if yaml_text.startswith("+"):
            path.write_text(path.read_text(encoding="utf-8") + yaml_text[1:], encoding="utf-8")
        elif yaml_text:
            path.write_text(yaml_text, encoding="utf-8")
        if cell is not None:
            table, row, col, value = cell
            rows = _read(d / table)
            rows[row][col] = value
            _write(d / table, rows)
        assert_only_problems(path, sets)


@pytest.mark.parametrize("text", [
    pytest.param(f"fixed({_HUGE})", id="huge-integer"),
    pytest.param("lognormal(mean=1e308, cv=1e308)", id="lognormal-overflow"),
    pytest.param(f"empirical({_LONG}.csv)", id="empirical-long-name"),
    pytest.param("fixed(" + "-" * 100_000 + "1)", id="deep-unary"),
])
def test_known_distribution_crash(text: str) -> None:
    with pytest.raises(DistributionError):
        parse_distribution(text)
