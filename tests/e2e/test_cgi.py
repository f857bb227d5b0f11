"""CGI end to end: the real ``python -m cgihttpd`` process, raw sockets and http.client.

One server per module serves a folder of scripts from a config file (ExecCGI, .py and
.cgi as cgi-script, CGIDScriptTimeout 2, its own error log). Every wait has a deadline;
only processes started here are signalled.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, raw_request
from support import running as alive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX scripts and /proc")

PY = sys.executable
WIN_SHEBANG = "#!C:/Users/nikit/AppData/Local/Programs/Python/Python313/python.exe"
TIMEOUT = 2  # CGIDScriptTimeout in the config below
MAX_CGI = 2  # CGIMaxProcesses: 2 run, the rest wait in the queue (cgi.queue)
DEADLINE = 20.0

SCRIPTS: dict[str, tuple[str, bool, bool]] = {
    # name: (text, executable, CRLF line endings)
    "hello.py": (WIN_SHEBANG + '\nprint("Content-Type: text/html")\nprint()\n'
                 'print("<h1>Hello, World</h1>")\n', False, True),
    "sh.cgi": ('#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "sh says $1"\n',
               True, False),
    "env.py": (f"#!{PY}\nimport json, os, sys\n"
               'print("Content-Type: application/json")\nprint()\n'
               'print(json.dumps({"env": dict(os.environ), "argv": sys.argv[1:]}))\n',
               False, False),
    "echo.py": (f"#!{PY}\nimport os, sys\n"
                'n = int(os.environ.get("CONTENT_LENGTH") or 0)\n'
                "data = sys.stdin.buffer.read(n)\n"
                'sys.stdout.buffer.write(b"Content-Type: application/octet-stream\\r\\n'
                'X-Length: %d\\r\\n\\r\\n" % len(data) + data)\n', False, False),
    "count.py": (f"#!{PY}\nimport sys\nn = 0\n"
                 "while chunk := sys.stdin.buffer.read(1 << 16):\n    n += len(chunk)\n"
                 "print('Content-Type: text/plain\\n\\n%d' % n)\n", False, False),
    "ignore.py": (f"#!{PY}\nprint('Content-Type: text/plain\\n\\nignored')\n", False, False),
    "flood.py": (f"#!{PY}\nimport sys\n"
                 "for i in range(60000):\n"
                 "    sys.stderr.write('flood line %06d ' % i + 'x' * 80 + '\\n')\n"
                 "print('Content-Type: text/plain\\n\\nflooded')\n", False, False),
    "slow.py": (f"#!{PY}\nimport os, sys, time\n"
                "open(os.environ['PIDFILE_DIR'] + '/slow.pid', 'w').write(str(os.getpid()))\n"
                "time.sleep(60)\n", False, False),
    "forever.py": (f"#!{PY}\nimport os, subprocess, sys, time\n"
                   "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
                   "open(os.environ['PIDFILE_DIR'] + '/forever.pid', 'w')"
                   ".write('%d %d' % (os.getpid(), child.pid))\n"
                   "print('Content-Type: text/plain\\n', flush=True)\n"
                   "while True:\n    print('tick', flush=True)\n    time.sleep(0.2)\n",
                   False, False),
    "gate.py": (f"#!{PY}\nimport os, time\n"
                "d = os.environ['PIDFILE_DIR']\n"
                "open(d + '/gate-%d.pid' % os.getpid(), 'w').close()\n"
                "while not os.path.exists(d + '/release'):\n    time.sleep(0.02)\n"
                "print('Content-Type: text/plain\\n\\npassed')\n", False, False),
    "cookie.py": (f"#!{PY}\nprint('Set-Cookie: a=1\\nSet-Cookie: b=2\\n"
                  "Content-Type: text/plain\\n\\ncookies')\n", False, False),
    "away.py": (f"#!{PY}\nprint('Location: http://example.com/elsewhere\\n"
                "Set-Cookie: s=1\\n\\nignored')\n", False, False),
    "local.py": (f"#!{PY}\nprint('Location: /env.py?from=local\\n\\nignored')\n",
                 False, False),
    "nph-raw.py": (f"#!{PY}\nimport sys\n"
                   "sys.stdout.write('HTTP/1.1 202 Taken\\r\\nContent-Type: text/plain\\r\\n"
                   "X-Nph: yes\\r\\n\\r\\nnph body')\n", False, False),
    "binary.py": (f"#!{PY}\nimport sys\nout = sys.stdout.buffer\n"
                  "out.write(b'Content-Type: application/octet-stream\\n\\n')\n"
                  "out.write(bytes(range(256)) * 1024)\n", False, False),
    "die.py": (f"#!{PY}\nimport os\n"
               "print('Content-Type: text/plain\\n\\nstarted', flush=True)\n"
               "os.kill(os.getpid(), 9)\n", False, False),
    "empty.py": (f"#!{PY}\n", False, False),
    "bad.py": (f"#!{PY}\nprint('This is not a header\\n\\nx')\n", False, False),
    "noshebang.py": ("print('Content-Type: text/plain\\n\\nx')\n", False, False),
    "status.py": (f"#!{PY}\nprint('Status: 404 Not Here\\nContent-Type: text/plain\\n\\nnope')\n",
                  False, False),
}

CONF = """\
ServerRoot {root}
Listen 127.0.0.1:1
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel warn
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
ServerName localhost
ServerAdmin admin@example.com
DocumentRoot {root}/docs
CGIDScriptTimeout {timeout}
CGIMaxProcesses {max_cgi}
<Directory />
  Require all granted
