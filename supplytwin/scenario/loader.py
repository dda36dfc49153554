"""Loading a scenario: YAML + CSV tables -> a validated :class:`~supplytwin.model.Scenario`.

Steps, each collecting problems instead of stopping at the first:

1. read the YAML (syntax errors carry their line), follow ``extends:`` (loops are errors), make
   every path absolute relative to the file that wrote it, and deep-merge child over parent;
2. apply ``--set key.path=value`` overrides;
3. check the document against :class:`ScenarioDocument` (unknown keys, wrong types, units);
4. read each CSV table: unknown and missing columns (with "did you mean"), then every row
   against its row model; duplicate keys;
5. apply ``edits:`` to table cells, add the YAML ``disruptions:``;
6. run the semantic checks of :mod:`supplytwin.scenario.checks` on the assembled network.

If anything was found, :class:`~supplytwin.errors.ScenarioError` is raised with every problem.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import difflib
import hashlib
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from supplytwin.errors import Problem, ScenarioError
from supplytwin.model import TABLES, Network, Row, Scenario
from supplytwin.model.tables import DemandRow, DisruptionRow
from supplytwin.scenario.document import ScenarioDocument
from supplytwin.scenario.safe_files import (
    MAX_TABLE_BYTES,
    MAX_YAML_BYTES,
    YamlProblem,
    load_yaml,
    regular_file_problem,
)

#: document keys whose values are file paths (relative to the file that writes them)
_PATH_KEYS = ("network",)
#: longest ``extends:`` chain followed
MAX_EXTENDS_DEPTH = 50


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: Path | str, reason: str, *, field: str = "", row: int | None = None,
            line: int | None = None) -> None:
        self.problems.append(Problem(_show(file), row=row, line=line, field=field, reason=reason))


def _show(path: Path | str) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# ---------------------------------------------------------------- YAML with line numbers --------
def _key_lines(node: yaml.Node, prefix: str = "", seen: set[int] | None = None
               ) -> dict[str, int]:
    """Map dotted key paths to the 1-based line where each key is written.

    A node reached again through an alias is not walked again: its keys keep the lines of
    their first path, and the walk stays linear in the size of the file (an alias bomb would
    otherwise make it visit every expanded path)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return {}
    seen.add(id(node))
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{prefix}.{k.value}" if prefix else str(k.value)
            out[key] = k.start_mark.line + 1
            out.update(_key_lines(v, key, seen))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = f"{prefix}.{i}"
            out[key] = item.start_mark.line + 1
            out.update(_key_lines(item, key, seen))
    return out


