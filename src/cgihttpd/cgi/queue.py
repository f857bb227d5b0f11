"""``ScriptSlots``: how many scripts run at once (CGIMaxProcesses), and the queue of
requests waiting for a slot.

A burst larger than the slots waits here rather than being refused: the queue is
bounded by time (a request waits at most ``max_wait`` seconds, CGIQueueTimeout, by
default ``Timeout``) and by memory (the waiting requests' estimated cost, in bytes,
stays within ``memory``, CGIQueueMemory), not by a count. Slots go to waiters in the
order they came (FIFO): a freed slot is handed to the oldest live waiter directly, so
a newcomer never overtakes the queue. A waiter that is cancelled (its client left)
leaves at once; one cancelled just as it was handed a slot passes it on.

A refusal raises ``Busy`` with its ``reason`` ("time" or "memory") for the handler to
log and answer (503 + Retry-After). Apache has no such queue: its connections wait in
the listen backlog for a free worker (MaxRequestWorkers), bounded only by the clients'
patience. Must not know HTTP, processes or the configuration: numbers in, a slot out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Final, Literal

#: Default number of scripts running at once when the config sets none
#: (ServerConfig.max_concurrent_cgi == 0).
DEFAULT_MAX_RUNNING: Final = 64
#: Default memory budget of the waiting requests (CGIQueueMemory).
DEFAULT_QUEUE_MEMORY: Final = 64 << 20
#: What one waiting request costs besides its body, measured with bench/burst.py
#: --memory (docs/design.md, "The CGI queue"): its connection, request, exchange,
#: handler, the script's environment and the waiting task, 19-21 KiB of the server's
#: RSS per waiter; rounded up.
WAITER_BASE: Final = 32 << 10
#: A body with Content-Length is charged twice its size up to this: the waiter reads
#: up to 64 KiB of it (``handler``: to notice a client that leaves) and the connection
#: buffers up to 64 KiB more before it stops reading (the HTTP layer's HIGH_WATER),
#: each through a message on its way. Measured: a 64 KiB body adds 144 KiB, a 1 MiB
#: one 220 KiB. A chunked body is spooled before the request queues: it is charged
#: what the spool holds in memory.
WAITER_BODY: Final = 256 << 10
#: How much of a Content-Length body a waiter reads while it waits.
EARLY_BODY: Final = 64 << 10

Reason = Literal["time", "memory"]


class Busy(Exception):
    """The request was refused a slot: it waited ``max_wait`` seconds ("time"), or
    waiting would pass the queue's memory budget ("memory"): 503."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason


class ScriptSlots:
    """At most ``max_running`` scripts at once; a FIFO queue of waiters bounded by
    ``max_wait`` seconds each and ``memory`` bytes together (see the module)."""

    def __init__(self, max_running: int, *, max_wait: float,
                 memory: int = DEFAULT_QUEUE_MEMORY) -> None:
        self.max_running = max_running
        self.max_wait = max_wait
        self.memory = memory
        self.running = 0
        #: the waiters, oldest first: each future and the bytes it was charged
        self._waiters: OrderedDict[asyncio.Future[None], int] = OrderedDict()
        #: the bytes charged to the waiters now in the queue
        self.waiting_bytes = 0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_take(self) -> bool:
        """Take a slot if one is free and nobody waits (the common case, no task)."""
        if self.running < self.max_running and not self._waiters:
            self.running += 1
            return True
        return False

    async def take(self, cost: int = WAITER_BASE) -> None:
        """A slot, now or after waiting in turn; ``Busy`` if the wait would pass the
        memory budget or lasts ``max_wait`` seconds. Cancelled: leaves the queue."""
        if self.try_take():
            return
        if self.waiting_bytes + cost > self.memory:
            raise Busy("memory", f"{self.running} CGI scripts running and {self.waiting} "
                       f"requests waiting use the queue's {self.memory} bytes")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters[fut] = cost
        self.waiting_bytes += cost
        timer = loop.call_later(self.max_wait, self._expire, fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.release()  # handed a slot as it was cancelled: pass it on
            raise
        finally:
            timer.cancel()
            self._leave(fut)

    def release(self) -> None:
        """Give a slot back: to the oldest waiter if any, else to the pool."""
        while self._waiters:
            fut, _ = next(iter(self._waiters.items()))
            self._leave(fut)
            if not fut.done():
                fut.set_result(None)  # the slot moves over: ``running`` stays
                return
        self.running -= 1

    @contextlib.asynccontextmanager
    async def acquire(self, cost: int = WAITER_BASE) -> AsyncIterator[None]:
        """``take`` a slot for the block, and ``release`` it after."""
        await self.take(cost)
        try:
            yield
        finally:
            self.release()

    def _leave(self, fut: asyncio.Future[None]) -> None:
        cost = self._waiters.pop(fut, None)
        if cost is not None:
            self.waiting_bytes -= cost

    def _expire(self, fut: asyncio.Future[None]) -> None:
        if not fut.done():
            self._leave(fut)
            fut.set_exception(Busy("time", f"no CGI slot came free in {self.max_wait:g} s "
                                   f"({self.running} scripts running)"))


__all__ = ["DEFAULT_MAX_RUNNING", "DEFAULT_QUEUE_MEMORY", "EARLY_BODY", "WAITER_BASE",
           "WAITER_BODY", "Busy", "ScriptSlots"]
