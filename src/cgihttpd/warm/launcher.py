"""``WarmLauncher``: run Python CGI scripts in a child forked from a started interpreter.

Owns the server side of warm Python: deciding whether a ``LaunchSpec`` can run warm
(its interpreter is a Python, its #! flags are ones a zygote can take, the platform
has ``fork``), one zygote process per distinct (interpreter, flags, preloads, start-up
environment), started on first use by the serving process - so after ``User``/``Group``
have dropped privileges, and in each worker of its own - restarted when it dies, and
the pipes and exit status that make a warm child look like a ``SubprocessLauncher``
process to the handler. Anything that cannot run warm runs cold, with a log line when
it was meant to run warm. What happens inside the interpreter is ``zygote.py``.
Must not know HTTP or the configuration (the handler fills ``LaunchSpec``).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import itertools
import logging
import marshal
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import weakref
from dataclasses import dataclass
from typing import Any, Final

from cgihttpd.cgi.runner import (
    Launcher,
    LaunchSpec,
    PipedProcess,
    ScriptProcess,
    SubprocessLauncher,
    pipe_ends,
)
from cgihttpd.cgi.shebang import is_python_name

if sys.platform == "win32":  # fork, SCM_RIGHTS: the runtime never composes us there
    raise ImportError("cgihttpd.warm runs on POSIX systems only (see cgihttpd.platform)")

#: The zygote program, shipped in this package and run by the script's interpreter.
ZYGOTE_PATH: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote.py")
#: How long a zygote may take to start and import its preloads.
START_TIMEOUT: Final = 30.0
#: How long the zygote may take to answer a request with the child's pid.
REPLY_TIMEOUT: Final = 10.0
#: After a zygote failed to start, its scripts run cold for this long before a retry.
RETRY_AFTER: Final = 30.0
#: At most this many zygotes per server process; more distinct settings run cold.
MAX_ZYGOTES: Final = 8
#: #! options a zygote takes as its own: one word of single-letter flags that only
#: shape start-up (-u unbuffered, -O/-OO, -B, -s, -S, -E, -I, -b, -P). Anything else
#: (-W ..., -X ..., -c, -m) runs cold.
_FLAGS: Final = re.compile(r"^-[uOBsSEIbP]+$")
#: Variables besides PYTHON* that shape an interpreter's start-up or what its stdlib
#: caches at import: locale (PEP 538/540 and stdio encodings), HOME (user site), TZ
#: (time.tzname), TMPDIR (tempfile.tempdir).
_START_VARS: Final = frozenset({"LANG", "LC_ALL", "LC_CTYPE", "HOME", "TZ", "TMPDIR"})
_CAN_FORK: Final = hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and os.name == "posix"
_HEADER: Final = 4

_log = logging.getLogger("cgihttpd.warm")

Key = tuple[str, tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class WarmPlan:
    """How a spec runs warm: the zygote's key, and what a cold run's argv would have
    had before the script (``sys.orig_argv``)."""

    interpreter: str
    flags: tuple[str, ...]
    prefix: tuple[str, ...]

    def key(self, spec: LaunchSpec) -> Key:
        return (self.interpreter, self.flags, spec.preload, start_environ(spec.env))


def start_environ(env: Any) -> tuple[tuple[str, str], ...]:
    """The part of a script's environment its interpreter's start-up depends on."""
    return tuple(sorted((k, v) for k, v in env.items()
                        if k.startswith("PYTHON") or k in _START_VARS))


def plan_warm(spec: LaunchSpec) -> WarmPlan | None:
    """The warm plan for ``spec``, or None when it runs cold: not a Python, or #!
    options a zygote cannot take."""
    argv = spec.argv
    flags: tuple[str, ...]
    orig: tuple[str, ...]
    if len(argv) == 2:
        interp, flags = argv[0], ()
        orig = argv[0:1]
    elif len(argv) == 3:
        interp, arg = argv[0], argv[1]
        if os.path.basename(interp) == "env" and is_python_name(arg):
            # `#!/usr/bin/env python3`: env finds the Python on the script's PATH
            found = shutil.which(arg, path=spec.env.get("PATH", os.defpath))
            if found is None:
                return None
            interp, flags, orig = found, (), (arg,)
        elif _FLAGS.match(arg):
            flags, orig = (arg,), argv[0:2]
        else:
            return None
    else:
        return None
    if not is_python_name(interp) or not os.path.isabs(interp):
        return None
    return WarmPlan(interp, flags, orig)


class ZygoteGone(Exception):
    """The zygote died or stopped answering before the child was started."""


class _Zygote:
    """One zygote process and its control socket, on one event loop."""

    def __init__(self, key: Key, loop: asyncio.AbstractEventLoop) -> None:
        self.key = key
        self.loop = loop
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.ready: asyncio.Future[list[str]] = loop.create_future()
        self.started: dict[int, asyncio.Future[int]] = {}
        self.exits: dict[int, asyncio.Future[int]] = {}
        self.pids: dict[int, int] = {}
        self.buf = b""
        self.send_lock = asyncio.Lock()
        self.dead = False
        self.on_death: list[Any] = []
        self.pid = 0
        #: /dev/null, read-only, for the stdin of scripts without a request body
        self._devnull = -1

    # --- life ------------------------------------------------------------------------

    async def start(self) -> list[str]:
        """Start the zygote; its notes (failed preloads) once it is ready."""
        interp, flags, preload, start_env = self.key
        program = zygote_program()
        if self.key == SPAWNER_KEY:
            interp, program = _spawner_program()
        env = dict(start_env)
        config = marshal.dumps({"preload": list(preload), "env": env}, 4).hex()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [interp, *flags, *program, str(child.fileno()), config],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env, cwd="/", close_fds=True,
                # not in the server's process group: a ^C on the terminal is the server's
                start_new_session=True)
        except OSError:
            parent.close()
            raise
        finally:
            child.close()
        self.pid = self.proc.pid
        parent.setblocking(False)
        self.sock = parent
        self.loop.add_reader(parent.fileno(), self._readable)
        try:
            return await asyncio.wait_for(asyncio.shield(self.ready), START_TIMEOUT)
        except BaseException:
            self.close()
            raise

    def devnull(self) -> int:
        if self._devnull < 0:
            self._devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        return self._devnull

    def close(self) -> None:
        """Stop: the zygote exits when its control socket closes."""
        if self._devnull >= 0:
            os.close(self._devnull)
            self._devnull = -1
        self._gone()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)
            if proc.poll() is None:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(1.0)

    def _gone(self) -> None:
        if self.dead:
            return
        self.dead = True
        sock, self.sock = self.sock, None
        if sock is not None:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(sock.fileno())
            sock.close()
        gone = ZygoteGone("the warm Python zygote has gone")
        if not self.ready.done():
            self.ready.set_exception(gone)
            self.ready.exception()  # retrieved: nobody may be waiting
        for fut in self.started.values():
            if not fut.done():
                fut.set_exception(gone)
        self.started.clear()
        # Children still running are orphans now: their status is lost; watch them
        # until they are gone so that wait() returns.
        for rid, fut in list(self.exits.items()):
            pid = self.pids.get(rid)
            if pid is not None and not fut.done() and not self.loop.is_closed():
                self.loop.create_task(_watch_orphan(pid, fut))
        self.exits.clear()
        for callback in self.on_death:
            callback(self)

    def status(self) -> str:
        rc = None
        if self.proc is not None:
            # it closed the socket by dying, most likely: let it finish doing so
            with contextlib.suppress(subprocess.TimeoutExpired):
                rc = self.proc.wait(0.2)
        if rc is None:
            return "closed its control socket"
        return f"exited with status {rc}" if rc >= 0 else f"was killed by signal {-rc}"

    # --- the control channel ------------------------------------------------------------

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        try:
            data = sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._gone()
            return
        self.buf += data
        while len(self.buf) >= _HEADER:
            size = int.from_bytes(self.buf[:_HEADER], "big")
            if len(self.buf) < _HEADER + size:
                break
            msg = marshal.loads(self.buf[_HEADER:_HEADER + size])
            self.buf = self.buf[_HEADER + size:]
            self._dispatch(msg)

    def _dispatch(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "ready":
            if not self.ready.done():
                self.ready.set_result(list(msg[2]))
        elif kind == "started":
            fut = self.started.pop(msg[1], None)
            self.pids[msg[1]] = msg[2]
            if fut is not None and not fut.done():
                fut.set_result(msg[2])
        elif kind == "failed":
            fut = self.started.pop(msg[1], None)
            self.exits.pop(msg[1], None)
            if fut is not None and not fut.done():
                fut.set_exception(OSError(msg[2], msg[3]))
        elif kind == "exit":
            done = self.exits.pop(msg[1], None)
            self.pids.pop(msg[1], None)
            if done is not None and not done.done():
                done.set_result(msg[2])

    def _send_now(self, frame: bytes, fds: list[int]) -> int:
        """Send what the socket takes of ``frame`` now, with ``fds``; 0: nothing (it
        would block), and ``_send`` then sends all under the lock."""
        sock = self.sock
        if sock is None:
            raise ZygoteGone("the warm Python zygote has gone")
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        try:
            return sock.sendmsg([frame], rights)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            raise ZygoteGone(str(exc)) from None

    async def _send(self, frame: bytes, fds: list[int]) -> None:
        sock = self.sock
        if sock is None:
            raise ZygoteGone("the warm Python zygote has gone")
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        while True:
            try:
                sent = sock.sendmsg([frame], rights)
                break
            except (BlockingIOError, InterruptedError):
                await _writable(self.loop, sock)
            except OSError as exc:
                raise ZygoteGone(str(exc)) from None
        if sent < len(frame):
            try:
                await self.loop.sock_sendall(sock, frame[sent:])
            except OSError as exc:
                raise ZygoteGone(str(exc)) from None

    # --- a request -------------------------------------------------------------------------

    async def run(self, spec: LaunchSpec, plan: WarmPlan, rid: int) -> ScriptProcess:
        """Fork a child of this warm interpreter that runs the script."""
        script = os.fsencode(spec.argv[-1])
        args = [script, *(a.encode("latin-1") for a in spec.extra_args)]
        return await self._request(
            ("run", rid, script, args, _env_pairs(spec), os.fsencode(spec.cwd),
             [*(os.fsencode(a) for a in plan.prefix), *args]), rid, spec.stdin)

    async def spawn(self, spec: LaunchSpec, rid: int) -> ScriptProcess:
        """Start ``spec``'s program by exec (this zygote is the spawner)."""
        args = [*(os.fsencode(a) for a in spec.argv),
                *(a.encode("latin-1") for a in spec.extra_args)]
        return await self._request(
            ("spawn", rid, args[0], args, _env_pairs(spec), os.fsencode(spec.cwd), None), rid,
            spec.stdin)

    async def _request(self, msg: tuple[Any, ...], rid: int, stdin: bool) -> ScriptProcess:
        """``stdin`` False (no request body): nothing is written to the child's stdin.
        A spawned program gets /dev/null (one descriptor the server keeps open,
        ``devnull``); a warm child a pipe already at its end, as its prebuilt stdio
        was made on pipes (``zygote._all_pipes``)."""
        payload = marshal.dumps(msg, 4)
        frame = len(payload).to_bytes(_HEADER, "big") + payload
        kept = -1
        if stdin:
            in_r, in_w = os.pipe()
        elif msg[0] == "spawn":
            in_r = kept = self.devnull()
            in_w = -1
        else:
            in_r, at_end = os.pipe()
            os.close(at_end)
            in_w = -1
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        started = self.started[rid] = self.loop.create_future()
        exited = self.exits[rid] = self.loop.create_future()
        try:
            try:
                # uncontended and taken whole by the socket (nearly always): no lock
                sent = 0 if self.send_lock.locked() else self._send_now(
                    frame, [in_r, out_w, err_w])
                if sent < len(frame):
                    async with self.send_lock:  # taken at once when it was free
                        await self._send(frame[sent:], [] if sent else [in_r, out_w, err_w])
            finally:
                for fd in (in_r, out_w, err_w):
                    if fd != kept:
                        os.close(fd)
            # a timer on the future rather than wait_for: no task, no shield
            timer = self.loop.call_later(REPLY_TIMEOUT, _time_out, started)
            try:
                pid = await started
            finally:
                timer.cancel()
        except BaseException:
            self.started.pop(rid, None)
            self.exits.pop(rid, None)
            for fd in (in_w, out_r, err_r):
                if fd >= 0:
                    os.close(fd)
            raise
        stdin_end, stdout, stderr = pipe_ends(self.loop, in_w, out_r, err_r)
        # the child called setsid(): its pid is its process group, as a cold script's
        return PipedProcess(pid, stdin_end, stdout, stderr, exited)


