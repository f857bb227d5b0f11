"""Hostile and unlucky clients against the real server, over raw sockets (issue 10):
malformed request lines and bodies get Apache's answers at once, clients that stop
reading are dropped after ``Timeout``, and slow clients are cut off by
``RequestReadTimeout``. Each status here was checked against apache2 2.4.71 (the same
cases run against it in tests/differential/test_framing_diff.py).

Every wait is bounded; the bounds are generous (several times the configured
timeouts) and say only that something happened, not how fast.
"""

from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, raw_request
from support import running as alive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX scripts and /proc")

PY = sys.executable
TIMEOUT = 2  # Timeout (the write deadline) and, without mod_reqtimeout, the read ones
MAX_CGI = 8  # CGIMaxProcesses
HOGS = 16  # clients that request a large output and never read
WAIT = 30.0  # the bound on every wait below

SCRIPTS = {
    "count.py": (f"#!{PY}\nimport sys\nn = len(sys.stdin.buffer.read())\n"
                 "print('Content-Type: text/plain\\n\\n%d' % n)\n"),
    # a large output, written until the script is stopped; notes its pid
    "big.py": (f"#!{PY}\nimport os, sys\n"
               "open(os.environ['PIDFILE_DIR'] + '/big-%d.pid' % os.getpid(), 'w').close()\n"
               "out = sys.stdout.buffer\nout.write(b'Content-Type: text/plain\\r\\n\\r\\n')\n"
               "for i in range(512):\n    out.write(b'x' * (1 << 20))\n"),
    "hello.py": f"#!{PY}\nprint('Content-Type: text/plain\\n\\nhello')\n",
}

CONF = """\
ServerRoot {root}
Listen 127.0.0.1:1
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel info
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule log_config_module /usr/lib/apache2/modules/mod_log_config.so
{reqtimeout}
ServerName localhost
DocumentRoot {root}/docs
Timeout {timeout}
CGIMaxProcesses {max_cgi}
# the queue for a slot waits longer than Timeout: the probe behind the non-reading
# clients gets a slot when the write deadline frees theirs, not a 503 (issue 10 queue)
CGIQueueTimeout 30
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {root}/access.log common
<Directory />
  Require all granted
</Directory>
<Directory {root}/docs>
  Options +ExecCGI
  AddHandler cgi-script .py
  SetEnv PIDFILE_DIR {root}/pids
</Directory>
"""


