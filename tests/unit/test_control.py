"""The server's lifecycle table, Apache's signals and ``-k`` verbs (cgihttpd.control)."""

from __future__ import annotations

import itertools
import signal
import sys

import pytest

from cgihttpd import control
from cgihttpd.control import (
    DRAINED,
    GRACEFUL,
    GRACEFUL_STOP,
    REFUSED,
    RELOADED,
    RELOADING,
    RESTART,
    RUNNING,
    STOP,
    STOPPED,
    STOPPING,
    STOPPING_GRACEFUL,
    Event,
    Lifecycle,
    LifecycleError,
    PidStatus,
    Plan,
    State,
    parse_pid,
    plan_verb,
)

PAIRS = list(itertools.product(State, Event))


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=lambda x: x.value)
def test_every_pair_is_the_table(state: State, event: Event) -> None:
    life = Lifecycle(state)
    nxt = control.TRANSITIONS.get((state, event))
    if nxt is None:
        with pytest.raises(LifecycleError):
            life.apply(event)
        assert life.state is state
    else:
        assert life.apply(event) is nxt and life.state is nxt


def test_the_cycles() -> None:
    life = Lifecycle()
    assert [life.apply(e) for e in (GRACEFUL, RELOADED, RESTART, REFUSED)] == [
        RELOADING, RUNNING, RELOADING, RUNNING]
    assert [life.apply(e) for e in (GRACEFUL_STOP, GRACEFUL, STOP, DRAINED)] == [
        STOPPING_GRACEFUL, STOPPING_GRACEFUL, STOPPING, STOPPED]
    assert life.stopping


def test_no_reload_once_stopping_and_no_way_back() -> None:
    for state in (STOPPING, STOPPING_GRACEFUL, STOPPED):
        for event in (GRACEFUL, RESTART):
            assert control.TRANSITIONS[(state, event)] is state
    assert all(control.TRANSITIONS[(STOPPED, e)] is STOPPED for e in Event)
    # a reload ends only in its outcome; RUNNING never drains
    assert (RUNNING, RELOADED) not in control.TRANSITIONS
    assert (RUNNING, DRAINED) not in control.TRANSITIONS


def test_apache_signals() -> None:
    assert control.SIGNAL_EVENTS == {"SIGTERM": STOP, "SIGINT": STOP, "SIGHUP": RESTART,
                                     "SIGUSR1": GRACEFUL, "SIGWINCH": GRACEFUL_STOP}
    assert control.VERB_SIGNALS == {"stop": "SIGTERM", "restart": "SIGHUP",
                                    "graceful": "SIGUSR1", "graceful-stop": "SIGWINCH"}
    if sys.platform != "win32":
        for name in control.SIGNAL_EVENTS:
            assert isinstance(getattr(signal, name), signal.Signals)


@pytest.mark.parametrize(("text", "pid"), [("123\n", 123), (" 7 ", 7), ("", None),
                                           ("x1", None), ("0", None), ("-4", None)])
def test_parse_pid(text: str, pid: int | None) -> None:
    assert parse_pid(text) == pid


NONE, LIVE, STALE = PidStatus(None, False), PidStatus(42, True), PidStatus(42, False)


@pytest.mark.parametrize(("verb", "status", "plan"), [
    # apache2 2.4.71 -k, each checked by hand on this machine
    ("start", NONE, Plan(start=True)),
    ("start", STALE, Plan(start=True)),
    ("start", LIVE, Plan(say="cgihttpd (pid 42) already running")),
    ("stop", NONE, Plan(say="cgihttpd (no pid file) not running")),
    ("stop", STALE, Plan(say="cgihttpd (pid 42?) not running")),
    ("stop", LIVE, Plan(signal="SIGTERM", pid=42)),
    ("graceful-stop", NONE, Plan(say="cgihttpd (no pid file) not running")),
    ("graceful-stop", LIVE, Plan(signal="SIGWINCH", pid=42)),
    ("graceful", LIVE, Plan(signal="SIGUSR1", pid=42)),
    ("graceful", NONE, Plan(say="cgihttpd not running, trying to start", start=True)),
    ("restart", LIVE, Plan(signal="SIGHUP", pid=42)),
    ("restart", STALE, Plan(say="cgihttpd not running, trying to start", start=True)),
])
def test_plan_verb(verb: str, status: PidStatus, plan: Plan) -> None:
    assert plan_verb(verb, status) == plan


def test_unknown_verb() -> None:
    with pytest.raises(ValueError, match="unknown -k verb"):
        plan_verb("reload", NONE)
