"""Departure schedules of transport lanes.

A lane leaves ``daily`` (at the start of each day), ``every:N`` days, ``weekly:mon,thu``, or
``on_demand`` (each shipment leaves as soon as it is picked: a dedicated truck or courier). An
order ready at time *t* (in days) waits for the next departure at or after *t*; this is how a
weekly sailing makes a sea lane slower than its transit time alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: What the default means and which schedule to pick, said once for ``show``, the template and
#: the docs. The batching matters for service: on a ``daily`` lane the orders of one day share
#: one transit draw, so replenishments arrive in correlated clumps and a base-stock point fills
#: worse than one-for-one theory with i.i.d. lead times (which ``on_demand`` reproduces).
SCHEDULE_GUIDE = (
    "A lane's departure_schedule defaults to 'daily': orders picked during a day wait for the next "
    "departure and travel together, sharing one transit-time draw and one cold-chain outcome "
    "(right for trucks, trains, sailings and flights; use 'every:N' or 'weekly:...' for "
    "sparser ones). 'on_demand' sends each shipment alone as soon as it is picked, with its own "
    "transit-time draw and no capacity per departure (right for courier and parcel lanes fed "
    "one order at a time, and what one-for-one inventory theory with independent lead times "
    "assumes)."
)


@dataclass(frozen=True)
class Schedule:
    period_days: float  # 1 for daily, N for every:N, 7 for weekly, 0 for on_demand
    offsets_days: tuple[float, ...]  # departure offsets within a period, sorted

    def next_departure(self, t_days: float, day0_weekday: int = 0) -> float:
        """Earliest departure at or after ``t_days``. ``day0_weekday``: 0 = day 0 is a Monday."""
        if self.period_days == 0:
            return float(t_days)
        if self.period_days == 1 and self.offsets_days == (0.0,):
            return float(math.ceil(t_days - 1e-9))
        shift = day0_weekday if self.period_days == 7 else 0
        base = math.floor((t_days + shift) / self.period_days) * self.period_days
        for k in (0, 1):
            for off in self.offsets_days:
                dep = base + k * self.period_days + off - shift
                if dep >= t_days - 1e-9:
                    return float(dep)
        raise AssertionError("unreachable")  # pragma: no cover


def parse_schedule(text: str) -> Schedule:
    s = text.strip().lower()
    if s == "daily":
        return Schedule(1.0, (0.0,))
    if s == "on_demand":
        return Schedule(0.0, (0.0,))
    kind, _, arg = s.partition(":")
    if kind == "every":
        try:
            n = float(arg.rstrip("d"))
        except ValueError:
            raise ValueError(f"departure_schedule {text!r}: every:N needs a number of days") from None
        if not (n > 0 and math.isfinite(n)):
            raise ValueError(f"departure_schedule {text!r}: N must be > 0")
        return Schedule(n, (0.0,))
    if kind == "weekly":
        days = [d.strip()[:3] for d in arg.split(",") if d.strip()]
        bad = [d for d in days if d not in WEEKDAYS]
        if not days or bad:
            raise ValueError(
                f"departure_schedule {text!r}: weekly needs days such as weekly:mon,thu"
            )
        return Schedule(7.0, tuple(sorted({float(WEEKDAYS.index(d)) for d in days})))
    raise ValueError(
        f"departure_schedule {text!r}: write daily, on_demand, every:N or weekly:mon,thu"
    )
