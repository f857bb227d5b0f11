"""The connection's phases (``http/protocol.py``): the table of transitions, written
out again here as the specification, and the method that applies it. Pure: no sockets,
and the event loop the connection is given never runs."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from cgihttpd.http.protocol import TRANSITIONS, CgiHttpProtocol, Event, Phase, PhaseError

P, E = Phase, Event
READING = (P.READING_HEAD, P.READING_BODY, P.IDLE, P.DISCARDING_BODY)

#: every allowed (phase, event, next phase)
ALLOWED: list[tuple[Phase, Event, Phase]] = [
    # request after request on a kept-alive connection
    (P.IDLE, E.HEAD_BEGUN, P.READING_HEAD),
    (P.READING_HEAD, E.HEAD_PARSED, P.READING_BODY),
    (P.READING_BODY, E.MESSAGE_PARSED, P.IDLE),
    (P.READING_BODY, E.BODY_UNREAD, P.DISCARDING_BODY),
    (P.DISCARDING_BODY, E.MESSAGE_PARSED, P.IDLE),
    # a head parsed from the rest of a chunked body's read
    (P.IDLE, E.HEAD_PARSED, P.READING_BODY),
    # llhttp skips an upgrade request's body: the upgrade follows MESSAGE_PARSED
    (P.IDLE, E.UPGRADE, P.UPGRADED),
    # an HTTP/0.9 request is the connection's last: nothing after it is read
    (P.IDLE, E.LAST_REQUEST, P.CLOSING),
    (P.LINGERING, E.LAST_REQUEST, P.LINGERING),
    (P.CLOSED, E.LAST_REQUEST, P.CLOSED),
    # the rest of a read parsed after an error answer is dropped
    (P.LINGERING, E.HEAD_PARSED, P.LINGERING),
    (P.LINGERING, E.MESSAGE_PARSED, P.LINGERING),
    (P.LINGERING, E.UPGRADE, P.LINGERING),
    (P.CLOSED, E.HEAD_PARSED, P.CLOSED),
    (P.CLOSED, E.MESSAGE_PARSED, P.CLOSED),
    (P.CLOSED, E.UPGRADE, P.CLOSED),
    # graceful shutdown
    *[(p, E.SHUTDOWN, P.CLOSING) for p in (*READING, P.UPGRADED, P.CLOSING)],
    (P.LINGERING, E.SHUTDOWN, P.LINGERING),
    (P.CLOSED, E.SHUTDOWN, P.CLOSED),
    # an error answered by the connection
    *[(p, E.ERROR_ANSWERED, P.LINGERING) for p in (*READING, P.UPGRADED, P.CLOSING)],
    # close, abort, lost
    *[(p, E.CLOSE, P.CLOSED) for p in Phase],
]
ALLOWED_PAIRS = {(p, e) for p, e, _ in ALLOWED}
IMPOSSIBLE = [pair for pair in itertools.product(Phase, Event) if pair not in ALLOWED_PAIRS]


@pytest.fixture
def conn() -> Iterator[CgiHttpProtocol]:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    loop = asyncio.new_event_loop()
    try:
        config = SimpleNamespace(loaded=True, loaded_app=app, root_path="")
        yield CgiHttpProtocol(config, SimpleNamespace(), {}, _loop=loop)
    finally:
        loop.close()


def test_the_table_is_the_specification() -> None:
    assert len(ALLOWED_PAIRS) == len(ALLOWED)
    assert TRANSITIONS == {(p, e): nxt for p, e, nxt in ALLOWED}


@pytest.mark.parametrize(("phase", "event", "expected"), ALLOWED,
                         ids=[f"{p.name}-{e.name}" for p, e, _ in ALLOWED])
def test_every_allowed_transition(conn: CgiHttpProtocol, phase: Phase, event: Event,
                                  expected: Phase) -> None:
    conn.phase = phase
    assert conn._advance(event) is expected
    assert conn.phase is expected


@pytest.mark.parametrize(("phase", "event"), IMPOSSIBLE,
                         ids=[f"{p.name}-{e.name}" for p, e in IMPOSSIBLE])
def test_every_other_transition_raises_and_keeps_the_phase(
        conn: CgiHttpProtocol, phase: Phase, event: Event) -> None:
    conn.phase = phase
    with pytest.raises(PhaseError, match=f"{event.name} is impossible in {phase.name}") as info:
        conn._advance(event)
    assert (info.value.phase, info.value.event) == (phase, event)
    assert conn.phase is phase


def test_impossible_transitions_include_the_obvious_ones() -> None:
    # a body cannot end before its head, nor a closed connection read a new head
    assert (P.READING_HEAD, E.MESSAGE_PARSED) in IMPOSSIBLE
    assert (P.CLOSED, E.HEAD_BEGUN) in IMPOSSIBLE
    assert (P.LINGERING, E.ERROR_ANSWERED) in IMPOSSIBLE


def test_no_way_back_to_reading_once_the_connection_ends() -> None:
    ending = set(Phase) - set(READING)
    for (phase, event), nxt in TRANSITIONS.items():
        if phase in ending:
            assert nxt in ending, (phase, event, nxt)
    assert {nxt for (phase, _), nxt in TRANSITIONS.items() if phase is P.CLOSED} == {P.CLOSED}


def test_a_connection_starts_reading_a_head(conn: CgiHttpProtocol) -> None:
    assert conn.phase is P.READING_HEAD
    assert not conn.closing


def test_an_http09_request_ends_the_reading(conn: CgiHttpProtocol) -> None:
    for event in (E.HEAD_PARSED, E.MESSAGE_PARSED, E.LAST_REQUEST):
        conn._advance(event)
    assert conn.phase is P.CLOSING
    assert conn.closing
    with pytest.raises(PhaseError):
        conn._advance(E.HEAD_BEGUN)


def test_a_kept_alive_connection_goes_round(conn: CgiHttpProtocol) -> None:
    for event in (E.HEAD_PARSED, E.MESSAGE_PARSED, E.HEAD_BEGUN, E.HEAD_PARSED,
                  E.BODY_UNREAD, E.MESSAGE_PARSED, E.HEAD_BEGUN):
        conn._advance(event)
    assert conn.phase is P.READING_HEAD


@pytest.mark.parametrize("phase", list(Phase), ids=[p.name for p in Phase])
def test_closing_means_no_further_request(conn: CgiHttpProtocol, phase: Phase) -> None:
    conn.phase = phase
    assert conn.closing == (phase in (P.CLOSING, P.LINGERING, P.CLOSED))
