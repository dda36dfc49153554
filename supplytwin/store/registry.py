"""The run registry: every run, comparison and sweep, findable later, in an embedded SQLite file.

``RUNS_DIR/registry.sqlite`` has one row per run with its lineage (scenario name, file, sha256
of the scenario and of every data file, package version, seed, replications, executor), a KPI
summary and the path of its artefacts. ``replications`` counts the replications per scenario (a comparison of a base and one what-if
at 30 replications is recorded as 30). A run is registered as ``running`` before it starts and
switched to ``complete`` in one transaction after its artefacts folder has been renamed into
place, so the registry never points at a half-written folder. A run killed half-way stays
``running`` with the pid that owned it; readers report it as ``interrupted`` once that process
is gone, and ``supplytwin run --resume ID`` continues it from the replications it finished.

Schema versions (``PRAGMA user_version``), applied by :func:`migrate` when a registry is opened,
so a registry written by an older supplytwin keeps working (its old rows read as before):

1. the original table;
2. ``base_name`` (the scenario a what-if starts from) and ``differences`` (JSON list of
   ``{"label", "text"}``, what the run changes from its base; see
   :mod:`supplytwin.experiment.naming`). ``scenario_name`` of a what-if is its what-if name
   (``baseline+demand×1.2+hurricane-pr``); of a comparison, the what-if(s) compared.

RUNS_DIR is ``./runs`` unless ``--runs-dir`` or the ``SUPPLYTWIN_RUNS_DIR`` environment
variable says otherwise.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supplytwin.errors import SupplytwinError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    finished_at     TEXT,
    scenario_name   TEXT,
    scenario_file   TEXT,
    scenario_sha256 TEXT,
    data_sha256     TEXT,
    version         TEXT,
    seed            INTEGER,
    replications    INTEGER,
    executor        TEXT,
    kpi_summary     TEXT,
    artefacts       TEXT,
    pid             INTEGER,
    host            TEXT,
    command         TEXT,
    params          TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
"""

#: columns added after version 1, in the order of the migrations that add them
ADDED_COLUMNS = (("base_name", "TEXT"), ("differences", "TEXT"))
SCHEMA_VERSION = 2

COLUMNS = ("run_id", "kind", "status", "created_at", "finished_at", "scenario_name",
           "scenario_file", "scenario_sha256", "data_sha256", "version", "seed", "replications",
           "executor", "kpi_summary", "artefacts", "pid", "host", "command", "params",
           *(c for c, _ in ADDED_COLUMNS))
JSON_COLUMNS = ("data_sha256", "kpi_summary", "params", "differences")


