"""Response framing: how a response's body is delimited and whether the connection stays
open, decided from the request and the application's headers. Pure: values in, a plan
(with the encoded response head) out.

The rules are Apache's ``ap_set_keepalive`` (modules/http/http_protocol.c) and
RFC 9112 section 6-9:

- a body with a Content-Length is sent as is;
- no body at all for HEAD, 1xx, 204 and 304 (RFC 9110 section 6.4.1): never chunked;
- otherwise, to an HTTP/1.1 client: ``Transfer-Encoding: chunked``;
- to an HTTP/1.0 client (which cannot read chunked, RFC 9112 section 6.1): the body ends
  when the connection closes, so the response says ``Connection: close``;
- the connection stays open only if the client wants it (HTTP/1.1 unless
  ``Connection: close``; HTTP/1.0 only with ``Connection: keep-alive``), the server allows
  it (KeepAlive On, MaxKeepAliveRequests not reached) and the status does not drop the
  connection (``ap_status_drops_connection``: 400 408 411 413 414 500 501 503);
- to an HTTP/0.9 request (a GET line alone): the body alone, no head, then close;
- ``Keep-Alive: timeout=N, max=M`` and ``Connection: Keep-Alive`` are sent only when the
  client sent a ``keep-alive`` token, ``Connection: close`` whenever the connection
  closes (both as Apache, checked with raw sockets against 2.4.71).

Hop-by-hop headers from the application (Connection, Keep-Alive, Transfer-Encoding) are
the server's business and are replaced by ours (RFC 9110 section 7.6.1). Apache writes
Content-Type last; so do we, so a raw response reads the same.

Must not know about sockets, asyncio or the configuration files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cgihttpd.http.status import status_line

#: ap_status_drops_connection (include/httpd.h)
DROPS_CONNECTION = frozenset({400, 408, 411, 413, 414, 500, 501, 503})

_BAD_NAME = re.compile(rb"[\x00-\x20\x7f()<>@,;:\\\"/\[\]?={}]")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding"})

#: ASGI applications send lower-case names; Apache writes these standard ones in their
#: usual spelling. Other names go out as the application wrote them (as Apache passes a
#: CGI script's own spelling).
_CANONICAL: dict[bytes, bytes] = {
    n.lower(): n for n in (
        b"Accept-Ranges", b"Age", b"Allow", b"Cache-Control", b"Content-Disposition",
        b"Content-Encoding", b"Content-Language", b"Content-Length", b"Content-Location",
        b"Content-Range", b"Content-Type", b"Date", b"ETag", b"Expires", b"Last-Modified",
        b"Link", b"Location", b"Pragma", b"Retry-After", b"Server", b"Set-Cookie",
        b"Status", b"Vary", b"WWW-Authenticate",
    )
}


class InvalidResponse(ValueError):
    """The application's response head cannot be sent (bad header name or value)."""


@dataclass(slots=True)  # not frozen: built per request, and frozen init is slow
class RequestFacts:
    """What framing needs to know about the request and the connection."""

    http_version: str  # "0.9" | "1.0" | "1.1"
    method: str
    #: the client's wish (llhttp's should_keep_alive: 1.1 default, 1.0 needs keep-alive)
    client_keep_alive: bool
    #: the client sent a "keep-alive" token in Connection
    keep_alive_token: bool
    #: KeepAlive On, MaxKeepAliveRequests not reached, not shutting down
    server_keep_alive: bool
    keep_alive_timeout: int = 5
    #: requests left on this connection for "max=" (None: MaxKeepAliveRequests 0)
    keep_alive_left: int | None = 100


@dataclass(slots=True)
class ResponsePlan:
    head: bytes
    #: False for HEAD, 1xx, 204, 304: body bytes from the application are dropped
    body_allowed: bool
    chunked: bool
    #: the declared Content-Length, if any
    content_length: int | None
    keep_alive: bool


def body_allowed(method: str, status: int) -> bool:
    # RFC 9110 section 9.3.2 (HEAD), 15.2 (1xx), 15.3.5 (204), 15.4.5 (304)
    return method != "HEAD" and status >= 200 and status not in (204, 304)