def _read_yaml(path: Path, col: _Collector) -> tuple[dict[str, Any] | None, dict[str, int]]:
    problem = regular_file_problem(path, MAX_YAML_BYTES)
    if problem is not None:
        col.add(path, problem)
        return None, {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        col.add(path, "file not found")
        return None, {}
    except (OSError, UnicodeDecodeError) as exc:
        col.add(path, f"cannot read: {exc}")
        return None, {}
    try:
        data, node = load_yaml(text)
    except YamlProblem as exc:
        col.add(path, exc.reason, line=exc.line)
        return None, {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        col.add(path, f"YAML syntax: {problem}", line=line)
        return None, {}
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML's constructors raise these for values such as 2027-13-45 or !!int abc
        col.add(path, f"YAML value cannot be read: {exc}")
        return None, {}
    except RecursionError:
        col.add(path, "YAML nested too deeply")
        return None, {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        col.add(path, "a scenario must be a YAML mapping of keys to values", line=1)
        return None, {}
    return data, (_key_lines(node) if node is not None else {})


def _deep_merge(base: dict, child: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in child.items():
        if k == "disruptions" and isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = out[k] + copy.deepcopy(v)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _absolutise(data: dict, base_dir: Path) -> None:
    net = data.get("network")
    if isinstance(net, dict):
        for k, v in net.items():
            if isinstance(v, str) and v:
                try:
                    net[k] = str((base_dir / v).resolve())
                except (OSError, ValueError):
                    net[k] = str(base_dir / v.replace("\0", "\\0"))  # reported when read


def _resolve_extends(path: Path, col: _Collector, chain: tuple[Path, ...] = ()
                     ) -> tuple[dict | None, dict[str, tuple[Path, int]], list[Path]]:
    """Return (merged document, key -> (file, line), files read)."""
    try:
        path = path.resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop on Python < 3.13
        col.add(chain[-1] if chain else path, f"extends: {path.name} is a symlink loop "
                f"({type(exc).__name__})", field="extends")
        return None, {}, []
    if len(chain) >= MAX_EXTENDS_DEPTH:
        col.add(chain[0], f"extends: chain of more than {MAX_EXTENDS_DEPTH} files (stopped at "
                f"{path.name}); a scenario inherits from a few bases, not thousands",
                field="extends")
        return None, {}, []
    if path in chain:
        loop = " -> ".join(p.name for p in (*chain, path))
        col.add(chain[-1], f"extends loop: {loop}", field="extends")
        return None, {}, []
    data, lines = _read_yaml(path, col)
    if data is None:
        return None, {}, [path]
    _absolutise(data, path.parent)
    where = {k: (path, ln) for k, ln in lines.items()}
    files = [path]
    parent_ref = data.get("extends")
    if parent_ref is not None:
        if not isinstance(parent_ref, str) or not parent_ref.strip():
            col.add(path, "extends must be a file name", field="extends", line=lines.get("extends"))
            return None, where, files
        try:
            parent_path = (path.parent / parent_ref).resolve()
            is_file = parent_path.is_file()
        except RuntimeError:  # Python < 3.13: a symlink loop
            col.add(path, f"extends: {parent_ref!r} is a symlink loop", field="extends",
                    line=lines.get("extends"))
            return None, where, files
        except (OSError, ValueError) as exc:
            reason = ("is a symlink loop" if getattr(exc, "errno", None) == 40
                      else f"cannot be used: {exc}")
            col.add(path, f"extends: {parent_ref!r} {reason}", field="extends",
                    line=lines.get("extends"))
            return None, where, files
        if parent_path in (*chain, path):
            loop = " -> ".join(p.name for p in (*chain, path, parent_path))
            col.add(path, f"extends loop: {loop}", field="extends", line=lines.get("extends"))
            return None, where, files
        if not is_file:
            col.add(path, f"extends: file not found: {parent_ref}", field="extends",
                    line=lines.get("extends"))
            return None, where, files
        parent, pwhere, pfiles = _resolve_extends(parent_path, col, (*chain, path))
        files += pfiles
        if parent is None:
            return None, where, files
        parent.pop("extends", None)
        merged = _deep_merge(parent, data)
        merged["extends"] = parent_ref
        # the child's disruptions come after the parent's in the merged list
        pd, cd = parent.get("disruptions"), data.get("disruptions")
        if isinstance(pd, list) and isinstance(cd, list) and pd:
            where = {_shift_index(k, "disruptions", len(pd)): v for k, v in where.items()}
        return merged, {**pwhere, **where}, files
    return data, where, files


def _shift_index(key: str, list_key: str, offset: int) -> str:
    """``disruptions.0.site_id`` -> ``disruptions.2.site_id`` for offset 2."""
    parts = key.split(".")
    if len(parts) > 1 and parts[0] == list_key and parts[1].isdigit():
        parts[1] = str(int(parts[1]) + offset)
    return ".".join(parts)


# ---------------------------------------------------------------- overrides ---------------------
def parse_set(assignment: str) -> tuple[list[str], Any]:
    """``simulation.horizon_days=90`` -> (["simulation", "horizon_days"], 90)."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {assignment!r}: write KEY.PATH=VALUE")
    keys = [p for p in key.strip().split(".") if p]
    if not keys:
        raise ValueError(f"--set {assignment!r}: write KEY.PATH=VALUE")
    try:
        value = load_yaml(raw)[0] if raw.strip() else ""
    except YamlProblem as exc:
        raise ValueError(f"--set {key.strip()}: {exc.reason}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        value = raw  # not YAML: the text itself (validation says what is wrong with it)
    return keys, value


def apply_sets(data: dict, sets: Sequence[str], col: _Collector, source: str = "--set") -> None:
    for assignment in sets:
        try:
            keys, value = parse_set(assignment)
        except ValueError as exc:
            col.add(source, str(exc))
            continue
        if keys[0] == "extends":
            col.add(source, "extends cannot be changed with --set: it is followed before the "
                    "overrides apply; write extends: in a scenario file", field="extends")
            continue
        # table ids may contain dots (e.g. lot ids): edits.TABLE.ROW_ID.FIELD keeps ROW_ID whole
        if keys[0] == "edits" and len(keys) > 4:
            keys = [keys[0], keys[1], ".".join(keys[2:-1]), keys[-1]]
        node = data
        for k in keys[:-1]:
            if not isinstance(node.get(k), dict):
                node[k] = {}
            node = node[k]
        node[keys[-1]] = value


# ---------------------------------------------------------------- CSV tables --------------------
def _clean_cell(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    return v if v else None


def read_table(path: Path, model: type[Row], col: _Collector) -> list[tuple[int, Row]]:
    """Read one CSV table; return (row number, row) for every valid row."""
    problem = regular_file_problem(path, MAX_TABLE_BYTES)
    if problem is not None:
        col.add(path, problem)
        return []
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        col.add(path, "file not found")
        return []
    except (OSError, ValueError) as exc:
        col.add(path, f"cannot read: {exc}")
        return []
    rows: list[tuple[int, Row]] = []
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            known = list(model.model_fields)
            required = [n for n, f in model.model_fields.items() if f.is_required()]
            bad_header = False
            if header and not set(header) & set(known):
                # not this table at all (a wrong path, /etc/passwd): say so without echoing
                # the file's content back
                col.add(path, f"does not look like the {model.table} table: none of its "
                        f"{len(header)} header cell(s) is a column of it (expected "
                        f"{', '.join(required)} ...)", row=0)
                return []
            for h in header:
                if h not in known:
                    hint = difflib.get_close_matches(h, known, n=1)
                    extra = f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(known)}"
                    col.add(path, f"unknown column {h!r}{extra}", field=h, row=0)
                    bad_header = True
            for r in required:
                if r not in header:
                    col.add(path, "required column is missing", field=r, row=0)
                    bad_header = True
            if not header:
                col.add(path, "empty file: expected a header row")
                return []
            if bad_header:
                return []
            context = {"base_dir": path.parent}
            for i, raw in enumerate(reader, start=1):
                if None in raw:  # more cells than header columns
                    col.add(path, "more cells than columns in the header", row=i)
                    continue
                cells = {k: c for k, v in raw.items() if (c := _clean_cell(v)) is not None}
                if not cells:
                    continue  # blank line
                try:
                    rows.append((i, model.model_validate(cells, context=context)))
                except ValidationError as exc:
                    for err in exc.errors():
                        field = ".".join(str(x) for x in err["loc"]) or "(row)"
                        col.add(path, _reason(err), field=field, row=i)
        except (csv.Error, UnicodeDecodeError) as exc:
            col.add(path, f"cannot parse CSV: {exc}")
    return rows


def _reason(err: dict) -> str:
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        return "unknown key"
    inp = err.get("input")
    if isinstance(inp, str | int | float) and err.get("type") != "missing":
        return f"{msg} (got {inp!r})"
    return msg


# ---------------------------------------------------------------- the whole scenario ------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def load_scenario(path: str | Path, sets: Sequence[str] = ()) -> Scenario:
    """Load, resolve and validate a scenario file; raise ScenarioError with every problem."""
    scenario, problems = _load(Path(path), sets)
    if problems:
        raise ScenarioError(problems)
    assert scenario is not None
    return scenario


def check_scenario(path: str | Path, sets: Sequence[str] = ()) -> list[Problem]:
    """Every problem of a scenario, or an empty list."""
    return _load(Path(path), sets)[1]


def _load(path: Path, sets: Sequence[str]) -> tuple[Scenario | None, list[Problem]]:
    col = _Collector()
    data, where, files = _resolve_extends(path, col)
    if data is None:
        return None, col.problems
    apply_sets(data, sets, col)
    doc = _validate_document(data, where, path, col)
    if doc is None:
        return None, col.problems

    tables: dict[str, list[tuple[int, Row]]] = {}
    table_files: dict[str, Path] = {}
    for name, (model, _required) in TABLES.items():
        ref = getattr(doc.network, name)
        if ref is None:
            tables[name] = []
            continue
        tpath = Path(ref)
        table_files[name] = tpath
        tables[name] = read_table(tpath, model, col)
        files.append(tpath)

    # disruptions written in the YAML
    for idx, item in enumerate(doc.disruptions):
        key = f"disruptions.{idx}"
        file, line = _locate(where, key, path)
        try:
            tables["disruptions"].append(
                (-(idx + 1), DisruptionRow.model_validate(item, context={"base_dir": path.parent}))
            )
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join([key, *(str(x) for x in err["loc"])])
                col.add(file, _reason(err), field=field, line=line)

    # duplicate keys
    for name, rows in tables.items():
        seen: dict[str, int] = {}
        for i, row in rows:
            rid = row.row_id
            if rid in seen:
                reason = f"duplicate {'/'.join(row.key)} {rid!r}"
                if i < 0:  # a disruption written in the scenario YAML
                    file, line = _locate(where, f"disruptions.{-i - 1}", path)
                    col.add(file, reason, field=f"disruptions.{-i - 1}.{row.key[0]}", line=line)
                else:
                    col.add(table_files[name], f"{reason} (first at row {seen[rid]})",
                            field=row.key[0], row=i)
            else:
                seen[rid] = i

    _apply_edits(doc, tables, table_files, where, path, col)

    # demand series files
    series: dict[tuple[str, str], tuple[float, ...]] = {}
    for i, d in tables["demand"]:
        assert isinstance(d, DemandRow)
        if d.series_file:
            spath = table_files["demand"].parent / d.series_file
            values = _read_series(spath, col, table_files["demand"], i)
            if values is not None:
                series[(d.customer_id, d.product_id)] = values
                files.append(spath)

    network = _assemble(tables, series)

    from supplytwin.scenario.checks import check_network

    for p in check_network(network, tables, table_files, scenario_file=path):
        if p.line is None and p.row is None and p.field.startswith("disruptions."):
            file, line = _locate(where, p.field, path)
            p = dataclasses.replace(p, file=_show(file), line=line)
        col.problems.append(p)
    if col.problems:
        return None, col.problems

    hashes: dict[str, str] = {}
    root = path.resolve().parent
    for f in dict.fromkeys(files):
        try:
            rel = str(Path(f).resolve().relative_to(root))
        except ValueError:
            rel = str(Path(f).resolve().relative_to(root.parent)) if _under(f, root.parent) else str(f)
        hashes[rel] = _sha256(Path(f))
    resolved = doc.model_dump(mode="json")
    scenario = Scenario(
        name=doc.name,
        description=doc.description,
        network=network,
        simulation=doc.simulation,
        cold_chain=doc.cold_chain,
        costs=doc.costs,
        kpis=doc.kpis,
        source=path.resolve(),
        resolved=resolved,
        file_hashes=hashes,
    )
    return scenario, []


def _validate_document(data: dict, where: dict, path: Path, col: _Collector
                       ) -> ScenarioDocument | None:
    """Validate the YAML document; report every error, then go on without the bad sections so
    that the tables are still checked in the same pass."""
    context = {"base_dir": path.resolve().parent}
    data = dict(data)
    for _attempt in range(len(data) + 1):
        try:
            return ScenarioDocument.model_validate(data, context=context)
        except ValidationError as exc:
            dropped = False
            for err in exc.errors():
                key = ".".join(str(x) for x in err["loc"])
                file, line = _locate(where, key, path)
                reason = _reason(err)
                if err.get("type") == "extra_forbidden":
                    hint = difflib.get_close_matches(str(err["loc"][-1]), _known_keys(), n=1)
                    if hint:
                        reason += f"; did you mean {hint[0]!r}?"
                col.add(file, reason, field=key, line=line)
                top = str(err["loc"][0]) if err["loc"] else ""
                if top in data and top not in ("name", "network"):
                    data.pop(top)
                    dropped = True
            if not dropped:
                return None
    return None


def _known_keys() -> list[str]:
    from supplytwin.scenario.document import NetworkFiles

    keys: set[str] = set(ScenarioDocument.model_fields) | set(NetworkFiles.model_fields)
    for name in ("simulation", "cold_chain", "costs", "kpis"):
        ann = ScenarioDocument.model_fields[name].annotation
        keys |= set(ann.model_fields)  # type: ignore[union-attr]
    keys |= set(DisruptionRow.model_fields)
    return sorted(keys)


def _under(p: Path | str, root: Path) -> bool:
    try:
        Path(p).resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _locate(where: dict[str, tuple[Path, int]], key: str, default: Path) -> tuple[Path, int | None]:
    parts = key.split(".")
    while parts:
        k = ".".join(parts)
        if k in where:
            return where[k]
        parts.pop()
    return default, None


def _apply_edits(doc: ScenarioDocument, tables: dict[str, list[tuple[int, Row]]],
                 table_files: dict[str, Path], where: dict, path: Path, col: _Collector) -> None:
    for tname, by_row in doc.edits.items():
        key = f"edits.{tname}"
        if tname not in TABLES:
            file, line = _locate(where, key, path)
            col.add(file, f"unknown table {tname!r}; tables: {', '.join(TABLES)}", field=key, line=line)
            continue
        model = TABLES[tname][0]
        index = {row.row_id: pos for pos, (_, row) in enumerate(tables[tname])}
        for rid, changes in by_row.items():
            rkey = f"{key}.{rid}"
            file, line = _locate(where, rkey, path)
            if rid not in index:
                hint = difflib.get_close_matches(str(rid), list(index), n=1)
                col.add(file, f"no row {rid!r} in {tname}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                        field=rkey, line=line)
                continue
            if not isinstance(changes, dict):
                col.add(file, "expected a mapping of column: value", field=rkey, line=line)
                continue
            pos = index[rid]
            rownum, row = tables[tname][pos]
            values = row.model_dump(mode="json", exclude_none=True)
            values.update({k: v for k, v in changes.items()})
            values = {k: v for k, v in values.items() if v is not None}
            base_dir = table_files.get(tname, path).parent if tname in table_files else path.parent
            try:
                tables[tname][pos] = (rownum, model.model_validate(values, context={"base_dir": base_dir}))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join([rkey, *(str(x) for x in err["loc"])])
                    col.add(file, _reason(err), field=field, line=line)


def _read_series(path: Path, col: _Collector, table: Path, row: int) -> tuple[float, ...] | None:
    problem = regular_file_problem(path, MAX_TABLE_BYTES)
    if problem is not None:
        reason = (f"series file not found: {path}" if problem == "file not found"
                  else f"series file {path} {problem}")
        col.add(table, reason, field="series_file", row=row)
        return None
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "quantity_units" not in [h.strip() for h in reader.fieldnames]:
                col.add(table, f"series file {path.name} needs columns day,quantity_units",
                        field="series_file", row=row)
                return None
            out: list[float] = []
            for j, r in enumerate(reader, start=1):
                r = {k.strip(): v for k, v in r.items() if k}
                try:
                    q = float(r["quantity_units"])
                except (TypeError, ValueError):
                    col.add(path, "quantity_units must be a number", field="quantity_units", row=j)
                    return None
                if not math.isfinite(q) or q < 0:
                    col.add(path, "quantity_units must be >= 0", field="quantity_units", row=j)
                    return None
                out.append(q)
            if not out:
                col.add(path, "series file has no rows")
                return None
            return tuple(out)
    except FileNotFoundError:
        col.add(table, f"series file not found: {path}", field="series_file", row=row)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        col.add(path, f"cannot read series: {exc}")
    return None


def _assemble(tables: dict[str, list[tuple[int, Row]]], series: dict) -> Network:
    def rows(name: str) -> Iterable[Any]:
        return (r for _, r in tables[name])

    bom: dict[tuple[str, str], list] = {}
    for b in rows("bom"):
        bom.setdefault((b.site_id, b.product_id), []).append(b)
    return Network(
        products={r.product_id: r for r in rows("products")},
        sites={r.site_id: r for r in rows("sites")},
        production={(r.site_id, r.product_id): r for r in rows("production")},
        bom={k: tuple(v) for k, v in bom.items()},
        lanes={r.lane_id: r for r in rows("lanes")},
        policies={(r.site_id, r.product_id): r for r in rows("policies")},
        initial_stock=tuple(rows("initial_stock")),
        demand={(r.customer_id, r.product_id): r for r in rows("demand")},
        disruptions=tuple(rows("disruptions")),
        demand_series=series,
    )


def document_schema() -> type[BaseModel]:
    return ScenarioDocument
