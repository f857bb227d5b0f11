"""The counters behind mod_status: one ``StatusCounters`` per server process, held by
the ``Runtime`` and carried across a graceful reload as Apache's scoreboard is.

The integer counts (accesses, bytes, duration, busy, script runs and failures, the
connections) live in this process's slot of a ``scoreboard.Scoreboard``, which the
parent shares with every worker it forks: a report sums the slots, so the whole
server's figures agree whichever worker answers (``totals``). The rest (the recent
latencies, the per-vhost counts, the running scripts and recent failures) is this
process's own: not summable cheaply, and reported as this worker's.

Owns what is counted and how cheaply: a finished request costs a few integer writes
to the slot, one dict increment (its virtual host) and one append to a bounded deque
(its duration, for the percentiles); a CGI run, an entry in a dict while it runs. No
locks: every update happens on the event loop's thread, and only this process writes
its slot (``scoreboard``'s docstring). Must not know HTTP, CGI or how a report is
formatted (``report``); takes the time as a value where it records one.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from dataclasses import dataclass, field

from cgihttpd.status.scoreboard import (
    ACCESSES,
    BUSY,
    BYTES_OUT,
    CONNS,
    CONNS_KEEP_ALIVE,
    CPU_CHILDREN_SYSTEM_US,
    CPU_CHILDREN_USER_US,
    CPU_SYSTEM_US,
    CPU_USER_US,
    DURATION_US,
    PID,
    SCRIPT_FAILURES,
    SCRIPT_RUNS,
    Scoreboard,
    Totals,
    private_slot,
)

#: request durations kept for the percentiles (the most recent ones)
LATENCY_WINDOW = 2048
#: recent script failures kept for the page
FAILURES_KEPT = 20


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """A CGI script running now: its file, its virtual host and when it started."""

    filename: str
    vhost: str
    started: float


@dataclass(frozen=True, slots=True)
class ScriptFailure:
    """A script that failed: when, which, and the diagnosis's one-line summary."""

    at: float
    filename: str
    summary: str


@dataclass(slots=True)
class StatusCounters:
    """What mod_status reports, counted as requests finish (see the module docstring)."""

    #: RestartTime: when counting began (the start, or the last restart)
    started: float = field(default_factory=time.time)
    #: reloads since the start (ParentServerMPMGeneration; the config's is one more)
    generation: int = 0
    #: the whole server's integer counts, a slot per worker (one until ``attach``)
    board: Scoreboard = field(default_factory=Scoreboard)
    #: this process's slot on ``board``
    index: int = 0
    by_vhost: dict[str, int] = field(default_factory=dict)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    scripts: dict[int, ScriptRun] = field(default_factory=dict)
    failures: deque[ScriptFailure] = field(
        default_factory=lambda: deque(maxlen=FAILURES_KEPT))
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _slot: memoryview = field(init=False)

    def __post_init__(self) -> None:
        self._slot = self.board.slot(self.index)
        self._slot[PID] = os.getpid()

    def attach(self, board: Scoreboard, index: int) -> None:
        """Count in slot ``index`` of ``board`` from now on (a worker just forked, on
        the parent's scoreboard), bringing along what was counted so far."""
        slot = board.slot(index)
        slot[:] = self._slot
        slot[PID] = os.getpid()
        self.board, self.index, self._slot = board, index, slot

    # --- this process's counts -------------------------------------------------------

    @property
    def accesses(self) -> int:
        return int(self._slot[ACCESSES])

    @property
    def bytes_out(self) -> int:
        return int(self._slot[BYTES_OUT])

    @property
    def duration_us(self) -> int:
        """Total request time, in microseconds."""
        return int(self._slot[DURATION_US])

    @property
    def busy(self) -> int:
        """Requests being answered now (the busy workers)."""
        return int(self._slot[BUSY])

    @property
    def script_runs(self) -> int:
        return int(self._slot[SCRIPT_RUNS])

    @property
    def script_failures(self) -> int:
        return int(self._slot[SCRIPT_FAILURES])

    def totals(self) -> Totals:
        """The whole server's counts: every worker's slot summed."""
        return self.board.totals()

    # --- the hot path: called once per request --------------------------------------

    def request_began(self) -> None:
        self._slot[BUSY] += 1

    def request_ended(self, vhost: str, nbytes: int, duration: float) -> None:
        slot = self._slot
        slot[BUSY] -= 1
        slot[ACCESSES] += 1
        slot[BYTES_OUT] += nbytes
        slot[DURATION_US] += int(duration * 1_000_000)
        self.by_vhost[vhost] = self.by_vhost.get(vhost, 0) + 1
        self.latencies.append(duration)

    # --- connections (told by the server between ticks) -------------------------------

    def connections(self, total: int, keep_alive: int) -> None:
        """The open connections now, and those of them waiting for a next request."""
        slot = self._slot
        slot[CONNS] = total
        slot[CONNS_KEEP_ALIVE] = keep_alive

    def cpu(self, times: tuple[float, float, float, float]) -> None:
        """This process's CPU seconds (user, system, and its waited-for children's)."""
        slot = self._slot
        slot[CPU_USER_US] = int(times[0] * 1_000_000)
        slot[CPU_SYSTEM_US] = int(times[1] * 1_000_000)
        slot[CPU_CHILDREN_USER_US] = int(times[2] * 1_000_000)
        slot[CPU_CHILDREN_SYSTEM_US] = int(times[3] * 1_000_000)

    # --- CGI -------------------------------------------------------------------------

    def script_began(self, filename: str, vhost: str, now: float) -> int:
        """Record a script starting; its token for ``script_ended``."""
        token = next(self._ids)
        self.scripts[token] = ScriptRun(filename, vhost, now)
        self._slot[SCRIPT_RUNS] += 1
        return token

    def script_ended(self, token: int) -> None:
        self.scripts.pop(token, None)

    def script_failed(self, filename: str, summary: str, now: float) -> None:
        self._slot[SCRIPT_FAILURES] += 1
        self.failures.append(ScriptFailure(now, filename, summary))

    # --- reloads ---------------------------------------------------------------------

    def carried(self, *, graceful: bool, now: float) -> StatusCounters:
        """The counters of the next generation (checked on apache2 2.4.71): a graceful
        reload keeps them and RestartTime; a restart starts afresh. Both count one
        more generation. Kept counters stay shared with the retiring generation, whose
        last requests are counted as they finish, as Apache's scoreboard does. After a
        restart the slot is the new counters', emptied; the retired ones count on in a
        slot of their own, so that the requests they cut short do not count."""
        if graceful:
            self.generation += 1
            return self
        board, index = self.board, self.index
        self._slot = private_slot()
        self._slot[:] = board.slot(index)
        board.slot(index)[:] = private_slot()
        return StatusCounters(started=now, generation=self.generation + 1,
                              board=board, index=index)
