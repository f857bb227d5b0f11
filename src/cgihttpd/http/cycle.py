"""One request and its response on a connection: the ASGI ``receive`` and ``send``
the application is given. Framing decisions come from ``framing.plan_response``; the
connection does the transport, timers and ordering, and a Cycle sees it only through
``ConnectionPort`` (``protocol.CgiHttpProtocol`` implements it).

Must not know about parsing, configuration files, the filesystem or the connection's
phases.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from typing import Any, BinaryIO, Protocol

from cgihttpd.asgi import RAW, ZERO_COPY, ASGIApp, Message
from cgihttpd.http.framing import (
    LAST_CHUNK,
    InvalidResponse,
    RequestFacts,
    ResponsePlan,
    chunk,
    plan_response,
)
from cgihttpd.http.sendfile import PeerGone
from cgihttpd.http.settings import KeepAlive, http_date

logger = logging.getLogger("cgihttpd.http")


class ClientDisconnected(OSError):
    """``send()`` was called after the client closed the connection."""


class ConnectionPort(Protocol):
    """What a Cycle may ask of its connection."""

    @property
    def server_header(self) -> bytes:
        """The Server header's value."""

    @property
    def write_paused(self) -> bool:
        """The transport's buffer is full: ``drain()`` before writing more."""

    @property
    def closing(self) -> bool:
        """No further request will be answered: the response must not keep alive."""

    def write(self, data: bytes) -> None:
        """Send ``data`` to the client (nothing once the transport is closing)."""

    async def drain(self) -> None:
        """Wait until the transport takes more data."""

    async def sendfile(self, file: BinaryIO, offset: int, count: int) -> int:
        """Send [offset, offset + count) of ``file`` after what was written, without
        copying it through Python; the bytes sent (fewer: the file shrank). Raises
        ``PeerGone`` when the client has gone."""

    def abort(self) -> None:
        """Drop the connection at once."""

    def want_body(self, cycle: Cycle) -> None:
        """The application waits for more of ``cycle``'s request body."""

    def resume_reading(self) -> None:
        """The application took the body read so far: read on if reading was paused."""

    def complete(self, cycle: Cycle) -> None:
        """``cycle``'s response is complete (``cycle.keep_alive``: may the connection
        stay open)."""

    def error_body(self, status: int) -> bytes:
        """The server's error page for ``status``."""


