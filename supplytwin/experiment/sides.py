"""Sides of a run folder: how the scenarios kept together in one folder are named and addressed.

A comparison, a sweep and a stress battery each simulate several scenarios and keep them in one
run folder, under one run id. Each scenario is a *side* that opens in the dashboard like a run
of its own, so every writer and reader must agree on its name:

* the base (a comparison's or battery's first scenario, or a plain run): side ``""``; its
  tables carry no prefix (``kpis_summary.json``) and it is addressed as ``RUN_ID``;
* the *k*-th what-if (1-based, in the order of the comparison or battery): side ``whatifK``;
  tables ``whatifK_kpis_summary.json``, ...; addressed as ``RUN_ID@whatifK``;
* a sweep's *k*-th point (0-based): side ``pointKKK`` (three digits at least); tables
  ``pointKKK_...``; addressed as ``RUN_ID@pointKKK``.

A side's position among the folder's scenarios (manifest ``names`` / ``scenarios``) is its
number: 0 for the base, *k* for ``whatifK``.

Written once here and used by the experiment recorder, the stress battery's sides and the
dashboard, so the three cannot drift apart.
"""

from __future__ import annotations

import re

WHATIF = "whatif"
POINT = "point"

#: a valid side after ``@`` in a reference (a stress battery has up to 2,000 what-ifs)
SIDE_PATTERN = re.compile(r"whatif[1-9][0-9]{0,3}|point[0-9]{3,4}")


def whatif_side(k: int) -> str:
    """The side of the *k*-th what-if (1-based); ``k = 0`` is the base, side ``""``."""
    if k < 0:
        raise ValueError(f"a what-if number is 0 (the base) or more, not {k}")
    return f"{WHATIF}{k}" if k else ""


def point_side(k: int) -> str:
    """The side of a sweep's *k*-th point (0-based): ``point000``, ``point001``, ..."""
    if k < 0:
        raise ValueError(f"a sweep point number is 0 or more, not {k}")
    return f"{POINT}{k:03d}"


def table_prefix(side: str) -> str:
    """The prefix of a side's tables in the folder: ``""`` for the base, else ``SIDE_``."""
    return f"{side}_" if side else ""


def side_ref(run_id: str, side: str) -> str:
    """How a side is addressed: ``RUN_ID`` for the base, else ``RUN_ID@SIDE``."""
    return f"{run_id}@{side}" if side else run_id


def split_side_ref(ref: str) -> tuple[str, str]:
    """``(run_id, side)`` of ``RUN_ID`` or ``RUN_ID@SIDE``, unchecked (callers that take a
    reference from a user check the side against :data:`SIDE_PATTERN`)."""
    run_id, _, side = ref.partition("@")
    return run_id, side


def side_index(side: str) -> int:
    """The side's position among the folder's scenarios: 0 for the base, *k* for
    ``whatifK`` or ``pointK``."""
    if not side:
        return 0
    for kind in (WHATIF, POINT):
        if side.startswith(kind) and side[len(kind):].isdigit():
            return int(side[len(kind):])
    raise ValueError(f"{side!r} is not a side of a run folder")


def is_whatif(side: str) -> bool:
    return side.startswith(WHATIF)
