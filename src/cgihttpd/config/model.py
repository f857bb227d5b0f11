"""The configuration as the rest of cgihttpd sees it: frozen values, no parsing.

This module owns the *shape* of a loaded configuration: the server, its virtual hosts,
their per-directory sections and the per-directory settings those sections carry. It
knows nothing of Apache's syntax (that is ``lexer``/``tree``/``directives``) nor of the
filesystem (that is ``loader``). Every other module reads configuration only through
these types.

Apache's model, which this mirrors (server/core.c, server/request.c):
- server-wide settings live on the server and on each virtual host, which inherits the
  main server's values where it sets none (``merge_server_configs``);
- per-directory settings are *deltas* (``DirConf`` with ``None`` meaning "not set here")
  carried by sections (<Directory>, <Files>, <Location>, ...). A request's effective
  settings are the merge of the matching sections in Apache's order
  (see ``cgihttpd.walk``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from cgihttpd.authz import AccessCompat, AuthzConf, Group, Subnet
from cgihttpd.config.indexopts import effective_index_options, merge_index_options
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.config.setenvif import EnvCondition
from cgihttpd.headers import HeaderAction
from cgihttpd.remoteip import RemoteIPConf
from cgihttpd.rewrite import RewriteConf

# --- where a value came from ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """The file and line a directive or section was read from (1-based line)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


BUILTIN = Source("<built-in>", 0)


# --- Options -------------------------------------------------------------------------

OptionName = Literal[
    "Indexes",
    "Includes",
    "IncludesNOEXEC",
    "FollowSymLinks",
    "SymLinksIfOwnerMatch",
    "ExecCGI",
    "MultiViews",
]

#: Options All: everything but MultiViews (Apache 2.4 core docs, "Options").
OPTIONS_ALL: frozenset[str] = frozenset(
    {"Indexes", "Includes", "IncludesNOEXEC", "FollowSymLinks", "SymLinksIfOwnerMatch", "ExecCGI"}
)
#: Apache 2.3.11+: the default when no Options directive applies is FollowSymLinks.
OPTIONS_DEFAULT: frozenset[str] = frozenset({"FollowSymLinks"})


@dataclass(frozen=True, slots=True)
class OptionsSpec:
    """One ``Options`` directive: either an absolute set, or +/- changes.

    Apache 2.4 forbids mixing the two forms in one directive (a config error), so a
    spec is either ``absolute`` (replace the inherited set) or relative (``add``/``remove``
    applied to the inherited set).
    """

    absolute: frozenset[str] | None = None
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()

    def apply(self, inherited: frozenset[str]) -> frozenset[str]:
        if self.absolute is not None:
            return self.absolute
        return (inherited - self.remove) | self.add

    def then(self, later: OptionsSpec) -> OptionsSpec:
        """The spec equivalent to applying ``self`` and then ``later``."""
        if later.absolute is not None:
            return later
        if self.absolute is not None:
            return OptionsSpec(absolute=later.apply(self.absolute))
        return OptionsSpec(
            add=(self.add - later.remove) | later.add,
            remove=(self.remove - later.add) | later.remove,
        )


# --- mod_alias redirects ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redirect:
    """One Redirect, RedirectMatch, RedirectTemp or RedirectPermanent with a URL-path
    (mod_alias's alias_entry with its redir_status): ``fake`` is the URL-path prefix
    (matched on segment boundaries, as Alias) or, with ``regex``, the regex searched in
    the decoded URL path. ``url`` is the target (``$N`` substituted for RedirectMatch),
    None for a status that is not 3xx (gone, 404...)."""

    status: int
    fake: str
    url: str | None
    regex: bool
    source: Source


@dataclass(frozen=True, slots=True)
class ContextRedirect:
    """A Redirect without a URL-path inside a section (``<Location /old> Redirect
    permanent /new``, ``Redirect gone``): every request the section covers is answered
    with ``status``, to ``url`` exactly (no remainder appended); None: no URL."""

    status: int
    url: str | None
    source: Source


