"""``Exchange``: one request in flight, as handed to a handler (static, index, CGI).

It carries the server's ``Runtime`` (configuration, launchers, caches, logs), the
resolved pieces (vhost, target) and the ASGI channel. Handlers answer by sending through
it; the app writes the log from ``record`` when the handler returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from cgihttpd.asgi import Receive, Send
from cgihttpd.config.model import ServerConfig, VirtualHost
from cgihttpd.logs.access import LogRecord
from cgihttpd.request import Request
from cgihttpd.target import Target

if TYPE_CHECKING:
    from cgihttpd.headers import HeaderAction
    from cgihttpd.runtime import Runtime


@dataclass(slots=True)
class Outbound:
    """The mod_headers actions the response goes out with: the target's, replaced
    when an internal redirect serves another (``app``)."""

    actions: tuple[HeaderAction, ...]
    #: the request as the actions see it (after RequestHeader)
    request: Request


class ErrorLogger(Protocol):
    """A vhost's error log. ``level`` is Apache's (emerg..trace8), ``module`` the
    module tag Apache would use (core, cgi, cgid, dir, autoindex, ...)."""

    def log(self, level: str, module: str, message: str,
            client: tuple[str, int] | None = None) -> None: ...


@dataclass(slots=True)
class Exchange:
    runtime: Runtime
    vhost: VirtualHost
    request: Request
    target: Target
    record: LogRecord
    errorlog: ErrorLogger
    receive: Receive
    send: Send
    #: mod_setenvif's variables for this request and target (``app.setenvif_env``),
    #: computed once: the log record, the access checks and the script's environment
    #: all start from them
    setenvif: Mapping[str, str] = field(default_factory=dict)
    #: the authenticated user (REMOTE_USER) and the AuthType that authenticated them
    #: (AUTH_TYPE), once authorization needed one (``app``, ``authn``); else None
    user: str | None = None
    auth_type: str | None = None
    #: served by mod_rewrite's internal redirect, which passes the request body on
    #: (a CGI Location or an ErrorDocument has read or dropped it)
    keeps_body: bool = False
    #: the body was read or dropped by an earlier request of this exchange (a CGI
    #: ``Location`` or an ErrorDocument redirect): nothing is left to discard
    body_gone: bool = False
    #: mod_headers: None when the module is not loaded (nothing to apply)
    outbound: Outbound | None = None
    #: what the static handler answered from memory, whole, for the quick path to
    #: replay (``app.App.quick``): (the target it served, the header fields, the
    #: body); shared by the exchange's copies, so the application sees what a copy
    #: served and checks it was the request's own target
    quick_offer: list[tuple[Target, tuple[tuple[bytes, bytes], ...], bytes]] = field(
        default_factory=list)

    @property
    def config(self) -> ServerConfig:
        """The server's configuration (``runtime.config``)."""
        return self.runtime.config
