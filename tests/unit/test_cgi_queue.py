"""``cgi.queue.ScriptSlots``: the slots and the FIFO queue bounded by time and memory,
driven on an event loop with no process and no socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from cgihttpd.cgi.queue import Busy, ScriptSlots

T = TypeVar("T")
DEADLINE = 10.0  # no test waits this long unless the queue hangs


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(main(), DEADLINE)
    return asyncio.run(bounded())


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_free_slots_are_taken_at_once_and_given_back() -> None:
    async def main() -> tuple[int, int]:
        slots = ScriptSlots(2, max_wait=60)
        assert slots.try_take() and slots.try_take() and not slots.try_take()
        seen = slots.running
        slots.release()
        slots.release()
        return seen, slots.running

    assert run(main) == (2, 0)


def test_waiters_get_slots_in_the_order_they_came() -> None:
    order: list[int] = []

    async def main() -> None:
        slots = ScriptSlots(1, max_wait=60)
        await slots.take()

        async def one(i: int) -> None:
            async with slots.acquire():
                order.append(i)
                await asyncio.sleep(0)

        tasks = []
        for i in range(20):
            tasks.append(asyncio.ensure_future(one(i)))
            await settle()  # each is queued before the next comes
        assert slots.waiting == 20
        slots.release()
        await asyncio.gather(*tasks)
        assert slots.running == 0 and slots.waiting == 0 and slots.waiting_bytes == 0

    run(main)
    assert order == list(range(20))


def test_a_newcomer_does_not_overtake_the_queue() -> None:
    async def main() -> bool:
        slots = ScriptSlots(1, max_wait=60)
        await slots.take()
        waiter = asyncio.ensure_future(slots.take())
        await settle()
        slots.release()  # handed to the waiter, not to the pool
        took = slots.try_take()
        await waiter
        return took

    assert run(main) is False


def test_a_wait_longer_than_max_wait_is_refused_for_time() -> None:
    async def main() -> tuple[Busy, int, int]:
        slots = ScriptSlots(1, max_wait=0.05)
        await slots.take()
        with pytest.raises(Busy) as info:
            await slots.take()
        return info.value, slots.waiting, slots.waiting_bytes

    exc, waiting, held = run(main)
    assert exc.reason == "time" and "0.05 s" in str(exc)
    assert waiting == 0 and held == 0  # the refused waiter left the queue


def test_the_memory_budget_bounds_the_waiters() -> None:
    async def main() -> tuple[list[str], int]:
        slots = ScriptSlots(1, max_wait=60, memory=3000)
        await slots.take()
        first = asyncio.ensure_future(slots.take(1000))
        second = asyncio.ensure_future(slots.take(2000))
        await settle()
        reasons = []
        for cost in (1, 5000):
            try:
                await slots.take(cost)
            except Busy as exc:
                reasons.append(exc.reason)
        held = slots.waiting_bytes
        slots.release()
        await first
        slots.release()
        await second
        return reasons, held

    reasons, held = run(main)
    assert reasons == ["memory", "memory"] and held == 3000


def test_a_cancelled_waiter_leaves_at_once_and_wastes_no_slot() -> None:
    async def main() -> tuple[int, int, bool]:
        slots = ScriptSlots(1, max_wait=60)
        await slots.take()
        gone = asyncio.ensure_future(slots.take(100))
        live = asyncio.ensure_future(slots.take(100))
        await settle()
        gone.cancel()
        await settle()
        waiting = slots.waiting
        slots.release()
        await live  # the slot went to the live waiter
        return waiting, slots.running, gone.cancelled()

    assert run(main) == (1, 1, True)


def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_it_on() -> None:
    async def main() -> int:
        slots = ScriptSlots(1, max_wait=60)
        await slots.take()
        first = asyncio.ensure_future(slots.take())
        second = asyncio.ensure_future(slots.take())
        await settle()
        slots.release()  # handed to ``first``, which has not run yet
        first.cancel()
        await asyncio.wait((first,))
        await second
        slots.release()
        return slots.running

    assert run(main) == 0