def make_site(root: Path, reqtimeout: str = "", timeout: int = TIMEOUT) -> Path:
    (root / "docs").mkdir()
    (root / "pids").mkdir()
    for name, text in SCRIPTS.items():
        (root / "docs" / name).write_text(text)
    (root / "docs" / "f.txt").write_text("hello\n")
    (root / "httpd.conf").write_text(CONF.format(root=root, timeout=timeout, max_cgi=MAX_CGI,
                                                 reqtimeout=reqtimeout))
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_site(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[ServerProcess]:
    with ServerProcess(["-f", str(site / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


def until(cond, deadline: float = WAIT) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def talk(addr: tuple[str, int], data: bytes) -> bytes:
    """Send ``data`` and read until the server closes (bounded)."""
    return raw_request(addr, data, timeout=WAIT)


def statuses(raw: bytes) -> list[int]:
    return [int(m) for m in re.findall(rb"^HTTP/1\.1 (\d{3}) ", raw, re.M)]


def access_lines(site: Path, count: int) -> list[str]:
    path = site / "access.log"
    until(lambda: path.exists() and len(path.read_text().splitlines()) >= count, 10)
    return path.read_text().splitlines() if path.exists() else []


# --- request lines and headers ------------------------------------------------------------

HEAD_CASES = [
    # (request, expected status or None for an HTTP/0.9 answer, the logged request line)
    (b"GET /f.txt\r\n", None, "GET /f.txt"),
    (b"HEAD /f.txt\r\n", 400, "HEAD /f.txt"),
    (b"GET  /f.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, "GET /f.txt HTTP/1.1"),
    (b"GET /f.txt  HTTP/1.1\r\nHost: x\r\n\r\n", 400, "GET /f.txt HTTP/1.1"),
    (b"GET ftp://h/f.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, "GET ftp://h/f.txt HTTP/1.1"),
    (b"GET http://u:pw@h/f.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     "GET http://u:XXXXXXXX@h/f.txt HTTP/1.1"),
    (b"GET http://u@h/f.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, "GET http://u@h/f.txt HTTP/1.1"),
    (b"GET /f.txt HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n\r\n", 417, "GET /f.txt HTTP/1.1"),
    (b"GET /f.txt HTTP/1.0\r\nExpect: bogus\r\n\r\n", 417, "GET /f.txt HTTP/1.0"),
    (b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "OPTIONS * HTTP/1.1"),
    (b"CONNECT h:443 HTTP/1.1\r\nHost: x\r\n\r\n", 405, "CONNECT h:443 HTTP/1.1"),
    (b"GET /f.txt HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "GET /f.txt HTTP/1.2"),
    (b"GET /f.txt HTTP/1.2\r\nConnection: close\r\n\r\n", 400, "GET /f.txt HTTP/1.2"),
    (b"POST /count.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n"
     b"0\r\n\r\n", 400, "POST /count.py HTTP/1.1"),
]


@pytest.mark.parametrize(("request_bytes", "status", "logged"), HEAD_CASES,
                         ids=[repr(c[0][:24]) for c in HEAD_CASES])
def test_request_line_and_header_cases_as_apache(
        server: ServerProcess, site: Path, request_bytes: bytes, status: int | None,
        logged: str) -> None:
    before = len(access_lines(site, 0))
    raw = talk(server.address, request_bytes)
    if status is None:
        assert raw == b"hello\n"  # HTTP/0.9: the body alone, then close
    else:
        assert statuses(raw) == [status], raw[:200]
        assert raw.startswith(b"HTTP/1.1 ")
    lines = access_lines(site, before + 1)
    assert len(lines) == before + 1, lines[before:]
    assert f'"{logged}" {status or 200} ' in lines[-1]


def test_options_star_has_no_body_and_connect_says_allow(server: ServerProcess) -> None:
    raw = talk(server.address, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"\r\nContent-Length: 0\r\n" in raw and raw.endswith(b"\r\n\r\n")
    raw = talk(server.address, b"CONNECT h:443 HTTP/1.1\r\nHost: x\r\n\r\n")
    allow = re.search(rb"\r\nAllow: ([^\r]*)\r\n", raw)
    assert allow is not None
    assert set(allow.group(1).split(b",")) == {b"GET", b"HEAD", b"POST", b"OPTIONS", b"TRACE"}


def test_http09_reads_nothing_after_its_line(server: ServerProcess) -> None:
    raw = talk(server.address, b"GET /f.txt\r\nHost: x\r\n\r\nGET /f.txt HTTP/1.1\r\n"
                               b"Host: x\r\n\r\n")
    assert raw == b"hello\n"


# --- malformed bodies ------------------------------------------------------------------

BODY_CASES = [
    (b"zz\r\nabc\r\n0\r\n\r\n", 400),
    (b"-5\r\nabcde\r\n0\r\n\r\n", 400),
    (b"0x5\r\nabcde\r\n0\r\n\r\n", 400),
    (b" 5\r\nabcde\r\n0\r\n\r\n", 400),
    (b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 413),  # past any chunk size
    (b"8000000000000000\r\nabc\r\n0\r\n\r\n", 413),  # past apr_off_t, not uint64
    (b"3\r\nabcdef\r\n0\r\n\r\n", 400),  # data longer than its size
    (b"3\r\nabc\n0\r\n\r\n", 400),  # bad CRLF
]


@pytest.mark.parametrize(("body", "status"), BODY_CASES, ids=[repr(b[:8]) for b, _ in BODY_CASES])
@pytest.mark.parametrize("path", ["/count.py", "/f.txt"])
def test_malformed_chunked_body_is_answered_at_once(
        server: ServerProcess, site: Path, body: bytes, status: int, path: str) -> None:
    """One answer, Apache's status (not 408 after the read timeout, nor 200 then 400),
    logged with it; the request pipelined behind it is never parsed."""
    before = len(access_lines(site, 0))
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    raw = talk(server.address, head + body + b"GET /hello.py HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses(raw) == [status], raw[:300]
    lines = access_lines(site, before + 1)
    assert len(lines) == before + 1, lines[before:]
    assert f'"POST {path} HTTP/1.1" {status} ' in lines[-1]


# --- clients that stop reading ------------------------------------------------------------


def test_clients_that_stop_reading_are_dropped_and_their_scripts_stopped(
        server: ServerProcess, site: Path) -> None:
    """HOGS clients request a large output and never read: after Timeout each is
    dropped, its script stopped and its CGIMaxProcesses slot freed, so another CGI
    request is answered meanwhile."""
    pids = site / "pids"
    for old in pids.glob("big-*.pid"):
        old.unlink()
    hogs = []
    try:
        for _ in range(HOGS):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(WAIT)
            s.connect(server.address)
            s.sendall(b"GET /big.py HTTP/1.1\r\nHost: x\r\n\r\n")
            hogs.append(s)
        # the first scripts run (and fill every slot) before the probe is sent
        assert until(lambda: len(list(pids.glob("big-*.pid"))) >= MAX_CGI)
        probe = talk(server.address, b"GET /hello.py HTTP/1.1\r\nHost: x\r\n"
                                     b"Connection: close\r\n\r\n")
        assert statuses(probe) == [200] and b"hello\n" in probe
        # every non-reading connection is closed before its response is complete
        for s in hogs:
            got, end = 0, time.monotonic() + WAIT
            while time.monotonic() < end:
                try:
                    data = s.recv(1 << 20)
                except (TimeoutError, ConnectionResetError):
                    break
                if not data:
                    break
                got += len(data)
            assert got < 512 << 20
    finally:
        for s in hogs:
            s.close()
    started = [int(p.name[4:-4]) for p in pids.glob("big-*.pid")]
    assert started
    assert until(lambda: not any(alive(pid) for pid in started)), \
        [pid for pid in started if alive(pid)]


# --- slow clients (RequestReadTimeout) ---------------------------------------------------

HEADER_MAX = 4  # RequestReadTimeout header=2-4,MinRate=500
BODY_INITIAL = 2  # body=2,MinRate=500


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Timeout well above the body bound: the script's own (CGIScriptTimeout) must
    # not answer first
    # not answer first. The body bound is slow.test's own (a vhost's body= is its own);
    # patient.test has the server's.
    root = tmp_path_factory.mktemp("slow")
    return make_site(root, timeout=30, reqtimeout=(
        "LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so\n"
        f"RequestReadTimeout header=2-{HEADER_MAX},MinRate=500 body=60\n"
        f"<VirtualHost *:80>\nServerName slow.test\nDocumentRoot {root}/docs\n"
        f"RequestReadTimeout body={BODY_INITIAL},MinRate=500\n</VirtualHost>\n"
        f"<VirtualHost *:80>\nServerName patient.test\nDocumentRoot {root}/docs\n"
        "</VirtualHost>\n"))


@pytest.fixture(scope="module")
def slow_server(slow_site: Path) -> Iterator[ServerProcess]:
    with ServerProcess(["-f", str(slow_site / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


def trickle(addr: tuple[str, int], host: str, length: int) -> tuple[bytes, int]:
    """POST ``length`` body bytes to /count.py a byte every 0.25 s, stopping early if
    the server answers; what came back, and how many bytes were sent."""
    with socket.create_connection(addr, timeout=WAIT) as s:
        s.sendall(f"POST /count.py HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}"
                  "\r\nConnection: close\r\n\r\n".encode())
        s.setblocking(False)
        raw, sent = b"", 0
        end = time.monotonic() + WAIT
        while time.monotonic() < end and sent < length:
            try:
                got = s.recv(65536)
                if not got:
                    break
                raw += got
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
            try:
                s.send(b"x")
                sent += 1
            except OSError:
                break
            time.sleep(0.25)
        s.setblocking(True)
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            try:
                got = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not got:
                break
            raw += got
    return raw, sent


def test_a_body_trickled_a_byte_at_a_time_is_cut_off(slow_server: ServerProcess,
                                                      slow_site: Path) -> None:
    """slow.test's body=2,MinRate=500 is one deadline for the whole body (2 s plus
    1 s per 500 bytes), not one per byte: a byte every 0.25 s is answered 408 long
    before the 100 bytes announced have come, and logged 408 as Apache logs it."""
    before = len(access_lines(slow_site, 0))
    raw, sent = trickle(slow_server.address, "slow.test", 100)
    assert statuses(raw) == [408], (sent, raw[:200])
    assert sent < 100
    lines = access_lines(slow_site, before + 1)
    assert '"POST /count.py HTTP/1.1" 408 ' in lines[-1]


def test_another_vhost_reads_by_the_servers_body_bound(slow_server: ServerProcess) -> None:
    """patient.test has no body= of its own: the server's body=60 lets the same
    trickle (20 bytes, 5 s) finish."""
    raw, sent = trickle(slow_server.address, "patient.test", 20)
    assert sent == 20
    # the length or chunked framing of a short script output is a timing choice
    assert statuses(raw) == [200] and b"20\n" in raw.split(b"\r\n\r\n", 1)[1], raw[-200:]


def test_silent_and_trickling_connections_are_closed_within_the_header_bound(
        slow_server: ServerProcess) -> None:
    """Of 20 connections, 10 send nothing and 10 trickle a head a byte every 0.25 s:
    all are closed by the server within header=2-4 (plus a margin for a busy
    machine)."""
    head = b"GET /f.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 400
    socks = []
    for _ in range(20):
        s = socket.create_connection(slow_server.address, timeout=WAIT)
        s.setblocking(False)
        socks.append(s)
    trickling = set(range(10))
    sent = [0] * 20
    open_ = set(range(20))
    start = time.monotonic()
    try:
        while open_ and time.monotonic() - start < HEADER_MAX + 10:
            for i in list(open_):
                s = socks[i]
                try:
                    if s.recv(65536) == b"":
                        open_.discard(i)
                        continue
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    open_.discard(i)
                    continue
                if i in trickling and sent[i] < len(head):
                    try:
                        sent[i] += s.send(head[sent[i]:sent[i] + 1])
                    except OSError:
                        open_.discard(i)
            time.sleep(0.25)
    finally:
        for s in socks:
            s.close()
    assert not open_, f"still open after {HEADER_MAX + 10} s: {sorted(open_)}"
    # the trickles were cut off, not finished
    assert all(sent[i] < len(head) for i in trickling)


def test_a_head_split_after_a_chunked_body_is_parsed_whole(server: ServerProcess) -> None:
    """A chunked body's read goes to llhttp whole, so the next request's head may begin
    there unmeasured; its rest, in the next read, is the same head (not a request line
    to check again)."""
    with socket.create_connection(server.address, timeout=WAIT) as s:
        s.sendall(b"POST /count.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3\r\nabc\r\n0\r\n\r\nGET /f.txt HTTP/1.1\r\nHo")
        time.sleep(0.5)  # the two reads must not merge (no assertion on time)
        s.sendall(b"st: x\r\nConnection: close\r\n\r\n")
        raw, end = b"", time.monotonic() + WAIT
        while time.monotonic() < end:
            try:
                got = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not got:
                break
            raw += got
    assert statuses(raw) == [200, 200], raw
    assert raw.endswith(b"hello\n")
