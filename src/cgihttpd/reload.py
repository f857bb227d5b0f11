"""Reloading a running server: generations of the application, swapped under the same
listening sockets, and the signals that ask for it.

A *generation* is one configuration's application (an ``App`` and its ``Runtime``:
logs, caches, script slots) and the HTTP settings taken from it. New connections get
the current generation: uvicorn builds each connection's protocol from its
``Config.http_protocol_class`` and ``Config.loaded_app`` when it accepts it, and a
reload replaces both. A connection keeps the generation it was accepted with until it
closes, and its requests run on that generation's runtime; a retired generation is
closed (its log files and piped loggers with it) once its last connection has closed
and its last request has returned.

- graceful (USR1): the new configuration is read and checked as ``-t`` does, the new
  generation serves new connections, the old connections finish what they began and
  then close (``CgiHttpProtocol.retire``); their scripts run to their end. The logs are
  opened afresh by the new generation, which is how a log moved away by logrotate is
  replaced by a new file (no line is lost: the old generation writes its last lines to
  the moved file, the new generation its first to the new one).
- restart (HUP): the same, but the old connections are cut and their requests
  cancelled at once, as Apache's parent kills its children.
- a configuration that fails its check is refused, with its errors in the error log,
  and the old generation goes on serving (Apache's parent would exit).

The listening sockets are never closed: no connection is refused during a reload. A
changed ``Listen`` is not applied until the server is started again (said in the log).
The launcher (warm-Python zygotes, spawner) is process machinery that does not depend
on the configuration: the new runtime takes the old one's, so scripts started from it
keep running. mod_status's counters are carried as Apache's scoreboard is: a graceful
reload keeps them, a restart starts them afresh (``carry_status``).

Must not know how a configuration is read or an application built: the command line
passes ``Rebuild`` (``cli``), which does both and raises on a bad configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cgihttpd import control
from cgihttpd.asgi import Receive, Send
from cgihttpd.config.model import ServerConfig
from cgihttpd.logs.error import ErrorLog, format_error_line

#: the signals that ask for a reload or a graceful stop (TERM and INT are uvicorn's)
CONTROL_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGHUP", "SIGUSR1", "SIGWINCH")
    if hasattr(signal, name))

#: (old application) -> (new configuration, new application); raises ConfigError,
#: ConfigErrors, OSError or StartupError for a configuration that does not pass -t
Rebuild = Callable[[Any], "tuple[ServerConfig, Any]"]
#: (configuration, application) -> the protocol class for its connections
ProtocolFor = Callable[[ServerConfig, Any], type]


class Generation:
    """One configuration's application, as an ASGI app that counts what runs on it."""

    def __init__(self, number: int, config: ServerConfig, app: Any,
                 protocol: type | None = None) -> None:
        self.number = number
        self.config = config
        self.app = app
        #: the application's quick handler (``asgi.QuickHandler``), offered as ours:
        #: what it answers runs to its end at once, so no task is counted for it
        self.quick = getattr(app, "quick", None)
        self.protocol = protocol
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    async def __call__(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)  # type: ignore[no-any-return]
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            await self.app(scope, receive, send)
        finally:
            if task is not None:
                self.tasks.discard(task)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        close = getattr(self.app, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()


def error_log(app: Any) -> Any:
    """The main server's error log of ``app`` (an ``App``'s ``logs.main_errorlog``), or
    None for an application that has none (tests' --app)."""
    logs = getattr(app, "logs", None)
    return getattr(logs, "main_errorlog", None)


def log(app: Any, level: str, module: str, text: str) -> None:
    """A line of the server's own in ``app``'s main error log. Notices are written
    whatever LogLevel says, as Apache's parent writes AH00493/AH00489 (checked with
    apache2 2.4.71 under ``LogLevel crit``)."""
    errlog = error_log(app)
    if errlog is None:
        print(f"cgihttpd: {text}", file=sys.stderr, flush=True)
    elif level == "notice" and isinstance(errlog, ErrorLog):
        errlog.write_line(format_error_line(time.time(), module, level, os.getpid(),
                                            threading.get_native_id(), None, text))
    else:
        errlog.log(level, module, text)


@dataclass(slots=True)
class Generations:
    """The current generation, the retired ones still draining, and the lifecycle."""

    current: Generation
    rebuild: Rebuild | None = None
    protocol_for: ProtocolFor | None = None
    lifecycle: control.Lifecycle = field(default_factory=control.Lifecycle)
    retired: list[Generation] = field(default_factory=list)
    #: signals received and not yet acted on (a signal handler only appends)
    pending: list[int] = field(default_factory=list)
    reloads: int = 0
    #: this process writes the server's own notices (reloads, stops): the only one,
    #: or the first of the workers (``server._run_workers``), as Apache's one parent
    #: writes them however many children it has
    speaker: bool = True

    def say(self, app: Any, level: str, module: str, text: str) -> None:
        """A line of the server's own (``log``), from the speaker only."""
        if self.speaker:
            log(app, level, module, text)

    def all(self) -> Iterator[Generation]:
        yield self.current
        yield from self.retired

    def note_signal(self, sig: int, _frame: object = None) -> None:
        self.pending.append(sig)

    def take_pending(self) -> list[control.Event]:
        """The events of the signals received since the last call, in order."""
        sigs, self.pending[:] = list(self.pending), []
        out = []
        for sig in sigs:
            event = control.SIGNAL_EVENTS.get(signal.Signals(sig).name)
            if event is not None:
                out.append(event)
        return out

    # --- reloading ---------------------------------------------------------------------

    def reload(self, event: control.Event, uv_config: Any, connections: Any) -> bool:
        """Graceful (USR1) or restart (HUP): a new generation for new connections, the
        old one's connections retired or cut. False (and the old generation kept) if
        the new configuration is refused."""
        old = self.current
        self.lifecycle.apply(event)
        from cgihttpd import messages as M

        note = (M.GRACEFUL_RESTART if event is control.GRACEFUL else M.RESTART).note()
        self.say(old.app, note.level, note.module, note.text)
        try:
            if self.rebuild is None:
                raise RuntimeError("this server cannot re-read its configuration")
            config, app = self.rebuild(old.app)
            protocol = (self.protocol_for(config, app) if self.protocol_for is not None
                        else None)
        except Exception as exc:  # noqa: BLE001 - a bad config must not stop the server
            for line in _error_lines(exc):
                self.say(old.app, "error", "core", "reload refused, still serving the previous "
                    f"configuration: {line}")
            self.lifecycle.apply(control.REFUSED)
            return False
        self.reloads += 1
        carry_status(old.app, app, graceful=event is control.GRACEFUL)
        for warning in (*config.warnings, *getattr(getattr(app, "logs", None), "warnings", ())):
            self.say(app, "warn", "core", warning)  # what a start prints on stderr
        new = Generation(old.number + 1, config, app, protocol)
        uv_config.loaded_app = new
        if protocol is not None:
            uv_config.http_protocol_class = protocol
        self.current = new
        self.retired.append(old)
        if set(config.listens) != set(old.config.listens):
            self.say(app, "warn", "core", "reload: a changed Listen takes effect when the "
                "server is started again; still listening on the same sockets")
        for conn in list(connections):
            if getattr(conn, "app", None) is not old:
                continue
            if event is control.GRACEFUL:
                conn.retire()
            else:
                conn.abort()
        if event is control.RESTART:
            for task in list(old.tasks):
                task.cancel()
        done = M.RESUMING.note(server=_software())
        self.say(app, done.level, done.module, done.text)
        self.lifecycle.apply(control.RELOADED)
        return True

    def reap(self, connections: Any) -> None:
        """Close the retired generations that nothing uses any more."""
        if not self.retired:
            return
        used = {id(getattr(c, "app", None)) for c in connections}
        for gen in list(self.retired):
            if not gen.tasks and id(gen) not in used:
                gen.close()
                self.retired.remove(gen)

    def close(self) -> None:
        for gen in list(self.all()):
            gen.close()
        self.retired.clear()


def carry_status(old: Any, new: Any, *, graceful: bool) -> None:
    """mod_status's counters from ``old``'s runtime to ``new``'s (an ``App``, or a
    ``DevReload`` holding one): kept by a graceful reload, afresh after a restart, one
    generation more either way (``StatusCounters.carried``)."""
    before = getattr(getattr(getattr(old, "app", old), "runtime", None), "status", None)
    runtime = getattr(getattr(new, "app", new), "runtime", None)
    if before is None or runtime is None:
        return
    runtime.status = before.carried(graceful=graceful, now=time.time())


def _software() -> str:
    from cgihttpd.banner import server_software

    return server_software("Full")  # ap_get_server_description: always in full


def _error_lines(exc: BaseException) -> list[str]:
    errors = getattr(exc, "errors", None)  # ConfigErrors
    if errors:
        return [str(e) for e in errors]
    if isinstance(exc, OSError):
        return [f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")]
    if isinstance(exc, (ValueError, RuntimeError)) or type(exc).__name__.endswith("Error"):
        return [str(exc) or type(exc).__name__]
    return traceback.format_exception_only(type(exc), exc)


@contextlib.contextmanager
def handling(generations: Generations) -> Iterator[None]:
    """Install the handlers of HUP, USR1 and WINCH (they only note the signal; the
    server acts on it between two ticks). As Apache, whatever the server inherited: a
    server started by ``nohup`` restarts on SIGHUP instead of ignoring it (it survives
    the hangup either way), so that ``-k restart`` works however it was started."""
    previous: dict[signal.Signals, Any] = {}
    for sig in CONTROL_SIGNALS:
        previous[sig] = signal.signal(sig, generations.note_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
