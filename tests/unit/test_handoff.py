"""Connections handed between workers (``cgihttpd.handoff``): which worker a new
connection goes to by the scoreboard's counts, the descriptor passing over the
socketpairs (a real TCP connection, served by the end that adopts it), and what
happens when the other worker has gone, is stopping or cannot take more."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from cgihttpd.handoff import SLACK, STOPPING, Handoff
from cgihttpd.status.scoreboard import HELD, Scoreboard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptor passing")


def two() -> tuple[Scoreboard, Handoff, Handoff]:
    board = Scoreboard(2)
    pairs = Handoff.pairs(2)
    # both ends in this one process: each Handoff closes the other's inbox, so give
    # each its own copies of the pairs
    copies = [[(r.dup(), s.dup()) for r, s in pairs]
              for _ in range(2)]
    for r, s in pairs:
        r.close()
        s.close()
    return board, Handoff(board, 0, copies[0]), Handoff(board, 1, copies[1])


def test_a_new_connection_goes_to_the_worker_with_the_fewest() -> None:
    board, a, b = two()
    board.slot(1)[HELD] = 10
    assert a.target(10 + SLACK - 1) is None  # within the slack: kept
    assert a.target(10 + SLACK) == 1
    b.stop()
    assert board.slot(1)[HELD] == STOPPING
    assert a.target(100) is None  # a stopping worker takes nothing
    a.count(7)
    assert board.slot(0)[HELD] == 7


def test_handed_counts_until_the_receiver_counts_it() -> None:
    board, a, _b = two()
    board.slot(1)[HELD] = 0
    a.sent[1] = 5
    assert a.target(6) is None  # 0 held + 5 on their way
    board.slot(1)[HELD] = 5  # it has taken them
    assert a.target(8) == 1
    assert a.sent[1] == 0


def test_a_connection_is_served_by_the_worker_it_was_handed_to() -> None:
    board, a, b = two()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    board.slot(1)[HELD] = 0

    async def go() -> bytes:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[socket.socket] = loop.create_future()
        b.listen(loop, got.set_result)
        assert a.give_away(accepted, SLACK)
        accepted.close()  # the accepting worker's copy goes; the connection stays
        served = await asyncio.wait_for(got, 10)
        served.sendall(b"from the other worker")
        served.close()
        return await loop.run_in_executor(None, client.recv, 100)

    assert asyncio.run(go()) == b"from the other worker"
    assert (a.handed, b.adopted, a.sent[1]) == (1, 1, 1)
    assert board.slot(0)[HELD] == SLACK - 1
    client.close()
    listener.close()


def test_a_worker_that_has_gone_is_not_handed_to_again() -> None:
    board, a, b = two()
    b.inbox.close()  # its process ended: nobody reads its inbox any more
    x, y = socket.socketpair()
    assert not a.give_away(x, 50)
    assert a.gone == {1}
    assert a.target(50) is None
    assert board.slot(0)[HELD] == 50
    x.close()
    y.close()


def test_a_stopping_worker_shows_no_connections_to_mod_status() -> None:
    board, a, _b = two()
    a.count(3)
    a.stop()
    assert board.totals().conns == 0  # the handovers' word is not a summed count