</Directory>
<Directory {root}/docs>
  Options +ExecCGI
  AddHandler cgi-script .py .cgi
  SetEnv PIDFILE_DIR {root}/pids
</Directory>
"""


#: How the server starts scripts: (CGIWarmPython, the server's extra environment).
MODES: dict[str, tuple[str, dict[str, str]]] = {
    # Python scripts forked from a warm interpreter, the rest exec'd by the spawner
    "warm": ("On", {}),
    # every script exec'd by the spawner
    "cold": ("Off", {}),
    # the Windows way, forced here (cgihttpd.platform): no zygote or spawner, no
    # process group, argv and environment as text; CGIWarmPython On has no effect
    "windows": ("On", {"CGIHTTPD_PLATFORM": "windows"}),
}


@pytest.fixture(scope="module", params=sorted(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    """Every test here runs with each way of starting scripts: the proof that they
    behave the same (and where Windows cannot, the test says so)."""
    return str(request.param)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Path:
    warm = MODES[mode][0]
    root = tmp_path_factory.mktemp(f"cgi-e2e-{mode}")
    (root / "docs").mkdir()
    (root / "pids").mkdir()
    for name, (text, executable, crlf) in SCRIPTS.items():
        data = text.encode()
        if crlf:
            data = data.replace(b"\n", b"\r\n")
        p = root / "docs" / name
        p.write_bytes(data)
        p.chmod(0o755 if executable else 0o644)
    (root / "httpd.conf").write_text(CONF.format(root=root, timeout=TIMEOUT, max_cgi=MAX_CGI)
                                     + f"CGIWarmPython {warm}\n")
    return root


@pytest.fixture(scope="module")
def server(site: Path, mode: str) -> Iterator[ServerProcess]:
    with ServerProcess(["-f", str(site / "httpd.conf"), "-l", "127.0.0.1:0"],
                       env=MODES[mode][1]) as srv:
        yield srv


def get(server: ServerProcess, path: str, method: str = "GET", body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=DEADLINE)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def error_log(site: Path) -> str:
    return (site / "error.log").read_text(errors="replace")


def wait_for(cond, deadline: float = DEADLINE) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def scripts(pid: int) -> list[int]:
    """The server's children that are scripts: not its warm-Python zygotes (which stay)."""
    out = []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"/warm/zygote.py" in f.read():
                    continue
        except OSError:
            continue
        out.append(child)
    return out


def children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(") ", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d))
    return out


# --- which files run, and how ---------------------------------------------------------


def test_hello_with_the_courses_windows_shebang_crlf_and_no_exec_bit(
        server: ServerProcess, site: Path) -> None:
    resp, body = get(server, "/hello.py")
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/html"
    assert body.strip() == b"<h1>Hello, World</h1>"
    get(server, "/hello.py")
    warnings = [ln for ln in error_log(site).splitlines() if "python.exe" in ln]
    assert len(warnings) == 1 and "[cgid:warn]" in warnings[0]


