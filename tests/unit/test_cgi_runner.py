"""``SubprocessLauncher``, the cold way to start a script, in both of its modes.

``spawn`` (``subprocess.Popen``, which vfork()s on Linux, reaped through a pidfd) is
what a Linux server uses; ``asyncio`` (the event loop's subprocess support) is the
fallback elsewhere. Both must give the handler the same process: pipes, exit status
(negative for a signal), a process group of its own, no inherited descriptors, exec
errors as ``OSError``. Every run has a deadline.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from pathlib import Path

import pytest

from cgihttpd.cgi import runner
from cgihttpd.cgi.runner import LaunchSpec, SubprocessLauncher

DEADLINE = 20.0
MODES = ("spawn", "asyncio")


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
    proc.stdin.write(stdin)
    await proc.stdin.drain()
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
    rc, out, err, _ = run(lambda: collect(SubprocessLauncher(mode), spec, b"hello\n"))
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
        rc, out, _, pid = run(lambda: collect(SubprocessLauncher(mode), spec))
    finally:
        os.close(leaked)
    lines = out.decode().split()
    pgid, own = int(lines[0]), int(lines[1])
    assert own == pid and pgid == pid
    # 0 1 2, the script dash reads (fd 10), ls's own on /proc/$$/fd ... but not ours
    assert {"0", "1", "2"} <= set(lines[2:])
    assert str(leaked) not in lines[2:]
    assert rc == -signal.SIGKILL


@pytest.mark.parametrize("mode", MODES)
def test_exec_failure_is_an_oserror_and_leaks_no_descriptor(mode: str, tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    spec = LaunchSpec((str(tmp_path / "missing"),), (), {}, str(tmp_path))
    with pytest.raises(OSError) as info:
        run(lambda: SubprocessLauncher(mode).start(spec))
    assert info.value.errno == errno.ENOENT
    assert len(os.listdir("/proc/self/fd")) == before


def test_without_a_pidfd_to_spare_a_thread_waits(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """pidfd_open can fail (EMFILE): the exit is then awaited in a thread."""
    def no_pidfd(pid: int, flags: int = 0) -> int:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(runner.os, "pidfd_open", no_pidfd)
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
