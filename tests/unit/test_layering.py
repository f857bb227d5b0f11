"""The package's layering as one table, checked against every import in src/cgihttpd.

A *unit* is a subpackage (``config``, ``http``, ``cgi``, ``warm``) or a top-level module
(``app``, ``server``, ...). Imports are read with ``ast`` (nothing is imported), those under
``if TYPE_CHECKING:`` left out since they never run. Every rule is checked transitively
within the package: a module breaks "config imports nothing from http" as well when it
imports a module that imports ``http``. Imports made by the standard library or other
distributions are not followed.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import cgihttpd

ROOT = Path(cgihttpd.__file__).resolve().parent
PKG = "cgihttpd"

#: The pure cores: values in, values out (STYLE.md habit 1); a package stands for all
#: its modules. The union of what four separate tests used to check one by one.
PURE_CORES = (
    # configuration: text -> tree -> frozen values (the loader is the only file reader)
    "cgihttpd.config.lexer", "cgihttpd.config.tree", "cgihttpd.config.modules",
    "cgihttpd.config.indexopts", "cgihttpd.config.report", "cgihttpd.config.zeroconf",
    "cgihttpd.config.directives", "cgihttpd.config.readtimeout",
    # CGI: script output, meta-variables, #! lines, conditions, the reply plan
    "cgihttpd.cgi.parser", "cgihttpd.cgi.environ", "cgihttpd.cgi.shebang",
    "cgihttpd.cgi.conditions", "cgihttpd.cgi.reply", "cgihttpd.cgi.diagnosis",
    "cgihttpd.cgi.devpage",
    # HTTP: framing, head limits, reason phrases, the engine's own error pages
    "cgihttpd.http.framing", "cgihttpd.http.limits", "cgihttpd.http.status",
    "cgihttpd.http.errorpage",
    # request -> vhost -> target -> plan
    "cgihttpd.walk", "cgihttpd.vhost", "cgihttpd.resolve", "cgihttpd.static.plan",
    "cgihttpd.static.autoindex", "cgihttpd.response", "cgihttpd.mime",
    # shared vocabulary
    "cgihttpd.asgi", "cgihttpd.banner", "cgihttpd.cache",
    # access control: Require trees, Order/Allow/Deny, the expression subset
    "cgihttpd.authz", "cgihttpd.expr",
    # mod_rewrite: rules as values, the engine on facts
    "cgihttpd.rewrite",
    # the lifecycle: signals and -k verbs -> states and plans
    "cgihttpd.control",
    # the learner's start: the course's site and hosts-file lines as text
    "cgihttpd.starter.hostsfile", "cgihttpd.starter.site",
)

#: The CGI cores that take the OS's answers as values (stat results, the environment
#: are passed in), so they have no use for ``os`` at all.
CGI_CORES = ("cgihttpd.cgi.parser", "cgihttpd.cgi.environ", "cgihttpd.cgi.shebang",
             "cgihttpd.cgi.conditions", "cgihttpd.cgi.reply", "cgihttpd.cgi.diagnosis",
             "cgihttpd.cgi.devpage")

#: What doing IO takes: an event loop, processes, sockets, threads, the HTTP engines.
IO_MACHINERY = ("asyncio", "subprocess", "socket", "threading", "httptools", "uvicorn",
                "uvloop")


@dataclass(frozen=True, slots=True)
class Rule:
    """Modules of ``source`` (a unit, or a tuple of modules) must not reach ``forbidden``
    (a unit of the package, or a top-level module outside it)."""

    source: str | tuple[str, ...]
    forbidden: str
    why: str


RULES: tuple[Rule, ...] = (
    Rule("config", "http", "configuration knows no HTTP engine"),
    Rule("config", "cgi", "configuration knows nothing of CGI runs"),
    Rule("config", "app", "configuration knows nothing of requests being served"),
    Rule("cgi", "http", "CGI semantics know no HTTP engine"),
    Rule("warm", "http", "launchers know no HTTP engine"),
    Rule("cgi", "warm", "CGI sees one Launcher seam; the runtime composes the warm one"),
    *(Rule(PURE_CORES, io, "pure cores do no IO: values in, values out")
      for io in IO_MACHINERY),
    Rule(CGI_CORES, "os", "the CGI cores are handed what the OS says"),
)

# --- reading the package -----------------------------------------------------------


def module_name(path: Path) -> str:
    parts = [PKG, *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def unit(module: str) -> str:
    """``cgihttpd.config.model`` -> ``config``; ``cgihttpd.app`` -> ``app``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


