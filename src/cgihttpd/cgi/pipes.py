"""The server's ends of a script's pipes, read and written on the event loop.

Owns: ``PipeReader`` (stdout, stderr) and ``PipeWriter`` (stdin) over raw pipe file
descriptors, with ``loop.add_reader``/``add_writer`` and ``os.read``/``os.write``
directly. They replace asyncio's pipe transports and streams (``connect_read_pipe``,
``StreamReader``, ``StreamWriter``), which cost the server about a tenth of its CPU per
CGI request in protocol, transport and stream objects (design.md §5 "Starting a
script"). Back-pressure both ways: a reader stops reading while ``READ_AHEAD`` bytes
wait unread (the script then blocks on its write), a writer's ``drain`` waits until
the pipe took everything. Must not know about processes, HTTP or CGI.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable
from typing import Final

from cgihttpd.platform import set_blocking

#: A reader buffers at most this much before it stops reading the pipe.
READ_AHEAD: Final = 1 << 16


class PipeReader:
    """Reads one pipe to its end; ``read`` as ``StreamReader.read``, with a timeout."""

    __slots__ = ("_loop", "_fd", "_buf", "_eof", "_waiter", "_watching", "_error",
                 "_consumer", "_consumed")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        set_blocking(fd, False)
        self._loop = loop
        self._fd = fd
        self._buf = bytearray()
        self._eof = False
        self._error: OSError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._watching = False
        self._consumer: Callable[[bytes], None] | None = None
        self._consumed: asyncio.Future[None] | None = None
        self._watch()

    def consume(self, callback: Callable[[bytes], None]) -> asyncio.Future[None]:
        """Hand every chunk to ``callback`` as it arrives (b"" at the end) instead of
        keeping it for ``read``: no task, no buffer. The future is done at the end."""
        done = self._consumed = self._loop.create_future()
        self._consumer = callback
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            callback(data)
        if self._eof:
            self._deliver_end()
        return done

    def _deliver_end(self) -> None:
        consumer, done = self._consumer, self._consumed
        self._consumer = None
        if consumer is not None:
            consumer(b"")
        if done is not None and not done.done():
            done.set_result(None)

    def _watch(self) -> None:
        if not self._watching and self._fd >= 0:
            self._loop.add_reader(self._fd, self._readable)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._fd)
            self._watching = False

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, READ_AHEAD)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._error = exc
            data = b""
        if data:
            if self._consumer is not None:
                self._consumer(data)
                return
            self._buf += data
            if len(self._buf) >= READ_AHEAD:
                self._unwatch()
        else:
            self._finish()
            if self._consumed is not None:
                self._deliver_end()
                return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _finish(self) -> None:
        self._eof = True
        self._unwatch()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def at_eof(self) -> bool:
        return self._eof and not self._buf

    def ready(self) -> bool:
        """Whether ``read`` would return without waiting (it tries the pipe now)."""
        if not self._buf and not self._eof and self._watching:
            self._readable()
        return bool(self._buf) or self._eof

    async def read(self, n: int = -1, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes (``n`` < 0: everything to the end); b"" at the end.
        ``timeout``: raise ``asyncio.TimeoutError`` when nothing came for that long."""
        if n < 0:
            parts = []
            while chunk := await self.read(READ_AHEAD, timeout):
                parts.append(chunk)
            return b"".join(parts)
        while not self._buf and not self._eof:
            await self._wait(timeout)
        if self._error is not None and not self._buf:
            raise self._error
        data = bytes(self._buf[:n])
        del self._buf[:n]
        if not self._eof and len(self._buf) < READ_AHEAD:
            self._watch()
        return data

    async def _wait(self, timeout: float | None) -> None:
        waiter = self._waiter = self._loop.create_future()
        timer = None
        if timeout is not None:
            timer = self._loop.call_later(max(timeout, 0.0), _expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        """Stop reading and close the pipe (what was not read is dropped)."""
        self._buf.clear()
        self._consumer = None
        if self._consumed is not None and not self._consumed.done():
            self._consumed.cancel()
        self._finish()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


class PipeWriter:
    """Writes one pipe; ``write``/``drain``/``close`` as ``StreamWriter``'s. A
    reader that has gone (EPIPE) makes ``drain`` raise ``BrokenPipeError``."""

    __slots__ = ("_loop", "_fd", "_buf", "_waiter", "_error", "_closing", "_watching")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        set_blocking(fd, False)
        self._loop = loop
        self._fd = fd
        self._buf = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._error: OSError | None = None
        self._closing = False
        self._watching = False

    def write(self, data: bytes) -> None:
        if self._closing:
            raise RuntimeError("write() after close()")
        if self._error is not None or not data:
            return
        if not self._buf:
            try:
                sent = os.write(self._fd, data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._fail(exc)
                return
            data = data[sent:]
            if not data:
                return
        self._buf += data
        if not self._watching:
            self._loop.add_writer(self._fd, self._writable)
            self._watching = True

    def _writable(self) -> None:
        try:
            sent = os.write(self._fd, self._buf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(exc)
            return
        del self._buf[:sent]
        if not self._buf:
            self._idle()

    def _idle(self) -> None:
        if self._watching:
            self._loop.remove_writer(self._fd)
            self._watching = False
        if self._closing:
            self._close_fd()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: OSError) -> None:
        if exc.errno in (errno.EPIPE, errno.ECONNRESET):
            exc = BrokenPipeError(exc.errno, exc.strerror)
        self._error = exc
        self._buf.clear()
        self._idle()

    async def drain(self) -> None:
        if self._buf and self._error is None:
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Close once everything written has gone into the pipe."""
        self._closing = True
        if not self._buf:
            self._idle()

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


__all__ = ["READ_AHEAD", "PipeReader", "PipeWriter"]
