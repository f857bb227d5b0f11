"""Request framing on Apache and cgihttpd from one config (issue 10): request-line and
header edge cases (RFC 9112 section 3, RFC 9110 sections 9.3.6-7 and 10.1.1) and
malformed chunked bodies (RFC 9112 section 7.1). For each raw request both servers must
give the same status (or the same HTTP/0.9 body), and log the same request line,
status and body size.

The config (``CONFIG``) reads ${PORT}, ${ROOT} and ${IMPL} like diffsupport's.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, Pair, Server, config_head, serving, site_dirs, wait_for_lines

from support import raw_request

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

CONFIG = config_head("authz_core", "mime", "cgid") + r"""
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
"""

COUNT_PY = (f"#!{PY}\nimport sys\nn = len(sys.stdin.buffer.read())\n"
            "print('Content-Type: text/plain\\n')\nprint(n)\n")
WAIT = 30.0


@pytest.fixture(scope="module")
def framing_pair(diff_root: Path) -> Iterator[Pair]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    root = diff_root / "framing"
    site_dirs(root, {"count.py": COUNT_PY, "f.txt": "hello\n"})
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


def talk(server: Server, data: bytes) -> bytes:
    """``data`` sent as is; what comes back until the server closes (bounded)."""
    return raw_request(("127.0.0.1", server.port), data, timeout=WAIT)


def answer(raw: bytes) -> str:
    """The status of each response, or the whole of an HTTP/0.9 one (no head)."""
    found = re.findall(rb"^HTTP/1\.1 (\d{3}) ", raw, re.M)
    return " ".join(s.decode() for s in found) if found else f"0.9:{raw!r}"


def logged(server: Server, before: int) -> list[str]:
    """The access-log lines after the first ``before``, without client and date."""
    lines = wait_for_lines(server.log("access"), before + 1)
    return [line.split("] ", 1)[-1] for line in lines[before:]]


def log_count(server: Server) -> int:
    path = server.log("access")
    return len(path.read_text(encoding="latin-1").splitlines()) if path.exists() else 0


CLOSE = b"Connection: close\r\n"
HEAD_CASES = [
    b"GET /f.txt\r\n",  # HTTP/0.9
    b"GET /f.txt\r\nHost: x\r\n\r\nGET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD /f.txt\r\n",
    b"POST /count.py\r\n",
    b"GET  /f.txt HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt  HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt HTTP/1.1 \r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET ftp://h/f.txt HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET http://u:pw@h/f.txt HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET http://u@h/f.txt HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET https://localhost/f.txt HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt HTTP/1.0\r\nExpect: bogus\r\n" + CLOSE + b"\r\n",
    b"POST /count.py HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 3\r\n"
    + CLOSE + b"\r\nabc",
    b"GET /f.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n" + CLOSE + b"\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET * HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"CONNECT h:443 HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt HTTP/1.2\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt HTTP/1.2\r\n" + CLOSE + b"\r\n",
    b"GET /f.txt http/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n",
    b"POST /count.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n"
    b"0\r\n\r\n",
    b"POST /count.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n3\r\nabc\r\n"
    b"0\r\n\r\n",
]

CHUNKED_BODIES = [
    b"zz\r\nabc\r\n0\r\n\r\n",
    b"-5\r\nabcde\r\n0\r\n\r\n",
    b"0x5\r\nabcde\r\n0\r\n\r\n",
    b" 5\r\nabcde\r\n0\r\n\r\n",
    b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",  # overflows: 413
    b"8000000000000000\r\nabc\r\n0\r\n\r\n",  # past a signed 64-bit size: 413
    b"3\r\nabc\r\n0000ffffffffffffffff\r\nabc\r\n0\r\n\r\n",  # the same, later
    b"0000000000000000003\r\nabc\r\n0\r\n\r\n",  # leading zeros do not count
    b"3\r\nabcdef\r\n0\r\n\r\n",  # data longer than its size
    b"3\r\nabcXY0\r\n\r\n",  # no CRLF after the data
    b"3\r\nabc\n0\r\n\r\n",  # LF alone after the data
]
BODY_CASES = [
    f"{method} {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + body
    for method, path in (("POST", "/count.py"), ("POST", "/f.txt"), ("GET", "/f.txt"))
    for body in CHUNKED_BODIES
]


@pytest.mark.parametrize("data", HEAD_CASES + BODY_CASES,
                         ids=[repr(c[:40]) for c in HEAD_CASES + BODY_CASES])
def test_framing_as_apache(framing_pair: Pair, data: bytes) -> None:
    got = []
    for server in framing_pair.both():
        before = log_count(server)
        raw = talk(server, data)
        got.append((answer(raw), logged(server, before)))
    assert got[1] == got[0], data