# --- per-directory settings ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DirConf:
    """Per-directory settings. In a section every field is a delta: ``None``/empty means
    "not set here". ``merge`` gives the effective settings of base overridden by self.

    Dict-like settings (handlers by extension, types by extension, error documents, env
    changes) are tuples of pairs so the dataclass stays hashable; later pairs win.
    """

    options: OptionsSpec | None = None
    #: AllowOverride: the classes a .htaccess may use ("AuthConfig", "FileInfo", ...);
    #: None: not set (Apache's default is None, no .htaccess read)
    allow_override: frozenset[str] | None = None
    #: AllowOverride Options=...: the options a .htaccess may set; None: any
    allow_override_opts: frozenset[str] | None = None
    #: AllowOverrideList: directives (lower-case) a .htaccess may use whatever
    #: AllowOverride says; None: not set
    allow_override_list: frozenset[str] | None = None
    #: mod_authz_core: the Require tree, AuthMerging, AuthzSendForbiddenOnFailure;
    #: None: none of its directives here (``authz.AuthzConf.merge`` combines them)
    authz: AuthzConf | None = None
    #: mod_access_compat: Order, Allow, Deny, Satisfy; None: none here (the most
    #: specific section with any of them replaces the inherited one whole)
    access_compat: AccessCompat | None = None
    #: mod_authn_core AuthType as written ("Basic"); "" for ``AuthType None`` (which
    #: undoes an inherited one); None: not set here
    auth_type: str | None = None
    #: AuthName, its quotes escaped (ap_escape_quotes), for WWW-Authenticate's realm
    auth_name: str | None = None
    #: AuthBasicProvider's providers, in order; None: not set (the default is "file")
    auth_basic_providers: tuple[str, ...] | None = None
    #: AuthBasicAuthoritative; None: not set (On)
    auth_basic_authoritative: bool | None = None
    #: AuthUserFile / AuthGroupFile, made absolute against ServerRoot
    auth_user_file: str | None = None
    auth_group_file: str | None = None
    directory_index: tuple[str, ...] | None = None
    directory_slash: bool | None = None
    #: mod_dir FallbackResource: the local URL serving a request that maps to no file;
    #: "disabled" (any case) undoes an inherited one; None: not set
    fallback_resource: str | None = None
    #: AddHandler: (".py", "cgi-script") pairs; extensions lower-case with the dot; a
    #: handler "" is a pair removed by RemoveHandler (``merge`` writes it)
    add_handlers: tuple[tuple[str, str], ...] = ()
    #: RemoveHandler extensions of this section, still to apply (as ``remove_types``:
    #: they undo this section's AddHandler too, not a deeper section's)
    remove_handlers: tuple[str, ...] = ()
    #: SetHandler; "none" (any case) clears an inherited one.
    set_handler: str | None = None
    #: AddType: (".html", "text/html") pairs; a type "" is a pair removed by RemoveType
    #: (``merge`` writes it; the extension then gives no type, not even TypesConfig's).
    add_types: tuple[tuple[str, str], ...] = ()
    #: RemoveType extensions of this section, still to apply (mod_mime's remove_items
    #: runs on the merged table, so they undo this section's AddType too): ``merge``
    #: applies the base's before adding the next section's; ``media_types`` the last's.
    remove_types: tuple[str, ...] = ()
    #: AddCharset: (".utf8", "UTF-8") pairs; "" is a pair removed by RemoveCharset.
    add_charsets: tuple[tuple[str, str], ...] = ()
    #: RemoveCharset extensions still to apply (as ``remove_types``).
    remove_charsets: tuple[str, ...] = ()
    #: ForceType
    force_type: str | None = None
    #: ErrorDocument: (404, "/missing.html" | "\"text" | "http://...") pairs.
    error_documents: tuple[tuple[int, str], ...] = ()
    #: AddDefaultCharset; None: not set, "" : Off.
    default_charset: str | None = None
    #: mod_env, mod_cgi: applied in order; ("set", NAME, VALUE) | ("pass", NAME, "") |
    #: ("unset", NAME, "")
    env: tuple[tuple[Literal["set", "pass", "unset"], str, str], ...] = ()
    cgi_pass_auth: bool | None = None
    #: CGIVar: (variable, rule) pairs, e.g. ("REQUEST_URI", "current-uri").
    cgi_vars: tuple[tuple[str, str], ...] = ()
    #: CGIPythonInterpreter (cgihttpd): the Python for foreign Python shebangs.
    cgi_python: str | None = None
    #: CGIWarmPython (cgihttpd, issue "Speed").
    cgi_warm_python: bool | None = None
    #: mod_autoindex IndexOptions, in ``indexopts``' canonical form; None: not set
    index_options: tuple[str, ...] | None = None
    #: IndexIgnore patterns (accumulate down the tree unless IndexIgnoreReset On)
    index_ignore: tuple[str, ...] = ()
    index_ignore_reset: bool | None = None
    #: HeaderName / ReadmeName: the URLs whose files a listing includes
    header_name: str | None = None
    readme_name: str | None = None
    #: mod_alias Redirect* with a URL-path inside a section or .htaccess, checked in
    #: the fixups phase (dirconf->redirects): a more specific section's come first
    redirects: tuple[Redirect, ...] = ()
    #: mod_alias's forms without a URL-path inside a section (dirconf->redirect):
    #: every request the section covers is answered with it
    redirect: ContextRedirect | None = None
    #: LimitRequestBody (core: server, vhost, directory, .htaccess); None: not set here,
    #: ``Limits.request_body`` then applies
    limit_request_body: int | None = None
    #: EnableSendfile; None: not set (cgihttpd's default is On, see ``static.handlers``)
    enable_sendfile: bool | None = None
    #: ServerSignature in a section or .htaccess; None: the server's (vhost's) applies
    server_signature: Literal["on", "off", "email"] | None = None
    #: mod_setenvif conditions written in sections and .htaccess, applied at
    #: header-parser (the more general section's first)
    setenvif: tuple[EnvCondition, ...] = ()
    #: mod_rewrite's per-directory settings (RewriteEngine, RewriteOptions, RewriteBase,
    #: the rules of the most specific section that has any); None: none here
    rewrite: RewriteConf | None = None
    #: mod_headers Header lines (the response's) and RequestHeader lines, in order:
    #: the more general section's first (merge_headers_config appends)
    headers: tuple[HeaderAction, ...] = ()
    request_headers: tuple[HeaderAction, ...] = ()
    #: mod_ssl SSLOptions StdEnvVars: scripts see SSL_PROTOCOL, SSL_CIPHER, ...;
    #: None: not set here (off)
    ssl_std_env_vars: bool | None = None
    #: mod_ssl SSLRequireSSL: a request over plain HTTP is refused (403, AH02219)
    ssl_require_ssl: bool | None = None
    #: Directives of modules we know but do not implement: kept, never acted on.
    ignored: tuple[tuple[str, Source], ...] = ()

    def merge(self, over: DirConf) -> DirConf:
        """``self`` with ``over`` applied on top (Apache's per-dir merge)."""

        def pick(a: object, b: object) -> object:
            return a if b is None else b

        options: OptionsSpec | None
        if over.options is None:
            options = self.options
        elif self.options is None:
            options = over.options
        else:
            options = self.options.then(over.options)
        return DirConf(
            options=options,
            allow_override=pick(self.allow_override, over.allow_override),  # type: ignore[arg-type]
            allow_override_opts=(self.allow_override_opts if over.allow_override is None
                                 else over.allow_override_opts),
            allow_override_list=pick(self.allow_override_list, over.allow_override_list),  # type: ignore[arg-type]
            authz=(self.authz if over.authz is None
                   else (self.authz or AuthzConf()).merge(over.authz)),
            access_compat=pick(self.access_compat, over.access_compat),  # type: ignore[arg-type]
            # mod_authn_core, mod_auth_basic, mod_authn_file, mod_authz_groupfile: each
            # setting a section sets replaces the inherited one
            auth_type=pick(self.auth_type, over.auth_type),  # type: ignore[arg-type]
            auth_name=pick(self.auth_name, over.auth_name),  # type: ignore[arg-type]
            auth_basic_providers=pick(self.auth_basic_providers,  # type: ignore[arg-type]
                                      over.auth_basic_providers),
            auth_basic_authoritative=pick(self.auth_basic_authoritative,  # type: ignore[arg-type]
                                          over.auth_basic_authoritative),
            auth_user_file=pick(self.auth_user_file, over.auth_user_file),  # type: ignore[arg-type]
            auth_group_file=pick(self.auth_group_file, over.auth_group_file),  # type: ignore[arg-type]
            directory_index=pick(self.directory_index, over.directory_index),  # type: ignore[arg-type]
            directory_slash=pick(self.directory_slash, over.directory_slash),  # type: ignore[arg-type]
            fallback_resource=pick(self.fallback_resource, over.fallback_resource),  # type: ignore[arg-type]
            # merge_mime_dir_configs: a section's RemoveHandler runs on the table
            # merged so far, so a deeper AddHandler brings the handler back
            add_handlers=self.handlers + over.add_handlers,
            remove_handlers=over.remove_handlers,
            set_handler=pick(self.set_handler, over.set_handler),  # type: ignore[arg-type]
            add_types=self.media_types + over.add_types,
            remove_types=over.remove_types,
            add_charsets=self.charsets + over.add_charsets,
            remove_charsets=over.remove_charsets,
            force_type=pick(self.force_type, over.force_type),  # type: ignore[arg-type]
            error_documents=self.error_documents + over.error_documents,
            default_charset=pick(self.default_charset, over.default_charset),  # type: ignore[arg-type]
            env=self.env + over.env,
            cgi_pass_auth=pick(self.cgi_pass_auth, over.cgi_pass_auth),  # type: ignore[arg-type]
            cgi_vars=self.cgi_vars + over.cgi_vars,
            cgi_python=pick(self.cgi_python, over.cgi_python),  # type: ignore[arg-type]
            cgi_warm_python=pick(self.cgi_warm_python, over.cgi_warm_python),  # type: ignore[arg-type]
            index_options=merge_index_options(self.index_options, over.index_options),
            # mod_autoindex merge: IndexIgnoreReset On stops the inheritance
            index_ignore=(over.index_ignore if over.index_ignore_reset
                          else self.index_ignore + over.index_ignore),
            index_ignore_reset=over.index_ignore_reset,
            header_name=pick(self.header_name, over.header_name),  # type: ignore[arg-type]
            readme_name=pick(self.readme_name, over.readme_name),  # type: ignore[arg-type]
            # merge_alias_dir_config: the overriding section's redirects first
            redirects=over.redirects + self.redirects,
            redirect=pick(self.redirect, over.redirect),  # type: ignore[arg-type]
            limit_request_body=pick(self.limit_request_body, over.limit_request_body),  # type: ignore[arg-type]
            enable_sendfile=pick(self.enable_sendfile, over.enable_sendfile),  # type: ignore[arg-type]
            server_signature=pick(self.server_signature, over.server_signature),  # type: ignore[arg-type]
            setenvif=self.setenvif + over.setenvif,
            rewrite=(self.rewrite if over.rewrite is None
                     else (self.rewrite or RewriteConf()).merge(over.rewrite)),
            headers=self.headers + over.headers,
            request_headers=self.request_headers + over.request_headers,
            ssl_std_env_vars=pick(self.ssl_std_env_vars, over.ssl_std_env_vars),  # type: ignore[arg-type]
            ssl_require_ssl=pick(self.ssl_require_ssl, over.ssl_require_ssl),  # type: ignore[arg-type]
            ignored=self.ignored + over.ignored,
        )

    # --- effective values (meaningful on a merged DirConf) ---------------------------

    @property
    def effective_options(self) -> frozenset[str]:
        return OPTIONS_DEFAULT if self.options is None else self.options.apply(OPTIONS_DEFAULT)

    @property
    def require_tree(self) -> Group | None:
        """The Require tree in force (None: no Require applies: granted)."""
        return None if self.authz is None else self.authz.tree

    @property
    def effective_auth_type(self) -> str | None:
        """The AuthType in force, None when none is (or ``AuthType None``)."""
        return self.auth_type or None

    @property
    def reads_access_files(self) -> bool:
        """Whether a .htaccess is read where these settings are in force (Apache:
        AllowOverride other than None, or an AllowOverrideList)."""
        return bool(self.allow_override) or bool(self.allow_override_list)

    @property
    def media_types(self) -> tuple[tuple[str, str], ...]:
        """AddType's pairs with this section's RemoveType applied (a removed extension
        maps to "")."""
        if not self.remove_types:
            return self.add_types
        return self.add_types + tuple((ext, "") for ext in self.remove_types)

    @property
    def handlers(self) -> tuple[tuple[str, str], ...]:
        """AddHandler's pairs with this section's RemoveHandler applied (a removed
        extension maps to "")."""
        if not self.remove_handlers:
            return self.add_handlers
        return self.add_handlers + tuple((ext, "") for ext in self.remove_handlers)

    @property
    def charsets(self) -> tuple[tuple[str, str], ...]:
        """AddCharset's pairs with this section's RemoveCharset applied."""
        if not self.remove_charsets:
            return self.add_charsets
        return self.add_charsets + tuple((ext, "") for ext in self.remove_charsets)

    @property
    def effective_directory_index(self) -> tuple[str, ...]:
        # mod_dir's default is index.html
        return ("index.html",) if self.directory_index is None else self.directory_index

    @property
    def effective_index_options(self) -> tuple[str, ...]:
        # no IndexOptions anywhere: mod_autoindex's default, a plain list
        return effective_index_options(self.index_options)

    @property
    def effective_directory_slash(self) -> bool:
        return True if self.directory_slash is None else self.directory_slash

    def handler_for(self, filename: str) -> str | None:
        """The handler Apache would pick for ``filename``: SetHandler wins, else the
        AddHandler of any of its extensions (mod_mime looks at every extension, so
        ``x.py.bak`` still maps ``.py``... only when ``.bak`` is unknown; see mod_mime)."""
        if self.set_handler is not None and self.set_handler.lower() != "none":
            return self.set_handler
        handlers = dict(self.handlers)
        found: str | None = None
        # mod_mime: every dot-separated part after the first is an extension; the last
        # one that maps wins.
        parts = filename.lower().split(".")[1:]
        for part in parts:
            h = handlers.get("." + part)
            if h:  # "" is a removed extension: as if it were not there
                found = h
        return found

    def error_document(self, status: int) -> str | None:
        return dict(self.error_documents).get(status)


