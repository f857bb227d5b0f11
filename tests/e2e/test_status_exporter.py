"""Debian's prometheus-apache-exporter scrapes cgihttpd's ``/server-status?auto``
unchanged: the real exporter (installed by scripts/install-test-deps) against the real
server on free loopback ports, with Debian's status.conf as shipped. Its /metrics says
apache_up 1, the worker gauges are there, and apache_accesses_total grows after
requests. Both processes are started here and stopped by their PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, free_port

EXPORTER = "/usr/bin/prometheus-apache-exporter"
STATUS_CONF = Path(__file__).parents[1] / "fixtures/debian-apache2/mods-available/status.conf"
DEADLINE = 20.0
REQUESTS = 7

CONF = """LoadModule authz_core_module x.so
LoadModule authz_host_module x.so
LoadModule status_module x.so
Listen 127.0.0.1:80
ServerName localhost
DocumentRoot {www}
ErrorLog {root}/error.log
<Directory {www}>
    Require all granted
</Directory>
Include {status}
"""


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback only
        return str(r.read().decode())


def metrics(url: str) -> dict[str, float]:
    """The exporter's samples: 'name{labels}' -> value."""
    out: dict[str, float] = {}
    for line in get(url).splitlines():
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)", line)
        if m and not line.startswith("#"):
            out[m.group(1)] = float(m.group(2))
    return out


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("hello\n")
    conf = tmp_path / "httpd.conf"
    conf.write_text(CONF.format(www=www, root=tmp_path, status=STATUS_CONF))
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        yield srv


@pytest.fixture
def exporter(server: ServerProcess) -> Iterator[str]:
    assert os.access(EXPORTER, os.X_OK), (
        f"{EXPORTER} is missing: scripts/install-test-deps installs it")
    port = free_port()
    proc = subprocess.Popen(
        [EXPORTER, f"--scrape_uri={server.url}/server-status?auto",
         f"--telemetry.address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        end = time.monotonic() + DEADLINE
        while True:
            try:
                get(url)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    said = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"the exporter did not start: {said}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_the_exporter_scrapes_cgihttpd(server: ServerProcess, exporter: str) -> None:
    first = metrics(exporter)
    assert first["apache_up"] == 1.0
    for gauge in ('apache_workers{state="busy"}', 'apache_workers{state="idle"}',
                  "apache_uptime_seconds_total", 'apache_load{interval="1min"}'):
        assert gauge in first, sorted(first)
    assert any(k.startswith("apache_scoreboard{") for k in first)
    assert any(k.startswith("apache_info{") and 'mpm="event"' in k for k in first)
    for _ in range(REQUESTS):
        get(server.url + "/")
    second = metrics(exporter)
    assert second["apache_up"] == 1.0
    # the requests, and the exporter's own first scrape
    assert second["apache_accesses_total"] >= first["apache_accesses_total"] + REQUESTS
    assert second["apache_sent_kilobytes_total"] >= first["apache_sent_kilobytes_total"]
