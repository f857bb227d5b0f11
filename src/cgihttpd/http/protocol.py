"""The HTTP/1.x connection: an ``asyncio.Protocol`` on httptools (llhttp) that uvicorn
runs for us (``uvicorn.Config(app, http=CgiHttpProtocol.configured(settings))``).

It owns what a server facing clients directly needs and uvicorn 0.54's own protocols
lack (docs/design-http.md): limits on the request head (``limits.HeadGuard``), a
deadline for reading the head and the keep-alive wait, HTTP/1.0 framing
(``framing.plan_response``), ``send()`` failing once the client has gone, and the
access-log facts in ``scope["extensions"]["cgihttpd"]``.

From uvicorn it uses only the interface every uvicorn HTTP protocol class has: the
constructor ``(config, server_state, app_state, _loop=None)``, ``config.loaded_app``,
``server_state.connections`` / ``.tasks`` / ``.total_requests`` and ``shutdown()``.

It must not know about configuration files, virtual hosts or the filesystem: what it
needs arrives as an ``HttpSettings`` value.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, ClassVar

import httptools

from cgihttpd.config.model import ServerConfig
from cgihttpd.http.errorpage import (
    NOTE_FIELD_SIZE,
    NOTE_FIELDS,
    error_page,
    server_software,
    signature,
)
from cgihttpd.http.framing import (
    LAST_CHUNK,
    InvalidResponse,
    RequestFacts,
    ResponsePlan,
    chunk,
    plan_response,
)
from cgihttpd.http.limits import HeadGuard, HeadLimits, ReadTimeout, Violation

Message = MutableMapping[str, Any]
ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]],
                    Callable[[Message], Awaitable[None]]], Awaitable[None]]

logger = logging.getLogger("cgihttpd.http")

#: Stop reading from a client when this much request body waits for the application
#: (uvicorn's flow_control.HIGH_WATER_LIMIT).
HIGH_WATER = 65536
#: how long to drain a client after an error answer (Apache's SECONDS_TO_LINGER)
LINGER_SECONDS = 2.0


class ClientDisconnected(OSError):
    """``send()`` was called after the client closed the connection."""


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
class HttpSettings:
    """Everything the protocol takes from the configuration."""

    limits: HeadLimits = field(default_factory=HeadLimits)
    header_timeout: ReadTimeout = field(default_factory=ReadTimeout)
    #: mod_reqtimeout body=20,MinRate=500: reading the request body
    body_timeout: ReadTimeout = field(default_factory=lambda: ReadTimeout(20.0, 20.0, 0))
    keep_alive: bool = True
    keep_alive_timeout: float = 5.0
    #: MaxKeepAliveRequests; 0 means unlimited
    max_keep_alive_requests: int = 100
    server_header: str = field(default_factory=server_software)
    server_signature: str = "off"
    server_name: str = "localhost"
    server_admin: str = ""
    on_protocol_error: Callable[[ProtocolErrorEvent], None] | None = None

    @classmethod
    def from_config(
        cls,
        config: ServerConfig,
        on_protocol_error: Callable[[ProtocolErrorEvent], None] | None = None,
    ) -> HttpSettings:
        main = config.main
        # RequestReadTimeout is not in the model yet: read it if H1 adds it.
        header_timeout = getattr(config, "header_timeout", None) or ReadTimeout()
        body_timeout = getattr(config, "body_timeout", None) or ReadTimeout(20.0, 20.0, 0)
        return cls(
            limits=HeadLimits(config.limits.request_line, config.limits.request_field_size,
                              config.limits.request_fields),
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            keep_alive=main.keepalive,
            keep_alive_timeout=main.keepalive_timeout,
            max_keep_alive_requests=main.max_keepalive_requests,
            server_header=server_software(config.server_tokens),
            server_signature=main.server_signature,
            server_name=main.server_name,
            server_admin=main.server_admin,
            on_protocol_error=on_protocol_error,
        )


_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """The current time as an HTTP date (RFC 9110 section 5.6.7), cached per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]


