"""mod_status with ``--workers 2``: the real server, two worker processes, and
``/server-status?auto`` asked over new connections, so that either worker answers.
Every answer gives the whole server's ``Total Accesses`` (both workers' requests, and
the status requests before it, as Apache counts them: a request once logged), before
and after a graceful reload; ``Processes`` is 2; the open and the kept-alive
connections are summed over the workers. Which worker served a request is read from
the access log's ``%P``; a request's count is awaited through its log line (the
counter is incremented just before the line is written)."""

from __future__ import annotations

import http.client
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, two_workers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="workers need fork and SO_REUSEPORT")

WAIT = 20.0
REQUESTS = 24
HELD = 3

CONF = """LoadModule authz_core_module x.so
LoadModule status_module x.so
LoadModule log_config_module x.so
Listen 127.0.0.1:80
ServerName localhost
DocumentRoot {www}
ErrorLog {root}/error.log
CustomLog {root}/access.log "%P %U"
ExtendedStatus On
KeepAliveTimeout 30
<Directory {www}>
    Require all granted
</Directory>
<Location /server-status>
    SetHandler server-status
</Location>
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with two_workers(tmp_path, CONF) as srv:
        yield srv


def logged(root: Path) -> list[tuple[int, str]]:
    """The access log's lines so far: (the pid of the worker that served it, URL)."""
    path = root / "access.log"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        pid, _, url = line.partition(" ")
        out.append((int(pid), url))
    return out


def wait_logged(root: Path, count: int) -> list[tuple[int, str]]:
    end = time.monotonic() + WAIT
    while len(lines := logged(root)) < count and time.monotonic() < end:
        time.sleep(0.02)
    assert len(lines) >= count, lines
    return lines


def get(srv: ServerProcess, path: str) -> str:
    """GET ``path`` on a new connection (urllib asks the server to close it)."""
    with urllib.request.urlopen(srv.url + path, timeout=WAIT) as r:  # noqa: S310
        return str(r.read().decode("latin-1"))


def auto(srv: ServerProcess) -> dict[str, str]:
    text = get(srv, "/server-status?auto")
    return dict(line.split(": ", 1) for line in text.splitlines()[1:] if ": " in line)


def test_every_worker_reports_the_whole_servers_counts(
        server: ServerProcess, tmp_path: Path) -> None:
    for _ in range(REQUESTS):
        assert get(server, "/index.html") == "hello\n"
    lines = wait_logged(tmp_path, REQUESTS)
    workers = {pid for pid, _ in lines}
    assert len(workers) == 2, f"the kernel sent every connection to one worker: {lines}"
    made = REQUESTS
    answered_by: set[int] = set()
    reloaded = False
    end = time.monotonic() + WAIT
    # until both workers answered, before and after a reload (which takes a while)
    for scrape in range(1000):
        if time.monotonic() > end:
            break
        wait_logged(tmp_path, made)  # every request so far counted
        fields = auto(server)
        lines = wait_logged(tmp_path, made + 1)
        pid, url = lines[made]
        assert url == "/server-status"
        # the status requests before this one count; this one not yet (not logged)
        assert int(fields["Total Accesses"]) == made, (scrape, pid, fields)
        assert fields["Processes"] == "2"
        made += 1
        if not reloaded or fields["ParentServerConfigGeneration"] == "2":
            answered_by.add(pid)
        if reloaded and answered_by == workers:
            break
        if answered_by == workers:
            # a graceful reload keeps the counters, in every worker
            server.proc.send_signal(signal.SIGUSR1)
            reloaded, answered_by = True, set()
    assert reloaded and answered_by == workers, (answered_by, workers)
    # the reload's notices once, as from Apache's one parent, not once per worker
    errors = (tmp_path / "error.log").read_text()
    assert errors.count("AH00493: SIGUSR1 received.  Doing graceful restart") == 1, errors
    assert errors.count("AH00489: ") == 1, errors


def test_connections_are_summed_over_the_workers(
        server: ServerProcess, tmp_path: Path) -> None:
    held = []
    try:
        for n in range(32):  # kept-alive connections, until both workers hold some
            conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
            conn.request("GET", "/index.html")
            assert conn.getresponse().read() == b"hello\n"
            held.append(conn)
            if n + 1 >= HELD and len({pid for pid, _ in wait_logged(tmp_path, n + 1)}) == 2:
                break
        assert len({pid for pid, _ in logged(tmp_path)}) == 2
        # each worker tells its scoreboard slot every 0.1 s: wait for both to have
        end = time.monotonic() + WAIT
        while True:
            fields = auto(server)
            if int(fields["ConnsAsyncKeepAlive"]) == len(held) or time.monotonic() > end:
                break
            time.sleep(0.05)
        assert int(fields["ConnsAsyncKeepAlive"]) == len(held), fields
        assert int(fields["ConnsTotal"]) >= len(held)
        assert fields["ConnsAsyncWriting"] == fields["ConnsAsyncClosing"] == "0"
    finally:
        for conn in held:
            conn.close()
    end = time.monotonic() + WAIT
    while int(auto(server)["ConnsAsyncKeepAlive"]) and time.monotonic() < end:
        time.sleep(0.05)
    assert auto(server)["ConnsAsyncKeepAlive"] == "0"
