"""The HTTP/1.x connection: an ``asyncio.Protocol`` on httptools (llhttp) that uvicorn
runs for us (``uvicorn.Config(app, http=CgiHttpProtocol.configured(settings))``).

It owns what a server facing clients directly needs and uvicorn 0.54's own protocols
lack (docs/design.md §3): limits on the request head (``limits.HeadGuard``), a
deadline for reading the head and the keep-alive wait, HTTP/1.0 framing
(``framing.plan_response``), ``send()`` failing once the client has gone, and the
access-log facts in ``scope["extensions"]["cgihttpd"]``. A connection's life is a table
of transitions between phases (``Phase``, ``Event``, ``TRANSITIONS``), after h11's
``_state.py``; a request (``cycle.Cycle``) sees its connection only through the
``ConnectionPort`` this class implements.

From uvicorn it uses only the interface every uvicorn HTTP protocol class has: the
constructor ``(config, server_state, app_state, _loop=None)``, ``config.loaded_app``,
``server_state.connections`` / ``.tasks`` / ``.total_requests`` and ``shutdown()``.

It must not know about configuration files, virtual hosts or the filesystem: what it
needs arrives as an ``HttpSettings`` value.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
import urllib.parse
from collections import deque
from typing import Any, BinaryIO, ClassVar

import httptools

from cgihttpd.asgi import ASGIApp
from cgihttpd.banner import signature
from cgihttpd.http.cycle import ClientDisconnected, Cycle, without_keep_alive
from cgihttpd.http.errorpage import NOTE_FIELD_SIZE, NOTE_FIELDS, error_page
from cgihttpd.http.framing import RequestFacts, plan_response
from cgihttpd.http.limits import HeadGuard, Violation
from cgihttpd.http.sendfile import PeerGone, send_file
from cgihttpd.http.settings import HttpSettings, ProtocolErrorEvent, http_date

__all__ = ["CgiHttpProtocol", "ClientDisconnected", "HttpSettings", "ProtocolErrorEvent"]

logger = logging.getLogger("cgihttpd.http")

#: Stop reading from a client when this much request body waits for the application
#: (uvicorn's flow_control.HIGH_WATER_LIMIT).
HIGH_WATER = 65536
#: how long to drain a client after an error answer (Apache's SECONDS_TO_LINGER)
LINGER_SECONDS = 2.0


#: the methods llhttp parses (llhttp's HTTP_METHOD_MAP for requests)
LLHTTP_METHODS = frozenset(m.encode() for m in (
    "DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND "
    "PROPPATCH SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE "
    "M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE "
    "PRI QUERY").split())
#: RFC 9110 section 5.6.2: token = 1*tchar
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: how often deadlines are checked: timeouts fire up to this much late
DEADLINE_TICK = 0.25


class Phase(enum.Enum):
    """Where a connection is: what its next input bytes are, or that it reads no more.

    Whether a response is being sent is not a phase: a connection reads the rest of a
    body or the next (pipelined) request while a response goes out. That is a fact,
    ``CgiHttpProtocol.running``; see its docstring for the others.
    """

    # Members are singletons: hash them by identity (C) rather than by name (Python),
    # as every transition hashes two of them.
    __hash__ = object.__hash__

    #: reading a request head; the first request's wait counts here (Apache's
    #: mod_reqtimeout times it from the accept)
    READING_HEAD = enum.auto()
    #: the head is parsed: reading its body, if any
    READING_BODY = enum.auto()
    #: the last request was read whole and no byte of the next has come (a response may
    #: still be going out)
    IDLE = enum.auto()
    #: the response is complete but its request body is not: read on and drop it, as
    #: Apache's ap_discard_request_body does
    DISCARDING_BODY = enum.auto()
    #: llhttp stopped at an Upgrade: input is dropped, the connection closes after the
    #: response
    UPGRADED = enum.auto()
    #: the server shuts down: input is dropped, the connection closes after the response
    CLOSING = enum.auto()
    #: an error answer is out: input is read and dropped for LINGER_SECONDS, then close
    LINGERING = enum.auto()
    #: the transport is closed or lost
    CLOSED = enum.auto()


class Event(enum.Enum):
    """What moves a connection from one phase to the next (``TRANSITIONS``)."""

    __hash__ = object.__hash__  # as Phase's

    #: the first bytes of the next request head arrived
    HEAD_BEGUN = enum.auto()
    #: llhttp parsed a request head (on_headers_complete)
    HEAD_PARSED = enum.auto()
    #: llhttp reached the end of a request (on_message_complete)
    MESSAGE_PARSED = enum.auto()
    #: the response is complete and the connection stays open, but the application did
    #: not read the whole request body
    BODY_UNREAD = enum.auto()
    #: llhttp stopped at an Upgrade (it skips the request's body, so after MESSAGE_PARSED)
    UPGRADE = enum.auto()
    #: graceful shutdown while a response is being sent
    SHUTDOWN = enum.auto()
    #: the connection answered an error itself (protocol_error, the body timeout)
    ERROR_ANSWERED = enum.auto()
    #: close(), abort() or connection_lost()
    CLOSE = enum.auto()


class Timer(enum.Enum):
    """What a connection's one deadline guards."""

    #: RequestReadTimeout header=: reading a request head
    HEAD_TIMEOUT = enum.auto()
    #: RequestReadTimeout body=: the application waits for request body bytes
    BODY_TIMEOUT = enum.auto()
    #: KeepAliveTimeout: waiting for the next request
    KEEPALIVE_TIMEOUT = enum.auto()
    #: LINGER_SECONDS of reading and dropping input after an error answer
    LINGER_TIMEOUT = enum.auto()


