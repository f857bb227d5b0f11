"""Signals Apache's parent takes must not kill cgihttpd (issue 10): SIGPIPE and SIGUSR2
leave the server serving, a request in flight completes, and a script does not inherit
an ignored SIGUSR2 (or SIGPIPE). SIGHUP, SIGUSR1 and SIGWINCH belong to the operations
work (restart, graceful) and are tested there."""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from support import ServerProcess, raw_request

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CONF = """
ServerRoot "{root}"
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Listen 127.0.0.1:8080
ServerName localhost
ErrorLog "{root}/error.log"
DocumentRoot "{root}/www"
<Directory "{root}/www">
    Options +ExecCGI
    AddHandler cgi-script .sh
    Require all granted
</Directory>
"""

SLOW_SH = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nsleep 1\necho done\n"
SIGS_SH = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\ngrep SigIgn /proc/self/status\n"


def _site(root: Path) -> Path:
    www = root / "www"
    www.mkdir()
    (www / "index.html").write_text("alive\n")
    for name, text in (("slow.sh", SLOW_SH), ("sigs.sh", SIGS_SH)):
        (www / name).write_text(text)
        (www / name).chmod(0o755)
    conf = root / "httpd.conf"
    conf.write_text(CONF.format(root=root))
    return conf


def _get(server: ServerProcess, path: str) -> bytes:
    return raw_request(server.address, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n"
                       "Connection: close\r\n\r\n".encode())


@pytest.mark.parametrize("sig", [signal.SIGPIPE, signal.SIGUSR2])
def test_signal_does_not_kill_the_server(tmp_path: Path, sig: signal.Signals) -> None:
    conf = _site(tmp_path)
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as server:
        # a request in flight while the signal comes
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(b"GET /slow.sh HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            time.sleep(0.3)
            for _ in range(3):
                os.kill(server.proc.pid, sig)
            got = b""
            while chunk := sock.recv(65536):
                got += chunk
        assert got.startswith(b"HTTP/1.1 200 ") and b"done" in got
        assert server.proc.poll() is None
        assert _get(server, "/index.html").endswith(b"alive\n")
        assert server.stop() == 0
    assert not any("Traceback" in x for x in server.stderr_lines)


def test_scripts_do_not_inherit_ignored_signals(tmp_path: Path) -> None:
    conf = _site(tmp_path)
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as server:
        body = _get(server, "/sigs.sh").partition(b"\r\n\r\n")[2]
    found = re.search(rb"SigIgn:\s*([0-9a-f]+)", body)
    assert found, body
    mask = int(found.group(1), 16)
    for sig in (signal.SIGUSR2, signal.SIGPIPE):
        assert not mask & (1 << (sig - 1)), (sig, body)
