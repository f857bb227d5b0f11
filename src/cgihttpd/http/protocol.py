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
import contextlib
import enum
import logging
import math
import re
import ssl
import time
import urllib.parse
from collections import deque
from typing import Any, BinaryIO, ClassVar

import httptools

from cgihttpd.asgi import ASGIApp, QuickAsk, QuickHandler, QuickReply
from cgihttpd.banner import signature
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.http.chunksize import ChunkSizes
from cgihttpd.http.cycle import ClientDisconnected, Cycle, without_keep_alive
from cgihttpd.http.errorpage import NOTE_FIELD_SIZE, NOTE_FIELDS, NOTE_PLAIN_ON_TLS, error_page
from cgihttpd.http.framing import RequestFacts, plan_response
from cgihttpd.http.limits import HeadGuard, Violation
from cgihttpd.http.proxyproto import ProxyHeaderError, read_proxy_header
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

#: RFC 3986 section 3: an absolute-form target's scheme and authority
_ABSOLUTE = re.compile(rb"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)")
#: a request line ``_vet_request_line`` passes as it is
_PLAIN_LINE = re.compile(rb"(?:GET|HEAD|POST|PUT|DELETE|OPTIONS) /[^ \r\n]* HTTP/1\.[01]\r\n")
#: HTTP/1.x with a minor version above 1: answered as 1.1 (RFC 9110 section 2.5)
_HIGHER_MINOR = re.compile(rb"HTTP/1\.[2-9]")
#: userinfo's password in an absolute-form target, masked in the log as Apache does
_PASSWORD = re.compile(rb"(://[^/?#:@]*:)[^/?#@]*@")


def _masked(line: bytes) -> bytes:
    return _PASSWORD.sub(rb"\1XXXXXXXX@", line, count=1)


#: how often deadlines are checked: timeouts fire up to this much late
DEADLINE_TICK = 0.25


