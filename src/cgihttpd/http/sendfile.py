"""Zero-copy file bodies: a file's bytes from the page cache to a client's socket
without passing through Python (``sendfile(2)``).

Owns ``send_file``: the bytes [offset, offset + count) of an open file onto a plain TCP
transport. The event loop's own ``loop.sendfile`` is zero-copy on asyncio's loops
(selector: ``os.sendfile``; proactor: ``TransmitFile``) but not on uvloop (0.19-0.21
raise ``NotImplementedError`` for the native way and fall back to read + write in
Python). So where ``os.sendfile`` exists the bytes go by it, on a duplicate of the
transport's descriptor: a loop refuses ``add_writer`` on a descriptor a transport owns,
and the duplicate lets us wait for room in the socket without touching the transport.
Elsewhere (Windows) ``loop.sendfile`` does it. Never for TLS (the bytes must be
encrypted in user space): the connection does not offer it then.

The transport's buffer must be empty before the first ``sendfile`` (what it holds goes
first); ``send_file`` waits for that. Must not know HTTP: framing is the caller's.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
from typing import Any, BinaryIO, Final

#: At most this much per sendfile(2) call, so that one download cannot hold the loop
#: for long when the socket buffer is large (loopback: several MB).
SLICE: Final = 1 << 20

#: os.sendfile's errors that mean the client has gone
_GONE: Final = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN})

if sys.platform == "win32":
    HAS_OS_SENDFILE: Final = False

    def _os_sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        raise OSError(errno.ENOSYS, "no sendfile(2) here")
else:
    HAS_OS_SENDFILE: Final = hasattr(os, "sendfile")
    _os_sendfile = os.sendfile


class PeerGone(ConnectionError):
    """The client closed the connection while its file was being sent."""


async def send_file(loop: asyncio.AbstractEventLoop, transport: asyncio.Transport,
                    file: BinaryIO, offset: int, count: int,
                    lost: asyncio.Future[None]) -> int:
    """Send [offset, offset + count) of ``file`` on ``transport``; returns the bytes
    sent (fewer if the file shrank: the client then sees a short body, as with
    Apache). ``lost`` is done when the connection is lost: the wait stops with
    ``PeerGone``."""
    if count <= 0:
        return 0
    sock = transport.get_extra_info("socket")
    if not HAS_OS_SENDFILE or sock is None:
        try:
            return await loop.sendfile(transport, file, offset, count)
        except (ConnectionError, RuntimeError) as exc:
            raise PeerGone(str(exc)) from None
    out = os.dup(sock.fileno())
    try:
        # what the transport still holds (the response head) must go first
        while transport.get_write_buffer_size():
            await _writable(loop, out, lost)
            await asyncio.sleep(0)  # the transport writes in the same wake-up
        src = file.fileno()
        sent = 0
        while sent < count:
            if lost.done():
                raise PeerGone("the connection was lost")
            try:
                n = _os_sendfile(out, src, offset + sent, min(count - sent, SLICE))
            except (BlockingIOError, InterruptedError):
                await _writable(loop, out, lost)
                continue
            except OSError as exc:
                if exc.errno in _GONE:
                    raise PeerGone(str(exc)) from None
                raise
            if n == 0:
                break  # the file is shorter than it was
            sent += n
        return sent
    finally:
        os.close(out)


async def _writable(loop: asyncio.AbstractEventLoop, fd: int,
                    lost: asyncio.Future[None]) -> None:
    ready: asyncio.Future[Any] = loop.create_future()
    loop.add_writer(fd, _set, ready)
    try:
        await asyncio.wait((ready, lost), return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_writer(fd)
        ready.cancel()
    if lost.done():
        raise PeerGone("the connection was lost")


def _set(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_result(None)


__all__ = ["HAS_OS_SENDFILE", "SLICE", "PeerGone", "send_file"]
