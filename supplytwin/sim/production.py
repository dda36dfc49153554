"""Manufacturing and QC release at a producing site.

A :class:`Plant` owns the site's production lines (shared by every product it makes; a line
that switches product first loses the new product's changeover time) and its QC lab (a SimPy
resource with the lab's capacity). Batches are started make-to-stock by the finished-goods
policy of the site. Each batch:

1. consumes its bill-of-materials inputs from the site's own stock (FEFO, waiting until all
   inputs are there: an upstream shortage starves production);
2. waits for a free line, then occupies it for a cycle-time draw (stretched by capacity-loss
   disruptions; no batch starts during an outage or planned shutdown, and a batch that ends
   while the site is down waits for it to reopen);
3. yields ``batch size x min(1, yield draw)`` whole units as a new lot, manufactured at the end
   of the cycle: release delay consumes shelf life;
4. goes to quarantine, waits for the QC lab, is tested for a release-time draw, and is then
   released to stock or rejected with the batch failure probability (raised by QC spikes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import simpy

from supplytwin.sim.inventory import Request, Stockpoint
from supplytwin.sim.lots import Lot, Parcel

if TYPE_CHECKING:
    from supplytwin.sim.engine import Model


@dataclass(slots=True, eq=False)
class Line:
    number: int
    last_product_id: str | None = None


@dataclass(slots=True, eq=False)
class Batch:
    product_id: str
    planned_units: float
    output_units: float = 0.0
    lot: Lot | None = None
    qc_arrival_day: float = 0.0


@dataclass(slots=True, eq=False)
class _Staging:
    """Inputs of one batch being gathered; ``done`` fires when all units are there."""

    need_units: float
    done: simpy.Event
    model: Model
    site_id: str
    parcels: list[Parcel] = field(default_factory=list)
    got_units: float = 0.0

    def take(self, parcels: list[Parcel], units: float) -> None:
        self.parcels.extend(parcels)
        self.model.consume(parcels, self.site_id)
        self.got_units += units
        if self.got_units >= self.need_units - 1e-9:
            self.done.succeed()


@dataclass(eq=False)
class Plant:
    model: Model
    site_id: str
    in_qc: set[Batch] = field(default_factory=set)

    def __post_init__(self) -> None:
        env = self.model.env
        rows = [r for (s, _p), r in self.model.net.production.items() if s == self.site_id]
        n_lines = max(r.lines for r in rows)
        lab = max(r.qc_lab_capacity for r in rows)
        self.lines = simpy.Store(env, capacity=n_lines)
        self.lines.items.extend(Line(i) for i in range(n_lines))
        self.qc_lab = simpy.Resource(env, capacity=lab)
        self._lot_seq = 0

    def start_batches(self, product_id: str, n: int, planned_units: float, fg: Stockpoint) -> None:
        for _ in range(n):
            self.model.env.process(self._batch(product_id, planned_units, fg))

    def _streams(self, purpose: str, product_id: str):
        return self.model.streams.get(purpose, self.site_id, product_id)

    def _wait_production_up(self) -> Iterator[simpy.Event]:
        dis = self.model.dis
        while not dis.production_up(self.site_id):
            gate = dis.site_gate[self.site_id] if not dis.site_up(self.site_id) \
                else dis.production_gate[self.site_id]
            yield gate.wait_open()

    def _wait_site_up(self) -> Iterator[simpy.Event]:
        dis = self.model.dis
        while not dis.site_up(self.site_id):
            yield dis.site_gate[self.site_id].wait_open()

    def _batch(self, product_id: str, planned_units: float, fg: Stockpoint):
        m = self.model
        env = m.env
        row = m.net.production[(self.site_id, product_id)]
        # 1. inputs: the whole bill of materials is staged before the batch takes a line
        input_lots: list[str] = []
        for bom in m.net.bom.get((self.site_id, product_id), ()):
            staging = _Staging(bom.input_units_per_batch, env.event(), m, self.site_id)
            sp = m.stockpoints[(self.site_id, bom.input_product_id)]
            sp.request(Request(bom.input_units_per_batch, staging.take, is_consumption=True))
            if not staging.done.triggered:
                yield staging.done
            input_lots.extend(p.lot.lot_id for p in staging.parcels)
        # 2. a line
        yield from self._wait_production_up()
        line = yield self.lines.get()
        yield from self._wait_production_up()
        if line.last_product_id not in (None, product_id) and row.changeover_days > 0:
            yield env.timeout(row.changeover_days)
        line.last_product_id = product_id
        factor = m.dis.production_capacity_factor(self.site_id)
        while factor <= 0:
            yield env.timeout(1.0)
            factor = m.dis.production_capacity_factor(self.site_id)
        cycle = row.cycle_time_days.sample(self._streams("prod.cycle", product_id))
        yield env.timeout(cycle / factor)
        yield from self._wait_production_up()
        yield self.lines.put(line)
        # 3. output as a lot
        y = min(1.0, row.yield_frac.sample(self._streams("prod.yield", product_id)))
        output = float(math.floor(planned_units * y + 1e-9))
        self._lot_seq += 1
        lot = Lot(
            lot_id=f"{self.site_id}-{product_id}-{self._lot_seq:05d}",
            product_id=product_id,
            site_id=self.site_id,
            manufactured_day=env.now,
            expiry_day=env.now + m.net.products[product_id].shelf_life_days,
            inputs=tuple(dict.fromkeys(input_lots)),
        )
        batch = Batch(product_id, planned_units, output, lot, env.now)
        m.record_batch(self.site_id, product_id, row, output, lot)
        # 4. QC release
        self.in_qc.add(batch)
        with self.qc_lab.request() as slot:
            yield slot
            if m.recorder.counts(batch.qc_arrival_day):
                m.recorder.qc_waits_days.append(env.now - batch.qc_arrival_day)
            yield env.timeout(row.qc_release_days.sample(self._streams("qc.time", product_id)))
        yield from self._wait_site_up()
        self.in_qc.discard(batch)
        p_fail = m.dis.qc_failure_prob(self.site_id, product_id, row.batch_failure_prob)
        failed = self._streams("qc.fail", product_id).random() < p_fail
        fg.on_order_units -= planned_units
        if failed or output <= 0:
            m.record_rejection(self.site_id, product_id, output, lot, failed)
            fg.review()
        else:
            m.record_release(self.site_id, product_id, output, lot)
            fg.receive([Parcel(lot, output)])
