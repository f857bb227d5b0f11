"""Connections handed between worker processes, so that each worker holds its share.

With ``--workers N`` on Linux each worker listens on a socket of its own with
SO_REUSEPORT, and the kernel picks the socket of a new connection by a hash of its
addresses. Over many short connections that evens out; over a few long-lived ones (a
balancer's or a proxy's keep-alive pool, a load generator) it does not: 64 connections
seen split 51/11 and 43/20 over two workers, and a closed loop of requests then leaves
the worker with few connections idle half the time while the other has a queue (on
two cores: ≈ 23k req/s split so, ≈ 29k split 34/25 - `bench/results`). Apache's event
MPM has no such skew: its children take turns at one listening socket.

So a worker that accepts a connection while it holds at least ``SLACK`` more
connections than the worker that holds the fewest hands it over, before reading a byte
of it: the descriptor goes by SCM_RIGHTS over a datagram socketpair made before the
fork (one inbox per worker), the accepting worker closes its own copy, and the other
serves the connection as if it had accepted it. The counts are each worker's HELD
word on mod_status's shared scoreboard (``status.scoreboard``; not one of its summed
counts), which its owner writes at each accept, each adoption and each tick; a worker
that stops writes ``STOPPING`` there so that nobody hands it anything. A handover that fails (the
other worker has gone) leaves the connection where it was accepted.

Only plain HTTP is handed over (a TLS connection has begun its handshake when the
protocol sees it; a PROXY-protocol header is read by the worker that accepted it):
``Handoff.enabled`` is False for a configuration with either. Must not know HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Callable
from typing import Any

from cgihttpd.status.scoreboard import HELD, Scoreboard

#: hand a new connection over when this worker holds at least this many more than the
#: worker that holds the fewest
SLACK = 2
#: what a stopping worker shows as its count: more than any worker holds
STOPPING = 1 << 40


class Handoff:
    """Worker ``index``'s end of the handovers among ``len(pairs)`` workers:
    ``pairs[i]`` is worker i's inbox, a (receiving, sending) socketpair. Build the
    pairs before the fork (``Handoff.pairs``), then ``Handoff(board, index, pairs)``
    in each worker."""

    def __init__(self, board: Scoreboard, index: int,
                 pairs: list[tuple[socket.socket, socket.socket]]) -> None:
        self.board = board
        self.index = index
        self.inbox = pairs[index][0]
        self.outboxes = [send for _recv, send in pairs]
        for i, (recv, _send) in enumerate(pairs):
            if i != index:
                recv.close()  # another worker's inbox: only it reads there
        self.inbox.setblocking(False)
        for send in self.outboxes:
            # a worker too busy to take what waits in its inbox must not stall ours
            send.setblocking(False)
        #: handed to each worker and not yet in its own count: until that count moves
        #: from what it was at the last handover (``seen``; a count that never moves
        #: keeps them: that worker is then thought to hold more, never fewer)
        self.sent = [0] * len(pairs)
        self.seen = [0] * len(pairs)
        #: workers whose inbox refused a handover (gone)
        self.gone: set[int] = set()
        self.stopping = False
        self.handed = 0
        self.adopted = 0

    @staticmethod
    def pairs(workers: int) -> list[tuple[socket.socket, socket.socket]]:
        """One datagram socketpair per worker: (its inbox, the end others send to)."""
        if sys.platform == "win32":  # no fork, no workers to hand to
            raise OSError("connections are handed between processes on POSIX only")
        else:
            return [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
                    for _ in range(workers)]

    def count(self, held: int) -> None:
        """This worker now holds ``held`` connections (said on the scoreboard)."""
        self.board.slot(self.index)[HELD] = STOPPING if self.stopping else held

    def stop(self) -> None:
        """This worker is stopping: nothing more is handed to it."""
        self.stopping = True
        self.count(0)

    def target(self, held: int) -> int | None:
        """The worker a new connection should go to, when this one holds ``held``
        (that one included), or None to keep it."""
        if self.stopping:
            return None
        best, fewest = None, held - SLACK + 1
        for row in range(self.board.size):
            if row == self.index or row in self.gone:
                continue
            n = int(self.board.slot(row)[HELD])
            if n != self.seen[row]:
                self.sent[row] = 0  # it has counted (some of) what it was handed
            n += self.sent[row]
            if n < fewest:
                best, fewest = row, n
        return best

    def give_away(self, sock: socket.socket | Any, held: int) -> bool:
        """Hand ``sock`` (a connection just accepted, nothing read) over if another
        worker holds fewer enough; True when it went (the caller then closes its copy
        without a word: the connection lives on in the other worker)."""
        to = self.target(held)
        sent = to is not None and self._send(to, sock)
        if sent:
            assert to is not None
            self.seen[to] = int(self.board.slot(to)[HELD])
            self.sent[to] += 1
            self.handed += 1
        self.count(held - 1 if sent else held)
        return sent

    def _send(self, to: int, sock: socket.socket | Any) -> bool:
        """``sock``'s descriptor into worker ``to``'s inbox; False if it would not go."""
        if sys.platform == "win32":
            return False
        try:
            socket.send_fds(self.outboxes[to], [b"c"], [sock.fileno()])
        except BlockingIOError:  # its inbox is full: it is busy enough
            return False
        except OSError:
            self.gone.add(to)  # its inbox is closed: that worker has gone
            return False
        return True

    def listen(self, loop: asyncio.AbstractEventLoop,
               adopt: Callable[[socket.socket], None]) -> None:
        """Serve what other workers hand over: each descriptor becomes a socket given
        to ``adopt`` (which serves it as an accepted connection)."""

        def ready() -> None:
            for _ in range(64):  # bounded: the loop's other work goes on between
                if sys.platform == "win32":
                    return
                try:
                    _msg, fds, _flags, _addr = socket.recv_fds(self.inbox, 16, 16)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    with contextlib.suppress(Exception):
                        loop.remove_reader(self.inbox.fileno())
                    return
                for fd in fds:
                    self.adopted += 1
                    adopt(socket.socket(fileno=fd))

        loop.add_reader(self.inbox.fileno(), ready)
