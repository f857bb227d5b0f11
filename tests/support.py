"""Shared helpers for tests that run the real server process.

``ServerProcess`` starts ``python -m cgihttpd ARGS`` (normally with ``-l 127.0.0.1:0``),
waits, with a deadline, for the line announcing the URL, and stops the process by its
PID. Only processes started here are ever signalled.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

READY = re.compile(r"https?://(\[[0-9a-fA-F:]+\]|[0-9.]+|[\w.-]+):(\d+)")
START_DEADLINE = 20.0
STOP_DEADLINE = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def two_workers(root: Path, conf_template: str) -> ServerProcess:
    """A server of two worker processes (tests/conftest.py makes the suite's servers
    single-process) on ``conf_template`` formatted with ``www`` and ``root``, where
    ``root``/www/index.html says "hello"; use it as a context manager."""
    www = root / "www"
    www.mkdir()
    (www / "index.html").write_text("hello\n")
    conf = root / "httpd.conf"
    conf.write_text(conf_template.format(www=www, root=root))
    return ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0", "--workers", "2"],
                         env={"CGIHTTPD_WORKERS": "2"})


class ServerProcess:
    def __init__(self, args: Sequence[str], *, cwd: str | Path | None = None,
                 env: dict[str, str] | None = None, wrapper: Sequence[str] = ()) -> None:
        """``wrapper``: a command that execs the server's command line given after it
        (``proc.pid`` is then still the server's)."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        self.args = [*wrapper, sys.executable, "-m", "cgihttpd", *args]
        self.proc = subprocess.Popen(
            self.args, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._ready = threading.Event()
        self.host = ""
        self.port = 0
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, sink: list[str]) -> None:  # type: ignore[no-untyped-def]
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            sink.append(line)
            if not self._ready.is_set():
                m = READY.search(line)
                if m:
                    self.host = m.group(1).strip("[]")
                    self.port = int(m.group(2))
                    self._ready.set()
        stream.close()

    def wait_ready(self, deadline: float = START_DEADLINE) -> ServerProcess:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self._ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise AssertionError(
            f"server did not become ready: rc={self.proc.returncode}\n"
            f"stdout: {self.stdout_lines}\nstderr: {self.stderr_lines}"
        )

    def wait_exit(self, deadline: float = START_DEADLINE) -> int:
        rc = self.proc.wait(timeout=deadline)
        for t in self._threads:
            t.join(timeout=5)
        return rc

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_DEADLINE)
        for t in self._threads:
            t.join(timeout=5)
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def raw_request(addr: tuple[str, int], data: bytes, *, timeout: float = 10.0,
                read_until_close: bool = True) -> bytes:
    """Send ``data`` on a fresh connection and return what comes back until the server
    closes (or ``timeout``)."""
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(data)
        chunks: list[bytes] = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                b = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break  # a server that resets after its answer: what came is the answer
            if not b:
                break
            chunks.append(b)
            if not read_until_close:
                break
        return b"".join(chunks)


def readable_by_all(root: Path | str, executable: Callable[[str], bool] = lambda _n: False) -> None:
    """Open ``root``'s tree to another user (Apache's children, a ``User``): directories
    0755, files 0644, or 0755 where ``executable(name)``."""
    for dirpath, _dirs, names in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in names:
            os.chmod(os.path.join(dirpath, name), 0o755 if executable(name) else 0o644)


def wait_for(predicate: Callable[[], Any], what: str, deadline: float = 20.0,
             seen: Callable[[], object] | None = None, interval: float = 0.05) -> Any:
    """``predicate()``'s first true value, asked every ``interval`` seconds; past the
    deadline an AssertionError naming ``what`` (and showing ``seen()``, if given)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f": {seen()!r}" if seen else ""))


def running(pid: int) -> bool:
    """Process ``pid`` exists and is not a zombie (its parent may not have reaped it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # gone; or going between open and read (/proc answers ESRCH)
        return False


def get_in_background(host: str, port: int, target: str, timeout: float = 90.0
                      ) -> tuple[threading.Thread, list[object]]:
    """GET ``target`` (``Connection: close``) in a daemon thread; the list gets
    ``(status, body)`` or the exception the client saw."""
    import http.client

    outcome: list[object] = []

    def run() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request("GET", target, headers={"Connection": "close"})
            resp = conn.getresponse()
            outcome.append((resp.status, resp.read()))
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome
