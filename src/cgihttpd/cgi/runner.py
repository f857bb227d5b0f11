"""The one seam that starts a script process.

Owns: turning a ``LaunchSpec`` (what to run, argv, environment, working directory)
into a running ``ScriptProcess`` with three pipes, in a process group of its own so
that a timeout or a client that goes away kills the script *and* everything it
started (on POSIX; Windows has no group to signal: ``LoneProcess``). How many run at
once is ``cgihttpd.cgi.queue``'s. What differs between the platforms is
``cgihttpd.platform``'s.

``SubprocessLauncher`` is the cold launcher: the server starts the script itself. The
warm launcher (``cgihttpd.warm.launcher``: Python scripts forked from a pre-started
interpreter, others exec'd by the spawner) implements the same ``Launcher`` protocol
in front of it; the runtime (``cgihttpd.runtime``) composes the two, and the handler
and every test only see this seam. Must not know HTTP, the configuration or CGI
variables (the handler and ``environ`` do).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from cgihttpd import platform
from cgihttpd.cgi.pipes import PipeReader, PipeWriter

#: Pipe buffer handed to asyncio's readers (per stream).
STREAM_LIMIT: Final = 1 << 16
#: After SIGTERM, how long a process group gets before SIGKILL (mod_cgid's
#: cleanup_script gives 3 s; a client that went away should not wait that long).
KILL_GRACE: Final = 0.5


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """What to start. ``argv`` are filesystem strings (interpreter, options, script);
    ``extra_args`` (ISINDEX words) and ``env`` are latin-1 views of bytes (see
    ``environ``). ``warm``: a Python script may run in a warm interpreter
    (CGIWarmPython), which first imports ``preload`` (CGIWarmPreload); ``notify(level,
    message)`` takes a launcher's error-log lines (a zygote that died, a fallback)."""

    argv: tuple[str, ...]
    extra_args: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str
    warm: bool = False
    preload: tuple[str, ...] = ()
    notify: Callable[[str, str], None] | None = field(default=None, compare=False)
    #: the request has a body for the script's stdin; False: stdin is /dev/null (it
    #: reads the same end of file at once) and no pipe is made for it. The Windows way
    #: always makes the pipe.
    stdin: bool = True


class ScriptOutput(Protocol):
    """The server's end of a script's stdout or stderr."""

    async def read(self, n: int = -1, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes (``n`` < 0: all to the end), b"" at the end; raises
        ``asyncio.TimeoutError`` when nothing came within ``timeout`` seconds."""

    def ready(self) -> bool:
        """Whether ``read`` would return without waiting."""

    def consume(self, callback: Callable[[bytes], None]) -> asyncio.Future[None]:
        """Give each chunk to ``callback`` as it comes, b"" at the end (instead of
        ``read``); the future is done at the end."""

    def close(self) -> None:
        """Stop reading; drop what was not read."""


class ScriptInput(Protocol):
    """The server's end of a script's stdin."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None:
        """Wait until the pipe took what was written; ``BrokenPipeError`` if the script
        closed its end."""

    def close(self) -> None: ...


class ScriptProcess(Protocol):
    @property
    def pid(self) -> int: ...

    @property
    def stdin(self) -> ScriptInput: ...

    @property
    def stdout(self) -> ScriptOutput: ...

    @property
    def stderr(self) -> ScriptOutput: ...

    def wait(self) -> Awaitable[int]:
        """Its exit status, once it has exited (a future where it can be: waiting on
        it with ``wait_for`` then needs no task)."""

    def kill(self) -> None:
        """Stop the script and its whole process group (idempotent)."""

    def reap_group(self) -> None:
        """After the script exited: kill whatever it left running in its group."""

    @property
    def returncode(self) -> int | None: ...


class Launcher(Protocol):
    async def start(self, spec: LaunchSpec) -> ScriptProcess: ...


def _encode_as_text(spec: LaunchSpec) -> tuple[list[str], dict[str, str]]:
    """Windows' way: CreateProcessW takes text, so the environment's bytes (latin-1
    views, see ``environ``) are read as UTF-8, and argv goes as given."""
    env = {k: v.encode("latin-1").decode("utf-8", "replace") for k, v in spec.env.items()}
    return [*spec.argv, *spec.extra_args], env


if sys.platform == "win32":
    _encode_for_exec = _encode_as_text
else:
    def _encode_for_exec(spec: LaunchSpec) -> tuple[list[bytes], dict[bytes, bytes]]:
        """POSIX's way: execve takes bytes, exactly those of the request."""
        args = [os.fsencode(a) for a in spec.argv]
        args += [a.encode("latin-1") for a in spec.extra_args]
        env = {k.encode("latin-1"): v.encode("latin-1") for k, v in spec.env.items()}
        return args, env


def kill_group(pid: int, wait: Callable[[], Awaitable[int]]) -> asyncio.Task[None]:
    """Stop a script's process group (its pid is the group: start_new_session/setsid):
    SIGTERM now, SIGKILL after KILL_GRACE unless ``wait`` returned first. The one kill of
    both launchers, cold and warm. Returns the task that finishes the job."""
    _signal_group(pid, signal.SIGTERM)

    async def finish() -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wait(), KILL_GRACE)
        # The leader may be gone while children it started still hold the group.
        _signal_group(pid, platform.KILL)

    return asyncio.get_running_loop().create_task(finish())


