"""The request's host in the App (RFC 9112 §3.2): an invalid or repeated Host is a 400
answered by the default virtual host; an absolute-form target chooses the virtual host
by its own host; the remembered vhost choices stay right for both."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.conftest import Site


def call(site: Site, headers: list[tuple[bytes, bytes]], *, target: str = "/",
         version: str = "1.1", method: str = "GET") -> tuple[int, bytes]:
    """One request through the App; ``target`` goes in the request line as given."""
    sent: list[dict[str, Any]] = []
    path = target.split("://", 1)[1].partition("/")[1:] if "://" in target else ("", target)
    raw_path = "".join(path) or "/"
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": version,
        "method": method, "scheme": "http", "path": raw_path,
        "raw_path": raw_path.encode(), "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
        "extensions": {"cgihttpd": {"request_line": f"{method} {target} HTTP/{version}"}},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(site.app(scope, receive, send))  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.mark.parametrize("value", [
    b"bad host name", b"a b", b"[::1", b"123", b"1.2.3", b"host:0", b"a..b",
    b"other.example:99999", b"a/b",
])
def test_an_invalid_host_is_400(site: Site, value: bytes) -> None:
    assert call(site, [(b"host", value)])[0] == 400


def test_repeated_host_fields_are_400_and_do_not_reuse_a_choice(site: Site) -> None:
    assert call(site, [(b"host", b"other.example")]) == (200, b"other vhost\n")
    assert call(site, [(b"host", b"other.example"), (b"host", b"other.example")])[0] == 400
    assert call(site, [(b"host", b"other.example")]) == (200, b"other vhost\n")


def test_an_empty_host_is_400_in_http_1_1_only(site: Site) -> None:
    assert call(site, [(b"host", b"")])[0] == 400
    assert call(site, [(b"host", b"")], version="1.0")[0] == 200


def test_the_refusal_is_logged_at_debug_as_apache_does(site: Site) -> None:
    assert call(site, [(b"host", b"a b")])[0] == 400
    assert "AH00550" not in site.error_log  # LogLevel info: Apache logs it at debug
    assert '"GET / HTTP/1.1" 400' in site.access_log


def test_an_absolute_form_target_chooses_the_vhost(site: Site) -> None:
    headers = [(b"host", b"localhost:8080")]
    assert call(site, headers, target="http://other.example/") == (200, b"other vhost\n")
    # the same Host with an origin-form target: the first vhost, not a remembered choice
    assert call(site, headers)[1] == b"<h1>Hello, World</h1>\n"
    assert call(site, headers, target="http://Other.Example./")[1] == b"other vhost\n"
    # the target's host is checked, the Host field is not
    assert call(site, headers, target="http://a..b/")[0] == 400
    assert call(site, [(b"host", b"a b")], target="http://other.example/")[0] == 200


@pytest.mark.parametrize("method", ["TRACE", "SEARCH"])
def test_the_host_is_refused_before_the_method_is_looked_at(site: Site, method: str) -> None:
    assert call(site, [(b"host", b"a b")], method=method)[0] == 400


def test_a_refused_host_is_answered_by_the_default_vhost(site: Site) -> None:
    """"other.example:0" names other.example, but a refused host chooses nothing."""
    from dataclasses import replace

    from cgihttpd.app import App

    vhosts = site.config.vhosts
    first = replace(vhosts[0], base=replace(vhosts[0].base, error_documents=(
        (400, '"refused by the default'),)))
    config = replace(site.config, vhosts=(first, vhosts[1]))
    app = App.build(config.with_listens(config.listens))
    try:
        refused = call(Site(site.root, app, config), [(b"host", b"other.example:0")])
    finally:
        app.close()
    assert refused == (400, b"refused by the default")


def test_a_localhost_name_reaches_the_vhost_of_the_name_without_it(site: Site) -> None:
    # cgihttpd's extension (vhost.localhost_fallback): browsers send *.localhost here
    default = call(site, [(b"host", b"nobody.example")])
    assert call(site, [(b"host", b"other.example.localhost:8080")]) == (200, b"other vhost\n")
    assert call(site, [(b"host", b"nobody.example.localhost")]) == default
    assert default != (200, b"other vhost\n")
