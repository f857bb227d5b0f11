"""How much starting a script costs the process that starts it, by way of starting.

    .venv/bin/python scripts/bench_spawn.py [uvloop|asyncio] [N]

Spawns a /bin/sh hello N times (default 300) from a process made 40 MB big (as the
server is), reading its stdout and awaiting its exit, with asyncio's
``create_subprocess_exec`` and with ``subprocess.Popen`` reaped through a pidfd (what
``SubprocessLauncher`` does); prints the parent's and the children's CPU per spawn.
The figures in docs/design.md §5 "Starting a script" come from this.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

ENV = {"PATH": "/usr/bin:/bin"}


async def with_asyncio(script: str, cwd: str) -> None:
    p = await asyncio.create_subprocess_exec(
        script, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=cwd, env=ENV, start_new_session=True,
        close_fds=True)
    assert p.stdin is not None and p.stdout is not None
    p.stdin.close()
    await p.stdout.read()
    await p.wait()


async def with_popen(script: str, cwd: str) -> None:
    loop = asyncio.get_running_loop()
    p = subprocess.Popen([script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=cwd, env=ENV, start_new_session=True,
                         close_fds=True)
    assert p.stdin is not None and p.stdout is not None and p.stderr is not None
    p.stdin.close()
    exited: asyncio.Future[None] = loop.create_future()
    pidfd = os.pidfd_open(p.pid)
    loop.add_reader(pidfd, lambda: exited.done() or exited.set_result(None))
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), p.stdout)
    await reader.read(-1)
    await exited
    loop.remove_reader(pidfd)
    os.close(pidfd)
    p.wait()
    p.stderr.close()


async def measure(name: str, way: Callable[[str, str], Awaitable[None]], script: str,
                  cwd: str, n: int) -> None:
    await way(script, cwd)
    t0, w0 = os.times(), time.perf_counter()
    for _ in range(n):
        await way(script, cwd)
    t1, wall = os.times(), time.perf_counter() - w0
    own = (t1.user + t1.system - t0.user - t0.system) * 1000 / n
    kids = (t1.children_user + t1.children_system - t0.children_user
            - t0.children_system) * 1000 / n
    print(f"{name:28} parent {own:.2f} ms  children {kids:.2f} ms  wall {wall * 1000 / n:.2f} ms")


def main() -> None:
    loop_kind = sys.argv[1] if len(sys.argv) > 1 else "uvloop"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    ballast = bytearray(40 << 20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1  # touched: resident, as a server's heap is
    with tempfile.TemporaryDirectory() as cwd:
        script = os.path.join(cwd, "h.sh")
        with open(script, "w") as f:
            f.write('#!/bin/sh\necho "Content-Type: text/plain"\necho\necho hello\n')
        os.chmod(script, 0o755)
        if loop_kind == "uvloop":
            import uvloop

            uvloop.install()
        for name, way in (("create_subprocess_exec", with_asyncio),
                          ("Popen + pidfd", with_popen)):
            asyncio.run(measure(f"{loop_kind}: {name}", way, script, cwd, n))
    del ballast


if __name__ == "__main__":
    main()