def migrate(con: sqlite3.Connection) -> None:
    """Bring an open registry to :data:`SCHEMA_VERSION`: create the table if missing, add the
    columns of later versions (old rows get NULL there), record the version. Idempotent, and
    safe when two processes open an old registry at once (a column another process added
    in the meantime is skipped)."""
    con.executescript(SCHEMA)
    have = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
    for column, sqltype in ADDED_COLUMNS:
        if column not in have:
            try:
                con.execute(f"ALTER TABLE runs ADD COLUMN {column} {sqltype}")
            except sqlite3.OperationalError as exc:  # added by a concurrent opener
                if "duplicate column" not in str(exc):
                    raise
    if con.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def default_runs_dir() -> Path:
    return Path(os.environ.get("SUPPLYTWIN_RUNS_DIR", "runs"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _alive(pid: int | None, host: str | None) -> bool:
    if not pid or host != socket.gethostname():
        return host != socket.gethostname() and pid is not None  # unknown elsewhere: trust it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RunRecord:
    run_id: str
    kind: str
    status: str
    created_at: str
    finished_at: str | None
    scenario_name: str | None
    scenario_file: str | None
    scenario_sha256: str | None
    data_sha256: dict[str, str] | None
    version: str | None
    seed: int | None
    replications: int | None
    executor: str | None
    kpi_summary: dict[str, Any] | None
    artefacts: str | None
    pid: int | None
    host: str | None
    command: str | None
    params: dict[str, Any] | None
    #: the scenario a what-if starts from (None: the run is its scenario as written)
    base_name: str | None = None
    #: what the run changes from its base: [{"label", "text"}]
    differences: list[dict[str, str]] | None = None

    @property
    def shown_status(self) -> str:
        if self.status == "running" and not _alive(self.pid, self.host):
            return "interrupted"
        return self.status


def _registry_error(path: Path, exc: sqlite3.Error) -> SupplytwinError:
    """A plain-words error for what SQLite reports (read-only, disk full, locked, corrupt)."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        why = "is read-only (check the folder's permissions, or use --runs-dir)"
    elif "locked" in text or "busy" in text:
        why = "is locked by another process for more than 30 s; try again"
    elif "full" in text:
        why = "cannot be written: the disk is full"
    elif "unable to open" in text:
        why = "cannot be opened (missing folder or no permission)"
    elif "malformed" in text or "not a database" in text:
        why = "is damaged or not a supplytwin registry"
    else:
        why = f"cannot be used: {exc}"
    return SupplytwinError(f"run registry {path} {why}")


#: a per-process counter: with the pid it makes ids of one host unique without randomness
_ID_COUNTER = itertools.count()


class Registry:
    def __init__(self, runs_dir: Path | str | None = None):
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.path = self.runs_dir / "registry.sqlite"
        #: True when the registry can only be read (a read-only folder or file)
        self.read_only = False
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                migrate(con)
        except (SupplytwinError, PermissionError, OSError) as exc:
            # a registry others share read-only can still be listed and shown
            if not self.path.is_file():
                if isinstance(exc, SupplytwinError):
                    raise
                raise SupplytwinError(f"run registry folder {self.runs_dir} cannot be created: "
                                      f"{getattr(exc, 'strerror', None) or exc}") from None
            self.read_only = True

    @staticmethod
    def exists(runs_dir: Path | str | None = None) -> bool:
        """Whether ``runs_dir`` (default: :func:`default_runs_dir`) holds a registry."""
        where = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        return (where / "registry.sqlite").is_file()

    @classmethod
    def open_existing(cls, runs_dir: Path | str | None = None) -> Registry:
        """The registry in ``runs_dir``; a clear error, and nothing created, when there is none
        (for commands that read runs: a registry made only to be empty helps nobody)."""
        where = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        if not cls.exists(where):
            raise SupplytwinError(f"no run registry in {where}/ (nothing has been run with this "
                                  "--runs-dir; runs go to ./runs unless --runs-dir or "
                                  "SUPPLYTWIN_RUNS_DIR say otherwise)")
        return cls(where)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if self.read_only:
                # immutable: no locks, no -wal/-shm files, so a read-only folder can be read
                con = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                      timeout=30, isolation_level=None)
            else:
                con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise _registry_error(self.path, exc) from None
        try:
            if not self.read_only:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
            yield con
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a duplicate id (retried by start) or a bug in the caller, not the file
        except sqlite3.Error as exc:
            raise _registry_error(self.path, exc) from None
        finally:
            con.close()

    def _writable(self) -> None:
        if self.read_only:
            raise SupplytwinError(f"run registry {self.path} is read-only (check the folder's "
                                  "permissions, or use --runs-dir)")

    # ---- writing ----------------------------------------------------------------------------
    def new_id(self, kind: str, name: str) -> str:
        """``20261201-031652-run-tiny-1a2b-0`` : time, kind, name, pid (hex) and a counter of
        this process, so ids started on one host at once never collide (and a collision with
        another host's id is caught by the primary key and retried)."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40] or kind
        return f"{stamp}-{kind}-{safe}-{os.getpid():x}-{next(_ID_COUNTER)}"

    def start(self, kind: str, *, scenario_name: str, scenario_file: str | None,
              scenario_sha256: str | None, data_sha256: dict[str, str], version: str,
              seed: int | None, replications: int | None, executor: str | None,
              artefacts: str, command: str, params: dict[str, Any] | None = None,
              run_id: str | None = None, base_name: str | None = None,
              differences: list[dict[str, str]] | None = None) -> str:
        self._writable()
        given = run_id
        run_id = run_id or self.new_id(kind, scenario_name)
        if artefacts:
            # absolute, so the dashboard finds them whatever folder either was started from
            artefacts = str(Path(artefacts).absolute())
        row = {
            "run_id": run_id, "kind": kind, "status": "running", "created_at": _now(),
            "finished_at": None, "scenario_name": scenario_name, "scenario_file": scenario_file,
            "scenario_sha256": scenario_sha256, "data_sha256": json.dumps(data_sha256),
            "version": version, "seed": seed, "replications": replications,
            "executor": executor, "kpi_summary": None, "artefacts": artefacts,
            "pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "params": json.dumps(params or {}), "base_name": base_name,
            "differences": json.dumps(differences) if differences is not None else None,
        }
        for _attempt in range(5):
            try:
                with self._connect() as con:
                    con.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES "
                                f"({', '.join('?' * len(row))})", tuple(row.values()))
                return row["run_id"]
            except sqlite3.IntegrityError:
                if given:
                    raise SupplytwinError(f"run id {given!r} is already in {self.path}") from None
                row["run_id"] = f"{run_id}-{secrets.token_hex(3)}"  # another host's id
        raise SupplytwinError(f"could not find a free run id in {self.path}")

    def resume(self, run_id: str) -> None:
        """Take over an interrupted run: refused while the process that owns it is alive (the
        row's pid and host are its lock; a dead owner's lock is stale and taken over)."""
        self._writable()
        rec = self.get(run_id)
        if rec.status == "running" and _alive(rec.pid, rec.host):
            raise SupplytwinError(f"run {rec.run_id} is still running (pid {rec.pid} on "
                                  f"{rec.host}); wait for it, or stop it before resuming")
        with self._connect() as con:
            # compare-and-set on the owner seen above: of two resumers, one wins
            cur = con.execute("UPDATE runs SET status='running', pid=?, host=? WHERE run_id=? "
                              "AND pid IS ? AND host IS ?",
                              (os.getpid(), socket.gethostname(), rec.run_id, rec.pid, rec.host))
            if cur.rowcount != 1:
                raise SupplytwinError(f"run {rec.run_id} was just resumed by another process")

    def finish(self, run_id: str, *, kpi_summary: dict[str, Any], replications: int | None,
               status: str = "complete", artefacts: str | None = None) -> None:
        self._writable()
        if artefacts:
            artefacts = str(Path(artefacts).absolute())
        with self._connect() as con:
            con.execute(
                "UPDATE runs SET status=?, finished_at=?, kpi_summary=?, replications=?, "
                "artefacts=COALESCE(?, artefacts) WHERE run_id=?",
                (status, _now(), json.dumps(kpi_summary, default=_json_default), replications,
                 artefacts, run_id))

    # ---- reading ----------------------------------------------------------------------------
    def _record(self, row: tuple) -> RunRecord:
        d = dict(zip(COLUMNS, row, strict=True))
        for c in JSON_COLUMNS:
            d[c] = json.loads(d[c]) if d[c] else None
        a = d.get("artefacts")
        if a and not Path(a).is_absolute():
            # older registries stored paths relative to where the command ran; a default
            # results folder is RUNS_DIR/<run id>, found from the registry's own folder
            here = self.runs_dir / Path(a).name
            if here.is_dir():
                d["artefacts"] = str(here.absolute())
        return RunRecord(**d)

    def list(self, limit: int = 50, kind: str | None = None, search: str | None = None
             ) -> list[RunRecord]:
        for name, value in (("kind", kind), ("search", search)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be text, not {type(value).__name__}")
        sql = f"SELECT {', '.join(COLUMNS)} FROM runs"
        where, args = [], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if search:
            where.append("(run_id LIKE ? OR scenario_name LIKE ? OR scenario_file LIKE ? "
                         "OR base_name LIKE ?)")
            args += [f"%{search}%"] * 4
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, run_id DESC LIMIT ?"
        args.append(limit)
        with self._connect() as con:
            return [self._record(r) for r in con.execute(sql, args)]

    def get(self, run_id: str) -> RunRecord:
        with self._connect() as con:
            rows = list(con.execute(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE run_id = ?",
                                    (run_id,)))
            if not rows:
                like = list(con.execute(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE run_id "
                                        "LIKE ? ORDER BY created_at DESC", (f"%{run_id}%",)))
                if len(like) == 1:
                    rows = like
                elif len(like) > 1:
                    raise SupplytwinError(f"run id {run_id!r} is ambiguous: "
                                          + ", ".join(r[0] for r in like[:5]))
        if not rows:
            raise SupplytwinError(f"no run {run_id!r} in {self.path}")
        return self._record(rows[0])


def _json_default(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)
