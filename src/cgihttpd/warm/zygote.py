"""The warm-Python zygote: a started interpreter that forks one child per CGI request.

Run by ``cgihttpd.warm.launcher`` as ``<interpreter> [shebang flags] zygote.py FD CONFIG``
with the environment a cold run of the script would start with (the PYTHON*, locale,
HOME, TZ and TMPDIR settings of the request), so that the interpreter's own start-up
(flags, ``sys.path``, the locale coercion of PEP 538, stdio encodings) is the one a cold
``<interpreter> [flags] script.py`` would do. ``FD`` is a UNIX stream socket to the
server, ``CONFIG`` the hex of a ``marshal`` of ``{"preload": [...], "env": {...}}``.

Owns everything that happens inside that interpreter: importing the preloaded modules,
compiling scripts (cached by path, mtime and size), forking a child per request and
turning the child into what a cold CGI process is (RFC 3875 §4 meta-variables as its
whole environment, the script's directory as cwd, ``sys.argv``, ``sys.path[0]``, a fresh
``__main__``, fresh stdio on the request's pipes, the signal dispositions of a start
with none ignored, its own session), and reaping the children and reporting their exit status.
Must not know HTTP or the configuration; must run under any Python 3.8+ with the
standard library alone (the script's interpreter need not have cgihttpd installed),
and must stay lean: every module imported here is copied into each fork.

The same program is also the *spawner* of cold scripts: run with no preloads by the
server's own Python, it starts any program with ``posix_spawn`` (vfork and exec), so
that the server's event loop never waits for a child to reach ``exec`` (design.md §5
"Starting a script").

Protocol (both ways): frames of a 4-byte big-endian length and a ``marshal`` (version 4)
payload. Server -> zygote: ``("run", id, script, argv, env, cwd, orig_argv)`` (bytes
everywhere, ``env`` the names and values joined by NULs, or a list of (name, value)
pairs) with the child's stdin, stdout and stderr as SCM_RIGHTS; ``("spawn", id, program, argv, env, cwd, None)`` the same for a
program to exec. Zygote -> server: ``("ready", pid, notes)``, ``("started", id,
pid)``, ``("failed", id, errno, strerror)``, ``("exit", id, returncode)`` (a negative
returncode is the signal that killed the child, as in ``subprocess``).
"""

from __future__ import annotations

import marshal
import os
import select
import sys

if sys.platform == "win32":  # fork, setsid, SCM_RIGHTS, posix_spawn: POSIX's alone
    raise ImportError("the warm-Python zygote runs on POSIX systems only")

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it would be copied into each fork
    import signal
    import socket
    from types import CodeType
    from typing import Any
else:
    # the C modules without their Python wrappers (enum, selectors...): 1.2 MB and 18
    # modules less in every fork, and a sys.modules closer to a cold start's
    import _signal as signal
    import _socket as socket

#: Scripts kept compiled; the cache is emptied when it grows past this.
CODE_CACHE_MAX = 256
#: At most this many requests waiting together are forked one after another.
BATCH_MAX = 8
_HEADER = 4
_MAX_FRAME = 64 << 20


def clean_dispositions(found: dict[int, Any]) -> dict[int, Any]:
    """The dispositions Python's start-up leaves in a process started with every signal
    at its default (SIGPIPE and SIGXFSZ ignored, SIGINT raising KeyboardInterrupt, the
    rest default), given those ``found`` at ours: a signal we inherited ignored, as a
    server started by ``nohup`` or from a background job passes on SIGHUP, SIGINT and
    SIGQUIT, is at its default again, as it is for a program the spawner starts. So a
    warm child does not depend on how the server was started, nor differ from a cold
    run of the same script (which comes from the spawner)."""
    python_ignores = {getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ")
                      if hasattr(signal, name)}
    clean = {}  # type: dict[int, Any]
    for sig, handler in found.items():
        if handler == signal.SIG_IGN and sig not in python_ignores:
            handler = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        clean[sig] = handler
    return clean


