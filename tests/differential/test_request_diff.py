"""Request-level settings on Apache and cgihttpd from one config: LimitRequestBody set
in a <Directory> or a <Location> holds there and nowhere else (core docs: context server
config, virtual host, directory, .htaccess); the request's host (RFC 9112 §3.2): an
invalid or repeated Host is a 400, an absolute-form target chooses the virtual host by
its own host and becomes the Host scripts see.

The config (``CONFIG``) reads ${PORT}, ${ROOT} and ${IMPL} like diffsupport's.
"""

from __future__ import annotations

import http.client
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import (
    APACHE,
    Pair,
    Server,
    config_head,
    serving,
    site_dirs,
    wait_for_lines,
)

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

CONFIG = config_head("authz_core", "mime", "alias", "cgid", log_level="debug") + r"""
TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog "${ROOT}/logs/${IMPL}-access.log" common
DocumentRoot "${ROOT}/site"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Options +ExecCGI
    AddHandler cgi-script .py
    Require all granted
</Directory>
<Directory "${ROOT}/site/small">
    LimitRequestBody 1000
</Directory>
<Location "/up">
    LimitRequestBody 2000
</Location>
<Directory "${ROOT}/site/ht">
    AllowOverride All
</Directory>

# name-based: the first is the default for an unknown or invalid Host
<VirtualHost *:${PORT}>
    ServerName localhost
    ErrorDocument 400 "the default vhost refused it"
</VirtualHost>
<VirtualHost *:${PORT}>
    ServerName main.test
    DocumentRoot "${ROOT}/site/main"
</VirtualHost>
<VirtualHost *:${PORT}>
    ServerName other.test
    DocumentRoot "${ROOT}/site/other"
</VirtualHost>
"""

COUNT_PY = (f"#!{PY}\nimport sys\n"
            "n = len(sys.stdin.buffer.read())\n"
            "print('Content-Type: text/plain\\n')\nprint(n)\n")
HOST_PY = (f"#!{PY}\nimport os\nprint('Content-Type: text/plain\\n')\n"
           "for k in ('HTTP_HOST', 'SERVER_NAME', 'SERVER_PORT', 'REQUEST_URI', "
           "'SCRIPT_NAME'):\n    print(k, os.environ.get(k))\n")
SCRIPTS = ("count.py", "small/count.py", "up/count.py", "other/count.py", "ht/count.py")
FILES = {"who.txt": b"localhost\n", "main/who.txt": b"main\n", "other/who.txt": b"other\n",
         "host.py": HOST_PY.encode(), "main/host.py": HOST_PY.encode(),
         "other/host.py": HOST_PY.encode(),
         "ht/.htaccess": b"LimitRequestBody 3000\n"}


@pytest.fixture(scope="module")
def request_pair(diff_root: Path) -> Iterator[Pair]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    root = diff_root / "request"
    site_dirs(root)
    for rel in SCRIPTS:
        p = root / "site" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(COUNT_PY)
    for rel, data in FILES.items():
        (root / "site" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "site" / rel).write_bytes(data)
    with serving(root, CONFIG, lambda name: True) as started:
        yield started


def post(server: Server, path: str, body: bytes, *, chunked: bool = False) -> tuple[int, bytes]:
    """One POST sent whole in one write (a server answering 413 before reading the body
    closes; what a client still writes after that could reset the connection)."""
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 700]), body[i:i + 700])
                          for i in range(0, len(body), 700)) + b"0\r\n\r\n"
        length = "Transfer-Encoding: chunked"
    else:
        framed, length = body, f"Content-Length: {len(body)}"
    head = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{length}\r\n"
            "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + framed)
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        return resp.status, resp.read()


