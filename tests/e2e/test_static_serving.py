"""Static serving end to end: the real ``python -m cgihttpd -f CONF -l 127.0.0.1:0``
process, talked to with http.client and raw sockets (paths sent byte for byte)."""

from __future__ import annotations

import hashlib
import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, raw_request

CONF = """
ServerRoot "{root}"
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule dir_module modules/mod_dir.so
LoadModule mime_module modules/mod_mime.so
LoadModule alias_module modules/mod_alias.so
LoadModule autoindex_module modules/mod_autoindex.so
Listen 127.0.0.1:8080
ServerName localhost
ServerAdmin admin@example.com
ServerSignature On
ErrorLog "{root}/logs/error.log"
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/logs/access.log" common
AddType text/x-test .tst
DocumentRoot "{root}/www"
<Directory />
    Require all denied
</Directory>
<Directory "{root}/www">
    Options -Indexes
    Require all granted
</Directory>
<Directory "{root}/www/listing">
    Options +Indexes
</Directory>
<Directory "{root}/www/nolinks">
    Options -FollowSymLinks
</Directory>
<Directory "{root}/www/custom">
    ErrorDocument 404 /errors/404.html
</Directory>
Alias /files/ "{root}/outside/"
<Directory "{root}/other">
    Require all granted
</Directory>
<Directory "{root}/outside">
    Require all granted
</Directory>
<VirtualHost *:8080>
    ServerName site.test
    DocumentRoot "{root}/www"
</VirtualHost>
<VirtualHost *:8080>
    ServerName other.test
    ServerAlias *.other.test
    DocumentRoot "{root}/other"
</VirtualHost>
"""

BIG = 5 * 1024 * 1024 + 123


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    root = tmp_path_factory.mktemp("static")
    files = {
        "www/index.html": b"<h1>Hello, World</h1>\n",
        "www/a.html": b"<p>x</p>\n",
        "www/t.tst": b"t\n",
        "www/sub/index.html": b"sub\n",
        "www/noidx/f.txt": b"f\n",
        "www/listing/a<b&c.txt": b"abc\n",
        "www/errors/404.html": b"<h1>custom 404</h1>\n",
        "www/custom/.keep": b"",
        "outside/o.txt": b"outside\n",
        "other/index.html": b"other site\n",
        "secret.txt": b"SECRET\n",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "www" / "nolinks").mkdir()
    os.symlink(root / "secret.txt", root / "www" / "nolinks" / "s.txt")
    os.symlink(root / "secret.txt", root / "www" / "linked.txt")
    with open(root / "www" / "big.bin", "wb") as f:
        f.write(os.urandom(BIG))
    (root / "logs").mkdir()
    conf = root / "httpd.conf"
    conf.write_text(CONF.format(root=root))
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as proc:
        yield proc, root