def _time_out(fut: asyncio.Future[int]) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())


def _env_pairs(spec: LaunchSpec) -> bytes | list[tuple[bytes, bytes]]:
    """The environment as the zygote takes it: names and values joined by NULs and
    encoded at once (one encode instead of two per variable, a tenth of the server's
    cost of starting a script), or where a NUL is in one of them (the OS refuses it
    anyway) the (name, value) pairs."""
    env = spec.env
    blob = "\0".join(itertools.chain.from_iterable(env.items())).encode("latin-1")
    if blob.count(b"\0") == 2 * len(env) - 1:
        return blob
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in env.items()]


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    fut: asyncio.Future[None] = loop.create_future()
    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    loop.add_writer(sock.fileno(), ready)
    try:
        await fut
    finally:
        loop.remove_writer(sock.fileno())


async def _watch_orphan(pid: int, fut: asyncio.Future[int]) -> None:
    while not fut.done():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:  # the pid was reused by someone else's process
            break
        await asyncio.sleep(0.05)
    if not fut.done():
        fut.set_result(0)  # the status went with the zygote


#: The spawner: a zygote run by the server's own Python, isolated (-I) and without
#: ``site`` (-S, 2 MB less), that starts cold scripts for the server.
SPAWNER_KEY: Final[Key] = (sys.executable, ("-I", "-S"), (), ())


