"""Server-level directives of core, http_core, the MPMs and mod_unixd: Listen, PidFile,
User/Group, the request limits, ServerTokens, ServerName and friends, DocumentRoot, the
timeouts and KeepAlive, ServerSignature, ExtendedStatus, and those accepted with no effect in a
one-process server (Mutex, ...). ServerRoot and LoadModule, which act while the file is
read, are in ``readtime``."""

from __future__ import annotations

import re

from cgihttpd.config.directives.draft import Arity, Ctx
from cgihttpd.config.directives.sections import parse_address
from cgihttpd.config.directives.table import atoi, directive, flag, seconds
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import Address
from cgihttpd.config.tree import Node, normalise_path


@directive("Listen", "RAW", "A port number or a numeric IP address and a port number, "
           "and an optional protocol", global_only=True)
def _listen(ctx: Ctx, node: Node) -> None:
    if not 1 <= len(node.args) <= 2:
        raise ConfigError("Listen requires 1 or 2 arguments.")
    text = node.args[0]
    if text.isdigit():
        addr = Address("*", int(text))
    else:
        addr = parse_address(text, for_listen=True)
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
    # listen.c: without a protocol, port 443 speaks https and any other http; mod_ssl
    # then turns TLS on for a server with a certificate on an https port
    proto = node.args[1].lower() if len(node.args) == 2 else (
        "https" if addr.port == 443 else "http")
    if proto == "https" and addr.port is not None:
        ctx.draft.https_ports.add(addr.port)


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


@directive("ExtendedStatus", "FLAG", "\"On\" to track extended status information, "
           "\"Off\" to disable", global_only=True)
def _extended_status(ctx: Ctx, node: Node) -> None:
    # core.c: it decides what mod_status reports (the totals), not whether we count
    ctx.draft.extended_status = flag(node)


@directive("GracefulShutdownTimeout", "TAKE1", "Maximum time in seconds to wait for "
           "child processes to complete transactions during shutdown", global_only=True)
def _graceful_shutdown_timeout(ctx: Ctx, node: Node) -> None:
    # mpm_common.c ap_mpm_set_graceful_shutdown: atoi, so apache2 -t takes any word ("x"
    # is 0: no limit; "-1" cuts at once); a typo is not left unsaid here
    value = atoi(node.args[0])
    if not node.args[0].isdigit():
        ctx.draft.warnings.append(
            f"{node.source}: GracefulShutdownTimeout {node.args[0]!r} is not a number of "
            f"seconds: read as {value}, as Apache's atoi() does")
    ctx.draft.graceful_shutdown_timeout = value


@directive("EnableSendfile", "FLAG", "Controls whether the sendfile kernel support is "
           "used to deliver files (assuming that the OS supports it). The default is on")
def _enable_sendfile(ctx: Ctx, node: Node) -> None:
    # core.c: per directory. Apache 2.4's default is Off; ours is On (the bytes sent
    # are the same either way; see static.handlers), so only Off changes anything.
    ctx.set_dir(enable_sendfile=flag(node))


@directive("AccessFileName", "ITERATE", "Name(s) of per-directory config files (default: "
           ".htaccess)")
def _access_file_name(ctx: Ctx, node: Node) -> None:
    # core.c set_access_name: the names in order; the first one found is read
    ctx.server.access_file_names = tuple(node.args)


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
        value = atoi(node.args[0])  # core.c: atoi, then the sign check
        if value < 0:
            raise ConfigError(f"{node.name} \"{node.args[0]}\" must be a non-negative integer")
    if key == "request_body":
        # per directory in Apache (core.c: RSRC_CONF|OR_ALL), merged like the others;
        # the main server's value is also the default where nothing sets one
        ctx.set_dir(limit_request_body=value)
        if ctx.server.is_main and ctx.section is None:
            ctx.draft.limits[key] = value
        return
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


@directive("Timeout", "TAKE1", "Timeout duration (sec)")
def _timeout(ctx: Ctx, node: Node) -> None:
    ctx.server.timeout = float(atoi(node.args[0]))  # core.c set_timeout: atoi seconds


@directive("KeepAlive", "TAKE1", "Whether persistent connections should be On or Off")
def _keepalive(ctx: Ctx, node: Node) -> None:
    arg = node.args[0].lower()
    if arg not in ("on", "off"):
        raise ConfigError("KeepAlive must be On or Off")
    ctx.server.keepalive = arg == "on"


@directive("KeepAliveTimeout", "TAKE1", "Keep-Alive timeout duration (sec)")
def _keepalive_timeout(ctx: Ctx, node: Node) -> None:
    ctx.server.keepalive_timeout = seconds(node)


@directive("MaxKeepAliveRequests", "TAKE1", "Maximum number of Keep-Alive requests per "
           "connection, or 0 for infinite")
def _max_keepalive(ctx: Ctx, node: Node) -> None:
    ctx.server.max_keepalive_requests = atoi(node.args[0])


@directive("TraceEnable", "TAKE1", "'on' (default), 'off' or 'extended' to trace request "
           "body content")
def _trace_enable(ctx: Ctx, node: Node) -> None:
    arg = node.args[0].lower()
    if arg not in ("on", "off", "extended"):
        raise ConfigError("TraceEnable must be one of 'on', 'off', or 'extended'")
    if arg == "extended":
        # Extended echoes a request body too; we answer a TRACE with a body 413 as On does
        ctx.draft.warnings.append(f"{node.source}: TraceEnable extended is served as On by "
                                  "cgihttpd: a TRACE with a body gets 413")
    ctx.server.trace_enable = arg  # type: ignore[assignment]


@directive("ServerSignature", "TAKE1", "En-/disable server signature (on|off|email)")
def _server_signature(ctx: Ctx, node: Node) -> None:
    arg = node.args[0].lower()
    if arg not in ("on", "off", "email"):
        raise ConfigError("ServerSignature: use one of: off | on | email")
    if ctx.section is not None:
        # core.c: per directory (core_dir_config.server_signature): a section's or a
        # .htaccess's signs the pages of what it covers
        ctx.set_dir(server_signature=arg)
        return
    ctx.server.server_signature = arg  # type: ignore[assignment]
