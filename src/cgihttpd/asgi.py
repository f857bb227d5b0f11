"""The ASGI types the package speaks, in one place (as uvicorn's ``_types.py``): the
scope, the messages, ``receive``/``send``, an application; ``RAW``, the server's
extension message for a response written byte for byte, and ``ZERO_COPY``.

Messages stay plain mutable mappings (``Message``): handlers build dict literals and the
server reads them by key. The TypedDicts below name the shapes of the response messages
the package sends, for readers and for code that builds one on its own.

Neutral ground between the HTTP engine (``http/``), the application and CGI (``cgi/``):
imports nothing from the package. Must not know about sockets, processes or files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypedDict

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: ASGI extension message: {"type": RAW, "bytes": b"...", "more": bool, "status": int}.
#: As the first send it replaces "http.response.start": the bytes go to the client as
#: they are (no status line, headers or framing added) and the connection closes after
#: the last one ("more" False). "status" is only for the access log. The server offers
#: it by the scope extension "raw_output" (``Request.raw_output``).
RAW = "cgihttpd.raw"

#: ASGI's zero-copy send extension message: {"type": ZERO_COPY, "file": an open file,
#: "offset": int, "count": int, "more_body": bool}, body bytes that the server sends
#: from the file by sendfile. Offered by the scope extension "zero_copy"
#: (``Request.zero_copy``; never over TLS).
ZERO_COPY = "http.response.zerocopysend"


class _ResponseStartRequired(TypedDict):
    type: Literal["http.response.start"]
    status: int


class ResponseStart(_ResponseStartRequired, total=False):
    """``http.response.start``: headers are (lower-case name, value) byte pairs."""

    headers: list[tuple[bytes, bytes]]
    trailers: bool


class _ResponseBodyRequired(TypedDict):
    type: Literal["http.response.body"]


class ResponseBody(_ResponseBodyRequired, total=False):
    """``http.response.body``: ``more_body`` False (the default) ends the response."""

    body: bytes
    more_body: bool


class _RawOutputRequired(TypedDict):
    type: Literal["cgihttpd.raw"]
    bytes: bytes


class RawOutput(_RawOutputRequired, total=False):
    """The ``RAW`` extension message (see ``RAW``)."""

    more: bool
    status: int


# --- the quick handler (Apache's quick_handler hook) -----------------------------------
#
# A server may offer each request whose head alone decides the answer (a GET or HEAD
# with no body) to the application's ``quick`` attribute, before any scope, task or
# ``send`` exists; the application answers at once with a whole response or declines
# (None), and the request then goes the ASGI way. cgihttpd's application answers so
# only what it served the ASGI way before and knows to be the same again
# (``app.App.quick``; docs/design.md "The quick path").


class QuickAsk(NamedTuple):
    """A request head as the server read it. ``request_line`` is the line as received
    (no CRLF); ``headers`` are (lower-case name, value) byte pairs in order; ``client``
    and ``server`` the connection's addresses; ``bytes_in`` the head's size;
    ``keepalive_count`` the requests served before it on the connection. (A tuple:
    made for every request that may be answered so, it costs a third of a frozen
    dataclass.)"""

    request_line: str
    method: str
    http_version: str
    raw_path: bytes
    query: bytes
    headers: list[tuple[bytes, bytes]]
    client: tuple[str, int] | None
    server: tuple[str, int] | None
    bytes_in: int
    keepalive_count: int


@dataclass(slots=True)
class QuickReply:
    """A whole response: the status, the header fields the application chose (the
    server adds Date, Server and the connection's framing fields) and the body (sent
    unless the method or status allows none). ``done`` is called once the response is
    written, with the bytes written in all and of the body, and whether the connection
    stays open for another request."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    done: Callable[[int, int, bool], None]


#: the application's quick handler: a reply, or None to have the request go the ASGI way
QuickHandler = Callable[[QuickAsk], "QuickReply | None"]
