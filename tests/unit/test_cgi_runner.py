"""``SubprocessLauncher``, the cold way to start a script, in each of its modes.

``spawn`` (``subprocess.Popen``, which vfork()s on Linux, reaped through a pidfd) is
what a Linux server uses; ``asyncio`` (the event loop's subprocess support) is the
fallback elsewhere; ``windows`` is the Windows way (asyncio, no session of its own,
argv and environment as text, the script signalled alone), run here as
``CGIHTTPD_PLATFORM=windows`` runs it. All must give the handler the same process:
pipes, exit status (negative for a signal), no inherited descriptors, exec errors as
``OSError``; the POSIX ways a process group of its own. Every run has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import sys
from pathlib import Path

import pytest

from cgihttpd.cgi import runner
from cgihttpd.cgi.runner import LaunchSpec, LoneProcess, SubprocessLauncher
from support import running as _alive

DEADLINE = 20.0
MODES = ("spawn", "asyncio", "windows")


def launcher(mode: str) -> SubprocessLauncher:
    return SubprocessLauncher(windows=True) if mode == "windows" else SubprocessLauncher(mode)


def run(coro_factory):  # type: ignore[no-untyped-def]
    async def bounded():  # type: ignore[no-untyped-def]
        return await asyncio.wait_for(coro_factory(), DEADLINE)

    return asyncio.run(bounded())


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "s.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


async def collect(launcher: SubprocessLauncher, spec: LaunchSpec,
                  stdin: bytes = b"") -> tuple[int, bytes, bytes, int]:
    proc = await launcher.start(spec)
    try:
        proc.stdin.write(stdin)
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # a script that exits before reading its stdin (as the handler allows)
    proc.stdin.close()
    out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
    return await proc.wait(), out, err, proc.pid


def test_linux_starts_scripts_with_popen_and_a_pidfd() -> None:
    """The fast way must not silently fall back where it is available (this machine)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("pidfds are Linux's")
    assert runner.DEFAULT_MODE == "spawn"
    assert SubprocessLauncher().mode == "spawn"


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown launcher mode"):
        SubprocessLauncher("fork")


@pytest.mark.parametrize("mode", MODES)
def test_pipes_environment_cwd_and_status(mode: str, tmp_path: Path) -> None:
    path = script(tmp_path, 'read line; echo "in=$line env=$ONLY pwd=$(pwd)"; '
                            'env | sort >&2; exit 3\n')
    spec = LaunchSpec((path,), (), {"ONLY": "yes", "PATH": "/usr/bin:/bin"}, str(tmp_path))
    rc, out, err, _ = run(lambda: collect(launcher(mode), spec, b"hello\n"))
    assert rc == 3
    assert out.decode() == f"in=hello env=yes pwd={tmp_path}\n"
    # exactly the environment given (sh itself adds PWD, and SHLVL where it likes)
    names = {line.split("=", 1)[0] for line in err.decode().splitlines()}
    assert names - {"PWD", "SHLVL", "_"} == {"ONLY", "PATH"}


@pytest.mark.parametrize("mode", MODES)
def test_own_process_group_no_inherited_fds_and_signal_status(mode: str, tmp_path: Path) -> None:
    opened = os.open(os.devnull, os.O_RDONLY)
    leaked = 77
    os.dup2(opened, leaked)  # inheritable: even so it must not reach the script
    os.close(opened)
    try:
        path = script(tmp_path, "echo \"$(cut -d' ' -f5 /proc/$$/stat) $$\"; ls /proc/$$/fd; kill -9 $$\n")
        spec = LaunchSpec((path,), (), {"PATH": "/usr/bin:/bin"}, str(tmp_path))
        rc, out, _, pid = run(lambda: collect(launcher(mode), spec))
    finally:
        os.close(leaked)
    lines = out.decode().split()
    pgid, own = int(lines[0]), int(lines[1])
    # the Windows way has no session of its own: the script stays in ours
    assert own == pid and pgid == (os.getpgid(0) if mode == "windows" else pid)
    # 0 1 2, the script dash reads (fd 10), ls's own on /proc/$$/fd ... but not ours
    assert {"0", "1", "2"} <= set(lines[2:])
    assert str(leaked) not in lines[2:]
    assert rc == -signal.SIGKILL