# The members under module names, as h11 names its states: the connection reads them
# several times per request, and on CPython 3.10 and 3.11 an attribute of an Enum
# class is found through EnumType.__getattr__ (some 60 ns a lookup; 3.12 dropped it).
READING_HEAD, READING_BODY, IDLE, DISCARDING_BODY = (
    Phase.READING_HEAD, Phase.READING_BODY, Phase.IDLE, Phase.DISCARDING_BODY)
UPGRADED, CLOSING, LINGERING, CLOSED = (
    Phase.UPGRADED, Phase.CLOSING, Phase.LINGERING, Phase.CLOSED)
HEAD_BEGUN, HEAD_PARSED, MESSAGE_PARSED, BODY_UNREAD = (
    Event.HEAD_BEGUN, Event.HEAD_PARSED, Event.MESSAGE_PARSED, Event.BODY_UNREAD)
UPGRADE, SHUTDOWN, ERROR_ANSWERED, CLOSE = (
    Event.UPGRADE, Event.SHUTDOWN, Event.ERROR_ANSWERED, Event.CLOSE)
HEAD_TIMEOUT, BODY_TIMEOUT, KEEPALIVE_TIMEOUT, LINGER_TIMEOUT = (
    Timer.HEAD_TIMEOUT, Timer.BODY_TIMEOUT, Timer.KEEPALIVE_TIMEOUT, Timer.LINGER_TIMEOUT)

#: the phases in which input is parsed
READING = (READING_HEAD, READING_BODY, IDLE, DISCARDING_BODY)
#: the phases in which no further request will be answered (``CgiHttpProtocol.closing``)
_CLOSING_PHASES = frozenset({CLOSING, LINGERING, CLOSED})

