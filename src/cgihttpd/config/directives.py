"""The directive table: each directive cgihttpd acts on, its arity and what it sets.

This module owns the second configuration phase (STYLE habit 3): an expanded node tree
(see ``tree``) → a ``Draft`` of servers, sections and server-wide values, through the
table ``DIRECTIVES`` (name → arity, Apache's description, apply function). It enforces
where a directive may appear, with Apache's messages (server/config.c ``invoke_cmd`` and
``ap_check_cmd_context``), using the placements of ``modules.REGISTRY``.

It knows nothing of files (paths are only joined to ServerRoot, never opened) nor of the
final frozen shape beyond ``model`` (``loader`` merges the draft into a ServerConfig).
Directives of known modules that are not in the table are recorded as ignored, so the
loader can warn about each of them once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Literal

from cgihttpd.config.indexopts import add_index_options
from cgihttpd.config.model import (
    OPTIONS_ALL,
    Address,
    Alias,
    DirConf,
    OptionsSpec,
    Section,
    SectionKind,
    Source,
)
from cgihttpd.config.modules import REGISTRY
from cgihttpd.config.tree import Node, normalise_path, server_root_relative
from cgihttpd.errors import ConfigError
from cgihttpd.http.limits import ReadTimeout

Arity = Literal["TAKE1", "TAKE2", "TAKE12", "TAKE23", "ITERATE", "ITERATE2", "FLAG", "RAW"]

# --- the draft the table fills --------------------------------------------------------


@dataclass
class PendingLog:
    """A CustomLog/TransferLog before LogFormat nicknames are known (resolved at the end,
    as Apache's mod_log_config does in its open_logs hook)."""

    target: str
    format_or_nick: str | None  # None: TransferLog's default format
    condition: str | None
    source: Source


@dataclass
class ServerDraft:
    """A server (the main one, or a <VirtualHost>) while reading; None means unset."""

    source: Source
    is_main: bool
    addresses: tuple[Address, ...] = ()
    server_name: str | None = None
    #: the ServerName's port, 0 when it names none (core.c server_hostname_port)
    server_name_port: int | None = None
    server_aliases: list[str] = field(default_factory=list)
    server_admin: str | None = None
    document_root: str | None = None
    document_root_source: Source | None = None
    error_log: str | None = None
    log_level: str | None = None
    custom_logs: list[PendingLog] = field(default_factory=list)
    log_formats: dict[str, str] = field(default_factory=dict)
    default_format: str | None = None
    aliases: list[Alias] = field(default_factory=list)
    base: DirConf = field(default_factory=DirConf)
    sections: list[Section] = field(default_factory=list)
    timeout: float | None = None
    keepalive: bool | None = None
    keepalive_timeout: float | None = None
    max_keepalive_requests: int | None = None
    server_signature: Literal["on", "off", "email"] | None = None
    cgi_script_timeout: float | None = None
    script_log: str | None = None
    script_log_length: int | None = None
    script_log_buffer: int | None = None


@dataclass
class SectionDraft:
    kind: SectionKind
    pattern: str
    regex: bool
    source: Source
    tag: str  # "<Directory>" etc., for messages
    conf: DirConf = field(default_factory=DirConf)


@dataclass
class Draft:
    """Everything read, before merging (``loader.finish``)."""

    server_root: str
    main: ServerDraft
    vhosts: list[ServerDraft] = field(default_factory=list)
    listens: list[tuple[Address, Source]] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    server_tokens: str | None = None
    user: str | None = None
    group: str | None = None
    pid_file: str | None = None
    types_config: tuple[str, Source] | None = None
    max_processes: int = 0
    #: CGIWarmPreload modules, in order, each once
    warm_preload: list[str] = field(default_factory=list)
    #: RequestReadTimeout stages set ("handshake", "header", "body")
    read_timeouts: dict[str, ReadTimeout] = field(default_factory=dict)
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: module -> directives of it that appeared and that cgihttpd ignores
    ignored: dict[str, list[tuple[str, Source]]] = field(default_factory=dict)


@dataclass
class Ctx:
    """Where a directive is being applied."""

    draft: Draft
    server: ServerDraft
    section: SectionDraft | None
    #: the enclosing section's tag ("<VirtualHost>", "<Directory>", ...) or None
    parent: str | None
    #: the modules loaded when reading finished
    loaded: frozenset[str]

    @property
    def dir(self) -> DirConf:
        return self.section.conf if self.section is not None else self.server.base

    def set_dir(self, **changes: object) -> None:
        if self.section is not None:
            self.section.conf = replace(self.section.conf, **changes)  # type: ignore[arg-type]
        else:
            self.server.base = replace(self.server.base, **changes)  # type: ignore[arg-type]

    def root(self, path: str) -> str:
        return server_root_relative(self.draft.server_root, path)

    def ignore(self, node: Node, module: str) -> None:
        self.draft.ignored.setdefault(module, []).append((node.name, node.source))
        self.set_dir(ignored=self.dir.ignored + ((node.name, node.source),))


Apply = Callable[[Ctx, Node], None]


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    arity: Arity
    description: str
    apply: Apply
    #: ap_check_cmd_context(GLOBAL_ONLY): not in <VirtualHost> either
    global_only: bool = False


DIRECTIVES: dict[str, Directive] = {}


def directive(name: str, arity: Arity, description: str, *,
              global_only: bool = False) -> Callable[[Apply], Apply]:
    def register(fn: Apply) -> Apply:
        DIRECTIVES[name.lower()] = Directive(name, arity, description, fn, global_only)
        return fn

    return register


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
    if d.arity == "ITERATE" and n < 1:
        raise ConfigError(f"{name} requires at least one argument, {desc}")
    if d.arity == "ITERATE2" and n < 2:
        raise ConfigError(f"{name} requires at least two arguments, {desc}")
    if d.arity == "FLAG" and (n != 1 or args[0].lower() not in ("on", "off")):
        raise ConfigError(f"{name} must be On or Off")


def _flag(node: Node) -> bool:
    return node.args[0].lower() == "on"


def _atoi(text: str) -> int:
    """C's atoi, which Apache uses for most numbers: leading digits, else 0."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def _seconds(node: Node) -> float:
    """ap_timeout_parameter_parse: a number with an optional unit (ms, s, mi, h)."""
    m = re.fullmatch(r"(\d+)(ms|s|mi|h)?", node.args[0], re.IGNORECASE)
    if m is None:
        raise ConfigError(f"{node.name} has wrong format")
    value = int(m.group(1) or 0)
    unit = (m.group(2) or "s").lower()
    return value * {"ms": 0.001, "s": 1.0, "mi": 60.0, "h": 3600.0}[unit]


def _global_only_check(ctx: Ctx, node: Node) -> None:
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
        ctx.ignore(node, info.module)
        if node.is_section:
            # the contents of a section we do not implement are not applied either
            for child in node.children or ():
                child_info = REGISTRY.lookup(child.key, loaded)
                if child_info is not None:
                    ctx.ignore(child, child_info.module)
        return
    if d.global_only:
        _global_only_check(ctx, node)
    if not node.is_section:
        check_arity(d, node)
    d.apply(ctx, node)


# --- sections ---------------------------------------------------------------------------


def _parse_address(text: str, for_listen: bool = False) -> Address:
    """``*``, ``*:80``, ``_default_:80``, ``1.2.3.4:80``, ``[::1]:80``, ``name``."""
    host, port_text = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ConfigError(f"Invalid address or port: {text}")
        host = text[: end + 1]
        rest = text[end + 1 :]
        if rest.startswith(":"):
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:  # bare IPv6
        host = f"[{text}]"
    if host in ("_default_", ""):
        host = "*"
    port: int | None = None
    if port_text not in (None, "*"):
        if for_listen and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
            raise ConfigError("Port must be specified")
        # vhost.c get_addresses: a port it cannot read means any port (apache2 -t accepts
        # <VirtualHost *:abc>)
        port = int(port_text) if port_text.isdigit() and int(port_text) > 0 else None
    return Address(host.lower(), port)


@directive("<VirtualHost", "RAW", "Container to map directives to a particular virtual host, "
           "takes one or more host addresses")
def _virtualhost(ctx: Ctx, node: Node) -> None:
    if not node.args:
        raise ConfigError("<VirtualHost> directive requires additional arguments")
    vh = ServerDraft(source=node.source, is_main=False,
                     addresses=tuple(_parse_address(a) for a in node.args))
    ctx.draft.vhosts.append(vh)
    apply_nodes(Ctx(ctx.draft, vh, None, "<VirtualHost>", ctx.loaded), node.children or ())


def _section(kind: SectionKind, match_form: bool, tag: str) -> Apply:
    def apply(ctx: Ctx, node: Node) -> None:
        args = list(node.args)
        if not args or args == [""]:
            raise ConfigError(f"{tag} directive requires additional arguments")
        regex = match_form
        if args[0] == "~" and not match_form:
            regex = True
            args = args[1:]
            if not args:
                raise ConfigError(f"{tag} directive requires additional arguments")
        if len(args) != 1:
            raise ConfigError(f"{tag[:-1]} takes one argument, {DIRECTIVES[tag[:-1].lower()].description}")
        pattern = args[0]
        if regex:
            try:
                re.compile(pattern)
            except re.error:
                raise ConfigError("Regular expression could not be compiled.") from None
        elif kind == "directory":
            pattern = normalise_path(ctx.root(pattern))
        within: SectionDraft | None = None
        if ctx.section is not None:
            if ctx.section.kind == "location":
                # core.c filesection (apache2 -t)
                raise ConfigError(f"{tag} cannot occur within {ctx.section.tag} section")
            if ctx.section.kind == "directory":
                # core.c: added to that <Directory>'s own list of <Files>, which the
                # file walk applies wherever that <Directory> applies
                within = ctx.section
            else:
                ctx.draft.warnings.append(
                    f"{node.source}: {tag} nested in {ctx.section.tag} is applied as if "
                    "it stood at the level of the enclosing server")
        sec = SectionDraft(kind, pattern, regex, node.source, tag)
        apply_nodes(Ctx(ctx.draft, ctx.server, sec, tag, ctx.loaded), node.children or ())
        ctx.server.sections.append(Section(
            sec.kind, sec.pattern, sec.regex, sec.conf, sec.source,
            within=None if within is None else within.pattern,
            within_regex=within is not None and within.regex))

    return apply


_SECTION_DESC = {
    "directory": "Container for directives affecting resources located in the specified "
                 "directories",
    "files": "Container for directives affecting files matching specified patterns",
    "location": "Container for directives affecting resources accessed through the "
                "specified URL paths",
}
for _kind, _plain, _match in (("directory", "Directory", "DirectoryMatch"),
                              ("files", "Files", "FilesMatch"),
                              ("location", "Location", "LocationMatch")):
    directive("<" + _plain, "RAW", _SECTION_DESC[_kind])(
        _section(_kind, False, f"<{_plain}>"))  # type: ignore[arg-type]
    directive("<" + _match, "RAW", _SECTION_DESC[_kind])(
        _section(_kind, True, f"<{_match}>"))  # type: ignore[arg-type]


# --- server-wide (core, mpm, mod_so, mod_unixd) -----------------------------------------


@directive("ServerRoot", "TAKE1", "Common directory of server-related files (logs, confs, etc.)")
def _server_root(ctx: Ctx, node: Node) -> None:
    # Read already by tree.expand (it governs relative Includes); later paths use it.
    ctx.draft.server_root = normalise_path(node.args[0])


@directive("Listen", "RAW", "A port number or a numeric IP address and a port number, "
           "and an optional protocol", global_only=True)
def _listen(ctx: Ctx, node: Node) -> None:
    if not 1 <= len(node.args) <= 2:
        raise ConfigError("Listen requires 1 or 2 arguments.")
    text = node.args[0]
    if text.isdigit():
        addr = Address("*", int(text))
    else:
        addr = _parse_address(text, for_listen=True)
    if addr.port is None:
        raise ConfigError("Port must be specified")
    if any(a == addr for a, _ in ctx.draft.listens):
        # listen.c alloc_listener (apache2 -t)
        raise ConfigError("Cannot define multiple Listeners on the same IP:port")
    if addr.host == "0.0.0.0":
        # Apache keeps "0.0.0.0:80" apart from "80" (both accepted); for us both mean
        # every IPv4 address, so the duplicate is dropped when the config is frozen
        addr = Address("*", addr.port)
    ctx.draft.listens.append((addr, node.source))


@directive("LoadModule", "TAKE2", "a module name and the name of a shared object file to "
           "load it from")
def _load_module(ctx: Ctx, node: Node) -> None:
    pass  # done while reading (tree.expand): it decides <IfModule> and valid commands


@directive("PidFile", "TAKE1", "A file for logging the server process ID", global_only=True)
def _pid_file(ctx: Ctx, node: Node) -> None:
    ctx.draft.pid_file = ctx.root(node.args[0])


@directive("User", "TAKE1", "Effective user id for this server", global_only=True)
def _user(ctx: Ctx, node: Node) -> None:
    ctx.draft.user = node.args[0]


@directive("Group", "TAKE1", "Effective group id for this server", global_only=True)
def _group(ctx: Ctx, node: Node) -> None:
    ctx.draft.group = node.args[0]


def _no_effect(name: str, arity: Arity, desc: str, *, global_only: bool = False) -> None:
    """Accepted, meaningless for cgihttpd (one process, no lock files): listed once in a
    start-up warning so nothing is ignored silently."""

    def apply(ctx: Ctx, node: Node) -> None:
        ctx.draft.ignored.setdefault("(no effect in cgihttpd)", []).append(
            (node.name, node.source))

    directive(name, arity, desc, global_only=global_only)(apply)


_no_effect("Mutex", "RAW", "mutex (or \"default\") and mechanism", global_only=True)
_no_effect("DefaultRuntimeDir", "TAKE1", "Common directory for run-time files (shared "
           "memory, locks, etc.)")
_no_effect("ScriptSock", "TAKE1", "the name of the socket to use for communication with "
           "the cgi daemon.", global_only=True)
_no_effect("AccessFileName", "ITERATE", "Name(s) of per-directory config files (default: "
           ".htaccess)")


@directive("HostnameLookups", "RAW", "\"on\" to enable, \"off\" to disable reverse DNS "
           "lookups, or \"double\" to enable double-reverse DNS lookups")
def _hostname_lookups(ctx: Ctx, node: Node) -> None:
    if len(node.args) != 1 or node.args[0].lower() not in ("on", "off", "double"):
        raise ConfigError("parameter must be 'on', 'off', or 'double'")
    if node.args[0].lower() != "off":
        ctx.draft.ignored.setdefault("(no effect in cgihttpd)", []).append(
            (f"HostnameLookups {node.args[0]}", node.source))


_LIMITS = {
    "limitrequestline": ("request_line", "Limit on maximum size of an HTTP request line"),
    "limitrequestfieldsize": ("request_field_size", "Limit on maximum size of an HTTP "
                              "request header field"),
    "limitrequestfields": ("request_fields", "Limit (0 = unlimited) on max number of header "
                           "fields in a request message"),
    "limitrequestbody": ("request_body", "Limit (in bytes) on maximum size of request "
                         "message body"),
}


def _limit(ctx: Ctx, node: Node) -> None:
    key, _ = _LIMITS[node.name.lower()]
    if key == "request_body":
        # core.c set_limit_req_body: apr_strtoff, the whole word must be a number
        if not node.args[0].isdigit():
            raise ConfigError("LimitRequestBody requires a non-negative integer.")
        value = int(node.args[0])
    else:
        value = _atoi(node.args[0])  # core.c: atoi, then the sign check
        if value < 0:
            raise ConfigError(f"{node.name} \"{node.args[0]}\" must be a non-negative integer")
    if not ctx.server.is_main or ctx.section is not None:
        ctx.draft.warnings.append(f"{node.source}: {node.name} is applied server-wide by "
                                  "cgihttpd, not per virtual host or section")
    ctx.draft.limits[key] = value


for _name in ("LimitRequestLine", "LimitRequestFieldSize", "LimitRequestFields",
              "LimitRequestBody"):
    directive(_name, "TAKE1", _LIMITS[_name.lower()][1])(_limit)


_TOKENS = {"min": "Min", "minimal": "Min", "major": "Major", "minor": "Minor",
           "prod": "Prod", "productonly": "Prod", "os": "OS", "full": "Full"}


@directive("ServerTokens", "TAKE12", "Determine tokens displayed in the Server: header - "
           "Min(imal), Major, Minor, Prod(uctOnly), OS, or Full", global_only=True)
def _server_tokens(ctx: Ctx, node: Node) -> None:
    value = _TOKENS.get(node.args[0].lower())
    if value is None:
        raise ConfigError("ServerTokens takes 1 argument: 'Prod(uctOnly)', 'Major', 'Minor', "
                          "'Min(imal)', 'OS', or 'Full'")
    ctx.draft.server_tokens = value


def _strtol(text: str) -> int:
    """mod_reqtimeout parse_int: strtol, the whole text, not negative."""
    m = re.match(r"\s*[+-]?\d+", text)
    if m is None:
        raise ValueError(f"Value '{text}' not numerical")
    if m.end() != len(text):
        raise ValueError(f"Cannot parse '{text[m.end():]}'")
    value = int(m.group(0))
    if value < 0:
        raise ValueError("Value must be non-negative")
    return value


def parse_read_timeout(value: str) -> ReadTimeout:
    """One stage of RequestReadTimeout, ``timeout[-maxtimeout][,MinRate=rate]``, with
    mod_reqtimeout's ``set_reqtimeout_param`` rules and messages (checked with apache2 -t):
    a range needs MinRate; MinRate without a maximum extends the deadline without bound;
    a timeout of 0 disables the stage."""
    pos = value.lower().find(",minrate=")
    maximum = 0
    if pos >= 0:
        rate = _strtol(value[pos + len(",minrate="):])
        if rate == 0:
            raise ValueError("Minimum data rate must be larger than 0")
        initial_text, dash, max_text = value[:pos].partition("-")
        if dash:
            maximum = _strtol(max_text)
        initial = _strtol(initial_text)
    else:
        if "-" in value:
            raise ValueError("Must set MinRate option if using timeout range")
        rate, initial = 0, _strtol(value)
    if maximum and initial >= maximum:
        raise ValueError("Maximum timeout must be larger than initial timeout")
    if rate == 0:
        return ReadTimeout(float(initial), float(initial), 0)
    return ReadTimeout(float(initial), float(maximum) if maximum else math.inf, rate)


@directive("RequestReadTimeout", "RAW", "Set various timeout parameters for TLS handshake "
           "and/or reading request headers and body")
def _request_read_timeout(ctx: Ctx, node: Node) -> None:
    for word in node.args:
        key, eq, value = word.partition("=")
        if not eq:
            raise ConfigError("Invalid RequestReadTimeout parameter. Parameter must be in "
                              "the form 'key=value'")
        stage = key.lower()
        try:
            if stage not in ("handshake", "header", "body"):
                raise ValueError("Unknown RequestReadTimeout parameter")
            timeout = parse_read_timeout(value)
        except ValueError as exc:
            raise ConfigError(f"RequestReadTimeout: {word}: {exc}") from None
        if not ctx.server.is_main:
            # one set of deadlines per listening server: the HTTP layer reads the head
            # before it knows the virtual host
            ctx.draft.warnings.append(f"{node.source}: RequestReadTimeout is applied "
                                      "server-wide by cgihttpd, not per virtual host")
        ctx.draft.read_timeouts[stage] = timeout  # "handshake" is TLS only: unused


@directive("CGIMaxProcesses", "TAKE1", "the most CGI processes running at once (cgihttpd)",
           global_only=True)
def _cgi_max(ctx: Ctx, node: Node) -> None:
    value = _atoi(node.args[0])
    if value < 0 or not node.args[0].isdigit():
        raise ConfigError("CGIMaxProcesses must be a non-negative integer")
    ctx.draft.max_processes = value


@directive("TypesConfig", "TAKE1", "the MIME types config file")
def _types_config(ctx: Ctx, node: Node) -> None:
    ctx.draft.types_config = (ctx.root(node.args[0]), node.source)


# --- per server (core, http_core, mod_log_config, mod_alias, mod_cgi) --------------------


@directive("ServerName", "TAKE1", "The hostname and port of the server")
def _server_name(ctx: Ctx, node: Node) -> None:
    name = node.args[0]
    # core.c server_hostname_port: an optional scheme and port around the host
    name = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", name)
    m = re.fullmatch(r"(\[[^]]*\]|[^:]*)(?::(\d+))?", name)
    if m is None or (m.group(2) is not None and not 1 <= int(m.group(2)) <= 65535):
        raise ConfigError(f"The port number \"{name}\" is outside the appropriate range "
                          "(i.e., 1..65535).")
    ctx.server.server_name = m.group(1)
    ctx.server.server_name_port = int(m.group(2) or 0)


@directive("ServerAlias", "RAW", "A name or names alternately used to access the server")
def _server_alias(ctx: Ctx, node: Node) -> None:
    if ctx.server.is_main:
        raise ConfigError("ServerAlias only used in <VirtualHost>")
    ctx.server.server_aliases.extend(a for a in node.args if a)


@directive("ServerAdmin", "TAKE1", "The email address of the server administrator")
def _server_admin(ctx: Ctx, node: Node) -> None:
    ctx.server.server_admin = node.args[0]


@directive("DocumentRoot", "TAKE1", "Root directory of the document tree")
def _document_root(ctx: Ctx, node: Node) -> None:
    ctx.server.document_root = normalise_path(ctx.root(node.args[0]))
    ctx.server.document_root_source = node.source


@directive("ErrorLog", "TAKE1", "The filename of the error log")
def _error_log(ctx: Ctx, node: Node) -> None:
    target = node.args[0]
    if not (target.startswith("|") or target.startswith("syslog")):
        target = ctx.root(target)
    ctx.server.error_log = target


LOG_LEVELS = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
              *(f"trace{i}" for i in range(1, 9)))


@directive("LogLevel", "ITERATE", "Level of verbosity in error logging")
def _log_level(ctx: Ctx, node: Node) -> None:
    for arg in node.args:
        level = arg.rpartition(":")[2].lower()
        if level not in LOG_LEVELS:
            raise ConfigError("LogLevel requires level keyword: one of emerg/alert/crit/"
                              "error/warn/notice/info/debug/trace1/trace2/trace3/trace4/"
                              "trace5/trace6/trace7/trace8")
        if ":" not in arg:
            if ctx.section is not None:
                ctx.ignore(node, "core_module")
                return
            ctx.server.log_level = level
    if any(":" in a for a in node.args):
        ctx.draft.ignored.setdefault("core_module", []).append(
            ("LogLevel module:level", node.source))


@directive("LogFormat", "TAKE12", "a log format string (see docs) and an optional format name")
def _log_format(ctx: Ctx, node: Node) -> None:
    if len(node.args) == 2:
        ctx.server.log_formats[node.args[1]] = node.args[0]
    else:
        ctx.server.default_format = node.args[0]


def _log_target(ctx: Ctx, target: str) -> str:
    return target if target.startswith("|") else ctx.root(target)


@directive("CustomLog", "TAKE23", "a file name, a custom log format string or format name, "
           "and an optional \"env=\" or \"expr=\" clause (see docs)")
def _custom_log(ctx: Ctx, node: Node) -> None:
    cond = node.args[2] if len(node.args) == 3 else None
    if cond is not None and not (cond.startswith("env=") or cond.startswith("expr=")):
        raise ConfigError("error in condition clause")
    ctx.server.custom_logs.append(
        PendingLog(_log_target(ctx, node.args[0]), node.args[1], cond, node.source))


@directive("TransferLog", "TAKE1", "the filename of the access log")
def _transfer_log(ctx: Ctx, node: Node) -> None:
    ctx.server.custom_logs.append(
        PendingLog(_log_target(ctx, node.args[0]), None, None, node.source))


@directive("Timeout", "TAKE1", "Timeout duration (sec)")
def _timeout(ctx: Ctx, node: Node) -> None:
    ctx.server.timeout = float(_atoi(node.args[0]))  # core.c set_timeout: atoi seconds


@directive("KeepAlive", "TAKE1", "Whether persistent connections should be On or Off")
def _keepalive(ctx: Ctx, node: Node) -> None:
    arg = node.args[0].lower()
    if arg not in ("on", "off"):
        raise ConfigError("KeepAlive must be On or Off")
    ctx.server.keepalive = arg == "on"


@directive("KeepAliveTimeout", "TAKE1", "Keep-Alive timeout duration (sec)")
def _keepalive_timeout(ctx: Ctx, node: Node) -> None:
    ctx.server.keepalive_timeout = _seconds(node)


@directive("MaxKeepAliveRequests", "TAKE1", "Maximum number of Keep-Alive requests per "
           "connection, or 0 for infinite")
def _max_keepalive(ctx: Ctx, node: Node) -> None:
    ctx.server.max_keepalive_requests = _atoi(node.args[0])


@directive("ServerSignature", "TAKE1", "En-/disable server signature (on|off|email)")
def _server_signature(ctx: Ctx, node: Node) -> None:
    arg = node.args[0].lower()
    if arg not in ("on", "off", "email"):
        raise ConfigError("ServerSignature: use one of: off | on | email")
    if ctx.section is not None:
        ctx.ignore(node, "core_module")
        return
    ctx.server.server_signature = arg  # type: ignore[assignment]


def _alias(kind: Literal["alias", "scriptalias", "aliasmatch", "scriptaliasmatch"]) -> Apply:
    def apply(ctx: Ctx, node: Node) -> None:
        args = node.args
        if ctx.section is not None:
            # mod_alias add_alias_internal (wording from apache2 -t)
            if len(args) != 1:
                raise ConfigError(f"{node.name} cannot occur within directory context")
            if ctx.section.kind != "location":
                raise ConfigError(f"{node.name} cannot occur within {ctx.parent} section")
            ctx.server.aliases.append(Alias(kind, ctx.section.pattern, args[0], node.source))
            return
        if len(args) != 2:
            raise ConfigError(f"{node.name} must have two arguments when used globally")
        url, path = args
        if kind.endswith("match"):
            try:
                re.compile(url)
            except re.error:
                raise ConfigError("Regular expression could not be compiled.") from None
        ctx.server.aliases.append(Alias(kind, url, path, node.source))

    return apply


directive("Alias", "TAKE12", "a fakename and a realname, or a realname in a Location")(
    _alias("alias"))
directive("ScriptAlias", "TAKE12", "a fakename and a realname, or a realname in a Location")(
    _alias("scriptalias"))
directive("AliasMatch", "TAKE2", "a regular expression and a filename")(_alias("aliasmatch"))
directive("ScriptAliasMatch", "TAKE2", "a regular expression and a filename")(
    _alias("scriptaliasmatch"))


@directive("ScriptLog", "TAKE1", "the name of a log for script debugging info")
def _script_log(ctx: Ctx, node: Node) -> None:
    ctx.server.script_log = ctx.root(node.args[0])


@directive("ScriptLogLength", "TAKE1", "the maximum length (in bytes) of the script debug log")
def _script_log_length(ctx: Ctx, node: Node) -> None:
    ctx.server.script_log_length = _atoi(node.args[0])  # mod_cgi.c: atol


@directive("ScriptLogBuffer", "TAKE1", "the maximum size (in bytes) to record of a POST request")
def _script_log_buffer(ctx: Ctx, node: Node) -> None:
    ctx.server.script_log_buffer = _atoi(node.args[0])  # mod_cgi.c: atoi


def _script_timeout(ctx: Ctx, node: Node) -> None:
    if ctx.section is not None:
        ctx.draft.warnings.append(f"{node.source}: {node.name} in {ctx.parent} applies to "
                                  "the whole server in cgihttpd")
    ctx.server.cgi_script_timeout = _seconds(node)


directive("CGIScriptTimeout", "TAKE1", "The amount of time to wait between successful reads "
          "from the CGI script, in seconds.")(_script_timeout)
directive("CGIDScriptTimeout", "TAKE1", "The amount of time to wait between successful reads "
          "from the CGI script, in seconds.")(_script_timeout)


# --- per directory (core, mod_dir, mod_mime, mod_authz_core, mod_env, mod_cgi) ------------

_OPTION_WORDS: dict[str, frozenset[str]] = {
    "indexes": frozenset({"Indexes"}),
    "includes": frozenset({"Includes"}),
    "includesnoexec": frozenset({"IncludesNOEXEC"}),
    "followsymlinks": frozenset({"FollowSymLinks"}),
    "symlinksifownermatch": frozenset({"SymLinksIfOwnerMatch"}),
    "execcgi": frozenset({"ExecCGI"}),
    "multiviews": frozenset({"MultiViews"}),
    "runscripts": frozenset({"MultiViews", "ExecCGI"}),  # core.c: "AI backcompat. Yuck"
    "all": OPTIONS_ALL,
    "none": frozenset(),
}
_MIXED = "Either all Options must start with + or -, or no Option may."


def parse_options(words: list[str] | tuple[str, ...]) -> OptionsSpec:
    """One Options directive → a spec, with core.c ``set_options``'s rules (each checked
    against apache2 -t 2.4.71): +/- words and plain words cannot mix, except that a
    first ``All`` or ``None`` may be followed by +/- words; ``All`` and ``None`` must come
    first; ``+All``/``-None`` are errors."""
    absolute: set[str] | None = None
    add: set[str] = set()
    remove: set[str] = set()
    first = True
    merge = False
    all_none = False  # the first word was All or None
    for word in words:
        action = ""
        if word[:1] in ("+", "-"):
            action, word = word[0], word[1:]
            if not merge and not first and not all_none:
                raise ConfigError(_MIXED)
            merge = True
        elif first:
            absolute = set()
        elif merge:
            raise ConfigError(_MIXED)
        lw = word.lower()
        if lw not in _OPTION_WORDS:
            raise ConfigError(f"Illegal option {word}")
        if lw in ("none", "all"):
            shown = "None" if lw == "none" else "All"
            if action:
                raise ConfigError(f"You may not use 'Options +{shown}' or 'Options -{shown}'.")
            if not first:
                # sic: Apache capitalises "Option" in one message and not the other
                raise ConfigError("'Options None' must be the first Option given."
                                  if lw == "none" else
                                  "'Options All' must be the first option given.")
            all_none = True
        opts = _OPTION_WORDS[lw]
        if action == "-":
            remove |= opts
            add -= opts
            if absolute is not None:
                absolute -= opts
        elif action == "+":
            add |= opts
            remove -= opts
            if absolute is not None:
                absolute |= opts
        else:
            assert absolute is not None
            absolute |= opts
        first = False
    if absolute is not None:
        return OptionsSpec(absolute=frozenset(absolute))
    return OptionsSpec(add=frozenset(add), remove=frozenset(remove))


@directive("Options", "RAW", "Set a number of attributes for a given directory")
def _options(ctx: Ctx, node: Node) -> None:
    spec = parse_options(node.args)
    current = ctx.dir.options
    ctx.set_dir(options=spec if current is None else current.then(spec))


_OVERRIDES = {"authconfig": "AuthConfig", "fileinfo": "FileInfo", "indexes": "Indexes",
              "limit": "Limit", "options": "Options"}


@directive("AllowOverride", "RAW", "Controls what groups of directives can be configured by "
           "per-directory config files")
def _allow_override(ctx: Ctx, node: Node) -> None:
    assert ctx.section is not None  # placement "A"
    if ctx.section.kind != "directory":
        # core.c: AH00114
        ctx.draft.warnings.append(f"{node.source}: Useless use of AllowOverride in line "
                                  f"{node.source.line} of {node.source.file}.")
        return
    found: set[str] = set()
    for arg in node.args:
        word = arg.split("=", 1)[0].lower()
        if word == "all":
            found |= set(_OVERRIDES.values())
        elif word == "none":
            found = set()
        elif word in _OVERRIDES:
            found.add(_OVERRIDES[word])
        elif word == "nonfatal":
            continue
        else:
            raise ConfigError(f"Illegal override option {arg}")
    ctx.set_dir(allow_override=frozenset(found))


#: Authz providers and the module that registers each (mod_authz_*.c).
AUTHZ_PROVIDERS = {
    "all": "authz_core_module", "env": "authz_core_module", "method": "authz_core_module",
    "expr": "authz_core_module", "ip": "authz_host_module", "host": "authz_host_module",
    "local": "authz_host_module", "forward-dns": "authz_host_module",
    "user": "authz_user_module", "valid-user": "authz_user_module",
    "group": "authz_groupfile_module", "file-owner": "authz_owner_module",
    "file-group": "authz_owner_module", "dbm-group": "authz_dbm_module",
    "dbd-group": "authz_dbd_module", "ldap-user": "authnz_ldap_module",
    "ldap-group": "authnz_ldap_module", "ldap-dn": "authnz_ldap_module",
    "ldap-attribute": "authnz_ldap_module", "ldap-filter": "authnz_ldap_module",
    "ldap-search": "authnz_ldap_module",
}


@directive("Require", "RAW", "specifies authorization directives which one must pass (or "
           "not) for a request to suceeed")
def _require(ctx: Ctx, node: Node) -> None:
    args = list(node.args)
    negated = bool(args) and args[0].lower() == "not"
    if negated:
        args = args[1:]
    provider = args[0].lower() if args else ""
    module = AUTHZ_PROVIDERS.get(provider)
    if module is None or module not in ctx.loaded:
        raise ConfigError(f"Unknown Authz provider: {args[0] if args else ''}")
    if provider == "all" and not negated:
        if len(args) != 2 or args[1].lower() not in ("granted", "denied"):
            # mod_authz_core all_parse_config
            raise ConfigError("Argument for 'Require all' must be 'granted' or 'denied'")
        ctx.set_dir(require=args[1].lower())
        return
    # Stored, not enforced yet: say so at start-up.
    ctx.ignore(replace(node, name=f"Require {' '.join(node.args)}"), module)


@directive("DirectoryIndex", "RAW", "a list of file names")
def _directory_index(ctx: Ctx, node: Node) -> None:
    if not node.args:
        return  # mod_dir add_index: nothing to add (apache2 -t accepts it)
    if len(node.args) == 1 and node.args[0].lower() == "disabled":
        # mod_dir add_index: "disabled" alone clears the list
        ctx.set_dir(directory_index=())
        return
    # mod_dir add_index: several DirectoryIndex in one context add up
    ctx.set_dir(directory_index=(ctx.dir.directory_index or ()) + tuple(node.args))


@directive("DirectorySlash", "FLAG", "On or Off")
def _directory_slash(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(directory_slash=_flag(node))


def _ext(word: str) -> str:
    # mod_mime add_extension_info: one leading dot is optional; case-insensitive
    return "." + (word[1:] if word.startswith(".") else word).lower()


@directive("AddHandler", "ITERATE2", "a handler name followed by one or more file extensions")
def _add_handler(ctx: Ctx, node: Node) -> None:
    handler = node.args[0].lower()
    ctx.set_dir(add_handlers=ctx.dir.add_handlers
                + tuple((_ext(e), handler) for e in node.args[1:]))


@directive("RemoveHandler", "ITERATE", "one or more file extensions")
def _remove_handler(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(remove_handlers=ctx.dir.remove_handlers + tuple(_ext(e) for e in node.args))


@directive("SetHandler", "TAKE1", "a handler name that overrides any other configured handler")
def _set_handler(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(set_handler=node.args[0].lower())


@directive("AddType", "ITERATE2", "a mime type followed by one or more file extensions")
def _add_type(ctx: Ctx, node: Node) -> None:
    mtype = node.args[0].lower()
    ctx.set_dir(add_types=ctx.dir.add_types + tuple((_ext(e), mtype) for e in node.args[1:]))


@directive("ForceType", "TAKE1", "a mime type that overrides other configured type")
def _force_type(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(force_type=node.args[0].lower())


@directive("AddDefaultCharset", "TAKE1", "The name of the default charset to add to any "
           "Content-Type without one or 'Off' to disable")
def _add_default_charset(ctx: Ctx, node: Node) -> None:
    arg = node.args[0]
    # core.c set_add_default_charset: On means iso-8859-1
    value = {"off": "", "on": "iso-8859-1"}.get(arg.lower(), arg)
    ctx.set_dir(default_charset=value)


_KNOWN_STATUSES = frozenset(s.value for s in HTTPStatus) - {418}


@directive("ErrorDocument", "TAKE2", "Change responses for HTTP errors")
def _error_document(ctx: Ctx, node: Node) -> None:
    code_text, msg = node.args
    # core.c: any status Apache has a status line for (ap_index_of_response)
    if not code_text.isdigit() or int(code_text) not in _KNOWN_STATUSES:
        raise ConfigError(f"Unsupported HTTP response code {code_text}")
    # core.c set_error_document's heuristic: a space, or neither a local path nor a
    # URL, means text (stored with a leading quote); "default" resets.
    if msg.lower() != "default" and (" " in msg or not (
            msg.startswith("/") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", msg))):
        msg = '"' + msg
    ctx.set_dir(error_documents=ctx.dir.error_documents + ((int(code_text), msg),))


@directive("SetEnv", "TAKE12", "an environment variable name and optional value to pass to "
           "CGI.")
def _set_env(ctx: Ctx, node: Node) -> None:
    value = node.args[1] if len(node.args) == 2 else ""
    ctx.set_dir(env=ctx.dir.env + (("set", node.args[0], value),))


@directive("PassEnv", "ITERATE", "a list of environment variables to pass to CGI.")
def _pass_env(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(env=ctx.dir.env + tuple(("pass", n, "") for n in node.args))


@directive("UnsetEnv", "ITERATE", "a list of variables to remove from the CGI environment.")
def _unset_env(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(env=ctx.dir.env + tuple(("unset", n, "") for n in node.args))


@directive("CGIPassAuth", "FLAG", "Controls whether HTTP authorization headers, normally "
           "hidden, will be passed to scripts")
def _cgi_pass_auth(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(cgi_pass_auth=_flag(node))


@directive("CGIVar", "TAKE2", "Controls how some CGI variables are set")
def _cgi_var(ctx: Ctx, node: Node) -> None:
    var, rule = node.args
    # core.c set_cgi_var: only REQUEST_URI, with original-uri or current-uri
    if var != "REQUEST_URI":
        raise ConfigError(f"Unrecognized CGI variable: \"{var}\"")
    if rule.lower() not in ("original-uri", "current-uri"):
        raise ConfigError("Valid rules for REQUEST_URI are 'current-uri' and 'original-uri'")
    ctx.set_dir(cgi_vars=ctx.dir.cgi_vars + ((var, rule.lower()),))


@directive("CGIPythonInterpreter", "TAKE1", "the Python that runs scripts whose #! names "
           "another Python (cgihttpd)")
def _cgi_python(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(cgi_python=node.args[0])


@directive("CGIWarmPreload", "ITERATE", "modules the warm Python pool imports in advance "
           "(cgihttpd)")
def _cgi_warm_preload(ctx: Ctx, node: Node) -> None:
    # One pool serves every virtual host, so the lists of all servers accumulate.
    for name in node.args:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
            raise ConfigError(f"CGIWarmPreload: '{name}' is not a Python module name")
        if name not in ctx.draft.warm_preload:
            ctx.draft.warm_preload.append(name)


@directive("CGIWarmPython", "FLAG", "run Python CGI scripts in warm interpreters (cgihttpd)")
def _cgi_warm(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(cgi_warm_python=_flag(node))


# --- mod_autoindex ----------------------------------------------------------------------


@directive("IndexOptions", "RAW", "one or more index options [+|-][]")
def _index_options(ctx: Ctx, node: Node) -> None:
    try:
        ctx.set_dir(index_options=add_index_options(ctx.dir.index_options, node.args))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@directive("FancyIndexing", "RAW", "The FancyIndexing directive is no longer supported. "
           "Use IndexOptions FancyIndexing.")
def _fancy_indexing(ctx: Ctx, node: Node) -> None:
    # mod_autoindex 2.4 keeps the name only to say this (apache2 -t, whatever follows)
    raise ConfigError("The FancyIndexing directive is no longer supported. Use IndexOptions "
                      "FancyIndexing.")


@directive("IndexIgnore", "ITERATE", "one or more file extensions")
def _index_ignore(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(index_ignore=ctx.dir.index_ignore + tuple(node.args))


@directive("IndexIgnoreReset", "FLAG", "Reset the inherited list of IndexIgnore filenames")
def _index_ignore_reset(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(index_ignore_reset=_flag(node))


def _stored_not_shown(field_name: str) -> Apply:
    def apply(ctx: Ctx, node: Node) -> None:
        # kept in the model, and warned about: cgihttpd's listing does not show it yet
        ctx.set_dir(**{field_name: node.args[0]})
        ctx.ignore(node, "autoindex_module")

    return apply


directive("HeaderName", "TAKE1", "a filename")(_stored_not_shown("header_name"))
directive("ReadmeName", "TAKE1", "a filename")(_stored_not_shown("readme_name"))


def _icons(ctx: Ctx, node: Node) -> None:
    """Accepted silently: they choose the icons and their ALT text, and cgihttpd's
    listing draws no icons (the SuppressIcon look)."""


for _name, _arity, _desc in (
        ("AddIcon", "ITERATE2", "an icon URL followed by one or more filenames"),
        ("AddIconByType", "ITERATE2", "an icon URL followed by one or more MIME types"),
        ("AddIconByEncoding", "ITERATE2", "an icon URL followed by one or more content "
                                          "encodings"),
        ("AddAlt", "ITERATE2", "alternate descriptive text followed by one or more "
                               "filenames"),
        ("AddAltByType", "ITERATE2", "alternate descriptive text followed by one or more "
                                     "MIME types"),
        ("AddAltByEncoding", "ITERATE2", "alternate descriptive text followed by one or "
                                         "more content encodings"),
        ("DefaultIcon", "TAKE1", "an icon URL")):
    directive(_name, _arity, _desc)(_icons)  # type: ignore[arg-type]
