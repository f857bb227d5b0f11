"""Fixtures of the real-programs tier: programs nobody here wrote, set up as their own
documentation says, served by cgihttpd (and by Debian's apache2 for comparison) from
the same config file, driven by their own clients.

``start_servers(root, conf)`` writes ``conf`` (a template with ``{root}``, ``{port}``
and ``{impl}``) once per server and starts cgihttpd (``-l 127.0.0.1:0``, its port read
from the announce line) and, where it is installed, apache2 on a free port. Each
process is stopped by its PID; nothing else is signalled.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from realsupport import Served

from support import ServerProcess, free_port

APACHE = "/usr/sbin/apache2"
DEADLINE = 20.0


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else b""
            raise AssertionError(f"apache2 exited: {err!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("apache2 did not start listening")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def cgihttpd_on() -> Iterator[object]:
    """``cgihttpd_on(root, conf)`` → a running cgihttpd ``Served``; stopped at the end."""
    running: list[ServerProcess] = []

    def start(root: Path, conf: str) -> Served:
        path = root / "cgihttpd.conf"
        path.write_text(conf.format(root=root, port=1, impl="cgihttpd"))
        server = ServerProcess(["-f", str(path), "-l", "127.0.0.1:0"]).wait_ready()
        running.append(server)
        return Served("cgihttpd", server.port, root)

    try:
        yield start
    finally:
        for server in running:
            server.stop()


@pytest.fixture(scope="module")
def apache_on() -> Iterator[object]:
    """``apache_on(root, conf)`` → a running apache2 ``Served`` (skips the test when
    Debian's apache2 is not installed); stopped at the end."""
    running: list[subprocess.Popen[bytes]] = []

    def start(root: Path, conf: str) -> Served:
        if not os.access(APACHE, os.X_OK):
            pytest.skip("Debian's apache2 is not installed")
        port = free_port()
        path = root / "apache.conf"
        path.write_text(conf.format(root=root, port=port, impl="apache"))
        proc = subprocess.Popen([APACHE, "-f", str(path), "-DFOREGROUND"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        running.append(proc)
        _wait_port(port, proc)
        return Served("apache", port, root)

    try:
        yield start
    finally:
        for proc in running:
            _stop(proc)