def test_sh_script_with_isindex_argv(server: ServerProcess) -> None:
    resp, body = get(server, "/sh.cgi?word")
    assert resp.status == 200 and body == b"sh says word\n"


def test_no_shebang_and_not_executable_is_500_with_a_log_line(
        server: ServerProcess, site: Path) -> None:
    resp, _ = get(server, "/noshebang.py")
    assert resp.status == 500
    assert "script has no #! line and is not executable" in error_log(site)


# --- environment -----------------------------------------------------------------------


def test_environment_is_exactly_apaches_set(server: ServerProcess, site: Path) -> None:
    resp, body = get(server, "/env.py/extra/path?x=1&y", headers={
        "X-Custom": "v", "Proxy": "http://evil", "Authorization": "Basic eDp5"})
    data = json.loads(body)
    env = data["env"]
    env.pop("LC_CTYPE", None)  # Python's own C-locale coercion (PEP 538), not the server's
    expected = {
        "CONTEXT_DOCUMENT_ROOT", "CONTEXT_PREFIX", "DOCUMENT_ROOT", "GATEWAY_INTERFACE",
        "HTTP_ACCEPT_ENCODING", "HTTP_HOST", "HTTP_X_CUSTOM", "PATH", "PATH_INFO",
        "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_PORT", "REQUEST_METHOD",
        "REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_FILENAME", "SCRIPT_NAME", "SERVER_ADDR",
        "SERVER_ADMIN", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SIGNATURE",
        "SERVER_SOFTWARE", "PIDFILE_DIR",
    }
    if "LD_LIBRARY_PATH" in os.environ:
        expected.add("LD_LIBRARY_PATH")
    if "TZ" in os.environ:
        expected.add("TZ")
    assert set(env) == expected
    docs = str(site / "docs")
    assert env["PATH_INFO"] == "/extra/path"
    assert env["PATH_TRANSLATED"] == docs + "/extra/path"
    assert env["SCRIPT_NAME"] == "/env.py"
    assert env["SCRIPT_FILENAME"] == docs + "/env.py"
    assert env["REQUEST_URI"] == "/env.py/extra/path?x=1&y"
    assert env["QUERY_STRING"] == "x=1&y"
    assert env["SERVER_PORT"] == str(server.port)
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["PATH"] == os.environ.get("PATH")
    assert data["argv"] == []


# --- request body ------------------------------------------------------------------------


def test_post_echo(server: ServerProcess) -> None:
    resp, body = get(server, "/echo.py", "POST", b"a=1&b=2",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200 and body == b"a=1&b=2"


@pytest.mark.slow
def test_large_body_round_trip(server: ServerProcess) -> None:
    blob = os.urandom(8 << 20)
    resp, body = get(server, "/echo.py", "POST", blob)
    assert resp.status == 200 and resp.getheader("X-Length") == str(len(blob))
    assert body == blob


def test_chunked_request_body_gets_content_length(server: ServerProcess) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=DEADLINE)
    conn.request("POST", "/echo.py", body=iter([b"hello ", b"chunked ", b"world"]),
                 encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"hello chunked world"
    conn.close()


def test_script_not_reading_stdin_keeps_the_connection_usable(server: ServerProcess) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=DEADLINE)
    conn.request("POST", "/ignore.py", body=b"z" * (2 << 20))
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"ignored\n"
    conn.request("GET", "/sh.cgi?again")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"sh says again\n"
    conn.close()


# --- response ------------------------------------------------------------------------------


def test_stderr_flood_does_not_deadlock(server: ServerProcess, site: Path) -> None:
    resp, body = get(server, "/flood.py")
    assert resp.status == 200 and body == b"flooded\n"
    assert wait_for(lambda: "flood line 059999" in error_log(site))
    line = next(ln for ln in error_log(site).splitlines() if "flood line 000000" in ln)
    assert re.search(r"\[cgid:error\] \[pid \d+(:tid \d+)?\] \[client 127\.0\.0\.1:\d+\] "
                     r"AH01215: stderr from .*/flood\.py: flood line 000000", line), line


def test_set_cookie_repeated(server: ServerProcess) -> None:
    resp, body = get(server, "/cookie.py")
    assert resp.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_status_header(server: ServerProcess) -> None:
    resp, body = get(server, "/status.py")
    assert resp.status == 404 and resp.reason == "Not Here" and body == b"nope\n"


