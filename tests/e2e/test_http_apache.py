"""The HTTP layer beside Debian's Apache 2.4 on the same config: the same raw bytes sent
to both, the same status and (for the pages the protocol writes itself) the same body.
Part of the differential group."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from _http_helpers import WAIT, connect, read_response, read_until_close

from support import ServerProcess, free_port

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
pytestmark = pytest.mark.differential


@pytest.fixture(autouse=True)
def _apache_installed() -> None:
    # a missing oracle must fail the run, not shrink it (scripts/install-test-deps)
    assert os.access(APACHE, os.X_OK), f"{APACHE} is not installed"

CONF = """\
ServerRoot "${ROOT}"
Listen 127.0.0.1:${PORT}
PidFile "${ROOT}/${IMPL}.pid"
Mutex file:${ROOT}
LoadModule mpm_event_module @MODULES@/mod_mpm_event.so
LoadModule authz_core_module @MODULES@/mod_authz_core.so
LoadModule dir_module @MODULES@/mod_dir.so
LoadModule mime_module @MODULES@/mod_mime.so
LoadModule reqtimeout_module @MODULES@/mod_reqtimeout.so
TypesConfig /etc/mime.types
ServerName localhost
DocumentRoot "${ROOT}/htdocs"
ErrorLog "${ROOT}/${IMPL}-error.log"
MaxKeepAliveRequests 3
RequestReadTimeout header=1-2,MinRate=500
<Directory "${ROOT}/htdocs">
    Require all granted
</Directory>
""".replace("@MODULES@", MODULES)


@dataclass
class Both:
    apache: int
    ours: int


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    root = tmp_path_factory.mktemp("apache-http")
    (root / "htdocs").mkdir()
    (root / "htdocs" / "index.html").write_text("hello\n")
    conf = root / "httpd.conf"
    conf.write_text(CONF)
    port = free_port()
    env = dict(os.environ, ROOT=str(root), PORT=str(port), IMPL="apache")
    out = open(root / "apache.out", "wb")  # noqa: SIM115 - closed below
    apache = subprocess.Popen([APACHE, "-f", str(conf), "-DFOREGROUND"], env=env,
                              stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    ours = ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"],
                         env={"ROOT": str(root), "PORT": "1", "IMPL": "cgihttpd"})
    try:
        ours.wait_ready()
        _wait_port(port, apache)
        yield Both(port, ours.port)
    finally:
        ours.stop()
        apache.terminate()
        try:
            apache.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            apache.kill()
            apache.wait(timeout=WAIT)
        out.close()


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    import time

    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        if proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"apache2 did not start (rc={proc.poll()})")


def raw(port: int, data: bytes) -> tuple[str, bytes, dict[str, str]]:
    with connect(("127.0.0.1", port)) as s:
        s.sendall(data)
        out = read_until_close(s)
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (x.split(": ", 1) for x in lines[1:] if ": " in x)}
    return lines[0], body, headers


def both_raw(b: Both, data: bytes) -> tuple[tuple[str, bytes, dict[str, str]],
                                            tuple[str, bytes, dict[str, str]]]:
    return raw(b.apache, data), raw(b.ours, data)


def line_of(n: int) -> bytes:
    stem = "GET /index.html HTTP/1.1"
    return b"GET /index.html" + b"?" + b"a" * (n - len(stem) - 1) + b" HTTP/1.1"


CASES = {
    "request line at the limit + 1": line_of(8191) + b"\r\nHost: x\r\nConnection: close\r\n\r\n",
    "request line too long": line_of(8192) + b"\r\nHost: x\r\n\r\n",
    "field at the limit + 1": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX: "
                              + b"v" * 8188 + b"\r\n\r\n",
    "field too long": b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"v" * 8189 + b"\r\n\r\n",
    "100 fields": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  + b"".join(b"X-%d: y\r\n" % i for i in range(98)) + b"\r\n",
    "101 fields": b"GET / HTTP/1.1\r\nHost: x\r\n"
                  + b"".join(b"X-%d: y\r\n" % i for i in range(100)) + b"\r\n",
    "garbage": b"GARBAGE\r\n\r\n",
    "1.1 without Host": b"GET / HTTP/1.1\r\n\r\n",
    "1.0 close": b"GET / HTTP/1.0\r\n\r\n",
    "partial head times out": b"GET / HTTP/1.1\r\nHost: x\r\n",
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_status_and_error_page(both: Both, case: str) -> None:
    (a_status, a_body, a_headers), (o_status, o_body, o_headers) = both_raw(both, CASES[case])
    assert o_status == a_status
    assert o_headers.get("connection") == a_headers.get("connection")
    if int(a_status.split()[1]) >= 400:
        assert o_body == a_body
        assert o_headers["content-type"] == a_headers["content-type"]


def test_idle_connection_closed_without_a_word(both: Both) -> None:
    for port in (both.apache, both.ours):
        with connect(("127.0.0.1", port)) as s:
            s.sendall(b"GET /ind")  # no complete request line before the deadline
            assert read_until_close(s) == b""


def test_same_keep_alive_headers(both: Both) -> None:
    seen = []
    for port in (both.apache, both.ours):
        with connect(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 4)
            buf = bytearray()
            answers = [read_response(s, buf) for _ in range(4)]
            assert read_until_close(s) == b""
        seen.append([(a.headers.get("keep-alive"), a.headers.get("connection"))
                     for a in answers])
    assert seen[1] == seen[0]
    assert seen[0][-1] == (None, "close")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
