"""Load an Apache configuration file into a ``ServerConfig``: the only config file reader.

This module owns the IO around the two pure phases: it reads the files (through
``RealFileSystem``, handed to ``tree.expand``), reads ``TypesConfig``, checks that
document roots exist, asks the host for its name when no ``ServerName`` is set, and
merges the draft of ``directives`` into the frozen model (Apache's
``merge_server_configs``: each <VirtualHost> inherits the main server's values where it
sets none). It knows nothing of HTTP.

Defaults that differ by build are Debian's (our oracle): ``DocumentRoot``
/var/www/html; with no ``ServerRoot`` directive, the directory holding the main
configuration file (Debian's compiled-in /etc/apache2 is exactly that for its own tree).
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Iterable, Mapping

from cgihttpd.config import directives as D
from cgihttpd.config.errors import ConfigError, ConfigErrors
from cgihttpd.config.model import (
    REQTIMEOUT_BODY,
    REQTIMEOUT_HEADER,
    Address,
    LogTarget,
    ServerConfig,
    Source,
    VirtualHost,
)
from cgihttpd.config.model import Limits as LimitsT
from cgihttpd.config.modules import (
    IMPLEMENTED_MODULES,
    MPM_MODULES,
    REGISTRY,
    UNIMPLEMENTED_EFFECTS,
)
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.config.tlsconf import freeze_tls, missing_files
from cgihttpd.config.tree import expand, new_state, normalise_path, parse_tree
from cgihttpd.remoteip import ProxyMatch, RemoteIPConf
from cgihttpd.rewrite import RewriteConf

#: Debian's compiled-in DocumentRoot (apache2 -S on a config without one).
DEFAULT_DOCUMENT_ROOT = "/var/www/html"
#: httpd's compiled-in ErrorLog (DEFAULT_ERRORLOG), relative to ServerRoot.
DEFAULT_ERROR_LOG = "logs/error_log"
#: mod_log_config's DEFAULT_LOG_FORMAT, used by TransferLog without a LogFormat.
DEFAULT_LOG_FORMAT = '%h %l %u %t "%r" %>s %b'
#: mod_mime's default TypesConfig (Debian: /etc/mime.types).
DEFAULT_TYPES_CONFIG = "/etc/mime.types"
#: core.c: ServerAdmin's default.
DEFAULT_SERVER_ADMIN = "[no address given]"


class RealFileSystem:
    """``tree.FileSystem`` over the real filesystem."""

    def read_text(self, path: str) -> str:
        with open(path, "rb") as f:
            data = f.read()
        # Apache reads bytes; configs are ASCII or UTF-8 in practice.
        return data.decode("utf-8", errors="surrogateescape")

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def list_dir(self, path: str) -> list[str]:
        return os.listdir(path)


def local_host_name() -> str:
    """What Apache's ap_get_local_host settles on: the host's fully qualified name if
    it has one, else its address, else 127.0.0.1 (with AH00558 warned by the caller)."""
    try:
        name = socket.gethostname()
        fqdn = socket.getfqdn(name)
        if "." in fqdn and not fqdn.startswith("localhost"):
            return fqdn
        return socket.gethostbyname(name)
    except OSError:
        return "127.0.0.1"


def parse_mime_types(text: str) -> tuple[tuple[str, str], ...]:
    """mime.types: "type ext ext..." per line, # comments; later lines win (mod_mime)."""
    table: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        for ext in words[1:]:
            table["." + ext.lower()] = words[0].lower()
    return tuple(sorted(table.items()))


