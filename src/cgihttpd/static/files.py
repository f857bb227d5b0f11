"""Every request-time filesystem access: the real ``FileSystem`` that resolution uses,
directory listings, and reading a file's bytes off the event loop.

Reads run in a worker thread (``asyncio.to_thread``) so a slow disk never stalls
other connections; a file is read in ``CHUNK`` pieces, so memory stays bounded
whatever its size. A file is stat'ed again through its open descriptor (aiohttp's
habit) so the plan describes the bytes we send even if the path changed meanwhile.
Small files are kept in memory (``FileCache``), checked by one ``stat`` per request
on the event loop: metadata calls are cheap next to the trip to a worker thread that a
read costs (docs/design.md §7), and resolution already makes them on the loop. So
are the open and close of a file too big for the cache, which the walk has just
stat'ed (its bytes then go by sendfile, or by reads in the thread).
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
import time
from collections.abc import AsyncIterator
from typing import BinaryIO

from cgihttpd import messages as M
from cgihttpd.errors import HTTPError, http_error_from_oserror
from cgihttpd.platform import read_at  # pread where there is one
from cgihttpd.static.autoindex import Entry

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

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()


def _open_regular(path: str) -> tuple[BinaryIO, os.stat_result]:
    try:
        # unbuffered: no BufferedReader on top (the reads are pread or whole), so no
        # isatty ioctl and no lseek at each open
        f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the caller
    except PermissionError as exc:
        # core.c default_handler: "file permissions deny server access"
        raise HTTPError(403, M.FILE_PERMISSIONS.note(errno=exc, path=path)) from None
    except OSError as exc:
        raise http_error_from_oserror(exc, path) from None
    try:
        st = os.fstat(f.fileno())
    except OSError as exc:
        f.close()
        raise http_error_from_oserror(exc, path) from None
    if not stat_mod.S_ISREG(st.st_mode):
        f.close()
        raise HTTPError(404, M.FILE_MISSING.note(path=path))
    return f, st




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


#: the small-file cache: files of at most ``CACHE_FILE_MAX`` bytes, at most
#: ``CACHE_TOTAL`` bytes in all per process (oldest entries go first)
CACHE_FILE_MAX = CHUNK
CACHE_TOTAL = 16 * 1024 * 1024
#: a file whose inode changed less than this long before it was read is not cached:
#: timestamps have a granularity (a clock tick; a whole second on some filesystems), so
#: a second write within it could leave size, mtime and ctime as they were (git's
#: "racily clean" index entries have the same cure)
RACY_SECONDS = 2.0

_Key = tuple[int, int, int, int, int]


def _identity(st: os.stat_result) -> _Key:
    # ctime moves on every write, chmod, chown, link and rename of the inode: a changed
    # permission is noticed like changed bytes
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class FileCache:
    """The bytes of small regular files, checked before each use by one ``os.stat``
    of the path on the event loop (a few microseconds; the read it saves costs a trip
    to a worker thread). An entry is used only while the file's device, inode, size,
    mtime and ctime are those it was read with, so an edit, a replacement (rename over
    it) or a chmod is seen by the next request, as Apache - which reads every time -
    sees it. Used only from the event loop's thread."""

    def __init__(self, max_total: int = CACHE_TOTAL, max_file: int = CACHE_FILE_MAX) -> None:
        self.max_total = max_total
        self.max_file = max_file
        self.total = 0
        self._entries: dict[str, tuple[_Key, bytes]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, path: str, st: os.stat_result | None = None
            ) -> tuple[os.stat_result, bytes] | None:
        """The file's current stat and its cached bytes, or None (not cached, or
        changed: then the entry is dropped). ``st``: a stat of ``path`` just taken
        (resolution's), used instead of another."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        if type(st) is not os.stat_result:  # none given, or a test's fake tree's
            try:
                st = os.stat(path)
            except OSError:
                st = None
        if st is None or _identity(st) != entry[0]:
            self._drop(path)
            return None
        return st, entry[1]

    def put(self, path: str, st: os.stat_result, data: bytes, now: float) -> None:
        """Keep ``data``, read from ``path`` whose descriptor's stat was ``st``, if it
        is whole, small and not racily fresh at ``now`` (``time.time()``)."""
        if (len(data) != st.st_size or len(data) > self.max_file
                or len(data) > self.max_total or now - st.st_ctime < RACY_SECONDS):
            return
        self._drop(path)
        self._entries[path] = (_identity(st), data)
        self.total += len(data)
        while self.total > self.max_total:
            self._drop(next(iter(self._entries)))

    def _drop(self, path: str) -> None:
        entry = self._entries.pop(path, None)
        if entry is not None:
            self.total -= len(entry[1])

    def clear(self) -> None:
        self._entries.clear()
        self.total = 0


#: the process's cache (each worker process has its own after the fork)
FILE_CACHE = FileCache()


async def load_file(path: str, limit: int = CHUNK, cache: FileCache | None = FILE_CACHE,
                    st: os.stat_result | None = None
                    ) -> tuple[os.stat_result, bytes | None, BinaryIO | None]:
    """A file of at most ``limit`` bytes comes back read and closed ``(stat, data,
    None)``; a bigger one comes back open ``(stat, None, file)`` for ``read_range``.
    ``data`` is what was read: its length is the truth if the file changed after the
    fstat. A small file still in ``cache`` costs one stat (none if ``st``, a stat of
    ``path`` just taken, is given) and no thread; otherwise one trip to a worker
    thread opens (and, if small, reads) it."""
    if cache is not None:
        hit = cache.get(path, st)
        if hit is not None and len(hit[1]) <= limit:
            return hit[0], hit[1], None
    if st is not None and st.st_size > limit:
        # a big file the walk has just stat'ed: opened here, on the loop (its inode is
        # fresh in the kernel's caches; a trip to a worker thread and back costs more
        # than the open, the loop and the pool fighting for the GIL), as nginx opens
        # its files; its bytes then go by sendfile or by reads in the thread
        big, big_st = _open_regular(path)
        if big_st.st_size > limit:
            return big_st, None, big
        big.close()  # it shrank meanwhile: read as a small file
    fst, data, f = await asyncio.to_thread(_load, path, limit)
    if cache is not None and data is not None:
        cache.put(path, fst, data, time.time())
    return fst, data, f


async def read_range(f: BinaryIO, offset: int, length: int,
                     chunk: int = CHUNK) -> AsyncIterator[bytes]:
    """The bytes [offset, offset + length) of ``f``, ``chunk`` at a time. Stops early
    if the file shrank (the client then sees a short body, as with Apache)."""
    end = offset + length
    while offset < end:
        try:
            data = await asyncio.to_thread(read_at, f, offset, min(chunk, end - offset))
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
