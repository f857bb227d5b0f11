"""What the HTTP layer takes from the configuration (``HttpSettings``), what it reports
about requests it answered itself (``ProtocolErrorEvent``) and the Date header clock.

Must not know about sockets, ASGI or the configuration's shape: ``server.http_settings``
builds ``HttpSettings`` from a ``ServerConfig``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING

from cgihttpd.banner import server_software
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.http.limits import HeadLimits
from cgihttpd.http.proxyproto import ProxyProtocolRule

if TYPE_CHECKING:
    import ssl


@dataclass(frozen=True, slots=True)
class ProtocolErrorEvent:
    """A request the HTTP layer answered (or dropped) itself, for the access log.
    ``request_line`` is "-" when no complete request line arrived (as Apache's %r)."""

    client: tuple[str, int] | None
    server: tuple[str, int] | None
    request_line: str
    method: str
    status: int
    start_time: float
    bytes_in: int
    bytes_out: int
    body_bytes: int
    headers: tuple[tuple[str, str], ...] = ()
    #: "-" for a first request that timed out before its request line (Apache logs it)
    keepalive_count: int = 0


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """The keep-alive rules of the virtual host that served a request, which the
    application puts in ``scope["extensions"]["cgihttpd"]["keep_alive"]`` when they are
    not the main server's: Apache decides per request from r->server
    (http_protocol.c ap_set_keepalive)."""

    #: KeepAlive
    on: bool
    #: KeepAliveTimeout: Keep-Alive's timeout= (0 disables keep-alive, as Apache)
    timeout: float
    #: MaxKeepAliveRequests, counted on the connection; 0 means unlimited
    max_requests: int
    #: how long to wait for the next request: the vhost's KeepAliveTimeout if it sets
    #: one, else the address's default vhost's (event.c event_post_read_request)
    wait: float


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Everything the protocol takes from the configuration."""

    limits: HeadLimits = field(default_factory=HeadLimits)
    header_timeout: ReadTimeout = field(default_factory=ReadTimeout)
    #: mod_reqtimeout body=20,MinRate=500: reading the request body
    body_timeout: ReadTimeout = field(default_factory=lambda: ReadTimeout(20.0, 20.0, 0))
    #: Timeout: how long a write may wait for a client that does not read
    timeout: float = 60.0
    #: the Allow field of the connection's own 405 (CONNECT): TRACE only with
    #: TraceEnable on (the main server's)
    allow: bytes = b"GET,HEAD,POST,OPTIONS,TRACE"
    keep_alive: bool = True
    keep_alive_timeout: float = 5.0
    #: MaxKeepAliveRequests; 0 means unlimited
    max_keep_alive_requests: int = 100
    server_header: str = field(default_factory=server_software)
    server_signature: str = "off"
    server_name: str = "localhost"
    server_admin: str = ""
    on_protocol_error: Callable[[ProtocolErrorEvent], None] | None = None
    #: RemoteIPProxyProtocol: which connections start with a PROXY header (None: none)
    proxy_protocol: ProxyProtocolRule | None = None
    #: (local address, port) -> the TLS context a connection there starts its handshake
    #: with, or None for plain HTTP (``cgihttpd.tls``); None: no TLS anywhere
    tls: Callable[[str, int], ssl.SSLContext | None] | None = None


_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """The current time as an HTTP date (RFC 9110 section 5.6.7), cached per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]