class Cycle:
    """One request and its response on a connection."""

    __slots__ = ("conn", "scope", "facts", "stats", "body", "more_body", "body_done",
                 "event", "disconnected", "expect_continue", "response_started",
                 "response_complete", "plan", "remaining", "keep_alive", "pending_head")

    def __init__(self, conn: CgiHttpProtocol, scope: MutableMapping[str, Any],
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
        self.keep_alive = facts.client_keep_alive and facts.server_keep_alive

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
                logger.error("ASGI application returned without completing its response")
                self.conn.abort()

    async def _send_500(self) -> None:
        s = self.conn.settings
        body = error_page(500, admin=s.server_admin, signature_html=self.conn.signature_html())
        try:
            await self.send({"type": "http.response.start", "status": 500, "headers": [
                (b"Content-Length", str(len(body)).encode()),
                (b"Content-Type", b"text/html; charset=iso-8859-1")]})
            await self.send({"type": "http.response.body", "body": body})
        except ClientDisconnected:
            pass

    # --- ASGI receive -----------------------------------------------------------------

    async def receive(self) -> Message:
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
            self.conn.resume_reading()
            self.conn.arm_body_deadline(self)
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
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected 'http.response.start', got {kind!r}")
            status = int(message["status"])
            if status < 200:
                raise RuntimeError("informational responses are written by the server")
            facts = self.facts
            if not self.keep_alive or conn.closing:
                facts = _without_keep_alive(facts)
            try:
                plan = plan_response(facts, status, message.get("headers", ()),
                                     date=http_date(),
                                     server=conn.settings.server_header.encode("latin-1"),
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
            conn.loop.call_soon(self._flush_head)
            return
        if self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} after the response ended")
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
            conn.response_complete(self)


    def _flush_head(self) -> None:
        if self.pending_head and not self.disconnected:
            self.conn.write(self.pending_head)
            self.stats["bytes_out"] += len(self.pending_head)
        self.pending_head = b""


def _without_keep_alive(facts: RequestFacts) -> RequestFacts:
    return RequestFacts(facts.http_version, facts.method, facts.client_keep_alive,
                        facts.keep_alive_token, False, facts.keep_alive_timeout,
                        facts.keep_alive_left)


class CgiHttpProtocol(asyncio.Protocol):
    """One client connection. Use ``CgiHttpProtocol.configured(settings)`` as uvicorn's
    ``http`` class."""

    settings: ClassVar[HttpSettings] = HttpSettings()

    @classmethod
    def configured(cls, settings: HttpSettings) -> type[CgiHttpProtocol]:
        return type("CgiHttpProtocol", (cls,), {"settings": settings})

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not config.loaded:
            config.load()
        self.app: ASGIApp = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.app_state = app_state
        self.root_path: str = getattr(config, "root_path", "") or ""
        self.parser = httptools.HttpRequestParser(self)
        try:
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        except AttributeError:  # pragma: no cover - httptools < 0.6.3
            pass
        s = self.settings
        self.guard = HeadGuard(s.limits)
        self.transport: asyncio.Transport | None = None
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.scheme = "http"
        self.closing = False
        self.lingering = False
        self.upgraded = False
        self.read_paused = False
        self.write_paused = False
        self.writable = asyncio.Event()
        self.writable.set()
        # the head being read
        self.in_head = True
        self.head_start = 0.0  # loop time the current head's deadline counts from
        self.head_wall_start = 0.0
        self.body_left: int | None = 0  # None: chunked, unknown length
        self.url = bytearray()
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        # requests
        self.requests_done = 0  # %k counts these
        self.cycle: Cycle | None = None  # the request being parsed (or the last one)
        self.running: Cycle | None = None  # the request whose response is being sent
        self.pipeline: deque[Cycle] = deque()
        self.pending_error: tuple[int, str | None, str] | None = None
        # one timer: its kind says what it guards
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = 0.0
        self.timer_kind = ""
        self.deadline = 0.0

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.server_state.connections.add(self)
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        self.server = (str(sock[0]), int(sock[1])) if isinstance(sock, tuple) else None
        self.scheme = "https" if transport.get_extra_info("sslcontext") else "http"
        self._start_head(first=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        self._stop_timer()
        self.closing = True
        for cycle in (self.cycle, self.running, *self.pipeline):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
                cycle.stats["aborted"] = True
            if cycle is not None:
                cycle.event.set()
        self.write_paused = False
        self.writable.set()

    def eof_received(self) -> bool | None:
        # The client closed its side. Like uvicorn, nginx and Go's net/http we take
        # that as the client having gone: the transport closes, a pending receive()
        # returns http.disconnect and the CGI handler can stop the script.
        return None

    def pause_writing(self) -> None:
        self.write_paused = True
        self.writable.clear()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.writable.set()

    async def drain(self) -> None:
        await self.writable.wait()

    def data_received(self, data: bytes) -> None:
        if self.upgraded or self.lingering:
            return
        if self.in_head and self.guard.total == 0:
            if self.timer_kind == "keepalive":
                # the next request on a kept-alive connection: its head deadline starts now
                self.head_start = self.loop.time()
                self.head_wall_start = time.time()
                self._arm("head", self.settings.header_timeout.deadline(self.head_start, 0))
        while data and not self.closing:
            if self.in_head:
                consumed, violation, _complete = self.guard.scan(data)
                if self.timer_kind == "head":
                    self.deadline = self.settings.header_timeout.deadline(
                        self.head_start, self.guard.total)
                if violation is not None:
                    self._refuse(violation)
                    return
                piece, data = data[:consumed], data[consumed:]
                if not self._feed(piece):
                    return
            elif self.body_left is None:
                piece, data = data, b""
                if not self._feed(piece):
                    return
            else:
                n = min(len(data), self.body_left)
                piece, data = data[:n], data[n:]
                self.body_left -= n
                if not self._feed(piece):
                    return

    def _feed(self, data: bytes) -> bool:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrades (WebSocket, h2c): answer this request as HTTP/1.1 (RFC 9110
            # section 7.8 lets a server ignore Upgrade), then close: llhttp stops parsing.
            self.upgraded = True
            return False
        except httptools.HttpParserError as exc:
            if self.closing:
                return False
            logger.info("malformed request from %s: %s", self.client, exc)
            self.protocol_error(400, None, self._request_line_so_far())
            return False
        return True

    # --- httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = bytearray()
        self.headers = []
        self.header_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))
        self.header_bytes += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        self.in_head = False
        self._cancel_timer()
        parser = self.parser
        method = parser.get_method().decode("ascii", "replace")
        version = parser.get_http_version()
        target = bytes(self.url)
        request_line = f"{method} {target.decode('latin-1')} HTTP/{version}"
        host_seen = False
        expect_continue = False
        keep_alive_token = False
        chunked = False
        length = 0
        for name, value in self.headers:
            if name == b"host":
                host_seen = True
            elif name == b"expect" and value.strip().lower() == b"100-continue":
                expect_continue = version == "1.1"
            elif name == b"connection":
                keep_alive_token = keep_alive_token or any(
                    t.strip().lower() == b"keep-alive" for t in value.split(b","))
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = 0
        self.body_left = None if chunked else length
        s = self.settings
        max_req = s.max_keep_alive_requests
        count = self.requests_done + len(self.pipeline) + (
            1 if self.running is not None and not self.running.response_complete else 0)
        left = None if max_req <= 0 else max(max_req - count, 0)
        facts = RequestFacts(
            http_version=version,
            method=method,
            client_keep_alive=bool(parser.should_keep_alive()),
            keep_alive_token=keep_alive_token,
            server_keep_alive=s.keep_alive and (left is None or left > 0) and not self.closing,
            keep_alive_timeout=int(s.keep_alive_timeout),
            keep_alive_left=left,
        )
        bytes_in = len(request_line) + 2 + self.header_bytes + 2
        stats: dict[str, Any] = {"bytes_out": 0, "body_bytes": 0, "bytes_in": bytes_in,
                                 "aborted": False, "status": 0}
        if target == b"*":
            raw_path, query = b"*", b""
        else:
            try:
                parsed = httptools.parse_url(target)
            except httptools.HttpParserInvalidURLError:
                self._refuse_after_head(400, request_line, bytes_in)
                return
            raw_path, query = parsed.path or b"/", parsed.query or b""
        path = raw_path.decode("latin-1")
        if "%" in path:
            path = urllib.parse.unquote(path)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "method": method,
            "scheme": self.scheme,
            "path": self.root_path + path,
            "raw_path": self.root_path.encode("latin-1") + raw_path,
            "query_string": query,
            "root_path": self.root_path,
            "headers": self.headers,
            "client": self.client,
            "server": self.server,
            "state": dict(self.app_state),
            "extensions": {"cgihttpd": {
                "request_line": request_line,
                "bytes_in": bytes_in,
                "keepalive_count": count,
                "stats": stats,
            }},
        }
        cycle = Cycle(self, scope, facts, stats, expect_continue)
        self.cycle = cycle
        if version == "1.1" and not host_seen:
            # RFC 9112 section 3.2 and Apache's core: a 1.1 request without Host is a 400.
            self._refuse_after_head(400, request_line, bytes_in)
            return
        if self.running is None or self.running.response_complete:
            self._start(cycle)
        else:
            # pipelined: answer in order; stop reading until the current one is done
            self.pipeline.append(cycle)
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle is None or cycle.response_complete or cycle.disconnected:
            return
        cycle.body += body
        cycle.stats["bytes_in"] += len(body)
        if self.timer_kind == "body":
            self._cancel_timer()
        if len(cycle.body) > HIGH_WATER:
            self.pause_reading()
        cycle.event.set()

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None:
            cycle.more_body = False
            cycle.event.set()
        if self.timer_kind == "body":
            self._cancel_timer()
        # the next bytes begin a new head (exactly so unless a chunked body ended inside
        # the data being fed: then the rest of that read goes unmeasured)
        self.in_head = True
        self.guard.start()

    # --- the request/response cycle ---------------------------------------------------

    def _start(self, cycle: Cycle) -> None:
        self.running = cycle
        task = self.loop.create_task(cycle.run(self.app))
        self.server_state.tasks.add(task)
        task.add_done_callback(self.server_state.tasks.discard)

    def response_complete(self, cycle: Cycle) -> None:
        self.server_state.total_requests += 1
        self.requests_done += 1
        if self.transport is None or self.transport.is_closing():
            return
        if not cycle.keep_alive or self.closing or self.upgraded:
            self.close()
            return
        if self.pipeline:
            nxt = self.pipeline.popleft()
            self._start(nxt)
            self.resume_reading()
            return
        if self.pending_error is not None:
            status, note, line = self.pending_error
            self.pending_error = None
            self.protocol_error(status, note, line)
            return
        self.resume_reading()
        if cycle.more_body:
            # The application did not read the whole body: read on and drop it, as
            # Apache's ap_discard_request_body does; the next head starts after it.
            self._arm("keepalive", self.loop.time() + self.settings.keep_alive_timeout)
        else:
            self._start_head(first=False)

    def _start_head(self, first: bool) -> None:
        if first:
            self.in_head = True
            self.guard.start()
            self.head_start = self.loop.time()
            self.head_wall_start = time.time()
            t = self.settings.header_timeout
            if t.initial > 0:
                self._arm("head", t.deadline(self.head_start, 0))
        elif self.guard.total > 0:
            # the next request began arriving while this response was sent
            self.head_start = self.loop.time()
            self.head_wall_start = time.time()
            self._arm("head", self.settings.header_timeout.deadline(self.head_start,
                                                                    self.guard.total))
        else:
            # KeepAliveTimeout: how long to wait for the next request (core docs)
            self._arm("keepalive", self.loop.time() + self.settings.keep_alive_timeout)

    def arm_body_deadline(self, cycle: Cycle) -> None:
        t = self.settings.body_timeout
        if t.initial > 0 and self.timer_kind == "" and cycle is self.cycle and not self.in_head:
            self._arm("body", self.loop.time() + t.initial)

    # --- timers -----------------------------------------------------------------------

    # One lazy timer per connection: re-arming for a later deadline only moves
    # ``deadline`` and the callback sleeps again when it fires early, so a kept-alive
    # connection does not create and cancel two timer handles per request.

    def _arm(self, kind: str, deadline: float) -> None:
        self.timer_kind = kind
        self.deadline = deadline
        if self.timer is None or self.timer_at > deadline:
            if self.timer is not None:
                self.timer.cancel()
            self.timer_at = deadline
            self.timer = self.loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        self.timer_kind = ""

    def _stop_timer(self) -> None:
        self.timer_kind = ""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _on_timer(self) -> None:
        self.timer = None
        if not self.timer_kind:
            return
        if self.loop.time() < self.deadline - 0.001:
            self.timer_at = self.deadline
            # the deadline moved later (mod_reqtimeout's MinRate): wait for it
            self.timer = self.loop.call_at(self.deadline, self._on_timer)
            return
        kind, self.timer_kind = self.timer_kind, ""
        if kind == "keepalive":
            self.close()
        elif kind == "head":
            if self.guard.request_line_done:
                # mod_reqtimeout: headers not read in time -> 408, then close
                self.protocol_error(408, None, self.guard.partial_request_line)
            else:
                # nothing, or no complete request line: close without a word; Apache
                # logs a first request that timed out as "-" 408.
                if self.requests_done == 0:
                    self._log_error_event(408, "-", self.guard.total, 0, 0)
                self.close()
        elif kind == "linger":
            self.close()
        elif kind == "body":
            cycle = self.cycle
            if cycle is None or cycle.response_complete or not cycle.more_body:
                return
            logger.info("timeout reading the request body from %s", self.client)
            if cycle.response_started:
                self.abort()
            else:
                self._body_timeout(cycle)

    # --- errors the protocol answers itself -------------------------------------------

    def _body_timeout(self, cycle: Cycle) -> None:
        """mod_reqtimeout's body stage ran out before the application answered: Apache
        answers 408 (mod_cgi: "Timeout during reading request entity data"). The
        application's request stays the one logged: its receive() returns
        http.disconnect, its send() raises ClientDisconnected, and its ``stats`` already
        hold the 408 and the bytes written."""
        s = self.settings
        body = error_page(408, admin=s.server_admin, signature_html=self.signature_html())
        plan = plan_response(_without_keep_alive(cycle.facts), 408, [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=iso-8859-1"),
        ], date=http_date(), server=s.server_header.encode("latin-1"))
        self.write(plan.head + body)
        cycle.stats.update(status=408, bytes_out=len(plan.head) + len(body),
                           body_bytes=len(body))
        cycle.response_started = cycle.response_complete = True
        cycle.disconnected = True
        cycle.event.set()
        self._linger_close()

    def _request_line_so_far(self) -> str:
        if self.guard.request_line_done or self.url:
            line = self.guard.partial_request_line
            return line if line else "-"
        return "-"

    def _refuse(self, violation: Violation) -> None:
        if violation == "request_line":
            self.protocol_error(414, None, self.guard.partial_request_line)
        elif violation == "field_size":
            self.protocol_error(400, NOTE_FIELD_SIZE, self.guard.partial_request_line)
        else:
            self.protocol_error(400, NOTE_FIELDS, self.guard.partial_request_line)

    def _refuse_after_head(self, status: int, request_line: str, bytes_in: int) -> None:
        self.guard.total = max(self.guard.total, bytes_in)
        self.protocol_error(status, None, request_line)

    def signature_html(self) -> str:
        s = self.settings
        port = self.server[1] if self.server else 0
        return signature(s.server_signature, s.server_header, s.server_name, port,
                         s.server_admin)

    def protocol_error(self, status: int, note: str | None, request_line: str) -> None:
        """Answer ``status`` with Apache's page and close (these statuses drop the
        connection: ap_status_drops_connection)."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.running is not None and not self.running.response_complete:
            # a response is still being sent: answer after it, in order
            self.pending_error = (status, note, request_line)
            self.pause_reading()
            return
        self._cancel_timer()
        self.closing = True
        s = self.settings
        body = error_page(status, note, admin=s.server_admin,
                          signature_html=self.signature_html())
        facts = RequestFacts("1.1", "GET", False, False, False)
        plan = plan_response(facts, status, [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=iso-8859-1"),
        ], date=http_date(), server=s.server_header.encode("latin-1"))
        data = plan.head + body
        self.transport.write(data)
        self._log_error_event(status, request_line or "-", self.guard.total, len(data),
                              len(body))
        self._linger_close()

    def _linger_close(self) -> None:
        """Close after an error answer without losing it: stop writing, read and drop
        what the client still sends for a while, then close (Apache's lingering close,
        server/connection.c): closing with unread input would reset the connection and
        the client could lose the answer."""
        self.closing = True
        self.lingering = True
        self._cancel_timer()
        transport = self.transport
        assert transport is not None
        try:
            if not transport.can_write_eof():
                raise NotImplementedError
            transport.write_eof()
        except (NotImplementedError, OSError, RuntimeError):
            self.close()
            return
        self.resume_reading()
        self._arm("linger", self.loop.time() + LINGER_SECONDS)

    def _log_error_event(self, status: int, request_line: str, bytes_in: int,
                         bytes_out: int, body_bytes: int) -> None:
        callback = self.settings.on_protocol_error
        if callback is None:
            return
        method = request_line.split(" ", 1)[0] if request_line != "-" else "-"
        event = ProtocolErrorEvent(
            client=self.client, server=self.server, request_line=request_line,
            method=method, status=status, start_time=self.head_wall_start or time.time(),
            bytes_in=bytes_in, bytes_out=bytes_out, body_bytes=body_bytes,
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.headers)
            if not self.in_head else (),
            keepalive_count=self.requests_done,
        )
        try:
            callback(event)
        except Exception:  # the log must never take the connection down
            logger.exception("on_protocol_error callback failed")

    # --- transport helpers ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def pause_reading(self) -> None:
        if not self.read_paused and self.transport is not None:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and self.transport is not None and not self.pending_error:
            self.read_paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        self.closing = True
        self._cancel_timer()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        self.closing = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()

    # --- uvicorn's server interface ---------------------------------------------------

    def shutdown(self) -> None:
        """Graceful shutdown: close now if idle, else after the current response."""
        running = self.running
        if running is None or running.response_complete:
            self.close()
        else:
            self.closing = True
            running.keep_alive = False
