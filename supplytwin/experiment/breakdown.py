"""Where the damage landed: a run's service, or the difference between two runs, broken down
by product, customer, region and serving site.

A run folder holds ``service_by_customer.parquet``: per customer, product and replication the
units ordered (``demand_units``) and the units shipped at once (``filled_immediately_units``).
The units *not* shipped at once (backordered or lost) times the product's patients per unit
are the patients affected, the same definition as the run-level KPI ``patients_affected``.

The customer table alone does not say where a customer sits or who serves it, so callers pass
an *attributes* table (one row per customer and product: ``customer_id``, ``product_id``,
``region``, ``site_id`` of the stock point that serves it, ``patients_per_unit``), built from
the run's scenario. Grouping by ``site_id`` then answers "which stock point / DC", and by
``("site_id", "product_id")`` "which stock point of which product".

Differences are *what-if minus base*. When the two runs share their seed, replication *i* of
each saw the same random draws (common random numbers), so the difference is taken per
replication and its 95 % interval is the paired-t one; otherwise the runs are independent
samples and Welch's interval is used. A group with no orders in one replication counts zero
demand and zero patients there, so groups that appear in only one run are still compared.

Fill rates of a group are per replication (filled at once / ordered), averaged over
replications, like the KPI; their differences are reported in percentage points (pp).

Nothing here reads files: tables in, tables out (pandas only), so the tests use hand-made frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from supplytwin.experiment.stats import Estimate, paired_difference, welch_difference

#: the breakdowns a planner asks for: label -> column(s) of the attributes table
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "product": ("product_id",),
    "customer": ("customer_id",),
    "region": ("region",),
    "site": ("site_id",),
    "stock point": ("site_id", "product_id"),
}

#: attributes of a customer and product the breakdown needs
ATTRIBUTE_COLUMNS = ("customer_id", "product_id", "region", "site_id", "patients_per_unit")

UNKNOWN = "(unknown)"

_NAN = float("nan")


def _keys(by: str | Sequence[str]) -> list[str]:
    if isinstance(by, str):
        if by in DIMENSIONS:
            return list(DIMENSIONS[by])
        return [by]
    return list(by)


def impact_by_replication(by_customer: pd.DataFrame, attributes: pd.DataFrame | None,
                          by: str | Sequence[str]) -> pd.DataFrame:
    """Per group of ``by`` and replication: ``demand_units``, ``unfilled_units`` (not shipped
    at once), ``lost_units``, ``patients_affected`` and ``fill_rate``.

    Customers missing from ``attributes`` get region and site ``(unknown)`` and no patient
    count (NaN), rather than a guessed one. A table without a ``replication`` column is one
    replication (0).
    """
    keys = _keys(by)
    cols = [*keys, "replication", "demand_units", "unfilled_units", "lost_units",
            "patients_affected", "fill_rate"]
    if by_customer is None or by_customer.empty:
        return pd.DataFrame(columns=cols)
    df = by_customer.copy()
    if "replication" not in df.columns:
        df["replication"] = 0
    if "lost_units" not in df.columns:
        df["lost_units"] = 0.0
    attrs = (attributes if attributes is not None
             else pd.DataFrame(columns=list(ATTRIBUTE_COLUMNS)))
    attrs = attrs.reindex(columns=list(ATTRIBUTE_COLUMNS)).drop_duplicates(
        ["customer_id", "product_id"])
    df = df.merge(attrs, on=["customer_id", "product_id"], how="left")
    df["region"] = df["region"].fillna(UNKNOWN).replace("", UNKNOWN)
    df["site_id"] = df["site_id"].fillna(UNKNOWN).replace("", UNKNOWN)
    demand = df["demand_units"].astype(float)
    unfilled = (demand - df["filled_immediately_units"].astype(float)).clip(lower=0.0)
    df = df.assign(demand_units=demand, unfilled_units=unfilled,
                   lost_units=df["lost_units"].astype(float),
                   patients_affected=unfilled * df["patients_per_unit"].astype(float))
    grouped = df.groupby([*keys, "replication"], dropna=False)
    g = grouped.agg(demand_units=("demand_units", "sum"), unfilled_units=("unfilled_units", "sum"),
                    lost_units=("lost_units", "sum"))
    # min_count=1: a group whose patients per unit are all unknown stays unknown (NaN); as a
    # method, not a lambda per group (that took 0.2 s of a 30-replication Results page)
    g["patients_affected"] = grouped["patients_affected"].sum(min_count=1)
    g = g.reset_index()
    g["fill_rate"] = 1.0 - g["unfilled_units"] / g["demand_units"].where(g["demand_units"] > 0)
    return g[cols]


def _complete(table: pd.DataFrame, keys: list[str], groups: pd.DataFrame,
              reps: Sequence[int]) -> pd.DataFrame:
    """Every group in every replication: a group without orders in a replication had zero
    demand and affected nobody there (its fill rate is undefined, NaN)."""
    grid = groups.merge(pd.DataFrame({"replication": list(reps)}), how="cross")
    out = grid.merge(table, on=[*keys, "replication"], how="left")
    known = table.groupby(keys, dropna=False)["patients_affected"].apply(
        lambda s: s.notna().any()).rename("_known").reset_index()
    out = out.merge(known, on=keys, how="left")
    for c in ("demand_units", "unfilled_units", "lost_units"):
        out[c] = out[c].fillna(0.0)
    # zero patients where a group had no orders, unless its patients per unit are unknown
    out["patients_affected"] = out["patients_affected"].where(
        out["patients_affected"].notna() | ~out["_known"].fillna(False).astype(bool), 0.0)
    return out.drop(columns="_known")


def _difference(a: np.ndarray, b: np.ndarray, paired: bool) -> Estimate:
    if paired:
        return paired_difference(a, b)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) >= 2 and len(b) >= 2:
        return welch_difference(a, b)
    diff = float(b.mean() - a.mean()) if len(a) and len(b) else _NAN
    return Estimate(diff, _NAN, min(len(a), len(b)), (_NAN, _NAN))


def _mean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if len(x) else _NAN


def breakdown(base: pd.DataFrame, whatif: pd.DataFrame, attributes: pd.DataFrame | None,
              by: str | Sequence[str], *, paired: bool) -> pd.DataFrame:
    """The difference what-if minus base per group of ``by`` (a :data:`DIMENSIONS` label or
    columns), sorted by the change in patients affected, largest increase first.

    ``base`` and ``whatif`` are ``service_by_customer`` tables of two runs. ``paired`` (the
    runs share their seed) pairs replications by index over the replications both hold.
    Columns: the group columns, ``base_demand_units``, ``base_fill_rate``,
    ``whatif_fill_rate``, ``fill_rate_difference_pp``, ``base_patients_affected``,
    ``whatif_patients_affected``, ``patients_affected_difference``, ``ci95_low``,
    ``ci95_high`` (of the patients difference), ``unfilled_units_difference``, ``n``,
    ``paired``. Means are per replication.
    """
    keys = _keys(by)
    ta = impact_by_replication(base, attributes, keys)
    tb = impact_by_replication(whatif, attributes, keys)
    cols = [*keys, "base_demand_units", "base_fill_rate", "whatif_fill_rate",
            "fill_rate_difference_pp", "base_patients_affected", "whatif_patients_affected",
            "patients_affected_difference", "ci95_low", "ci95_high",
            "unfilled_units_difference", "n", "paired"]
    if ta.empty and tb.empty:
        return pd.DataFrame(columns=cols)
    reps_a, reps_b = sorted(set(ta["replication"])), sorted(set(tb["replication"]))
    common = sorted(set(reps_a) & set(reps_b))
    paired = bool(paired and common)
    if paired:
        reps_a = reps_b = common
    groups = pd.concat([ta[keys], tb[keys]]).drop_duplicates().reset_index(drop=True)
    ca = _complete(ta, keys, groups, reps_a).set_index(keys)
    cb = _complete(tb, keys, groups, reps_b).set_index(keys)
    rows = []
    for key in groups.itertuples(index=False, name=None):
        k = key if len(keys) > 1 else key[0]
        a = ca.loc[[k]].sort_values("replication")
        b = cb.loc[[k]].sort_values("replication")
        pa, pb = a["patients_affected"].to_numpy(float), b["patients_affected"].to_numpy(float)
        fa, fb = a["fill_rate"].to_numpy(float), b["fill_rate"].to_numpy(float)
        ua, ub = a["unfilled_units"].to_numpy(float), b["unfilled_units"].to_numpy(float)
        patients = _difference(pa, pb, paired)
        fill = _difference(fa, fb, paired)
        units = _difference(ua, ub, paired)
        rows.append({
            **dict(zip(keys, key, strict=True)),
            "base_demand_units": _mean(a["demand_units"].to_numpy(float)),
            "base_fill_rate": _mean(fa), "whatif_fill_rate": _mean(fb),
            "fill_rate_difference_pp": 100.0 * fill.mean,
            "base_patients_affected": _mean(pa), "whatif_patients_affected": _mean(pb),
            "patients_affected_difference": patients.mean,
            "ci95_low": patients.ci95[0], "ci95_high": patients.ci95[1],
            "unfilled_units_difference": units.mean, "n": patients.n, "paired": paired,
        })
    out = pd.DataFrame(rows, columns=cols)
    return sort_by_damage(out)


def sort_by_damage(table: pd.DataFrame) -> pd.DataFrame:
    """Largest increase in patients affected first; groups without a patient count after the
    rest, ordered by their change in units not shipped at once."""
    return table.sort_values(
        ["patients_affected_difference", "unfilled_units_difference"],
        ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def most_affected(table: pd.DataFrame, keys: Sequence[str] = ("site_id", "product_id")
                  ) -> tuple[str, ...] | None:
    """The group with the largest increase in patients affected (else in units not shipped at
    once) of a :func:`breakdown` table; when nothing got worse, the largest change either way.
    None for an empty table."""
    if table is None or table.empty:
        return None
    t = table
    score = t["patients_affected_difference"].where(
        t["patients_affected_difference"].notna(), t["unfilled_units_difference"])
    if not (score > 0).any():
        score = score.abs()
    if score.isna().all():
        return None
    row = t.loc[score.idxmax()]
    return tuple(str(row[k]) for k in keys)


def service(by_customer: pd.DataFrame, attributes: pd.DataFrame | None,
            by: str | Sequence[str]) -> pd.DataFrame:
    """One run's service per group of ``by``, means per replication: ``demand_units``,
    ``fill_rate``, ``unfilled_units``, ``lost_units``, ``patients_affected``, ``replications``;
    sorted by patients affected, most first."""
    keys = _keys(by)
    cols = [*keys, "demand_units", "fill_rate", "unfilled_units", "lost_units", "patients_affected", "replications"]
    t = impact_by_replication(by_customer, attributes, keys)
    if t.empty:
        return pd.DataFrame(columns=cols)
    groups = t[keys].drop_duplicates().reset_index(drop=True)
    t = _complete(t, keys, groups, sorted(set(t["replication"])))
    rows = []
    for key, g in t.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        patients = g["patients_affected"].to_numpy(float)
        rows.append({
            **dict(zip(keys, key, strict=True)),
            "demand_units": float(g["demand_units"].mean()),
            "fill_rate": _mean(g["fill_rate"].to_numpy(float)),
            "unfilled_units": float(g["unfilled_units"].mean()),
            "lost_units": float(g["lost_units"].mean()),
            "patients_affected": _mean(patients) if not np.isnan(patients).all() else _NAN,
            "replications": int(g["replication"].nunique()),
        })
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["patients_affected", "unfilled_units"], ascending=False,
                           na_position="last", kind="stable").reset_index(drop=True)