def test_absolute_location_is_302_and_keeps_cookies(server: ServerProcess) -> None:
    resp, _ = get(server, "/away.py")
    assert resp.status == 302
    assert resp.getheader("Location") == "http://example.com/elsewhere"
    assert resp.getheader("Set-Cookie") == "s=1"


def test_local_location_is_an_internal_redirect(server: ServerProcess) -> None:
    resp, body = get(server, "/local.py?orig=1")
    assert resp.status == 200
    env = json.loads(body)["env"]
    assert env["QUERY_STRING"] == "from=local"
    assert env["REDIRECT_STATUS"] == "200" and env["REDIRECT_URL"] == "/local.py"
    assert env["REQUEST_URI"] == "/local.py?orig=1"


def test_nph_output_reaches_the_client(server: ServerProcess) -> None:
    raw = raw_request(server.address, b"GET /nph-raw.py HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 202 Taken\r\n")
    assert b"X-Nph: yes" in head
    assert body.endswith(b"nph body") or b"nph body" in body


def test_binary_output_byte_exact(server: ServerProcess) -> None:
    resp, body = get(server, "/binary.py")
    assert body == bytes(range(256)) * 1024


def test_head_has_no_body(server: ServerProcess) -> None:
    resp, body = get(server, "/cookie.py", "HEAD")
    assert resp.status == 200 and body == b""


def test_dies_mid_body_is_a_truncated_response(server: ServerProcess) -> None:
    raw = raw_request(server.address, b"GET /die.py HTTP/1.1\r\nHost: x\r\n\r\n",
                      timeout=DEADLINE)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"started" in body
    assert not body.endswith(b"0\r\n\r\n")  # never the terminating chunk


def test_no_output_and_malformed_headers_are_500(server: ServerProcess, site: Path) -> None:
    assert get(server, "/empty.py")[0].status == 500
    assert get(server, "/bad.py")[0].status == 500
    log = error_log(site)
    assert "End of script output before headers: empty.py" in log
    assert "malformed header from script 'bad.py': Bad header: This is not a header" in log


# --- processes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_timeout_kills_the_script_and_answers_504(server: ServerProcess, site: Path) -> None:
    resp, _ = get(server, "/slow.py")
    assert resp.status == 504
    assert "Script timed out before returning headers: slow.py" in error_log(site)
    pid = int((site / "pids" / "slow.pid").read_text())
    assert wait_for(lambda: not alive(pid), 5.0)


@pytest.mark.slow
def test_client_disconnect_kills_the_process_group(server: ServerProcess, site: Path,
                                                   mode: str) -> None:
    pidfile = site / "pids" / "forever.pid"
    with socket.create_connection(server.address, timeout=DEADLINE) as s:
        s.sendall(b"GET /forever.py HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")
        assert wait_for(pidfile.exists)
    assert_group_gone([int(p) for p in pidfile.read_text().split()], mode)


def assert_group_gone(pids: list[int], mode: str) -> None:
    """The script (``pids[0]``) and what it started are gone; on Windows, which has no
    process group to signal, the script alone (README: what Windows does not do)."""
    if mode != "windows":
        assert wait_for(lambda: not any(alive(p) for p in pids), 5.0)
        return
    script, started = pids
    assert wait_for(lambda: not alive(script), 5.0)
    assert alive(started)
    os.kill(started, 9)  # started by this test's script
    assert wait_for(lambda: not alive(started), 5.0)


@pytest.mark.slow
def test_no_zombies_or_fd_leaks_after_many_requests(server: ServerProcess) -> None:
    pid = server.proc.pid
    for _ in range(10):
        get(server, "/sh.cgi")
    fds_before = len(os.listdir(f"/proc/{pid}/fd"))
    for _ in range(1000):
        resp, body = get(server, "/sh.cgi?x")
        assert body == b"sh says x\n"
    assert wait_for(lambda: scripts(pid) == [], 5.0), scripts(pid)
    assert len(os.listdir(f"/proc/{pid}/fd")) <= fds_before


def test_script_mode_bits_untouched(site: Path) -> None:
    # the server never chmods scripts: hello.py still has no execute bit
    assert not (site / "docs" / "hello.py").stat().st_mode & stat.S_IXUSR