#: Every allowed transition: (phase, event) -> next phase. An event absent here for a
#: phase is a bug in this module and raises ``PhaseError`` (as h11's _state.py tables).
TRANSITIONS: dict[tuple[Phase, Event], Phase] = {
    # request after request on a kept-alive connection
    (IDLE, HEAD_BEGUN): READING_HEAD,
    (READING_HEAD, HEAD_PARSED): READING_BODY,
    (READING_BODY, MESSAGE_PARSED): IDLE,
    (READING_BODY, BODY_UNREAD): DISCARDING_BODY,
    (DISCARDING_BODY, MESSAGE_PARSED): IDLE,
    # a chunked body's read is fed to llhttp whole, so a head that follows the body in
    # the same read is parsed without HeadGuard having seen it begin
    (IDLE, HEAD_PARSED): READING_BODY,
    (IDLE, UPGRADE): UPGRADED,
    # llhttp goes on parsing the read in which the connection answered an error (a
    # request refused after its head): what it finds is dropped
    **{(phase, event): phase
       for phase in (LINGERING, CLOSED)
       for event in (HEAD_PARSED, MESSAGE_PARSED, UPGRADE)},
    # the end of the connection
    **{(phase, SHUTDOWN): CLOSING for phase in (*READING, UPGRADED, CLOSING)},
    (LINGERING, SHUTDOWN): LINGERING,
    (CLOSED, SHUTDOWN): CLOSED,
    # the body timeout may fire after SHUTDOWN or UPGRADE: nothing more is read then
    **{(phase, ERROR_ANSWERED): LINGERING for phase in (*READING, UPGRADED, CLOSING)},
    **{(phase, CLOSE): CLOSED for phase in Phase},
}
#: TRANSITIONS by phase, then event: two lookups that allocate no key tuple
_NEXT: dict[Phase, dict[Event, Phase]] = {
    phase: {event: nxt for (p, event), nxt in TRANSITIONS.items() if p is phase}
    for phase in Phase}


class PhaseError(RuntimeError):
    """An event that the connection's phase does not allow: a bug in this module."""

    def __init__(self, phase: Phase, event: Event) -> None:
        super().__init__(f"{event.name} is impossible in {phase.name}")
        self.phase = phase
        self.event = event


