"""Reading user files safely: only regular files of sane size, YAML without alias bombs.

A scenario names files, and a careless (or hostile) path can name anything: ``/dev/zero`` (an
endless stream), a FIFO (blocks forever on open), a directory, or a multi-gigabyte log. Before
opening, :func:`regular_file_problem` checks with ``stat`` that the path is a regular file and
not larger than the limit for its kind.

YAML has anchors and aliases (``&a`` / ``*a``): an alias refers to a node written elsewhere. A
"billion laughs" document nests aliases of aliases so that a few hundred bytes stand for 10⁹
nodes once expanded; every consumer that walks the structure (the constructor, the loader's
line-number map, the deep merge of ``extends:``) then hangs or exhausts memory.
:func:`load_yaml` composes the node graph once (aliases stay shared there, so this is cheap),
measures its expanded size with memoisation and refuses it beyond :data:`MAX_YAML_NODES`,
refuses recursive aliases, reports duplicate mapping keys (YAML would silently keep the last
one, replacing a whole section), and only then constructs Python objects.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

#: largest scenario YAML file read, bytes
MAX_YAML_BYTES = 5_000_000
#: largest table or series CSV file read, bytes
MAX_TABLE_BYTES = 200_000_000
#: nodes a YAML document may stand for once its aliases are expanded
MAX_YAML_NODES = 200_000


class YamlProblem(Exception):
    """A YAML document that cannot be used; ``line`` is 1-based or None."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def regular_file_problem(path: Path, max_bytes: int) -> str | None:
    """Why ``path`` must not be read, or None if it is a regular file of acceptable size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        return "symlink loop"
    except (OSError, ValueError) as exc:
        if getattr(exc, "errno", None) == 40:  # ELOOP
            return "symlink loop"
        return f"cannot read: {getattr(exc, 'strerror', None) or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        return f"is {kind}, not a regular file; only regular files are read"
    if st.st_size > max_bytes:
        return (f"is {st.st_size / 1e6:,.1f} MB, more than the {max_bytes / 1e6:,.0f} MB read "
                "for a file of this kind")
    return None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _check_graph(root: yaml.Node, max_nodes: int) -> None:
    """Expanded size (memoised per node), recursive aliases and duplicate keys."""
    size: dict[int, int] = {}
    on_path: set[int] = set()

    def visit(node: yaml.Node) -> int:
        key = id(node)
        if key in size:
            return size[key]
        if key in on_path:
            raise YamlProblem("recursive YAML alias: a node contains itself", _line(node))
        on_path.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        raise YamlProblem(f"duplicate key {k.value!r} (first at line "
                                          f"{seen[k.value]}); YAML would silently keep only the "
                                          "last one", _line(k))
                    seen[k.value] = _line(k)
                total += visit(k) + visit(v)
                if total > max_nodes:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += visit(item)
                if total > max_nodes:
                    break
        on_path.discard(key)
        if total > max_nodes:
            raise YamlProblem(f"the YAML expands to more than {max_nodes:,} values through its "
                              "aliases (&anchor / *alias); refused as an alias bomb",
                              _line(node))
        size[key] = total
        return total

    visit(root)


def load_yaml(text: str, max_nodes: int = MAX_YAML_NODES) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document safely; return (data, node). Raises YamlProblem or YAMLError."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_graph(node, max_nodes)
        return loader.construct_document(node), node
    finally:
        loader.dispose()
