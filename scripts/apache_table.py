"""The README's "Coming from Apache" tables, generated from the code.

    python scripts/apache_table.py            # print the generated Markdown
    python scripts/apache_table.py --write    # put it into README.md, between the markers

What each directive does in cgihttpd is decided in three places: the registry of Apache's
modules and their directives, the modules cgihttpd implements and the directives that
protect (``config.modules``); the directive table (``config.directives.DIRECTIVES``); and
``directives.table.apply_node``, which joins them. This script classifies every directive
of the registry the way ``apply_node`` does, so the README cannot say what the code does
not do (``tests/unit/test_readme_apache_table.py`` fails when they differ):

- in the directive table: implemented (except the ones it accepts with no effect, and
  those whose apply function is named ``_refused``: refused at start-up, RewriteMap);
- not in it, and it protects (``modules.protection``): refused at start-up;
- not in it, of an MPM: accepted, one warning for all MPM tuning;
- not in it, of a module cgihttpd implements: accepted, one warning for that module;
- not in it, of a module cgihttpd knows but does not implement: accepted, one warning
  naming the module and its directives.

``Require`` is implemented for some providers only; which ones is asked of the directive
table itself, by applying one ``Require`` line per provider (``_require_forms``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout's code, not whatever an editable install points at
sys.path.insert(0, str(ROOT / "src"))

from cgihttpd.config.directives import AUTHZ_PROVIDERS, DIRECTIVES, interpret  # noqa: E402
from cgihttpd.config.errors import ConfigError  # noqa: E402
from cgihttpd.config.model import Source  # noqa: E402
from cgihttpd.config.modules import (  # noqa: E402
    MPM_MODULES,
    REGISTRY,
    UNIMPLEMENTED_EFFECTS,
    DirectiveInfo,
    ModuleInfo,
    protection,
    refusal,
)
from cgihttpd.config.tree import parse_tree  # noqa: E402

README = ROOT / "README.md"
BEGIN = ("<!-- apache-table: begin. Generated from the code by scripts/apache_table.py "
         "(see its docstring); do not edit by hand. -->")
END = "<!-- apache-table: end -->"

#: The start-up warnings a directive may earn, as the loader words them
#: (``loader._ignored_warnings``); the test loads a config for each and checks the text.
WARNINGS: dict[str, str] = {
    "module": "MODULE: directives not implemented by cgihttpd are ignored: "
              "NAME (FILE:LINE), ...",
    "mpm": "MPM tuning directives have no effect in cgihttpd (one process, asyncio): "
           "NAME (FILE:LINE), ...",
    "noop": "directives accepted with no effect in cgihttpd: NAME (FILE:LINE), ...",
    "unimplemented": "FILE:LINE: module MODULE (SOURCE) is loaded but not implemented "
                     "by cgihttpd; its directives are ignored: NAME (FILE:LINE), ...",
}
_MARK = {"module": "(a)", "mpm": "(b)", "noop": "(c)", "unimplemented": "(d)"}

#: An argument each ``Require`` provider takes in Apache (mod_authz_*.c), to ask the
#: directive table whether cgihttpd enforces that provider; a provider not named here
#: is tried with none.
_REQUIRE_SAMPLES: dict[str, str] = {
    "all": "granted", "method": "GET", "ip": "127.0.0.1", "host": "example.org",
    "forward-dns": "example.org", "env": "PROBE", "expr": "true", "user": "alice",
    "group": "staff", "dbm-group": "staff", "dbd-group": "staff", "ldap-user": "alice",
    "ldap-group": "cn=staff", "ldap-dn": "cn=alice", "ldap-attribute": "uid=alice",
    "ldap-filter": "(uid=alice)", "ldap-search": "(uid=alice)",
}

#: every module loaded, so that each directive and provider is known when probed
_ALL_MODULES = frozenset(REGISTRY.modules)


@dataclass(frozen=True, slots=True)
class Row:
    """One module's directives, by what cgihttpd does with them."""

    module: ModuleInfo
    implemented: tuple[str, ...]
    #: warning kind (a key of WARNINGS) -> the directives that earn it
    ignored: dict[str, tuple[str, ...]]
    refused: tuple[str, ...]


def _shown(info: DirectiveInfo) -> str:
    return info.name + ">" if info.name.startswith("<") else info.name


def _no_effect(name: str) -> bool:
    """In the table, but accepted with no effect (``directives.server._no_effect``):
    the table has no flag for it, so the apply function's origin tells."""
    d = DIRECTIVES[name.lower()]
    return d.apply.__qualname__.startswith("_no_effect.")


def classify(module: ModuleInfo) -> Row:
    """``module``'s directives sorted as ``apply_node`` treats them."""
    implemented: list[str] = []
    ignored: dict[str, list[str]] = {}
    refused: list[str] = []
    for info in sorted(module.directives, key=lambda i: i.name.lstrip("<").lower()):
        name = _shown(info)
        if info.name.lower() in DIRECTIVES:
            if _no_effect(info.name):
                ignored.setdefault("noop", []).append(name)
            elif DIRECTIVES[info.name.lower()].apply.__name__ == "_refused":
                refused.append(name)
            elif info.name == "Require":
                good, bad = _require_forms()
                implemented.append(f"`Require` ({', '.join(good)})" if good else "")
                refused.append(f"`Require` ({', '.join(bad)})" if bad else "")
                continue
            else:
                implemented.append(name)
        elif protection(info) is not None:
            refused.append(name)
        elif module.name in MPM_MODULES:
            ignored.setdefault("mpm", []).append(name)
        elif module.implemented:
            ignored.setdefault("module", []).append(name)
        else:
            ignored.setdefault("unimplemented", []).append(name)
    return Row(module, tuple(n for n in implemented if n),
               {k: tuple(v) for k, v in ignored.items()}, tuple(n for n in refused if n))


