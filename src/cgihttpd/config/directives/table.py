"""The table itself: ``DIRECTIVES`` (name -> arity, Apache's description, apply
function, and for the directives Apache runs while reading, their EXEC_ON_READ action),
the ``directive`` and ``on_read`` decorators the family modules register with, the
argument checks of server/config.c ``invoke_cmd``, the number parsers Apache uses, and
``interpret``/``apply_node``, which walk an expanded tree enforcing where each directive
may appear (``modules.REGISTRY`` placements, ``ap_check_cmd_context``). Knows no
particular directive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from cgihttpd.config.directives.draft import Apply, Arity, Ctx, Draft, ServerDraft
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import Source
from cgihttpd.config.modules import REGISTRY, protection, refusal
from cgihttpd.config.tree import Node, ReadAction


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    arity: Arity
    description: str
    apply: Apply
    #: ap_check_cmd_context(GLOBAL_ONLY): not in <VirtualHost> either
    global_only: bool = False
    #: what it does while the file is read (``tree.expand`` calls it as it meets the
    #: node); None for a directive that acts only when the tree is applied
    read: ReadAction | None = None

    @property
    def exec_on_read(self) -> bool:
        """Apache's EXEC_ON_READ flag (include/http_config.h): run while reading."""
        return self.read is not None


DIRECTIVES: dict[str, Directive] = {}


def directive(name: str, arity: Arity, description: str, *, global_only: bool = False,
              read: ReadAction | None = None) -> Callable[[Apply], Apply]:
    """Register ``name`` with its apply function (and ``read``, if it also acts while
    the file is read, keeping its node for the second phase)."""

    def register(fn: Apply) -> Apply:
        DIRECTIVES[name.lower()] = Directive(name, arity, description, fn, global_only,
                                             read)
        return fn

    return register


def on_read(name: str, arity: Arity, description: str) -> Callable[[ReadAction], ReadAction]:
    """Register ``name`` as a directive that acts only while the file is read
    (EXEC_ON_READ): its read action returns what takes its place, so no node of it
    reaches the second phase."""

    def register(fn: ReadAction) -> ReadAction:
        DIRECTIVES[name.lower()] = Directive(name, arity, description, _read_already,
                                             read=fn)
        return fn

    return register


def _read_already(ctx: Ctx, node: Node) -> None:
    # tree.expand replaced the node with what it stands for: reaching here is a bug
    raise AssertionError(f"{node.name} at {node.source} was not acted on while reading")


def check_arity(d: Directive, node: Node) -> None:
    """server/config.c ``invoke_cmd``'s messages for each argument style."""
    args = [a for a in node.args]
    n = len(args)
    missing = any(a == "" for a in args)
    name, desc = d.name, d.description  # Apache names the command as it defines it
    if d.arity == "TAKE1" and (n != 1 or missing):
        raise ConfigError(f"{name} takes one argument, {desc}")
    if d.arity == "TAKE2" and (n != 2 or missing):
        raise ConfigError(f"{name} takes two arguments, {desc}")
    if d.arity == "TAKE12" and not 1 <= n <= 2:
        raise ConfigError(f"{name} takes 1-2 arguments, {desc}")
    if d.arity == "TAKE23" and not 2 <= n <= 3:
        raise ConfigError(f"{name} takes two or three arguments, {desc}")
    if d.arity == "TAKE123" and (not 1 <= n <= 3 or args[0] == ""):
        raise ConfigError(f"{name} takes one, two or three arguments, {desc}")
    if d.arity == "ITERATE" and n < 1:
        raise ConfigError(f"{name} requires at least one argument, {desc}")
    if d.arity == "ITERATE2" and n < 2:
        raise ConfigError(f"{name} requires at least two arguments, {desc}")
    if d.arity == "NO_ARGS" and n:
        raise ConfigError(f"{name} takes no arguments")
    if d.arity == "FLAG" and (n != 1 or args[0].lower() not in ("on", "off")):
        raise ConfigError(f"{name} must be On or Off")


def flag(node: Node) -> bool:
    return node.args[0].lower() == "on"