def tls_facts(sslobj: Any) -> dict[str, Any] | None:
    """What a request on a TLS connection tells its scripts (mod_ssl's SSL_* variables):
    the version, the cipher and its bits, and the server name the client sent (left on
    the ``SSLObject`` by ``cgihttpd.tls``); None for a plain connection."""
    if sslobj is None:
        return None
    cipher = sslobj.cipher() or ("", "", 0)
    session = sslobj.session
    return {"protocol": sslobj.version() or "", "cipher": cipher[0], "bits": cipher[2],
            "sni": getattr(sslobj, "cgihttpd_sni", None),
            "resumed": bool(sslobj.session_reused),
            "session_id": session.id.hex() if session is not None else "",
            # "OpenSSL 3.0.19 27 Jan 2026" -> "OpenSSL/3.0.19", as mod_ssl names it
            "library": "/".join(ssl.OPENSSL_VERSION.split()[:2])}


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
    #: no further request will be read (the server shuts down, or the request was
    #: HTTP/0.9): input is dropped, the connection closes after the response
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
    #: the request just parsed is the connection's last: an HTTP/0.9 request, which has
    #: no headers and no way to keep the connection (Apache reads nothing after it)
    LAST_REQUEST = enum.auto()
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
LAST_REQUEST = Event.LAST_REQUEST
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
    # an HTTP/0.9 request was parsed whole (or refused: then already LINGERING)
    (IDLE, LAST_REQUEST): CLOSING,
    (LINGERING, LAST_REQUEST): LINGERING,
    (CLOSED, LAST_REQUEST): CLOSED,
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
        due = [c for c in self.connections
               if c.timer is not None and c.deadline <= now or c.write_deadline <= now]
        for conn in due:
            if conn.write_deadline <= now:
                conn.on_write_deadline()
            else:
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
        #: the application's quick handler (``asgi.QuickHandler``), if it has one
        self.quick: QuickHandler | None = getattr(self.app, "quick", None)
        #: handed over by another process of the server (never handed on again)
        self.adopted = False
        #: the quick reply to the request being parsed, written once it is read whole
        self.quick_reply: tuple[QuickReply, RequestFacts] | None = None
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
        #: the chunk sizes of the body being read, when chunked
        self.chunk_sizes: ChunkSizes | None = None
        self.url = bytearray()
        #: the request line while it arrives (``_vet_request_line``)
        self.line_buf = bytearray()
        #: llhttp has begun a head that the request-line check did not see: the rest
        #: of a read that ended a chunked body (see data_received)
        self.head_in_parser = False
        #: the request line was HTTP/0.9: answered with the body alone, then close
        self.http09 = False
        #: "1.2" for "HTTP/1.2" (answered as 1.1, logged as sent)
        self.version_text: str | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        # the body being read: when its deadline counts from (None: not yet asked
        # for), its bytes so far, and since when reading waits for the application
        self.body_start: float | None = None
        self.body_received = 0
        self.body_paused_at: float | None = None
        self.body_rule: ReadTimeout = self.settings.body_timeout
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
        #: when a stalled write gives up (Timeout; inf while the client reads)
        self.write_deadline = math.inf
        #: RemoteIPProxyProtocol: the PROXY header's bytes so far (None: none expected,
        #: or read) and the client it named
        self.proxy_buffer: bytearray | None = None
        self.proxy_client: str | None = None
        #: plain HTTP came to a TLS address (``listener``): every request gets mod_ssl's
        #: 400 "You're speaking plain HTTP to an SSL-enabled server port"
        self.plain_on_tls = False
        #: the TLS connection's facts for the scope (``tls_facts``); None: plain
        self.tls: dict[str, Any] | None = None
        #: done when the connection is lost while a file is being sent (``sendfile``)
        self.lost: asyncio.Future[None] | None = None

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        hand_off = getattr(self.server_state, "cgihttpd_hand_off", None)
        if hand_off is not None and not self.adopted and self.settings.proxy_protocol is None:
            # another process of the server may serve it (``cgihttpd.handoff``): its
            # descriptor goes there before a byte is read, ours is closed
            sock = transport.get_extra_info("socket")
            if (sock is not None and transport.get_extra_info("ssl_object") is None
                    and hand_off(sock, len(self.server_state.connections) + 1)):
                self.phase = CLOSED
                transport.close()  # nothing was written: no linger, no reset
                return
        self.server_state.connections.add(self)
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.client = (unmapped(str(peer[0])), int(peer[1])) if isinstance(peer, tuple) else None
        self.server = (unmapped(str(sock[0])), int(sock[1])) if isinstance(sock, tuple) else None
        self.tls = tls_facts(transport.get_extra_info("ssl_object"))
        self.scheme = "https" if self.tls is not None else "http"
        rule = self.settings.proxy_protocol
        if rule is not None and self.client is not None and self.server is not None \
                and rule.required(self.server[1], self.client[0]):
            self.proxy_buffer = bytearray()
        self.deadlines.add(self)
        self._start_head(first=True)

    def _read_proxy_header(self, data: bytes) -> bytes:
        """Take the PROXY header off the connection's first bytes; what follows it is
        HTTP. A connection that does not start with a valid one is closed unanswered,
        as mod_remoteip does."""
        buffer = self.proxy_buffer
        assert buffer is not None
        buffer += data
        try:
            header = read_proxy_header(bytes(buffer))
        except ProxyHeaderError as exc:
            logger.info("RemoteIPProxyProtocol: %s from %s: closed", exc, self.client)
            self.proxy_buffer = None
            self.close()
            return b""
        if header is None:
            return b""
        self.proxy_buffer = None
        if header.source is not None:
            self.proxy_client = header.source[0]
        return bytes(buffer[header.length:])

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
        cycle = self.cycle
        if (self.phase is READING_BODY and cycle is not None and cycle is self.running
                and cycle.more_body and not cycle.response_started):
            # the body cut short before any answer: Apache's read of it fails and it
            # answers 400 on the connection the client closed (checked on 2.4.71: the
            # access log has the page's size, "400 266"); the application, waiting
            # for the body, is told the client has gone
            self._answer_for_body(cycle, 400)
        return None

    def pause_writing(self) -> None:
        self.write_paused = True
        self.writable.clear()
        # Apache's Timeout bounds each write: a client that stops reading is dropped
        # after it, which ends the response and frees what serves it (a CGI script
        # and its slot)
        self.write_deadline = self.loop.time() + self.settings.timeout

    def resume_writing(self) -> None:
        self.write_paused = False
        self.writable.set()
        self.write_deadline = math.inf

    async def drain(self) -> None:
        await self.writable.wait()

    def data_received(self, data: bytes) -> None:
        if self.proxy_buffer is not None:
            data = self._read_proxy_header(data)
        while data:
            phase = self.phase
            if phase is IDLE or phase is READING_HEAD:
                if phase is IDLE:
                    self._begin_head()
                line_done = self.guard.request_line_done
                consumed, violation, _complete = self.guard.scan(data)
                if self.timer is HEAD_TIMEOUT:
                    self.deadline = self.settings.header_timeout.deadline(
                        self.head_start, self.guard.total)
                if violation is not None:
                    self._refuse(violation)
                    return
                piece, data = data[:consumed], data[consumed:]
                if not line_done and not self.head_in_parser:
                    # The request line is held back until it is whole (HeadGuard bounds
                    # it), then checked and fed to llhttp in one piece.
                    self.line_buf += piece
                    if not self.guard.request_line_done:
                        continue
                    vetted = self._vet_request_line(bytes(self.line_buf))
                    self.line_buf.clear()
                    if vetted is None:
                        return
                    piece = vetted
                if not self._feed(piece):
                    return
                if self.http09:
                    # nothing after an HTTP/0.9 request line is read (Apache's
                    # read_request_line returns at once for it)
                    self._advance(LAST_REQUEST)
                    return
            elif phase is READING_BODY or phase is DISCARDING_BODY:
                if self.body_left is None:
                    piece, data = data, b""
                    sizes = self.chunk_sizes
                    if sizes is not None and not sizes.feed(piece) and self.cycle is not None:
                        # a size past apr_off_t: Apache's 413 at once (chunksize.py)
                        self.chunk_sizes = None
                        logger.info("chunk size overflow from %s", self.client)
                        self._body_error(self.cycle, 413)
                        return
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

    def _vet_request_line(self, buf: bytes) -> bytes | None:
        """The bytes to feed llhttp for a head whose request line ``buf`` now holds
        whole (with what followed it in the same read), or None once the line was
        refused. Apache's ``ap_parse_request_line`` under ``HttpProtocolOptions Strict``
        (checked with apache2 2.4.71): exactly "method SP target SP version"; a line
        of two words is HTTP/0.9 (a GET is answered with the body alone, any other
        method is a 400); an absolute-form target must be http(s) without userinfo;
        "HTTP/1.x" with x > 1 is answered as HTTP/1.1 (RFC 9110 section 2.5)."""
        self.version_text = None
        if _PLAIN_LINE.match(buf) is not None:
            # the usual line (a method llhttp knows, an origin-form target, HTTP/1.0
            # or 1.1, CRLF): nothing to check or change
            self.real_method = None
            return buf
        start = len(buf) - len(buf.lstrip(b"\r\n"))
        nl = buf.find(b"\n", start)
        end = nl if nl > start and buf[nl - 1] != 0x0D else nl - 1
        line, rest = buf[start:end], buf[nl + 1:]
        parts = line.split(b" ")
        if len(parts) == 2 and all(parts):
            if parts[0] != b"GET":
                self.protocol_error(400, None, line.decode("latin-1"),
                                    method=parts[0].decode("latin-1"))
                return None
            self.http09 = True
            return self._stand_in_method(line + b" HTTP/1.0\r\n\r\n")
        if len(parts) != 3 or not all(parts):
            self.protocol_error(400, None, " ".join(
                p.decode("latin-1") for p in parts if p))
            return None
        method, target, version = parts
        absolute = _ABSOLUTE.match(target)
        if absolute is not None and method != b"CONNECT":
            scheme, authority = absolute.groups()
            if scheme.lower() not in (b"http", b"https") or b"@" in authority:
                self.protocol_error(400, None, _masked(line).decode("latin-1"))
                return None
        higher = _HIGHER_MINOR.fullmatch(version)
        if higher is not None:
            self.version_text = version[5:].decode("ascii")
            line = b"%s %s HTTP/1.1" % (method, target)
        return self._stand_in_method(line + b"\r\n" + rest)

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
            phase = self.phase
            if (phase is READING_BODY or phase is DISCARDING_BODY) and self.cycle is not None:
                # Apache: a chunk size past what apr_off_t holds is 413, any other
                # malformed chunk 400 (checked with apache2 2.4.71)
                self._body_error(self.cycle, 413 if "overflow" in str(exc) else 400)
            else:
                self.protocol_error(400, None, self._request_line_so_far())
            return False
        return True

    # --- httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        self.head_in_parser = True
        self.url = bytearray()
        self.headers = []
        self.header_bytes = 0
        self.body_start = self.body_paused_at = None
        self.body_received = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))
        self.header_bytes += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        self.head_in_parser = False
        if self._advance(HEAD_PARSED) is not READING_BODY:
            return  # parsed after an error answer in the same read: dropped
        self._cancel_timer()
        parser = self.parser
        method = self.real_method or parser.get_method().decode("ascii", "replace")
        version = parser.get_http_version()
        target = bytes(self.url)
        if self.http09:
            request_line = f"{method} {target.decode('latin-1')}"
        else:
            shown = _masked(target) if b"@" in target else target
            request_line = (f"{method} {shown.decode('latin-1')} "
                            f"HTTP/{self.version_text or version}")
        host_seen = False
        expect_continue = False
        expectation: bytes | None = None
        keep_alive_token = False
        upgrade = False
        chunked = False
        codings: list[bytes] = []
        length = 0
        for name, value in self.headers:
            if name == b"host":
                host_seen = True
            elif name == b"expect":
                if value.strip().lower() == b"100-continue":
                    expect_continue = version == "1.1"
                elif expectation is None:
                    expectation = value
            elif name == b"connection":
                keep_alive_token = keep_alive_token or any(
                    t.strip().lower() == b"keep-alive" for t in value.split(b","))
            elif name == b"upgrade":
                upgrade = True  # llhttp may stop after this request: answered the ASGI way
            elif name == b"transfer-encoding":
                chunked = True
                codings += (c.strip().lower() for c in value.split(b","))
            elif name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = 0
        self.body_left = None if chunked else length
        self.chunk_sizes = ChunkSizes() if chunked else None
        s = self.settings
        max_req = s.max_keep_alive_requests
        count = self.requests_done + len(self.pipeline) + (
            1 if self.running is not None and not self.running.response_complete else 0)
        left = None if max_req <= 0 else max(max_req - count, 0)
        facts = RequestFacts(
            http_version="0.9" if self.http09 else version,
            method=method,
            client_keep_alive=bool(parser.should_keep_alive()),
            keep_alive_token=keep_alive_token,
            server_keep_alive=s.keep_alive and not self.retiring and (left is None or left > 0),
            keep_alive_timeout=int(s.keep_alive_timeout),
            keep_alive_left=left,
        )
        bytes_in = len(request_line) + 2 + self.header_bytes + 2
        if target == b"*" or method == "CONNECT":
            raw_path, query = target, b""
        else:
            try:
                parsed = httptools.parse_url(target)
            except httptools.HttpParserInvalidURLError:
                self._refuse_after_head(400, request_line, bytes_in)
                return
            raw_path, query = parsed.path or b"/", parsed.query or b""
        if (self.quick is not None and (method == "GET" or method == "HEAD")
                and host_seen and not chunked and not length and expectation is None
                and not upgrade
                and not self.http09 and not self.real_method and self.tls is None
                and not self.plain_on_tls and not self.retiring and self.proxy_client is None
                and not self.write_paused and not self.pipeline and target[:1] == b"/"
                and (self.running is None or self.running.response_complete)):
            # Apache's quick_handler: the application may answer from the head alone
            # (asgi.QuickAsk); the reply goes out once the request is read whole
            reply = self.quick(QuickAsk(
                request_line, method, version, raw_path, query, self.headers,
                self.client, self.server, bytes_in, count))
            if reply is not None:
                self.cycle = None
                self.quick_reply = (reply, facts)
                return
        stats: dict[str, Any] = {"bytes_out": 0, "body_bytes": 0, "bytes_in": bytes_in,
                                 "aborted": False, "status": 0}
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
                "proxy_client": self.proxy_client,
                "tls": self.tls,
                # Cycle takes http.response.zerocopysend (not over TLS: the bytes
                # must be encrypted in user space)
                "zero_copy": self.scheme == "http",
            }},
        }
        cycle = Cycle(self, scope, facts, stats, expect_continue)
        cycle.await_body = chunked
        if self.retiring:
            cycle.keep_alive = False  # whatever the serving vhost allows
        self.cycle = cycle
        if self.plain_on_tls:
            # mod_ssl's ssl_hook_ReadReq answers the request read in plain text
            self.guard.total = max(self.guard.total, bytes_in)
            self.protocol_error(400, NOTE_PLAIN_ON_TLS, request_line)
            return
        if version == "1.1" and not host_seen:
            # RFC 9112 section 3.2 and Apache's core: a 1.1 request without Host is a 400.
            self._refuse_after_head(400, request_line, bytes_in)
            return
        if chunked and codings[-1:] != [b"chunked"]:
            # RFC 9112 section 6.3: a request whose last coding is not chunked has no
            # length to read by; Apache's ap_read_request refuses any such coding with
            # 400 ("client sent unknown Transfer-Encoding"), before a handler runs.
            self._refuse_after_head(400, request_line, bytes_in)
            return
        if expectation is not None:
            # RFC 9110 section 10.1.1; Apache answers 417 to any expectation but
            # 100-continue, whatever the version, and closes.
            cycle.keep_alive = False
            self._answer_itself(cycle, 417, expectation.decode("latin-1"))
        elif method == "CONNECT":
            # no proxy here: the core's default handler answers 405 (the Allow
            # field's order is Apache's hash order, which varies)
            self._answer_itself(cycle, 405, None, ((b"Allow", self.settings.allow),))
        elif method == "OPTIONS" and target == b"*":
            # RFC 9110 section 9.3.7: the server's own options; Apache sends no Allow
            self._answer_itself(cycle, 200, None)
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
        self.body_received += len(body)
        if len(cycle.body) > HIGH_WATER:
            # the application is behind: its time does not count against the client
            self.pause_reading()
            if self.timer is BODY_TIMEOUT:
                self._cancel_timer()
                self.body_paused_at = self.loop.time()
        elif self.timer is BODY_TIMEOUT:
            # mod_reqtimeout's MinRate: each byte pushes the deadline a little further
            self.deadline = self.body_rule.deadline(self.body_start or 0.0,
                                                    self.body_received)
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
        if self.quick_reply is not None:
            self._answer_quick(*self.quick_reply)

    # --- the request/response cycle ---------------------------------------------------

    def _start(self, cycle: Cycle) -> None:
        self.running = cycle
        task = self.loop.create_task(cycle.run(cycle.app or self.app))
        self.server_state.tasks.add(task)
        task.add_done_callback(self.server_state.tasks.discard)

    def _answer_quick(self, reply: QuickReply, facts: RequestFacts) -> None:
        """Write the application's quick reply to the request just read (framed as
        ``Cycle.send`` frames a response), tell the application what was written, and
        go on as ``complete`` does."""
        self.quick_reply = None
        if not facts.client_keep_alive or self.closing:
            facts = without_keep_alive(facts)
        plan = plan_response(facts, reply.status, reply.headers, date=http_date(),
                             server=self.server_header)
        body = reply.body if plan.body_allowed else b""
        data = plan.head + body
        self.write(data)
        kept = plan.keep_alive and self.phase in READING
        reply.done(len(data), len(body), kept)
        self.server_state.total_requests += 1
        self.requests_done += 1
        if self.transport is None or self.transport.is_closing():
            return
        if not kept:
            self.close()
            return
        self._start_head(first=False)

    def complete(self, cycle: Cycle) -> None:
        """``cycle``'s response is complete: start the next request, or the wait for
        it, or close."""
        self.server_state.total_requests += 1
        self.requests_done += 1
        # %X "+" and %k count a response after which the connection may stay open
        # (Apache's ap_set_keepalive, before the log is written)
        cycle.stats["keep_alive"] = kept = (
            cycle.keep_alive and self.phase in READING and self.transport is not None
            and not self.transport.is_closing())
        if self.transport is None or self.transport.is_closing():
            return
        if not kept:
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
            self._arm(KEEPALIVE_TIMEOUT, self.loop.time() + self._wait_after(cycle))
        else:
            self._start_head(first=False, wait=self._wait_after(cycle))

    def _wait_after(self, cycle: Cycle) -> float:
        """KeepAliveTimeout after ``cycle``: its vhost's wait, else the main server's."""
        wait = cycle.keep_alive_wait
        return self.settings.keep_alive_timeout if wait is None else wait

    def _start_head(self, first: bool, wait: float | None = None) -> None:
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
            self._arm(KEEPALIVE_TIMEOUT, self.loop.time() + (
                self.settings.keep_alive_timeout if wait is None else wait))

    def want_body(self, cycle: Cycle) -> None:
        """The application waits for more of ``cycle``'s body: read on, and start the
        body deadline (RequestReadTimeout body=) unless a deadline runs."""
        self.resume_reading()
        # the virtual host's RequestReadTimeout body=, when it has one (the application
        # puts it in the scope), else the server's
        own = cycle.scope["extensions"]["cgihttpd"].get("body_timeout")
        t = self.body_rule = own if isinstance(own, ReadTimeout) else self.settings.body_timeout
        # the parser is in this body (whatever the phase: SHUTDOWN or UPGRADE may have
        # come since, and the deadline is then what ends the application's wait)
        if t.initial > 0 and self.timer is None and cycle is self.cycle and cycle.more_body:
            now = self.loop.time()
            if self.body_start is None:
                # mod_reqtimeout's body stage: one deadline for the whole body, from
                # its first read, extended by MinRate (not restarted by each byte)
                self.body_start, self.body_received = now, 0
            elif self.body_paused_at is not None:
                self.body_start += now - self.body_paused_at
            self.body_paused_at = None
            self._arm(BODY_TIMEOUT, t.deadline(self.body_start, self.body_received))

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

    @property
    def keep_alive_idle(self) -> bool:
        """A request was answered and the connection waits for the next (KeepAliveTimeout
        runs): mod_status's ConnsAsyncKeepAlive counts these."""
        return self.timer is KEEPALIVE_TIMEOUT

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

    def on_write_deadline(self) -> None:
        """The client has taken none of the response for ``Timeout`` seconds."""
        self.write_deadline = math.inf
        logger.info("timeout writing the response to %s", self.client)
        for cycle in (self.running, *self.pipeline):
            if cycle is not None and not cycle.response_complete:
                cycle.stats["aborted"] = True
        self.abort()

    # --- errors the protocol answers itself -------------------------------------------

    def _body_error(self, cycle: Cycle, status: int) -> None:
        """``cycle``'s body is malformed: answer ``status`` at once and read no more of
        the connection. Its application, waiting for the body, is told the client has
        gone (a CGI script is then stopped); once it has answered, only the
        connection can go."""
        if cycle.response_complete:
            # answered already without reading it (a response that did not wait)
            self.protocol_error(status, None, str(
                cycle.scope["extensions"]["cgihttpd"]["request_line"]))
        elif cycle is not self.running:
            # pipelined behind a response still going out: answered after it
            with contextlib.suppress(ValueError):
                self.pipeline.remove(cycle)
            cycle.disconnected = True
            cycle.event.set()
            self.protocol_error(status, None, str(
                cycle.scope["extensions"]["cgihttpd"]["request_line"]))
        elif cycle.response_started:
            cycle.disconnected = True
            cycle.stats["aborted"] = True
            cycle.event.set()
            self.abort()
        else:
            self._answer_for_body(cycle, status)

    def _body_timeout(self, cycle: Cycle) -> None:
        """mod_reqtimeout's body stage ran out before the application answered: Apache
        answers 408 (mod_cgi: "Timeout during reading request entity data")."""
        self._answer_for_body(cycle, 408)

    def _answer_for_body(self, cycle: Cycle, status: int) -> None:
        """Answer ``status`` for ``cycle``, whose body failed before its application
        answered, then close. The application's request stays the one logged: its
        receive() returns http.disconnect, its send() raises ClientDisconnected, and its
        ``stats`` hold the status (``answered``) and the bytes written."""
        body = self.error_body(status, None, str(cycle.scope["method"]))
        plan = plan_response(without_keep_alive(cycle.facts), status, [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=iso-8859-1"),
        ], date=http_date(), server=self.server_header)
        self.write(plan.head + body)
        cycle.stats.update(status=status, answered=status,
                           bytes_out=len(plan.head) + len(body), body_bytes=len(body))
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

    def error_body(self, status: int, note: str | None = None, method: str = "GET") -> bytes:
        """Apache's error page for ``status``, with this server's signature."""
        return error_page(status, note, admin=self.settings.server_admin,
                          signature_html=self.signature_html(), method=method)

    def _answer_itself(self, cycle: Cycle, status: int, note: str | None,
                       headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        """Answer ``cycle`` here rather than by the application (requests Apache's
        core answers before any handler: 417, CONNECT, ``OPTIONS *``): in its turn
        among pipelined requests, framed and logged like any other."""
        scope = cycle.scope
        body = b"" if status < 300 else self.error_body(status, note, scope["method"])
        fields = [*headers, (b"Content-Length", str(len(body)).encode())]
        if body:
            fields.append((b"Content-Type", b"text/html; charset=iso-8859-1"))
        request_line = str(scope["extensions"]["cgihttpd"]["request_line"])

        async def answer(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": status, "headers": fields})
            await send({"type": "http.response.body", "body": body})
            stats = cycle.stats
            self._log_error_event(status, request_line, stats["bytes_in"],
                                  stats["bytes_out"], stats["body_bytes"])

        cycle.app = answer

    def protocol_error(self, status: int, note: str | None, request_line: str,
                       method: str = "GET") -> None:
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
        facts = RequestFacts("1.1", method, False, False, False)
        plan = plan_response(facts, status, [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=iso-8859-1"),
        ], date=http_date(), server=self.server_header)
        if not plan.body_allowed:
            body = b""
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
