"""``BoundedCache``: the one kind of cache the server keeps at run time. Pure.

Every cache of the running server (remembered resolutions, merged per-directory
settings, virtual-host choices, MIME tables, scripts' argv, HTTP_* names, warnings said
once) is one of these, owned by the ``Runtime`` (``cgihttpd.runtime``) and passed to the
code that uses it; none lives in a module global.

One eviction rule: when a put would exceed ``maxsize``, the oldest entry (by insertion)
goes. Clients choose most keys (URLs, Host values, header spellings), so the bound is
what keeps memory fixed; first-in-first-out needs no bookkeeping on a hit, which is the
common case on every request path that uses these (an LRU's move-to-end on each hit
costs more than it saves for tables this small against the traffic they see).

Values must be safe to share: a cache only ever holds what its owner computed from
immutable inputs (the frozen configuration, a file version) or re-validates on use.
Not thread-safe beyond what a dict is: a put from a worker thread (directory listings
resolve there) may race another put, which at worst evicts one entry too many.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A mapping of at most ``maxsize`` entries; the oldest goes first."""

    __slots__ = ("maxsize", "_data")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self._data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        data = self._data
        if key not in data and len(data) >= self.maxsize:
            try:
                del data[next(iter(data))]
            except (StopIteration, KeyError, RuntimeError):  # emptied by another thread
                pass
        data[key] = value

    def discard(self, key: K) -> None:
        self._data.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()

    def __repr__(self) -> str:
        return f"BoundedCache({len(self._data)}/{self.maxsize})"
