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
from typing import Any, Literal, TypedDict

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
