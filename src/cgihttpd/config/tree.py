"""Configuration text → a tree of directive nodes, then the read-time expansion of it.

This module owns the first of the two configuration phases (STYLE habit 3):

1. ``parse_tree``: one file's text → nodes (directives and ``<Section>`` containers),
   each keeping its ``Source``; section nesting is checked with Apache's messages.
2. ``expand``: what Apache does *while reading* (server/config.c
   ``ap_build_config_sub``): ``${VAR}`` substitution, "Invalid command" for a directive
   no loaded module defines, and the EXEC_ON_READ directives, run as they are met. Which
   directives those are, and what each does, is the directive table's (``directives``,
   entries with a ``read`` action; ``ReadState.table``): ``expand`` names none of them.
   It also reads the files ``Include`` names (``include_files``, with Apache's globs).
   The result is a tree with only second-phase directives left.

It reads files only through the ``FileSystem`` it is given (the loader passes the real
one; tests pass a dict). It knows nothing of what directives mean (``directives``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from cgihttpd.config.errors import ConfigError
from cgihttpd.config.lexer import logical_lines, next_word, split_words
from cgihttpd.config.model import BUILTIN, Source
from cgihttpd.config.modules import BUILTIN_MODULES, REGISTRY

#: server/config.c AP_MAX_INCLUDE_DEPTH
MAX_INCLUDE_DEPTH = 128


@dataclass(frozen=True, slots=True)
class Node:
    """A directive (``children is None``) or a section (``children`` a tuple).

    ``name`` is as written, without ``<`` for sections; ``raw`` is the argument text
    (for a section: what lies between the name and the closing ``>``); ``args`` its
    words (after ``expand``: after ``${VAR}`` substitution).
    """

    name: str
    raw: str
    args: tuple[str, ...]
    source: Source
    children: tuple[Node, ...] | None = None

    @property
    def is_section(self) -> bool:
        return self.children is not None

    @property
    def key(self) -> str:
        """The name the registry knows: ``<directory`` for sections, lower-case."""
        return ("<" + self.name if self.is_section else self.name).lower()


# --- phase 1a: text -> nodes ---------------------------------------------------------


@dataclass
class _Open:
    name: str
    raw: str
    source: Source
    children: list[Node] = field(default_factory=list)


def parse_tree(text: str, file: str, errors: list[ConfigError]) -> list[Node]:
    """Nodes of one file. Structural errors are appended to ``errors`` and parsing goes
    on (so ``-t`` can report every error), closing sections as best it can."""
    top: list[Node] = []
    stack: list[_Open] = []

    def add(node: Node) -> None:
        (stack[-1].children if stack else top).append(node)

    for line in logical_lines(text, file):
        text_ = line.text
        if text_.startswith("</"):
            name = text_[2:].rstrip()
            if name.endswith(">"):
                name = name[:-1]
            name = name.strip()
            if not stack:
                errors.append(ConfigError(
                    f"</{name}> without matching <{name}> section", line.source))
                continue
            opened = stack.pop()
            if opened.name.lower() != name.lower():
                errors.append(ConfigError(
                    f"Expected </{opened.name}> but saw </{name}>", line.source))
            add(Node(opened.name, opened.raw, tuple(split_words(opened.raw)),
                     opened.source, tuple(opened.children)))
            continue
        if text_.startswith("<"):
            word, rest_pos = next_word(text_, 0)
            name = word[1:]
            rest = text_[rest_pos:]
            if name.endswith(">"):
                # "<Directory>": no arguments at all
                name = name[:-1]
                rest = ">"
                if not name:
                    errors.append(ConfigError("Invalid command '<>'", line.source))
                    continue
            end = rest.rfind(">")
            if end < 0:
                errors.append(ConfigError(
                    f"<{name}> directive missing closing '>'", line.source))
                raw = rest
            else:
                raw = rest[:end].strip()
            stack.append(_Open(name, raw, line.source))
            continue
        name, pos = next_word(text_, 0)
        raw = text_[pos:]
        add(Node(name, raw, tuple(split_words(raw)), line.source))
    while stack:
        opened = stack.pop()
        errors.append(ConfigError(f"<{opened.name}> was not closed.", opened.source))
        add(Node(opened.name, opened.raw, tuple(split_words(opened.raw)), opened.source,
                 tuple(opened.children)))
    return top


# --- phase 1b: read-time expansion ---------------------------------------------------


class FileSystem(Protocol):
    """The file access ``expand`` needs (the loader gives the real one)."""

    def read_text(self, path: str) -> str: ...  # raises OSError

    def is_dir(self, path: str) -> bool: ...

    def exists(self, path: str) -> bool: ...

    def list_dir(self, path: str) -> list[str]: ...  # raises OSError


_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[/\\]")


def is_absolute(path: str) -> bool:
    """Absolute for Apache on any platform we serve from: ``/x``, and ``D:/x`` (kept as
    given, so a Windows config read elsewhere still names its own paths)."""
    return path.startswith("/") or bool(_WINDOWS_ABS.match(path))


def server_root_relative(root: str, path: str) -> str:
    """ap_server_root_relative: absolute paths as given, others under ServerRoot."""
    if is_absolute(path) or not path:
        return path
    return root.rstrip("/") + "/" + path


@dataclass
class ReadState:
    """What reading has established so far (Apache's read-time globals)."""

    server_root: str
    defines: list[str]
    variables: dict[str, str]
    environ: Mapping[str, str]
    #: loaded module name -> the LoadModule that loaded it (BUILTIN for built-ins)
    loaded: dict[str, Source]
    fs: FileSystem
    #: the directive table (``directives.DIRECTIVES``): its EXEC_ON_READ entries act here
    table: Mapping[str, TableEntry]
    files: list[str] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: how deep in Includes reading is (MAX_INCLUDE_DEPTH)
    depth: int = 0
    #: reading a .htaccess: the AllowOverride classes in force ("FileInfo", ...), else
    #: None (the server's own files, where any directive may be read)
    override: frozenset[str] | None = None
    #: reading a .htaccess: AllowOverrideList (directive names, lower-case)
    override_list: frozenset[str] = frozenset()

    @property
    def loaded_names(self) -> frozenset[str]:
        return frozenset(self.loaded)


#: What an EXEC_ON_READ directive does while the file is read: given its node (arguments
#: substituted) and the state, the nodes that take its place in the tree (``[node]`` to
#: keep it for the second phase too, ``[]`` to leave nothing).
ReadAction = Callable[[Node, ReadState], list[Node]]


class TableEntry(Protocol):
    """What ``expand`` asks of a directive-table entry (``directives.Directive``)."""

    @property
    def read(self) -> ReadAction | None: ...  # None: not EXEC_ON_READ


def new_state(server_root: str, defines: list[str], environ: Mapping[str, str],
              fs: FileSystem, table: Mapping[str, TableEntry]) -> ReadState:
    return ReadState(server_root=server_root, defines=list(defines), variables={},
                     environ=environ, loaded={m: BUILTIN for m in BUILTIN_MODULES}, fs=fs,
                     table=table)


_VAR = re.compile(r"\$\{([^}]*)\}")


def substitute(text: str, state: ReadState, source: Source) -> str:
    """ap_resolve_env: ``${NAME}`` from Define, else the environment; an undefined one
    is left as written with a warning (Apache: "AH00111: Config variable ${NAME} is not
    defined")."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in state.variables:
            return state.variables[name]
        if name in state.environ:
            return state.environ[name]
        state.warnings.append(f"{source}: Config variable ${{{name}}} is not defined")
        return m.group(0)

    return _VAR.sub(one, text) if "${" in text else text


def expand(nodes: list[Node] | tuple[Node, ...], state: ReadState) -> list[Node]:
    """Apply the read-time directives; return the remaining nodes with ``args``
    substituted. Errors and warnings accumulate in ``state``."""
    out: list[Node] = []
    for node in nodes:
        raw = substitute(node.raw, state, node.source)
        args = tuple(split_words(raw))
        node = replace(node, raw=raw, args=args)
        try:
            out.extend(_expand_one(node, state))
        except ConfigError as exc:
            if exc.source is None:
                exc.source = node.source
            state.errors.append(exc)
    return out


def _expand_one(node: Node, state: ReadState) -> list[Node]:
    key = node.key
    # Every node must be defined by a loaded module (server/config.c
    # ap_build_config_sub: "Invalid command ...").
    info = REGISTRY.lookup(key, state.loaded_names)
    if info is None:
        shown = _escape(("<" + node.name) if node.is_section else node.name)
        raise ConfigError(f"Invalid command '{shown}', perhaps misspelled or defined by a "
                          "module not included in the server configuration")
    if state.override is not None and not overridable(info.name, info.overrides,
                                                       state.override, state.override_list):
        # server/config.c invoke_cmd: a .htaccess holds what AllowOverride allows
        raise ConfigError(f"{info.name} not allowed here")
    # EXEC_ON_READ: the command runs now, and what it returns takes its place
    entry = state.table.get(key)
    read = None if entry is None else entry.read
    if read is not None:
        return read(node, state)
    if node.children is not None:
        return [replace(node, children=tuple(expand(node.children, state)))]
    return [node]


#: the registry's override letters (``modules``) and AllowOverride's words for them
_OVERRIDE_CLASSES = {"A": "AuthConfig", "F": "FileInfo", "I": "Indexes", "L": "Limit",
                     "O": "Options"}


def overridable(name: str, classes: str, override: frozenset[str],
                override_list: frozenset[str]) -> bool:
    """Whether a .htaccess may hold directive ``name`` whose override ``classes`` are
    the registry's letters, under ``AllowOverride`` ``override`` and
    ``AllowOverrideList`` ``override_list`` (invoke_cmd: ``req_override & override``,
    or the name listed). ``N`` (OR_ALL) is any class; no letter: never."""
    if name.lower() in override_list:
        return True
    if "N" in classes:
        return bool(override)
    return any(_OVERRIDE_CLASSES[c] in override for c in classes)


def _escape(text: str) -> str:
    """Bytes outside printable ASCII as ``\\xNN``, as Apache escapes the command name
    (so a UTF-8 BOM from a Windows editor shows as ``\\xef\\xbb\\xbf``)."""
    raw = text.encode("utf-8", errors="surrogateescape")
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in raw)


def normalise_path(path: str) -> str:
    """No trailing slash (but "/" stays), repeated slashes folded."""
    if not path:
        return path
    path = re.sub(r"/{2,}", "/", path.replace("\\", "/") if _WINDOWS_ABS.match(path) else path)
    return path if path == "/" else path.rstrip("/")


def _has_wildcard(part: str) -> bool:
    return any(c in part for c in "*?[")


def _fnmatch_period(pattern: str, name: str) -> bool:
    # APR_FNM_PERIOD: a leading "." must be matched by a literal "."
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def include_files(pattern: str, optional: bool, state: ReadState) -> list[Node]:
    """The expanded nodes of the files ``pattern`` names (relative to ServerRoot), for
    Include (``optional``: IncludeOptional). server/config.c
    ``ap_process_fnmatch_configs``: the fixed directory part, then each wildcard
    component matched in its directory, matches sorted by name."""
    path = server_root_relative(state.server_root, pattern)
    parts = path.split("/")
    first_wild = next((i for i, p in enumerate(parts) if _has_wildcard(p)), None)
    if first_wild is None:
        return _include_path(path, optional, state)
    base = "/".join(parts[:first_wild]) or "/"
    return _include_glob(base, parts[first_wild:], optional, state)


def _include_glob(base: str, rest: list[str], optional: bool,
                  state: ReadState) -> list[Node]:
    pat, remaining = rest[0], rest[1:]
    try:
        names = state.fs.list_dir(base)
    except OSError as exc:
        if optional:
            return []
        raise ConfigError(f"Include/IncludeOptional: Could not open directory {base}: "
                          f"{exc.strerror or exc}") from None
    matched: list[str] = []
    for name in names:
        if name in (".", "..") or not _fnmatch_period(pat, name):
            continue
        full = base.rstrip("/") + "/" + name
        if remaining and not state.fs.is_dir(full):
            continue  # a wildcard inside the path only matches directories
        matched.append(full)
    if not matched:
        if optional:
            return []
        raise ConfigError(f"Include/IncludeOptional: No matches for the wildcard '{pat}' "
                          f"in '{base}', failing")
    out: list[Node] = []
    for full in sorted(matched):
        if remaining:
            out.extend(_include_glob(full, remaining, optional, state))
        else:
            out.extend(_include_path(full, optional, state))
    return out


def _include_path(path: str, optional: bool, state: ReadState) -> list[Node]:
    """One file, or every file under a directory (recursively, sorted)."""
    if state.depth >= MAX_INCLUDE_DEPTH:
        raise ConfigError(f"Exceeded maximum include depth of {MAX_INCLUDE_DEPTH}, "
                          "There appears to be a recursion.")
    if state.fs.is_dir(path):
        try:
            names = sorted(n for n in state.fs.list_dir(path) if n not in (".", ".."))
        except OSError as exc:
            raise ConfigError(f"Could not open config directory {path}: "
                              f"{exc.strerror or exc}") from None
        out: list[Node] = []
        for n in names:
            out.extend(_include_path(path.rstrip("/") + "/" + n, optional, state))
        return out
    try:
        text = state.fs.read_text(path)
    except OSError as exc:
        if optional:
            return []
        raise ConfigError(f"Could not open configuration file {path}: "
                          f"{exc.strerror or exc}") from None
    state.files.append(path)
    tree = parse_tree(text, path, state.errors)
    state.depth += 1
    try:
        return expand(tree, state)
    finally:
        state.depth -= 1
