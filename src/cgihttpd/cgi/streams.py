"""The byte streams around a script that are not its output: the request body that
must be spooled before the script starts, and the script's stderr cut into log lines.

Owns: reading a body that has no Content-Length (chunked) into memory, then a
temporary file, up to LimitRequestBody; splitting stderr bytes into the lines Apache
logs (cgi_common.h ``log_script_err``). Must not know about processes or the response.
"""

from __future__ import annotations

import tempfile
from typing import IO, Final

from cgihttpd.asgi import Receive

#: A request body without Content-Length (chunked) is spooled before the script
#: starts: in memory up to this size, then in a temporary file.
SPOOL_MEMORY: Final = 1 << 20
#: log_script_err reads stderr with a HUGE_STRING_LEN (8192) buffer: a longer line is
#: logged in pieces of 8191 bytes.
STDERR_LINE: Final = 8191


class ClientGone(Exception):
    """The client disconnected while its body was being read."""


class BodyTooLarge(Exception):
    """The body passed LimitRequestBody; ``total`` bytes were read so far."""

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.total = total


async def spool_body(receive: Receive, limit: int) -> tuple[IO[bytes], int]:
    """Read the whole request body into a spool (rewound) and return it with its
    length, so CONTENT_LENGTH can be set (RFC 3875 §4.1.2). ``limit`` 0: none."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
    total = 0
    try:
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                raise ClientGone()
            data = msg.get("body", b"")
            total += len(data)
            if limit and total > limit:
                raise BodyTooLarge(total)
            spool.write(data)
            if not msg.get("more_body", False):
                break
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, total


class StderrLines:
    """Bytes in, complete lines out (without LF or a CR before it); a line longer than
    ``STDERR_LINE`` comes out in pieces. ``close()`` gives the unterminated rest."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._pending += data
        out: list[bytes] = []
        pending = self._pending
        start = 0
        while True:
            nl = pending.find(b"\n", start, start + STDERR_LINE + 1)
            if nl != -1:
                out.append(_strip_cr(pending[start:nl]))
                start = nl + 1
            elif len(pending) - start >= STDERR_LINE:
                out.append(pending[start:start + STDERR_LINE])
                start += STDERR_LINE
            else:
                break
        self._pending = pending[start:]
        return out

    def close(self) -> list[bytes]:
        rest, self._pending = self._pending, b""
        return [_strip_cr(rest)] if rest else []


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line
