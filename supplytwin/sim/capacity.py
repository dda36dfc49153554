"""A capacity per day, used first come first served: vendors' supply and sites' docks.

:class:`DailyCapacity` books units against a calendar of whole days (day d runs from time d to
d + 1). Work booked at time t starts on day floor(t) if that day has room left, else on the
first later day with room; a job larger than a day's room spills over the following days. Jobs
are served in the order they are booked, which is the order they arrive (the simulation clock
never goes back), so one counter for the day being filled is enough.
"""

from __future__ import annotations

import math


class DailyCapacity:
    __slots__ = ("_day", "_used_units", "units_per_day")

    def __init__(self, units_per_day: float):
        self.units_per_day = units_per_day
        self._day = -1  # the day whose capacity is being filled
        self._used_units = 0.0

    def book(self, now: float, units: float) -> list[tuple[float, float]]:
        """Book ``units`` at time ``now``: the (start time, units) parts, in order."""
        day = math.floor(now)
        if day > self._day:
            self._day, self._used_units = day, 0.0
        cap = self.units_per_day
        parts: list[tuple[float, float]] = []
        while units > 1e-9:
            room = cap - self._used_units
            if room <= 1e-9:
                self._day += 1
                self._used_units = 0.0
                continue
            take = min(units, room)
            parts.append((max(now, float(self._day)), take))
            self._used_units += take
            units -= take
        return parts

    def ready_time(self, now: float, units: float) -> float:
        """Book ``units`` at ``now``; the time their last part starts (``now`` if it fits)."""
        parts = self.book(now, units)
        return parts[-1][0] if parts else now
