"""A CGI upload sent more slowly than ``Timeout`` but within RequestReadTimeout's body
bound, on Apache and cgihttpd: mod_cgi hands the whole body to the script before it
times the script's output, so the script answers (200), not the script timeout (504).

The body takes about 4 s against a Timeout of 1 s: generous margins, no speed
threshold."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import pytest
from diffsupport import Pair, Server, config_head, serving, site_dirs

pytestmark = pytest.mark.differential

CONFIG = config_head("authz_core", "mime", "cgid", "reqtimeout") + r"""
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
Timeout 1
RequestReadTimeout header=10 body=60
<Directory "${ROOT}/site">
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
"""

COUNT = """#!/usr/bin/python3
import sys
n = len(sys.stdin.buffer.read())
print("Content-Type: text/plain")
print()
print("got %d" % n)
"""

PIECES = 8  # a byte every 0.5 s: each piece well within Timeout, the whole well past it


@pytest.fixture(scope="module")
def upair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("slowupload")
    site_dirs(root, {"count.py": COUNT})
    with serving(root, CONFIG, executable=lambda name: name.endswith(".py")) as started:
        yield started


def trickled_post(server: Server) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"POST /count.py HTTP/1.1\r\nHost: localhost\r\n"
                     f"Content-Length: {PIECES}\r\nConnection: close\r\n\r\n".encode())
        for _ in range(PIECES):
            time.sleep(0.5)
            try:
                sock.sendall(b"x")
            except OSError:  # answered (and closed) before the body was in
                break
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        return resp.status, resp.read()


def test_a_slow_upload_reaches_the_script(upair: Pair) -> None:
    apache, ours = (trickled_post(s) for s in upair.both())
    assert apache == (200, f"got {PIECES}\n".encode())
    assert ours == apache
