"""Two workers hold their shares of long-lived connections (``cgihttpd.handoff``):
64 keep-alive connections opened one after the other, each kept open after its first
answer, end up split within ``SLACK`` (2) of even - the kernel's SO_REUSEPORT hash
alone splits 64 connections anywhere from 20/44 to 44/20 (seen: 51/11) - and every
handed-over connection is served: all its requests answered on it. Which worker served
a request is read from the access log's ``%P``. Four rounds of 64 on one server:
without handing over, all four rounds within 2 of even (31/33 at worst) would be a
chance of under 1 %."""

from __future__ import annotations

import socket
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cgihttpd.handoff import SLACK
from support import two_workers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="workers need fork and SO_REUSEPORT")

WAIT = 20.0
CONNECTIONS = 64
ROUNDS = 4

CONF = """LoadModule authz_core_module x.so
LoadModule log_config_module x.so
Listen 127.0.0.1:80
ServerName localhost
DocumentRoot {www}
ErrorLog {root}/error.log
CustomLog {root}/access.log "%P %k %U"
KeepAliveTimeout 60
MaxKeepAliveRequests 0
<Directory {www}>
    Require all granted
</Directory>
"""

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"


def answer(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"hello\n"):
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return data


def logged(root: Path, count: int) -> list[tuple[int, int]]:
    """The access log's first ``count`` lines: (worker pid, %k)."""
    path = root / "access.log"
    end = time.monotonic() + WAIT
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > end:
            break
        time.sleep(0.02)
    assert len(lines) >= count, lines
    return [(int(line.split()[0]), int(line.split()[1])) for line in lines[:count]]


def test_long_lived_connections_are_split_evenly(tmp_path: Path) -> None:
    with two_workers(tmp_path, CONF) as srv:
        made = 0
        for round_no in range(ROUNDS):
            held = []
            for _ in range(CONNECTIONS):
                sock = socket.create_connection((srv.host, srv.port), timeout=WAIT)
                sock.sendall(REQUEST)
                assert answer(sock).startswith(b"HTTP/1.1 200 OK")
                held.append(sock)
            made += CONNECTIONS
            split = Counter(pid for pid, _k in logged(tmp_path, made)[-CONNECTIONS:])
            # within the slack the workers allow themselves (handoff.SLACK: a worker
            # keeps a connection while it holds at most one more than the other; the
            # counts a busy machine shows a moment late may cost one more)
            assert len(split) == 2 and max(split.values()) - min(split.values()) <= SLACK, (
                round_no, split)
            # each connection, handed over or not, goes on being served where it is
            for sock in held:
                sock.sendall(REQUEST)
                assert answer(sock).startswith(b"HTTP/1.1 200 OK")
            made += CONNECTIONS
            second = logged(tmp_path, made)[-CONNECTIONS:]
            assert Counter(pid for pid, _k in second) == split
            assert all(k == 1 for _pid, k in second)
            for sock in held:
                sock.close()
            time.sleep(0.3)  # the closes counted (each worker's tick) before the next round
