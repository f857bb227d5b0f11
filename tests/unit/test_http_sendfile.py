"""``http.sendfile.send_file`` on real loopback connections, on asyncio's loop and on
uvloop (which has no zero-copy ``loop.sendfile``): what the transport held goes first,
then exactly the file's range; a peer that resets the connection ends the send with
``PeerGone``; no descriptor is left behind either way."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import tempfile
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from cgihttpd.http.sendfile import PeerGone, send_file

DEADLINE = 20.0
LOOPS: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {
    "asyncio": asyncio.run, "uvloop": uvloop.run}


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.got = bytearray()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.got += data

    def eof_received(self) -> None:
        self.done.set_result(None)


async def _pair() -> tuple[asyncio.Transport, _Sink, asyncio.Server]:
    loop = asyncio.get_running_loop()
    sinks: list[_Sink] = []

    def make() -> _Sink:
        sinks.append(_Sink())
        return sinks[-1]

    srv = await loop.create_server(make, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    while not sinks:
        await asyncio.sleep(0.01)
    return transport, sinks[0], srv  # type: ignore[return-value]


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
@pytest.mark.parametrize(("size", "offset", "count"), [
    (10 << 20, 0, 10 << 20), (1 << 20, 12345, 500_000), (100, 0, 100)])
def test_byte_exact_after_the_held_head(loop_name: str, size: int, offset: int,
                                        count: int) -> None:
    data = os.urandom(size)

    async def main() -> bytes:
        transport, sink, srv = await _pair()
        lost = asyncio.get_running_loop().create_future()
        with tempfile.TemporaryFile() as f:
            f.write(data)
            f.flush()
            transport.write(b"HEAD" * 50_000)  # more than the socket takes at once
            sent = await send_file(asyncio.get_running_loop(), transport, f, offset,
                                   count, lost)
        assert sent == count
        transport.write(b"TAIL")
        transport.write_eof()
        await sink.done
        transport.close()
        srv.close()
        return bytes(sink.got)

    got = LOOPS[loop_name](asyncio.wait_for(main(), DEADLINE))
    assert got == b"HEAD" * 50_000 + data[offset:offset + count] + b"TAIL"


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_a_file_shorter_than_promised_sends_what_there_is(loop_name: str) -> None:
    async def main() -> int:
        transport, _sink, srv = await _pair()
        lost = asyncio.get_running_loop().create_future()
        with tempfile.TemporaryFile() as f:
            f.write(b"x" * 1000)
            f.flush()
            sent = await send_file(asyncio.get_running_loop(), transport, f, 0, 5000, lost)
        transport.close()
        srv.close()
        return sent

    assert LOOPS[loop_name](asyncio.wait_for(main(), DEADLINE)) == 1000


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_a_peer_that_goes_away_ends_the_send_and_leaks_nothing(loop_name: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        peer, _ = listener.accept()
        listener.close()
        before = len(os.listdir("/proc/self/fd"))
        lost = loop.create_future()
        with tempfile.TemporaryFile() as f:
            f.write(os.urandom(20 << 20))
            f.flush()

            async def reset_soon() -> None:
                await asyncio.sleep(0.2)  # the socket's buffers are full by now
                peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                peer.close()

            resetter = loop.create_task(reset_soon())
            with pytest.raises(PeerGone):
                await send_file(loop, transport, f, 0, 20 << 20, lost)
            await resetter
        transport.abort()
        await asyncio.sleep(0.05)  # the transport closes its socket on the next turn
        # the connection's two ends are closed, the file too; nothing else is left
        assert len(os.listdir("/proc/self/fd")) == before - 2

    LOOPS[loop_name](asyncio.wait_for(main(), DEADLINE))


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_a_lost_connection_ends_the_wait(loop_name: str) -> None:
    """The peer stops reading: the send waits for room until the connection is lost."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        peer, _ = listener.accept()
        listener.close()
        lost = loop.create_future()
        loop.call_later(0.3, lost.set_result, None)
        with tempfile.TemporaryFile() as f:
            f.write(os.urandom(20 << 20))
            f.flush()
            with pytest.raises(PeerGone):
                await send_file(loop, transport, f, 0, 20 << 20, lost)
        transport.abort()
        peer.close()

    LOOPS[loop_name](asyncio.wait_for(main(), DEADLINE))
