"""A CGI upload slower than ``Timeout`` (issue 10): the script timeout starts once the
request body is handed to the script, as mod_cgi's, so a body trickled for longer than
``Timeout`` but within RequestReadTimeout's body bound reaches the script (200, not
504). Checked against apache2 2.4 in tests/differential/test_slow_upload_diff.py.

The body takes about 4 s against a Timeout of 1 s; every wait is bounded."""

from __future__ import annotations

import http.client
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX #! scripts")

PIECES = 8  # a byte every 0.5 s

CONF = """\
ServerRoot {root}
Listen 127.0.0.1:1
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so
ServerName localhost
DocumentRoot {root}/docs
Timeout 1
RequestReadTimeout header=10 body=60
<Directory {root}/docs>
  Require all granted
  Options +ExecCGI
  AddHandler cgi-script .py
</Directory>
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root: Path = tmp_path_factory.mktemp("slowupload")
    (root / "docs").mkdir()
    script = root / "docs" / "count.py"
    script.write_text(f"#!{sys.executable}\nimport sys\nn = len(sys.stdin.buffer.read())\n"
                      "print('Content-Type: text/plain\\n\\ngot %d' % n)\n")
    script.chmod(0o755)
    (root / "httpd.conf").write_text(CONF.format(root=root))
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


def test_a_body_slower_than_timeout_reaches_the_script(server: ServerProcess) -> None:
    with socket.create_connection(server.address, timeout=30) as sock:
        sock.sendall(f"POST /count.py HTTP/1.1\r\nHost: localhost\r\n"
                     f"Content-Length: {PIECES}\r\nConnection: close\r\n\r\n".encode())
        for _ in range(PIECES):
            time.sleep(0.5)
            try:
                sock.sendall(b"x")
            except OSError:  # answered (and closed) before the body was in
                break
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        assert (resp.status, resp.read()) == (200, f"got {PIECES}\n".encode())
