"""Big static files by sendfile end to end (docs/design.md §7): the real server, files
of 1 MiB and 10 MiB served with sendfile (cgihttpd's default) and without it
(``EnableSendfile Off`` in a <Directory>), compared byte for byte; ranges, HEAD,
keep-alive after a file, and a client that goes away mid-file (the server's open
descriptors come back to what they were)."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess

CONF = """
ServerRoot "{root}"
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule mime_module modules/mod_mime.so
Listen 127.0.0.1:8080
ServerName localhost
ErrorLog "{root}/logs/error.log"
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/logs/access.log" common
DocumentRoot "{root}/www"
<Directory "{root}/www">
    Require all granted
</Directory>
<Directory "{root}/www/nosf">
    EnableSendfile Off
</Directory>
"""

SIZES = {"m1.bin": 1 << 20, "m10.bin": 10 << 20}
WAIT = 15.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    root = tmp_path_factory.mktemp("sendfile")
    for sub in ("www", "www/nosf", "logs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        data = os.urandom(size)
        (root / "www" / name).write_bytes(data)
        (root / "www" / "nosf" / name).write_bytes(data)
    (root / "httpd.conf").write_text(CONF.format(root=root))
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as proc:
        yield proc, root


def get(proc: ServerProcess, path: str, method: str = "GET",
        headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(proc.host, proc.port, timeout=WAIT)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


DIRS = pytest.mark.parametrize("prefix", ["/", "/nosf/"], ids=["sendfile", "no-sendfile"])


@DIRS
@pytest.mark.parametrize("name", sorted(SIZES))
def test_byte_exact(server: tuple[ServerProcess, Path], prefix: str, name: str) -> None:
    proc, root = server
    resp, body = get(proc, prefix + name)
    assert resp.status == 200 and resp.getheader("Content-Length") == str(SIZES[name])
    assert hashlib.sha256(body).digest() == hashlib.sha256(
        (root / "www" / name).read_bytes()).digest()


@DIRS
def test_ranges(server: tuple[ServerProcess, Path], prefix: str) -> None:
    proc, root = server
    data = (root / "www" / "m10.bin").read_bytes()
    resp, body = get(proc, prefix + "m10.bin", headers={"Range": "bytes=100-4000000"})
    assert resp.status == 206 and body == data[100:4000001]
    assert resp.getheader("Content-Range") == f"bytes 100-4000000/{len(data)}"
    resp, body = get(proc, prefix + "m10.bin", headers={"Range": "bytes=-70000"})
    assert resp.status == 206 and body == data[-70000:]
    resp, body = get(proc, prefix + "m10.bin",
                     headers={"Range": "bytes=0-99999,5000000-5199999"})
    assert resp.status == 206
    ctype = resp.getheader("Content-Type") or ""
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    parts = [p for p in body.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
    assert [p.split(b"\r\n\r\n", 1)[1][:-2] for p in parts] == [
        data[0:100000], data[5000000:5200000]]


@DIRS
def test_head_and_keep_alive(server: tuple[ServerProcess, Path], prefix: str) -> None:
    proc, root = server
    data = (root / "www" / "m1.bin").read_bytes()
    conn = http.client.HTTPConnection(proc.host, proc.port, timeout=WAIT)
    try:
        for method in ("HEAD", "GET", "GET", "HEAD"):
            conn.request(method, prefix + "m1.bin")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200 and resp.getheader("Content-Length") == str(len(data))
            assert body == (b"" if method == "HEAD" else data)
    finally:
        conn.close()


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/PID/fd")
@DIRS
def test_client_gone_mid_file(server: tuple[ServerProcess, Path], prefix: str) -> None:
    proc, root = server
    get(proc, prefix + "m1.bin")  # the server's threads and caches are up
    before = _open_fds(proc.proc.pid)
    for _ in range(5):
        s = socket.create_connection((proc.host, proc.port), timeout=WAIT)
        s.sendall(f"GET {prefix}m10.bin HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = 0
        while got < 200_000:
            chunk = s.recv(65536)
            assert chunk
            got += len(chunk)
        # a reset, not a polite close: the server's next send fails at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    end = time.monotonic() + WAIT
    while _open_fds(proc.proc.pid) > before and time.monotonic() < end:
        time.sleep(0.05)
    assert _open_fds(proc.proc.pid) <= before
    resp, body = get(proc, prefix + "m1.bin")
    assert resp.status == 200 and body == (root / "www" / "m1.bin").read_bytes()
    access = (root / "logs" / "access.log").read_text()
    assert f"GET {prefix}m10.bin HTTP/1.1\" 200" in access
