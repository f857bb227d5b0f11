"""Request-level settings on Apache and cgihttpd from one config: LimitRequestBody set
in a <Directory> or a <Location> holds there and nowhere else (core docs: context server
config, virtual host, directory, .htaccess).

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
from diffsupport import APACHE, Pair, Server, start_pair, stop_pair

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

CONFIG = r"""
ServerRoot "${ROOT}"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
Listen 127.0.0.1:${PORT}
ServerName localhost
PidFile "${ROOT}/run/${IMPL}.pid"
Mutex file:${ROOT}/run default
DefaultRuntimeDir "${ROOT}/run"
ScriptSock "${ROOT}/run/${IMPL}-cgid.sock"
ErrorLog "${ROOT}/logs/${IMPL}-error.log"
LogLevel info
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
"""

COUNT_PY = (f"#!{PY}\nimport sys\n"
            "n = len(sys.stdin.buffer.read())\n"
            "print('Content-Type: text/plain\\n')\nprint(n)\n")
SCRIPTS = ("count.py", "small/count.py", "up/count.py", "other/count.py")


@pytest.fixture(scope="module")
def request_pair(diff_root: Path) -> Iterator[Pair]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    root = diff_root / "request"
    for sub in ("logs", "run", "site"):
        (root / sub).mkdir(parents=True)
    for rel in SCRIPTS:
        p = root / "site" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(COUNT_PY)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    conf = root / "httpd.conf"
    conf.write_text(CONFIG)
    os.chmod(conf, 0o644)
    started = start_pair(root, conf)
    try:
        yield started
    finally:
        stop_pair(started)


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
