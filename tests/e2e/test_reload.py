"""Reloads and stops as Apache's signals ask for them, on the real command: graceful
(USR1) and restart (HUP) under load, a configuration that fails its check, graceful
stop (WINCH), log rotation by moving the files then USR1 (with logrotate itself), and
piped logs through Debian's rotatelogs (docs/design.md §9)."""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import support
from support import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WAIT = 15.0
wait_for = functools.partial(support.wait_for, deadline=WAIT)
MODULES = ("LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n"
           "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\n"
           "LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so\n")
SLOW_CGI = (f"#!{sys.executable}\nimport os, sys, time\n"
            "open('../started', 'a').write('.')  # the tests wait for this\n"
            "time.sleep(float(os.environ.get('QUERY_STRING') or '0.2'))\n"
            "sys.stdout.write('Content-Type: text/plain\\n\\nslow done\\n')\n")


def write_site(tmp: Path, extra: str = "", *, logs: str | None = None) -> Path:
    www = tmp / "www"
    www.mkdir(exist_ok=True)
    (www / "index.html").write_text("hello\n")
    (www / "slow.py").write_text(SLOW_CGI)
    (www / "slow.py").chmod(0o755)
    if logs is None:
        logs = (f'ErrorLog {tmp}/error.log\nLogFormat "%h %r %>s %P" common\n'
                f"CustomLog {tmp}/access.log common\n")
    conf = tmp / "httpd.conf"
    conf.write_text(
        f"ServerRoot {tmp}\n{MODULES}Listen 127.0.0.1:80\nServerName test.local\n"
        f"DocumentRoot {www}\nLogLevel notice\n{logs}"
        f"<Directory {www}>\n  Options +ExecCGI\n  AddHandler cgi-script .py\n"
        f"</Directory>\n{extra}")
    return conf


def get(srv: ServerProcess, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=WAIT)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class Load:
    """Clients that each request ``path`` again and again on fresh connections until
    stopped (or ``limit`` requests each), counting answers and failures."""

    srv: ServerProcess
    path: str
    clients: int = 4
    limit: int = 400
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        for _ in range(self.limit):
            if self.stop.is_set():
                return
            try:
                status, body = get(self.srv, self.path)
                good = status == 200 and (body.endswith(b"done\n") or body == b"hello\n")
                outcome = None if good else f"{status} {body[:80]!r}"
            except OSError as exc:  # refused, reset, timed out: all failures
                outcome = repr(exc)
            with self.lock:
                if outcome is None:
                    self.ok += 1
                else:
                    self.failures.append(outcome)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(self.clients)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=WAIT * 2)


def log_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def count(path: Path, text: str) -> int:
    return log_text(path).count(text)


def server(conf: Path, *extra: str) -> ServerProcess:
    return ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0", *extra])


@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGHUP])
def test_signals_reload_never_kill(tmp_path: Path, sig: signal.Signals) -> None:
    """USR1 and HUP used to kill the server (issue 10): now each reloads it, the
    process stays, the same socket answers, the error log says so as Apache does."""
    conf = write_site(tmp_path)
    with server(conf) as srv:
        for _ in range(3):
            srv.proc.send_signal(sig)
        code = "AH00493" if sig == signal.SIGUSR1 else "AH00494"
        wait_for(lambda: count(tmp_path / "error.log", "AH00489") >= 1, "the reload")
        assert srv.proc.poll() is None
        assert get(srv, "/index.html") == (200, b"hello\n")
        assert count(tmp_path / "error.log", code) >= 1
    assert srv.proc.returncode == 0


def test_graceful_under_load_loses_nothing_and_applies_the_change(tmp_path: Path) -> None:
    """Clients request a slow script on fresh connections while the server reloads
    gracefully three times, the configuration gaining an Alias in between: no
    request fails, none is refused, and the Alias answers after the reload."""
    conf = write_site(tmp_path)
    errlog = tmp_path / "error.log"
    with server(conf) as srv:
        assert get(srv, "/new")[0] == 404
        with Load(srv, "/slow.py?0.2") as load:
            wait_for(lambda: load.ok >= 4, "the first answers")
            for n in range(1, 4):
                if n == 2:
                    with conf.open("a") as f:
                        f.write(f"Alias /new {tmp_path}/www/index.html\n")
                srv.proc.send_signal(signal.SIGUSR1)
                wait_for(lambda n=n: count(errlog, "AH00489") >= n, f"reload {n}")
                seen = load.ok
                wait_for(lambda seen=seen: load.ok >= seen + 4, "answers after it")
        assert load.failures == [], load.failures[:5]
        assert load.ok >= 16
        assert get(srv, "/new") == (200, b"hello\n")
        assert srv.proc.poll() is None
    log = log_text(errlog)
    assert "refused" not in log and "Traceback" not in log, log