def atoi(text: str) -> int:
    """C's atoi, which Apache uses for most numbers: leading digits, else 0."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def seconds(node: Node) -> float:
    """ap_timeout_parameter_parse: a number with an optional unit (ms, s, mi, h)."""
    m = re.fullmatch(r"(\d+)(ms|s|mi|h)?", node.args[0], re.IGNORECASE)
    if m is None:
        raise ConfigError(f"{node.name} has wrong format")
    value = int(m.group(1) or 0)
    unit = (m.group(2) or "s").lower()
    return value * {"ms": 0.001, "s": 1.0, "mi": 60.0, "h": 3600.0}[unit]


def global_only_check(ctx: Ctx, node: Node) -> None:
    if not ctx.server.is_main:
        raise ConfigError(f"{node.name} cannot occur within <VirtualHost> section")


# --- applying a tree --------------------------------------------------------------------


def interpret(nodes: list[Node], server_root: str, loaded: frozenset[str],
              main_source: Source) -> Draft:
    """Apply every node of an expanded tree; errors are collected in the draft."""
    draft = Draft(server_root=server_root, main=ServerDraft(source=main_source, is_main=True))
    apply_nodes(Ctx(draft, draft.main, None, None, loaded), nodes)
    return draft


def apply_nodes(ctx: Ctx, nodes: list[Node] | tuple[Node, ...]) -> None:
    for node in nodes:
        try:
            apply_node(ctx, node)
        except ConfigError as exc:
            if exc.source is None:
                exc.source = node.source
            ctx.draft.errors.append(exc)


def _unenforced_protection(node: Node,
                           loaded: frozenset[str]) -> tuple[str, str, Source] | None:
    """For a node the table does not implement: the first protecting directive in it
    (itself, or one inside it for a section such as <If>, whose contents would be
    ignored with it) as its name, what it protects and where it is; or None."""
    info = REGISTRY.lookup(node.key, loaded)
    if info is None:
        return None
    what = protection(info)
    if what is not None:
        return (info.name + ">" if node.is_section else info.name), what, node.source
    for child in node.children or ():
        found = _unenforced_protection(child, loaded)
        if found is not None:
            return found
    return None


def apply_node(ctx: Ctx, node: Node) -> None:
    loaded = ctx.loaded
    info = REGISTRY.lookup(node.key, loaded)
    if info is None:
        # Read before any MPM was loaded, and the MPM loaded later does not define it
        # (apache2 -t: ThreadsPerChild before LoadModule mpm_prefork_module).
        shown = ("<" + node.name) if node.is_section else node.name
        raise ConfigError(f"Invalid command '{shown}', perhaps misspelled or defined by a "
                          "module not included in the server configuration")
    shown = info.name  # as the module defines it ("DocumentRoot", "<Directory")
    # Apache's messages name a command as its module spells it, whatever the case written
    node = replace(node, name=info.name[1:] if node.is_section else info.name)
    # invoke_cmd: RSRC_CONF-only directives inside a section, ACCESS_CONF-only ones
    # outside (the server level masks OR_AUTHCFG and OR_LIMIT).
    in_section = ctx.section is not None
    if (info.placement == "R" and in_section) or (info.placement == "A" and not in_section):
        where = f"in {ctx.parent} context" if ctx.parent else "here"
        raise ConfigError(f"{shown} not allowed {where}")
    if node.key == "<virtualhost":
        if not ctx.server.is_main:
            raise ConfigError("<VirtualHost> cannot occur within <VirtualHost> section")
    d = DIRECTIVES.get(node.key)
    if d is None:
        # a protection cgihttpd does not enforce is refused, never ignored (issue 9)
        refused = _unenforced_protection(node, loaded)
        if refused is not None:
            name, what, source = refused
            raise ConfigError(refusal(name, what, ctx.draft.htaccess), source)
        if info.module == "ssl_module":
            # TLS fails closed (directives.tls): never weaker than the config asks
            raise ConfigError(f"{info.name} is not supported by cgihttpd yet; refusing to "
                              "start rather than serve TLS other than configured")
        ctx.ignore(node, info.module)
        if node.is_section:
            # the contents of a section we do not implement are not applied either
            for child in node.children or ():
                child_info = REGISTRY.lookup(child.key, loaded)
                if child_info is not None:
                    ctx.ignore(child, child_info.module)
        return
    if d.global_only:
        global_only_check(ctx, node)
    if not node.is_section:
        check_arity(d, node)
    d.apply(ctx, node)
