"""The hostile-input corpus: inputs a careless or hostile user types, and what they must get.

Each :class:`Case` starts from a copy of ``tests/data/tiny_valid`` and changes it: table cells
(``cells``), extra YAML text (``yaml``), ``--set`` overrides (``sets``) or files it writes
(``files``). The command then runs (``validate`` by default) and must exit with ``exit_code``
and say every fragment of ``says`` (case-insensitive) on its output, never a traceback and never
an "internal error". Cases are named so a failure says which input broke.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    #: (table, data row from 1, column, value)
    cells: tuple[tuple[str, int, str, str], ...] = ()
    #: (table, {column: value}) rows appended to a table
    rows: tuple[tuple[str, dict[str, str]], ...] = ()
    #: text appended to scenario.yaml
    yaml: str = ""
    sets: tuple[str, ...] = ()
    #: prepares files in the copied scenario folder (FIFOs, symlinks, long chains ...)
    prepare: Callable[[Path], None] | None = None
    #: the command and its options after the scenario file
    command: tuple[str, ...] = ("validate",)
    exit_code: int = 2
    says: tuple[str, ...] = ()
    #: fragments that must NOT appear (e.g. file contents that must not be echoed)
    never: tuple[str, ...] = ()
    slow: bool = False


# ---------------------------------------------------------------- runaway numbers -------------
RUNAWAY = [
    Case("horizon-inf", sets=("simulation.horizon_days=.inf",),
         says=("simulation.horizon_days", "finite")),
    Case("horizon-1e7", sets=("simulation.horizon_days=1e7",),
         says=("simulation.horizon_days", "less than or equal to 36500")),
    Case("warmup-beyond-horizon", sets=("simulation.warmup_days=100",),
         says=("simulation", "warmup_days (100) must be shorter than horizon_days (100)")),
    Case("seed-above-2-63", sets=("simulation.seed=18446744073709551616",),
         says=("simulation.seed", "less than or equal to 9223372036854775807")),
    Case("orders-per-day-inf", cells=(("demand", 1, "orders_per_day", "inf"),),
         says=("demand.csv, row 1", "orders_per_day", "finite")),
    Case("orders-per-day-1e9", cells=(("demand", 1, "orders_per_day", "1e9"),),
         says=("demand.csv, row 1", "orders_per_day", "less than or equal to 100000")),
    Case("order-size-1e10", cells=(("demand", 1, "order_size_units", "fixed(1e10)"),),
         says=("demand.csv, row 1", "order_size_units", "absurdly large")),
    Case("order-up-to-1e12", cells=(("policies", 1, "order_up_to_units", "1e12"),),
         says=("policies.csv, row 1", "order_up_to_units", "absurdly large")),
    Case("lognormal-mean-1e308",
         cells=(("demand", 2, "order_size_units", "lognormal(mean=1e308, cv=0.5)"),),
         says=("demand.csv, row 2", "order_size_units", "absurdly large")),
    Case("initial-stock-1e308", cells=(("initial_stock", 1, "quantity_units", "1e308"),),
         says=("initial_stock.csv, row 1", "quantity_units", "absurdly large")),
    Case("initial-stock-inf", cells=(("initial_stock", 1, "quantity_units", "inf"),),
         says=("initial_stock.csv, row 1", "quantity_units", "finite")),
    Case("shelf-life-inf", cells=(("products", 1, "shelf_life_days", "inf"),),
         says=("products.csv, row 1", "shelf_life_days", "finite")),
    Case("unit-value-nan", cells=(("products", 1, "unit_value_usd", "nan"),),
         says=("products.csv, row 1", "unit_value_usd", "finite")),
    Case("zero-cycle-zero-yield",
         cells=(("production", 1, "cycle_time_days", "fixed(0)"),
                ("production", 1, "yield_frac", "fixed(0)")),
         says=("production.csv, row 1", "restart batches forever")),
    Case("batch-count-1e8", cells=(("policies", 1, "order_up_to_units", "1e8"),
                                   ("products", 1, "units_per_batch", "1")),
         says=("policies.csv, row 1", "order_up_to_units", "100,000,000 batches of 1 units")),
    Case("review-period-1e-9",
         cells=(("policies", 1, "policy", "periodic_R_S"),
                ("policies", 1, "review_period_days", "1e-9")),
         says=("policies.csv, row 1", "review_period_days", "greater than or equal to 0.001")),
    Case("mtbf-1e-9", yaml="disruptions:\n  - {disruption_id: flaky, kind: site_outage, "
         "site_id: P, mtbf_days: 1e-9, mttr_days: 1}\n",
         says=("scenario.yaml", "disruptions.0.mtbf_days", "greater than or equal to 0.001")),
    Case("surge-1e12", yaml="disruptions:\n  - {disruption_id: surge, kind: demand_surge, "
         "start_day: 10, duration_days: 5, magnitude: 1e12}\n",
         says=("scenario.yaml", "disruptions.0.magnitude", "less than or equal to 1000")),
    Case("split-shares-overflow",
         cells=(("policies", 2, "sources", "L0;L0"),
                ("policies", 2, "sourcing_rule", "split"),
                ("policies", 2, "split_shares", "1e308;1e308")),
         says=("policies.csv, row 2", "split_shares", "absurdly large")),
    Case("cold-chain-hours-inf", sets=("cold_chain.excursion_duration_hours=lognormal(mean=1e999, cv=1)",),
         says=("cold_chain.excursion_duration_hours", "finite")),
    Case("edit-inf-through-edits", sets=("edits.demand.C1/MAB.orders_per_day=.inf",),
         says=("edits.demand.C1/MAB.orders_per_day", "finite")),
]

# ---------------------------------------------------------------- wrong answers ---------------
_DC2 = (
    ("sites", {"site_id": "DC2", "kind": "distribution_centre", "latitude": "50",
               "longitude": "7"}),
    ("lanes", {"lane_id": "L4", "origin_id": "DC", "destination_id": "DC2", "mode": "road",
               "transit_time_days": "fixed(1)", "packaging": "active"}),
    ("lanes", {"lane_id": "L5", "origin_id": "DC2", "destination_id": "DC", "mode": "road",
               "transit_time_days": "fixed(1)", "packaging": "active"}),
    ("policies", {"site_id": "DC2", "product_id": "MAB", "policy": "base_stock",
                  "order_up_to_units": "100", "sources": "L4"}),
)
WRONG_ANSWERS = [
    Case("dc-dc-sourcing-loop", rows=_DC2, cells=(("policies", 4, "sources", "L1;L5"),),
         says=("policies.csv, row 4", "sourcing loop for 'MAB': DC <- DC2 <- DC")),
]

# ---------------------------------------------------------------- budget ----------------------
BUDGET = [
    Case("max-events-exceeded", command=("run", "--reps", "1", "--max-events", "1000"),
         says=("stopped at simulated day", "budget of 1,000 simulator events", "pending",
               "nothing was written")),
    Case("max-events-in-experiment",
         command=("run", "--reps", "2", "--workers", "1", "--max-events", "1000"),
         says=("budget of 1,000 simulator events",)),
    Case("max-events-in-compare",
         command=("compare", "scenario.yaml", "--reps", "2", "--workers", "1", "--max-events",
                  "1000"),
         says=("budget of 1,000 simulator events",)),
    Case("time-limit-exceeded",
         command=("run", "--reps", "1", "--time-limit", "0.3", "--horizon-days", "36500"),
         says=("time limit of 0.3 s", "nothing was written"), slow=True),
    Case("horizon-option-inside-warmup", command=("run", "--reps", "1", "--horizon-days", "5"),
         sets=("simulation.warmup_days=10",),
         says=("warmup_days (10) must be shorter than horizon_days (5)",)),
    Case("seed-option-above-2-63", command=("run", "--reps", "1", "--seed", str(2**63)),
         says=("--seed",)),
]

# ---------------------------------------------------------------- terminal --------------------
TERMINAL = [
    Case("rich-markup-in-name", command=("run", "--reps", "1"), sets=("name=[/]x[bold red]y",),
         exit_code=0, says=("[/]x[bold red]y",)),
    Case("esc-in-name", sets=("name=\x1b[2Jboom",),
         says=("name", "control character U+001B")),
    Case("bidi-in-product-name", cells=(("products", 1, "name", "abc\u202edcba"),),
         says=("products.csv, row 1", "name", "U+202E")),
]

# ---------------------------------------------------------------- YAML ------------------------
def _laughs(levels: int, indent: str = "") -> str:
    """A "billion laughs": each level lists the previous one ten times."""
    lines = [f'{indent}a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"{indent}a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


YAML_CASES = [
    Case("alias-bomb-top-level", yaml="bomb:\n" + _laughs(9, "  "),
         says=("scenario.yaml", "alias bomb")),
    Case("alias-bomb-in-edits", yaml="edits:\n  products:\n    MAB:\n" + _laughs(9, "      "),
         says=("scenario.yaml", "alias bomb")),
    Case("alias-bomb-in-set", sets=("edits.products.MAB.name=" + "{" + _laughs(9).replace(
        "\n", ", ").rstrip(", ") + "}",), says=("--set", "alias bomb")),
    Case("recursive-alias", yaml="loop: &l [*l]\n", says=("scenario.yaml",)),
    Case("duplicate-section", yaml="simulation:\n  horizon_days: 50\n",
         says=("scenario.yaml, line", "duplicate key 'simulation' (first at line")),
    Case("set-extends", sets=("extends=other.yaml",),
         says=("--set", "extends cannot be changed with --set")),
    Case("deep-nesting", yaml="deep: " + "[" * 5000 + "]" * 5000 + "\n",
         says=("scenario.yaml",)),
]


# ---------------------------------------------------------------- files -----------------------
def _fifo(d: Path) -> None:
    os.mkfifo(d / "fifo.csv")


def _symlink_loop(d: Path) -> None:
    os.symlink(d / "b.yaml", d / "a.yaml")
    os.symlink(d / "a.yaml", d / "b.yaml")


def _extends_symlink_loop(d: Path) -> None:
    _symlink_loop(d)


def _chain(d: Path, n: int = 3000) -> None:
    for i in range(n):
        (d / f"c{i}.yaml").write_text(f"name: c{i}\nextends: c{i + 1}.yaml\n")
    (d / f"c{n}.yaml").write_text("name: last\nextends: scenario.yaml\n")
    (d / "scenario.yaml").rename(d / "base.yaml")
    (d / f"c{n}.yaml").write_text("name: last\nextends: base.yaml\n")
    (d / "scenario.yaml").write_text("name: top\nextends: c0.yaml\n")


def _big_table(d: Path) -> None:
    with (d / "big.csv").open("wb") as fh:  # sparse: no disk used
        fh.truncate(300 * 1024 * 1024)


FILE_CASES = [
    Case("table-is-dev-zero", sets=("network.products=/dev/zero",),
         says=("/dev/zero", "a device, not a regular file")),
    Case("table-is-fifo", prepare=_fifo, sets=("network.products=fifo.csv",),
         says=("fifo.csv", "named pipe (FIFO)")),
    Case("table-is-directory", sets=("network.products=.",),
         says=("is a folder, not a file",)),
    Case("table-too-big", prepare=_big_table, sets=("network.products=big.csv",),
         says=("big.csv", "more than the 200 MB")),
    Case("table-is-etc-passwd", sets=("network.products=/etc/passwd",),
         says=("/etc/passwd", "does not look like the products table"),
         never=("root:", "/bin/")),
    Case("extends-symlink-loop", prepare=_extends_symlink_loop, yaml="extends: a.yaml\n",
         says=("extends", "symlink loop")),
    Case("extends-chain-3000", prepare=_chain, says=("extends", "chain of more than 50 files")),
]

CASES: list[Case] = [*RUNAWAY, *WRONG_ANSWERS, *BUDGET, *TERMINAL, *YAML_CASES, *FILE_CASES]
