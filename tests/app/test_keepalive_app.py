"""Per-vhost keep-alive (issue 9): the App gives the protocol the rules of the vhost
that served the request (``extensions.cgihttpd.keep_alive``), with the wait of the
address's default vhost when the serving one sets no KeepAliveTimeout (Apache's event
MPM); the protocol's cycle decides each response by them. Differential:
tests/differential/test_keepalive_diff.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.factory import make_config, make_vhost
from cgihttpd.app import App
from cgihttpd.config.model import Address
from cgihttpd.http.cycle import for_vhost
from cgihttpd.http.framing import RequestFacts
from cgihttpd.http.settings import KeepAlive


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    root = str(tmp_path)
    at = (Address("127.0.0.1", 8080),)

    def vhost(name: str, **kw: Any) -> Any:
        return make_vhost(root, addresses=at, server_name=name, **kw)

    main = replace(make_vhost(root), addresses=(), is_main=True, server_name="main",
                   keepalive_timeout=1.0)
    config = make_config((
        vhost("first.test", keepalive_timeout=30.0, keepalive_timeout_set=True),
        vhost("off.test", keepalive=False, keepalive_timeout=1.0),
        vhost("max.test", max_keepalive_requests=2, keepalive_timeout=1.0),
        vhost("plain.test", keepalive_timeout=1.0),
    ), main=main)
    built = App.build(config)
    yield built
    built.close()


def rules(app: App, host: str) -> object:
    ext: dict[str, Any] = {"request_line": "GET / HTTP/1.1"}
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
        "query_string": b"", "root_path": "", "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
        "extensions": {"cgihttpd": ext},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return ext.get("keep_alive")


def test_each_vhost_gives_its_rules(app: App) -> None:
    assert rules(app, "first.test") == KeepAlive(True, 30.0, 100, 30.0)
    assert rules(app, "off.test") == KeepAlive(False, 1.0, 100, 30.0)
    assert rules(app, "max.test") == KeepAlive(True, 1.0, 2, 30.0)
    # no KeepAliveTimeout of its own: the address's default vhost's wait
    assert rules(app, "plain.test") == KeepAlive(True, 1.0, 100, 30.0)


def test_the_main_servers_rules_are_left_to_the_protocol(tmp_path: Path) -> None:
    config = make_config((make_vhost(str(tmp_path), server_name="same.test"),))
    built = App.build(config)
    try:
        assert rules(built, "same.test") is None
    finally:
        built.close()


FACTS = RequestFacts("1.1", "GET", True, True, False, 1, 99)


@pytest.mark.parametrize(("rule", "count", "expected"), [
    (KeepAlive(True, 30.0, 100, 30.0), 0, (True, 30, 100)),
    (KeepAlive(False, 30.0, 100, 30.0), 0, (False, 30, 100)),
    (KeepAlive(True, 5.0, 2, 5.0), 1, (True, 5, 1)),
    (KeepAlive(True, 5.0, 2, 5.0), 2, (False, 5, 0)),
    (KeepAlive(True, 5.0, 0, 5.0), 500, (True, 5, None)),
    (KeepAlive(True, 0.0, 100, 0.0), 0, (False, 0, 100)),  # KeepAliveTimeout 0
])
def test_for_vhost(rule: KeepAlive, count: int, expected: tuple[object, ...]) -> None:
    got = for_vhost(FACTS, rule, count)
    assert (got.server_keep_alive, got.keep_alive_timeout, got.keep_alive_left) == expected
