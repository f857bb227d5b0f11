"""The site ``cgihttpd init`` writes, run as written by Debian's apache2 and then by
cgihttpd: ``apache2 -t`` accepts its ``httpd.conf`` unchanged (its LoadModule lines,
paths and all), and both servers answer the same requests the same way, one after the
other on the port the config names (``init --port``), writing the same access-log
lines. Both processes are stopped by their PID.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, START_DEADLINE, STOP_DEADLINE, free_port

pytestmark = pytest.mark.differential

REQUESTS = [
    ("GET", "/", "cgi213.loc", b""),
    ("GET", "/", "www.cgi213.loc", b""),
    ("GET", "/index.html", "cgi213.loc", b""),
    ("GET", "/form.html", "cgi213.loc", b""),
    ("GET", "/form.py?name=World&message=Hi", "cgi213.loc", b""),
    ("POST", "/form.py", "cgi213.loc", "name=Вася+<b>&message=привет".encode()),
    ("GET", "/logs/", "cgi213.loc", b""),
    ("GET", "/logs/access.log", "cgi213.loc", b""),
    ("GET", "/mime.types", "cgi213.loc", b""),
    ("GET", "/nope.py", "cgi213.loc", b""),
]


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Path, int]]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    # Apache's children run as another user: a world-readable tree, not tmp_path (0700)
    top = Path(tempfile.mkdtemp(prefix="cgihttpd-init-", dir="/tmp"))
    os.chmod(top, 0o755)
    port = free_port()
    root = top / "Server-213"
    r = subprocess.run([sys.executable, "-m", "cgihttpd", "init", str(root), "--port",
                        str(port)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    try:
        yield root, port
    finally:
        subprocess.run(["rm", "-rf", str(top)], timeout=30)


def serve(argv: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    end = time.monotonic() + START_DEADLINE
    while time.monotonic() < end and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise AssertionError(f"{argv[0]} did not listen on {port} (rc={proc.returncode})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_DEADLINE)


def ask(port: int, method: str, target: str, host: str, body: bytes
        ) -> tuple[int, str | None, bytes]:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if body:
        lines += ["Content-Type: application/x-www-form-urlencoded",
                  f"Content-Length: {len(body)}"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        return resp.status, resp.headers.get("Content-Type"), resp.read()


def answers(argv: list[str], port: int) -> list[tuple[object, ...]]:
    proc = serve(argv, port)
    try:
        out = []
        for method, target, host, body in REQUESTS:
            out.append((method, target, *ask(port, method, target, host, body)))
        return out
    finally:
        stop(proc)


def access_lines(root: Path) -> list[str]:
    # the time stamp differs; the rest of the common format must not
    log = root / "cgi" / "logs" / "access.log"
    return [line.split(" [", 1)[0] + line.split("]", 1)[1]
            for line in log.read_text(encoding="latin-1").splitlines()]


def test_apache_accepts_the_config_as_written(site: tuple[Path, int]) -> None:
    root, _port = site
    r = subprocess.run([APACHE, "-t", "-f", str(root / "httpd.conf")], capture_output=True,
                       text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, "Syntax OK\n")


def test_both_serve_the_site_alike(site: tuple[Path, int]) -> None:
    root, port = site
    conf = str(root / "httpd.conf")
    apache = answers([APACHE, "-f", conf, "-DFOREGROUND"], port)
    apache_log = access_lines(root)
    # the site is in dev mode on cgihttpd (<IfDirective CGIDevMode>, which Apache skips):
    # its explaining pages are tested in tests/e2e; here the answers as in production
    ours = answers([sys.executable, "-m", "cgihttpd", "-f", conf, "-c", "CGIDevMode Off"],
                   port)
    ours_log = access_lines(root)[len(apache_log):]
    assert apache[0][2] == 200 and b"<h1>Hello, CGI</h1>" in apache[0][4]  # type: ignore[operator]
    assert "<h1>Hello, Вася &lt;b&gt;</h1>".encode() in apache[5][4]  # type: ignore[operator]
    for a, o in zip(apache, ours, strict=True):
        assert o == a, f"{a[0]} {a[1]} differs (left: cgihttpd, right: apache)"
    # Apache's threads may write two lines in the order their requests ended, not began
    assert sorted(ours_log) == sorted(apache_log)
    assert len(apache_log) == len(REQUESTS)
