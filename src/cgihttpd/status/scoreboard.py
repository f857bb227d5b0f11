"""mod_status's scoreboard: the whole server's counts, summed over its worker processes
as Apache's scoreboard sums its children's.

Owns the layout of a memory region that the parent creates before it forks the workers
(an anonymous ``MAP_SHARED`` mmap, inherited across ``fork``): one fixed-size slot per
worker, each a row of 8-byte signed integers (``FIELDS``), and the sum of the slots
(``Scoreboard.totals``). Each worker writes its own slot only, always from its event
loop's thread; any worker reads them all when it reports.

Why no lock: a slot has one writer, so its read-modify-writes race with nobody; the
readers (another worker's report) need only that a value be read whole. Every word
is 8-byte aligned (the region is page-aligned and a slot is ``SLOT_WORDS`` words), and
``memoryview`` stores and loads an 8-byte item with one ``memcpy`` of a constant 8,
which compiles to one aligned 64-bit move: single-copy atomic on x86-64 and AArch64,
the platforms we run. A report may so see one field a moment newer than another (the
sum is not one instant's), as Apache's lock-free scoreboard reads do.

Counts are monotonic (accesses, bytes, ...) or gauges (busy, connections); a worker
whose process ends leaves its counts behind (the whole server's totals never go back)
and the parent clears its gauges and its pid (``clear_gauges``). Without fork
(Windows, or one worker) the region is a plain ``bytearray`` of one slot. Must not know
HTTP, workers' processes or reports.
"""

from __future__ import annotations

import mmap
import sys
from dataclasses import dataclass, fields

#: words per slot: two 64-byte cache lines, so that two workers' writes never share a
#: line (nor a pair of lines, as adjacent-line prefetch fetches them), with room to grow
SLOT_WORDS = 16
WORD = 8
#: the last word of a slot: the pid of the process that writes it (0: none yet); not a
#: count, so not in ``FIELDS`` nor summed
PID = SLOT_WORDS - 1
#: the word before it: how many connections the worker holds, for handing new ones
#: between workers (``cgihttpd.handoff``, which writes its own meanings there); not a
#: count either
HELD = SLOT_WORDS - 2


@dataclass(frozen=True, slots=True)
class Totals:
    """The sum of every slot's fields; its fields, in order, are a slot's words."""

    accesses: int = 0
    bytes_out: int = 0
    duration_us: int = 0
    busy: int = 0
    script_runs: int = 0
    script_failures: int = 0
    conns: int = 0
    conns_keep_alive: int = 0
    cpu_user_us: int = 0
    cpu_system_us: int = 0
    cpu_children_user_us: int = 0
    cpu_children_system_us: int = 0


#: the fields of a slot, in order (``Totals``'s): each an 8-byte signed integer
FIELDS = tuple(f.name for f in fields(Totals))
ACCESSES, BYTES_OUT, DURATION_US, BUSY, SCRIPT_RUNS, SCRIPT_FAILURES, CONNS, \
    CONNS_KEEP_ALIVE, CPU_USER_US, CPU_SYSTEM_US, CPU_CHILDREN_USER_US, \
    CPU_CHILDREN_SYSTEM_US = range(len(FIELDS))
#: the gauges among them: what a worker that is gone no longer has
GAUGES = (BUSY, CONNS, CONNS_KEEP_ALIVE)


@dataclass(frozen=True, slots=True)
class Row:
    """One slot's figures: its index, the pid that writes it, its counts."""

    index: int
    pid: int
    counts: Totals


class Scoreboard:
    """``slots`` slots of ``SLOT_WORDS`` words, shared with the processes forked after
    it is made (see the module docstring)."""

    __slots__ = ("size", "_region", "_words")

    def __init__(self, slots: int = 1) -> None:
        self.size = max(slots, 1)
        nbytes = self.size * SLOT_WORDS * WORD
        region: mmap.mmap | bytearray
        if self.size > 1 and sys.platform != "win32":
            region = mmap.mmap(-1, nbytes, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS,
                               prot=mmap.PROT_READ | mmap.PROT_WRITE)
        else:
            region = bytearray(nbytes)  # one process: nothing to share
        self._region = region
        self._words = memoryview(region).cast("q")

    def slot(self, index: int) -> memoryview:
        """Slot ``index``'s words (a view: writes go to the shared region)."""
        if not 0 <= index < self.size:
            raise IndexError(f"no slot {index} on a scoreboard of {self.size}")
        start = index * SLOT_WORDS
        return self._words[start:start + SLOT_WORDS]

    def rows(self) -> list[Row]:
        """Every slot's figures, in slot order."""
        words, n = self._words, len(FIELDS)
        return [Row(index, int(words[base + PID]), Totals(*words[base:base + n]))
                for index, base in enumerate(range(0, self.size * SLOT_WORDS, SLOT_WORDS))]

    def totals(self) -> Totals:
        """Every field summed over the slots."""
        return sum_rows(self.rows())

    def clear_gauges(self, index: int) -> None:
        """Slot ``index``'s worker is gone: its requests and connections with it, and
        its pid (no process writes the slot); its counts stay in the totals."""
        slot = self.slot(index)
        for i in GAUGES:
            slot[i] = 0
        slot[HELD] = 0
        slot[PID] = 0


def sum_rows(rows: list[Row]) -> Totals:
    """The fields of ``rows`` summed."""
    return Totals(*(sum(getattr(row.counts, name) for row in rows) for name in FIELDS))


def private_slot() -> memoryview:
    """A slot nobody else reads: where counters retired by a restart go on counting."""
    return memoryview(bytearray(SLOT_WORDS * WORD)).cast("q")
