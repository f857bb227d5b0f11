"""Scale-out behind Debian's nginx, with ``contrib/nginx.conf`` itself (its addresses
replaced by free ports, included in a small main configuration that keeps nginx's
files under the test's directory): two cgihttpd instances, one believing nginx's
X-Real-IP, the other its X-Forwarded-For (mod_remoteip).

From a client on 127.0.0.2 (so nginx's address, 127.0.0.1, is not the client's):
requests reach both instances and the script sees the client's address; after one
instance is killed with SIGKILL, every request is answered by the other
(``proxy_next_upstream``). Every process is started here and stopped by its PID."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "nginx.conf"
CLIENT = "127.0.0.2"  # the test's client address; nginx connects from 127.0.0.1
WAIT = 20.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="127.0.0.2 and POSIX signals"),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK),
                       reason="nginx is not installed (scripts/install-test-deps)"),
]

SCRIPT = f"""#!{sys.executable}
import os
print("Content-Type: text/plain")
print()
print(os.path.basename(os.path.dirname(os.getcwd())), os.environ["REMOTE_ADDR"])
"""

MAIN = """daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log {root}/nginx-access.log;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    include {root}/cgihttpd.conf;
}}
"""


def instance_conf(root: Path, name: str, port: int, header: str) -> Path:
    www = root / "www"
    www.mkdir(parents=True)
    (www / "who.py").write_text(SCRIPT)
    (www / "who.py").chmod(0o755)
    conf = root / "httpd.conf"
    conf.write_text(f"""ServerRoot {root}
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule remoteip_module /usr/lib/apache2/modules/mod_remoteip.so
Listen 127.0.0.1:{port}
ServerName {name}
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
DocumentRoot {www}
RemoteIPHeader {header}
RemoteIPInternalProxy 127.0.0.1
<Directory {www}>
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
""")
    return conf


def get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT,
                                      source_address=(CLIENT, 0))
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[int, list[ServerProcess]]]:
    port = free_port()
    snippet = CONTRIB.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    instances: list[ServerProcess] = []
    nginx: subprocess.Popen[bytes] | None = None
    try:
        for n, header in ((1, "X-Real-IP"), (2, "X-Forwarded-For")):
            p = free_port()
            snippet = snippet.replace(f"127.0.0.1:808{n}", f"127.0.0.1:{p}")
            conf = instance_conf(tmp_path / f"web{n}", f"web{n}", p, header)
            instances.append(ServerProcess(["-f", str(conf)]).wait_ready())
        (tmp_path / "tmp").mkdir()
        (tmp_path / "cgihttpd.conf").write_text(snippet)
        main = tmp_path / "nginx.conf"
        main.write_text(MAIN.format(root=tmp_path))
        check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(main)],
                               capture_output=True, text=True, timeout=WAIT)
        assert check.returncode == 0, check.stdout + check.stderr
        with (tmp_path / "nginx.out").open("wb") as out:
            nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(main)],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        end = time.monotonic() + WAIT
        while True:
            try:
                get(port, "/who.py")
                break
            except OSError:
                if time.monotonic() > end or nginx.poll() is not None:
                    raise
                time.sleep(0.05)
        yield port, instances
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)  # nginx's graceful stop, master and worker
            try:
                nginx.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(timeout=WAIT)
        for inst in instances:
            inst.stop()


def test_requests_go_through_and_scripts_see_the_client(
        cluster: tuple[int, list[ServerProcess]]) -> None:
    port, _ = cluster
    seen = set()
    for _ in range(6):
        status, body = get(port, "/who.py")
        assert status == 200, body
        name, addr = body.split()
        assert addr == CLIENT, body  # not nginx's 127.0.0.1, by either header
        seen.add(name)
    assert seen == {"web1", "web2"}  # round robin reached both


def test_a_killed_instance_is_routed_around(
        cluster: tuple[int, list[ServerProcess]]) -> None:
    port, instances = cluster
    victim = instances[0]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(timeout=WAIT)
    answers = [get(port, "/who.py") for _ in range(10)]
    assert [status for status, _ in answers] == [200] * 10, answers
    assert {body.split()[0] for _, body in answers} == {"web2"}
