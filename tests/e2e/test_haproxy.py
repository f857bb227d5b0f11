"""Scale-out behind Debian's HAProxy, with ``contrib/haproxy.cfg`` itself (its addresses
replaced by free ports): three cgihttpd instances, each trusting the balancer's
X-Forwarded-For (mod_remoteip) on one port and the PROXY protocol on another.

Under a bounded load from a client on 127.0.0.2 (so the balancer's address,
127.0.0.1, is not the client's): a script behind the balancer sees the client's
address; a rolling graceful reload (SIGUSR1 to each instance's PidFile in turn) loses
no request; an instance killed with SIGKILL is taken out by the health check, and no
request fails beyond those the killed instance held (its scripts started and never
logged). Every process is started here and stopped by its PID."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import ServerProcess, free_port, wait_for

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "haproxy.cfg"
CLIENT = "127.0.0.2"  # the test's client address; the balancer connects from 127.0.0.1
WAIT = 20.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="127.0.0.2 and POSIX signals"),
    pytest.mark.skipif(not os.access(HAPROXY, os.X_OK),
                       reason="haproxy is not installed (scripts/install-test-deps)"),
]

# each request: notes its id as started (in this instance's directory), sleeps, answers
# with the instance's name (its directory's) and the address the script was given
SCRIPT = f"""#!{sys.executable}
import os, time
with open("started", "a") as f:
    f.write(os.environ.get("HTTP_X_REQ", "-") + "\\n")
time.sleep(float(os.environ.get("QUERY_STRING") or "0"))
print("Content-Type: text/plain")
print()
print(os.path.basename(os.path.dirname(os.getcwd())), os.environ["REMOTE_ADDR"])
"""


def instance_conf(root: Path, name: str, port: int, pp_port: int) -> Path:
    www = root / "www"
    www.mkdir(parents=True)
    (www / "index.html").write_text("ok\n")
    (www / "who.py").write_text(SCRIPT)
    (www / "who.py").chmod(0o755)
    conf = root / "httpd.conf"
    conf.write_text(f"""ServerRoot {root}
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule remoteip_module /usr/lib/apache2/modules/mod_remoteip.so
Listen 127.0.0.1:{port}
Listen 127.0.0.1:{pp_port}
ServerName {name}
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel notice
LogFormat "%a %{{c}}a %r %>s [%{{X-Req}}i]" balanced
CustomLog {root}/access.log balanced
DocumentRoot {www}
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Directory {www}>
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
<VirtualHost *:{pp_port}>
    ServerName {name}
    DocumentRoot {www}
    RemoteIPProxyProtocol On
</VirtualHost>
""")
    return conf


@dataclass
class Instance:
    name: str
    root: Path
    proc: ServerProcess

    @property
    def pid(self) -> int:
        return int((self.root / "httpd.pid").read_text().split()[0])

    def started_ids(self) -> set[str]:
        path = self.root / "www" / "started"
        return set(path.read_text().split()) if path.exists() else set()

    def logged_ids(self) -> set[str]:
        path = self.root / "access.log"
        text = path.read_text() if path.exists() else ""
        return {line.rsplit("[", 1)[1].rstrip("]") for line in text.splitlines()
                if "[" in line}


#: HAProxy's httplog line: client, frontend, backend/server, status, and the retries
#: (after the connection counts; "+N" when the request was redispatched)
HTTPLOG = re.compile(r'^(\S+):\d+ \[[^]]+\] (\S+) (\S+)/(\S+) \S+ (\d+) .* '
                     r'\d+/\d+/\d+/\d+/\+?(\d+) \d+/\d+ "')


@dataclass
class Balancer:
    port: int
    pp_port: int
    stats: Path
    proc: subprocess.Popen[bytes]
    out: Path

    def requests(self) -> list[tuple[str, str, int, int]]:
        """What HAProxy logged: (frontend, server, status, retries) per request."""
        found = []
        for line in self.out.read_text(errors="replace").splitlines():
            m = HTTPLOG.match(line)
            if m is not None:
                found.append((m.group(2), m.group(4), int(m.group(5)), int(m.group(6))))
        return found

    def server_status(self) -> dict[str, str]:
        """``show stat``: each cgihttpd server's status (UP, DOWN...)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats))
            s.sendall(b"show stat\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        status = {}
        for line in out.decode().splitlines():
            cols = line.split(",")
            if len(cols) > 17 and cols[0] == "cgihttpd" and cols[1].startswith("web"):
                status[cols[1]] = cols[17]
        return status


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Balancer, list[Instance]]]:
    instances: list[Instance] = []
    cfg = CONTRIB.read_text()
    port, pp_port = free_port(), free_port()
    cfg = cfg.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    cfg = cfg.replace("127.0.0.1:8090", f"127.0.0.1:{pp_port}")
    stats = tmp_path / "haproxy.sock"
    cfg = cfg.replace("global\n", f"global\n    stats socket {stats} level admin\n", 1)
    cfg = cfg.replace("local0 notice", "local0 info")  # one line per request, to count
    balancer: Balancer | None = None
    try:
        for n in (1, 2, 3):
            p, pp = free_port(), free_port()
            cfg = cfg.replace(f"127.0.0.1:808{n}", f"127.0.0.1:{p}")
            cfg = cfg.replace(f"127.0.0.1:809{n}", f"127.0.0.1:{pp}")
            conf = instance_conf(tmp_path / f"web{n}", f"web{n}", p, pp)
            proc = ServerProcess(["-f", str(conf)]).wait_ready()
            instances.append(Instance(f"web{n}", tmp_path / f"web{n}", proc))
        (tmp_path / "haproxy.cfg").write_text(cfg)
        check = subprocess.run([HAPROXY, "-c", "-f", str(tmp_path / "haproxy.cfg")],
                               capture_output=True, text=True, timeout=WAIT)
        assert check.returncode == 0, check.stdout + check.stderr
        with (tmp_path / "haproxy.out").open("wb") as out:
            proc = subprocess.Popen([HAPROXY, "-db", "-f", str(tmp_path / "haproxy.cfg")],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        balancer = Balancer(port, pp_port, stats, proc, tmp_path / "haproxy.out")
        wait_for(lambda: stats.exists() and set(balancer.server_status().values()) == {"UP"}
                 and len(balancer.server_status()) == 3, "every instance UP")
        yield balancer, instances
    finally:
        if balancer is not None and balancer.proc.poll() is None:
            balancer.proc.terminate()
            balancer.proc.wait(timeout=WAIT)
        for inst in instances:
            inst.proc.stop()


def get(port: int, path: str, req_id: str = "-") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT,
                                      source_address=(CLIENT, 0))
    try:
        conn.request("GET", path, headers={"X-Req": req_id, "Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@dataclass
class Load:
    """``clients`` threads, each sending up to ``limit`` requests (each with its own id)
    through the balancer until stopped, recording every outcome."""

    port: int
    path: str = "/who.py?0.05"
    clients: int = 4
    limit: int = 150
    answers: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def _client(self, c: int) -> None:
        for i in range(self.limit):
            if self.stop.is_set():
                return
            req_id = f"c{c}-{i}"
            try:
                status, body = get(self.port, self.path, req_id)
                ok = status == 200 and body.startswith("web")
                outcome = body if ok else f"{status} {body[:80]!r}"
            except OSError as exc:
                ok, outcome = False, repr(exc)
            with self.lock:
                (self.answers if ok else self.failures)[req_id] = outcome

    @property
    def ok(self) -> int:
        with self.lock:
            return len(self.answers)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self._client, args=(c,), daemon=True)
                        for c in range(self.clients)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=WAIT * 2)


