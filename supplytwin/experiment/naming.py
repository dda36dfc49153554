"""What-if names: a run with overrides is named after what it changes, not after its base.

A planner who runs the baseline with demand x1.2 and a hurricane switched on has run a
*what-if*; calling that run "baseline" hides it among the real baseline runs. This module
compares two resolved scenario documents (``Scenario.resolved``: the YAML chain with every
``--set`` applied) and returns

* :func:`describe_differences`: one :class:`Change` per difference, each with a short label
  (``demand×1.2``, ``hurricane-pr``, ``DC-EU/MAB.order_up_to_units=800``) and a sentence for
  people ("adds disruption hurricane-pr: site_outage of FF-PR-JUNCOS from day 259 for 42 days");
* :func:`whatif_name`: the base name joined with the labels,
  ``baseline+demand×1.2+hurricane-pr``. The order of the labels depends only on the changes
  (sorted by kind, then key), never on the order the overrides were typed in, so the same
  what-if always gets the same name.

Pure functions on plain dicts: the CLI, the experiment recorder and the dashboard all call
them, so a what-if has the same name everywhere. Settings that do not change what is
simulated (name, description, the number of replications) are not differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: top-level or dotted keys that do not change what is simulated
NOT_A_DIFFERENCE = frozenset({"name", "description", "extends", "simulation.replications"})

#: a what-if name longer than this keeps its first labels and says how many more there are
MAX_NAME_CHARS = 80

# the order in which kinds of change appear in a name: what a planner notices first
_ORDER = {"demand": 0, "disruption+": 1, "disruption-": 2, "disruption~": 3, "edit": 4,
          "setting": 5, "table": 6}


@dataclass(frozen=True)
class Change:
    """One difference between a base scenario and a what-if."""

    kind: str   # demand | disruption+ | disruption- | disruption~ | edit | setting | table
    key: str    # what changed, e.g. the disruption id or the dotted key
    label: str  # short, for names: "demand×1.2", "hurricane-pr", "horizon_days=90"
    text: str   # a sentence for people

    def sort_key(self) -> tuple[int, str, str]:
        return (_ORDER.get(self.kind, 9), self.key, self.label)


def _g(v: Any) -> str:
    """A value as a planner writes it: 1.2, 800, true, P1."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, Mapping):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _disruptions(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for i, d in enumerate(doc.get("disruptions") or []):
        if isinstance(d, Mapping):
            out[str(d.get("disruption_id") or f"#{i + 1}")] = dict(d)
    return out


def _target(d: Mapping[str, Any]) -> str:
    parts = [str(d[k]) for k in ("site_id", "lane_id", "mode", "product_id", "customer_id")
             if d.get(k)]
    return " ".join(parts) if parts else "the whole network"


def _window(d: Mapping[str, Any]) -> str:
    start, dur = d.get("start_day"), d.get("duration_days")
    if start is None or dur is None:
        return ""
    return f" from day {_g(start)} for {_g(dur)} days"


def _is_demand(d: Mapping[str, Any]) -> bool:
    return str(d.get("kind", "")) == "demand_surge" and d.get("magnitude") is not None


def _added(did: str, d: Mapping[str, Any]) -> Change:
    if _is_demand(d):
        m = _g(d["magnitude"])
        product = d.get("product_id")
        label = f"demand-{product}×{m}" if product else f"demand×{m}"
        who = f"of {product}" if product else "of every product"
        return Change("demand", f"{product or ''}", label,
                      f"demand {who} ×{m}{_window(d)}")
    magnitude = f", magnitude {_g(d['magnitude'])}" if d.get("magnitude") is not None else ""
    return Change("disruption+", did, did,
                  f"adds disruption {did}: {d.get('kind', '?')} of {_target(d)}{_window(d)}"
                  f"{magnitude}")


def _merge_demand(changes: list[Change], added: Mapping[str, Mapping[str, Any]]) -> list[Change]:
    """Demand surges of every product with the same multiplier read as one ``demand×M``."""
    demand = [d for d in added.values() if _is_demand(d)]
    products = [d.get("product_id") for d in demand]
    mags = {_g(d["magnitude"]) for d in demand}
    windows = {_window(d) for d in demand}
    if len(demand) > 1 and len(mags) == 1 and len(windows) == 1 and all(products):
        m = mags.pop()
        rest = [c for c in changes if c.kind != "demand"]
        return [Change("demand", "", f"demand×{m}",
                       f"demand of {', '.join(sorted(map(str, products)))} ×{m}"
                       f"{windows.pop()}"), *rest]
    return changes


