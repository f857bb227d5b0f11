"""Small Apache behaviours through the App, each checked on apache2 2.4: listings leave
out what an entry's subrequest may not reach (mod_autoindex), a static file's body cut
short by the client is logged 400 (ap_discard_request_body before the answer),
ServerSignature per directory, SSLRequireSSL (mod_ssl, AH02219) and mod_headers'
``Header note`` read by ``%{NAME}n``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cgihttpd.app import App
from cgihttpd.config.loader import load_config

CONF = """ServerName test.example
ServerRoot {root}
LoadModule mime_module x.so
LoadModule dir_module x.so
LoadModule autoindex_module x.so
LoadModule authz_core_module x.so
LoadModule authz_host_module x.so
LoadModule headers_module x.so
LoadModule ssl_module x.so
DocumentRoot {www}
ErrorLog {root}/error.log
LogLevel info
LogFormat "%r %>s %b %{{kept}}n" small
CustomLog {root}/access.log small
<Directory />
    Require all denied
</Directory>
<Directory {www}>
    Options +Indexes
    Require all granted
    Header set X-Secret s3
    Header note X-Secret kept
    Header unset X-Secret
</Directory>
<Directory {www}/ix>
    ServerSignature On
</Directory>
<Directory {www}/forb>
    IndexOptions ShowForbidden
</Directory>
<Directory {www}/tls>
    SSLRequireSSL
</Directory>
<Files secret.txt>
    Require all denied
</Files>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
<Files "only-10.txt">
    Require ip 10.0.0.0/8
</Files>
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, Path]]:
    www = tmp_path / "www"
    for d in ("ix", "forb", "tls", "plain"):
        (www / d).mkdir(parents=True)
    for name in ("a.txt", "secret.txt", ".htpasswd", "only-10.txt"):
        (www / "ix" / name).write_text("x\n")
    (www / "forb" / "secret.txt").write_text("x\n")
    (www / "tls" / "a.txt").write_text("tls\n")
    (www / "plain" / "a.txt").write_text("plain\n")
    (www / "a.txt").write_text("0123456789\n")
    conf = tmp_path / "httpd.conf"
    conf.write_text(CONF.format(root=tmp_path, www=www))
    app = App.build(load_config(str(conf), environ={}))
    yield app, tmp_path
    app.close()


def get(app: App, path: str, client: str = "127.0.0.1") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://test.example") as c:
            return await c.get(path)
    return asyncio.run(go())


def test_a_listing_leaves_out_what_files_sections_deny(site: tuple[App, Path]) -> None:
    app, root = site
    body = get(app, "/ix/").text
    assert "a.txt" in body
    assert "secret.txt" not in body and ".htpasswd" not in body
    assert "only-10.txt" not in body
    # the entry's subrequest is refused as a request would be, and logged so
    assert "AH01630: client denied by server configuration: " \
        f"{root}/www/ix/secret.txt" in (root / "error.log").read_text()
    # Require ip: the client's address decides, as for the file itself
    assert "only-10.txt" in get(app, "/ix/", client="10.1.2.3").text


def test_show_forbidden_lists_denied_entries(site: tuple[App, Path]) -> None:
    app, _ = site
    assert "secret.txt" in get(app, "/forb/").text


def test_server_signature_per_directory(site: tuple[App, Path]) -> None:
    app, _ = site
    assert "<address>" in get(app, "/ix/missing").text
    assert "<address>" not in get(app, "/plain/missing").text
    # a listing's signature too
    assert "<address>" in get(app, "/ix/").text
    assert "<address>" not in get(app, "/plain/").text


def test_ssl_require_ssl_refuses_plain_http(site: tuple[App, Path]) -> None:
    app, root = site
    assert get(app, "/tls/a.txt").status_code == 403
    assert ("[ssl:error] [pid" in (root / "error.log").read_text())
    assert (f"AH02219: access to {root}/www/tls/a.txt failed, reason: SSL connection "
            "required") in (root / "error.log").read_text()
    assert get(app, "/plain/a.txt").status_code == 200


def test_ssl_require_ssl_serves_tls(site: tuple[App, Path]) -> None:
    app, _ = site

    async def tls_app(scope: Any, receive: Any, send: Any) -> None:
        ext = {"cgihttpd": {"tls": {"protocol": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
                                    "bits": 256}}}
        await app({**scope, "scheme": "https", "extensions": ext}, receive, send)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=tls_app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="https://test.example") as c:
            return await c.get("/tls/a.txt")
    r = asyncio.run(go())
    assert (r.status_code, r.text) == (200, "tls\n")


def test_header_note_is_logged(site: tuple[App, Path]) -> None:
    app, root = site
    r = get(app, "/a.txt")
    assert "x-secret" not in r.headers
    assert (root / "access.log").read_text().splitlines()[-1] == \
        "GET /a.txt HTTP/1.1 200 11 s3"


def test_a_static_body_cut_short_is_logged_400(site: tuple[App, Path]) -> None:
    app, root = site
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": b"x" * 10, "more_body": True},
                {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/a.txt", "raw_path": b"/a.txt",
             "query_string": b"", "root_path": "",
             "headers": [(b"host", b"test.example"), (b"content-length", b"100")],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    assert not any(m["type"] == "http.response.start" and m["status"] == 200 for m in sent)
    assert (root / "access.log").read_text().splitlines()[-1] == "POST /a.txt HTTP/1.1 400 - -"