@pytest.mark.parametrize("mode", MODES)
def test_exec_failure_is_an_oserror_and_leaks_no_descriptor(mode: str, tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    spec = LaunchSpec((str(tmp_path / "missing"),), (), {}, str(tmp_path))
    with pytest.raises(OSError) as info:
        run(lambda: launcher(mode).start(spec))
    assert info.value.errno == errno.ENOENT
    assert len(os.listdir("/proc/self/fd")) == before


def test_without_a_pidfd_to_spare_a_thread_waits(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """pidfd_open can fail (EMFILE): the exit is then awaited in a thread."""
    def no_pidfd(pid: int, flags: int = 0) -> int:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(runner.platform, "pidfd_open", no_pidfd)
    path = script(tmp_path, "echo done; exit 7\n")
    spec = LaunchSpec((path,), (), {}, str(tmp_path))
    rc, out, _, _ = run(lambda: collect(SubprocessLauncher("spawn"), spec))
    assert (rc, out) == (7, b"done\n")


def test_signals_the_server_inherited_ignored_are_not_passed_to_scripts(
        tmp_path: Path) -> None:
    """A server started under nohup (HUP ignored) or as a background job (INT, QUIT):
    its own launcher starts scripts with those at their default, as the spawner and the
    warm zygotes do. Only in ``spawn`` mode: ``asyncio`` is the fallback elsewhere."""
    spec = LaunchSpec(("/bin/sh", script(tmp_path, "grep '^SigIgn:' /proc/$$/status\n")), (),
                      {"PATH": "/usr/bin:/bin"}, str(tmp_path))
    signals = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)
    before = {s: signal.getsignal(s) for s in signals}
    try:
        for s in signals:
            signal.signal(s, signal.SIG_IGN)
        rc, out, _, _ = run(lambda: collect(SubprocessLauncher("spawn"), spec))
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    assert rc == 0
    mask = int(out.split()[1], 16)
    assert [s for s in signals if mask & (1 << (s - 1))] == []


def test_the_windows_way_only_through_asyncio() -> None:
    assert SubprocessLauncher(windows=True).mode == "asyncio"
    with pytest.raises(ValueError, match="asyncio only"):
        SubprocessLauncher("spawn", windows=True)


@pytest.mark.parametrize("mode", MODES)
def test_environment_bytes_as_each_way_passes_them(mode: str, tmp_path: Path) -> None:
    """POSIX passes the request's bytes; Windows' CreateProcessW takes text, so a byte
    that is not UTF-8 arrives as U+FFFD."""
    path = script(tmp_path, 'cat >/dev/null; printf %s "$ODD"\n')
    spec = LaunchSpec((path,), (), {"ODD": "a\xffb"}, str(tmp_path))
    rc, out, _, _ = run(lambda: collect(launcher(mode), spec))
    assert rc == 0
    assert out == ("a\ufffdb".encode() if mode == "windows" else b"a\xffb")


def test_the_windows_way_kills_the_script_alone_and_nothing_after_its_exit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No process group on Windows: ``kill`` ends the script, what it started lives on
    (the README says so); once the script has exited nothing is signalled, since its
    pid may be another process's by then."""
    path = script(tmp_path, "sleep 60 & echo $$ $!; wait\n")
    spec = LaunchSpec((path,), (), {"PATH": "/usr/bin:/bin"}, str(tmp_path))

    async def go() -> tuple[int, int, int, list[tuple[int, int]]]:
        proc = await SubprocessLauncher(windows=True).start(spec)
        assert isinstance(proc, LoneProcess)
        own, kid = (int(w) for w in (await proc.stdout.read(100)).split())
        proc.kill()
        # the kid holds the pipes: asyncio's wait() waits for them too (3.12, 3.11.x)
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
        rc = await proc.wait()
        await asyncio.sleep(runner.KILL_GRACE + 0.2)  # the killer's second signal, if any
        sent: list[tuple[int, int]] = []
        monkeypatch.setattr(runner.os, "kill", lambda p, s: sent.append((p, s)))
        proc.kill()
        proc.reap_group()
        await asyncio.sleep(0)
        monkeypatch.undo()
        return rc, own, kid, sent

    rc, own, kid, sent = run(go)
    try:
        assert rc == -signal.SIGTERM
        assert _alive(kid)  # the script's own child: not in a group the server signals
        assert sent == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(kid, signal.SIGKILL)  # started by this test's script

