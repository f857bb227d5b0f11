"""Running one script through a ``Launcher`` to its end, for the launcher tests."""

from __future__ import annotations

import asyncio

from cgihttpd.cgi.runner import Launcher, LaunchSpec

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