class _Request:
    __slots__ = ("op", "rid", "script", "argv", "env", "cwd", "orig_argv", "fds", "code",
                 "environ", "path0", "pipes", "close_to")

    def __init__(self, op: str, rid: int, script: bytes, argv: list[bytes],
                 env: list[tuple[bytes, bytes]], cwd: bytes, orig_argv: list[bytes],
                 fds: list[int]) -> None:
        self.op = op
        self.rid = rid
        self.script = script
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.orig_argv = orig_argv
        self.fds = fds
        self.code: CodeType | BaseException | None = None
        # what the child needs, found by the zygote before the fork (`Zygote.prepare`):
        # work done in the child writes to pages it shares with us, each write a
        # copy-on-write fault
        self.environ: dict[bytes, bytes] = {}
        self.path0: str | None = None
        self.pipes = False
        self.close_to = 0  # the child closes every fd from 3 to this one


class Zygote:
    def __init__(self, ctrl_fd: int, config: dict[str, Any]) -> None:
        self.sock = socket.socket(fileno=ctrl_fd)
        self.sock.setblocking(True)
        os.set_inheritable(ctrl_fd, False)
        # What our own start-up added to the environment we were given (PEP 538 sets
        # LC_CTYPE=C.UTF-8 under the C locale): a cold start adds the same to the script's.
        start_env = config.get("env", {})
        self.added_env = [(os.fsencode(k), os.fsencode(v)) for k, v in os.environ.items()
                          if start_env.get(k) != v]
        # `python zygote.py` put our own directory first on sys.path; a cold run puts the
        # script's there instead (not under -I or -P).
        self.path0 = not (sys.flags.isolated or getattr(sys.flags, "safe_path", False))
        if self.path0 and sys.path:
            del sys.path[0]
        self.signals = {}  # type: dict[int, Any]
        for sig in signal.valid_signals() if hasattr(signal, "valid_signals") else ():
            try:
                self.signals[sig] = signal.getsignal(sig)
            except (OSError, ValueError):
                pass
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, []) \
            if hasattr(signal, "pthread_sigmask") else None
        self.notes = []  # type: list[str]
        preload = config.get("preload", ())
        if preload:
            import warnings

            # a DeprecationWarning at import (cgi) would go to the server's stderr
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for name in preload:
                    try:
                        __import__(name)
                    except BaseException as exc:  # noqa: BLE001 - a preload must not stop us
                        self.notes.append(f"preload {name} failed: {type(exc).__name__}: {exc}")
        self.codes = {}  # type: dict[tuple[bytes, int, int], CodeType | BaseException]
        self.children = {}  # type: dict[int, int]
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        self.on_sigchld = lambda _s, _f: None
        signal.signal(signal.SIGCHLD, self.on_sigchld)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's ^C is not ours
        # what a child must put back: the dispositions of a cold start from a server
        # that ignores nothing (`clean_dispositions`) where a preload or we changed them
        # or where we were started ignoring them (nohup, a background job)
        self.restore = [(sig, handler) for sig, handler in
                        clean_dispositions(self.signals).items()
                        if handler is not None and signal.getsignal(sig) is not handler]
        # a spawned program starts with every signal at its default: what a program
        # started by a server that ignores nothing gets (Python ignores SIGPIPE and
        # SIGXFSZ, subprocess restores them), whatever we inherited (nohup) or a
        # preload or we (SIGINT, SIGCHLD) did here
        self.sigdef = [sig for sig in self.signals
                       if sig not in (signal.SIGKILL, signal.SIGSTOP)]
        self.buf = b""
        self.batch = ()  # type: tuple[list[Any], ...]
        self.pending_fds = []  # type: list[int]
        self.high_fd = _highest_fd()
        # A child's stdio objects, made once here on pipes at fds 0-2 (what every child
        # gets) and inherited by each fork: building them in the child touched ~70 pages
        # of the zygote's heap, each a copy-on-write fault (~0.4 ms of a child's 2 ms).
        self.stdio = _prebuilt_stdio()
        # What a child replaces (sys.argv, stdio, os.environ's dict, __main__, the
        # SIGCHLD handler) stays referenced here, so that the child does not free it:
        # freeing writes to the object's page and its pool's, copy-on-write faults.
        self.replaced = (sys.argv, getattr(sys, "orig_argv", None), sys.stdin, sys.stdout,
                         sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__,
                         getattr(os.environ, "_data", None), sys.modules.get("__main__"))
        # a child is forked with our signal mask: it puts the start's back only if a
        # preload changed it
        if self.mask is not None and signal.pthread_sigmask(signal.SIG_BLOCK, []) == self.mask:
            self.mask = None

    # --- the control channel ---------------------------------------------------------

    def send(self, msg: tuple[Any, ...]) -> None:
        data = marshal.dumps(msg, 4)
        try:
            self.sock.sendall(len(data).to_bytes(_HEADER, "big") + data)
        except OSError:  # the server has gone: so do we
            raise SystemExit(0) from None

    def receive(self) -> _Request | None:
        """The next request (blocking until it is whole), or None at end of input."""
        while True:
            if len(self.buf) >= _HEADER:
                size = int.from_bytes(self.buf[:_HEADER], "big")
                if size > _MAX_FRAME:
                    raise ValueError("frame too large")
                if len(self.buf) >= _HEADER + size:
                    payload = self.buf[_HEADER:_HEADER + size]
                    self.buf = self.buf[_HEADER + size:]
                    msg = marshal.loads(payload)
                    fds, self.pending_fds = self.pending_fds[:3], self.pending_fds[3:]
                    op, rid, script, argv, env, cwd, orig_argv = msg
                    if isinstance(env, bytes):
                        parts = env.split(b"\0") if env else []
                        env = list(zip(parts[0::2], parts[1::2]))  # noqa: B905 - runs on 3.8
                    for fd in fds:  # a spawned program must not inherit them
                        os.set_inheritable(fd, False)
                    return _Request(op, rid, script, argv, env, cwd, orig_argv, fds)
            data, ancdata, _flags, _addr = self.sock.recvmsg(1 << 16, socket.CMSG_SPACE(3 * 4))
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    usable = len(cdata) - len(cdata) % 4
                    self.pending_fds += [int.from_bytes(cdata[i:i + 4], sys.byteorder)
                                         for i in range(0, usable, 4)]
            if not data:
                return None
            self.buf += data

    # --- the loop ----------------------------------------------------------------------

    def serve(self) -> _Request | None:
        """Answer requests until the server goes away (returns None); in a forked child,
        return that child's request."""
        self.send(("ready", os.getpid(), self.notes + self._threads_note()))
        while True:
            try:
                readable, _w, _x = select.select([self.sock.fileno(), self.wake_r], [], [])
            except InterruptedError:  # pragma: no cover - PEP 475 retries
                continue
            if self.wake_r in readable:
                try:
                    while os.read(self.wake_r, 512):
                        pass
                except OSError:
                    pass
            self.reap()
            if self.sock.fileno() in readable:
                batch, more = self.receive_batch()
                child = self.fork_batch(batch)
                if child is not None:
                    return child
                if not more:
                    return None

    def receive_batch(self) -> tuple[list[_Request], bool]:
        """The requests waiting now (blocking for the first), and False once the server
        has gone. Received together so that their forks follow one another with little
        done in between: after each fork, every page we write is a copy-on-write fault,
        and the loop's own work (receiving, compiling, preparing) writes ~100 pages."""
        batch = []  # type: list[_Request]
        while True:
            req = self.receive()
            if req is None:
                return batch, False
            batch.append(req)
            if len(batch) >= BATCH_MAX or not self._waiting():
                return batch, True

    def _waiting(self) -> bool:
        """More of a request is here already (without blocking)."""
        if self.buf:
            return True
        try:
            return bool(self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except OSError:  # EAGAIN: nothing yet
            return False

    def _threads_note(self) -> list[str]:
        try:
            n = len(os.listdir("/proc/self/task"))
        except OSError:
            threading = sys.modules.get("threading")
            n = threading.active_count() if threading is not None else 1  # type: ignore[attr-defined]
        return [f"threads: {n}"] if n > 1 else []

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            rid = self.children.pop(pid, None)
            if rid is not None:
                self.send(("exit", rid, _returncode(status)))

    def compile(self, req: _Request) -> None:
        """The script's code from the cache, or compiled now: in the zygote, so that every
        child of an unchanged script runs without compiling. Compiled from bytes, so a
        coding cookie or BOM is read as a cold run reads it (PEP 263)."""
        path = req.script
        code = None  # type: CodeType | BaseException | None
        try:
            # a bare fd, a file object only to read a script not cached: fewer objects
            # made in the zygote between forks (each page written is a fault)
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                st = os.fstat(fd)
                key = (path, st.st_mtime_ns, st.st_size)
                code = self.codes.get(key)
                if code is None:
                    with open(fd, "rb", closefd=False) as f:
                        source = f.read()
            finally:
                os.close(fd)
        except OSError as exc:
            req.code = exc
            return
        if code is None:
            try:
                code = compile(source, os.fsdecode(path), "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                code = exc
            if len(self.codes) >= CODE_CACHE_MAX:
                self.codes.clear()
            self.codes[key] = code
        req.code = code

    def prepare(self, req: _Request) -> None:
        """What the child of ``req`` will need, found before the fork (in its cwd)."""
        req.env = req.env + self.added_env
        req.environ = dict(req.env)
        if self.path0:
            req.path0 = _script_dir(os.fsdecode(req.script))
        req.pipes = _all_pipes(req.fds)

    def fork_batch(self, batch: list[_Request]) -> _Request | None:
        """Fork a child for each request of ``batch`` (spawn the programs): in a child,
        its request; in the zygote, None once every one has started (or failed). The
        work for all of them is done first, then the forks follow one another."""
        runs = []
        for req in batch:  # in cwd "/": spawn chdirs back there
            if req.op == "spawn":
                self.spawn(req)
            else:
                self.compile(req)
                runs.append(req)
        ready = []
        cwd = None
        for req in runs:
            try:
                # here, so that a bad directory is reported as exec's error
                os.chdir(req.cwd)
                cwd = req.cwd
                self.prepare(req)
            except OSError as exc:
                self._failed(req, exc)
                continue
            ready.append(req)
        # a child closes the fds of the requests forked after it, too
        close_to = max([self.high_fd] + [fd for req in ready for fd in req.fds])
        for req in ready:
            req.close_to = close_to
        started = []  # type: list[tuple[int, int]]
        # referenced here until the next batch: a child unwinding from this call does
        # not free the other requests (each free a write to a page shared with us)
        self.batch = (batch, ready, started)
        for req in ready:
            try:
                if req.cwd != cwd:
                    os.chdir(req.cwd)
                    cwd = req.cwd
                pid = os.fork()
            except OSError as exc:
                self._failed(req, exc)
                continue
            if pid == 0:
                return req
            for fd in req.fds:
                os.close(fd)
            self.children[pid] = req.rid
            started.append((req.rid, pid))
        if cwd is not None:
            os.chdir("/")
        for rid, pid in started:
            self.send(("started", rid, pid))
        return None

    def _failed(self, req: _Request, exc: OSError) -> None:
        for fd in req.fds:
            os.close(fd)
        self.send(("failed", req.rid, exc.errno or 0, exc.strerror or str(exc)))

    def spawn(self, req: _Request) -> None:
        """Start ``req.script`` as a program (the spawner's job): vfork and exec, in a
        session of its own, the request's pipes as its stdio, every other fd closed
        (ours are close-on-exec), every signal at its default and none blocked."""
        try:
            os.chdir(req.cwd)  # posix_spawn has no cwd; this process has one thread
            pid = os.posix_spawn(
                req.script, req.argv, dict(req.env),
                file_actions=[(os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(req.fds)],
                setsid=True, setsigdef=self.sigdef, setsigmask=())
        except OSError as exc:
            self.send(("failed", req.rid, exc.errno or 0, exc.strerror or str(exc)))
            return
        finally:
            for fd in req.fds:
                os.close(fd)
            try:
                os.chdir("/")
            except OSError:  # pragma: no cover
                pass
        self.children[pid] = req.rid
        self.send(("started", req.rid, pid))

    # --- in the child --------------------------------------------------------------------

    def become_child(self, req: _Request) -> None:
        """Leave the zygote behind: session, signals, fds, environment, argv, stdio."""
        os.setsid()  # its own process group: the server kills the group (start_new_session)
        signal.set_wakeup_fd(-1)
        for sig, handler in self.restore:
            try:
                signal.signal(sig, handler)
            except (OSError, ValueError):
                pass
        if self.mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)
        stdin, stdout, stderr = req.fds
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        self.sock.close()
        # every fd above 2: what was open when we were ready, and what came since
        os.closerange(3, max(self.high_fd, req.close_to, *req.fds) + 1)
        _replace_environ(req.env, req.environ)
        sys.argv = [os.fsdecode(a) for a in req.argv]
        if hasattr(sys, "orig_argv"):
            sys.orig_argv = [os.fsdecode(a) for a in req.orig_argv]
        _name_process(req.script)
        if req.path0 is not None:
            sys.path.insert(0, req.path0)
        if self.stdio is not None and req.pipes:
            made = self.stdio
            sys.stdin, sys.stdout, sys.stderr = made
            sys.__stdin__, sys.__stdout__, sys.__stderr__ = made  # type: ignore[misc]
        else:
            _fresh_stdio()


def _name_process(script: bytes) -> None:
    """The process list names the script, not the zygote: Linux's comm (what ``ps -o
    comm``, ``top`` and ``pgrep`` show; 15 bytes) becomes its base name. The command
    line stays the zygote's (rewriting it needs setproctitle, not in the standard
    library). Elsewhere, or if /proc is not there, nothing changes."""
    # os.open/os.write, not open(): a file object is a dozen objects made in the
    # child, each page they land on a copy-on-write fault
    try:
        fd = os.open("/proc/self/comm", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.write(fd, os.path.basename(script)[:15])
    except OSError:
        pass
    finally:
        os.close(fd)


def _returncode(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 255  # pragma: no cover - stopped children are not reported


def _highest_fd() -> int:
    for d in ("/proc/self/fd", "/dev/fd"):
        try:
            return max(int(n) for n in os.listdir(d))
        except (OSError, ValueError):
            continue
    return int(os.sysconf("SC_OPEN_MAX")) if hasattr(os, "sysconf") else 4096


def _replace_environ(pairs: list[tuple[bytes, bytes]], new: dict[bytes, bytes]) -> None:
    """os.environ (and the C environment) becomes exactly ``pairs`` (``new`` is
    ``dict(pairs)``, made by the zygote). The C environment is set pair by pair;
    os.environ and os.environb take ``new`` as their shared dict where they have one
    (MutableMapping.clear() pops one key at a time), else go through the mapping."""
    data = getattr(os.environ, "_data", None)
    if (os.name == "posix" and getattr(os.environb, "_data", None) is data
            and isinstance(data, dict)):
        for k in data:
            os.unsetenv(k)
        for k, v in pairs:
            os.putenv(k, v)
        os.environ._data = os.environb._data = new  # type: ignore[attr-defined]
        return
    env = os.environb
    env.clear()
    for k, v in pairs:
        env[k] = v


def _script_dir(script: str) -> str:
    # As CPython's sys.path[0] for a script: the directory of the file, after following
    # the script's own symlink (not its directories').
    path = script
    for _ in range(40):
        try:
            target = os.readlink(path) if os.path.islink(path) else None
        except OSError:  # gone since islink: as if it were not a link
            target = None
        if target is None:
            break
        path = target if os.path.isabs(target) else os.path.join(os.path.dirname(path), target)
    return os.path.dirname(path)


def _all_pipes(fds: list[int]) -> bool:
    """``fds`` (a child's stdin, stdout, stderr) are pipes (as the server always
    sends): the prebuilt stdio fits them."""
    try:
        return all(os.fstat(fd).st_mode & 0o170000 == 0o010000 for fd in fds)
    except OSError:
        return False


def _prebuilt_stdio() -> list[Any] | None:
    """The stdio objects a child gets, made now on a pipe put at fds 0-2 for the time
    of the building (so that every fact they cache - not seekable, not a tty, the
    pipe's block size - is a pipe's, as in the child), then fds 0-2 put back. They
    hold only the fd numbers, and the zygote never uses them: each child gets its own
    copy with the fork, on its request's pipes. None if fds 0-2 cannot be saved."""
    try:
        saved = [os.dup(fd) for fd in (0, 1, 2)]
    except OSError:
        return None
    r, w = os.pipe()
    try:
        os.dup2(r, 0)
        os.dup2(w, 1)
        os.dup2(w, 2)
        return _make_stdio()
    finally:
        for fd in (0, 1, 2):  # (no zip(strict=): the zygote runs on 3.8)
            os.dup2(saved[fd], fd)
            os.close(saved[fd])
        os.close(r)
        os.close(w)


def _fresh_stdio() -> None:
    """sys.stdin/stdout/stderr on fds 0/1/2 made now (fds 0-2 are not all pipes)."""
    made = _make_stdio()
    sys.stdin, sys.stdout, sys.stderr = made
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = made  # type: ignore[misc]


def _make_stdio() -> list[Any]:
    """Text streams on fds 0/1/2 made as CPython's create_stdio makes them,
    with the encodings and buffering our own start-up chose (same flags, same locale,
    same PYTHONIOENCODING as a cold start of the script)."""
    import io

    made = []
    for fd, mode, name in ((0, "r", "stdin"), (1, "w", "stdout"), (2, "w", "stderr")):
        old = getattr(sys, f"__{name}__")
        raw_mode = mode + "b"
        unbuffered = mode == "w" and old is not None and isinstance(old.buffer, io.FileIO)
        buf: Any = open(fd, raw_mode, buffering=0 if unbuffered else -1, closefd=False)
        raw = buf if unbuffered else buf.raw
        raw.name = f"<{name}>"
        encoding = old.encoding if old is not None else None
        errors = old.errors if old is not None else None
        if name == "stderr":
            errors = "backslashreplace"
        # stderr is line-buffered even on a pipe since 3.9 (bpo-13601)
        line_buffering = (not unbuffered) and (
            raw.isatty() or (name == "stderr" and sys.version_info >= (3, 9)))
        text = io.TextIOWrapper(buf, encoding=encoding, errors=errors,  # type: ignore[arg-type]
                                newline="\n", line_buffering=line_buffering,
                                # as our own (CPython sets it on stdin too)
                                write_through=old.write_through if old is not None
                                else unbuffered)
        text.mode = mode  # type: ignore[misc]
        made.append(text)
    return made


def run_child(zygote: Zygote, req: _Request) -> None:
    """Be the script: a fresh ``__main__``, its code run there, then exit as the
    interpreter would. Never returns."""
    main_globals = globals()
    zygote.become_child(req)
    script = sys.argv[0] if sys.argv else os.fsdecode(req.script)
    filename = os.fsdecode(req.script)
    code = req.code
    if isinstance(code, OSError):
        prog = sys.orig_argv[0] if getattr(sys, "orig_argv", None) else sys.executable
        sys.stderr.write(f"{prog}: can't open file {script!r}: "
                         f"[Errno {code.errno or 0}] {code.strerror}\n")
        _finish(2, None)
    main = type(sys)("__main__")
    # a cold `python script.py` gives __main__ a SourceFileLoader; so do we, also when
    # the zygote itself was given by -c (its own __loader__ is then BuiltinImporter)
    external = sys.modules.get("_frozen_importlib_external")
    loader_type = (external.SourceFileLoader if external is not None  # type: ignore[attr-defined]
                   else type(main_globals["__loader__"]))
    ns = main.__dict__
    ns["__file__"] = filename
    ns["__cached__"] = None
    ns["__builtins__"] = main_globals["__builtins__"]
    ns["__loader__"] = loader_type("__main__", filename)
    ns["__annotations__"] = {}  # as a cold __main__
    sys.modules["__main__"] = main
    status = 0
    try:
        if isinstance(code, BaseException):
            raise code
        assert code is not None
        exec(code, ns)  # noqa: S102 - this is the CGI script, run as `python script.py`
    except SystemExit as exc:
        status = _exit_status(exc)
    except BaseException as exc:  # noqa: BLE001 - print as the interpreter would, and exit 1
        tb = exc.__traceback__
        tb = tb.tb_next if tb is not None else None  # our own frame is not the script's
        if isinstance(code, BaseException):
            tb = None  # a SyntaxError from our compile(): cold runs print no frames
        exc = exc.with_traceback(tb)
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
        if hasattr(sys, "last_exc"):
            sys.last_exc = exc
        try:
            sys.excepthook(type(exc), exc, tb)
        except SystemExit as again:
            status = _exit_status(again)
        else:
            status = -signal.SIGINT if isinstance(exc, KeyboardInterrupt) else 1
        del exc, tb
    _finish(status, ns)


def _exit_status(exc: SystemExit) -> int:
    # pythonrun.c _Py_HandleSystemExit: None is 0, an int is the status, anything else
    # is printed to stderr and the status is 1.
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code if -(1 << 31) <= code < (1 << 31) else -1
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:  # noqa: BLE001, S110
        pass
    return 1


def _finish(status: int, ns: dict[str, Any] | None) -> None:
    """Exit as Py_FinalizeEx would for a script, without tearing the whole heap down
    (each object touched would be a page copied from the zygote): non-daemon threads
    are waited for, atexit handlers run, stdio is flushed (a failed flush of stdout is
    status 120), the script's globals are released so that files it left open are
    flushed and closed; then _exit. A negative status is a signal to die by (SIGINT
    after an uncaught KeyboardInterrupt, as CPython 3.8+)."""
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()  # type: ignore[attr-defined]
        except BaseException:  # noqa: BLE001, S110
            pass
    # a handler is registered through the atexit module: if the script never imported
    # it, there is none to run (importing it here would build a module in every child)
    atexit = sys.modules.get("atexit")
    if atexit is not None:
        try:
            atexit._run_exitfuncs()  # type: ignore[attr-defined]
        except BaseException:  # noqa: BLE001, S110 - atexit prints its own errors
            pass
    if not _flush_stdio():
        status = 120 if status >= 0 else status
    if ns is not None:
        try:
            for name in list(ns):
                if name != "__builtins__":
                    ns[name] = None
        except BaseException:  # noqa: BLE001, S110
            pass
        _flush_stdio()
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        status = 128 - status
    os._exit(status & 0xFF)


def _flush_stdio() -> bool:
    ok = True
    for stream in (sys.stdout, sys.stderr):
        if stream is None or getattr(stream, "closed", False):
            continue
        try:
            stream.flush()
        except Exception as exc:  # noqa: BLE001
            ok = ok and stream is not sys.stdout
            try:
                sys.stderr.write(f"Exception ignored in: {stream!r}\n"
                                 f"{type(exc).__name__}: {exc}\n")
                sys.stderr.flush()
            except Exception:  # noqa: BLE001, S110
                pass
    return ok


def main() -> tuple[Zygote, _Request] | None:
    config = marshal.loads(bytes.fromhex(sys.argv[2]))
    zygote = Zygote(int(sys.argv[1]), config)
    req = zygote.serve()
    return (zygote, req) if req is not None else None


if __name__ == "__main__":
    _got = main()
    if _got is not None:
        run_child(*_got)