class Cycle:
    """One request and its response on a connection."""

    __slots__ = ("conn", "scope", "facts", "stats", "body", "more_body", "body_done",
                 "event", "disconnected", "expect_continue", "response_started",
                 "response_complete", "plan", "remaining", "keep_alive", "pending_head",
                 "raw", "app", "await_body", "body_wanted", "keep_alive_wait")

    def __init__(self, conn: ConnectionPort, scope: MutableMapping[str, Any],
                 facts: RequestFacts, stats: dict[str, Any], expect_continue: bool) -> None:
        self.conn = conn
        self.scope = scope
        self.facts = facts
        self.stats = stats
        self.body = bytearray()
        self.more_body = True
        #: the application has been given the last of the body
        self.body_done = False
        self.event = asyncio.Event()
        self.disconnected = False
        self.expect_continue = expect_continue
        self.response_started = False
        self.response_complete = False
        self.plan: ResponsePlan | None = None
        self.remaining: int | None = None
        #: the response head, held back to go out with the first body bytes (one write)
        self.pending_head = b""
        #: the client's wish, or False once something forces a close; the server's
        #: side (``facts.server_keep_alive``) is the plan's, from the serving vhost
        self.keep_alive = facts.client_keep_alive
        #: the response is the application's own bytes (``cgihttpd.raw``)
        self.raw = False
        #: the application that answers (None: the server's); the connection answers
        #: some requests itself
        self.app: ASGIApp | None = None
        #: the body is chunked: one the application never asks for is read to its end
        #: before the response starts (``_await_body``)
        self.await_body = False
        #: the application has called ``receive()``
        self.body_wanted = False
        #: the serving vhost's wait for the next request (None: the main server's)
        self.keep_alive_wait: float | None = None

    # --- the ASGI task ----------------------------------------------------------------

    async def run(self, app: ASGIApp) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                self.conn.abort()
                raise
            logger.error("Exception in ASGI application", exc_info=exc)
            if not self.response_started and not self.disconnected:
                await self._send_500()
            else:
                self.conn.abort()
        else:
            if not self.response_started and not self.disconnected:
                logger.error("ASGI application returned without starting a response")
                await self._send_500()
            elif not self.response_complete and not self.disconnected:
                # the application may have said why (``stats["cut_off"]``: cgihttpd's
                # app names the script and what it did); else say it plainly
                reason = self.stats.get("cut_off") or (
                    f"{self.scope.get('method', '')} {self.scope.get('path', '')}: the "
                    "application stopped before the end of its response, so the "
                    "response was cut off")
                logger.error(str(reason))
                self.conn.abort()

    async def _send_500(self) -> None:
        body = self.conn.error_body(500)
        try:
            await self.send({"type": "http.response.start", "status": 500, "headers": [
                (b"Content-Length", str(len(body)).encode()),
                (b"Content-Type", b"text/html; charset=iso-8859-1")]})
            await self.send({"type": "http.response.body", "body": body})
        except ClientDisconnected:
            pass

    # --- ASGI receive -----------------------------------------------------------------

    async def receive(self) -> Message:
        self.body_wanted = True
        if self.expect_continue and not self.response_started and not self.disconnected:
            # RFC 9110 section 10.1.1: answer 100 when the body is first wanted.
            self.expect_continue = False
            self.conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self.body_done:
            # ASGI: after the last body message, receive() waits for the disconnect
            # (the CGI handler relies on this to notice a client that has gone).
            while not (self.disconnected or self.response_complete):
                self.event.clear()
                await self.event.wait()
        elif not self.body and self.more_body and not self.disconnected:
            self.event.clear()
            self.conn.want_body(self)
            while not self.body and self.more_body and not self.disconnected \
                    and not self.response_complete:
                await self.event.wait()
                self.event.clear()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        message = {"type": "http.request", "body": bytes(self.body), "more_body": self.more_body}
        self.body.clear()
        self.body_done = not self.more_body
        self.conn.resume_reading()
        return message

    # --- ASGI send --------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        conn = self.conn
        if conn.write_paused and not self.disconnected:
            await conn.drain()
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        kind = message["type"]
        if kind == RAW or self.raw:
            self._send_raw(message)
            return
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected 'http.response.start', got {kind!r}")
            status = int(message["status"])
            if status < 200:
                raise RuntimeError("informational responses are written by the server")
            if self.await_body and not self.body_wanted and self.more_body:
                await self._await_body()
            facts = self.facts
            ext = self.scope.get("extensions", {}).get("cgihttpd", {})
            own = ext.get("keep_alive")
            if isinstance(own, KeepAlive):
                facts = for_vhost(facts, own, int(ext.get("keepalive_count", 0)))
                self.keep_alive_wait = own.wait
            if not self.keep_alive or conn.closing:
                facts = without_keep_alive(facts)
            try:
                plan = plan_response(facts, status, message.get("headers", ()),
                                     date=http_date(), server=conn.server_header,
                                     reason=message.get("reason"))
            except InvalidResponse as exc:
                raise RuntimeError(str(exc)) from None
            self.response_started = True
            self.expect_continue = False
            self.plan = plan
            self.keep_alive = plan.keep_alive
            self.remaining = plan.content_length
            self.stats["status"] = status
            # Hold the head back so that it leaves with the first body bytes in one
            # write - unless no body follows within this loop iteration (a script that
            # is still working): then it goes out alone, as Apache flushes headers when
            # the script's pipe has nothing more to read yet.
            self.pending_head = plan.head
            asyncio.get_running_loop().call_soon(self._flush_head)
            return
        if self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} after the response ended")
        if kind == ZERO_COPY:
            await self._send_file(message)
            return
        if kind != "http.response.body":
            raise RuntimeError(f"Expected 'http.response.body', got {kind!r}")
        current = self.plan
        assert current is not None
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if body and current.body_allowed:
            if self.remaining is not None:
                if len(body) > self.remaining:
                    # More than Content-Length promised: the rest would be read as the
                    # next response. Send what was promised and close.
                    logger.warning("response body longer than its Content-Length; truncated")
                    body = body[: self.remaining]
                    self.keep_alive = False
                self.remaining -= len(body)
            data = chunk(body) if current.chunked else body
            self.stats["body_bytes"] += len(body)
        else:
            data = b""
        if not more and current.body_allowed and current.chunked:
            data += LAST_CHUNK
        if self.pending_head:
            data = self.pending_head + data
            self.pending_head = b""
        if data:
            conn.write(data)
            self.stats["bytes_out"] += len(data)
        if not more:
            if self.remaining and current.body_allowed:
                logger.warning("response body shorter than its Content-Length")
                self.keep_alive = False
            self.response_complete = True
            self.event.set()
            conn.complete(self)


    async def _await_body(self) -> None:
        """Read a chunked body the application did not ask for to its end, dropping
        it, before answering: Apache's handlers discard the body first
        (``ap_discard_request_body``), so a malformed body is answered 400 rather
        than 200 followed by a 400. A body error or timeout answers for the request
        (the connection writes its page): then ``ClientDisconnected``."""
        while self.more_body and not self.disconnected:
            self.body.clear()
            self.event.clear()
            self.conn.want_body(self)
            await self.event.wait()
        self.body.clear()
        self.body_done = True
        if self.disconnected:
            raise ClientDisconnected("the request body failed")

    async def _send_file(self, message: Message) -> None:
        """``ZERO_COPY``: a piece of a file as body bytes, framed as ``send`` frames
        them, the bytes themselves by the connection's ``sendfile``."""
        current = self.plan
        assert current is not None
        more = bool(message.get("more_body", False))
        count = int(message["count"])
        if self.remaining is not None and count > self.remaining:
            logger.warning("response body longer than its Content-Length; truncated")
            count = self.remaining
            self.keep_alive = False
        if current.body_allowed and count > 0:
            head = self.pending_head + (b"%x\r\n" % count if current.chunked else b"")
            self.pending_head = b""
            if head:
                self.conn.write(head)
                self.stats["bytes_out"] += len(head)
            try:
                sent = await self.conn.sendfile(message["file"], int(message["offset"]),
                                                count)
            except PeerGone:
                self.conn.abort()
                raise ClientDisconnected("the client closed the connection") from None
            self.stats["body_bytes"] += sent
            self.stats["bytes_out"] += sent
            if self.remaining is not None:
                self.remaining -= sent
            if sent < count and current.chunked:
                # the chunk's size is promised: only closing can end it now
                self.conn.abort()
                raise ClientDisconnected("the file shrank while it was sent")
            if current.chunked:
                self.conn.write(b"\r\n")
                self.stats["bytes_out"] += 2
        await self.send({"type": "http.response.body", "body": b"", "more_body": more})

    def _send_raw(self, message: Message) -> None:
        """The ``cgihttpd.raw`` extension: bytes written as they are, for responses
        whose head the application wrote itself (mod_cgi's nph- scripts). Only as the
        whole response: after it, the connection closes, as mod_cgi sets
        AP_CONN_CLOSE for nph ("Dunno about the reusability of the connection")."""
        kind = message["type"]
        if kind != RAW:
            raise RuntimeError(f"Expected {RAW!r} after a raw response, got {kind!r}")
        if self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} after the response ended")
        if self.response_started and not self.raw:
            raise RuntimeError(f"{RAW!r} after 'http.response.start'")
        if not self.raw:
            self.raw = True
            self.response_started = True
            self.expect_continue = False
            self.keep_alive = False
            self.stats["status"] = int(message.get("status", 200))
        data = bytes(message.get("bytes", b""))
        if data:
            self.conn.write(data)
            self.stats["bytes_out"] += len(data)
        if not message.get("more", False):
            self.response_complete = True
            self.event.set()
            self.conn.complete(self)

    def _flush_head(self) -> None:
        if self.pending_head and not self.disconnected:
            self.conn.write(self.pending_head)
            self.stats["bytes_out"] += len(self.pending_head)
        self.pending_head = b""


def for_vhost(facts: RequestFacts, rules: KeepAlive, count: int) -> RequestFacts:
    """``facts`` with the server's side decided by the serving vhost's ``rules``, the
    connection having answered ``count`` requests before (ap_set_keepalive)."""
    left = None if rules.max_requests <= 0 else max(rules.max_requests - count, 0)
    on = rules.on and rules.timeout > 0 and (left is None or left > 0)
    return RequestFacts(facts.http_version, facts.method, facts.client_keep_alive,
                        facts.keep_alive_token, on, int(rules.timeout), left)


def without_keep_alive(facts: RequestFacts) -> RequestFacts:
    return RequestFacts(facts.http_version, facts.method, facts.client_keep_alive,
                        facts.keep_alive_token, False, facts.keep_alive_timeout,
                        facts.keep_alive_left)
