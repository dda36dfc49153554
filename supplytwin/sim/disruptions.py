"""Disruptions as time windows that open and close gates.

Each disruption (scheduled: ``start_day`` + ``duration_days``; random: alternating exponential
up-times with mean ``mtbf_days`` and repair times with mean ``mttr_days``, from its own random
stream) becomes a SimPy process that switches an effect on and off. Other processes ask
:class:`DisruptionState` what holds *now* (is this site down, by how much is this lane's
capacity cut, what multiplies this customer's demand) and wait on :class:`Gate` events to
resume when a site reopens or a lane opens again. Overlapping disruptions stack: a gate is shut
while any disruption holds it shut, multipliers multiply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import simpy

from supplytwin.model import DisruptionKind, DisruptionRow, Network
from supplytwin.stochastic import RandomStreams


class Gate:
    """Open unless at least one disruption holds it shut; processes can wait until it opens."""

    __slots__ = ("_closed_by", "_opened", "env", "is_open", "on_open")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self._closed_by = 0
        #: no disruption holds it shut (kept in step by close/open: read on every order)
        self.is_open = True
        self._opened: simpy.Event | None = None
        #: callbacks run when the gate opens (e.g. serve the backlog of a reopened site)
        self.on_open: list = []

    def close(self) -> None:
        self._closed_by += 1
        self.is_open = False

    def open(self) -> None:
        self._closed_by -= 1
        if self._closed_by == 0:
            self.is_open = True
            if self._opened is not None:
                ev, self._opened = self._opened, None
                ev.succeed()
            for callback in self.on_open:
                callback()

    def wait_open(self) -> simpy.Event:
        if self.is_open:
            ev = self.env.event()
            ev.succeed()
            return ev
        if self._opened is None:
            self._opened = self.env.event()
        return self._opened


class DisruptionState:
    """What the active disruptions do right now."""

    def __init__(self, env: simpy.Environment, network: Network, streams: RandomStreams,
                 log: Callable[[str, DisruptionRow, bool], None] | None = None):
        self.env = env
        self.net = network
        self.site_gate: dict[str, Gate] = {s: Gate(env) for s in network.sites}
        self.production_gate: dict[str, Gate] = {s: Gate(env) for s in network.sites}
        self.lane_gate: dict[str, Gate] = {l: Gate(env) for l in network.lanes}
        self._mult: dict[tuple[str, str], float] = defaultdict(lambda: 1.0)
        self._product: dict[tuple[str, str], float] = defaultdict(lambda: 1.0)
        self._zeros: dict[tuple[str, str], int] = defaultdict(int)
        self._qc_override: dict[tuple[str, str | None], list[float]] = defaultdict(list)
        self._log = log
        #: lanes whose transit some disruption can stretch (the others skip the delay factor)
        self.delayable_lanes: set[str] = {
            l for d in network.active_disruptions if d.kind == DisruptionKind.LANE_DELAY
            for l in self._lanes_of(d)}
        #: lanes whose excursion hazard some spike can raise (the others skip the factor)
        self.spikable_lanes: set[str] = {
            l for d in network.active_disruptions if d.kind == DisruptionKind.EXCURSION_SPIKE
            for l in (self._lanes_of(d) or list(network.lanes))}
        for d in network.active_disruptions:
            env.process(self._run(d, streams))

    # ---- queries --------------------------------------------------------------------------
    def site_up(self, site_id: str) -> bool:
        return self.site_gate[site_id].is_open

    def production_up(self, site_id: str) -> bool:
        return self.site_gate[site_id].is_open and self.production_gate[site_id].is_open

    def lane_open(self, lane_id: str) -> bool:
        return self.lane_gate[lane_id].is_open

    def production_capacity_factor(self, site_id: str) -> float:
        return self._mult[("site_capacity", site_id)]

    def lane_capacity_factor(self, lane_id: str) -> float:
        return self._mult[("lane_capacity", lane_id)]

    def lane_delay_factor(self, lane_id: str) -> float:
        return self._mult[("lane_delay", lane_id)]

    def excursion_factor(self, lane_id: str) -> float:
        return self._mult[("excursion", lane_id)]

    def demand_factor(self, customer_id: str, product_id: str) -> float:
        return (self._mult[("demand", "*")] * self._mult[("demand", customer_id)]
                * self._mult[("demand", product_id)] * self._mult[("demand", f"{customer_id}/{product_id}")])

    def qc_failure_prob(self, site_id: str, product_id: str, base: float) -> float:
        spikes = self._qc_override.get((site_id, None), []) + self._qc_override.get((site_id, product_id), [])
        return max([base, *spikes])

    # ---- mechanics ------------------------------------------------------------------------
    def _lanes_of(self, d: DisruptionRow) -> list[str]:
        if d.lane_id:
            return [d.lane_id]
        if d.mode:
            return [l.lane_id for l in self.net.lanes.values() if l.mode == d.mode]
        return []

    def _apply(self, d: DisruptionRow, on: bool) -> None:
        k = d.kind
        if k in (DisruptionKind.SITE_OUTAGE, DisruptionKind.SUPPLIER_FAILURE):
            gate = self.site_gate[d.site_id]
            gate.close() if on else gate.open()
        elif k == DisruptionKind.PLANNED_SHUTDOWN:
            gate = self.production_gate[d.site_id]
            gate.close() if on else gate.open()
        elif k == DisruptionKind.LANE_CLOSURE:
            for l in self._lanes_of(d):
                self.lane_gate[l].close() if on else self.lane_gate[l].open()
        elif k == DisruptionKind.CAPACITY_LOSS:
            factor = 1.0 - d.magnitude
            keys = [("lane_capacity", l) for l in self._lanes_of(d)]
            if d.site_id:
                keys.append(("site_capacity", d.site_id))
            for key in keys:
                self._scale(key, factor, on)
        elif k == DisruptionKind.LANE_DELAY:
            for l in self._lanes_of(d):
                self._scale(("lane_delay", l), d.magnitude, on)
        elif k == DisruptionKind.EXCURSION_SPIKE:
            lanes = self._lanes_of(d) or list(self.net.lanes)
            for l in lanes:
                self._scale(("excursion", l), d.magnitude, on)
        elif k == DisruptionKind.DEMAND_SURGE:
            if d.customer_id and d.product_id:
                key = f"{d.customer_id}/{d.product_id}"
            else:
                key = d.customer_id or d.product_id or "*"
            self._scale(("demand", key), d.magnitude, on)
        elif k == DisruptionKind.QC_FAILURE_SPIKE:
            lst = self._qc_override[(d.site_id, d.product_id)] if d.site_id else None
            targets = [lst] if lst is not None else [
                self._qc_override[(s, d.product_id)] for (s, _p) in self.net.production
            ]
            for t in targets:
                t.append(d.magnitude) if on else t.remove(d.magnitude)
        if self._log is not None:
            self._log(k.value, d, on)

    def _scale(self, key: tuple[str, str], factor: float, on: bool) -> None:
        # a total loss (factor 0) is counted apart, so that switching it off restores exactly
        # the product of the other factors still in force
        if factor == 0.0:
            self._zeros[key] += 1 if on else -1
        else:
            self._product[key] = self._product[key] * factor if on else self._product[key] / factor
        self._mult[key] = 0.0 if self._zeros[key] > 0 else self._product[key]

    def _run(self, d: DisruptionRow, streams: RandomStreams):
        env = self.env
        if not d.is_random:
            yield env.timeout(d.start_day)
            self._apply(d, True)
            yield env.timeout(d.duration_days)
            self._apply(d, False)
            return
        rng = streams.get("disruption", d.disruption_id)
        while True:
            yield env.timeout(rng.exponential(d.mtbf_days))
            self._apply(d, True)
            yield env.timeout(rng.exponential(d.mttr_days))
            self._apply(d, False)