def _probe(text: str) -> list[str]:
    """The errors of applying ``text`` (inside a <Directory>) with every module loaded."""
    errors: list[ConfigError] = []
    nodes = parse_tree(f'<Directory "/">\n{text}\n</Directory>\n', "probe.conf", errors)
    draft = interpret(nodes, "/", _ALL_MODULES, Source("probe.conf", 1))
    return [e.message for e in errors + draft.errors]


def _require_forms() -> tuple[list[str], list[str]]:
    """The ``Require`` providers cgihttpd enforces, and those it refuses."""
    good: list[str] = []
    bad: list[str] = []
    for provider in AUTHZ_PROVIDERS:
        line = f"Require {provider} {_REQUIRE_SAMPLES.get(provider, '')}".rstrip()
        (bad if _probe(line) else good).append(f"`{provider}`")
    return good, bad


def refused_example() -> DirectiveInfo | None:
    """A directive (not a section) the tables show refused at start-up: AuthType, the
    one people meet first, while it is refused."""
    refused = [i for m in REGISTRY.modules.values() if not m.implemented
               for i in m.directives if protection(i) is not None
               and i.name.lower() not in DIRECTIVES and not i.name.startswith("<")]
    return next((i for i in refused if i.name == "AuthType"), refused[0] if refused else None)


def invalid_command() -> str:
    """Apache's message for a directive no loaded module defines, as cgihttpd says it."""
    errors = _probe("Frobnicate on")
    return errors[0].replace("Frobnicate", "NAME") if errors else ""


def _label(module: ModuleInfo) -> str:
    name = module.source.removesuffix(".c")
    return f"{name} (`{module.name}`{', always loaded' if module.builtin else ''})"


def _codes(names: Iterable[str]) -> str:
    return ", ".join(n if n.startswith("`") else f"`{n}`" for n in names)


def _ignored_cell(row: Row) -> str:
    return "; ".join(f"{_codes(names)} {_MARK[kind]}" for kind, names in
                     sorted(row.ignored.items(), key=lambda kv: _MARK[kv[0]]))


def _order(module: ModuleInfo) -> tuple[int, str]:
    # core first, then what is always loaded, then LoadModule's, cgihttpd's own last
    rank = (0 if module.name == "core_module" else 3 if module.name == "cgihttpd_module"
            else 1 if module.builtin else 2)
    return rank, module.source.lower()


def render() -> str:
    """The Markdown that goes between the README's markers."""
    modules = sorted(REGISTRY.modules.values(), key=_order)
    rows = [classify(m) for m in modules]
    implemented = [r for r in rows if r.module.implemented]
    others = [r for r in rows if not r.module.implemented]
    out: list[str] = []
    add = out.append
    add(f"### The {len(implemented)} modules cgihttpd implements")
    add("")
    add("| module | implemented | accepted and ignored, with a start-up warning | "
        "refused at start-up: it protects (or, RewriteMap, would rewrite elsewhere) and "
        "cgihttpd does not do it yet |")
    add("|---|---|---|---|")
    for r in implemented:
        done = _codes(r.implemented) or "(no directives of its own)"
        add(f"| {_label(r.module)} | {done} | {_ignored_cell(r)} | {_codes(r.refused)} |")
    add("")
    add("The start-up warnings, one per kind (and per module for (a) and (d)), each "
        "directive named once with where it first appears:")
    add("")
    for kind, text in WARNINGS.items():
        add(f"- {_MARK[kind]} `{text}`")
        if kind == "unimplemented":
            lost = "; ".join(f"{m}: {e}" for m, e in sorted(UNIMPLEMENTED_EFFECTS.items()))
            add(f"  For these modules it also says what is lost, after `by cgihttpd:` "
                f"({lost})")
    example = refused_example()
    if example is not None:
        add(f"- refused: `FILE:LINE: {refusal(example.name, protection(example) or '')}`")
    add(f"- a directive no loaded module defines: `FILE:LINE: {invalid_command()}`")
    add("")
    refusing = [r for r in others if r.refused and not r.ignored]
    mixed = [r for r in others if r.ignored]
    empty = [r for r in others if not r.refused and not r.ignored]
    add("<details>")
    add(f"<summary>The {len(others)} other modules of Apache 2.4 that cgihttpd knows, "
        "and what it does with their directives</summary>")
    add("")
    add("Refused at start-up (every directive protects, and cgihttpd does not enforce "
        "them yet):")
    add("")
    for r in refusing:
        add(f"- {_label(r.module)}: {_codes(r.refused)}")
    add("")
    add("Accepted and ignored, with the warning (d); the directives that protect are "
        "refused:")
    add("")
    for r in mixed:
        line = f"- {_label(r.module)}: {_codes(r.ignored['unimplemented'])}"
        if r.refused:
            line += f"; refused: {_codes(r.refused)}"
        add(line)
    add("")
    add("No directives of their own; `LoadModule` of one gives the warning (d): "
        + ", ".join(f"`{r.module.name}`" for r in empty) + ".")
    add("")
    add("</details>")
    return "\n".join(out) + "\n"


def section(readme: str) -> str | None:
    """The text between the markers of ``readme`` (None if they are missing)."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        return None
    return readme[start + len(BEGIN):end].strip("\n") + "\n"


def replace_section(readme: str, body: str) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{README}: the markers are missing:\n{BEGIN}\n{END}")
    return readme[:start + len(BEGIN)] + "\n" + body + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="replace the section of README.md between its markers")
    args = parser.parse_args(argv)
    body = render()
    if args.write:
        README.write_text(replace_section(README.read_text(), body))
    else:
        sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