#: zygote.py's text, read at import (before User/Group drop privileges): zygotes run
#: it with -c where the server's user cannot read the checkout.
try:
    with open(ZYGOTE_PATH, encoding="utf-8") as _f:
        _ZYGOTE_SOURCE: str | None = _f.read()
except OSError:  # pragma: no cover - a broken installation
    _ZYGOTE_SOURCE = None


def zygote_program() -> list[str]:
    """How an interpreter is given the zygote: its file, or under ``User``/``Group``
    where the checkout is out of the user's reach, its text with -c."""
    if os.access(ZYGOTE_PATH, os.R_OK) or _ZYGOTE_SOURCE is None:
        return [ZYGOTE_PATH]
    return ["-c", _ZYGOTE_SOURCE]


def _spawner_program() -> tuple[str, list[str]]:
    """The spawner's interpreter and program. Under ``User www-data`` the Python running
    the server may live where that user cannot go (pyenv under /root, mode 0700), and
    so may zygote.py: then Debian's python3 runs the program text given with -c (the
    spawner only execs other programs, so which Python runs it does not matter)."""
    interp = sys.executable
    if not os.access(interp, os.X_OK):
        interp = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or interp
    return interp, zygote_program()


def _what(key: Key) -> str:
    return f"the script spawner ({key[0]})" if key == SPAWNER_KEY else f"warm Python for {key[0]}"