# --- sections ------------------------------------------------------------------------

SectionKind = Literal["directory", "files", "location"]


@dataclass(frozen=True, slots=True)
class Section:
    """A <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location> or
    <LocationMatch> section (``regex`` for the *Match forms and the ``~`` form).

    For ``directory`` without regex, ``pattern`` is an absolute, normalised path with no
    trailing slash (except "/" itself); it may hold wildcards (fnmatch-style, as Apache).
    """

    kind: SectionKind
    pattern: str
    regex: bool
    conf: DirConf
    source: Source
    #: a <Files>/<FilesMatch> nested in a <Directory>/<DirectoryMatch>: that section's
    #: pattern (and whether it is a regex); it then applies only under that directory
    within: str | None = None
    within_regex: bool = False


# --- virtual hosts and the server ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    """A <VirtualHost> or Listen address. ``host`` is "*" for any; ``port`` None for any."""

    host: str
    port: int | None

    def __str__(self) -> str:
        return f"{self.host}:{'*' if self.port is None else self.port}"


#: the TLS versions SSLProtocol names that cgihttpd can offer (Python's ssl: 1.2 and up)
TlsVersion = Literal["TLSv1.2", "TLSv1.3"]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """A server's mod_ssl settings (SSLEngine on), each inherited from the main server
    where the virtual host sets none (mod_ssl's ssl_config_server_merge). Two servers
    with equal settings are "compatible" (ssl_server_compatible): a request may name
    either on a connection whose handshake chose the other."""

    certificate_file: str
    certificate_key_file: str | None
    certificate_chain_file: str | None
    #: the versions offered, from SSLProtocol
    protocols: frozenset[TlsVersion]
    #: SSLCipherSuite (OpenSSL's cipher string for TLSv1.2); None: OpenSSL's default
    cipher_suite: str | None
    honor_cipher_order: bool
    #: SSLSessionTickets (default on)
    session_tickets: bool = True
    #: directive name -> where it was set, so a bad file or value is reported at its
    #: line (compare=False: where a setting was written does not change it)
    sources: tuple[tuple[str, Source], ...] = field(default=(), compare=False)

    def source(self, directive: str) -> Source | None:
        return next((s for d, s in self.sources if d == directive), None)


