"""The same static request again and again on one connection, on Apache and cgihttpd
(whose quick path answers the repeats, ``App.quick``): the same answers and the same
access-log lines, %k and %X included, also after the file changes between two
requests of the connection, and for conditions and ranges among the repeats.

The config reads ${PORT}, ${ROOT} and ${IMPL} like diffsupport's.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, Pair, Server, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

CONFIG = config_head("authz_core", "mime") + r"""
TypesConfig /etc/mime.types
LogFormat "\"%r\" %>s %b %B %k %X %U %q %H %m \"%{Content-Type}o\" %{ETag}o" quick
CustomLog "${ROOT}/logs/${IMPL}-access.log" quick
DocumentRoot "${ROOT}/site"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
</Directory>
"""

PAGE = "<h1>Hello, CGI</h1>\n"
#: cgihttpd keeps a file's bytes only once it has not changed for this long
#: (static/files.RACY_SECONDS) and its answer is the same for every later request
SETTLE = 3.0
WAIT = 20.0


@pytest.fixture(scope="module")
def quick_pair(diff_root: Path) -> Iterator[Pair]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    root = diff_root / "quick"
    site_dirs(root, {"page.html": PAGE, "style.css": "body{}\n", "moved.html": "one\n"})
    written = time.time()
    with serving(root, CONFIG) as started:
        # the first requests of each case come after the files have settled
        time.sleep(max(0.0, written + SETTLE - time.time()))
        yield started


def exchange(server: Server, requests: list[bytes | str]) -> list[bytes]:
    """Send each request on one connection after the answer to the previous one; a
    ``str`` item is a file to rewrite (``name=text``) before the next request (the
    file is then too fresh for cgihttpd's quick path: the pipeline answers). The
    answers come back with Date and Server masked."""
    answers: list[bytes] = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as s:
        f = s.makefile("rb")
        for item in requests:
            if isinstance(item, str):
                # the same bytes and mtime for both servers (ETag, Last-Modified)
                name, _, text = item.partition("=")
                target = server_site(server) / name
                target.write_text(text)
                then = 1_700_000_000 + len(text)
                os.utime(target, (then, then))
                continue
            s.sendall(item)
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = f.readline()
                if not line:
                    break
                head += line
            length = re.search(rb"(?i)\r\ncontent-length: (\d+)", head)
            body = b""
            if length and not item.startswith(b"HEAD") and not head.startswith(
                    b"HTTP/1.1 304"):
                body = f.read(int(length.group(1)))
            head = re.sub(rb"\r\n(Date|Server): [^\r]*", rb"\r\n\1: -", head)
            answers.append(head + body)
    return answers


def server_site(server: Server) -> Path:
    return server.log("access").parent.parent / "site"


def get(path: str, *extra: str, method: str = "GET", version: str = "1.1") -> bytes:
    fields = "".join(f"{f}\r\n" for f in ("Host: localhost", *extra))
    return f"{method} {path} HTTP/{version}\r\n{fields}\r\n".encode()


KA = "Connection: keep-alive"
CASES: dict[str, list[bytes | str]] = {
    "keep-alive, then close": [get("/page.html", KA)] * 4 + [
        get("/page.html", "Connection: close")],
    "HTTP/1.1 without a token": [get("/page.html")] * 3 + [
        get("/page.html", "Connection: close")],
    "HEAD": [get("/style.css", KA, method="HEAD")] * 3 + [
        get("/style.css", "Connection: close", method="HEAD")],
    "a query": [get("/page.html?x=1&y", KA)] * 3 + [
        get("/page.html?x=1&y", "Connection: close")],
    "HTTP/1.0": [get("/page.html", KA, version="1.0")] * 3 + [
        get("/page.html", version="1.0")],
    "conditions and ranges among the repeats": [
        get("/page.html", KA), get("/page.html", KA),
        get("/page.html", KA, "Range: bytes=0-3"), get("/page.html", KA),
        get("/page.html", KA, "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"),
        get("/page.html", KA, "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT"),
        get("/page.html", "Connection: close")],
    "the file changes between two requests": [
        "moved.html=one\n", get("/moved.html", KA), get("/moved.html", KA), "moved.html=two, longer\n",
        get("/moved.html", KA), "moved.html=one\n", get("/moved.html", "Connection: close")],
}


@pytest.mark.parametrize("case", list(CASES))
def test_repeats_as_apache(quick_pair: Pair, case: str) -> None:
    got = []
    for server in quick_pair.both():
        path = server.log("access")
        before = len(path.read_text().splitlines()) if path.exists() else 0
        answers = exchange(server, CASES[case])
        count = sum(isinstance(r, bytes) for r in CASES[case])
        lines = wait_for_lines(path, before + count)[before:]
        got.append((answers, lines))
    (apache_answers, apache_lines), (ours_answers, our_lines) = got
    assert len(apache_answers) == len(ours_answers)
    for a, o in zip(apache_answers, ours_answers, strict=True):
        assert o == a
    assert our_lines == apache_lines