class WarmLauncher:
    """The ``Launcher`` of the server: Python scripts forked from a warm interpreter
    where they can be, every other script started by exec from the spawner, and what
    neither can do started by ``cold`` in the server itself."""

    def __init__(self, cold: Launcher | None = None, *, spawner: bool = True) -> None:
        self.cold: Launcher = cold if cold is not None else SubprocessLauncher()
        self.spawner = spawner and _CAN_FORK and hasattr(os, "posix_spawn")
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Key, _Zygote]] = (
            weakref.WeakKeyDictionary())
        self._starting: dict[Key, asyncio.Task[_Zygote | None]] = {}
        self._cold_until: dict[Key, float] = {}
        self._said: set[str] = set()
        self._ids = itertools.count(1)
        #: the last event loop's pool: a request finds it without a weak-keyed lookup
        self._last: tuple[asyncio.AbstractEventLoop, dict[Key, _Zygote]] | None = None

    def _pool(self, loop: asyncio.AbstractEventLoop) -> dict[Key, _Zygote] | None:
        last = self._last
        if last is not None and last[0] is loop:
            return last[1]
        pool = self._pools.get(loop)
        if pool is not None:
            self._last = (loop, pool)
        return pool

    async def start(self, spec: LaunchSpec) -> ScriptProcess:
        plan = plan_warm(spec) if spec.warm else None
        if plan is None:
            return await self._start_cold(spec)
        if not _CAN_FORK:  # pragma: no cover - Windows
            self._say_once(spec, "no-fork", "warn", "CGIWarmPython: this platform has no "
                           "fork(); Python scripts run cold")
            return await self.cold.start(spec)
        zygote = await self._zygote(plan.key(spec), spec)
        if zygote is not None:
            try:
                return await zygote.run(spec, plan, next(self._ids))
            except (ZygoteGone, asyncio.TimeoutError) as exc:
                _notify(spec, "error", f"warm Python for {plan.interpreter} (pid "
                        f"{zygote.pid}) failed to start {spec.argv[-1]} ({exc or 'timeout'}); "
                        "running it cold")
                zygote.close()
        return await self._start_cold(spec)

    async def _start_cold(self, spec: LaunchSpec) -> ScriptProcess:
        """A fresh process for the script: from the spawner, or failing that from here."""
        if self.spawner:
            # any zygote can spawn (exec leaves nothing of it): one already up saves
            # the spawner's 9 MB on a site that runs Python scripts warm anyway
            zygote = self._running_zygote() or await self._zygote(SPAWNER_KEY, spec)
            if zygote is not None:
                try:
                    return await zygote.spawn(spec, next(self._ids))
                except (ZygoteGone, asyncio.TimeoutError) as exc:
                    _notify(spec, "error", f"the script spawner (pid {zygote.pid}) failed to "
                            f"start {spec.argv[0]} ({exc or 'timeout'}); starting it here")
                    zygote.close()
        return await self.cold.start(spec)

    def _running_zygote(self) -> _Zygote | None:
        """A live zygote of this event loop, the spawner first."""
        pool = self._pool(asyncio.get_running_loop())
        if not pool:
            return None
        spawner = pool.get(SPAWNER_KEY)
        if spawner is not None and not spawner.dead:
            return spawner
        return next((z for z in pool.values() if not z.dead), None)

    async def _zygote(self, key: Key, spec: LaunchSpec) -> _Zygote | None:
        loop = asyncio.get_running_loop()
        pool = self._pool(loop)
        if pool is None:
            self._close_stale()
            pool = self._pools[loop] = {}
            self._last = (loop, pool)
        got = pool.get(key)
        if got is not None and not got.dead:
            return got
        if self._cold_until.get(key, 0.0) > time.monotonic():
            return None
        if got is None and len(pool) >= MAX_ZYGOTES:
            self._say_once(spec, "max", "warn", f"CGIWarmPython: already {MAX_ZYGOTES} warm "
                           f"interpreters; {key[0]} with other settings runs cold")
            return None
        task = self._starting.get(key)
        if task is None or task.get_loop() is not loop:
            task = self._starting[key] = loop.create_task(self._start_zygote(key, pool, spec))
        try:
            return await asyncio.shield(task)
        finally:
            if task.done() and self._starting.get(key) is task:
                del self._starting[key]

    async def _start_zygote(self, key: Key, pool: dict[Key, _Zygote],
                            spec: LaunchSpec) -> _Zygote | None:
        what = _what(key)
        zygote = _Zygote(key, asyncio.get_running_loop())
        try:
            notes = await zygote.start()
        except (OSError, ZygoteGone, asyncio.TimeoutError) as exc:
            reason = zygote.status() if isinstance(exc, ZygoteGone) else (str(exc) or "timeout")
            self._cold_until[key] = time.monotonic() + RETRY_AFTER
            if key == SPAWNER_KEY:
                # only slower, never wrong: said once, tried again every RETRY_AFTER
                self._say_once(spec, "spawner", "warn", f"{what} cannot start ({reason}); "
                               "scripts start from the server itself")
                return None
            _notify(spec, "error", f"{what} cannot start ({reason}); its scripts run cold "
                    f"for {RETRY_AFTER:.0f} s")
            return None
        for note in notes:
            _notify(spec, "warn", f"{what}: {note}")
        if any(note.startswith("threads:") for note in notes):
            # forking a process with threads copies their locks in whatever state
            _notify(spec, "error", f"{what} has threads after its preloads; its scripts "
                    "run cold")
            zygote.close()
            self._cold_until[key] = float("inf")
            return None
        old = pool.get(key)
        if old is not None:
            _notify(spec, "warn", f"{what} (pid {old.pid}) {old.status()}; "
                    f"restarted as pid {zygote.pid}")
        notify = spec.notify

        def died(z: _Zygote) -> None:
            if pool.get(key) is z:
                message = (f"{what} (pid {z.pid}) {z.status()}; "
                           "it restarts on the next request")
                if notify is not None:
                    notify("warn", message)
                else:
                    _log.warning("%s", message)

        zygote.on_death.append(died)
        pool[key] = zygote
        return zygote

    def _say_once(self, spec: LaunchSpec, what: str, level: str, message: str) -> None:
        if what not in self._said:
            self._said.add(what)
            _notify(spec, level, message)

    def interpreters(self) -> list[tuple[str, int]]:
        """The live warm interpreters and spawners of every event loop: (what, pid),
        for the status page."""
        return [(_what(z.key), z.pid) for pool in list(self._pools.values())
                for z in list(pool.values()) if not z.dead and z.pid]

    def close(self) -> None:
        """Stop every zygote (each also stops by itself when the server exits)."""
        for pool in list(self._pools.values()):
            _close_pool(pool)
        self._pools.clear()
        self._last = None

    def _close_stale(self) -> None:
        """Zygotes of event loops that have been closed (one ``asyncio.run`` after
        another) can serve nobody: stop them."""
        for loop, pool in list(self._pools.items()):
            if loop.is_closed():
                _close_pool(pool)
                del self._pools[loop]
        if self._last is not None and self._last[0].is_closed():
            self._last = None


def _close_pool(pool: dict[Key, _Zygote]) -> None:
    for zygote in list(pool.values()):
        zygote.on_death.clear()
        zygote.close()
    pool.clear()


def _notify(spec: LaunchSpec, level: str, message: str) -> None:
    if spec.notify is not None:
        spec.notify(level, message)
    else:
        _log.warning("%s", message)


__all__ = ["WarmLauncher", "WarmPlan", "ZygoteGone", "plan_warm", "start_environ"]