AliasKind = Literal["alias", "scriptalias", "aliasmatch", "scriptaliasmatch"]


@dataclass(frozen=True, slots=True)
class Alias:
    kind: AliasKind
    url: str  # the URL prefix, or the regex for the *match kinds
    path: str  # the filesystem path, or the substitution for the *match kinds
    source: Source

    @property
    def is_script(self) -> bool:
        return self.kind.startswith("script")


@dataclass(frozen=True, slots=True)
class LogTarget:
    """One CustomLog: where to (a path, or "|command") and the resolved format string."""

    target: str
    format: str
    #: the nickname used in the config, if any (for -S and messages)
    nickname: str | None
    #: "env=NAME" / "env=!NAME" / "expr=..." condition, raw, or None
    condition: str | None
    source: Source


@dataclass(frozen=True, slots=True)
class VirtualHost:
    """A virtual host with every server-level value resolved (inherited from the main
    server where it sets none). The main server itself is a VirtualHost with
    ``addresses == ()`` and ``is_main == True``."""

    addresses: tuple[Address, ...]
    server_name: str
    server_aliases: tuple[str, ...]
    server_admin: str
    document_root: str
    error_log: str
    log_level: str
    custom_logs: tuple[LogTarget, ...]
    aliases: tuple[Alias, ...]
    #: per-dir settings set at server/vhost level, outside any section
    base: DirConf
    #: the sections that apply: the main server's followed by this vhost's own
    sections: tuple[Section, ...]
    timeout: float
    keepalive: bool
    keepalive_timeout: float
    max_keepalive_requests: int
    server_signature: Literal["on", "off", "email"]
    #: CGIScriptTimeout / CGIDScriptTimeout; None means "use timeout"
    cgi_script_timeout: float | None
    script_log: str | None
    source: Source
    is_main: bool = False
    #: r->server->port: the ServerName's port (0 when it names none), else the first
    #: <VirtualHost> address's port, else the main server's; 0 means "none"
    #: (ap_get_server_port then uses the Host header's port or the scheme's default)
    port: int = 0
    #: ScriptLogLength / ScriptLogBuffer (mod_cgi.c DEFAULT_LOGBYTES, DEFAULT_BUFBYTES)
    script_log_length: int = 10385760
    script_log_buffer: int = 1024
    #: AccessFileName: the per-directory files read where AllowOverride allows
    access_file_names: tuple[str, ...] = (".htaccess",)
    #: TraceEnable (core, per server): "off" answers TRACE 405 and drops it from Allow
    trace_enable: Literal["on", "off", "extended"] = "on"
    #: where the ErrorLog in force was set (None: the default's; then ``source``)
    error_log_source: Source | None = None
    #: mod_alias redirects written outside any section: checked before the aliases,
    #: this vhost's first, then the main server's (merge_alias_config)
    redirects: tuple[Redirect, ...] = ()
    #: mod_setenvif conditions written outside any section, applied at
    #: post-read-request: the main server's, then this vhost's own
    setenvif: tuple[EnvCondition, ...] = ()
    #: mod_rewrite's server settings and rules (applied at URL translation); None for
    #: a virtual host with no mod_rewrite directive of its own, where the main server's
    #: rules do not apply (hook_uri2file: conf->server != r->server)
    rewrite: RewriteConf | None = None
    #: ErrorLogFormat; None: Apache's default layout
    error_log_format: str | None = None
    #: RequestReadTimeout body= of this virtual host; None: the server's
    body_timeout: ReadTimeout | None = None
    #: mod_remoteip's header walk (RemoteIPHeader unset: none)
    remoteip: RemoteIPConf = RemoteIPConf()
    #: RemoteIPProxyProtocol On: connections to this server's addresses (every one, for
    #: the main server) start with a PROXY header, but from the exceptions' peers
    proxy_protocol: bool = False
    proxy_protocol_exceptions: tuple[Subnet, ...] = ()
    #: mod_ssl: the TLS settings of a server with SSLEngine on; None: plain HTTP
    tls: TlsSettings | None = None
    #: KeepAliveTimeout written in this server itself (not inherited): the wait for
    #: the next request is then its own, else the address's default vhost's (event.c)
    keepalive_timeout_set: bool = False

    @property
    def script_timeout(self) -> float:
        return self.timeout if self.cgi_script_timeout is None else self.cgi_script_timeout


