"""Every request-time filesystem access: the real ``FileSystem`` that resolution uses,
directory listings, and reading a file's bytes off the event loop.

Blocking calls run in a worker thread (``asyncio.to_thread``) so a slow disk never
stalls other connections; a file is read in ``CHUNK`` pieces, so memory stays bounded
whatever its size. A file is stat'ed again through its open descriptor (aiohttp's
habit) so the plan describes the bytes we send even if the path changed meanwhile.
``OSError`` never leaves this module unmapped (``errors.http_error_from_oserror``).

Must not know about HTTP semantics beyond that mapping.
"""

from __future__ import annotations

import asyncio

# asyncio.to_thread imports this on first use; a server that drops root for User/Group
# may no longer be able to read the interpreter's files by then (pyenv under /root).
import concurrent.futures.thread  # noqa: F401
import os
import stat as stat_mod
from collections.abc import AsyncIterator
from typing import BinaryIO

from cgihttpd.autoindex import Entry
from cgihttpd.errors import HTTPError, http_error_from_oserror

#: bytes read and sent at a time: big enough for throughput, small enough that many
#: concurrent downloads stay cheap (aiohttp and starlette use 64 KiB too)
CHUNK = 64 * 1024


class RealFS:
    """The ``resolve.FileSystem`` of the real machine."""

    def stat(self, path: str) -> os.stat_result:
        return os.stat(path)

    def lstat(self, path: str) -> os.stat_result:
        return os.lstat(path)

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str]:
        return os.listdir(path)


def _open_regular(path: str) -> tuple[BinaryIO, os.stat_result]:
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except PermissionError as exc:
        # core.c default_handler: "file permissions deny server access"
        raise HTTPError(403, f"({exc.errno}){exc.strerror}: AH00132: file permissions "
                             f"deny server access: {path}") from None
    except OSError as exc:
        raise http_error_from_oserror(exc, path) from None
    try:
        st = os.fstat(f.fileno())
    except OSError as exc:
        f.close()
        raise http_error_from_oserror(exc, path) from None
    if not stat_mod.S_ISREG(st.st_mode):
        f.close()
        raise HTTPError(404, f"AH00128: File does not exist: {path}")
    return f, st


async def open_regular(path: str) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` for reading; its stat comes from the open descriptor."""
    return await asyncio.to_thread(_open_regular, path)


def _load(path: str, limit: int) -> tuple[os.stat_result, bytes | None, BinaryIO | None]:
    f, st = _open_regular(path)
    if st.st_size > limit:
        return st, None, f
    try:
        data = f.read(limit + 1)
    except OSError as exc:
        raise http_error_from_oserror(exc, path) from None
    finally:
        f.close()
    return st, data, None


async def load_file(path: str, limit: int = CHUNK
                    ) -> tuple[os.stat_result, bytes | None, BinaryIO | None]:
    """One trip to a worker thread for the common case: a file of at most ``limit``
    bytes comes back read and closed ``(stat, data, None)``; a bigger one comes back
    open ``(stat, None, file)`` for ``read_range``. ``data`` is what was read: its
    length is the truth if the file changed after the fstat."""
    return await asyncio.to_thread(_load, path, limit)


def _read_at(f: BinaryIO, offset: int, size: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(f.fileno(), size, offset)
    f.seek(offset)
    return f.read(size)


async def read_range(f: BinaryIO, offset: int, length: int,
                     chunk: int = CHUNK) -> AsyncIterator[bytes]:
    """The bytes [offset, offset + length) of ``f``, ``chunk`` at a time. Stops early
    if the file shrank (the client then sees a short body, as with Apache)."""
    end = offset + length
    while offset < end:
        try:
            data = await asyncio.to_thread(_read_at, f, offset, min(chunk, end - offset))
        except OSError as exc:
            raise http_error_from_oserror(exc, getattr(f, "name", "?")) from None
        if not data:
            return
        offset += len(data)
        yield data


def _list_directory(path: str) -> list[Entry]:
    entries: list[Entry] = []
    try:
        with os.scandir(path) as it:
            for d in it:
                try:
                    st = d.stat()  # follows symlinks; a dangling one is skipped
                except OSError:
                    continue
                entries.append(Entry(d.name, stat_mod.S_ISDIR(st.st_mode),
                                     st.st_size, st.st_mtime))
    except OSError as exc:
        raise http_error_from_oserror(exc, path) from None
    return entries


async def list_directory(path: str) -> list[Entry]:
    """The entries of directory ``path`` (not "." and "..")."""
    return await asyncio.to_thread(_list_directory, path)


async def close_file(f: BinaryIO) -> None:
    await asyncio.to_thread(f.close)