@pytest.mark.parametrize(("path", "size", "status"), [
    ("/small/count.py", 5000, 413),  # <Directory> with LimitRequestBody 1000
    ("/small/count.py", 1000, 200),
    ("/count.py", 5000, 200),  # outside it: no limit
    ("/other/count.py", 5000, 200),
    ("/up/count.py", 5000, 413),  # <Location /up> with LimitRequestBody 2000
    ("/up/count.py", 2000, 200),
    ("/ht/count.py", 5000, 413),  # a .htaccess with LimitRequestBody 3000
    ("/ht/count.py", 3000, 200),
])
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_limit_request_body_holds_only_where_it_is_set(
        request_pair: Pair, path: str, size: int, status: int, chunked: bool) -> None:
    body = b"x" * size
    a = post(request_pair.apache, path, body, chunked=chunked)
    o = post(request_pair.ours, path, body, chunked=chunked)
    assert a[0] == o[0] == status, (a, o)
    if status == 200:
        assert a[1] == o[1] == f"{size}\n".encode()


def raw(server: Server, head: str) -> tuple[int, bytes]:
    """``head`` (request line and fields, "\\n"-separated) sent as written."""
    data = (head.strip("\n").replace("\n", "\r\n") + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock, method="GET")
        resp.begin()
        return resp.status, resp.read()


def debug_lines(server: Server, since: int) -> list[str]:
    """The AH lines of vhost.c/protocol.c written after byte ``since`` of the error
    log (their text only: dates and pids differ)."""
    text = server.log("error").read_text(errors="replace")[since:]
    keep = ("AH00550", "AH02415", "AH02416", "AH00569", "AH02417")
    return [line.split("] ", 4)[-1] for line in text.splitlines()
            if any(k in line for k in keep)]


def log_size(server: Server) -> int:
    path = server.log("error")
    return len(path.read_text(errors="replace")) if path.exists() else 0


HOST_CASES = [
    "GET /who.txt HTTP/1.1\nHost: main.test\nHost: main.test",
    "GET /who.txt HTTP/1.1\nHost: main.test\nHost: other.test",
    "GET /who.txt HTTP/1.1\nHost: bad host name",
    "GET /who.txt HTTP/1.1\nHost: a b",
    "GET /who.txt HTTP/1.1\nHost: [::1",
    "GET /who.txt HTTP/1.1\nHost: 123",
    "GET /who.txt HTTP/1.1\nHost: 1.2.3",
    "GET /who.txt HTTP/1.1\nHost: main.test:0",
    "GET /who.txt HTTP/1.1\nHost: a..b",
    "GET /who.txt HTTP/1.1\nHost: ",
    "GET /who.txt HTTP/1.0\nHost: ",
    "GET /who.txt HTTP/1.1\nHost: MAIN.test.",
    "GET /who.txt HTTP/1.1\nHost: [::1]:8080",
    "GET /who.txt HTTP/1.1\nHost: 127.0.0.1",
    # the Host is checked before the method is looked at
    "TRACE /who.txt HTTP/1.1\nHost: a b",
    "SEARCH /who.txt HTTP/1.1\nHost: a b",
    # absolute-form (RFC 9112 3.2.2): the target's host chooses, not the Host field
    "GET http://other.test/who.txt HTTP/1.1\nHost: main.test",
    "GET http://Other.Test.:81/who.txt HTTP/1.1\nHost: main.test",
    "GET http://other.test/who.txt HTTP/1.1\nHost: bad host",
    "GET http://other.test/who.txt HTTP/1.1\nHost: a\nHost: b",
    "GET http://a..b/who.txt HTTP/1.1\nHost: main.test",
    "GET http://other.test/host.py HTTP/1.1\nHost: main.test:8080",
    "GET http://[::1]:81/host.py HTTP/1.1\nHost: main.test",
]


@pytest.mark.parametrize("head", HOST_CASES)
def test_host_handling_as_apache(request_pair: Pair, head: str) -> None:
    """Same status and body, and the same vhost.c lines in the error log (LogLevel
    core:debug shows them)."""
    answers = []
    for server in request_pair.both():
        since = log_size(server)
        access = server.log("access")
        logged = len(access.read_text().splitlines()) if access.exists() else 0
        status, body = raw(server, head + "\nConnection: close")
        wait_for_lines(access, logged + 1)  # written after the error-log lines
        answers.append((status, body, debug_lines(server, since)))
    assert answers[1] == answers[0], head