ServerTokens = Literal["Prod", "Major", "Minor", "Min", "OS", "Full"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Request limits, Apache's names and defaults (core docs)."""

    request_line: int = 8190  # LimitRequestLine
    request_field_size: int = 8190  # LimitRequestFieldSize
    request_fields: int = 100  # LimitRequestFields
    #: LimitRequestBody where no section, vhost or server sets one (``DirConf``
    #: carries it per directory): 0 is unlimited (Apache 2.4.54+: 1 GiB)
    request_body: int = 0


#: mod_reqtimeout's defaults when it is loaded (MRT_DEFAULT_*): header=20-40,MinRate=500
#: body=20,MinRate=500 (a rate with no maximum extends the deadline without bound)
REQTIMEOUT_HEADER = ReadTimeout(20.0, 40.0, 500)
REQTIMEOUT_BODY = ReadTimeout(20.0, math.inf, 500)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """A whole loaded configuration."""

    server_root: str
    #: the files read, in order (for -S and reload)
    files: tuple[str, ...]
    listens: tuple[Address, ...]
    main: VirtualHost
    vhosts: tuple[VirtualHost, ...]
    limits: Limits
    server_tokens: ServerTokens
    user: str | None
    group: str | None
    pid_file: str | None
    #: module names loaded (e.g. "cgi_module", "dir_module")
    modules: frozenset[str]
    #: TypesConfig resolved: extension (".html") -> media type
    mime_types: tuple[tuple[str, str], ...]
    #: start-up warnings (unimplemented modules' directives, ...), each with its source
    warnings: tuple[str, ...] = ()
    #: Mutex, DefaultRuntimeDir and friends that we accept and ignore are in warnings
    max_concurrent_cgi: int = 0  # 0: the default chosen by the CGI queue
    #: CGIQueueTimeout (cgihttpd): the longest a request waits for a script slot; the
    #: main server's Timeout unless set
    cgi_queue_timeout: float = 60.0
    #: CGIQueueMemory (cgihttpd): the waiting requests' memory budget; 0: the default
    cgi_queue_memory: int = 0
    #: the worker processes that serve this configuration (``--workers``): the
    #: server-wide limits kept per process (CGIMaxProcesses) are shared out over them
    workers: int = 1
    #: True when -l replaced the config's Listen: vhost ports then match any port
    listen_overridden: bool = False
    defines: frozenset[str] = field(default_factory=frozenset)
    #: -S's "Define:" lines: each -D and Define in the order met, with its value if any
    define_values: tuple[tuple[str, str | None], ...] = ()
    #: User and Group as ids, for -S ("User: name=... id=N"); None where unknown
    user_id: int | None = None
    group_id: int | None = None
    #: CGIWarmPreload (cgihttpd): modules the warm Python pool imports in advance, from
    #: every server (main and virtual hosts) in the order written, each once.
    cgi_warm_preload: tuple[str, ...] = ()
    #: CGIDevMode / --dev (cgihttpd): a failing script's 500 page explains what went
    #: wrong (``cgi.diagnosis``); configuration edits are picked up without a restart
    dev_mode: bool = False
    #: ExtendedStatus: mod_status reports the totals (accesses, traffic, CPU...). Off by
    #: default, as apache2 2.4.71 prints them only with ExtendedStatus On
    extended_status: bool = False
    #: GracefulShutdownTimeout (mpm_common): the seconds a graceful stop (WINCH) lets
    #: requests in flight run before it cuts them; 0 (the default): however long;
    #: negative (Apache's atoi of "-1"): none
    graceful_shutdown_timeout: int = 0
    #: mod_reqtimeout ``RequestReadTimeout header=...``; without the module, Timeout.
    #: The default is mod_reqtimeout's (header=20-40,MinRate=500).
    header_timeout: ReadTimeout = REQTIMEOUT_HEADER
    #: mod_reqtimeout ``body=...``; the default is its body=20,MinRate=500 (no maximum)
    body_timeout: ReadTimeout = REQTIMEOUT_BODY

    def with_listens(self, listens: tuple[Address, ...]) -> ServerConfig:
        return replace(self, listens=listens, listen_overridden=True)
