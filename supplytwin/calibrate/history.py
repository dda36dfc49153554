"""Shipment and order histories: read any CSV through a column map, clean it, say what was dropped.

Real histories are exported from ERP, TMS or procurement systems with their own column names and
with text where numbers and dates should be ("Date Not Captured", "Pre-PQ Process", "See
DN-304 (ID#:10589)", "Freight Included in Commodity Cost"). A planner names the columns with a
map ``{csv column: field}``; every row that cannot be used is dropped with a counted reason, so a
fit report can say exactly what the data could and could not support.

Shipment fields (``SHIPMENT_FIELDS``): ``origin`` (optional), ``destination``, ``mode``,
``ship_date``, ``scheduled_date`` (optional: on-time rates need it), ``delivered_date``,
``quantity`` (optional). Derived: ``transit_days`` = delivered - ship (days, > 0),
``delay_days`` = delivered - scheduled, ``on_time`` = delivered no later than scheduled
(+ a tolerance).

Order fields (``ORDER_FIELDS``): ``customer``, ``product``, ``order_date``, ``quantity``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from supplytwin.errors import Problem, ScenarioError

#: shipment fields: name -> required
SHIPMENT_FIELDS: dict[str, bool] = {
    "origin": False, "destination": True, "mode": True, "ship_date": True,
    "scheduled_date": False, "delivered_date": True, "quantity": False,
}
#: order fields: name -> required
ORDER_FIELDS: dict[str, bool] = {
    "customer": True, "product": True, "order_date": True, "quantity": False,
}

#: The USAID SCMS delivery history (data/scms): lead time from the purchase order sent to the
#: vendor to delivery at the client, by destination country and shipment mode.
SCMS_SHIPMENT_MAP: dict[str, str] = {
    "Country": "destination",
    "Shipment Mode": "mode",
    "PO Sent to Vendor Date": "ship_date",
    "Scheduled Delivery Date": "scheduled_date",
    "Delivered to Client Date": "delivered_date",
    "Line Item Quantity": "quantity",
}
#: SCMS line items as orders: a country orders a product group for a scheduled delivery date.
SCMS_ORDER_MAP: dict[str, str] = {
    "Country": "customer",
    "Product Group": "product",
    "Scheduled Delivery Date": "order_date",
    "Line Item Quantity": "quantity",
}

#: Shipment-mode words of common exports -> the scenario's lane modes.
MODE_WORDS: dict[str, str] = {
    "air": "air", "air charter": "air", "airfreight": "air", "air freight": "air",
    "truck": "road", "road": "road", "lorry": "road", "ground": "road",
    "ocean": "sea", "sea": "sea", "sea freight": "sea", "vessel": "sea",
    "rail": "rail", "train": "rail", "courier": "courier", "express": "courier",
    "parcel": "courier",
}

#: refuse histories larger than this (rows): a shipment history of a network is far smaller
MAX_ROWS = 5_000_000
#: refuse files larger than this (bytes) before reading them
MAX_BYTES = 2 * 1024**3


@dataclass
class CleaningReport:
    """Rows read, kept, and dropped per reason (with the commonest offending values)."""

    source: str
    sha256: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, Counter] = field(default_factory=dict)

    def drop(self, reason: str, values: pd.Series) -> None:
        n = len(values)
        if not n:
            return
        self.dropped[reason] += n
        ex = self.examples.setdefault(reason, Counter())
        ex.update(str(v) for v in values.head(10_000))

    def as_dict(self) -> dict:
        return {
            "source": self.source, "sha256": self.sha256, "rows_read": self.rows_read,
            "rows_kept": self.rows_kept, "dropped": dict(self.dropped),
            "examples": {k: [v for v, _ in c.most_common(3)] for k, c in self.examples.items()},
        }


def parse_map(items: list[str] | None, fields: dict[str, bool], *,
              preset: dict[str, str] | None = None) -> dict[str, str]:
    """``["Country=destination", …]`` -> ``{"Country": "destination"}``, checked against
    ``fields``; entries override ``preset``. Raises :class:`ScenarioError` listing every
    problem."""
    mapping = dict(preset or {})
    problems = []
    for item in items or []:
        column, sep, name = item.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column or not name:
            problems.append(Problem("--map", field=item, reason="write COLUMN=FIELD"))
            continue
        if name not in fields:
            problems.append(Problem("--map", field=item, reason=(
                f"unknown field {name!r}; fields are {', '.join(fields)}")))
            continue
        for col in [c for c, f in mapping.items() if f == name]:
            del mapping[col]  # the new column replaces the preset's for this field
        mapping[column] = name
    missing = [f for f, req in fields.items() if req and f not in mapping.values()]
    if missing:
        problems.append(Problem("--map", reason=(
            f"no column mapped to {', '.join(missing)} (add --map COLUMN={missing[0]})")))
    if problems:
        raise ScenarioError(problems)
    return mapping


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_csv(path: Path, mapping: dict[str, str]) -> tuple[pd.DataFrame, CleaningReport]:
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Problem(str(path), reason="not a regular file")])
    if path.stat().st_size > MAX_BYTES:
        raise ScenarioError([Problem(str(path), reason=(
            f"file larger than {MAX_BYTES / 1024**3:.0f} GiB; split the history by period"))])
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), reason=f"cannot read as CSV: {exc}")]) from None
    absent = [c for c in mapping if c not in header.columns]
    if absent:
        raise ScenarioError([Problem(str(path), field=c, reason=(
            "no such column; columns are " + ", ".join(map(str, header.columns[:40]))))
            for c in absent])
    raw = pd.read_csv(path, usecols=list(mapping), dtype=str, encoding="utf-8-sig",
                      keep_default_na=False, nrows=MAX_ROWS + 1)
    if len(raw) > MAX_ROWS:
        raise ScenarioError([Problem(str(path), reason=f"more than {MAX_ROWS:,} rows")])
    report = CleaningReport(str(path), _sha256(path), rows_read=len(raw))
    return raw.rename(columns=mapping), report


def _dates(values: pd.Series) -> pd.Series:
    text = values.str.strip()
    out = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=False)
    return out.where(text != "")


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.str.replace(",", "", regex=False).str.strip(), errors="coerce")


def read_shipments(path: str | Path, mapping: dict[str, str], *,
                   on_time_tolerance_days: float = 0.0) -> tuple[pd.DataFrame, CleaningReport]:
    """A clean shipment table (one row per usable shipment) and what was dropped.

    Columns: origin, destination, mode (as written, stripped), lane_mode (the scenario's mode),
    ship_date, scheduled_date, delivered_date, quantity, transit_days, delay_days, on_time.
    """
    raw, report = _read_csv(Path(path), mapping)
    df = pd.DataFrame(index=raw.index)
    df["origin"] = raw["origin"].str.strip() if "origin" in raw else ""
    df["destination"] = raw["destination"].str.strip()
    df["mode"] = raw["mode"].str.strip()
    df["lane_mode"] = df["mode"].str.lower().map(MODE_WORDS)
    for f in ("ship_date", "scheduled_date", "delivered_date"):
        df[f] = _dates(raw[f]) if f in raw else pd.NaT
    df["quantity"] = _numbers(raw["quantity"]) if "quantity" in raw else np.nan

    def drop(mask: pd.Series, reason: str, values: pd.Series) -> None:
        nonlocal df
        report.drop(reason, values.loc[mask[mask].index])
        df = df[~mask]

    drop(df["destination"] == "", "destination empty", raw["destination"])
    drop(df["mode"] == "", "mode empty", raw["mode"])
    drop(df["lane_mode"].isna(), "mode not a known transport mode", raw["mode"])
    drop(df["ship_date"].isna(), "ship date not a date", raw["ship_date"])
    drop(df["delivered_date"].isna(), "delivered date not a date", raw["delivered_date"])
    df["transit_days"] = (df["delivered_date"] - df["ship_date"]).dt.total_seconds() / 86400.0
    drop(df["transit_days"] <= 0, "delivered on or before the ship date",
         df["transit_days"].astype(str))
    df["delay_days"] = (df["delivered_date"] - df["scheduled_date"]).dt.total_seconds() / 86400.0
    df["on_time"] = (df["delay_days"] <= on_time_tolerance_days).where(df["delay_days"].notna())
    report.rows_kept = len(df)
    return df.reset_index(drop=True), report


def read_orders(path: str | Path, mapping: dict[str, str]) -> tuple[pd.DataFrame, CleaningReport]:
    """A clean order table: customer, product, order_date, quantity (1 where not mapped)."""
    raw, report = _read_csv(Path(path), mapping)
    df = pd.DataFrame(index=raw.index)
    df["customer"] = raw["customer"].str.strip()
    df["product"] = raw["product"].str.strip()
    df["order_date"] = _dates(raw["order_date"])
    df["quantity"] = _numbers(raw["quantity"]) if "quantity" in raw else 1.0

    def drop(mask: pd.Series, reason: str, values: pd.Series) -> None:
        nonlocal df
        report.drop(reason, values.loc[mask[mask].index])
        df = df[~mask]

    drop(df["customer"] == "", "customer empty", raw["customer"])
    drop(df["product"] == "", "product empty", raw["product"])
    drop(df["order_date"].isna(), "order date not a date", raw["order_date"])
    q = df["quantity"]
    drop(q.isna() | ~np.isfinite(q) | (q <= 0), "quantity not a positive number",
         raw["quantity"] if "quantity" in raw else q.astype(str))
    report.rows_kept = len(df)
    return df.reset_index(drop=True), report
