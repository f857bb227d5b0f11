"""A script started for a request without a body (``LaunchSpec.stdin`` False) gets no
stdin pipe: it reads end of file at once, and the server's end is ``NoInput`` (nothing
to write, no descriptor held). A spawned program gets /dev/null, a warm child a pipe
already at its end (its prebuilt stdio is a pipe's); the Windows way keeps its pipe.
With a body, the pipe carries it. Every launcher, every way."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cgihttpd.cgi.runner import LaunchSpec, NoInput, ScriptProcess, SubprocessLauncher

DEADLINE = 20.0
#: what the script says: the type of its stdin, then what it read from it
PROBE = ("import os, stat, sys\n"
         "m = os.fstat(0).st_mode\n"
         "kind = 'fifo' if stat.S_ISFIFO(m) else 'chr' if stat.S_ISCHR(m) else 'other'\n"
         "data = sys.stdin.buffer.read()\n"
         "sys.stdout.write(kind + ' ' + repr(data))\n")


def _launchers() -> Iterator[tuple[str, object]]:
    yield "spawn", SubprocessLauncher("spawn")
    yield "asyncio", SubprocessLauncher("asyncio")
    yield "windows", SubprocessLauncher(windows=True)
    if sys.platform != "win32":
        from cgihttpd.warm.launcher import WarmLauncher

        yield "spawner", WarmLauncher()
        yield "warm", WarmLauncher()


WAYS = ("spawn", "asyncio", "windows", "spawner", "warm")


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest) -> Iterator[tuple[str, object]]:
    launchers = dict(_launchers())
    yield request.param, launchers[request.param]
    for launcher in launchers.values():
        close = getattr(launcher, "close", None)
        if close is not None:
            close()


def _run(launcher: object, spec: LaunchSpec, body: bytes) -> tuple[ScriptProcess, bytes]:
    async def main() -> tuple[ScriptProcess, bytes]:
        proc = await launcher.start(spec)  # type: ignore[attr-defined]
        if body:
            proc.stdin.write(body)
            await proc.stdin.drain()
        proc.stdin.close()
        out, _err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
        await proc.wait()
        return proc, out

    async def bounded() -> tuple[ScriptProcess, bytes]:
        return await asyncio.wait_for(main(), DEADLINE)

    return asyncio.run(bounded())


def _spec(tmp_path: Path, way: str, stdin: bool) -> LaunchSpec:
    path = tmp_path / "probe.py"
    path.write_text(PROBE)
    path.chmod(0o755)
    return LaunchSpec((sys.executable, str(path)), (), {"PATH": "/usr/bin:/bin"},
                      str(tmp_path), warm=way == "warm", stdin=stdin)


def test_no_body_no_pipe(way: tuple[str, object], tmp_path: Path) -> None:
    name, launcher = way
    proc, out = _run(launcher, _spec(tmp_path, name, stdin=False), b"")
    kind = {"spawn": "chr", "spawner": "chr", "warm": "fifo"}.get(name, "fifo")
    assert out.decode() == f"{kind} b''"
    assert isinstance(proc.stdin, NoInput) == (name != "windows" and name != "asyncio")


def test_with_a_body_the_pipe_carries_it(way: tuple[str, object], tmp_path: Path) -> None:
    name, launcher = way
    proc, out = _run(launcher, _spec(tmp_path, name, stdin=True), b"a=1&b=2")
    assert out.decode() == "fifo b'a=1&b=2'"
    assert not isinstance(proc.stdin, NoInput)


def test_no_descriptor_left_behind(tmp_path: Path) -> None:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("counts /proc/self/fd")
    launchers = dict(_launchers())
    try:
        for name in ("spawn", "spawner", "warm"):
            spec = _spec(tmp_path, name, stdin=False)
            _run(launchers[name], spec, b"")  # the zygote is up, /dev/null held
            before = len(os.listdir("/proc/self/fd"))
            for _ in range(5):
                _run(launchers[name], replace(spec), b"")
            assert len(os.listdir("/proc/self/fd")) == before, name
    finally:
        for launcher in launchers.values():
            close = getattr(launcher, "close", None)
            if close is not None:
                close()


def test_no_input_refuses_bytes() -> None:
    with pytest.raises(BrokenPipeError):
        NoInput().write(b"x")
    NoInput().write(b"")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
