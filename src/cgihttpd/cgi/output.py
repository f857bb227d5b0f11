"""``ReplyWriter``: what of a script's response is held back, and when it goes.

A script writes its output in pieces; sending each as it comes costs a socket write
(and, on the wire, a packet) per piece. So the response's start message and the body
bytes after it are held, and go:

- when the next read would wait for the script more than ``FLUSH_DELAY`` (Apache
  flushes on a read from the script that would block): output never waits on a script
  that is thinking;
- when ``HOLD_LIMIT`` bytes are held;
- with the last body message, once the script's exit status is known (``exit_status``
  waits up to ``EXIT_GRACE`` for it with the body held): a short response leaves in
  one write, head, body and end together (docs/design.md §5).

Also owns whether the client is still there: a failed send, or the handler's word
(``lose_client``), ends the reply, and ``on_gone`` runs once unless the reply was
complete. Must not know how the script runs, the CGI rules or the HTTP framing: it
sends ASGI messages through ``send``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

from cgihttpd.asgi import Message, Send

#: How long held output waits for more from the script before it is sent anyway.
FLUSH_DELAY: Final = 0.002
#: After stdout closed, how long the body is held for the script's exit status (so
#: that the whole response leaves in one write) before it is sent anyway.
EXIT_GRACE: Final = 0.05
#: Held body bytes past which they go at once (one read's worth, as READ_SIZE).
HOLD_LIMIT: Final = 1 << 16

_BODY: Final = "http.response.body"


def _nothing() -> None:
    pass


class Output(Protocol):
    """The script's stdout, as far as holding needs it (``runner.ScriptOutput``)."""

    async def read(self, n: int = -1, timeout: float | None = None) -> bytes: ...

    def ready(self) -> bool: ...


class Exiting(Protocol):
    """The script's process, as far as its exit status goes (``runner.ScriptProcess``)."""

    def wait(self) -> Awaitable[int]: ...

    @property
    def returncode(self) -> int | None: ...


class ReplyWriter:
    """One response's messages on their way to the client (see the module docstring)."""

    __slots__ = ("_send", "_on_gone", "_start", "_held", "_size", "gone", "finished")

    def __init__(self, send: Send, on_gone: Callable[[], None]) -> None:
        self._send = send
        self._on_gone = on_gone
        #: the start message, held until the first body message goes
        self._start: Message | None = None
        self._held: list[bytes] = []
        self._size = 0
        #: the client went away before the reply was complete: nothing more is sent
        self.gone = False
        #: the last message went out: a disconnect now is no abort
        self.finished = False

    def close(self) -> None:
        """The reply is over: forget ``on_gone`` (which may refer to the caller)."""
        self._on_gone = _nothing

    def lose_client(self) -> None:
        """The client went away: unless the reply was complete, it ends here."""
        if not self.gone and not self.finished:
            self.gone = True
            self._on_gone()

    async def send(self, message: Message, *, last: bool = False) -> bool:
        """Send ``message`` (``last``: it ends the reply), after a held start; False if
        the client has gone."""
        if self.gone:
            return False
        if self._start is not None:
            start, self._start = self._start, None
            if not await self.send(start):
                return False
        try:
            await self._send(message)
        except OSError:
            self.lose_client()
            return False
        if last:
            self.finished = True
        return True

    def hold_start(self, message: Message) -> None:
        """Keep the start message until the first body message goes."""
        self._start = message

    def holding(self) -> bool:
        """Whether output is held back."""
        return bool(self._held) or self._start is not None

    async def hold(self, data: bytes) -> bool:
        """Hold body bytes; past HOLD_LIMIT what is held goes. False: the client is gone."""
        self._held.append(data)
        self._size += len(data)
        if self._size >= HOLD_LIMIT:
            return await self.flush()
        return True

    async def flush(self) -> bool:
        """Send what is held (the start message alone, if only that)."""
        if not self.holding():
            return True
        data = b"".join(self._held)
        self._held.clear()
        self._size = 0
        return await self.send({"type": _BODY, "body": data, "more_body": True})

    async def finish(self, length: int | None = None) -> bool:
        """The last body message, with what is held. ``length``: the body's whole
        length, which the start message gets as its Content-Length if it is still held
        (the body is then all here)."""
        data = b"".join(self._held)
        self._held.clear()
        self._size = 0
        start = self._start
        if start is not None and length is not None:
            headers = [(k, v) for k, v in start.get("headers", ())
                       if k.lower() != b"content-length"]
            headers.append((b"Content-Length", str(length).encode()))
            self._start = {**start, "headers": headers}
        return await self.send({"type": _BODY, "body": data, "more_body": False}, last=True)

    async def read(self, stdout: Output, size: int) -> bytes | None:
        """Up to ``size`` bytes the script writes within FLUSH_DELAY while output is
        held; None (without waiting when nothing is held or bytes are ready) once what
        is held has gone because the script kept us waiting: the caller then reads as
        usual."""
        if not self.holding() or stdout.ready():
            return None
        # a moment's grace first: a script that has written its last bytes is usually
        # about to close stdout (Python's exit flushes, then closes)
        try:
            return await stdout.read(size, FLUSH_DELAY)
        except asyncio.TimeoutError:
            await self.flush()
            return None

    async def exit_status(self, proc: Exiting, timeout: float) -> int | None:
        """After stdout closed: the script's exit status, which tells whether the body
        is whole. It is usually known at once; one that lingers past EXIT_GRACE gets
        what it wrote sent while we wait (up to ``timeout``, then 0: stdout is
        complete, and a script lingering after it is not an error). None: the client
        went away."""
        rc = proc.returncode
        if rc is None:
            with contextlib.suppress(asyncio.TimeoutError):
                rc = await asyncio.wait_for(proc.wait(), EXIT_GRACE)
        if rc is None:
            if not await self.flush():
                return None
            try:
                rc = await asyncio.wait_for(proc.wait(), timeout)
            except asyncio.TimeoutError:
                rc = 0
        return None if self.gone else rc
