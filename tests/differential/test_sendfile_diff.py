"""Big files with ``EnableSendfile On`` (cgihttpd's default: sendfile(2)) and ``Off``
(read and written), on Debian's Apache and on cgihttpd from one config: the same
status, headers and bytes, whole, in ranges, by HEAD. Apache's default is Off; the
client cannot tell, which is what makes our default On safe (docs/design.md §7)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, start_pair, stop_pair

from support import readable_by_all

pytestmark = pytest.mark.differential

CONF = r"""
ServerRoot "${ROOT}"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
Listen 127.0.0.1:${PORT}
ServerName localhost
PidFile "${ROOT}/run/${IMPL}.pid"
Mutex file:${ROOT}/run default
DefaultRuntimeDir "${ROOT}/run"
ErrorLog "${ROOT}/logs/${IMPL}-error.log"
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
    EnableSendfile On
</Directory>
<Directory "${ROOT}/site/off">
    EnableSendfile Off
</Directory>
"""

SIZE = 3 * 1024 * 1024 + 7
MTIME = 1_700_000_000
HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Accept-Ranges",
           "Content-Range")


@pytest.fixture(scope="module")
def sf_pair(diff_root: Path) -> Iterator[tuple[Pair, bytes]]:
    root = diff_root / "sendfile"
    data = os.urandom(SIZE)
    for sub in ("logs", "run", "site/off"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for rel in ("site/big.bin", "site/off/big.bin"):
        (root / rel).write_bytes(data)
        os.utime(root / rel, (MTIME, MTIME))
    readable_by_all(root)
    conf = root / "httpd.conf"
    conf.write_text(CONF)
    os.chmod(conf, 0o644)
    pair = start_pair(root, conf)
    try:
        yield pair, data
    finally:
        stop_pair(pair)


@pytest.mark.parametrize("path", ["/big.bin", "/off/big.bin"], ids=["on", "off"])
@pytest.mark.parametrize(("method", "range_"), [
    ("GET", None), ("HEAD", None), ("GET", "bytes=1000-2099999"), ("GET", "bytes=-65537"),
    ("GET", "bytes=0-99,3000000-")])
def test_same_bytes_as_apache(sf_pair: tuple[Pair, bytes], path: str, method: str,
                              range_: str | None) -> None:
    pair, data = sf_pair
    answers = []
    for server in pair.both():
        resp = server.request(method, path, {"Range": range_} if range_ else None)
        body = resp.body
        ctype = resp.header("Content-Type") or ""
        if "boundary=" in ctype:  # each server draws its own boundary
            boundary = ctype.split("boundary=")[1].encode()
            body = body.replace(boundary, b"BOUNDARY")
            ctype = ctype.split("boundary=")[0]
        headers = {h: resp.header(h) for h in HEADERS}
        headers["Content-Type"] = ctype
        if "boundary=" in (resp.header("Content-Type") or ""):
            # Apache's boundary is of varying length (apr's %lx): the length is the
            # body's, compared through its hash
            assert headers.pop("Content-Length") == str(len(resp.body))
        answers.append((resp.status, headers, hashlib.sha256(body).hexdigest()))
    assert answers[1] == answers[0], f"{method} {path} {range_} (left: cgihttpd)"
    if method == "GET" and range_ is None:
        assert answers[0][2] == hashlib.sha256(data).hexdigest()
