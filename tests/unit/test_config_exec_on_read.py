"""The directives that act while the file is read (Apache's EXEC_ON_READ) are known to
the directive table alone: ``tree.expand`` runs exactly the entries flagged there, and no
other module of config/ keeps a list of their names."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from cgihttpd.config import directives as D
from cgihttpd.config.modules import REGISTRY
from cgihttpd.config.tree import Node, ReadState, TableEntry, expand, new_state, parse_tree

CONFIG = Path(D.__file__).resolve().parent.parent


class NoFiles:
    def read_text(self, path: str) -> str:
        raise FileNotFoundError(2, "No such file or directory")

    def is_dir(self, path: str) -> bool:
        return False

    def exists(self, path: str) -> bool:
        return False

    def list_dir(self, path: str) -> list[str]:
        raise FileNotFoundError(2, "No such file or directory")


def line(name: str) -> str:
    """One use of ``name`` ("<Directory" is a section)."""
    if name.startswith("<"):
        return f"{name} x>\n</{name[1:]}>\n"
    return f"{name} x\n"


def read(text: str, table: dict[str, TableEntry]) -> tuple[list[Node], ReadState]:
    state = new_state("/c", [], {}, NoFiles(), table)
    # every module loaded, so that no directive is an "Invalid command"
    state.loaded.update(dict.fromkeys(REGISTRY.modules, state.loaded["core_module"]))
    return expand(parse_tree(text, "/c/x.conf", state.errors), state), state


def shape(nodes: list[Node] | tuple[Node, ...]) -> list[object]:
    return [(n.name, n.args, None if n.children is None else shape(n.children))
            for n in nodes]


def test_expand_acts_on_nothing_the_table_does_not_flag() -> None:
    # Every directive Apache knows, with a table that flags none: expand must keep each
    # node as it is. A name tested in tree.py itself (Define, Include, <IfModule>, ...)
    # would be acted on all the same and fail this.
    names = sorted({d.name for m in REGISTRY.modules.values() for d in m.directives})
    text = "".join(line(n) for n in names)
    unflagged: dict[str, TableEntry] = {k: replace(d, read=None)
                                        for k, d in D.DIRECTIVES.items()}
    nodes, state = read(text, unflagged)
    assert state.errors == [] and state.warnings == []
    assert shape(nodes) == shape(parse_tree(text, "/c/x.conf", []))
    assert state.defines == [] and state.files == []


def test_expand_runs_every_flagged_entry_with_its_node() -> None:
    flagged = {k for k, d in D.DIRECTIVES.items() if d.exec_on_read}
    # Apache's EXEC_ON_READ directives of core.c and mod_so.c that cgihttpd reads
    assert {"include", "includeoptional", "define", "undefine", "<ifdefine", "<ifmodule",
            "<iffile", "<ifdirective", "<ifsection", "serverroot", "loadmodule"} <= flagged
    seen: list[str] = []

    def spy(node: Node, state: ReadState) -> list[Node]:
        seen.append(node.key)
        return []

    table: dict[str, TableEntry] = {k: replace(d, read=spy) if k in flagged else d
                                    for k, d in D.DIRECTIVES.items()}
    text = "".join(line(D.DIRECTIVES[k].name) for k in sorted(flagged))
    nodes, state = read(text, table)
    assert state.errors == []
    assert seen == sorted(flagged)
    assert nodes == []


def test_no_module_of_config_names_a_read_time_directive() -> None:
    # The table (directives/) is the one list; tree.py, the loader and the rest of
    # config/ name no read-time directive in a string (modules.py is Apache's registry
    # of every directive, one text, and names none alone either).
    names = {w for d in D.DIRECTIVES.values() if d.exec_on_read
             for w in (d.name, d.name.lower(), d.name.lstrip("<"), d.name.lstrip("<").lower())}
    found = []
    for path in sorted(CONFIG.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == []
