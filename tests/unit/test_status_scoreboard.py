"""mod_status's scoreboard (``status.scoreboard``) and the counters that write it
(``status.counters``): the layout of a slot, the sums over slots, a slot shared with a
forked process, what a worker gone leaves, and what a restart detaches; then the
reports' whole-server figures (Processes, the connections, the process table)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from cgihttpd.status.counters import StatusCounters
from cgihttpd.status.report import Snapshot, format_auto, format_html, format_json
from cgihttpd.status.scoreboard import (
    ACCESSES,
    BUSY,
    BYTES_OUT,
    CONNS,
    FIELDS,
    PID,
    SLOT_WORDS,
    WORD,
    Scoreboard,
    Totals,
)


def test_slot_layout() -> None:
    board = Scoreboard(3)
    assert board.size == 3
    # fixed-size slots of 8-byte words, each on cache lines of its own
    assert SLOT_WORDS * WORD % 64 == 0
    assert len(FIELDS) < SLOT_WORDS and PID == SLOT_WORDS - 1
    assert list(Totals.__dataclass_fields__) == list(FIELDS)
    slot = board.slot(1)
    assert (slot.format, slot.itemsize, len(slot)) == ("q", 8, SLOT_WORDS)
    slot[ACCESSES] = 7
    slot[PID] = 4242
    # the word lands at its offset in the region: slot 1, field ACCESSES
    raw = board._words.cast("B")  # noqa: SLF001 - the layout is what is tested
    offset = (1 * SLOT_WORDS + ACCESSES) * WORD
    assert int.from_bytes(raw[offset:offset + WORD], sys.byteorder) == 7
    assert board.slot(0)[ACCESSES] == 0 and board.slot(2)[ACCESSES] == 0
    with pytest.raises(IndexError):
        board.slot(3)


def test_totals_sum_every_slot() -> None:
    board = Scoreboard(3)
    for index, (accesses, nbytes, busy) in enumerate([(5, 100, 1), (7, 50, 0), (1, 1, 2)]):
        slot = board.slot(index)
        slot[ACCESSES], slot[BYTES_OUT], slot[BUSY] = accesses, nbytes, busy
        slot[PID] = 100 + index
    total = board.totals()
    assert (total.accesses, total.bytes_out, total.busy) == (13, 151, 3)
    assert [(r.index, r.pid, r.counts.accesses) for r in board.rows()] == [
        (0, 100, 5), (1, 101, 7), (2, 102, 1)]
    # a worker gone: its requests and connections go, its counts stay
    board.slot(2)[CONNS] = 4
    board.clear_gauges(2)
    total = board.totals()
    assert (total.accesses, total.busy, total.conns) == (13, 1, 0)
    assert board.rows()[2].pid == 0


def test_counters_of_two_workers_sum() -> None:
    board = Scoreboard(2)
    a, b = StatusCounters(), StatusCounters()
    a.request_began()
    a.request_ended("x", 10, 0.5)  # counted before the fork: carried into the slot
    a.attach(board, 0)
    b.attach(board, 1)
    for counters, n in ((a, 2), (b, 3)):
        for _ in range(n):
            counters.request_began()
            counters.request_ended("x", 1000, 0.001)
    b.request_began()  # one in progress
    b.script_began("/s.py", "x", 1.0)
    a.script_failed("/t.py", "exit status 1", 1.0)
    a.connections(3, 2)
    b.connections(1, 0)
    total = a.totals()
    assert total == b.totals()
    assert (total.accesses, total.bytes_out, total.busy) == (6, 5010, 1)
    assert (total.script_runs, total.script_failures) == (1, 1)
    assert (total.conns, total.conns_keep_alive) == (4, 2)
    assert total.duration_us == 500_000 + 5 * 1000
    # each worker's own counts are its slot's
    assert (a.accesses, b.accesses, b.busy) == (3, 3, 1)
    assert a.by_vhost == {"x": 3} and b.by_vhost == {"x": 3}


SHARED_WITH_A_FORK = textwrap.dedent("""\
    import os
    from cgihttpd.status.counters import StatusCounters
    from cgihttpd.status.scoreboard import Scoreboard

    board = Scoreboard(2)
    parent = StatusCounters()
    parent.attach(board, 0)
    pid = os.fork()
    if pid == 0:  # the worker: counts in slot 1, which the parent reads
        code = 1
        try:
            child = StatusCounters()
            child.attach(board, 1)
            for _ in range(5):
                child.request_began()
                child.request_ended("x", 100, 0.0)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    parent.request_began()
    parent.request_ended("x", 1, 0.0)
    rows = [(r.pid, r.counts.accesses) for r in board.rows()]
    assert rows == [(os.getpid(), 1), (pid, 5)], rows
    assert parent.totals().accesses == 6 and parent.totals().bytes_out == 501
    print("ok")
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_slot_is_shared_with_a_forked_worker() -> None:
    # in a process of its own: the test runner's has threads, and a fork there may
    # deadlock (Python 3.12+ warns); a worker is forked before any thread starts
    run = subprocess.run([sys.executable, "-c", SHARED_WITH_A_FORK], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr


def test_one_process_has_one_slot() -> None:
    c = StatusCounters()
    assert c.board.size == 1 and isinstance(c.board._region, bytearray)  # noqa: SLF001
    c.request_began()
    c.request_ended("x", 5, 0.0)
    assert c.totals().accesses == 1 and c.board.rows()[0].pid == os.getpid()


def test_graceful_keeps_the_slot_restart_empties_it_and_detaches_the_old() -> None:
    board = Scoreboard(2)
    c = StatusCounters()
    c.attach(board, 1)
    c.request_began()
    c.request_ended("x", 5, 0.0)
    c.request_began()  # still running at the reload
    assert c.carried(graceful=True, now=1.0) is c and c.totals().accesses == 1
    fresh = c.carried(graceful=False, now=2.0)
    assert (fresh.board, fresh.index) == (board, 1)
    assert (fresh.totals().accesses, fresh.totals().busy) == (0, 0)
    # the request the restart cut short ends on the old counters: not counted
    c.request_ended("x", 5, 0.0)
    assert (fresh.totals().accesses, fresh.totals().busy) == (0, 0)
    fresh.request_began()
    fresh.request_ended("x", 5, 0.0)
    assert fresh.totals().accesses == 1


def snap(**kw: object) -> Snapshot:
    base: dict[str, object] = dict(
        host="127.0.0.1", version="cgihttpd/0.1.0", built="x", now=1000.0, started=990.0,
        generation=0, load=(0.0, 0.0, 0.0), extended=True, accesses=9, bytes_out=0,
        duration_us=0, cpu=(0.0, 0.0, 0.0, 0.0), busy=1, slots=64, processes=2, conns=5,
        conns_keep_alive=3, workers=((0, 11, 3, 1, 2), (1, 12, 2, 0, 1)), pid=11)
    base.update(kw)
    return Snapshot(**base)  # type: ignore[arg-type]


def test_reports_give_the_whole_servers_figures() -> None:
    fields = dict(line.split(": ", 1) for line in format_auto(snap()).splitlines()[1:])
    assert (fields["Processes"], fields["ConnsTotal"], fields["ConnsAsyncKeepAlive"]) == (
        "2", "5", "3")
    assert (fields["ConnsAsyncWriting"], fields["ConnsAsyncClosing"]) == ("0", "0")
    page = format_html(snap())
    # apache2 2.4.71's table of the processes (event MPM), a row per worker and the sum
    assert ("<tr><td>0</td><td>11</td><td>no</td><td>3</td><td>yes</td><td>1</td>"
            "<td>0</td><td>31</td><td>0</td><td>0</td><td>2</td><td>0</td></tr>") in page
    assert ("<tr><td>Sum</td><td>2</td><td>0</td><td>5</td><td>&nbsp;</td><td>1</td>"
            "<td>0</td><td>63</td><td>0</td><td>0</td><td>3</td><td>0</td></tr>") in page
    # the page says which figures are whole-server and which the answering worker's
    assert "the whole server" in page and "the worker that answered" in page
    data = format_json(snap())
    assert '"processes":2' in data and '"conns":5' in data and '"pid":11' in data
