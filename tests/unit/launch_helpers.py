"""Running one script through a ``Launcher`` to its end, for the launcher tests; and the
reference launcher they compare the zygote's children with."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

from cgihttpd.cgi.runner import Launcher, LaunchSpec, ScriptProcess, SubprocessLauncher

DEADLINE = 30.0


def launch(launcher: Launcher, spec: LaunchSpec, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
    """Start ``spec``, give it ``stdin``, read stdout and stderr to their ends: (exit
    status, stdout, stderr), within DEADLINE."""
    async def main() -> tuple[int, bytes, bytes]:
        proc = await launcher.start(spec)
        try:
            proc.stdin.write(stdin)
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the script has already ended
        proc.stdin.close()
        out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
        return await proc.wait(), out, err

    async def bounded() -> tuple[int, bytes, bytes]:
        return await asyncio.wait_for(main(), DEADLINE)

    return asyncio.run(bounded())


#: What Python's start-up ignores itself (and subprocess puts back to default)
PYTHON_IGNORES = frozenset({signal.SIGPIPE, signal.SIGXFSZ})


@contextlib.contextmanager
def ignoring_nothing() -> Iterator[None]:
    """For the time of the block, no signal ignored in this process but the two Python
    ignores itself: as a server started from a terminal or by init. A suite started
    by ``nohup`` or as a background job inherits SIGHUP/SIGINT/SIGQUIT ignored, and a
    process started from it would keep them ignored."""
    ignored = [sig for sig in signal.valid_signals() if sig not in PYTHON_IGNORES
               and _getsignal(sig) == signal.SIG_IGN]
    for sig in ignored:
        signal.signal(sig, signal.SIG_DFL)
    try:
        yield
    finally:
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)


def _getsignal(sig: int) -> object:
    try:
        return signal.getsignal(sig)
    except (OSError, ValueError):
        return None


class ReferenceLauncher:
    """``SubprocessLauncher`` as a server that ignores no signal runs it, however this
    suite was started: what a warm or spawned child must equal."""

    def __init__(self) -> None:
        self.inner = SubprocessLauncher()

    async def start(self, spec: LaunchSpec) -> ScriptProcess:
        with ignoring_nothing():
            return await self.inner.start(spec)