UNITS = {unit(m) for m in MODULES}


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
                (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
                or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")):
            for sub in node.body:
                skip.update(id(n) for n in ast.walk(sub))
    return skip


def imports_of(module: str) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for every import ``module`` runs: dotted names for the
    package's own modules (``from cgihttpd.config import directives`` names
    ``cgihttpd.config.directives``), top-level names for everything else."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skip = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}", node.lineno


def _own(name: str) -> bool:
    return name == PKG or name.startswith(PKG + ".")


#: module -> [(imported, line)], read once
IMPORTS: dict[str, list[tuple[str, int]]] = {m: list(imports_of(m)) for m in MODULES}


def _loaded(name: str) -> list[str]:
    """The package modules an import of ``name`` runs: it and its parent packages."""
    parts = name.split(".")
    return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1))
            if m in MODULES]


def reach(start: str) -> dict[str, tuple[str, int] | None]:
    """Every package module importing ``start`` runs, each with the (module, line) that
    first imported it: enough to print the chain that breaks a rule."""
    via: dict[str, tuple[str, int] | None] = {start: None}
    todo = deque([start])  # breadth first: the chains printed are the shortest
    while todo:
        here = todo.popleft()
        for name, line in IMPORTS[here]:
            if not _own(name):
                continue
            for m in _loaded(name):
                if m not in via:
                    via[m] = (here, line)
                    todo.append(m)
    return via


def chain(via: dict[str, tuple[str, int] | None], end: str) -> str:
    steps = [end]
    link = via[end]
    while link is not None:
        steps.append(f"{link[0]}:{link[1]}")
        link = via[link[0]]
    return " <- ".join(steps)


def members(source: str | tuple[str, ...]) -> list[str]:
    """The modules a rule's ``source`` stands for (a package includes its modules)."""
    if isinstance(source, str):
        found = [m for m in MODULES if unit(m) == source]
        assert found, f"the layering table names a unit that does not exist: {source}"
        return found
    found = [m for m in MODULES if any(m == s or m.startswith(s + ".") for s in source)]
    missing = [s for s in source if s not in MODULES]
    assert not missing, f"the layering table names modules that do not exist: {missing}"
    return found


def breaches(rule: Rule) -> list[str]:
    """Each import that breaks the rule (the last step into what it forbids), with the
    shortest chain of imports that leads to it from the rule's source."""
    inside = rule.forbidden in UNITS  # else a module outside the package (stdlib's http!)
    found: dict[str, str] = {}

    def note(step: str, path: str) -> None:
        if step not in found or len(path) < len(found[step]):
            found[step] = path

    for module in members(rule.source):
        via = reach(module)
        for m, link in via.items():
            if inside:
                if (unit(m) == rule.forbidden and link is not None
                        and unit(link[0]) != rule.forbidden):
                    note(f"{link[0]}:{link[1]} -> {m}", chain(via, m))
                continue
            for name, line in IMPORTS[m]:
                if not _own(name) and name.split(".")[0] == rule.forbidden:
                    note(f"{m}:{line} -> {name}", f"{name} <- {chain(via, m)}")
    # `import cgihttpd.http.limits` also runs cgihttpd/http/__init__.py: name the module
    steps = [step for step in found if not any(
        other.startswith(step + ".") for other in found)]
    return [f"{step}  ({found[step]})" for step in sorted(steps)]


# --- the rules -----------------------------------------------------------------------


def _rule_id(rule: Rule) -> str:
    source = rule.source if isinstance(rule.source, str) else "cores"
    return f"{source}-not-{rule.forbidden}"


@pytest.mark.parametrize("rule", RULES, ids=_rule_id)
def test_layering_rule(rule: Rule) -> None:
    found = breaches(rule)
    assert not found, f"{rule.why}:\n  " + "\n  ".join(found)