def test_script_sees_the_client_through_the_balancer(
        cluster: tuple[Balancer, list[Instance]]) -> None:
    balancer, instances = cluster
    seen = set()
    for port in (balancer.port, balancer.pp_port):
        for _ in range(6):
            status, body = get(port, "/who.py")
            assert status == 200
            name, addr = body.split()
            assert addr == CLIENT, body  # not the balancer's 127.0.0.1
            seen.add(name)
    assert seen == {"web1", "web2", "web3"}  # round robin reached every instance
    log = (instances[0].root / "access.log").read_text()
    assert f"{CLIENT} 127.0.0.1 GET /who.py HTTP/1.1 200" in log  # %a, then %{c}a


def test_rolling_graceful_reload_loses_nothing(
        cluster: tuple[Balancer, list[Instance]]) -> None:
    balancer, instances = cluster
    with Load(balancer.port) as load:
        wait_for(lambda: load.ok >= 20, "the first answers")
        for inst in instances:
            os.kill(inst.pid, signal.SIGUSR1)  # as "cgihttpd -k graceful"
            wait_for(lambda inst=inst: "AH00489" in (inst.root / "error.log").read_text(),
                     f"{inst.name}'s reload")
            seen = load.ok
            wait_for(lambda seen=seen: load.ok >= seen + 20, "answers after it")
    assert load.failures == {}, list(load.failures.items())[:5]
    assert {a.split()[0] for a in load.answers.values()} == {"web1", "web2", "web3"}
    # nor did the balancer hide a loss: every request answered 200 at the first try
    logged = [r for r in balancer.requests() if r[0] == "web"]
    assert len(logged) >= len(load.answers)
    assert [r for r in logged if r[2] != 200 or r[3] != 0] == []
    for inst in instances:
        assert inst.proc.proc.poll() is None


def test_killed_instance_is_routed_around(
        cluster: tuple[Balancer, list[Instance]]) -> None:
    balancer, instances = cluster
    victim = instances[1]
    with Load(balancer.port, path="/who.py?0.2") as load:
        wait_for(lambda: load.ok >= 20, "the first answers")
        os.kill(victim.pid, signal.SIGKILL)  # no goodbye: its requests are cut
        victim.proc.proc.wait(timeout=WAIT)
        wait_for(lambda: balancer.server_status().get(victim.name) == "DOWN",
                 "the health check to take it out")
        down_at = load.ok
        wait_for(lambda: load.ok >= down_at + 20, "answers after it")
    # what the killed instance held: scripts it started and never logged as answered
    held = victim.started_ids() - victim.logged_ids()
    assert set(load.failures) <= held, (load.failures, held)
    after = [a for rid, a in load.answers.items() if rid not in victim.started_ids()]
    assert len(after) >= 20
    status = balancer.server_status()
    assert (status["web1"], status["web3"]) == ("UP", "UP")
