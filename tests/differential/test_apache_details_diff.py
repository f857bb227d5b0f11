"""Small behaviours on Apache and cgihttpd, one config: ServerSignature set in a
``<Directory>`` (an error page and a listing signed there, not elsewhere),
SSLRequireSSL on plain HTTP (403 and mod_ssl's AH02219), ``Header note`` logged by
``%{NAME}n``, and a static file's POST body cut short by the client (the access-log
line: status and %b)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from diffsupport import Pair, Server, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

CONFIG = config_head("authz_core", "mime", "dir", "autoindex", "headers", "ssl") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
LogFormat "%r %>s %b %{kept}n" small
CustomLog "${ROOT}/logs/${IMPL}-access.log" small
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
    Options +Indexes
    Header set X-Secret s3
    Header note X-Secret kept
    Header unset X-Secret
</Directory>
<Directory "${ROOT}/site/signed">
    ServerSignature On
</Directory>
<Directory "${ROOT}/site/tls">
    SSLRequireSSL
</Directory>
"""

FILES = {"signed/a.txt": "a\n", "plain/a.txt": "a\n", "tls/a.txt": "tls\n",
         "a.txt": "0123456789\n"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("details")
    site_dirs(root, FILES)
    with serving(root, CONFIG) as started:
        yield started


def _address(body: bytes) -> bytes:
    m = re.search(rb"<address>.*?</address>", body)
    return m.group(0) if m else b""


@pytest.mark.parametrize("target", ["/signed/missing", "/plain/missing", "/signed/",
                                    "/plain/"])
def test_server_signature_per_directory(pair: Pair, target: str) -> None:
    a = pair.apache.request("GET", target)
    o = pair.ours.request("GET", target)
    assert o.status == a.status
    assert bool(_address(o.body)) == bool(_address(a.body)) == target.startswith("/signed")


def test_ssl_require_ssl_on_plain_http(pair: Pair) -> None:
    for server in pair.both():
        assert server.request("GET", "/tls/a.txt").status == 403, server.impl
        assert server.request("GET", "/plain/a.txt").status == 200, server.impl
    for server in pair.both():
        lines = wait_for_lines(server.log("error"), 1)
        found = [line for line in lines if "AH02219" in line]
        assert found, server.impl
        assert "[ssl:error]" in found[-1]
        assert found[-1].endswith(f"AH02219: access to {server.root}/site/tls/a.txt "
                                  "failed, reason: SSL connection required"), found[-1]


def _last_access(server: Server, before: int) -> str:
    return wait_for_lines(server.log("access"), before + 1)[-1]


def test_header_note_is_logged(pair: Pair) -> None:
    lines = []
    for server in pair.both():
        before = len(wait_for_lines(server.log("access"), 0, 0))
        r = server.request("GET", "/a.txt")
        assert r.header("X-Secret") is None
        lines.append(_last_access(server, before))
    assert lines[0] == lines[1] == "GET /a.txt HTTP/1.1 200 11 s3"


def test_static_body_cut_short(pair: Pair) -> None:
    lines = []
    for server in pair.both():
        before = len(wait_for_lines(server.log("access"), 0, 0))
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                      + b"y" * 10)
        lines.append(_last_access(server, before))
    assert lines[1] == lines[0], lines