def test_inflight_script_finishes_on_the_old_configuration(tmp_path: Path) -> None:
    """A script running when USR1 comes finishes and answers 200; its access-log line
    is written (by the old generation, to the same file)."""
    conf = write_site(tmp_path)
    with server(conf) as srv:
        result: list[tuple[int, bytes]] = []
        t = threading.Thread(target=lambda: result.append(get(srv, "/slow.py?1.5")))
        t.start()
        wait_for(started(tmp_path), "the script to run")
        srv.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: count(tmp_path / "error.log", "AH00489") >= 1, "the reload")
        t.join(WAIT)
        assert result == [(200, b"slow done\n")]
    assert count(tmp_path / "access.log", "GET /slow.py?1.5 HTTP/1.1 200") == 1


def started(tmp: Path) -> Callable[[], bool]:
    """Whether a slow script has begun (it says so in ``started``)."""
    return lambda: (tmp / "started").exists()


def test_a_broken_configuration_is_refused_and_the_old_one_serves(tmp_path: Path) -> None:
    conf = write_site(tmp_path, f"Alias /new {tmp_path}/www/index.html\n")
    errlog = tmp_path / "error.log"
    with server(conf) as srv:
        good = conf.read_text()
        conf.write_text(good.replace("Alias /new", "Alias /newer") + "Bogus directive\n")
        lines = len(good.splitlines()) + 1
        for n, sig in enumerate((signal.SIGUSR1, signal.SIGHUP), 1):
            srv.proc.send_signal(sig)
            wait_for(lambda n=n: count(errlog, "reload refused") >= n, "the refusal")
            assert get(srv, "/new") == (200, b"hello\n")
            assert get(srv, "/newer")[0] == 404
        assert f"{conf}:{lines}: Invalid command 'Bogus'" in log_text(errlog)
        assert count(errlog, "AH00489") == 0
        # -k graceful checks the configuration before signalling, as apache2 -k does
        r = subprocess.run([sys.executable, "-m", "cgihttpd", "-k", "graceful", "-f",
                            str(conf)], capture_output=True, text=True, timeout=WAIT)
        assert r.returncode == 1 and "Invalid command 'Bogus'" in r.stderr
        conf.write_text(good.replace("Alias /new", "Alias /newer"))
        srv.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: count(errlog, "AH00489") == 1, "the reload")
        assert get(srv, "/newer") == (200, b"hello\n")


def test_restart_cuts_what_runs_and_serves_on(tmp_path: Path) -> None:
    """HUP: as Apache's restart, requests in flight are cut; the server serves the new
    configuration on the same socket at once."""
    conf = write_site(tmp_path)
    with server(conf) as srv:
        result: list[object] = []

        def slow() -> None:
            try:
                result.append(get(srv, "/slow.py?5"))
            except (OSError, http.client.HTTPException) as exc:
                result.append(exc)

        t = threading.Thread(target=slow)
        t.start()
        wait_for(started(tmp_path), "the script to run")
        srv.proc.send_signal(signal.SIGHUP)
        t.join(WAIT)
        assert result and isinstance(result[0], (OSError, http.client.HTTPException))
        assert get(srv, "/index.html") == (200, b"hello\n")


def test_graceful_stop_lets_the_script_finish(tmp_path: Path) -> None:
    """WINCH: no new connection is taken, the running request finishes, exit 0, the
    PidFile is gone."""
    conf = write_site(tmp_path, f"PidFile {tmp_path}/run.pid\n")
    with server(conf) as srv:
        result: list[tuple[int, bytes]] = []
        t = threading.Thread(target=lambda: result.append(get(srv, "/slow.py?1")))
        t.start()
        wait_for(started(tmp_path), "the script to run")
        srv.proc.send_signal(signal.SIGWINCH)
        t.join(WAIT)
        assert result == [(200, b"slow done\n")]
        assert srv.wait_exit(WAIT) == 0
    assert not (tmp_path / "run.pid").exists()
    assert count(tmp_path / "error.log", "AH00492: caught SIGWINCH") == 1


def _logrotate(tmp: Path, logs: str) -> subprocess.CompletedProcess[str]:
    """Debian's logrotate with a configuration like /etc/logrotate.d/apache2: the logs
    moved away, then the server told by its postrotate (here: USR1 to the pid)."""
    rc = tmp / "logrotate.conf"
    rc.write_text(f"{logs} {{\n  rotate 3\n  missingok\n  sharedscripts\n"
                  f"  postrotate\n    kill -USR1 $(cat {tmp}/run.pid)\n  endscript\n}}\n")
    return subprocess.run(["logrotate", "-f", "-s", str(tmp / "state"), str(rc)],
                          capture_output=True, text=True, timeout=WAIT)


