"""``serve_cgi`` in-process with real script processes and a fake ASGI channel.

Each test writes a script into a temporary directory, runs it through ``serve_cgi`` with
an ``Exchange`` whose ``send`` records ASGI messages and whose ``receive`` plays a
request body, and checks what a client would get and what the error log says.
Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from cgihttpd.cgi import handler as cgi_handler
from cgihttpd.cgi import output as cgi_output
from cgihttpd.cgi.handler import ScriptAborted, serve_cgi
from cgihttpd.cgi.queue import WAITER_BASE
from cgihttpd.cgi.runner import Launcher, SubprocessLauncher
from cgihttpd.config.model import BUILTIN, DirConf, Limits, ServerConfig, VirtualHost
from cgihttpd.errors import HTTPError
from cgihttpd.exchange import Exchange
from cgihttpd.logs.access import LogRecord
from cgihttpd.request import Request
from cgihttpd.runtime import Caches, Runtime
from cgihttpd.target import Target
from cgihttpd.warm.launcher import WarmLauncher
from support import running as _alive

DEADLINE = 30.0
PY = sys.executable
NO_CONF = DirConf()
WIN_SHEBANG = "#!C:/Users/nikit/AppData/Local/Programs/Python/Python313/python.exe"


#: Every test here runs once per way of starting a script (the runner seam): the later
#: warm-Python launcher adds itself to this table.
LAUNCHERS: dict[str, Callable[[], Launcher]] = {
    # subprocess.Popen (vfork) reaped through a pidfd where Linux has them ...
    "subprocess": SubprocessLauncher,
    # ... and the event loop's subprocess support everywhere else
    "asyncio": lambda: SubprocessLauncher("asyncio"),
    # Python scripts forked from a zygote, everything else through SubprocessLauncher
    "warm": WarmLauncher,
    # what Windows (and CGIHTTPD_PLATFORM=windows) uses: no group, text env, lone kill
    "windows": lambda: SubprocessLauncher(windows=True),
}


#: the launcher and caches of the running test (set by the ``launcher`` fixture): one
#: server's, kept from one request to the next
_CURRENT: dict[str, Any] = {}


@pytest.fixture(autouse=True, params=sorted(LAUNCHERS))
def launcher(request: pytest.FixtureRequest) -> Iterator[str]:
    chosen = _CURRENT["launcher"] = LAUNCHERS[request.param]()
    _CURRENT["caches"] = Caches()
    yield str(request.param)
    _CURRENT.clear()
    if isinstance(chosen, WarmLauncher):
        chosen.close()


def runtime_for(config: ServerConfig, **kw: Any) -> Runtime:
    """The runtime a handler gets: the test's launcher and caches; the error log is the
    test's own ``Log`` (passed in the Exchange), so no log files are opened."""
    return Runtime(config=config, logs=None, launcher=_CURRENT["launcher"],  # type: ignore[arg-type]
                   caches=_CURRENT["caches"], **kw)