def get(server: ServerProcess, path: str, method: str = "GET", host: str = "site.test",
        headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=20)
    try:
        conn.request(method, path, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def test_index_html(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/")
    assert resp.status == 200 and body == b"<h1>Hello, World</h1>\n"
    assert resp.getheader("Content-Type") == "text/html"
    assert resp.getheader("Content-Length") == str(len(body))
    assert resp.getheader("ETag") and resp.getheader("Last-Modified")
    assert resp.getheader("Accept-Ranges") == "bytes"


def test_mime_types_from_types_config_and_add_type(server: tuple[ServerProcess, Path]) -> None:
    assert get(server[0], "/t.tst")[0].getheader("Content-Type") == "text/x-test"


def test_head(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/a.html", "HEAD")
    assert resp.status == 200 and body == b""
    assert resp.getheader("Content-Length") == "9"


def test_conditional_get(server: tuple[ServerProcess, Path]) -> None:
    resp, _ = get(server[0], "/a.html")
    etag, lm = resp.getheader("ETag"), resp.getheader("Last-Modified")
    assert etag and lm
    assert get(server[0], "/a.html", headers={"If-None-Match": etag})[0].status == 304
    assert get(server[0], "/a.html", headers={"If-Modified-Since": lm})[0].status == 304
    assert get(server[0], "/a.html", headers={"If-None-Match": '"other"',
                                              "If-Modified-Since": lm})[0].status == 200


def test_ranges(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/a.html", headers={"Range": "bytes=3-"})
    assert (resp.status, body, resp.getheader("Content-Range")) == (206, b"x</p>\n", "bytes 3-8/9")
    resp, _ = get(server[0], "/a.html", headers={"Range": "bytes=9-"})
    assert resp.status == 416 and resp.getheader("Content-Range") == "bytes */9"


def test_big_file_whole_and_in_part(server: tuple[ServerProcess, Path]) -> None:
    proc, root = server
    data = (root / "www" / "big.bin").read_bytes()
    resp, body = get(proc, "/big.bin")
    assert resp.status == 200 and len(body) == BIG
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    resp, body = get(proc, "/big.bin", headers={"Range": "bytes=4000000-4100000"})
    assert resp.status == 206 and body == data[4000000:4100001]


def test_directory_slash_redirect(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/sub?q=1")
    assert resp.status == 301
    assert resp.getheader("Location") == "http://site.test/sub/?q=1"
    assert b"The document has moved" in body
    assert get(server[0], "/sub/")[1] == b"sub\n"


def test_directory_without_index_and_listing(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/noidx/")
    assert resp.status == 403 and b"<title>403 Forbidden</title>" in body
    resp, body = get(server[0], "/listing/")
    assert resp.status == 200
    # no IndexOptions in this config: mod_autoindex's plain list
    assert b'<li><a href="a%3cb&amp;c.txt"> a&lt;b&amp;c.txt</a></li>' in body
    assert "AH01276" in (server[1] / "logs" / "error.log").read_text()


def test_not_found_and_error_document(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/nope.html")
    assert resp.status == 404
    assert b"<p>The requested URL was not found on this server.</p>" in body
    resp, body = get(server[0], "/custom/nope")
    assert (resp.status, body) == (404, b"<h1>custom 404</h1>\n")


def test_method_not_allowed(server: tuple[ServerProcess, Path]) -> None:
    resp, body = get(server[0], "/a.html", "DELETE")
    assert resp.status == 405 and resp.getheader("Allow")
    assert b"The requested method DELETE is not allowed for this URL." in body


@pytest.mark.parametrize(("raw", "status"), [
    (b"/../secret.txt", 400), (b"/%2e%2e/secret.txt", 400), (b"/sub/%2E%2E/%2e%2e/secret.txt", 400),
    (b"/..%2fsecret.txt", 404), (b"/files/..%2f..%2fsecret.txt", 404),
    (b"/files/%2e%2e/%2e%2e/secret.txt", 400), (b"/%00", 404), (b"/a%zz", 400),
])
def test_no_escape_from_the_root(server: tuple[ServerProcess, Path], raw: bytes,
                                 status: int) -> None:
    reply = raw_request(server[0].address, b"GET " + raw + b" HTTP/1.0\r\nHost: site.test\r\n\r\n")
    assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == str(status).encode(), reply[:200]
    assert b"SECRET" not in reply


def test_alias_and_dot_segments_inside(server: tuple[ServerProcess, Path]) -> None:
    assert get(server[0], "/files/o.txt")[1] == b"outside\n"
    reply = raw_request(server[0].address, b"GET /sub/%2e%2e/a.html HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"<p>x</p>\n")


def test_virtual_hosts_by_host_header(server: tuple[ServerProcess, Path]) -> None:
    assert get(server[0], "/", host="other.test")[1] == b"other site\n"
    assert get(server[0], "/", host="WWW.OTHER.TEST:80")[1] == b"other site\n"
    assert get(server[0], "/", host="unknown.test")[1] == b"<h1>Hello, World</h1>\n"


def test_access_log_has_the_requests(server: tuple[ServerProcess, Path]) -> None:
    get(server[0], "/a.html?from=access-log-test")
    # the line is written after the last byte went out: wait for it, with a deadline
    want = '"GET /a.html?from=access-log-test HTTP/1.1" 200 9'
    end = time.monotonic() + 10
    while want not in (log := (server[1] / "logs" / "access.log").read_text()):
        assert time.monotonic() < end, log
        time.sleep(0.02)


def test_zero_config_mode_serves_a_folder(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"folder index\n")
    (tmp_path / "d").mkdir()
    with ServerProcess([str(tmp_path), "-l", "127.0.0.1:0"]) as proc:
        resp, body = get(proc, "/", host="localhost")
        assert (resp.status, body) == (200, b"folder index\n")
        assert get(proc, "/d/", host="localhost")[0].status == 403  # -Indexes


def test_symlinks_follow_options(server: tuple[ServerProcess, Path]) -> None:
    # Options -FollowSymLinks: refused (AH00037); the default FollowSymLinks follows
    # the link wherever it points, as Apache does
    resp, body = get(server[0], "/nolinks/s.txt")
    assert resp.status == 403 and b"SECRET" not in body
    assert get(server[0], "/linked.txt")[1] == b"SECRET\n"