@pytest.mark.skipif(shutil.which("logrotate") is None,
                    reason="no logrotate (scripts/install-test-deps installs it)")
def test_logrotate_then_usr1_loses_no_line(tmp_path: Path) -> None:
    """Under load, logrotate moves access.log and error.log and sends USR1 (twice):
    the server writes to new files, and the lines of the moved and the new files
    together are exactly the requests answered."""
    conf = write_site(tmp_path, f"PidFile {tmp_path}/run.pid\n")
    access = tmp_path / "access.log"
    with server(conf) as srv:
        with Load(srv, "/index.html", clients=3, limit=300) as load:
            for _ in range(2):
                seen = load.ok
                wait_for(lambda seen=seen: load.ok >= seen + 20, "answers")
                r = _logrotate(tmp_path, f"{tmp_path}/*.log")
                assert r.returncode == 0, r.stderr
                wait_for(lambda: access.exists() and access.stat().st_size > 0,
                         "the new access.log")
                # the new error log begins with the reload (the old one ends with it)
                wait_for(lambda: count(tmp_path / "error.log", "AH00489") >= 1, "the reload")
            seen = load.ok
            wait_for(lambda: load.ok >= seen + 20, "answers after the last rotation")
        assert load.failures == []
        answered = load.ok
    files = [access, tmp_path / "access.log.1", tmp_path / "access.log.2"]
    assert all(f.exists() for f in files), sorted(os.listdir(tmp_path))
    lines = [line for f in files for line in log_text(f).splitlines()]
    assert len(lines) == answered
    assert all(line.startswith("127.0.0.1 GET /index.html HTTP/1.1 200 ") for line in lines)
    # each rotated error log ends with the reload that let it go
    assert "AH00493" in log_text(tmp_path / "error.log.1")


ROTATELOGS = "/usr/bin/rotatelogs"


def _rotatelogs_pids(server_pid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == server_pid and b"rotatelogs" in cmd:
                pids.add(int(entry.name))
    return pids


@pytest.mark.skipif(not os.access(ROTATELOGS, os.X_OK),
                    reason="no rotatelogs (apache2-utils: scripts/install-test-deps)")
def test_piped_logs_through_rotatelogs(tmp_path: Path) -> None:
    """CustomLog and ErrorLog "|rotatelogs ..." as Debian's rotatelogs takes them: the
    lines arrive in its dated file; on a graceful reload the piped loggers are
    started again, as Apache does (checked with apache2 2.4.71: a new pid for the
    pipe program after -k graceful), and no line is lost."""
    logs = (f'ErrorLog "|{ROTATELOGS} {tmp_path}/error.%Y%m%d 86400"\n'
            'LogFormat "%h %r %>s %P" common\n'
            f'CustomLog "|{ROTATELOGS} {tmp_path}/access.%Y%m%d 86400" common\n')
    conf = write_site(tmp_path, logs=logs)
    with server(conf) as srv:
        for _ in range(5):
            assert get(srv, "/index.html") == (200, b"hello\n")
        before = _rotatelogs_pids(srv.proc.pid)
        assert len(before) == 2
        srv.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: len(_rotatelogs_pids(srv.proc.pid)) == 2
                 and not _rotatelogs_pids(srv.proc.pid) & before, "new piped loggers")
        for _ in range(5):
            assert get(srv, "/index.html") == (200, b"hello\n")
    access = list(tmp_path.glob("access.2*"))
    errors = list(tmp_path.glob("error.2*"))
    assert len(access) == 1 and len(errors) == 1, sorted(os.listdir(tmp_path))
    assert log_text(access[0]).count("GET /index.html HTTP/1.1 200") == 10
    assert "AH00489" in log_text(errors[0])


def test_workers_reload_each_and_stop_gracefully(tmp_path: Path) -> None:
    """--workers 2: the parent passes USR1 on to its workers, each reloads under the
    sockets it keeps; every later request (whichever worker takes it) sees the new
    Alias; under load nothing fails; WINCH stops them all."""
    conf = write_site(tmp_path)
    errlog = tmp_path / "error.log"
    with server(conf, "--workers", "2") as srv:
        with Load(srv, "/slow.py?0.1") as load:
            wait_for(lambda: load.ok >= 4, "the first answers")
            with conf.open("a") as f:
                f.write(f"Alias /new {tmp_path}/www/index.html\n")
            srv.proc.send_signal(signal.SIGUSR1)
            wait_for(lambda: count(errlog, "AH00489") >= 1, "the reload")
            seen = load.ok
            wait_for(lambda: load.ok >= seen + 4, "answers after it")
        assert load.failures == [], load.failures[:5]
        # each worker reloads on its own tick: soon every connection sees the Alias
        wait_for(lambda: all(get(srv, "/new") == (200, b"hello\n") for _ in range(12)),
                 "both workers' reloads")
        # the notices once, as from Apache's one parent
        assert count(errlog, "AH00493") == count(errlog, "AH00489") == 1
        srv.proc.send_signal(signal.SIGWINCH)
        assert srv.wait_exit(WAIT) == 0


