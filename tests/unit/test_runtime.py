"""The runtime's parts: ``BoundedCache`` (the one kind of cache) and ``Runtime`` (what a
server owns besides its configuration: logs, launchers, slots, caches)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.factory import make_config, make_vhost
from cgihttpd.cache import BoundedCache
from cgihttpd.cgi.queue import DEFAULT_MAX_RUNNING, DEFAULT_QUEUE_MEMORY
from cgihttpd.cgi.runner import SubprocessLauncher
from cgihttpd.config.model import DirConf
from cgihttpd.mime import content_type, type_table
from cgihttpd.runtime import Caches, Runtime, default_launcher


def test_cache_keeps_what_was_put_and_evicts_the_oldest_first() -> None:
    c: BoundedCache[str, int] = BoundedCache(2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1 and "b" in c and len(c) == 2
    c.get("a")  # a hit does not reorder: first in, first out
    c.put("c", 3)
    assert "a" not in c and c.get("b") == 2 and c.get("c") == 3
    c.put("b", 20)  # replacing a key evicts nothing
    assert len(c) == 2 and c.get("b") == 20 and c.get("c") == 3
    c.clear()
    assert len(c) == 0 and c.get("b") is None


def test_cache_refuses_a_size_below_one() -> None:
    with pytest.raises(ValueError):
        BoundedCache(0)


@given(st.lists(st.tuples(st.integers(0, 20), st.integers()), max_size=200),
       st.integers(1, 8))
def test_cache_never_exceeds_its_bound_and_agrees_with_a_dict_on_what_it_holds(
        puts: list[tuple[int, int]], size: int) -> None:
    c: BoundedCache[int, int] = BoundedCache(size)
    last: dict[int, int] = {}
    for k, v in puts:
        c.put(k, v)
        last[k] = v
        assert len(c) <= size
        assert c.get(k) == v
    for k in range(21):
        if k in c:
            assert c.get(k) == last[k]


def test_caches_are_bounded_caches_each_with_its_own_bound() -> None:
    caches = Caches()
    parts = [getattr(caches, name) for name in Caches.__dataclass_fields__]
    assert parts and all(isinstance(p, BoundedCache) for p in parts)
    assert len({id(p) for p in parts}) == len(parts)  # no two share a table
    assert Caches().resolutions is not caches.resolutions  # no two runtimes share one


def _runtime(**kw: object) -> Runtime:
    config = make_config(vhosts=(make_vhost("/srv/www"),), **kw)  # type: ignore[arg-type]
    return Runtime(config=config, logs=None, launcher=SubprocessLauncher())  # type: ignore[arg-type]


def test_slots_follow_the_configuration_and_belong_to_one_event_loop() -> None:
    rt = _runtime()

    async def slots() -> tuple[object, object, int, float, int]:
        a, b = rt.slots(), rt.slots()
        return a, b, a.max_running, a.max_wait, a.memory

    a, b, running, wait, memory = asyncio.run(slots())
    assert a is b  # one set for the loop
    assert running == DEFAULT_MAX_RUNNING and memory == DEFAULT_QUEUE_MEMORY
    assert wait == rt.config.cgi_queue_timeout
    c, _, _, _, _ = asyncio.run(slots())
    assert c is not a  # another loop: a queue's futures are not awaited across loops

    rt3 = _runtime(max_concurrent_cgi=3, cgi_queue_timeout=2.5, cgi_queue_memory=1000)

    async def limits() -> tuple[int, float, int]:
        got = rt3.slots()
        return got.max_running, got.max_wait, got.memory

    assert asyncio.run(limits()) == (3, 2.5, 1000)  # CGIMaxProcesses 3, CGIQueue*

    # with workers, each process holds its share of the server's limits, rounded up
    rt3 = _runtime(max_concurrent_cgi=3, cgi_queue_timeout=2.5, cgi_queue_memory=1001,
                   workers=2)
    assert asyncio.run(limits()) == (2, 2.5, 501)


def test_mime_tables_are_built_once_per_types_tuple_in_the_runtimes_cache() -> None:
    caches = Caches()
    types = ((".html", "text/html"), (".py", "text/x-python"))
    assert content_type("a.py", DirConf(), types, caches.mime) == "text/x-python"
    table = type_table(types, caches.mime)
    assert type_table(types, caches.mime) is table  # remembered by identity
    assert type_table(types) is not table  # without a cache: built afresh
    assert len(caches.mime) == 2  # the TypesConfig tuple and the (empty) AddType one


@pytest.mark.parametrize("value", ["windows", "Windows"])
def test_windows_rules_compose_the_windows_launcher_alone(value: str) -> None:
    """CGIHTTPD_PLATFORM=windows (the test mode): what Windows gets, no warm zygotes."""
    launcher = default_launcher({"CGIHTTPD_PLATFORM": value})
    assert isinstance(launcher, SubprocessLauncher)
    assert launcher.windows and launcher.mode == "asyncio"


@pytest.mark.parametrize("environ", [{}, {"CGIHTTPD_PLATFORM": "posix"}])
def test_posix_rules_compose_the_warm_launcher(environ: dict[str, str]) -> None:
    from cgihttpd.warm.launcher import WarmLauncher

    launcher = default_launcher(environ)
    assert isinstance(launcher, WarmLauncher)
    assert isinstance(launcher.cold, SubprocessLauncher) and not launcher.cold.windows
    launcher.close()