class Deadlines:
    """The connections of one server whose deadlines a periodic sweep checks."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: set[CgiHttpProtocol] = set()
        self.handle: asyncio.TimerHandle | None = None

    @classmethod
    def for_server(cls, server_state: Any, loop: asyncio.AbstractEventLoop) -> Deadlines:
        found = getattr(server_state, "cgihttpd_deadlines", None)
        if not isinstance(found, Deadlines) or found.loop is not loop:
            found = cls(loop)
            server_state.cgihttpd_deadlines = found
        return found

    def add(self, conn: CgiHttpProtocol) -> None:
        self.connections.add(conn)
        if self.handle is None:
            self.handle = self.loop.call_later(DEADLINE_TICK, self.sweep)

    def discard(self, conn: CgiHttpProtocol) -> None:
        self.connections.discard(conn)

    def sweep(self) -> None:
        self.handle = None
        now = self.loop.time()
        due = [c for c in self.connections if c.timer is not None and c.deadline <= now]
        for conn in due:
            conn.on_deadline()
        if self.connections:
            self.handle = self.loop.call_later(DEADLINE_TICK, self.sweep)


class CgiHttpProtocol(asyncio.Protocol):
    """One client connection. Use ``CgiHttpProtocol.configured(settings)`` as uvicorn's
    ``http`` class.

    Its state is one phase (``phase``, a ``Phase``), changed only by ``_advance`` through
    ``TRANSITIONS``, and facts that do not order the connection's life:

    - ``running`` (the request whose response is being sent), ``pipeline`` (requests
      parsed behind it), ``pending_error`` (an error answer waiting for ``running``),
      ``cycle`` (the request parsed last) and ``requests_done``;
    - ``read_paused`` / ``write_paused``: flow control, in either direction;
    - ``timer`` / ``deadline``: the one deadline (``Timer``). A phase arms it, and it
      may outlive that phase: KEEPALIVE_TIMEOUT runs on from DISCARDING_BODY into IDLE,
      BODY_TIMEOUT into CLOSING or UPGRADED (where it ends the application's wait for a
      body that will not be read);
    - whether a request's connection may be kept alive belongs to its ``Cycle``.
    """

    settings: ClassVar[HttpSettings] = HttpSettings()
    #: ``settings.server_header`` encoded once, for every response head
    server_header: ClassVar[bytes] = settings.server_header.encode("latin-1")

    @classmethod
    def configured(cls, settings: HttpSettings) -> type[CgiHttpProtocol]:
        return type("CgiHttpProtocol", (cls,), {
            "settings": settings,
            "server_header": settings.server_header.encode("latin-1"),
        })

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not config.loaded:
            config.load()
        self.app: ASGIApp = config.loaded_app
        self.loop = _loop or asyncio.get_running_loop()
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
        self.phase: Phase = READING_HEAD
        self.real_method: str | None = None
        self.read_paused = False
        self.write_paused = False
        self.writable = asyncio.Event()
        self.writable.set()
        # the head being read
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
        # the connection's one deadline and what it guards (None: no deadline)
        self.timer: Timer | None = None
        self.deadlines = Deadlines.for_server(server_state, self.loop)
        self.deadline = 0.0
        #: a graceful reload retired this connection: no keep-alive after its request
        self.retiring = False
        #: done when the connection is lost while a file is being sent (``sendfile``)
        self.lost: asyncio.Future[None] | None = None

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.server_state.connections.add(self)
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.client = (unmapped(str(peer[0])), int(peer[1])) if isinstance(peer, tuple) else None
        self.server = (unmapped(str(sock[0])), int(sock[1])) if isinstance(sock, tuple) else None
        self.scheme = "https" if transport.get_extra_info("sslcontext") else "http"
        self.deadlines.add(self)
        self._start_head(first=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        self._stop_timer()
        self._advance(CLOSE)
        for cycle in (self.cycle, self.running, *self.pipeline):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
                cycle.stats["aborted"] = True
            if cycle is not None:
                cycle.event.set()
        self.write_paused = False
        self.writable.set()
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)

    def eof_received(self) -> bool | None:
        # The client closed its side. Like uvicorn, nginx and Go's net/http we take
        # that as the client having gone: the transport closes, a pending receive()
        # returns http.disconnect and the CGI handler can stop the script.
        if self.phase is READING_HEAD and self.guard.request_line_done:
            # a head cut short after its request line: Apache answers and logs 400
            # (checked on 2.4.71; nothing for an empty connection or a partial line)
            self.protocol_error(400, None, self.guard.partial_request_line)
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
        while data:
            phase = self.phase
            if phase is IDLE or phase is READING_HEAD:
                if phase is IDLE:
                    self._begin_head()
                fresh = self.guard.total == 0
                consumed, violation, _complete = self.guard.scan(data)
                if self.timer is HEAD_TIMEOUT:
                    self.deadline = self.settings.header_timeout.deadline(
                        self.head_start, self.guard.total)
                if violation is not None:
                    self._refuse(violation)
                    return
                piece, data = data[:consumed], data[consumed:]
                if fresh:
                    piece = self._stand_in_method(piece)
                if not self._feed(piece):
                    return
            elif phase is READING_BODY or phase is DISCARDING_BODY:
                if self.body_left is None:
                    piece, data = data, b""
                else:
                    n = min(len(data), self.body_left)
                    piece, data = data[:n], data[n:]
                    self.body_left -= n
                if not self._feed(piece):
                    return
            else:
                return  # upgraded, closing, lingering or closed: input is dropped

    def _begin_head(self) -> None:
        self._advance(HEAD_BEGUN)
        if self.timer is KEEPALIVE_TIMEOUT:
            # the next request on a kept-alive connection: its head deadline starts now
            self.head_start = self.loop.time()
            self.head_wall_start = time.time()
            self._arm(HEAD_TIMEOUT, self.settings.header_timeout.deadline(self.head_start, 0))

    def _stand_in_method(self, piece: bytes) -> bytes:
        """llhttp knows a fixed list of methods and rejects any other with a parse
        error, where Apache reads the request and answers 501 (or runs a CGI script,
        which may accept any method). A well-formed unknown method is therefore fed to
        llhttp as GET - request framing does not depend on the method - and the real
        one is put back into the scope."""
        self.real_method = None
        start = len(piece) - len(piece.lstrip(b"\r\n"))
        space = piece.find(b" ", start)
        if space <= start:
            return piece
        method = piece[start:space]
        if method in LLHTTP_METHODS or not _TOKEN.fullmatch(method):
            return piece
        self.real_method = method.decode("ascii")
        return piece[:start] + b"GET" + piece[space:]

    def _feed(self, data: bytes) -> bool:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrades (WebSocket, h2c): answer this request as HTTP/1.1 (RFC 9110
            # section 7.8 lets a server ignore Upgrade), then close: llhttp stops parsing.
            self._advance(UPGRADE)
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
        if self._advance(HEAD_PARSED) is not READING_BODY:
            return  # parsed after an error answer in the same read: dropped
        self._cancel_timer()
        parser = self.parser
        method = self.real_method or parser.get_method().decode("ascii", "replace")
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
            server_keep_alive=s.keep_alive and not self.retiring and (left is None or left > 0),
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
                "raw_output": True,  # Cycle takes cgihttpd.raw messages
                # Cycle takes http.response.zerocopysend (not over TLS: the bytes
                # must be encrypted in user space)
                "zero_copy": self.scheme == "http",
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
        if self.timer is BODY_TIMEOUT:
            self._cancel_timer()
        if len(cycle.body) > HIGH_WATER:
            self.pause_reading()
        cycle.event.set()

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None:
            cycle.more_body = False
            cycle.event.set()
        if self.timer is BODY_TIMEOUT:
            self._cancel_timer()
        # the next bytes begin a new head (exactly so unless a chunked body ended inside
        # the data being fed: then the rest of that read goes unmeasured)
        self._advance(MESSAGE_PARSED)
        self.guard.start()

    # --- the request/response cycle ---------------------------------------------------

    def _start(self, cycle: Cycle) -> None:
        self.running = cycle
        task = self.loop.create_task(cycle.run(self.app))
        self.server_state.tasks.add(task)
        task.add_done_callback(self.server_state.tasks.discard)

    def complete(self, cycle: Cycle) -> None:
        """``cycle``'s response is complete: start the next request, or the wait for
        it, or close."""
        self.server_state.total_requests += 1
        self.requests_done += 1
        if self.transport is None or self.transport.is_closing():
            return
        if not cycle.keep_alive or self.phase not in READING:
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
            self._advance(BODY_UNREAD)
            self._arm(KEEPALIVE_TIMEOUT, self.loop.time() + self.settings.keep_alive_timeout)
        else:
            self._start_head(first=False)

    def _start_head(self, first: bool) -> None:
        if first:
            self.guard.start()
            self.head_start = self.loop.time()
            self.head_wall_start = time.time()
            t = self.settings.header_timeout
            if t.initial > 0:
                self._arm(HEAD_TIMEOUT, t.deadline(self.head_start, 0))
        elif self.phase is READING_HEAD:
            # the next request began arriving while this response was sent
            self.head_start = self.loop.time()
            self.head_wall_start = time.time()
            self._arm(HEAD_TIMEOUT, self.settings.header_timeout.deadline(self.head_start,
                                                                        self.guard.total))
        else:
            # KeepAliveTimeout: how long to wait for the next request (core docs)
            self._arm(KEEPALIVE_TIMEOUT, self.loop.time() + self.settings.keep_alive_timeout)

    def want_body(self, cycle: Cycle) -> None:
        """The application waits for more of ``cycle``'s body: read on, and start the
        body deadline (RequestReadTimeout body=) unless a deadline runs."""
        self.resume_reading()
        t = self.settings.body_timeout
        # the parser is in this body (whatever the phase: SHUTDOWN or UPGRADE may have
        # come since, and the deadline is then what ends the application's wait)
        if t.initial > 0 and self.timer is None and cycle is self.cycle and cycle.more_body:
            self._arm(BODY_TIMEOUT, self.loop.time() + t.initial)

    # --- the phase --------------------------------------------------------------------

    def _advance(self, event: Event) -> Phase:
        """Apply ``event`` to the phase through ``TRANSITIONS`` and return the new phase;
        ``PhaseError`` (the phase unchanged) if the table has no such transition."""
        try:
            phase = self.phase = _NEXT[self.phase][event]
        except KeyError:
            raise PhaseError(self.phase, event) from None
        return phase

    @property
    def closing(self) -> bool:
        """No further request will be answered on this connection."""
        return self.phase in _CLOSING_PHASES

    # --- timers -----------------------------------------------------------------------

    # A connection's deadline is a value (``timer``, ``deadline``) that one
    # ``Deadlines`` sweep per server checks every DEADLINE_TICK seconds: no timer handle
    # is created or cancelled per connection or per request.

    def _arm(self, kind: Timer, deadline: float) -> None:
        self.timer = kind
        self.deadline = deadline

    def _cancel_timer(self) -> None:
        self.timer = None

    def _stop_timer(self) -> None:
        self.timer = None
        self.deadlines.discard(self)

    def on_deadline(self) -> None:
        """Called by the sweep once ``deadline`` has passed."""
        kind, self.timer = self.timer, None
        if kind is KEEPALIVE_TIMEOUT:
            self.close()
        elif kind is HEAD_TIMEOUT:
            if self.guard.request_line_done:
                # mod_reqtimeout: headers not read in time -> 408, then close
                self.protocol_error(408, None, self.guard.partial_request_line)
            else:
                # nothing, or no complete request line: close without a word; Apache
                # logs a first request that timed out as "-" 408.
                if self.requests_done == 0:
                    self._log_error_event(408, "-", self.guard.total, 0, 0)
                self.close()
        elif kind is LINGER_TIMEOUT:
            self.close()
        elif kind is BODY_TIMEOUT:
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
        body = self.error_body(408)
        plan = plan_response(without_keep_alive(cycle.facts), 408, [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=iso-8859-1"),
        ], date=http_date(), server=self.server_header)
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
                         s.server_admin, prefix="<hr>\n")

    def error_body(self, status: int, note: str | None = None) -> bytes:
        """Apache's error page for ``status``, with this server's signature."""
        return error_page(status, note, admin=self.settings.server_admin,
                          signature_html=self.signature_html())

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
        body = self.error_body(status, note)
        facts = RequestFacts("1.1", "GET", False, False, False)
        plan = plan_response(facts, status, [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=iso-8859-1"),
        ], date=http_date(), server=self.server_header)
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
        self._advance(ERROR_ANSWERED)
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
        self._arm(LINGER_TIMEOUT, self.loop.time() + LINGER_SECONDS)

    def _log_error_event(self, status: int, request_line: str, bytes_in: int,
                         bytes_out: int, body_bytes: int) -> None:
        callback = self.settings.on_protocol_error
        if callback is None:
            return
        method = request_line.split(" ", 1)[0] if request_line != "-" else "-"
        # the headers are those of the request whose body is being read, if any
        phase = self.phase
        in_body = phase is READING_BODY or phase is DISCARDING_BODY
        event = ProtocolErrorEvent(
            client=self.client, server=self.server, request_line=request_line,
            method=method, status=status, start_time=self.head_wall_start or time.time(),
            bytes_in=bytes_in, bytes_out=bytes_out, body_bytes=body_bytes,
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.headers)
            if in_body else (),
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

    async def sendfile(self, file: BinaryIO, offset: int, count: int) -> int:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise PeerGone("the connection is closed")
        lost = self.lost = self.loop.create_future()
        try:
            return await send_file(self.loop, transport, file, offset, count, lost)
        finally:
            self.lost = None

    def pause_reading(self) -> None:
        if not self.read_paused and self.transport is not None:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and self.transport is not None and not self.pending_error:
            self.read_paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        self._advance(CLOSE)
        self._cancel_timer()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        self._advance(CLOSE)
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
            self._advance(SHUTDOWN)
            running.keep_alive = False


    def retire(self) -> None:
        """A graceful reload (docs/design.md §9): a connection waiting for its next
        request closes now, as Apache's graceful restart closes idle keep-alive
        connections; one that is reading, running or answering a request finishes it
        (with ``Connection: close``) and then closes. A connection that has not yet
        been answered is not idle: its first request may be on its way."""
        self.retiring = True
        last = self.pipeline[-1] if self.pipeline else self.running
        if last is not None and not last.response_complete:
            last.keep_alive = False
        elif self.requests_done and self.phase in (IDLE, DISCARDING_BODY):
            self.close()


def unmapped(address: str) -> str:
    """An IPv4 client of a dual-stack socket arrives as "::ffff:a.b.c.d"; Apache (APR)
    reports it as "a.b.c.d" in REMOTE_ADDR, the log and <VirtualHost a.b.c.d> matching."""
    if address.startswith("::ffff:") and "." in address:
        return address[7:]
    return address