_EXPORT = re.compile(r"^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def read_envvars(path: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a Debian ``envvars`` file exports, as ``apache2ctl`` sources it
    before starting apache2: its ``export NAME=value`` lines, with ``$NAME``/``${NAME}``
    expanded from earlier exports, then ``environ`` (unset variables, like Debian's
    ``$SUFFIX`` for the default instance, expand to ""). Not a shell: enough for the
    stock file. Returns ``environ`` updated with the exports."""
    env = dict(os.environ if environ is None else environ)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _EXPORT.match(line.rstrip("\n"))
            if m is None:
                continue
            value = m.group(2).strip().strip("'\"")
            env[m.group(1)] = _SHELL_VAR.sub(lambda v: env.get(v.group(1), ""), value)
    return env


def load_config(path: str, defines: Iterable[str] = (),
                environ: Mapping[str, str] | None = None,
                server_root: str | None = None, before: Iterable[str] = (),
                after: Iterable[str] = ()) -> ServerConfig:
    """Read ``path`` (and what it includes) into a ServerConfig; raise ConfigErrors with
    every error found, each printed ``FILE:LINE: message``.

    As httpd's command line: ``server_root`` (``-d``) is the ServerRoot until a
    ``ServerRoot`` directive says otherwise, and a relative ``path`` is relative to it;
    ``before`` (``-C``) and ``after`` (``-c``) are directives read before and after the
    file (errors in them are at ``-C:N`` / ``-c:N``)."""
    fs = RealFileSystem()
    if server_root is not None:
        server_root = os.path.abspath(server_root)
        path = os.path.join(server_root, path)
    path = os.path.abspath(path)
    env = dict(os.environ) if environ is None else dict(environ)
    state = new_state(server_root=server_root or os.path.dirname(path),
                      defines=list(defines), environ=env, fs=fs, table=D.DIRECTIVES)
    first = expand(parse_tree("\n".join(before), "-C", state.errors), state)
    try:
        text = fs.read_text(path)
    except OSError as exc:
        raise ConfigErrors([ConfigError(
            f"Could not open configuration file {path}: {exc.strerror or exc}")]) from None
    state.files.append(path)
    nodes = first + expand(parse_tree(text, path, state.errors), state)
    nodes += expand(parse_tree("\n".join(after), "-c", state.errors), state)
    draft = D.interpret(nodes, state.server_root, state.loaded_names, Source(path, 1))
    errors = state.errors + draft.errors
    if errors:
        errors.sort(key=lambda e: _order(e, state.files))
        raise ConfigErrors(errors)
    return finish(draft, files=tuple(state.files), defines=frozenset(state.defines),
                  loaded=state.loaded_names, read_warnings=state.warnings, fs=fs,
                  load_sources=state.loaded,
                  define_values=tuple((d, state.variables.get(d)) for d in state.defines))


def _order(err: ConfigError, files: list[str]) -> tuple[int, int]:
    if err.source is None:
        return (-1, 0)
    idx = files.index(err.source.file) if err.source.file in files else len(files)
    return (idx, err.source.line)


def finish(draft: D.Draft, *, files: tuple[str, ...], defines: frozenset[str],
           loaded: frozenset[str], read_warnings: list[str],
           fs: RealFileSystem | None = None, host_name: str | None = None,
           load_sources: Mapping[str, Source] | None = None,
           define_values: tuple[tuple[str, str | None], ...] = ()) -> ServerConfig:
    """Merge the draft into the frozen model (the IO here: mime.types, document roots,
    the host name; pass ``fs=None`` and ``host_name`` to skip it)."""
    warnings = list(read_warnings) + draft.warnings
    m = draft.main
    if m.server_name is None:
        name = host_name or local_host_name()
        # AH00558
        warnings.append(f"Could not reliably determine the server's fully qualified domain "
                        f"name, using {name}. Set the 'ServerName' directive globally to "
                        "suppress this message")
        m.server_name = name
    if fs is not None:
        for server in (m, *draft.vhosts):
            _read_proxy_lists(server, fs)
    errors: list[ConfigError] = []
    if fs is not None:
        errors.extend(missing_files([m, *draft.vhosts], fs.exists))
    if errors:
        raise ConfigErrors(errors)
    try:
        main = _freeze(m, None, draft.server_root, draft.https_ports)
        vhosts = tuple(_freeze(v, m, draft.server_root, draft.https_ports)
                       for v in draft.vhosts)
    except ConfigError as exc:  # mod_ssl's start-up checks (tlsconf)
        raise ConfigErrors([exc]) from None

    if fs is not None:
        # core.c set_document_root: an error for the main server, a warning (AH00112)
        # for a virtual host; the main server's default root is not checked.
        if m.document_root is not None and not fs.is_dir(main.document_root):
            errors.append(ConfigError(f"DocumentRoot '{main.document_root}' is not a "
                                      "directory, or is not readable", m.document_root_source))
        for v, vd in zip(vhosts, draft.vhosts, strict=True):
            if vd.document_root is not None and not fs.is_dir(v.document_root):
                warnings.append(f"{vd.document_root_source}: Warning: DocumentRoot "
                                f"[{v.document_root}] does not exist")
    if errors:
        raise ConfigErrors(errors)

    mime_types: tuple[tuple[str, str], ...] = ()
    if fs is not None:
        types_path, types_source = draft.types_config or (DEFAULT_TYPES_CONFIG, None)
        try:
            mime_types = parse_mime_types(fs.read_text(types_path))
        except OSError as exc:
            if draft.types_config is not None:
                # mod_mime: "could not open mime types config file" is fatal
                raise ConfigErrors([ConfigError(
                    f"could not open mime types config file {types_path}: "
                    f"{exc.strerror or exc}", types_source)]) from None

    warnings.extend(_ignored_warnings(draft, loaded, load_sources or {}))
    limits = LimitsT(**draft.limits)
    return ServerConfig(
        server_root=draft.server_root,
        files=files,
        listens=_unique(a for a, _ in draft.listens),
        main=main,
        vhosts=vhosts,
        limits=limits,
        server_tokens=(draft.server_tokens or "Full"),  # type: ignore[arg-type]
        user=draft.user,
        group=draft.group,
        user_id=account_id(draft.user, "user"),
        group_id=account_id(draft.group, "group"),
        pid_file=draft.pid_file,
        modules=loaded,
        mime_types=mime_types,
        warnings=tuple(warnings),
        max_concurrent_cgi=draft.max_processes,
        cgi_queue_timeout=(main.timeout if draft.queue_timeout is None
                           else draft.queue_timeout),
        cgi_queue_memory=draft.queue_memory,
        defines=defines,
        define_values=define_values,
        cgi_warm_preload=tuple(draft.warm_preload),
        dev_mode=draft.dev_mode,
        extended_status=draft.extended_status,
        graceful_shutdown_timeout=draft.graceful_shutdown_timeout,
        header_timeout=_read_timeout(draft, loaded, "header", main.timeout),
        body_timeout=_read_timeout(draft, loaded, "body", main.timeout),
    )


def account_id(name: str | None, kind: str) -> int | None:
    """A User's or Group's id as unixd's ap_uname2id/ap_gname2id give it (``#N`` is N),
    None on Windows or for a name this host does not know."""
    if name is None:
        return None
    if name.startswith("#"):
        return int(name[1:]) if name[1:].isdigit() else None
    if sys.platform == "win32":
        return None
    import grp
    import pwd

    try:
        return pwd.getpwnam(name).pw_uid if kind == "user" else grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _read_timeout(draft: D.Draft, loaded: frozenset[str], stage: str,
                  timeout: float) -> ReadTimeout:
    """The header or body deadline: mod_reqtimeout's stage over its defaults when it is
    loaded; without it Apache reads the head and the body under Timeout alone (a
    per-read limit there, one deadline here)."""
    if "reqtimeout_module" not in loaded:
        return ReadTimeout(timeout, timeout, 0)
    default = REQTIMEOUT_HEADER if stage == "header" else REQTIMEOUT_BODY
    return draft.read_timeouts.get(stage, default)


def _read_proxy_lists(server: D.ServerDraft, fs: RealFileSystem) -> None:
    """RemoteIPTrustedProxyList/RemoteIPInternalProxyList (proxylist_read): words of the
    file as the directive's arguments, a word starting with "#" ending its line."""
    for path, internal, source in server.remoteip_list_files:
        name = "RemoteIPInternalProxyList" if internal else "RemoteIPTrustedProxyList"
        try:
            text = fs.read_text(path)
        except OSError as exc:
            raise ConfigErrors([ConfigError(f"{name}: Could not open file {path}: "
                                            f"{exc.strerror or exc}", source)]) from None
        found: list[ProxyMatch] = []
        for number, line in enumerate(text.splitlines(), 1):
            for word in line.split():
                if word.startswith("#"):
                    break
                try:
                    subnet = D.parse_proxy_word(word, name)
                except ConfigError as exc:
                    raise ConfigErrors([ConfigError(
                        f"{exc.message} at line {number} of {path}", source)]) from None
                found.append(ProxyMatch(subnet, internal))
        server.remoteip_proxies = (server.remoteip_proxies or ()) + tuple(found)


def _unique(addrs: Iterable[Address]) -> tuple[Address, ...]:
    seen: list[Address] = []
    for a in addrs:
        if a not in seen:
            seen.append(a)
    return tuple(seen)


def _freeze(s: D.ServerDraft, main: D.ServerDraft | None, root: str,
            https_ports: set[int] | None = None) -> VirtualHost:
    """One server, its unset values taken from the main server (merge_server_configs)."""

    def inherit(attr: str, default: object) -> object:
        value = getattr(s, attr)
        if value is None and main is not None:
            value = getattr(main, attr)
        return default if value is None else value

    formats = dict(main.log_formats) if main is not None else {}
    formats.update(s.log_formats)
    default_format = s.default_format or (main.default_format if main else None)
    # mod_log_config: a server with no CustomLog/TransferLog of its own uses the main
    # server's (merge_config_log_state).
    pending = s.custom_logs if s.custom_logs or main is None else main.custom_logs
    logs = tuple(_resolve_log(p, formats, default_format) for p in pending)
    base = s.base if main is None else main.base.merge(s.base)
    sections = tuple(s.sections) if main is None else tuple(main.sections) + tuple(s.sections)
    aliases = tuple(s.aliases) + (tuple(main.aliases) if main is not None else ())
    redirects = tuple(s.redirects) + (tuple(main.redirects) if main is not None else ())
    error_log = inherit("error_log", None)
    error_log_source = s.error_log_source if s.error_log is not None else (
        main.error_log_source if main is not None else None)
    if error_log is None:
        error_log = normalise_path(root + "/" + DEFAULT_ERROR_LOG)
    return VirtualHost(
        addresses=s.addresses,
        server_name=str(inherit("server_name", "localhost")),
        server_aliases=tuple(s.server_aliases),
        server_admin=str(inherit("server_admin", DEFAULT_SERVER_ADMIN)),
        document_root=str(inherit("document_root", DEFAULT_DOCUMENT_ROOT)),
        error_log=str(error_log),
        log_level=str(inherit("log_level", "warn")),
        error_log_format=inherit("error_log_format", None) or None,  # type: ignore[arg-type]
        custom_logs=logs,
        aliases=aliases,
        base=base,
        sections=sections,
        timeout=float(inherit("timeout", 60.0)),  # type: ignore[arg-type]
        keepalive=bool(inherit("keepalive", True)),
        keepalive_timeout=float(inherit("keepalive_timeout", 5.0)),  # type: ignore[arg-type]
        max_keepalive_requests=int(inherit("max_keepalive_requests", 100)),  # type: ignore[call-overload]
        keepalive_timeout_set=s.keepalive_timeout is not None,
        server_signature=inherit("server_signature", "off"),  # type: ignore[arg-type]
        trace_enable=inherit("trace_enable", "on"),  # type: ignore[arg-type]
        cgi_script_timeout=inherit("cgi_script_timeout", None),  # type: ignore[arg-type]
        script_log=inherit("script_log", None),  # type: ignore[arg-type]
        script_log_length=int(inherit("script_log_length", 10385760)),  # type: ignore[call-overload]
        script_log_buffer=int(inherit("script_log_buffer", 1024)),  # type: ignore[call-overload]
        access_file_names=tuple(inherit("access_file_names", (".htaccess",))),  # type: ignore[arg-type]
        source=s.source,
        error_log_source=error_log_source,
        is_main=main is None,
        port=_server_port(s, main),
        redirects=redirects,
        setenvif=s.setenvif if main is None else main.setenvif + s.setenvif,
        rewrite=_rewrite(s, main),
        body_timeout=s.body_timeout,
        remoteip=RemoteIPConf(
            header=inherit("remoteip_header", None),  # type: ignore[arg-type]
            proxies_header=inherit("remoteip_proxies_header", None),  # type: ignore[arg-type]
            proxies=inherit("remoteip_proxies", None)),  # type: ignore[arg-type]
        proxy_protocol=bool(inherit("proxy_protocol", False)),
        proxy_protocol_exceptions=s.proxy_protocol_exceptions or (
            main.proxy_protocol_exceptions if main is not None else ()),
        tls=freeze_tls(s, main, https_ports or set()),
    )


def _rewrite(s: D.ServerDraft, main: D.ServerDraft | None) -> RewriteConf | None:
    """config_server_merge: the main server's settings, and a virtual host's own merged
    over them (its rules alone unless RewriteOptions Inherit); a virtual host with no
    mod_rewrite directive gets none (its engine state comes with the per-directory
    defaults)."""
    if main is None:
        return s.rewrite if s.rewrite is not None else RewriteConf()
    if s.rewrite is None:
        return None
    return (main.rewrite or RewriteConf()).merge(s.rewrite)


def _server_port(s: D.ServerDraft, main: D.ServerDraft | None) -> int:
    """r->server->port: a vhost starts with the main server's port, its first
    <VirtualHost> address's port overrides it (vhost.c ap_parse_vhost_addrs), and its
    own ServerName sets it, to 0 when the name has no port (core.c
    server_hostname_port)."""
    if s.server_name_port is not None:
        return s.server_name_port
    if s.addresses and s.addresses[0].port:
        return s.addresses[0].port
    return _server_port(main, None) if main is not None else 0


def _resolve_log(p: D.PendingLog, formats: dict[str, str], default: str | None) -> LogTarget:
    if p.format_or_nick is None:
        return LogTarget(p.target, default or DEFAULT_LOG_FORMAT, None, p.condition, p.source)
    # mod_log_config open_config_log: a defined nickname, else the text is the format
    if p.format_or_nick in formats:
        return LogTarget(p.target, formats[p.format_or_nick], p.format_or_nick, p.condition,
                         p.source)
    return LogTarget(p.target, p.format_or_nick, None, p.condition, p.source)


def _ignored_warnings(draft: D.Draft, loaded: frozenset[str],
                      load_sources: Mapping[str, Source]) -> list[str]:
    """One warning per module whose directives appeared and are ignored, and one per
    loaded module cgihttpd does not implement at all."""
    out: list[str] = []

    def where(items: list[tuple[str, Source]]) -> str:
        # each directive once, at its first place, with how many more times it appeared
        first: dict[str, tuple[Source, int]] = {}
        for name, src in items:
            src0, n = first.get(name, (src, 0))
            first[name] = (src0, n + 1)
        return ", ".join(f"{name} ({src}" + (f", +{n - 1} more" if n > 1 else "") + ")"
                         for name, (src, n) in first.items())

    mpm = [i for mod in sorted(MPM_MODULES) for i in draft.ignored.get(mod, [])]
    if mpm:
        out.append("MPM tuning directives have no effect in cgihttpd (one process, "
                   f"asyncio): {where(mpm)}")
    noop = draft.ignored.get("(no effect in cgihttpd)", [])
    if noop:
        out.append(f"directives accepted with no effect in cgihttpd: {where(noop)}")
    for mod in sorted(loaded):
        info = REGISTRY.module(mod)
        if mod in MPM_MODULES or info is None:
            continue
        items = draft.ignored.get(mod, [])
        if mod not in IMPLEMENTED_MODULES:
            effect = UNIMPLEMENTED_EFFECTS.get(mod)
            detail = f": {effect}" if effect else ""
            detail += f"; its directives are ignored: {where(items)}" if items else ""
            src = load_sources.get(mod)
            at = f"{src}: " if src is not None and src.line else ""
            out.append(f"{at}module {mod} ({info.source}) is loaded but not implemented by "
                       f"cgihttpd{detail}")
        elif items:
            out.append(f"{mod}: directives not implemented by cgihttpd are ignored: "
                       f"{where(items)}")
    return out


