"""The CGI queue end to end (``cgi.queue``): a burst larger than CGIMaxProcesses waits
for slots instead of being refused; CGIQueueTimeout refuses with 503, Retry-After and
one error-log line per refusal; a client that closes while queued leaves the queue and
its script never runs. The real ``python -m cgihttpd``, raw sockets, a deadline on
every wait; only processes started here are signalled.
"""

from __future__ import annotations

import functools
import http.client
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import support
from support import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX scripts")

PY = sys.executable
DEADLINE = 30.0
wait_for = functools.partial(support.wait_for, deadline=DEADLINE, interval=0.02)
BURST = 40  # concurrent requests, ten times the slots
SLOTS = 4  # CGIMaxProcesses of the first server

SCRIPTS = {
    # sleeps 0.3 s; records when it ran (CLOCK_MONOTONIC is one clock for all processes)
    "nap.py": f"#!{PY}\nimport os, time\n"
              "start = time.monotonic()\ntime.sleep(0.3)\n"
              "open(os.environ['PIDFILE_DIR'] + '/nap-%d' % os.getpid(), 'w')"
              ".write('%r %r' % (start, time.monotonic()))\n"
              "print('Content-Type: text/plain\\n\\nnapped')\n",
    # holds its slot until the file "release" appears in the directory of its query
    "gate.py": f"#!{PY}\nimport os, time\n"
               "d = os.environ['PIDFILE_DIR'] + '/' + os.environ['QUERY_STRING']\n"
               "open(d + '/gate-%d' % os.getpid(), 'w').close()\n"
               "while not os.path.exists(d + '/release'):\n    time.sleep(0.02)\n"
               "print('Content-Type: text/plain\\n\\npassed')\n",
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
ServerName localhost
DocumentRoot {root}/docs
CustomLog {root}/access.log "%s %X %U"
{extra}
<Directory {root}/docs>
  Require all granted
  Options +ExecCGI
  AddHandler cgi-script .py
  SetEnv PIDFILE_DIR {root}/pids
</Directory>
"""


def make_site(root: Path, extra: str) -> Path:
    (root / "docs").mkdir()
    (root / "pids").mkdir()
    for name, text in SCRIPTS.items():
        (root / "docs" / name).write_text(text)
    (root / "httpd.conf").write_text(CONF.format(root=root, extra=extra))
    return root


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """CGIMaxProcesses 4, the queue's defaults (Timeout, 64 MiB)."""
    root = make_site(tmp_path_factory.mktemp("queue-roomy"), f"CGIMaxProcesses {SLOTS}")
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv, root


@pytest.fixture(scope="module")
def hasty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """One slot, and a request waits for it at most 200 ms."""
    root = make_site(tmp_path_factory.mktemp("queue-hasty"),
                     "CGIMaxProcesses 1\nCGIQueueTimeout 200ms")
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv, root


def get(srv: ServerProcess, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=DEADLINE)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def log_lines(root: Path, marker: str) -> list[str]:
    path = root / "error.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return [line for line in text.splitlines() if marker in line]


def hold(srv: ServerProcess, root: Path, name: str, count: int) -> tuple[Path, list[threading.Thread], list[int]]:
    """``count`` requests to gate.py?NAME, each holding a slot until released."""
    gates = root / "pids" / name
    gates.mkdir()
    statuses: list[int] = []

    def one() -> None:
        statuses.append(get(srv, f"/gate.py?{name}")[0])

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    wait_for(lambda: len(list(gates.glob("gate-*"))) == count, "the slots to be held")
    return gates, threads, statuses


def queued(srv: ServerProcess, name: str) -> socket.socket:
    """A request to gate.py?NAME that is waiting in the queue: it asks for 100-continue,
    which the server answers when it first reads the body, as the queue does while the
    request waits (so the 100 says the request is queued)."""
    sock = socket.create_connection((srv.host, srv.port), timeout=DEADLINE)
    sock.sendall(f"POST /gate.py?{name} HTTP/1.1\r\nHost: localhost\r\n"
                 "Content-Length: 1\r\nExpect: 100-continue\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got:
        data = sock.recv(4096)
        assert data, got
        got += data
    assert got.startswith(b"HTTP/1.1 100 "), got
    return sock


def test_a_burst_ten_times_the_slots_is_served_whole_and_bounded(
        roomy: tuple[ServerProcess, Path]) -> None:
    srv, root = roomy
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def one() -> None:
        status, _, body = get(srv, "/nap.py")
        with lock:
            results.append((status, body))

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    assert sorted(results) == [(200, b"napped\n")] * BURST  # no 503
    spans = []
    for f in (root / "pids").glob("nap-*"):
        start, end = map(float, f.read_text().split())
        spans.append((start, end))
    assert len(spans) == BURST
    # never more than CGIMaxProcesses at once: at each start, count those running
    for start, _ in spans:
        assert sum(1 for s, e in spans if s <= start < e) <= SLOTS
    assert log_lines(root, "refused") == []


def test_a_client_that_leaves_the_queue_gives_its_turn_to_a_live_one(
        roomy: tuple[ServerProcess, Path]) -> None:
    srv, root = roomy
    gates, threads, statuses = hold(srv, root, "leave", SLOTS)
    gone = [queued(srv, "leave") for _ in range(5)]
    live = queued(srv, "leave")  # behind the five
    for sock in gone:
        sock.close()
    wait_for(lambda: len(log_lines(root, "client left the CGI queue")) == 5,
             "the five to leave the queue")
    live.sendall(b"x")
    (gates / "release").touch()
    for t in threads:
        t.join(DEADLINE)
    got = b""
    while b"passed" not in got:
        data = live.recv(4096)
        assert data, got
        got += data
    live.close()
    assert statuses == [200] * SLOTS
    assert got.startswith(b"HTTP/1.1 200 "), got
    # the scripts that ran: the holders and the live one, none for the clients gone
    assert len(list(gates.glob("gate-*"))) == SLOTS + 1
    line = log_lines(root, "client left the CGI queue")[0]
    assert "[cgid:info]" in line and "gate.py" in line
    # they left before sending the body they announced: a body cut short, 400 as
    # Apache logs one (the connection answers it), marked aborted
    wait_for(lambda: (root / "access.log").read_text().count("400 X /gate.py") == 5,
             "the five to be logged 400, aborted")


def test_a_request_that_waits_past_the_queue_timeout_gets_503(
        hasty: tuple[ServerProcess, Path]) -> None:
    srv, root = hasty
    gates, threads, statuses = hold(srv, root, "late", 1)
    try:
        answers = [get(srv, "/nap.py") for _ in range(3)]
    finally:
        (gates / "release").touch()
        for t in threads:
            t.join(DEADLINE)
    assert statuses == [200]
    assert [status for status, _, _ in answers] == [503] * 3
    assert all(headers.get("Retry-After") == "5" for _, headers, _ in answers)
    lines = log_lines(root, "refused")
    assert len(lines) == 3, lines  # one line per refusal, with its reason
    for line in lines:
        assert re.search(r"\[cgid:error\] .*cgihttpd: CGI request refused \(queue time "
                         r"exceeded\) after waiting 0\.\d+ s: no CGI slot came free in "
                         r"0\.2 s .*nap\.py", line), line
    assert list((root / "pids").glob("nap-*")) == []  # none of them ran
