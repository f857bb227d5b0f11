"""What the directive table fills while reading: the ``Draft`` of servers (``ServerDraft``),
sections (``SectionDraft``) and server-wide values, and ``Ctx``, where a directive is
being applied. Plain mutable values: no directive knowledge, no files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from cgihttpd.authz import ALL_METHODS, Methods, Op, Subnet
from cgihttpd.authz import Node as AuthzNode
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import (
    Address,
    Alias,
    DirConf,
    Redirect,
    Section,
    SectionKind,
    Source,
)
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.config.setenvif import EnvCondition
from cgihttpd.config.tree import Node, server_root_relative
from cgihttpd.remoteip import ProxyMatch
from cgihttpd.rewrite import RewriteConf

Arity = Literal["TAKE1", "TAKE2", "TAKE12", "TAKE23", "TAKE123", "ITERATE", "ITERATE2", "FLAG",
                "RAW", "NO_ARGS"]

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
    #: where ErrorLog was set (a failure to open it is reported there)
    error_log_source: Source | None = None
    log_level: str | None = None
    #: ErrorLogFormat ("" resets to the default layout)
    error_log_format: str | None = None
    custom_logs: list[PendingLog] = field(default_factory=list)
    log_formats: dict[str, str] = field(default_factory=dict)
    default_format: str | None = None
    aliases: list[Alias] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    base: DirConf = field(default_factory=DirConf)
    sections: list[Section] = field(default_factory=list)
    timeout: float | None = None
    keepalive: bool | None = None
    keepalive_timeout: float | None = None
    max_keepalive_requests: int | None = None
    server_signature: Literal["on", "off", "email"] | None = None
    trace_enable: Literal["on", "off", "extended"] | None = None
    cgi_script_timeout: float | None = None
    #: RequestReadTimeout body= in a <VirtualHost> (the main server's is the Draft's)
    body_timeout: ReadTimeout | None = None
    script_log: str | None = None
    script_log_length: int | None = None
    script_log_buffer: int | None = None
    access_file_names: tuple[str, ...] | None = None
    #: mod_setenvif conditions outside any section (its server config)
    setenvif: tuple[EnvCondition, ...] = ()
    #: mod_rewrite's server settings (written outside any section); None: none
    rewrite: RewriteConf | None = None
    #: mod_remoteip (None: unset, the main server's applies)
    remoteip_header: str | None = None
    remoteip_proxies_header: str | None = None
    remoteip_proxies: tuple[ProxyMatch, ...] | None = None
    #: RemoteIP*ProxyList files (path, internal, where), read by loader
    remoteip_list_files: list[tuple[str, bool, Source]] = field(default_factory=list)
    proxy_protocol: bool | None = None
    proxy_protocol_exceptions: tuple[Subnet, ...] = ()
    #: mod_ssl, by setting ("engine", "cert", "key", "chain", "protocols", "ciphers",
    #: "honor"): its value and where it was set
    ssl: dict[str, tuple[object, Source]] = field(default_factory=dict)


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
    #: the ports of the Listen lines whose protocol is https (written, or port 443
    #: without one: listen.c's default)
    https_ports: set[int] = field(default_factory=set)
    limits: dict[str, int] = field(default_factory=dict)
    server_tokens: str | None = None
    user: str | None = None
    group: str | None = None
    pid_file: str | None = None
    types_config: tuple[str, Source] | None = None
    max_processes: int = 0
    #: CGIQueueTimeout (None: Timeout) and CGIQueueMemory (0: the default), cgihttpd's
    queue_timeout: float | None = None
    queue_memory: int = 0
    #: CGIDevMode (cgihttpd): explain failing scripts in the browser
    dev_mode: bool = False
    #: ExtendedStatus (core): the totals in mod_status's report
    extended_status: bool = False
    #: GracefulShutdownTimeout (the MPMs): seconds a graceful stop waits, 0: no limit
    graceful_shutdown_timeout: int = 0
    #: CGIWarmPreload modules, in order, each once
    warm_preload: list[str] = field(default_factory=list)
    #: RequestReadTimeout stages set ("handshake", "header", "body")
    read_timeouts: dict[str, ReadTimeout] = field(default_factory=dict)
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: module -> directives of it that appeared and that cgihttpd ignores
    ignored: dict[str, list[tuple[str, Source]]] = field(default_factory=dict)
    #: a .htaccess is being applied (``config.htaccess``): messages speak of the
    #: request, not of start-up
    htaccess: bool = False
    #: AllowOverride Options=...: the options a .htaccess may set; None: any
    override_opts: frozenset[str] | None = None


@dataclass
class AuthzDraft:
    """A <RequireAll>, <RequireAny> or <RequireNone> while its lines are read."""

    op: Op
    negate: bool
    tag: str
    children: list[AuthzNode] = field(default_factory=list)


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
    #: the methods of the <Limit>/<LimitExcept> being read (Apache's cmd->limited)
    limited: Methods = ALL_METHODS
    #: the <RequireAll>/<RequireAny>/<RequireNone> being read; None: Require lines go
    #: to the section's own (implicit RequireAny) tree
    authz_group: AuthzDraft | None = None

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
