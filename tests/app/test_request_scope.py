"""request_from_scope: the ASGI scope read once into a Request."""

from __future__ import annotations

from cgihttpd.request import request_from_scope


def test_scope_with_raw_path_and_extension() -> None:
    scope = {
        "type": "http", "http_version": "1.0", "method": "POST", "scheme": "http",
        "path": "/a b", "raw_path": b"/a%20b", "query_string": b"x=%41&y",
        "headers": [(b"Host", b"Example.COM:8080"), (b"x-a", b"1"), (b"x-a", b"2")],
        "client": ("10.0.0.1", 5555), "server": ("10.0.0.2", 8080),
        "extensions": {"cgihttpd": {"request_line": "POST /a%20b?x=%41&y HTTP/1.0"}},
    }
    r = request_from_scope(scope)
    assert (r.method, r.raw_path, r.query, r.raw_target) == (
        "POST", "/a%20b", "x=%41&y", "/a%20b?x=%41&y")
    assert (r.client_addr, r.client_port, r.server_addr, r.server_port) == (
        "10.0.0.1", 5555, "10.0.0.2", 8080)
    assert r.headers == (("host", "Example.COM:8080"), ("x-a", "1"), ("x-a", "2"))
    assert r.host == "example.com" and r.protocol == "HTTP/1.0"
    assert r.request_line == "POST /a%20b?x=%41&y HTTP/1.0"


def test_scope_without_raw_path_or_extension() -> None:
    r = request_from_scope({"type": "http", "method": "GET", "path": "/ä b",
                            "query_string": b"", "headers": [], "client": None,
                            "server": None})
    assert r.raw_path == "/%C3%A4%20b"
    assert r.request_line == "GET /%C3%A4%20b HTTP/1.1"
    assert (r.client_addr, r.server_port) == ("", 0)


def _scope(target: str, headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    return {"type": "http", "method": "GET", "path": "/x", "raw_path": b"/x",
            "query_string": b"", "headers": headers, "client": None, "server": None,
            "extensions": {"cgihttpd": {"request_line": f"GET {target} HTTP/1.1"}}}


def test_absolute_form_host_replaces_the_host_field() -> None:
    """ap_update_vhost_from_headers_ex (AH02417): the target's host, lower-case with its
    port, becomes the Host field; a repeated Host is then one field."""
    r = request_from_scope(_scope("http://user@Other.Test.:81/x",
                                  [(b"Host", b"main.test"), (b"X", b"1"), (b"Host", b"b")]))
    assert r.authority == "Other.Test.:81"
    assert r.headers == (("host", "other.test:81"), ("x", "1"))
    assert (r.host, r.host_refusal) == ("other.test", None)
    r = request_from_scope(_scope("/x", [(b"Host", b"a"), (b"Host", b"b")]))
    assert (r.authority, r.host_value, r.host) == (None, "a, b", "a, b")
    assert r.host_refusal is not None and r.host_refusal[-1].text.startswith("AH00550")
