"""Reading, checking and writing the CSV folder of a snapshot.

Files (all but ``snapshot.csv`` optional; a missing table is empty):

- ``snapshot.csv``: one row, ``snapshot_date`` (and optional ``source``);
- ``on_hand.csv``: site_id, product_id, lot_id, quantity_units, manufacture_date, expiry_date,
  status (released | quarantine), release_date (quarantine only, optional), excursion_hours;
- ``in_transit.csv``: shipment_id, lane_id, product_id, lot_id, quantity_units,
  manufacture_date, expiry_date, status (in_transit | awaiting_departure), departure_date,
  expected_arrival_date, order_id (deliveries to customers), excursion_hours;
- ``open_orders.csv``: order_id, customer_id, product_id, quantity_units, order_date, due_date;
- ``sites_down.csv``: site_id, down_until_date.

Dates are ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (end states of simulated runs carry times).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from supplytwin.errors import Problem, ScenarioError
from supplytwin.model import Scenario
from supplytwin.model.snapshot import (
    AWAITING_DEPARTURE,
    IN_TRANSIT,
    QUARANTINE,
    RELEASED,
    LotRecord,
    OpenOrder,
    SiteDown,
    Snapshot,
    TransitRecord,
)

#: file -> (required columns, optional columns)
SNAPSHOT_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "snapshot.csv": (("snapshot_date",), ("source",)),
    "on_hand.csv": (("site_id", "product_id", "lot_id", "quantity_units", "manufacture_date",
                     "expiry_date"), ("status", "release_date", "excursion_hours")),
    "in_transit.csv": (("shipment_id", "lane_id", "product_id", "lot_id", "quantity_units",
                        "manufacture_date", "expiry_date"),
                       ("status", "departure_date", "expected_arrival_date", "order_id",
                        "excursion_hours")),
    "open_orders.csv": (("order_id", "customer_id", "product_id", "quantity_units", "order_date",
                         "due_date"), ()),
    "sites_down.csv": (("site_id", "down_until_date"), ()),
}
#: refuse tables longer than this: no real network's snapshot has more rows
MAX_ROWS = 2_000_000
MAX_BYTES = 512 * 1024**2


class _Reader:
    """Collects problems while converting cells; a bad cell gives a problem and a None."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []

    def problem(self, file: str, row: int | None, field: str, reason: str) -> None:
        self.problems.append(Problem(str(self.folder / file), row=row, field=field, reason=reason))

    def table(self, name: str) -> pd.DataFrame | None:
        path = self.folder / name
        required, optional = SNAPSHOT_FILES[name]
        if not path.exists():
            if name == "snapshot.csv":
                self.problem(name, None, "", "missing: a snapshot needs its date "
                             "(snapshot.csv with a snapshot_date column)")
            return None
        if not path.is_file():
            self.problem(name, None, "", "not a regular file")
            return None
        if path.stat().st_size > MAX_BYTES:
            self.problem(name, None, "", f"larger than {MAX_BYTES // 1024**2} MiB")
            return None
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1,
                             encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            df = pd.DataFrame(columns=list(required))
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            self.problem(name, None, "", f"cannot read as CSV: {' '.join(str(exc).split())}")
            return None
        if len(df) > MAX_ROWS:
            self.problem(name, None, "", f"more than {MAX_ROWS:,} rows")
            return None
        known = set(required) | set(optional)
        for c in df.columns:
            if c not in known:
                self.problem(name, None, c, "unknown column; columns are "
                             + ", ".join((*required, *optional)))
        for c in required:
            if c not in df.columns:
                self.problem(name, None, c, "missing column")
        if any(c not in df.columns for c in required):
            return None
        return df.apply(lambda col: col.str.strip())

    def number(self, file, row, field, text, *, positive=False) -> float | None:
        if text == "":
            if positive:
                self.problem(file, row, field, "empty; a quantity is needed")
            return None
        try:
            x = float(text)
        except ValueError:
            self.problem(file, row, field, f"{text!r} is not a number")
            return None
        if not math.isfinite(x):
            self.problem(file, row, field, "must be a finite number")
            return None
        if x < 0 or (positive and x <= 0):
            self.problem(file, row, field, "must be > 0" if positive else "must be >= 0")
            return None
        if x > 1e12:
            self.problem(file, row, field, "larger than any real stock (> 1e12)")
            return None
        return x

    def when(self, file, row, field, text, *, required=True) -> datetime | None:
        if text == "":
            if required:
                self.problem(file, row, field, "empty; a date is needed (YYYY-MM-DD)")
            return None
        for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        self.problem(file, row, field, f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
        return None


def _days(t: datetime | None, day0: datetime) -> float | None:
    return None if t is None else (t - day0).total_seconds() / 86400.0


def read_snapshot(folder: str | Path, scenario: Scenario) -> Snapshot:
    """Read and check the snapshot in ``folder`` against ``scenario``'s network."""
    folder = Path(folder)
    r = _Reader(folder)
    if not folder.is_dir():
        raise ScenarioError([Problem(str(folder), reason="not a folder of snapshot tables")])
    net = scenario.network
    meta = r.table("snapshot.csv")
    snap_date = None
    if meta is not None:
        if len(meta) != 1:
            r.problem("snapshot.csv", None, "snapshot_date", f"one row expected, found {len(meta)}")
        elif (t := r.when("snapshot.csv", 1, "snapshot_date", meta["snapshot_date"].iloc[0])):
            snap_date = t.date()
    if snap_date is None:
        raise ScenarioError(r.problems)
    day0 = datetime.combine(snap_date, datetime.min.time())
    open_sites = {s for s, row in net.sites.items() if row.is_open}
    stockpoints = {k for k in net.policies if k[0] in open_sites}
    lots: dict[str, tuple[str, float, float, str, int]] = {}

    def check_lot(file, i, lot_id, product, mday, eday) -> None:
        seen = lots.setdefault(lot_id, (product, mday, eday, file, i))
        if seen[0] != product:
            r.problem(file, i, "lot_id", f"lot {lot_id} is product {seen[0]} in {seen[3]} row "
                      f"{seen[4]}, not {product}")
        elif (seen[1], seen[2]) != (mday, eday):
            r.problem(file, i, "lot_id", f"lot {lot_id} has other manufacture/expiry dates in "
                      f"{seen[3]} row {seen[4]}")

    def lot_dates(file, i, row, product):
        m = r.when(file, i, "manufacture_date", row["manufacture_date"])
        e = r.when(file, i, "expiry_date", row["expiry_date"])
        if m is None or e is None:
            return None, None
        if e <= m:
            r.problem(file, i, "expiry_date", "expiry on or before manufacture")
            return None, None
        if m > day0 + timedelta(days=1):
            r.problem(file, i, "manufacture_date", "after the snapshot date")
        return _days(m, day0), _days(e, day0)

    on_hand: list[LotRecord] = []
    if (df := r.table("on_hand.csv")) is not None:
        f = "on_hand.csv"
        for i, row in enumerate(df.to_dict("records"), start=1):
            site, product = row["site_id"], row["product_id"]
            ok = True
            if site not in net.sites:
                r.problem(f, i, "site_id", f"unknown site {site!r}")
                ok = False
            if product not in net.products:
                r.problem(f, i, "product_id", f"unknown product {product!r}")
                ok = False
            if ok and (site, product) not in stockpoints:
                r.problem(f, i, "product_id", f"{site} does not stock {product} in this scenario "
                          "(no policy row, or the site is closed)")
            q = r.number(f, i, "quantity_units", row["quantity_units"], positive=True)
            mday, eday = lot_dates(f, i, row, product)
            status = row.get("status", "") or RELEASED
            if status not in (RELEASED, QUARANTINE):
                r.problem(f, i, "status", f"{status!r}: write released or quarantine")
            rel = r.when(f, i, "release_date", row.get("release_date", ""), required=False)
            if rel is not None and status != QUARANTINE:
                r.problem(f, i, "release_date", "only quarantined lots have a release date")
            if eday is not None and eday <= 0 and status == RELEASED:
                r.problem(f, i, "expiry_date", "expired stock marked released (expired on or "
                          "before the snapshot date): write it off, or mark it quarantine")
            exc = r.number(f, i, "excursion_hours", row.get("excursion_hours", "")) or 0.0
            if mday is not None:
                check_lot(f, i, row["lot_id"], product, mday, eday)
            if None not in (q, mday, eday) and ok:
                on_hand.append(LotRecord(site, product, row["lot_id"], q, mday, eday, status,
                                         _days(rel, day0), exc))

    transit: list[TransitRecord] = []
    if (df := r.table("in_transit.csv")) is not None:
        f = "in_transit.csv"
        first_of: dict[str, tuple] = {}
        for i, row in enumerate(df.to_dict("records"), start=1):
            lane_id, product = row["lane_id"], row["product_id"]
            lane = net.lanes.get(lane_id)
            ok = True
            if lane is None:
                r.problem(f, i, "lane_id", f"unknown lane {lane_id!r}")
                ok = False
            elif lane.origin_id not in open_sites or lane.destination_id not in open_sites:
                r.problem(f, i, "lane_id", "the lane links a closed site in this scenario")
                ok = False
            if product not in net.products:
                r.problem(f, i, "product_id", f"unknown product {product!r}")
                ok = False
            if ok and not net.lane_can_carry(lane, product):
                r.problem(f, i, "product_id", f"{lane_id} cannot carry {product} (packaging or "
                          "mode does not hold its temperature class)")
            if ok and (lane.destination_id, product) not in stockpoints and \
                    (lane.destination_id, product) not in net.demand:
                r.problem(f, i, "lane_id", f"{lane.destination_id} neither stocks nor orders "
                          f"{product}")
                ok = False
            q = r.number(f, i, "quantity_units", row["quantity_units"], positive=True)
            mday, eday = lot_dates(f, i, row, product)
            status = row.get("status", "") or IN_TRANSIT
            if status not in (IN_TRANSIT, AWAITING_DEPARTURE):
                r.problem(f, i, "status", f"{status!r}: write in_transit or awaiting_departure")
            dep = r.when(f, i, "departure_date", row.get("departure_date", ""),
                         required=status == IN_TRANSIT)
            arr = r.when(f, i, "expected_arrival_date", row.get("expected_arrival_date", ""),
                         required=status == IN_TRANSIT)
            if dep is not None and arr is not None and arr < dep:
                r.problem(f, i, "expected_arrival_date", "arrival before departure")
            if dep is not None and dep > day0 + timedelta(days=1e-9) and status == IN_TRANSIT:
                r.problem(f, i, "departure_date", "after the snapshot date: a shipment that has "
                          "not left is awaiting_departure")
            exc = r.number(f, i, "excursion_hours", row.get("excursion_hours", "")) or 0.0
            key = (lane_id, product, status, row.get("departure_date", ""),
                   row.get("expected_arrival_date", ""), row.get("order_id", ""))
            sid = row["shipment_id"]
            if first_of.setdefault(sid, (key, i))[0] != key:
                r.problem(f, i, "shipment_id", f"rows of shipment {sid} disagree on lane, product, "
                          f"status, dates or order (row {first_of[sid][1]})")
            if mday is not None:
                check_lot(f, i, row["lot_id"], product, mday, eday)
            if ok and None not in (q, mday, eday):
                transit.append(TransitRecord(sid, lane_id, product, row["lot_id"], q, mday, eday,
                                             status, _days(dep, day0), _days(arr, day0),
                                             row.get("order_id") or None, exc))

    orders: list[OpenOrder] = []
    if (df := r.table("open_orders.csv")) is not None:
        f = "open_orders.csv"
        for i, row in enumerate(df.to_dict("records"), start=1):
            cust, product = row["customer_id"], row["product_id"]
            if (cust, product) not in net.demand:
                r.problem(f, i, "customer_id", f"no demand stream {cust}/{product} in the "
                          "scenario: the twin cannot tell which stock point serves it")
                continue
            q = r.number(f, i, "quantity_units", row["quantity_units"], positive=True)
            od = r.when(f, i, "order_date", row["order_date"])
            dd = r.when(f, i, "due_date", row["due_date"])
            if od is not None and od > day0 + timedelta(days=1e-9):
                r.problem(f, i, "order_date", "after the snapshot date")
            if od is not None and dd is not None and dd < od:
                r.problem(f, i, "due_date", "due before it was ordered")
            if None not in (q, od, dd):
                orders.append(OpenOrder(row["order_id"], cust, product, q, _days(od, day0),
                                        _days(dd, day0)))

    down: list[SiteDown] = []
    if (df := r.table("sites_down.csv")) is not None:
        f = "sites_down.csv"
        for i, row in enumerate(df.to_dict("records"), start=1):
            if row["site_id"] not in net.sites:
                r.problem(f, i, "site_id", f"unknown site {row['site_id']!r}")
                continue
            until = r.when(f, i, "down_until_date", row["down_until_date"])
            if until is not None:
                down.append(SiteDown(row["site_id"], _days(until, day0)))

    if r.problems:
        raise ScenarioError(r.problems)
    return Snapshot(snap_date, tuple(on_hand), tuple(transit), tuple(orders), tuple(down),
                    provenance={"folder": str(folder), "snapshot_date": snap_date.isoformat(),
                                "file_sha256": snapshot_hashes(folder)})


def snapshot_hashes(folder: Path) -> dict[str, str]:
    out = {}
    for name in SNAPSHOT_FILES:
        p = Path(folder) / name
        if p.is_file():
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _date_text(day0: datetime, days: float | None) -> str:
    if days is None:
        return ""
    t = day0 + timedelta(days=days)
    t = t.replace(second=0, microsecond=0) + timedelta(minutes=round(t.second / 60))
    if t.hour == 0 and t.minute == 0:
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%dT%H:%M")


def snapshot_tables(snap: Snapshot) -> dict[str, pd.DataFrame]:
    """The snapshot as the tables of its folder."""
    day0 = datetime.combine(snap.snapshot_date, datetime.min.time())

    def d(days):
        return _date_text(day0, days)

    def q(x: float) -> str:
        return f"{x:.10g}"

    tables = {
        "snapshot.csv": pd.DataFrame([{"snapshot_date": snap.snapshot_date.isoformat(),
                                       "source": snap.provenance.get("source", "")}]),
        "on_hand.csv": pd.DataFrame([{
            "site_id": r.site_id, "product_id": r.product_id, "lot_id": r.lot_id,
            "quantity_units": q(r.quantity_units), "manufacture_date": d(r.manufactured_day),
            "expiry_date": d(r.expiry_day), "status": r.status, "release_date": d(r.release_day),
            "excursion_hours": q(r.excursion_hours)} for r in snap.on_hand]),
        "in_transit.csv": pd.DataFrame([{
            "shipment_id": r.shipment_id, "lane_id": r.lane_id, "product_id": r.product_id,
            "lot_id": r.lot_id, "quantity_units": q(r.quantity_units),
            "manufacture_date": d(r.manufactured_day), "expiry_date": d(r.expiry_day),
            "status": r.status, "departure_date": d(r.departure_day),
            "expected_arrival_date": d(r.arrival_day), "order_id": r.order_id or "",
            "excursion_hours": q(r.excursion_hours)} for r in snap.in_transit]),
        "open_orders.csv": pd.DataFrame([{
            "order_id": r.order_id, "customer_id": r.customer_id, "product_id": r.product_id,
            "quantity_units": q(r.quantity_units), "order_date": d(r.order_day),
            "due_date": d(r.due_day)} for r in snap.open_orders]),
        "sites_down.csv": pd.DataFrame([{"site_id": r.site_id,
                                         "down_until_date": d(r.until_day)}
                                        for r in snap.sites_down]),
    }
    for name, df in tables.items():  # empty tables still carry their header
        if df.empty:
            req, opt = SNAPSHOT_FILES[name]
            tables[name] = pd.DataFrame(columns=[*req, *opt])
    return tables


def write_snapshot(folder: str | Path, snap: Snapshot) -> Path:
    """Write ``snap`` as CSV tables into ``folder`` (created; files replaced)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in snapshot_tables(snap).items():
        df.to_csv(folder / name, index=False, lineterminator="\n")
    return folder