@dataclass
class Channel:
    """The ASGI side: request body chunks in, response messages out."""

    body: list[bytes] = field(default_factory=list)
    chunked: bool = False
    #: raise OSError from send() once this many body messages were sent
    fail_after_body: int | None = None
    #: a slow client: each body message takes this long to send
    send_delay: float = 0.0
    sent: list[dict[str, Any]] = field(default_factory=list)
    disconnect: asyncio.Event = field(default_factory=asyncio.Event)
    complete: asyncio.Event = field(default_factory=asyncio.Event)
    received: int = 0

    async def receive(self) -> dict[str, Any]:
        if self.received < len(self.body) or (self.received == 0 and not self.body):
            i = self.received
            self.received += 1
            if not self.body:
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": self.body[i],
                    "more_body": i + 1 < len(self.body)}
        waiter = asyncio.ensure_future(self.disconnect.wait())
        done = asyncio.ensure_future(self.complete.wait())
        try:
            await asyncio.wait({waiter, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            done.cancel()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.disconnect.is_set():
            raise ConnectionResetError("client gone")
        if message["type"] == "http.response.body":
            bodies = sum(1 for m in self.sent if m["type"] == "http.response.body")
            if self.fail_after_body is not None and bodies >= self.fail_after_body:
                self.disconnect.set()
                raise ConnectionResetError("client gone")
            if not message.get("more_body", False):
                self.complete.set()
            elif self.send_delay:
                await asyncio.sleep(self.send_delay)
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.sent[0]["headers"]]

    @property
    def body_bytes(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    @property
    def finished(self) -> bool:
        return bool(self.sent) and self.sent[-1]["type"] == "http.response.body" and \
            not self.sent[-1].get("more_body", False)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def log(self, level: str, module: str, message: str,
            client: tuple[str, int] | None = None) -> None:
        self.lines.append((level, module, message))

    def messages(self) -> list[str]:
        return [m for _, _, m in self.lines]


def make_vhost(root: Path, timeout: float = 20.0) -> VirtualHost:
    return VirtualHost(
        addresses=(), server_name="localhost", server_aliases=(), server_admin="root@localhost",
        document_root=str(root), error_log="", log_level="warn", custom_logs=(), aliases=(),
        base=DirConf(), sections=(), timeout=60.0, keepalive=True, keepalive_timeout=5.0,
        max_keepalive_requests=100, server_signature="off", cgi_script_timeout=timeout,
        script_log=None, source=BUILTIN, is_main=True)


def make_config(vh: VirtualHost, *, body_limit: int = 0, max_cgi: int = 0) -> ServerConfig:
    return ServerConfig(
        server_root="/", files=(), listens=(), main=vh, vhosts=(),
        limits=Limits(request_body=body_limit), server_tokens="Full", user=None, group=None,
        pid_file=None, modules=frozenset({"cgid_module"}),
        mime_types=((".py", "text/x-python"),), max_concurrent_cgi=max_cgi)


def write_script(root: Path, name: str, text: str | bytes, *, executable: bool = False,
                 crlf: bool = False) -> Path:
    p = root / name
    data = text.encode() if isinstance(text, str) else text
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    p.write_bytes(data)
    mode = p.stat().st_mode
    p.chmod(mode | stat.S_IXUSR if executable else mode & ~0o111)
    return p


def py_script(body: str, shebang: str = f"#!{PY}") -> str:
    return f"{shebang}\nimport sys, os\n{body}\n"


@dataclass
class Result:
    channel: Channel
    log: Log
    error: BaseException | None
    record: LogRecord
    elapsed: float


def run(root: Path, name: str, *, method: str = "GET", query: str = "",
        headers: tuple[tuple[str, str], ...] = (), channel: Channel | None = None,
        timeout: float = 20.0, body_limit: int = 0, max_cgi: int = 0,
        redirect: Callable[[str, dict[str, str]], Awaitable[None]] | None = None,
        conf: DirConf = NO_CONF,
        inherited_env: dict[str, str] | None = None,
        during: Callable[[Channel], Awaitable[None]] | None = None) -> Result:
    channel = channel or Channel()
    log = Log()
    vh = make_vhost(root, timeout)
    config = make_config(vh, body_limit=body_limit, max_cgi=max_cgi)
    target_str = f"/{name}" + (f"?{query}" if query else "")
    hdrs = list(headers)
    if channel.body and not channel.chunked and not any(k == "content-length" for k, _ in hdrs):
        hdrs.append(("content-length", str(sum(map(len, channel.body)))))
    if channel.chunked:
        hdrs.append(("transfer-encoding", "chunked"))
    req = Request(method=method, raw_target=target_str, raw_path=f"/{name}", query=query,
                  http_version="1.1", headers=tuple(hdrs), client_addr="127.0.0.1",
                  client_port=40000, server_addr="127.0.0.1", server_port=8080, scheme="http",
                  request_line=f"{method} {target_str} HTTP/1.1")
    try:  # what resolution gives the handler (the command cache keys on it)
        st: os.stat_result | None = os.stat(root / name)
    except OSError:
        st = None
    tgt = Target(kind="file", filename=str(root / name), url_path=f"/{name}", conf=conf,
                 handler="cgi-script", context_document_root=str(root), stat=st)
    record = LogRecord(remote_addr="127.0.0.1", remote_port=40000, local_addr="127.0.0.1",
                       local_port=8080, request_line=req.request_line, method=method,
                       raw_uri=target_str, path=f"/{name}", query=query, protocol="HTTP/1.1",
                       start_time=time.time())

    async def main() -> BaseException | None:
        ex = Exchange(runtime=runtime_for(config), vhost=vh, request=req, target=tgt, record=record,
                      errorlog=log, receive=channel.receive, send=channel.send)  # type: ignore[arg-type]
        task = asyncio.ensure_future(serve_cgi(ex, redirect=redirect,
                                                inherited_env=inherited_env))
        if during is not None:
            await during(channel)
        try:
            await asyncio.wait_for(task, DEADLINE)
        except (HTTPError, ScriptAborted) as exc:
            return exc
        return None

    t0 = time.monotonic()
    err = asyncio.run(main())
    return Result(channel, log, err, record, time.monotonic() - t0)


def test_hello_with_the_courses_windows_shebang(tmp_path: Path) -> None:
    write_script(tmp_path, "hello.py", py_script(
        'print("Content-Type: text/html")\nprint()\nprint("<h1>Hello</h1>")', WIN_SHEBANG),
        crlf=True)
    r = run(tmp_path, "hello.py")
    assert r.error is None, r.log.lines
    assert r.channel.status == 200
    assert ("Content-Type", "text/html") in r.channel.headers
    assert r.channel.body_bytes.strip() == b"<h1>Hello</h1>"
    assert r.channel.finished
    warns = [m for lvl, _, m in r.log.lines if lvl == "warn"]
    assert len(warns) == 1 and "python.exe" in warns[0]
    # once per script
    r2 = run(tmp_path, "hello.py")
    assert not [m for lvl, _, m in r2.log.lines if lvl == "warn"]


def test_sh_script_executable_without_python(tmp_path: Path) -> None:
    write_script(tmp_path, "t.cgi", '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "sh $1"\n',
                 executable=True)
    r = run(tmp_path, "t.cgi", query="word")
    assert r.channel.status == 200 and r.channel.body_bytes == b"sh word\n"
    # no Content-Type from the script and none for .cgi: none sent
    r = run(tmp_path, "t.cgi")
    assert r.channel.body_bytes == b"sh \n"


def test_no_content_type_uses_the_files_type(tmp_path: Path) -> None:
    write_script(tmp_path, "noct.py", py_script('print("X-A: 1\\n\\nbody")'))
    r = run(tmp_path, "noct.py")
    assert ("Content-Type", "text/x-python") in r.channel.headers


def test_no_shebang_not_executable_is_500_with_a_clear_line(tmp_path: Path) -> None:
    write_script(tmp_path, "plain.py", 'print("Content-Type: text/plain\\n")\n')
    r = run(tmp_path, "plain.py")
    assert isinstance(r.error, HTTPError) and r.error.status == 500
    assert r.log.messages() == [
        f"script has no #! line and is not executable, cannot run it: {tmp_path}/plain.py"]


def test_env_and_argv_and_cwd(tmp_path: Path) -> None:
    write_script(tmp_path, "env.py", py_script(
        'import json\nprint("Content-Type: application/json\\n")\n'
        'print(json.dumps({"env": dict(os.environ), "argv": sys.argv[1:], "cwd": os.getcwd()}))'))
    r = run(tmp_path, "env.py", query="a+b%20c", headers=(("host", "h:1"), ("x-y", "z")))
    import json
    data = json.loads(r.channel.body_bytes)
    assert data["argv"] == ["a", "b c"]
    assert data["cwd"] == str(tmp_path)
    env = data["env"]
    assert env["HTTP_X_Y"] == "z" and env["SERVER_NAME"] == "h" and env["SERVER_PORT"] == "1"
    assert env["SCRIPT_FILENAME"] == str(tmp_path / "env.py")
    assert "HOME" not in env or os.environ.get("HOME") is None


def test_post_echo_and_large_body_backpressure(tmp_path: Path) -> None:
    write_script(tmp_path, "echo.py", py_script(
        'n = int(os.environ["CONTENT_LENGTH"])\ndata = sys.stdin.buffer.read(n)\n'
        'sys.stdout.buffer.write(b"Content-Type: application/octet-stream\\n\\n" + data)'))
    blob = os.urandom(4 << 20)
    chunks = [blob[i:i + 65536] for i in range(0, len(blob), 65536)]
    r = run(tmp_path, "echo.py", method="POST", channel=Channel(body=chunks))
    assert r.error is None, r.log.lines
    assert r.channel.body_bytes == blob and r.channel.finished


def test_chunked_body_is_spooled_and_content_length_set(tmp_path: Path) -> None:
    write_script(tmp_path, "cl.py", py_script(
        'print("Content-Type: text/plain\\n")\nprint(os.environ.get("CONTENT_LENGTH"), '
        'len(sys.stdin.buffer.read()))'))
    r = run(tmp_path, "cl.py", method="POST", channel=Channel(body=[b"abc", b"defg"], chunked=True))
    assert r.channel.body_bytes == b"7 7\n"


def test_limit_request_body_413(tmp_path: Path) -> None:
    write_script(tmp_path, "cl.py", py_script('print("Content-Type: text/plain\\n")'))
    r = run(tmp_path, "cl.py", method="POST", channel=Channel(body=[b"x" * 100]), body_limit=10)
    assert isinstance(r.error, HTTPError) and r.error.status == 413
    r = run(tmp_path, "cl.py", method="POST", channel=Channel(body=[b"x" * 6] * 3, chunked=True),
            body_limit=10)
    assert isinstance(r.error, HTTPError) and r.error.status == 413


def test_limit_request_body_of_the_directory_wins(tmp_path: Path) -> None:
    """LimitRequestBody is per directory: the target's merged setting decides, the
    server-wide value only where no section sets one."""
    write_script(tmp_path, "cl.py", py_script('print("Content-Type: text/plain\\n")'))
    r = run(tmp_path, "cl.py", method="POST", channel=Channel(body=[b"x" * 100]),
            body_limit=10, conf=DirConf(limit_request_body=0))
    assert r.error is None, r.log.lines
    r = run(tmp_path, "cl.py", method="POST", channel=Channel(body=[b"x" * 100]),
            conf=DirConf(limit_request_body=50))
    assert isinstance(r.error, HTTPError) and r.error.status == 413
    assert any("configured limit of 50" in m for m in r.log.messages())


def test_script_not_reading_stdin(tmp_path: Path) -> None:
    write_script(tmp_path, "ignore.py", py_script('print("Content-Type: text/plain\\n\\nignored")'))
    chunks = [b"y" * 65536] * 64  # 4 MiB the script never reads
    r = run(tmp_path, "ignore.py", method="POST", channel=Channel(body=chunks))
    assert r.error is None and r.channel.body_bytes == b"ignored\n" and r.channel.finished


def test_stderr_flood_does_not_deadlock_and_is_logged_per_line(tmp_path: Path) -> None:
    write_script(tmp_path, "flood.py", py_script(
        'for i in range(100000):\n    sys.stderr.write("err line %d\\n" % i)\n'
        'print("Content-Type: text/plain\\n\\ndone")'))
    r = run(tmp_path, "flood.py")
    assert r.channel.body_bytes == b"done\n"
    errs = [(lvl, mod, m) for lvl, mod, m in r.log.lines if "AH01215" in m]
    assert len(errs) == 100000
    assert errs[0] == ("error", "cgid", f"AH01215: stderr from {tmp_path}/flood.py: err line 0")


def test_stderr_crlf_and_unterminated_last_line(tmp_path: Path) -> None:
    write_script(tmp_path, "err.py", py_script(
        'sys.stderr.write("hello stderr\\nsecond line\\r\\nno newline")\n'
        'print("Content-Type: text/plain\\n\\nok")'))
    r = run(tmp_path, "err.py")
    f = f"{tmp_path}/err.py"
    assert [m for m in r.log.messages() if "AH01215" in m] == [
        f"AH01215: stderr from {f}: hello stderr", f"AH01215: stderr from {f}: second line",
        f"AH01215: stderr from {f}: no newline"]


def test_no_output_and_malformed(tmp_path: Path) -> None:
    write_script(tmp_path, "empty.py", f"#!{PY}\n")
    r = run(tmp_path, "empty.py")
    assert isinstance(r.error, HTTPError) and r.error.status == 500
    assert ("error", "cgid", "End of script output before headers: empty.py") in r.log.lines
    write_script(tmp_path, "bad.py", py_script('print("This is not a header\\n\\nx")'))
    r = run(tmp_path, "bad.py")
    assert isinstance(r.error, HTTPError) and r.error.status == 500
    assert ("error", "cgid",
            "malformed header from script 'bad.py': Bad header: This is not a header") in r.log.lines


@pytest.mark.slow
def test_timeout_before_headers_is_504_and_kills(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    write_script(tmp_path, "slow.py", py_script(
        f'open({str(pidfile)!r}, "w").write(str(os.getpid()))\nimport time\ntime.sleep(60)'))
    r = run(tmp_path, "slow.py", timeout=2.0)
    assert isinstance(r.error, HTTPError) and r.error.status == 504
    assert ("error", "cgid", "Script timed out before returning headers: slow.py") in r.log.lines
    assert not _alive(int(pidfile.read_text()))


@pytest.mark.slow
def test_timeout_after_headers_aborts(tmp_path: Path) -> None:
    write_script(tmp_path, "stall.py", py_script(
        'print("Content-Type: text/plain\\n\\npart", flush=True)\nimport time\ntime.sleep(60)'))
    r = run(tmp_path, "stall.py", timeout=2.0)
    assert isinstance(r.error, ScriptAborted)
    assert r.channel.body_bytes == b"part\n" and not r.channel.finished


@pytest.mark.slow
def test_output_keeps_the_script_alive_past_the_timeout(tmp_path: Path) -> None:
    write_script(tmp_path, "drip.py", py_script(
        'import time\nprint("Content-Type: text/plain\\n", flush=True)\n'
        'for i in range(10):\n    print(i, flush=True)\n    time.sleep(0.3)'))
    r = run(tmp_path, "drip.py", timeout=2.0)
    assert r.error is None
    assert r.channel.body_bytes == b"".join(b"%d\n" % i for i in range(10))


def test_client_disconnect_kills_the_process_group(tmp_path: Path, launcher: str) -> None:
    pidfile = tmp_path / "pids"
    write_script(tmp_path, "group.py", py_script(
        'import subprocess, time\n'
        'child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])\n'
        f'open({str(pidfile)!r}, "w").write("%d %d" % (os.getpid(), child.pid))\n'
        'print("Content-Type: text/plain\\n", flush=True)\n'
        'while True:\n    print("tick", flush=True)\n    time.sleep(0.2)'))

    async def leave(ch: Channel) -> None:
        end = time.monotonic() + DEADLINE
        while not pidfile.exists() or len(ch.sent) < 2:
            assert time.monotonic() < end
            await asyncio.sleep(0.05)
        ch.disconnect.set()

    r = run(tmp_path, "group.py", channel=Channel(), during=leave)
    assert r.error is None
    assert not r.channel.finished
    pids = [int(x) for x in pidfile.read_text().split()]
    if launcher == "windows":
        # no process group to signal on Windows: the script dies, its child lives on
        # (the README's Windows section says so)
        script, child = pids
        assert _wait_gone(script)
        assert _alive(child)
        os.kill(child, 9)  # started by this test's script
        assert _wait_gone(child)
    else:
        assert _wait_gone(*pids)
    assert r.record.completed is False


def _wait_gone(*pids: int) -> bool:
    end = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


def test_send_failure_kills_the_script(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    write_script(tmp_path, "stream.py", py_script(
        f'open({str(pidfile)!r}, "w").write(str(os.getpid()))\n'
        'import time\nprint("Content-Type: text/plain\\n", flush=True)\n'
        'while True:\n    print("x" * 1000, flush=True)\n    time.sleep(0.01)'))
    r = run(tmp_path, "stream.py", channel=Channel(fail_after_body=3))
    assert r.error is None
    assert not _alive(int(pidfile.read_text()))


def test_set_cookie_repeated_and_status(tmp_path: Path) -> None:
    write_script(tmp_path, "cookie.py", py_script(
        'print("Status: 201 Made It\\nSet-Cookie: a=1\\nSet-Cookie: b=2\\n'
        'Content-Type: text/plain\\n\\nok")'))
    r = run(tmp_path, "cookie.py")
    assert r.channel.status == 201 and r.channel.sent[0].get("reason") == "Made It"
    assert [v for k, v in r.channel.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_absolute_location_is_302_and_keeps_cookies(tmp_path: Path) -> None:
    write_script(tmp_path, "loc.py", py_script(
        'print("Location: http://example.com/x\\nSet-Cookie: s=1\\n\\nignored body")'))
    r = run(tmp_path, "loc.py")
    assert isinstance(r.error, HTTPError) and r.error.status == 302
    assert r.error.headers == (("Location", "http://example.com/x"), ("Set-Cookie", "s=1"))
    assert not r.channel.sent


def test_location_with_status_is_passed_through(tmp_path: Path) -> None:
    write_script(tmp_path, "loc.py", py_script(
        'print("Status: 301 Moved\\nLocation: /new\\nContent-Type: text/plain\\n\\nmoved")'))
    r = run(tmp_path, "loc.py")
    assert r.channel.status == 301 and ("Location", "/new") in r.channel.headers
    assert r.channel.body_bytes == b"moved\n"


def test_local_location_is_an_internal_redirect(tmp_path: Path) -> None:
    write_script(tmp_path, "loc2.py", py_script('print("Location: /other?x=1\\n\\nbody")'))
    seen: list[tuple[str, dict[str, str]]] = []

    async def redirect(location: str, env: dict[str, str]) -> None:
        seen.append((location, env))

    r = run(tmp_path, "loc2.py", method="POST", query="q=1", redirect=redirect,
            channel=Channel(body=[b"a=b"]))
    assert r.error is None and not r.channel.sent
    assert seen[0][0] == "/other?x=1"
    env = seen[0][1]
    assert env["REDIRECT_STATUS"] == "200" and env["REDIRECT_URL"] == "/loc2.py"
    assert env["REDIRECT_QUERY_STRING"] == "q=1"
    assert env["REDIRECT_REQUEST_METHOD"] == "POST"


def test_nph_script(tmp_path: Path) -> None:
    write_script(tmp_path, "nph-x.py", py_script(
        'sys.stdout.write("HTTP/1.0 201 Made\\r\\nContent-Type: text/plain\\r\\nX-A: 1\\r\\n\\r\\nnph body")'))
    r = run(tmp_path, "nph-x.py")
    assert r.channel.status == 201
    assert r.channel.headers == [("Content-Type", "text/plain"), ("X-A", "1")]
    assert r.channel.body_bytes == b"nph body"


def test_binary_output_byte_exact_and_streamed(tmp_path: Path) -> None:
    write_script(tmp_path, "bin.py", py_script(
        'out = sys.stdout.buffer\nout.write(b"Content-Type: application/octet-stream\\r\\n\\r\\n")\n'
        'for i in range(64):\n    out.write(bytes(range(256)) * 64)\n    out.flush()'))
    r = run(tmp_path, "bin.py")
    assert r.channel.body_bytes == bytes(range(256)) * 64 * 64
    # streamed: 1 MiB goes in pieces, none much larger than what is held at most
    bodies = [m["body"] for m in r.channel.sent if m["type"] == "http.response.body"]
    assert len(bodies) > 4
    assert max(map(len, bodies)) <= 2 * cgi_handler.READ_SIZE


def lengths(headers: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in headers if k.lower() == "content-length"]


def test_scripts_content_length_is_never_sent_and_head_has_no_body(tmp_path: Path) -> None:
    # Apache 2.4.59+: the script's length goes; the body's own may be counted (when the
    # whole body is held with the head: a matter of timing, as on Apache)
    write_script(tmp_path, "cl.py", py_script('print("Content-Length: 3\\n\\nabc", end="")'))
    r = run(tmp_path, "cl.py")
    assert lengths(r.channel.headers) in ([], ["3"]) and r.channel.body_bytes == b"abc"
    for script, declared in (("long.py", "100"), ("short.py", "1"),
                             ("two.py", "1\\nContent-Length: 2")):
        write_script(tmp_path, script, py_script(
            f'print("Content-Length: {declared}\\n\\nabc", end="")'))
        r = run(tmp_path, script)
        assert r.error is None and r.channel.finished
        assert lengths(r.channel.headers) in ([], ["3"]) and r.channel.body_bytes == b"abc"
    r = run(tmp_path, "cl.py", method="HEAD")
    assert r.channel.body_bytes == b"" and r.channel.finished


def test_dies_mid_body_aborts(tmp_path: Path) -> None:
    write_script(tmp_path, "die.py", py_script(
        'print("Content-Type: text/plain\\n\\nstart", flush=True)\nos.kill(os.getpid(), 9)'))
    r = run(tmp_path, "die.py")
    assert isinstance(r.error, ScriptAborted)
    assert r.channel.body_bytes == b"start\n" and not r.channel.finished


def test_busy_beyond_the_queue_memory_bound_is_503(tmp_path: Path) -> None:
    write_script(tmp_path, "s.py", py_script(
        'import time\ntime.sleep(0.5)\nprint("Content-Type: text/plain\\n\\nok")'))
    results: list[BaseException | None] = []
    log = Log()
    vh = make_vhost(tmp_path)
    # one slot, and room in the queue's memory for one request waiting for it
    rt = runtime_for(replace(make_config(vh), max_concurrent_cgi=1,
                             cgi_queue_memory=WAITER_BASE))

    async def one() -> BaseException | None:
        ch = Channel()
        req = Request(method="GET", raw_target="/s.py", raw_path="/s.py", query="",
                      http_version="1.1", headers=(), client_addr="127.0.0.1", client_port=1,
                      server_addr="127.0.0.1", server_port=8080, scheme="http",
                      request_line="GET /s.py HTTP/1.1")
        tgt = Target(kind="file", filename=str(tmp_path / "s.py"), url_path="/s.py")
        rec = LogRecord("127.0.0.1", 1, "127.0.0.1", 8080, "", "GET", "/s.py", "/s.py", "",
                        "HTTP/1.1", 0.0)
        ex = Exchange(rt, vh, req, tgt, rec, log, ch.receive, ch.send)  # type: ignore[arg-type]
        try:
            await serve_cgi(ex)
        except HTTPError as e:
            return e
        return None

    async def main() -> None:
        results.extend(await asyncio.wait_for(asyncio.gather(*(one() for _ in range(5))), DEADLINE))

    asyncio.run(main())
    statuses = sorted(r.status if isinstance(r, HTTPError) else 200 for r in results)
    assert statuses == [200, 200, 503, 503, 503]  # 1 running + 1 waiting
    refused = [r for r in results if isinstance(r, HTTPError)]
    assert all(("Retry-After", "5") in r.headers for r in refused)
    said = [m for m in log.messages() if "refused" in m]
    assert len(said) == 3 and all("(queue memory bound reached)" in m for m in said)


def test_no_zombies_or_fd_leaks_after_many_requests(tmp_path: Path) -> None:
    write_script(tmp_path, "t.py", py_script('print("Content-Type: text/plain\\n\\nok")'))
    run(tmp_path, "t.py")  # a first request may start a warm interpreter, which stays
    before_fds = _fd_count()
    for _ in range(30):
        r = run(tmp_path, "t.py")
        assert r.channel.body_bytes == b"ok\n"
    assert _fd_count() <= before_fds
    assert _zombie_children() == []


def test_conf_python_interpreter_is_used(tmp_path: Path) -> None:
    write_script(tmp_path, "w.py", py_script(
        'print("Content-Type: text/plain\\n")\nprint(sys.executable)', "#!/nowhere/python3"))
    r = run(tmp_path, "w.py", conf=replace(DirConf(), cgi_python=PY))
    assert r.channel.body_bytes.decode().strip() == os.path.realpath(PY) or \
        r.channel.body_bytes.decode().strip() == PY


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def _zombie_children() -> list[int]:
    me = os.getpid()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().split(") ")[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] == "Z" and int(fields[1]) == me:
            out.append(int(d))
    return out


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def test_conditional_get_on_the_scripts_etag(tmp_path: Path) -> None:
    write_script(tmp_path, "etag.py", py_script(
        'print(\'ETag: "abc"\\nContent-Type: text/plain\\n\\nbody\')'))
    r = run(tmp_path, "etag.py", headers=(("if-none-match", '"abc"'),))
    assert r.channel.status == 304 and r.channel.body_bytes == b"" and r.channel.finished
    assert ("ETag", '"abc"') in r.channel.headers
    r = run(tmp_path, "etag.py", headers=(("if-match", '"zzz"'),))
    assert isinstance(r.error, HTTPError) and r.error.status == 412
    r = run(tmp_path, "etag.py", headers=(("if-none-match", '"other"'),))
    assert r.channel.status == 200 and r.channel.body_bytes == b"body\n"


@pytest.mark.slow
def test_a_slow_client_is_not_a_script_timeout(tmp_path: Path) -> None:
    write_script(tmp_path, "three.py", py_script(
        'print("Content-Type: text/plain\\n", flush=True)\n'
        'for i in range(3):\n    print(i, flush=True)'))
    r = run(tmp_path, "three.py", timeout=2.0, channel=Channel(send_delay=2.5))
    assert r.error is None, r.log.lines
    assert r.channel.body_bytes == b"0\n1\n2\n" and r.channel.finished


def test_redirected_request_has_no_body(tmp_path: Path) -> None:
    # the second script of a CGI Location redirect: GET, empty stdin, no CONTENT_LENGTH
    write_script(tmp_path, "target.py", py_script(
        'data = sys.stdin.buffer.read()\nprint("Content-Type: text/plain\\n")\n'
        'print(len(data), os.environ.get("CONTENT_LENGTH"))'))
    r = run(tmp_path, "target.py", headers=(("content-length", "3"),),
            inherited_env={"REDIRECT_STATUS": "200", "REDIRECT_URL": "/first.py"})
    assert r.error is None, r.log.lines
    assert r.channel.body_bytes == b"0 None\n"


def test_internal_redirect_loop_is_cut_like_apache(tmp_path: Path) -> None:
    # Apache runs a self-redirecting script 11 times (LimitInternalRecursion 10), then 500
    count = tmp_path / "count"
    write_script(tmp_path, "self.py", py_script(
        f'open({str(count)!r}, "a").write("x")\nprint("Location: /self.py\\n")'))
    log = Log()
    vh = make_vhost(tmp_path)
    config = make_config(vh)
    req = Request(method="GET", raw_target="/self.py", raw_path="/self.py", query="",
                  http_version="1.1", headers=(), client_addr="127.0.0.1", client_port=1,
                  server_addr="127.0.0.1", server_port=8080, scheme="http",
                  request_line="GET /self.py HTTP/1.1")
    tgt = Target(kind="file", filename=str(tmp_path / "self.py"), url_path="/self.py")
    rec = LogRecord("127.0.0.1", 1, "127.0.0.1", 8080, "", "GET", "/self.py", "/self.py", "",
                    "HTTP/1.1", 0.0)

    async def main() -> BaseException | None:
        ch = Channel()
        ex = Exchange(runtime_for(config), vh, req, tgt, rec, log, ch.receive, ch.send)  # type: ignore[arg-type]

        async def redirect(location: str, env: dict[str, str]) -> None:
            await serve_cgi(ex, redirect=redirect, inherited_env=env)

        try:
            await asyncio.wait_for(serve_cgi(ex, redirect=redirect), DEADLINE)
        except HTTPError as exc:
            return exc
        return None

    err = asyncio.run(main())
    assert isinstance(err, HTTPError) and err.status == 500
    assert count.read_text() == "x" * 11
    assert any("AH00124: Request exceeded the limit of 10 internal redirects" in m
               for m in log.messages())


def test_python_exception_mid_body_aborts_but_a_quiet_exit_status_does_not(tmp_path: Path) -> None:
    write_script(tmp_path, "boom.py", py_script(
        'print("Content-Type: text/plain\\n\\nhalf", flush=True)\nraise SystemExit("boom")'))
    r = run(tmp_path, "boom.py")
    assert isinstance(r.error, ScriptAborted) and not r.channel.finished
    assert any("stderr from" in m and m.endswith(": boom") for m in r.log.messages())
    write_script(tmp_path, "quiet.cgi", '#!/bin/sh\necho "Content-Type: text/plain"\necho\n'
                 'echo whole\n[ -n "" ] && echo never\n', executable=True)
    r = run(tmp_path, "quiet.cgi")
    assert r.error is None and r.channel.finished and r.channel.body_bytes == b"whole\n"


def test_a_short_response_goes_as_one_start_and_one_last_body(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Output is held until the next read would wait (FLUSH_DELAY, here long enough
    for any machine) or the script ended: head, body and end then leave together."""
    monkeypatch.setattr(cgi_output, "FLUSH_DELAY", 10.0)
    monkeypatch.setattr(cgi_output, "EXIT_GRACE", 10.0)
    write_script(tmp_path, "t.cgi", '#!/bin/sh\necho "Content-Type: text/plain"\necho\n'
                 'echo one\necho two\n', executable=True)
    r = run(tmp_path, "t.cgi")
    assert [m["type"] for m in r.channel.sent] == ["http.response.start", "http.response.body"]
    assert r.channel.sent[1] == {"type": "http.response.body", "body": b"one\ntwo\n",
                                 "more_body": False}


def test_held_output_goes_when_the_script_pauses(tmp_path: Path) -> None:
    """...but never waits for the script longer than FLUSH_DELAY: what a script wrote
    before a pause reaches the client during the pause."""
    gate = tmp_path / "gate"
    write_script(tmp_path, "t.cgi", '#!/bin/sh\necho "Content-Type: text/plain"\necho\n'
                 f'echo one\nwhile [ ! -e {gate} ]; do sleep 0.05; done\necho two\n',
                 executable=True)

    async def during(channel: Channel) -> None:
        end = time.monotonic() + DEADLINE
        while not any(m.get("body") == b"one\n" for m in channel.sent):
            assert time.monotonic() < end, channel.sent
            await asyncio.sleep(0.02)
        gate.touch()

    r = run(tmp_path, "t.cgi", during=during)
    bodies = [m for m in r.channel.sent if m["type"] == "http.response.body"]
    assert bodies[0] == {"type": "http.response.body", "body": b"one\n", "more_body": True}
    assert r.channel.body_bytes == b"one\ntwo\n"


def test_an_edited_shebang_is_used_at_once(tmp_path: Path) -> None:
    """The argv of a script is kept per version of the file, not per path."""
    body = 'echo "Content-Type: text/plain"; echo; readlink /proc/$$/exe\n'
    sh, bash = (os.path.realpath(p).encode() + b"\n" for p in ("/bin/sh", "/bin/bash"))
    assert sh != bash
    script = write_script(tmp_path, "t.cgi", "#!/bin/sh\n" + body, executable=True)
    assert run(tmp_path, "t.cgi").channel.body_bytes == sh
    script.write_text("#!/bin/bash\n" + body)
    assert run(tmp_path, "t.cgi").channel.body_bytes == bash
    script.chmod(0o644)  # the mode is in the key too
    assert run(tmp_path, "t.cgi").channel.body_bytes == bash


def test_a_script_lingering_after_closing_stdout_has_its_body_sent_meanwhile(
        tmp_path: Path) -> None:
    """The body waits EXIT_GRACE for the exit status, no longer: a script that closed
    stdout and goes on running does not keep what it wrote from the client."""
    gate = tmp_path / "gate"
    write_script(tmp_path, "t.cgi", '#!/bin/sh\necho "Content-Type: text/plain"\necho\n'
                 f'echo hi\nexec >&-\nwhile [ ! -e {gate} ]; do sleep 0.05; done\n',
                 executable=True)

    async def during(channel: Channel) -> None:
        end = time.monotonic() + DEADLINE
        while not any(m.get("body") == b"hi\n" for m in channel.sent):
            assert time.monotonic() < end, channel.sent
            await asyncio.sleep(0.02)
        assert not channel.finished  # the script still runs: no last chunk yet
        gate.touch()

    r = run(tmp_path, "t.cgi", during=during)
    assert r.channel.body_bytes == b"hi\n" and r.channel.finished


def test_a_script_saved_with_a_byte_order_mark_runs_and_says_so_once(tmp_path: Path) -> None:
    """Notepad's UTF-8: a BOM before #! (Apache: Exec format error, 500)."""
    write_script(tmp_path, "bom.py", b"\xef\xbb\xbf" + py_script(
        'print("Content-Type: text/plain; charset=utf-8\\n\\n\\u043f\\u0440\\u0438\\u0432\\u0435\\u0442")'
    ).encode(), crlf=True)
    r = run(tmp_path, "bom.py")
    assert r.error is None, r.log.lines
    assert r.channel.status == 200 and r.channel.body_bytes.strip() == "привет".encode()
    assert [m for lvl, _, m in r.log.lines if lvl == "warn" and "byte order mark" in m]
    assert not [m for lvl, _, m in run(tmp_path, "bom.py").log.lines if lvl == "warn"]