def run_k(conf: Path, verb: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cgihttpd", "-k", verb, "-f", str(conf),
                           *extra], capture_output=True, text=True, timeout=WAIT,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_k_verbs_on_the_pid_file(tmp_path: Path, workers: str) -> None:
    """apache2 -k as a user types it: start detaches and returns once the server
    serves, writing the default PidFile (logs/httpd.pid under ServerRoot) when the
    configuration names none; start again says it runs; graceful reloads; stop stops;
    stop again says nothing runs - in apache2's words."""
    from support import free_port

    (tmp_path / "logs").mkdir()
    port = free_port()
    conf = write_site(tmp_path)
    conf.write_text(conf.read_text().replace("Listen 127.0.0.1:80", f"Listen 127.0.0.1:{port}"))
    pid_file = tmp_path / "logs" / "httpd.pid"
    r = run_k(conf, "start", "--workers", workers)
    pid = 0
    try:
        assert r.returncode == 0, r.stderr
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
        srv = ServerProcess.__new__(ServerProcess)
        srv.host, srv.port = "127.0.0.1", port
        assert get(srv, "/index.html") == (200, b"hello\n")
        r = run_k(conf, "start")
        assert (r.returncode, r.stdout) == (0, f"cgihttpd (pid {pid}) already running\n")
        with conf.open("a") as f:
            f.write(f"Alias /new {tmp_path}/www/index.html\n")
        assert run_k(conf, "graceful").returncode == 0
        wait_for(lambda: count(tmp_path / "error.log", "AH00489") >= 1, "the reload")
        wait_for(lambda: get(srv, "/new") == (200, b"hello\n"), "every worker's reload")
        assert count(tmp_path / "error.log", "AH00489") == 1  # whatever the workers
        assert run_k(conf, "stop").returncode == 0
        wait_for(lambda: not pid_file.exists(), "the stop")
        pid = 0
        r = run_k(conf, "stop")
        assert (r.returncode, r.stdout) == (0, "cgihttpd (no pid file) not running\n")
    finally:
        if not pid and pid_file.exists():
            pid = int(pid_file.read_text() or 0)
        if pid:  # only the daemon this test started (its workers follow it)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def test_graceful_closes_idle_keepalive_and_answers_a_begun_request(tmp_path: Path) -> None:
    """As Apache's graceful restart: a kept-alive connection waiting for its next
    request is closed; a connection whose request head is half sent is answered (on
    the old configuration) with Connection: close; a new connection gets the new one."""
    import socket

    # a long KeepAliveTimeout: the idle connection closes because of the reload
    conf = write_site(tmp_path, "KeepAliveTimeout 60\n")
    with server(conf) as srv:
        idle = socket.create_connection(srv.address, timeout=WAIT)
        idle.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b"hello\n"):
            first += idle.recv(4096)
        assert b"Connection: close" not in first
        begun = socket.create_connection(srv.address, timeout=WAIT)
        begun.sendall(b"GET /new HTTP/1.1\r\nHost: x\r\n")
        with conf.open("a") as f:
            f.write(f"Alias /new {tmp_path}/www/index.html\n")
        srv.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: count(tmp_path / "error.log", "AH00489") == 1, "the reload")
        assert idle.recv(4096) == b""  # closed by the server
        begun.sendall(b"\r\n")
        answer = b""
        while chunk := begun.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 404 ") and b"Connection: close" in answer
        assert get(srv, "/new") == (200, b"hello\n")
        idle.close()
        begun.close()


def test_started_by_nohup_hup_still_restarts(tmp_path: Path) -> None:
    """A server started with SIGHUP ignored (nohup, a background job) handles it as
    Apache does: a restart, not ignored, not killed."""
    conf = write_site(tmp_path)
    background = ("/bin/sh", "-c", 'trap "" HUP; exec "$@"', "sh")
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"], wrapper=background) as srv:
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: count(tmp_path / "error.log", "AH00494") == 1, "the restart")
        wait_for(lambda: count(tmp_path / "error.log", "AH00489") == 1, "the restart")
        assert get(srv, "/index.html") == (200, b"hello\n")
