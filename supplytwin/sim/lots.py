"""Lots and parcels: the units the twin moves, with their dates and their cold-chain history.

Every batch becomes a :class:`Lot` (id, product, site of manufacture, manufacture day, expiry
day, the lots it was made from). A lot may be split across sites and shipments; each physical
part is a :class:`Parcel` with its own quantity and its own cumulative excursion hours, since
two halves of one lot can travel different lanes and suffer different excursions.

:class:`LotStock` holds the released parcels of one product at one site, kept in first-expiry-
first-out order: picking always takes the parcel that expires first among those that still
meet the shelf-life requirement of the order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

_INF = float("inf")


@dataclass(slots=True, eq=False)
class Lot:
    lot_id: str
    product_id: str
    site_id: str
    manufactured_day: float
    expiry_day: float
    inputs: tuple[str, ...] = ()  # lot ids consumed to make it (genealogy)


@dataclass(slots=True, eq=False)
class Parcel:
    lot: Lot
    quantity_units: float
    excursion_hours: float = 0.0

    def split(self, quantity_units: float) -> Parcel:
        """Take ``quantity_units`` out of this parcel into a new one (same lot and history)."""
        self.quantity_units -= quantity_units
        return Parcel(self.lot, quantity_units, self.excursion_hours)


@dataclass(eq=False)
class LotStock:
    """Released stock of one product at one site, sorted by expiry (FEFO)."""

    parcels: list[Parcel] = field(default_factory=list)
    _keys: list[tuple[float, int]] = field(default_factory=list)
    units: float = 0.0
    _seq: int = 0

    def add(self, parcel: Parcel) -> None:
        self._seq += 1
        key = (parcel.lot.expiry_day, self._seq)
        keys = self._keys
        if not keys or key > keys[-1]:  # the usual case: it expires last (no search)
            keys.append(key)
            self.parcels.append(parcel)
        else:
            i = bisect.bisect_right(keys, key)
            keys.insert(i, key)
            self.parcels.insert(i, parcel)
        self.units += parcel.quantity_units

    def available(self, min_expiry_day: float) -> float:
        """Units whose lot expires strictly after ``min_expiry_day``."""
        i = bisect.bisect_right(self._keys, (min_expiry_day, _INF))
        if i == 0:
            return self.units
        return self.units - sum(p.quantity_units for p in self.parcels[:i])

    def pick(self, quantity_units: float, min_expiry_day: float) -> tuple[list[Parcel], float]:
        """Remove up to ``quantity_units`` FEFO from lots expiring after ``min_expiry_day``.

        Returns the parcels taken and their total (the hot path of every order: the caller
        needs both, so the total is not summed twice)."""
        keys = self._keys
        if not keys:
            return [], 0.0
        # the usual case: the first-expiring parcel already meets the shelf-life requirement
        i = 0 if keys[0][0] > min_expiry_day else bisect.bisect_right(
            keys, (min_expiry_day, _INF))
        parcels = self.parcels
        if i == 0 and quantity_units > 1e-9:
            first = parcels[0]
            if first.quantity_units > quantity_units + 1e-9:
                # the usual case: the first parcel covers the order with units to spare (what
                # the loop below does in its first turn, without the loop)
                self.units -= quantity_units
                if abs(self.units) < 1e-9:
                    self.units = 0.0
                return [first.split(quantity_units)], quantity_units
        n = len(parcels)
        out: list[Parcel] = []
        need = quantity_units
        taken = 0.0
        while need > 1e-9 and i < n:
            p = parcels[i]
            q = p.quantity_units
            if q <= need + 1e-9:
                out.append(p)
                need -= q
                taken += q
                del parcels[i]
                del keys[i]
                n -= 1
            else:
                out.append(p.split(need))
                taken += need
                need = 0.0
        if out:
            self.units -= taken
            if abs(self.units) < 1e-9:
                self.units = 0.0
        return out, taken

    def remove_expired(self, now_day: float) -> list[Parcel]:
        """Take out every parcel whose lot has expired (expiry_day <= now)."""
        keys = self._keys
        if not keys or keys[0][0] > now_day:
            return []
        i = bisect.bisect_right(keys, (now_day, _INF))
        gone = self.parcels[:i]
        del self.parcels[:i]
        del self._keys[:i]
        self.units -= sum(p.quantity_units for p in gone)
        if abs(self.units) < 1e-9:
            self.units = 0.0
        return gone

    @property
    def next_expiry_day(self) -> float | None:
        return self._keys[0][0] if self._keys else None
