"""Bit-for-bit guard for speed work: snapshot what every bundled scenario computes, compare later.

    python -m benchmarks.kpi_snapshot save  /tmp/before.pkl
    python -m benchmarks.kpi_snapshot check /tmp/before.pkl

``save`` runs every ``scenarios/*.yaml`` and the reference case of ``peer.py`` with a fixed
seed and stores its KPIs, KPIs by product, daily time series, service by customer,
per-stock-point KPIs, units and excursions by lane and mass balance.
``check`` reruns them and reports every difference (exact equality, NaN equal to NaN): a speed
change must not move a single bit of any of them. Exit code 1 when anything differs.
"""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 12345


def _scenarios():
    """Every bundled scenario, and the peer benchmark's reference case (its only run with
    zero-day customer trips and an unlimited source)."""
    import tempfile

    from supplytwin.scenario import load_scenario

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        yield path.stem, load_scenario(path)
    from benchmarks.peer import reference_scenario

    with tempfile.TemporaryDirectory() as tmp:
        yield "peer-reference", reference_scenario(Path(tmp))


def snapshot() -> dict[str, dict]:
    from supplytwin.sim import simulate

    out: dict[str, dict] = {}
    for name, scenario in _scenarios():
        r = simulate(scenario, SEED)
        out[name] = {
            "kpis": dict(r.kpis),
            "kpis_by_product": r.kpis_by_product.reset_index(drop=True),
            "timeseries": r.timeseries.reset_index(drop=True),
            "service_by_customer": r.service_by_customer.reset_index(drop=True),
            "stock_points": r.stock_points.reset_index(drop=True),
            "units_by_lane": dict(sorted(r.units_by_lane.items())),
            "excursions_by_lane": dict(sorted(r.excursions_by_lane.items())),
            "mass_balance": r.mass_balance.reset_index(drop=True),
        }
        print(f"  {name}: {r.wall_seconds:.2f} s", flush=True)
    return out


def _same(a, b) -> bool:
    import pandas as pd

    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b) and list(a.columns) == list(b.columns)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def differences(before: dict, after: dict) -> list[str]:
    out = []
    for name in sorted(before.keys() | after.keys()):
        if name not in before or name not in after:
            out.append(f"{name}: only in {'after' if name in after else 'before'}")
            continue
        for part, value in before[name].items():
            if not _same(value, after[name].get(part)):
                detail = ""
                if part == "kpis":
                    detail = ", ".join(f"{k}: {value[k]!r} -> {after[name][part].get(k)!r}"
                                       for k in value if not _same(value[k], after[name][part].get(k)))
                out.append(f"{name}.{part} differs {detail}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print(__doc__)
        return 2
    mode, path = argv
    now = snapshot()
    if mode == "save":
        Path(path).write_bytes(pickle.dumps(now))
        print(f"saved {len(now)} scenarios to {path}")
        return 0
    diffs = differences(pickle.loads(Path(path).read_bytes()), now)
    for d in diffs:
        print("DIFF", d)
    print(f"{len(now)} scenarios: {'identical' if not diffs else f'{len(diffs)} differences'}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