@dataclass(slots=True)
class PipedProcess:
    """A script process as the handler sees it: the server's ends of its three pipes
    and a future of its exit status (a ``waitpid``-style code: negative for a signal).
    Its pid is its process group (it was started in a session of its own)."""

    pid: int
    stdin: ScriptInput
    stdout: ScriptOutput
    stderr: ScriptOutput
    _exit: asyncio.Future[int]
    _killer: asyncio.Task[None] | None = field(default=None)

    def wait(self) -> Awaitable[int]:
        return asyncio.shield(self._exit)

    @property
    def returncode(self) -> int | None:
        return self._exit.result() if self._exit.done() else None

    def kill(self) -> None:
        if self._killer is None:
            self._killer = kill_group(self.pid, self.wait)

    def reap_group(self) -> None:
        """After the script has exited: kill what it left behind in its group."""
        _signal_group(self.pid, platform.KILL)


@dataclass(slots=True)
class LoneProcess(PipedProcess):
    """A script started the Windows way: it leads no process group that a signal
    reaches whole (Windows has none to signal), so ``kill`` ends the script alone and
    what it started lives on; and nothing is signalled once it has exited, when its
    pid may already be another process's."""

    def kill(self) -> None:
        if self._killer is None and not self._exit.done():
            self._killer = _kill_alone(self.pid, self.wait)

    def reap_group(self) -> None:
        pass


def _kill_alone(pid: int, wait: Callable[[], Awaitable[int]]) -> asyncio.Task[None]:
    """SIGTERM now (TerminateProcess on Windows), the uncatchable signal after
    KILL_GRACE if it still runs."""
    _signal_process(pid, signal.SIGTERM)

    async def finish() -> None:
        try:
            await asyncio.wait_for(wait(), KILL_GRACE)
        except asyncio.TimeoutError:
            _signal_process(pid, platform.KILL)

    return asyncio.get_running_loop().create_task(finish())