def _edit_change(key: str, old: Any, new: Any) -> Change:
    # edits.TABLE.ROW_ID.FIELD; row ids may hold dots, so the field is the last part
    parts = key.split(".")
    table, field = parts[1] if len(parts) > 1 else "", parts[-1]
    row = ".".join(parts[2:-1])
    if table == "disruptions" and field == "enabled":
        on = new is True or str(new).lower() == "true"
        return Change("edit", key, f"{row}-{'on' if on else 'off'}",
                      f"disruption {row} switched {'on' if on else 'off'}")
    was = "" if old is None else f" (was {_g(old)})"
    return Change("edit", key, f"{row}.{field}={_g(new)}",
                  f"{field} of {table} row {row} set to {_g(new)}{was}")


def describe_differences(base: Mapping[str, Any], whatif: Mapping[str, Any],
                         base_files: Mapping[str, str] | None = None,
                         whatif_files: Mapping[str, str] | None = None) -> list[Change]:
    """Every difference between two resolved scenario documents, in a stable order.

    ``base_files``/``whatif_files`` (file name -> sha256, ``Scenario.file_hashes``) add a change
    for every data table whose content differs.
    """
    changes: list[Change] = []
    bd, wd = _disruptions(base), _disruptions(whatif)
    added = {k: v for k, v in wd.items() if k not in bd}
    changes += [_added(k, v) for k, v in added.items()]
    changes += [Change("disruption-", k, f"-{k}", f"removes disruption {k}")
                for k in bd if k not in wd]
    for k in (k for k in wd if k in bd and wd[k] != bd[k]):
        diffs = [f for f in sorted(set(bd[k]) | set(wd[k])) if bd[k].get(f) != wd[k].get(f)]
        if diffs == ["enabled"]:
            on = bool(wd[k].get("enabled"))
            changes.append(Change("disruption~", k, f"{k}-{'on' if on else 'off'}",
                                  f"disruption {k} switched {'on' if on else 'off'}"))
            continue
        changes.append(Change(
            "disruption~", k, f"{k}:" + ",".join(f"{f}={_g(wd[k].get(f))}" for f in diffs),
            f"disruption {k}: " + ", ".join(f"{f} {_g(bd[k].get(f))} → {_g(wd[k].get(f))}"
                                            for f in diffs)))
    changes = _merge_demand(changes, added)

    fb = {k: v for k, v in _flatten({k: v for k, v in base.items() if k != "disruptions"}).items()}
    fw = {k: v for k, v in _flatten({k: v for k, v in whatif.items() if k != "disruptions"}).items()}
    for key in sorted(set(fb) | set(fw)):
        old, new = fb.get(key), fw.get(key)
        if old == new or key in NOT_A_DIFFERENCE or key.split(".")[0] in NOT_A_DIFFERENCE:
            continue
        if key.startswith("edits."):
            changes.append(_edit_change(key, old, new))
        elif key.startswith("network."):
            continue  # table paths: their content is compared by hash below
        else:
            last = key.split(".")[-1]
            was = "" if old is None else f" (was {_g(old)})"
            changes.append(Change("setting", key, f"{last}={_g(new)}",
                                  f"{key} set to {_g(new)}{was}"))
    if base_files is not None and whatif_files is not None:
        for name in sorted(set(base_files) | set(whatif_files)):
            if name.endswith((".yaml", ".yml")):
                continue  # the scenario files themselves: their content is diffed above
            if base_files.get(name) != whatif_files.get(name):
                changes.append(Change("table", name, name.rsplit("/", 1)[-1].rsplit(".", 1)[0],
                                      f"data file {name} differs"))
    return sorted(changes, key=Change.sort_key)


def whatif_name(base_name: str, changes: Sequence[Change], max_chars: int = MAX_NAME_CHARS
                ) -> str:
    """``base+label+label…``; the base name alone when nothing differs.

    A name that would pass ``max_chars`` keeps as many labels as fit and ends in ``+N more``
    (the description holds them all).
    """
    labels = [c.label for c in changes]
    name = "+".join([base_name, *labels])
    if len(name) <= max_chars:
        return name
    kept: list[str] = []
    for i, label in enumerate(labels):
        more = f"+{len(labels) - i} more"
        if len("+".join([base_name, *kept, label])) + len(f"+{len(labels) - i - 1} more") \
                > max_chars:
            return "+".join([base_name, *kept]) + more
        kept.append(label)
    return name  # pragma: no cover - the loop returns once the name is too long


def describe(changes: Sequence[Change]) -> str:
    """The changes as one line of text: "demand of P1 ×1.2; adds disruption …"."""
    return "; ".join(c.text for c in changes) if changes else "no changes"
