"""Accepting connections on a listening socket where TLS may be spoken: what uvicorn's
``loop.create_server(ssl=...)`` cannot do, as it takes one context for every socket and
fails a handshake that is plain HTTP without a word.

Per connection: the settings' ``tls(local address, port)`` gives the context of the
address's default server (None: plain HTTP there, served as any connection). With a
context, the first byte is peeked at (MSG_PEEK, nothing consumed): a TLS handshake
record (22) gets the TLS handshake; anything else is plain HTTP, which the connection
answers with mod_ssl's 400 ("You're speaking plain HTTP to an SSL-enabled server port").

A ``TlsListener`` stands in for an ``asyncio.Server`` in uvicorn's list of servers
(``close``, ``wait_closed``), so a shutdown stops it as it stops the others. Each
connection gets the protocol class current when it is accepted (a reload replaces it),
and with it the current configuration's contexts.

Must not know about configuration files or virtual hosts (``cgihttpd.tls`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

from cgihttpd.http.protocol import unmapped

logger = logging.getLogger("cgihttpd.http")

#: the first byte of a TLS record carrying a handshake (RFC 8446 section 5.1)
HANDSHAKE = 22
#: how long to wait for a client's first byte when no header timeout is set (Timeout)
FIRST_BYTE_DEFAULT = 60.0
#: how long a full accept queue backs off (EMFILE and friends)
ACCEPT_BACKOFF = 0.1


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


class TlsListener:
    """Accepts on ``sock`` and serves each connection with the protocol that
    ``protocol_class()`` names then, built by ``make_protocol``."""

    def __init__(self, sock: socket.socket, protocol_class: Callable[[], Any],
                 make_protocol: Callable[[], asyncio.Protocol]) -> None:
        self.sock = sock
        self.protocol_class = protocol_class
        self.make_protocol = make_protocol
        self.loop = asyncio.get_running_loop()
        self.pending: set[asyncio.Task[None]] = set()
        self.task = self.loop.create_task(self._accept())

    def close(self) -> None:
        self.task.cancel()
        for task in list(self.pending):
            task.cancel()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def _accept(self) -> None:
        while True:
            try:
                conn, _ = await self.loop.sock_accept(self.sock)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            except OSError as exc:  # out of descriptors: wait, as asyncio's server does
                logger.warning("accept failed: %s", exc)
                await asyncio.sleep(ACCEPT_BACKOFF)
                continue
            conn.setblocking(False)
            task = self.loop.create_task(self._serve(conn))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    async def _serve(self, conn: socket.socket) -> None:
        settings = self.protocol_class().settings
        try:
            host, port = conn.getsockname()[:2]
            ctx: ssl.SSLContext | None = (settings.tls(unmapped(host), port)
                                          if settings.tls is not None else None)
            if ctx is None:
                await self.loop.connect_accepted_socket(self.make_protocol, conn)
                return
            wait = settings.header_timeout.initial or FIRST_BYTE_DEFAULT
            first = await self._peek(conn, wait)
            if not first:
                conn.close()  # gone, or silent for too long
                return
            if first[0] == HANDSHAKE:
                await self.loop.connect_accepted_socket(
                    self.make_protocol, conn, ssl=ctx, ssl_handshake_timeout=wait)
            else:
                await self.loop.connect_accepted_socket(self._plain_on_tls, conn)
        except asyncio.CancelledError:
            conn.close()
            raise
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as exc:
            # a failed handshake (a protocol or cipher refused, a client that gave up):
            # Apache logs these at info level only
            logger.info("TLS handshake failed: %s", exc)
            conn.close()

    def _plain_on_tls(self) -> asyncio.Protocol:
        protocol = self.make_protocol()
        protocol.plain_on_tls = True  # type: ignore[attr-defined]
        return protocol

    async def _peek(self, conn: socket.socket, wait: float) -> bytes:
        """The connection's first byte, left unread; b"" if it closed or said nothing
        within ``wait`` seconds."""
        deadline = self.loop.time() + wait
        while True:
            ready = self.loop.create_future()
            fd = conn.fileno()
            try:
                self.loop.add_reader(fd, _wake, ready)
            except NotImplementedError:
                # Windows' proactor loop cannot watch a socket: no plain-HTTP answer
                # there, the handshake simply fails as with uvicorn's ssl=
                return bytes([HANDSHAKE])
            try:
                await asyncio.wait_for(ready, max(deadline - self.loop.time(), 0))
            except asyncio.TimeoutError:
                return b""
            finally:
                self.loop.remove_reader(fd)
            try:
                return conn.recv(1, socket.MSG_PEEK)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return b""