def _signal_process(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


@dataclass(slots=True)
class _StreamOutput:
    """A ``StreamReader`` as a ``ScriptOutput``."""

    reader: asyncio.StreamReader

    async def read(self, n: int = -1, timeout: float | None = None) -> bytes:
        if timeout is None:
            return await self.reader.read(n)
        return await asyncio.wait_for(self.reader.read(n), max(timeout, 0.0))

    def ready(self) -> bool:
        return bool(getattr(self.reader, "_buffer", b"")) or self.reader.at_eof()

    def consume(self, callback: Callable[[bytes], None]) -> asyncio.Future[None]:
        async def pump() -> None:
            while data := await self.reader.read(STREAM_LIMIT):
                callback(data)
            callback(b"")

        return asyncio.get_running_loop().create_task(pump())

    def close(self) -> None:
        transport = getattr(self.reader, "_transport", None)
        if transport is not None:
            transport.close()


def _signal_group(pid: int, sig: int) -> None:
    try:
        platform.signal_group(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class NoInput:
    """The stdin end of a script given /dev/null (``LaunchSpec.stdin`` False): there is
    nothing to write, and so nothing to close."""

    __slots__ = ()

    def write(self, data: bytes) -> None:
        if data:
            raise BrokenPipeError("the script's stdin is /dev/null")

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass


def pipe_ends(loop: asyncio.AbstractEventLoop, in_w: int, out_r: int, err_r: int,
              ) -> tuple[ScriptInput, PipeReader, PipeReader]:
    """The server's ends of a script's pipes, on ``loop``; they own the fds. ``in_w``
    < 0: no stdin pipe (``NoInput``)."""
    stdin: ScriptInput = PipeWriter(loop, in_w) if in_w >= 0 else NoInput()
    return stdin, PipeReader(loop, out_r), PipeReader(loop, err_r)


#: How SubprocessLauncher starts scripts here: "spawn" (subprocess.Popen, which
#: vfork()s on Linux, reaped through a pidfd) or "asyncio" (the event loop's own
#: subprocess support: Windows, macOS, Linux before 5.3).
DEFAULT_MODE: Final = "spawn" if platform.HAS_PIDFD else "asyncio"


class SubprocessLauncher:
    """Start a script in a new session (so its pid is its process group id) with
    stdin/stdout/stderr pipes and every other fd closed.

    ``mode="spawn"`` starts it with ``subprocess.Popen``, which on Linux uses
    ``vfork()``: its cost does not grow with the server's memory, where uvloop's
    ``uv_spawn`` ``fork()``s the whole server and the script then pays a copy-on-write
    fault for every page it touches before ``exec`` (design.md §5 "Starting a
    script"). The exit is awaited on a pidfd. ``mode="asyncio"`` is the event loop's
    own subprocess support, for platforms without pidfds.

    ``windows=True`` (the default on Windows, and what ``CGIHTTPD_PLATFORM=windows``
    gives a POSIX server, see ``platform``) starts it the Windows way, always through
    asyncio: no session of its own (CREATE_NEW_PROCESS_GROUP where that exists), argv
    and environment as text, and a ``LoneProcess`` that signals the script alone."""

    def __init__(self, mode: str | None = None, *,
                 windows: bool = sys.platform == "win32") -> None:
        if mode is None:
            mode = "asyncio" if windows else DEFAULT_MODE
        if mode not in ("spawn", "asyncio"):
            raise ValueError(f"unknown launcher mode {mode!r}")
        if windows and mode != "asyncio":
            raise ValueError("the Windows way starts scripts through asyncio only")
        self.mode = mode
        self.windows = windows
        # chosen here, so that a request pays no test for it
        self._start: Callable[[LaunchSpec], Awaitable[ScriptProcess]] = (
            _start_windows if windows else _spawn if mode == "spawn" else _start_asyncio)

    async def start(self, spec: LaunchSpec) -> ScriptProcess:
        return await self._start(spec)


#: Signals a server may have inherited ignored (nohup: HUP; a background job: INT, QUIT)
#: that exec would pass on to a script. The spawner and the warm zygotes start scripts
#: with every signal at its default (design.md §8); the server's own launcher does too.
_RESETTABLE: Final = tuple(getattr(signal, name) for name in (
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGTTIN",
    "SIGTTOU", "SIGTSTP") if hasattr(signal, name))


def _inherited_ignores() -> tuple[int, ...]:
    """The signals ignored now (a caught one is reset by exec anyway)."""
    return tuple(s for s in _RESETTABLE if signal.getsignal(s) is signal.SIG_IGN)


def _default_dispositions(signals: tuple[int, ...]) -> Callable[[], None]:
    def reset() -> None:  # runs in the child, between fork and exec
        for sig in signals:
            signal.signal(sig, signal.SIG_DFL)

    return reset


async def _spawn(spec: LaunchSpec) -> ScriptProcess:
    loop = asyncio.get_running_loop()
    args, env = _encode_for_exec(spec)
    # no body: /dev/null, which Popen opens and closes itself
    in_r, in_w = os.pipe() if spec.stdin else (subprocess.DEVNULL, -1)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        try:
            ignored = _inherited_ignores()
            proc = subprocess.Popen(  # noqa: S603 - the argv is the script's, by design
                args, stdin=in_r, stdout=out_w, stderr=err_w, cwd=spec.cwd, env=env,
                close_fds=True, start_new_session=True,
                # rare (a server started under nohup): costs vfork, so only then
                preexec_fn=_default_dispositions(ignored) if ignored else None)
        finally:
            for fd in (in_r, out_w, err_w):
                if fd >= 0:
                    os.close(fd)
    except BaseException:
        for fd in (in_w, out_r, err_r):
            if fd >= 0:
                os.close(fd)
        raise
    exited: asyncio.Future[int] = loop.create_future()
    _await_exit(loop, proc, exited)
    stdin, stdout, stderr = pipe_ends(loop, in_w, out_r, err_r)
    return PipedProcess(proc.pid, stdin, stdout, stderr, exited)


def _await_exit(loop: asyncio.AbstractEventLoop, proc: subprocess.Popen[bytes],
                exited: asyncio.Future[int]) -> None:
    """Resolve ``exited`` with the process's status once it has exited: a pidfd turns
    readable (the process stays a zombie until ``poll`` reaps it, so the pid cannot be
    reused meanwhile). Without a pidfd to spare (EMFILE), a thread waits instead."""
    try:
        pidfd = platform.pidfd_open(proc.pid)
    except OSError:
        # the executor holds the waiting future until the thread is done with it
        def waited(done: asyncio.Future[int]) -> None:
            if not exited.done() and not done.cancelled():
                if done.exception() is not None:
                    exited.set_exception(done.exception())  # type: ignore[arg-type]
                else:
                    exited.set_result(done.result())

        loop.run_in_executor(None, proc.wait).add_done_callback(waited)
        return

    def readable() -> None:
        rc = proc.poll()
        if rc is None:  # pragma: no cover - a pidfd is readable only once it exited
            return
        loop.remove_reader(pidfd)
        os.close(pidfd)
        if not exited.done():
            exited.set_result(rc)

    loop.add_reader(pidfd, readable)


async def _start_asyncio(spec: LaunchSpec) -> ScriptProcess:
    args, env = _encode_for_exec(spec)
    proc = await _loop_subprocess(args, env, spec.cwd, start_new_session=True)
    return _piped(proc, PipedProcess)


async def _start_windows(spec: LaunchSpec) -> ScriptProcess:
    """The Windows way (see ``SubprocessLauncher``); on POSIX, the test mode's."""
    args, env = _encode_as_text(spec)
    proc = await _loop_subprocess(args, env, spec.cwd,
                                  creationflags=platform.NEW_GROUP_FLAGS)
    return _piped(proc, LoneProcess)


async def _loop_subprocess(args: Sequence[Any], env: Mapping[Any, Any], cwd: str,
                           **flags: Any) -> asyncio.subprocess.Process:
    """The event loop's subprocess with three pipes, every other fd closed."""
    return await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=cwd, env=env, limit=STREAM_LIMIT,
        close_fds=True, **flags)


def _piped(proc: asyncio.subprocess.Process, kind: type[PipedProcess]) -> PipedProcess:
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    # the same process object as the other ways: its exit a future (here a task)
    exited = asyncio.get_running_loop().create_task(proc.wait())
    return kind(proc.pid, proc.stdin, _StreamOutput(proc.stdout),
                _StreamOutput(proc.stderr), exited)


__all__ = [
    "DEFAULT_MODE", "LaunchSpec", "Launcher", "LoneProcess", "NoInput", "PipedProcess",
    "ScriptProcess", "SubprocessLauncher", "pipe_ends",
]