@pytest.mark.slow
def test_bounded_concurrency_and_the_rest_wait_their_turn(server: ServerProcess,
                                                          site: Path) -> None:
    import threading

    pids = site / "pids"
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        resp, _ = get(server, "/gate.py")
        with lock:
            statuses.append(resp.status)

    threads = [threading.Thread(target=one) for _ in range(MAX_CGI * 5 + 2)]
    for t in threads:
        t.start()
    try:
        # 2 run, the other 10 wait in the queue (tests/e2e/test_cgi_burst.py: its
        # bounds); none is refused while they wait
        assert wait_for(lambda: len(list(pids.glob("gate-*.pid"))) == MAX_CGI)
        time.sleep(0.3)
        assert len(list(pids.glob("gate-*.pid"))) == MAX_CGI and statuses == []
    finally:
        (pids / "release").touch()
        for t in threads:
            t.join(DEADLINE)
    assert sorted(statuses) == [200] * (MAX_CGI * 5 + 2)


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True])
def test_large_upload_is_streamed_not_buffered(server: ServerProcess, chunked: bool) -> None:
    """256 MiB through the server to a script: the server's peak memory must not grow
    by anything like the body (streamed with back-pressure, or spooled to a file when
    chunked)."""
    size = 256 << 20
    block = b"u" * (1 << 20)
    before = _peak_rss_kib(server.proc.pid)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=120)
    conn.request("POST", "/count.py", body=iter([block] * (size // len(block))),
                 headers={} if chunked else {"Content-Length": str(size)},
                 encode_chunked=chunked)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == f"{size}\n".encode()
    conn.close()
    assert _peak_rss_kib(server.proc.pid) - before < 64 * 1024


# --- the rest of the bullets, one test each (H9) ------------------------------------
# Scripts added to the site above (the fixture reads SCRIPTS when it runs).

SCRIPTS.update({
    # the course's script as its README gives it: Windows #!, CRLF, no execute bit
    "course-hello.py": (WIN_SHEBANG + '\nprint("Content-Type: text/html")\nprint()\n'
                        'print("<h1>Hello, CGI</h1>", end="")\n', False, True),
    "envshebang.py": ("#!/usr/bin/env python3\nprint('Content-Type: text/plain\\n\\nvia env')\n",
                      False, False),
    "cwd.py": (f"#!{PY}\nimport os\nprint('Content-Type: text/plain\\n\\n' + os.getcwd())\n",
               False, False),
    "argv.py": (f"#!{PY}\nimport json, sys\n"
                "print('Content-Type: application/json\\n\\n' + json.dumps(sys.argv[1:]))\n",
                False, False),
    "stream.py": (f"#!{PY}\nimport os, sys, time\n"
                  "go = os.environ['PIDFILE_DIR'] + '/stream-go'\n"
                  "print('Content-Type: text/plain\\n\\npart one', flush=True)\n"
                  "end = time.monotonic() + 20\n"
                  "while not os.path.exists(go) and time.monotonic() < end:\n"
                  "    time.sleep(0.02)\n"
                  "print('part two')\n", False, False),
    "cl.py": (f"#!{PY}\nimport sys\n"
              "sys.stdout.write('Content-Length: 5\\nContent-Type: text/plain\\n\\nhello')\n",
              False, False),
    "kids.py": (f"#!{PY}\nimport os, subprocess, sys, time\n"
                "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
                "open(os.environ['PIDFILE_DIR'] + '/kids.pid', 'w')"
                ".write('%d %d' % (os.getpid(), kid.pid))\n"
                "time.sleep(120)\n", False, False),
    "who.py": (f"#!{PY}\nimport os\nprint('Content-Type: text/plain\\n')\n"
               "print(os.getpid(), os.getpgid(0), os.getppid())\n", False, False),
    "nph-odd.py": (f"#!{PY}\nimport sys\nsys.stdout.buffer.write("
                   "b'HTTP/1.0 299 Odd One\\r\\nx-odd:no-space\\nContent-Type: text/plain\\r\\n"
                   "Status: 500\\r\\n\\r\\n\\x00\\xffraw body')\n", False, False),
})

NPH_ODD = (b"HTTP/1.0 299 Odd One\r\nx-odd:no-space\nContent-Type: text/plain\r\n"
           b"Status: 500\r\n\r\n\x00\xffraw body")


def test_the_courses_hello_py_unchanged(server: ServerProcess, site: Path) -> None:
    assert (site / "docs" / "course-hello.py").read_bytes().startswith(
        WIN_SHEBANG.encode() + b"\r\n")
    resp, body = get(server, "/course-hello.py")
    assert (resp.status, resp.getheader("Content-Type"), body) == (
        200, "text/html", b"<h1>Hello, CGI</h1>")


def test_env_shebang_runs(server: ServerProcess) -> None:
    resp, body = get(server, "/envshebang.py")
    assert resp.status == 200 and body == b"via env\n"


def test_working_directory_is_the_scripts(server: ServerProcess, site: Path) -> None:
    resp, body = get(server, "/cwd.py")
    assert body.decode().strip() == str(site / "docs")


@pytest.mark.parametrize(("query", "argv"), [
    ("a+b%20c+d%3Be", ["a", "b c", "d\\;e"]),  # decoded words, shell-escaped as mod_cgid
    ("x=1", []),  # a '=' means a form query: no arguments
    ("", []),
])
def test_isindex_query_gives_argv_words(server: ServerProcess, query: str,
                                        argv: list[str]) -> None:
    resp, body = get(server, "/argv.py" + ("?" + query if query else ""))
    assert json.loads(body) == argv


def test_proxy_header_is_never_exported(server: ServerProcess) -> None:
    resp, body = get(server, "/env.py", headers={"Proxy": "http://evil:1", "X-Ok": "1"})
    env = json.loads(body)["env"]
    assert env["HTTP_X_OK"] == "1"
    assert "HTTP_PROXY" not in env and "HTTP_AUTHORIZATION" not in env


def test_flushed_output_reaches_the_client_before_the_script_ends(
        server: ServerProcess, site: Path) -> None:
    go = site / "pids" / "stream-go"
    go.unlink(missing_ok=True)
    with socket.create_connection(server.address, timeout=DEADLINE) as s:
        s.sendall(b"GET /stream.py HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        got = b""
        while b"part one" not in got:  # the script waits for `go`: this must come first
            chunk = s.recv(65536)
            assert chunk, got
            got += chunk
        assert b"part two" not in got
        go.touch()
        while chunk := s.recv(65536):
            got += chunk
    assert b"Transfer-Encoding: chunked" in got and got.endswith(b"0\r\n\r\n")
    assert b"part two" in got


def test_script_content_length_dropped_body_framed_by_us(server: ServerProcess) -> None:
    # Apache 2.4.59+: the script's length is dropped; the body gets one counted by the
    # server when it has it whole with the head, else is chunked (timing decides)
    resp, body = get(server, "/cl.py")
    assert body == b"hello"
    assert (resp.getheader("Content-Length") == "5"
            and resp.getheader("Transfer-Encoding") is None) or \
        (resp.getheader("Content-Length") is None
         and resp.getheader("Transfer-Encoding") == "chunked")
    resp, body = get(server, "/cookie.py")
    assert body == b"cookies\n"
    assert resp.getheader("Transfer-Encoding") == "chunked" or \
        resp.getheader("Content-Length") == str(len(body))


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_nph_bytes_exactly_as_written_then_the_close(server: ServerProcess,
                                                     method: str) -> None:
    # HTTP/1.1 without "Connection: close": the server closes by itself after nph
    raw = raw_request(server.address, f"{method} /nph-odd.py HTTP/1.1\r\nHost: x\r\n\r\n"
                      .encode(), timeout=DEADLINE)
    assert raw == NPH_ODD


@pytest.mark.slow
def test_timeout_kills_the_whole_process_group(server: ServerProcess, site: Path,
                                               mode: str) -> None:
    pidfile = site / "pids" / "kids.pid"
    resp, _ = get(server, "/kids.py")
    assert resp.status == 504
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    assert_group_gone(pids, mode)


def test_each_way_starts_scripts_from_where_it_should(server: ServerProcess,
                                                      mode: str) -> None:
    """The modes differ where they should: a warm script is forked by its zygote, a
    cold one exec'd by the spawner, both in a session of their own; under Windows'
    rules the server starts it itself, in the server's own group, with no zygote."""
    resp, body = get(server, "/who.py")
    assert resp.status == 200
    pid, pgid, parent = (int(w) for w in body.split())
    server_pid = server.proc.pid
    zygotes = [c for c in children(server_pid) if c not in scripts(server_pid)]
    if mode == "windows":
        assert parent == server_pid and pgid == os.getpgid(server_pid)
        assert zygotes == []
    else:
        assert parent in zygotes and pgid == pid


def test_no_fd_growth_in_the_server_or_its_children(server: ServerProcess) -> None:
    pid = server.proc.pid

    def fds() -> int:
        total = len(os.listdir(f"/proc/{pid}/fd"))
        for child in children(pid):
            try:
                total += len(os.listdir(f"/proc/{child}/fd"))
            except OSError:
                pass
        return total

    paths = ("/sh.cgi", "/empty.py", "/bad.py", "/die.py", "/nph-odd.py", "/local.py",
             "/echo.py")

    def run(rounds: int) -> None:
        for path in paths * rounds:
            try:
                get(server, path, "POST" if path == "/echo.py" else "GET",
                    b"x" * 1000 if path == "/echo.py" else None)
            except (http.client.HTTPException, OSError):
                pass  # die.py and nph: not complete HTTP answers, by design

    run(2)  # whatever starts on first use (log files, a warm interpreter) has started
    before = fds()
    run(20)

    def detail() -> str:
        return "\n".join(f"{p}: {sorted(os.listdir(f'/proc/{p}/fd'))}"
                         for p in [pid, *children(pid)])

    assert wait_for(lambda: fds() <= before, 5.0), (fds(), before, detail())


# --- a second server: config-dependent rules (mod_cgi, mod_env, CGIPassAuth, limits) ---------

STRICT_CONF = """\
ServerRoot {root}
Listen 127.0.0.1:1
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel warn
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
ServerName localhost
DocumentRoot {root}/docs
CGIScriptTimeout 5
LimitRequestBody 1000
ScriptLog {root}/script.log
ScriptLogLength 100000
ScriptLogBuffer 16
PassEnv H9_PASSED H9_DROPPED
SetEnv H9_SET from-setenv
<Directory />
  Require all granted
</Directory>
<Directory {root}/docs>
  Options +ExecCGI
  AddHandler cgi-script .py
  CGIPythonInterpreter {root}/python-wrapper
</Directory>
<Directory {root}/docs/auth>
  CGIPassAuth On
  UnsetEnv H9_DROPPED
  CGIVar REQUEST_URI current-uri
</Directory>
<Directory {root}/docs/noexec>
  Options -ExecCGI
</Directory>
<Directory {root}/docs/handled>
  SetHandler cgi-script
</Directory>
ScriptAlias /sa/ {root}/sa/
"""

ENV_SCRIPT = (f"#!{PY}\nimport json, os\n"
              "print('Content-Type: application/json\\n\\n' + json.dumps(dict(os.environ)))\n")
STRICT_SCRIPTS = {
    "env.py": ENV_SCRIPT,
    "auth/env.py": ENV_SCRIPT,
    "noexec/secret.py": f"#!{PY}\nprint('Content-Type: text/plain\\n\\nran')\n# SOURCE-MARK\n",
    "win.py": (WIN_SHEBANG + "\nimport os\n"
               "print('Content-Type: text/plain\\n\\n' + os.environ.get('H9_WRAPPED', 'no'))\n"),
    "bad.py": f"#!{PY}\nimport sys\nsys.stdin.read()\nsys.stderr.write('oops\\n')\n"
              "print('Not a header\\n\\nrest')\n",
    "echo.py": (f"#!{PY}\nimport sys\nprint('Content-Type: text/plain\\n')\n"
                "print(len(sys.stdin.buffer.read()))\n"),
    "handled/page.txt": f"#!{PY}\nprint('Content-Type: text/plain\\n\\nran by SetHandler')\n",
    "../sa/run.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran by ScriptAlias\\n'\n",
}
#: the server's own environment: only PassEnv'd names may reach a script
STRICT_ENV = {"H9_LEAK_MARKER": "must-not-leak", "H9_PASSED": "passed",
              "H9_DROPPED": "dropped"}


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    root = tmp_path_factory.mktemp("cgi-strict")
    for rel, text in STRICT_SCRIPTS.items():
        p = root / "docs" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    wrapper = root / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\nH9_WRAPPED=yes exec "{PY}" "$@"\n')
    wrapper.chmod(0o755)
    (root / "httpd.conf").write_text(STRICT_CONF.format(root=root))
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"],
                       env=STRICT_ENV) as srv:
        yield srv, root


def test_sethandler_and_scriptalias_run_scripts(strict: tuple[ServerProcess, Path]) -> None:
    # SetHandler maps any name; ScriptAlias implies ExecCGI (its directory has none)
    server, _ = strict
    assert get(server, "/handled/page.txt")[1] == b"ran by SetHandler\n"
    assert get(server, "/sa/run.sh")[1] == b"ran by ScriptAlias\n"


def test_nothing_leaks_from_the_servers_environment(
        strict: tuple[ServerProcess, Path]) -> None:
    server, _ = strict
    env = json.loads(get(server, "/env.py")[1])
    assert "H9_LEAK_MARKER" not in env
    assert (env["H9_PASSED"], env["H9_DROPPED"], env["H9_SET"]) == (
        "passed", "dropped", "from-setenv")  # PassEnv, SetEnv
    env = json.loads(get(server, "/auth/env.py")[1])
    assert "H9_DROPPED" not in env and env["H9_PASSED"] == "passed"  # UnsetEnv


def test_cgipassauth_on_exports_authorization(strict: tuple[ServerProcess, Path]) -> None:
    server, _ = strict
    auth = {"Authorization": "Basic dTpw"}
    assert "HTTP_AUTHORIZATION" not in json.loads(get(server, "/env.py", headers=auth)[1])
    env = json.loads(get(server, "/auth/env.py?x=1", headers=auth)[1])
    assert env["HTTP_AUTHORIZATION"] == "Basic dTpw"
    assert env["REQUEST_URI"] == "/auth/env.py"  # CGIVar REQUEST_URI current-uri


def test_execcgi_off_is_403_never_the_source(strict: tuple[ServerProcess, Path]) -> None:
    server, root = strict
    resp, body = get(server, "/noexec/secret.py")
    assert resp.status == 403 and b"SOURCE-MARK" not in body and b"ran" not in body
    log = (root / "error.log").read_text()
    assert "AH02809: stderr from " + str(root / "docs/noexec/secret.py") + \
        ": Options ExecCGI is off in this directory" in log


def test_cgipythoninterpreter_runs_foreign_python_shebangs(
        strict: tuple[ServerProcess, Path]) -> None:
    server, root = strict
    resp, body = get(server, "/win.py")
    assert resp.status == 200 and body == b"yes\n"
    get(server, "/win.py")
    warnings = [ln for ln in (root / "error.log").read_text().splitlines()
                if "python.exe" in ln]
    assert len(warnings) == 1 and "[cgi:warn]" in warnings[0]


def test_limit_request_body_is_413(strict: tuple[ServerProcess, Path]) -> None:
    server, _ = strict
    assert get(server, "/echo.py", "POST", b"x" * 1000)[1] == b"1000\n"
    assert get(server, "/echo.py", "POST", b"x" * 1001)[0].status == 413
    conn = http.client.HTTPConnection(server.host, server.port, timeout=DEADLINE)
    conn.request("POST", "/echo.py", body=iter([b"x" * 600, b"x" * 600]), encode_chunked=True)
    assert conn.getresponse().status == 413
    conn.close()


def test_script_log_records_a_failed_run(strict: tuple[ServerProcess, Path]) -> None:
    server, root = strict
    resp, _ = get(server, "/bad.py?q=1", "POST", b"0123456789abcdefOVER",
                  {"Content-Type": "text/plain"})
    assert resp.status == 500
    log = root / "script.log"
    assert wait_for(lambda: log.exists() and b"%stdout" in log.read_bytes())
    stderr_entry, entry = log.read_bytes().split(b"%% [")[-2:]
    # mod_cgi: the stderr line first, an entry of its own (status 200 while it ran)
    assert stderr_entry.endswith(f"%% 200 {root}/docs/bad.py\n%error\noops\n".encode())
    assert entry.split(b"\n")[0].endswith(b"] POST /bad.py?q=1 HTTP/1.1")
    assert f"%% 500 {root}/docs/bad.py\n%request\n".encode() in entry
    # ScriptLogBuffer 16: the first 16 bytes of the body
    assert entry.endswith(b"\n\n0123456789abcdef\n%response\nNot a header\n%stdout\n"
                          b"\nrest\n\n")
