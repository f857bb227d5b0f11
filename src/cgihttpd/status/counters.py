"""The counters behind mod_status: one ``StatusCounters`` per server process, held by
the ``Runtime`` and carried across a graceful reload as Apache's scoreboard is.

Owns what is counted and how cheaply: a finished request costs a few integer additions,
one dict increment (its virtual host) and one append to a bounded deque (its duration,
for the percentiles); a CGI run, an entry in a dict while it runs. No locks: every
update happens on the event loop's thread. Must not know HTTP, CGI or how a report is
formatted (``report``); takes the time as a value where it records one.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field

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
    accesses: int = 0
    bytes_out: int = 0
    #: total request time, in microseconds
    duration_us: int = 0
    #: requests being answered now (the busy workers)
    busy: int = 0
    by_vhost: dict[str, int] = field(default_factory=dict)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    scripts: dict[int, ScriptRun] = field(default_factory=dict)
    script_runs: int = 0
    script_failures: int = 0
    failures: deque[ScriptFailure] = field(
        default_factory=lambda: deque(maxlen=FAILURES_KEPT))
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # --- the hot path: called once per request --------------------------------------

    def request_began(self) -> None:
        self.busy += 1

    def request_ended(self, vhost: str, nbytes: int, duration: float) -> None:
        self.busy -= 1
        self.accesses += 1
        self.bytes_out += nbytes
        self.duration_us += int(duration * 1_000_000)
        self.by_vhost[vhost] = self.by_vhost.get(vhost, 0) + 1
        self.latencies.append(duration)

    # --- CGI -------------------------------------------------------------------------

    def script_began(self, filename: str, vhost: str, now: float) -> int:
        """Record a script starting; its token for ``script_ended``."""
        token = next(self._ids)
        self.scripts[token] = ScriptRun(filename, vhost, now)
        self.script_runs += 1
        return token

    def script_ended(self, token: int) -> None:
        self.scripts.pop(token, None)

    def script_failed(self, filename: str, summary: str, now: float) -> None:
        self.script_failures += 1
        self.failures.append(ScriptFailure(now, filename, summary))

    # --- reloads ---------------------------------------------------------------------

    def carried(self, *, graceful: bool, now: float) -> StatusCounters:
        """The counters of the next generation (checked on apache2 2.4.71): a graceful
        reload keeps them and RestartTime; a restart starts afresh. Both count one
        more generation. Kept counters stay shared with the retiring generation, whose
        last requests are counted as they finish, as Apache's scoreboard does."""
        if graceful:
            self.generation += 1
            return self
        return StatusCounters(started=now, generation=self.generation + 1)
