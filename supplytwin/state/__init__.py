"""Snapshots as files: a folder of CSV tables that a planner exports from ERP/WMS/TMS.

The format is documented in ``docs/state-format.md``. :func:`read_snapshot` reads a folder and
checks it against the scenario it will run with, reporting every problem with file, row, field
and reason (exit code 2 in the CLI), like a scenario; :func:`write_snapshot` writes a
:class:`~supplytwin.model.snapshot.Snapshot` (a run's end state) in the same format, so one
run's end seeds the next.
"""

from supplytwin.state.snapshot_files import (
    SNAPSHOT_FILES,
    read_snapshot,
    snapshot_hashes,
    snapshot_tables,
    write_snapshot,
)

__all__ = ["SNAPSHOT_FILES", "read_snapshot", "snapshot_hashes", "snapshot_tables",
           "write_snapshot"]
