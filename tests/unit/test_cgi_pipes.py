"""``PipeReader``/``PipeWriter`` over real pipes: reads, end of file, timeouts,
back-pressure both ways, a reader that goes away. Every wait has a deadline."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from cgihttpd.cgi.pipes import READ_AHEAD, PipeReader, PipeWriter

T = TypeVar("T")
DEADLINE = 10.0


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(factory(), DEADLINE)

    return asyncio.run(bounded())


def test_reads_what_was_written_then_end_of_file() -> None:
    async def main() -> list[bytes]:
        r, w = os.pipe()
        reader = PipeReader(asyncio.get_running_loop(), r)
        os.write(w, b"hello ")
        got = [await reader.read(100)]
        os.write(w, b"world")
        os.close(w)
        got.append(await reader.read(3))
        got.append(await reader.read(100))
        got.append(await reader.read(100))
        assert reader.at_eof()
        return got

    assert run(main) == [b"hello ", b"wor", b"ld", b""]


def test_read_all_and_timeout() -> None:
    async def main() -> bytes:
        r, w = os.pipe()
        reader = PipeReader(asyncio.get_running_loop(), r)
        with pytest.raises(asyncio.TimeoutError):
            await reader.read(10, timeout=0.05)
        asyncio.get_running_loop().call_later(0.02, os.write, w, b"late")
        assert await reader.read(10, timeout=5) == b"late"
        writer = PipeWriter(asyncio.get_running_loop(), w)
        writer.write(b"x" * (3 * READ_AHEAD))  # more than the pipe holds
        writer.close()  # once it all went in
        return await reader.read()

    assert run(main) == b"x" * (3 * READ_AHEAD)


def test_a_reader_that_is_not_read_stops_reading_the_pipe() -> None:
    """Back-pressure: the writer blocks once READ_AHEAD waits here plus the pipe is full."""
    async def main() -> tuple[int, int]:
        r, w = os.pipe()
        os.set_blocking(w, False)
        reader = PipeReader(asyncio.get_running_loop(), r)
        written = 0
        for _ in range(1000):
            try:
                written += os.write(w, b"y" * 4096)
            except BlockingIOError:
                await asyncio.sleep(0.01)  # let the reader take what it will
                try:
                    written += os.write(w, b"y" * 4096)
                except BlockingIOError:
                    break
        read = len(await reader.read(1 << 30))
        os.close(w)
        while chunk := await reader.read(1 << 20):
            read += len(chunk)
        return written, read

    written, read = run(main)
    assert written < 1000 * 4096  # it did block
    assert read == written


def test_writer_drains_into_a_slow_reader_and_closes() -> None:
    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        r, w = os.pipe()
        writer = PipeWriter(loop, w)
        reader = PipeReader(loop, r)
        data = bytes(range(256)) * 4096  # 1 MiB: far more than a pipe holds
        writer.write(data)

        async def feed() -> None:
            await writer.drain()
            writer.close()

        task = loop.create_task(feed())
        got = await reader.read()
        await task
        return got

    assert run(main) == bytes(range(256)) * 4096


def test_a_reader_that_went_away_is_a_broken_pipe() -> None:
    async def main() -> None:
        r, w = os.pipe()
        writer = PipeWriter(asyncio.get_running_loop(), w)
        os.close(r)
        writer.write(b"nobody reads this")
        with pytest.raises(BrokenPipeError):
            await writer.drain()
        writer.write(b"ignored after the error")
        writer.close()
        with pytest.raises(OSError):
            os.fstat(w)  # closed

    run(main)


def test_close_drops_the_rest_and_wakes_a_waiting_read() -> None:
    async def main() -> bytes:
        r, w = os.pipe()
        reader = PipeReader(asyncio.get_running_loop(), r)
        asyncio.get_running_loop().call_later(0.02, reader.close)
        got = await reader.read(10)
        os.close(w)
        return got

    assert run(main) == b""


def test_consume_hands_over_every_chunk_then_the_end() -> None:
    async def main() -> list[bytes]:
        r, w = os.pipe()
        reader = PipeReader(asyncio.get_running_loop(), r)
        got: list[bytes] = []
        os.write(w, b"before ")  # already waiting when consume() starts
        await asyncio.sleep(0.02)
        done = reader.consume(got.append)
        os.write(w, b"after")
        await asyncio.sleep(0.02)
        assert not done.done()
        os.close(w)
        await done
        return got

    got = run(main)
    assert got[-1] == b"" and b"".join(got) == b"before after"


def test_close_stops_a_consumer() -> None:
    async def main() -> tuple[list[bytes], bool]:
        r, w = os.pipe()
        reader = PipeReader(asyncio.get_running_loop(), r)
        got: list[bytes] = []
        done = reader.consume(got.append)
        reader.close()  # the read end: nothing more can come
        os.close(w)
        await asyncio.sleep(0.02)
        return got, done.cancelled()

    assert run(main) == ([], True)
