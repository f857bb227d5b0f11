"""The server's lifecycle as Apache's parent process runs it: what each signal and each
``-k`` verb means, and the states a server goes through between start and exit.

    running --GRACEFUL (USR1) / RESTART (HUP)--> reloading --RELOADED / REFUSED--> running
    running --GRACEFUL_STOP (WINCH)--> stopping-graceful --DRAINED--> stopped
    running / reloading / stopping-graceful --STOP (TERM, INT)--> stopping --DRAINED--> stopped

A reload that fails (the new configuration does not pass ``-t``) is REFUSED: the old
configuration keeps serving (Apache's parent would exit instead). A reload or a
graceful stop asked for while stopping is ignored, as Apache's parent ignores it; a
second reload while one runs is ignored too (the reload reads the files as they are
when it runs). Every pair is in ``TRANSITIONS``; an event the table does not list for a
state raises ``LifecycleError`` (tests/unit/test_control.py checks every pair).

Also here: Apache's ``-k`` verbs, the signal each sends (``httpd -k graceful`` is
``kill -USR1``), and what ``-k`` says about the PidFile (mpm_common.c
``ap_signal_server``). Pure: signal *names* in, states and texts out; the server
(``reload``, ``server``, ``cli``) installs the handlers and sends the signals.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType


class State(enum.Enum):
    RUNNING = "running"
    RELOADING = "reloading"
    STOPPING_GRACEFUL = "stopping-graceful"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Event(enum.Enum):
    #: TERM (Apache: stop), INT (the foreground's Ctrl-C)
    STOP = "stop"
    #: HUP: re-read the configuration; requests in flight are cut (Apache kills its
    #: children)
    RESTART = "restart"
    #: USR1: re-read the configuration; requests in flight finish on the old one
    GRACEFUL = "graceful"
    #: WINCH: stop accepting, let requests in flight finish, exit
    GRACEFUL_STOP = "graceful-stop"
    #: the new configuration serves
    RELOADED = "reloaded"
    #: the new configuration failed its check: the old one keeps serving
    REFUSED = "refused"
    #: nothing is left in flight
    DRAINED = "drained"


RUNNING, RELOADING, STOPPING_GRACEFUL, STOPPING, STOPPED = State
STOP, RESTART, GRACEFUL, GRACEFUL_STOP, RELOADED, REFUSED, DRAINED = Event

#: Every allowed (state, event) -> next state. An event that changes nothing is listed
#: as leading back to its state (ignored on purpose), so that a missing pair is a bug.
TRANSITIONS: MappingProxyType[tuple[State, Event], State] = MappingProxyType({
    (RUNNING, GRACEFUL): RELOADING,
    (RUNNING, RESTART): RELOADING,
    (RUNNING, GRACEFUL_STOP): STOPPING_GRACEFUL,
    (RUNNING, STOP): STOPPING,
    (RELOADING, RELOADED): RUNNING,
    (RELOADING, REFUSED): RUNNING,
    (RELOADING, GRACEFUL): RELOADING,
    (RELOADING, RESTART): RELOADING,
    (RELOADING, GRACEFUL_STOP): STOPPING_GRACEFUL,
    (RELOADING, STOP): STOPPING,
    (STOPPING_GRACEFUL, GRACEFUL): STOPPING_GRACEFUL,
    (STOPPING_GRACEFUL, RESTART): STOPPING_GRACEFUL,
    (STOPPING_GRACEFUL, GRACEFUL_STOP): STOPPING_GRACEFUL,
    (STOPPING_GRACEFUL, STOP): STOPPING,
    (STOPPING_GRACEFUL, DRAINED): STOPPED,
    (STOPPING, GRACEFUL): STOPPING,
    (STOPPING, RESTART): STOPPING,
    (STOPPING, GRACEFUL_STOP): STOPPING,
    (STOPPING, STOP): STOPPING,
    (STOPPING, DRAINED): STOPPED,
    **{(STOPPED, event): STOPPED for event in Event},
})

#: The signals Apache's parent handles, by name (they do not all exist on Windows), and
#: the event each is. SIGINT is the foreground's Ctrl-C (Apache with -X or
#: -DFOREGROUND stops on it too).
SIGNAL_EVENTS: MappingProxyType[str, Event] = MappingProxyType({
    "SIGTERM": STOP,
    "SIGINT": STOP,
    "SIGHUP": RESTART,
    "SIGUSR1": GRACEFUL,
    "SIGWINCH": GRACEFUL_STOP,
})

#: ``-k VERB``: the signal each sends to the process named by the PidFile ("start" sends
#: none: it starts a server unless one runs)
VERB_SIGNALS: MappingProxyType[str, str] = MappingProxyType({
    "stop": "SIGTERM",
    "restart": "SIGHUP",
    "graceful": "SIGUSR1",
    "graceful-stop": "SIGWINCH",
})
VERBS = ("start", *VERB_SIGNALS)

#: Apache's default PidFile (DEFAULT_PIDLOG), relative to ServerRoot
DEFAULT_PID_FILE = "logs/httpd.pid"


class LifecycleError(RuntimeError):
    """An event the state does not allow: a bug in the server."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"{event.value} while {state.value}")
        self.state = state
        self.event = event


@dataclass(slots=True)
class Lifecycle:
    """One server process's state; changed only by ``apply``."""

    state: State = RUNNING

    def apply(self, event: Event) -> State:
        """The state after ``event`` (``LifecycleError`` if the table has no such pair)."""
        nxt = TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise LifecycleError(self.state, event)
        self.state = nxt
        return nxt

    @property
    def stopping(self) -> bool:
        return self.state in (STOPPING, STOPPING_GRACEFUL, STOPPED)


@dataclass(frozen=True, slots=True)
class PidStatus:
    """What the PidFile says: no file, a pid that runs, or a pid that does not."""

    pid: int | None
    running: bool

    def describe(self, program: str = "cgihttpd") -> str:
        """ap_signal_server's words for it (checked with apache2 2.4.71 -k)."""
        if self.pid is None:
            return f"{program} (no pid file) not running"
        if self.running:
            return f"{program} (pid {self.pid}) already running"
        return f"{program} (pid {self.pid}?) not running"


def parse_pid(text: str) -> int | None:
    """The pid in a PidFile's text (one decimal line), or None."""
    word = text.strip()
    if not word.isdigit() or int(word) <= 0:
        return None
    return int(word)


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``-k VERB`` does given the PidFile: print ``say`` (if any), send ``signal``
    (a name) to ``pid`` (if any), start a server (``start``); exit with ``status``
    unless it starts one."""

    say: str | None = None
    signal: str | None = None
    pid: int | None = None
    start: bool = False
    status: int = 0


def plan_verb(verb: str, status: PidStatus, program: str = "cgihttpd") -> Plan:
    """mpm_common.c ap_signal_server: ``start`` when one runs says so; ``stop`` and
    ``graceful-stop`` with none running say so; ``restart`` and ``graceful`` with none
    running start one ("not running, trying to start")."""
    if verb not in VERBS:
        raise ValueError(f"unknown -k verb {verb!r}: use one of {', '.join(VERBS)}")
    running = status.running and status.pid is not None
    if verb == "start":
        return Plan(say=status.describe(program)) if running else Plan(start=True)
    if running:
        return Plan(signal=VERB_SIGNALS[verb], pid=status.pid)
    if verb in ("restart", "graceful"):
        return Plan(say=f"{program} not running, trying to start", start=True)
    return Plan(say=status.describe(program))