@dataclass(frozen=True, slots=True)
class _Fields:
    """What framing takes from the application's headers, the end-to-end ones encoded."""

    content_length: int | None
    app_close: bool
    has_date: bool
    has_server: bool
    #: the header lines to send as they are, then the Content-Type line(s), encoded
    lines: bytes
    content_type: bytes


def _scan(headers: Iterable[tuple[bytes, bytes]]) -> _Fields:
    content_length: int | None = None
    app_close = False
    content_type: list[bytes] = []
    rest: list[bytes] = []
    has_date = has_server = False
    for name, value in headers:
        if _BAD_NAME.search(name) or not name:
            raise InvalidResponse(f"invalid header name {name!r}")
        if _BAD_VALUE.search(value):
            raise InvalidResponse(f"invalid value for header {name!r}")
        lname = name.lower()
        name = _CANONICAL.get(name, name)
        if lname in _HOP_BY_HOP:
            if lname == b"connection" and b"close" in value.lower():
                app_close = True
            continue
        if lname == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise InvalidResponse(f"invalid Content-Length {value!r}") from None
            if length < 0:
                raise InvalidResponse(f"invalid Content-Length {value!r}")
            if content_length is not None:
                continue  # keep the first, never send two
            content_length = length
        elif lname == b"content-type":
            content_type.append(name + b": " + value + b"\r\n")
            continue
        elif lname == b"date":
            has_date = True
        elif lname == b"server":
            has_server = True
        rest.append(name + b": " + value + b"\r\n")
    return _Fields(content_length, app_close, has_date, has_server, b"".join(rest),
                   b"".join(content_type))


#: a static file's headers come as the same tuple again and again (the handler keeps
#: them): their scan is remembered (a list is scanned each time)
_scan_tuple = lru_cache(maxsize=1024)(_scan)


def plan_response(
    facts: RequestFacts,
    status: int,
    headers: Iterable[tuple[bytes, bytes]],
    *,
    date: bytes,
    server: bytes,
    reason: str | None = None,
) -> ResponsePlan:
    """Decide framing for a response and encode its head."""
    fields = _scan_tuple(headers) if type(headers) is tuple else _scan(headers)
    content_length = fields.content_length
    allowed = body_allowed(facts.method, status)
    if facts.http_version == "0.9":
        # HTTP/0.9 has no response head: the body, then close (Apache's
        # basic_http_header is skipped for assbackwards requests)
        return ResponsePlan(head=b"", body_allowed=allowed, chunked=False,
                            content_length=content_length, keep_alive=False)
    informational = status < 200
    if content_length is not None or not allowed:
        delimited = True
        chunked = False
    elif facts.http_version == "1.1":
        delimited = True
        chunked = True
    else:
        delimited = False  # HTTP/1.0: the body ends when the connection closes
        chunked = False

    keep_alive = (
        delimited
        and facts.client_keep_alive
        and facts.server_keep_alive
        and not fields.app_close
        and status not in DROPS_CONNECTION
    )

    out: list[bytes] = [status_line(status, reason)]
    if not fields.has_date:
        out.append(b"Date: " + date + b"\r\n")
    if not fields.has_server and server:
        out.append(b"Server: " + server + b"\r\n")
    out.append(fields.lines)
    if chunked:
        out.append(b"Transfer-Encoding: chunked\r\n")
    if not informational:
        if keep_alive:
            if facts.keep_alive_token:
                if facts.keep_alive_left is None:
                    out.append(b"Keep-Alive: timeout=%d\r\n" % facts.keep_alive_timeout)
                else:
                    out.append(b"Keep-Alive: timeout=%d, max=%d\r\n"
                               % (facts.keep_alive_timeout, facts.keep_alive_left))
                out.append(b"Connection: Keep-Alive\r\n")
        else:
            out.append(b"Connection: close\r\n")
    out.append(fields.content_type)
    out.append(b"\r\n")
    return ResponsePlan(
        head=b"".join(out),
        body_allowed=allowed,
        chunked=chunked,
        content_length=content_length,
        keep_alive=keep_alive,
    )


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 section 7.1)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