def unit_cycles() -> set[frozenset[str]]:
    """The strongly connected groups of units (more than one unit) in the import graph."""
    graph: dict[str, set[str]] = {}
    for module, imported in IMPORTS.items():
        for name, _ in imported:
            if _own(name) and name != PKG and unit(name) != unit(module):
                graph.setdefault(unit(module), set()).add(unit(name))

    def reachable(a: str) -> set[str]:
        seen, todo = {a}, [a]
        while todo:
            for b in graph.get(todo.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    reach_of = {u: reachable(u) for u in graph}
    groups = set()
    for u in graph:
        group = frozenset(v for v in reach_of[u] if u in reach_of.get(v, ()))
        if len(group) > 1:
            groups.add(group)
    return groups


def test_no_cycles_between_units() -> None:
    new = unit_cycles()
    edges = sorted(
        f"{module}:{line} -> {name}"
        for module, imported in IMPORTS.items() for name, line in imported
        if _own(name) and name != PKG and unit(module) != unit(name)
        and any({unit(module), unit(name)} <= c for c in new))
    assert not new, "cycles between units:\n  " + "\n  ".join(edges)


# --- the checker checks ------------------------------------------------------------------


def test_the_reader_follows_what_the_package_does() -> None:
    loader = {name for name, _ in IMPORTS["cgihttpd.config.loader"]}
    assert "cgihttpd.config.directives" in loader  # `from cgihttpd.config import directives`
    # http/cycle.py names the protocol only for mypy (under TYPE_CHECKING)
    assert "cgihttpd.http.protocol" not in {name for name, _ in IMPORTS["cgihttpd.http.cycle"]}
    assert "cgihttpd.http.protocol" in reach("cgihttpd.server")
    assert unit("cgihttpd.config.directives.table") == "config"
    assert unit("cgihttpd.app") == "app"


# --- state --------------------------------------------------------------------------------

#: Process-wide by nature (issue 8): the directive registry, filled once at import as
#: Apache's command tables, and the Date clock's formatted second.
ALLOWED_STATE = {"DIRECTIVES", "_date_cache"}
_CONTAINERS = {"dict", "set", "list", "OrderedDict", "defaultdict", "deque",
               "WeakValueDictionary", "WeakKeyDictionary", "WeakSet", "BoundedCache"}


def module_state() -> list[str]:
    """Module-level mutable state: a lower-case name bound to a container, an upper-case
    name bound to an EMPTY container (a cache being filled, not a table), and any
    ``global`` statement. The demo site's scripts are not the server's."""
    found: list[str] = []
    for module, path in MODULES.items():
        if module.startswith("cgihttpd.demo"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for t in targets:
                if not isinstance(t, ast.Name) or t.id == "__all__" or t.id in ALLOWED_STATE:
                    continue
                func = value.func if isinstance(value, ast.Call) else None
                called = getattr(func, "id", None) or getattr(func, "attr", None)
                call = called in _CONTAINERS
                literal = isinstance(value, (ast.Dict, ast.Set, ast.List))
                empty = (call and not value.args) or (literal and not (  # type: ignore[union-attr]
                    getattr(value, "keys", None) or getattr(value, "elts", None)))
                if (literal or call) and (not t.id.isupper() or empty):
                    found.append(f"{module}:{node.lineno} {t.id}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Global) and not set(node.names) <= ALLOWED_STATE:
                found.append(f"{module}:{node.lineno} global {', '.join(node.names)}")
    return found


def test_no_module_level_mutable_state() -> None:
    """What a running server remembers lives in its ``Runtime`` (cgihttpd.runtime)."""
    assert module_state() == []


#: The composition root and who may hold it: everything else is handed its parts.
RUNTIME_HOLDERS = {"cgihttpd.runtime", "cgihttpd.app", "cgihttpd.cli", "cgihttpd.server",
                   "cgihttpd.__main__"}


def test_only_the_shell_imports_the_runtime() -> None:
    wrong = sorted(m for m in MODULES if m not in RUNTIME_HOLDERS
                   and "cgihttpd.runtime" in reach(m))
    assert wrong == [], f"imports the composition root: {wrong}"


def test_the_state_check_sees_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text("TABLE = {'a': 1}\n_cache = {}\nCACHE = {}\nNAMES = ('x',)\n"
                    "def f():\n    global _n\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "cgihttpd.fake", fake)
    assert sorted(module_state()) == ["cgihttpd.fake:2 _cache", "cgihttpd.fake:3 CACHE",
                                      "cgihttpd.fake:6 global _n"]
