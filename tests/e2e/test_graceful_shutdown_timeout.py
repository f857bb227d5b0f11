"""GracefulShutdownTimeout on the real command (docs/design.md §9): a graceful stop
(WINCH) lets a running script go on for at most that many seconds, then cuts it - the
client's connection closed with no answer, the script and what it started killed with
their process group, the request logged as aborted - and exits 0; without the
directive it waits for the script however long, as Apache's default 0 does.

No timing threshold: the cut case only has a generous deadline (a script that would
sleep 60 s must be gone within 20 s), the waiting case checks the server is still there
3 s after the signal while its script sleeps 8 s."""

from __future__ import annotations

import http.client
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from support import ServerProcess, get_in_background, running, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WAIT = 20.0
# The script writes its pid and its child's to ../pids (atomically), then sleeps as long
# as the query string says; "kid" makes it start a child that sleeps 60 s as well.
SCRIPT = (f"#!{sys.executable}\nimport os, subprocess, sys, time\n"
          "secs, _, kid = os.environ['QUERY_STRING'].partition('&')\n"
          "child = subprocess.Popen(['sleep', '60']) if kid else None\n"
          "open('../pids.tmp', 'w').write(f'{os.getpid()} {child.pid if child else 0}')\n"
          "os.replace('../pids.tmp', '../pids')\n"
          "time.sleep(float(secs))\n"
          "sys.stdout.write('Content-Type: text/plain\\n\\nslept\\n')\n")


def write_site(tmp: Path, extra: str = "") -> Path:
    www = tmp / "www"
    www.mkdir()
    (www / "sleep.py").write_text(SCRIPT)
    (www / "sleep.py").chmod(0o755)
    conf = tmp / "httpd.conf"
    conf.write_text(
        f"ServerRoot {tmp}\nLoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\n"
        "LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n"
        f"Listen 127.0.0.1:80\nServerName test.local\nDocumentRoot {www}\n"
        f"ErrorLog {tmp}/error.log\nLogLevel notice\n"
        f'LogFormat "%r %>s %X" brief\nCustomLog {tmp}/access.log brief\n'
        f"<Directory {www}>\n  Options +ExecCGI\n  AddHandler cgi-script .py\n"
        f"</Directory>\n{extra}")
    return conf


def text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def request_in_background(srv: ServerProcess, target: str) -> tuple[threading.Thread,
                                                                    list[object]]:
    return get_in_background(srv.host, srv.port, target)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("workers", ["1", "2"])
def test_graceful_stop_cuts_a_script_at_the_timeout(tmp_path: Path, workers: str) -> None:
    """GracefulShutdownTimeout 1, a script that would sleep 60 s (and its child too):
    after WINCH the server exits 0 well before, the client gets no answer, neither
    process is left, the error log says why and the access log has the aborted
    request. With --workers 2 the parent passes WINCH on and the worker holding the
    request honours the timeout."""
    conf = write_site(tmp_path, "GracefulShutdownTimeout 1\n")
    pids = tmp_path / "pids"
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0", "--workers", workers]) as srv:
        thread, outcome = request_in_background(srv, "/sleep.py?60&kid")
        wait_for(pids.exists, "the script to start")
        script, child = (int(p) for p in pids.read_text().split())
        assert running(script) and running(child)
        srv.proc.send_signal(signal.SIGWINCH)
        assert srv.wait_exit(WAIT) == 0
        thread.join(WAIT)
    assert len(outcome) == 1 and isinstance(
        outcome[0], (OSError, http.client.HTTPException)), outcome
    wait_for(lambda: not running(script) and not running(child), "the script's end", 5)
    errors = text(tmp_path / "error.log")
    # one line however many workers, as from Apache's one parent
    assert errors.count("AH00492: caught SIGWINCH, shutting down gracefully") == 1, errors
    assert errors.count("GracefulShutdownTimeout of 1 seconds passed: cutting 1 "
                        "request(s) still in flight") == 1, errors
    assert text(tmp_path / "access.log").splitlines() == [
        "GET /sleep.py?60&kid HTTP/1.1 - X"]


def test_graceful_stop_waits_for_the_script_by_default(tmp_path: Path) -> None:
    """No GracefulShutdownTimeout (Apache's 0): 3 s after WINCH the server is still
    there, the script (sleeping 8 s) still runs; it finishes, its client gets its
    answer, the server exits 0."""
    conf = write_site(tmp_path)
    pids = tmp_path / "pids"
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0", "--workers", "1"]) as srv:
        thread, outcome = request_in_background(srv, "/sleep.py?8")
        wait_for(pids.exists, "the script to start")
        script = int(pids.read_text().split()[0])
        srv.proc.send_signal(signal.SIGWINCH)
        wait_for(lambda: "AH00492" in text(tmp_path / "error.log"), "the signal's note")
        time.sleep(3)
        assert srv.proc.poll() is None
        assert running(script)
        assert srv.wait_exit(WAIT) == 0
        thread.join(WAIT)
    assert outcome == [(200, b"slept\n")]
    assert "GracefulShutdownTimeout" not in text(tmp_path / "error.log")
    assert text(tmp_path / "access.log").splitlines() == ["GET /sleep.py?8 HTTP/1.1 200 -"]
