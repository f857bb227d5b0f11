"""files.FileCache and load_file over real files: a cached small file is served without
a worker thread, and any change to the file - bytes, replacement, permissions - is seen
by the next request, as Apache (which reads every time) sees it."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cgihttpd.static import files
from cgihttpd.static.files import RACY_SECONDS, FileCache, load_file

LATER = RACY_SECONDS + 1.0  # seconds after a write at which a read may be cached


def _read(path: Path) -> tuple[os.stat_result, bytes]:
    with open(path, "rb") as f:
        return os.fstat(f.fileno()), f.read()


def _cache_of(path: Path, cache: FileCache | None = None) -> FileCache:
    cache = cache if cache is not None else FileCache()
    st, data = _read(path)
    cache.put(str(path), st, data, time.time() + LATER)
    return cache


def _until_ctime_moves(path: Path, change: Callable[[], None]) -> None:
    """Apply ``change`` until the file's ctime differs from before (timestamps have a
    granularity: two changes within one tick look alike - the reason fresh files are
    not cached)."""
    before = os.stat(path).st_ctime_ns
    deadline = time.monotonic() + 5.0
    while True:
        change()
        if os.stat(path).st_ctime_ns != before or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def test_a_settled_small_file_is_kept_and_found(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    cache = _cache_of(p)
    hit = cache.get(str(p))
    assert hit is not None and hit[1] == b"hello" and hit[0].st_size == 5
    assert len(cache) == 1 and cache.total == 5


def test_a_file_changed_within_the_racy_window_is_not_kept(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    st, data = _read(p)
    cache = FileCache()
    cache.put(str(p), st, data, time.time())
    assert len(cache) == 0 and cache.get(str(p)) is None


def test_same_size_rewrite_with_the_old_mtime_is_seen(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    old = os.stat(p)
    cache = _cache_of(p)

    def rewrite() -> None:
        p.write_bytes(b"HELLO")
        os.utime(p, ns=(old.st_atime_ns, old.st_mtime_ns))  # same size, same mtime

    _until_ctime_moves(p, rewrite)
    assert cache.get(str(p)) is None
    assert len(cache) == 0  # the stale entry is dropped


def test_a_file_replaced_by_rename_is_seen(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    cache = _cache_of(p)
    assert cache.get(str(p), os.stat(p)) is not None  # resolution's stat, not another
    new = tmp_path / "new"
    new.write_bytes(b"HELLO")
    os.replace(new, p)
    assert cache.get(str(p), os.stat(p)) is None


def test_a_chmod_is_seen(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    cache = _cache_of(p)
    modes = iter([0o600, 0o644] * 500)
    _until_ctime_moves(p, lambda: os.chmod(p, next(modes)))
    assert cache.get(str(p)) is None


def test_a_removed_file_is_a_miss(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    cache = _cache_of(p)
    p.unlink()
    assert cache.get(str(p)) is None and len(cache) == 0


def test_memory_stays_bounded(tmp_path: Path) -> None:
    cache = FileCache(max_total=100, max_file=40)
    for i in range(10):
        p = tmp_path / f"f{i}"
        p.write_bytes(bytes(30))
        _cache_of(p, cache)
    big = tmp_path / "big"
    big.write_bytes(bytes(41))
    _cache_of(big, cache)
    assert cache.total <= 100 and len(cache) == 3
    assert cache.get(str(big)) is None  # over max_file: never kept
    # the oldest went first
    assert cache.get(str(tmp_path / "f0")) is None
    assert cache.get(str(tmp_path / "f9")) is not None


def test_a_short_read_is_not_kept(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    st, _ = _read(p)
    cache = FileCache()
    cache.put(str(p), st, b"hel", time.time() + LATER)  # the file shrank mid-read
    assert len(cache) == 0


def test_load_file_uses_no_thread_for_a_cached_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")
    old = time.time() - 3600
    os.utime(p, (old, old))
    cache = FileCache()
    calls: list[str] = []
    real = files._load

    def counting(path: str, limit: int) -> object:
        calls.append(path)
        return real(path, limit)

    monkeypatch.setattr(files, "_load", counting)
    # the first read goes to a worker thread; it is kept once the inode is settled
    monkeypatch.setattr(files.time, "time", lambda: os.stat(p).st_ctime + LATER)

    async def twice() -> list[bytes | None]:
        out = []
        for _ in range(2):
            _st, data, f = await load_file(str(p), cache=cache)
            assert f is None
            out.append(data)
        return out

    assert asyncio.run(twice()) == [b"hello", b"hello"]
    assert calls == [str(p)]


def test_load_file_without_a_cache_reads_every_time(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_bytes(b"hello")

    async def go() -> bytes | None:
        _st, data, _f = await load_file(str(p), cache=None)
        return data

    assert asyncio.run(go()) == b"hello"
    p.write_bytes(b"bye")
    assert asyncio.run(go()) == b"bye"


def test_a_big_file_the_walk_stat_ed_is_opened_without_a_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file too big for the cache, already stat'ed by the walk, is opened on the loop
    (two trips to a worker thread cost more than the open); it comes back open, its
    stat from the descriptor. Without that stat, or once it has shrunk under the limit,
    the thread reads it as before."""
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (files.CHUNK + 1))
    trips: list[object] = []

    async def counted(fn: Callable[..., object], *args: object) -> object:
        trips.append(fn)
        return fn(*args)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    st, data, f = asyncio.run(load_file(str(big), st=os.stat(big)))
    assert f is not None
    try:
        assert data is None and st.st_size == files.CHUNK + 1 and trips == []
        assert os.pread(f.fileno(), 3, files.CHUNK - 1) == b"xx"
    finally:
        f.close()
    st, data, f = asyncio.run(load_file(str(big)))  # no stat from the walk: the thread
    assert f is not None and len(trips) == 1
    f.close()
    stale = os.stat(big)
    big.write_bytes(b"small")  # shrank after the walk's stat
    st, data, f = asyncio.run(load_file(str(big), st=stale, cache=None))
    assert (data, f) == (b"small", None) and len(trips) == 2
