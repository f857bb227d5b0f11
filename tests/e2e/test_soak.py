"""A bounded soak (issue 10): the real server on loopback under a mixed load, then
checked for what it leaves behind.

The load: static files, CGI GETs (sh and Python), CGI POSTs whose bodies the script
hashes, scripts that crash before their headers and in the middle of their body, that
hang past a short CGIScriptTimeout, that flood megabytes; clients that abort after a
few bytes and a few that stop reading. Counts are fixed and the run is bounded in time
(``LOAD_DEADLINE``); nothing asserts speed.

What it asserts:
- every answer read to its end is byte-exact (status, length or chunks, body hash);
- the access log has one line per request sent (every request here reaches the
  server whole), each with a real status;
- after the load, the server's fds, children and RSS are back to the baseline taken
  after a warm-up (with a tolerance), no process of the site is left (orphans) and
  none of the server's descendants is a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux",
                                                     reason="reads /proc")]

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
#: the whole test stays well under two minutes
LOAD_DEADLINE = 60.0
CLIENTS = 8
REQUESTS = 800
NON_READING = 3
FLOOD = 2 * 1024 * 1024
SCRIPT_TIMEOUT = 2

CONF = """
ServerRoot "{root}"
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Listen 127.0.0.1:8080
ServerName localhost
ErrorLog "{root}/logs/error.log"
LogLevel warn
LogFormat "%h \\"%r\\" %>s %b" short
CustomLog "{root}/logs/access.log" short
CGIDScriptTimeout {timeout}
DocumentRoot "{root}/www"
<Directory "{root}/www">
    Options +ExecCGI
    AddHandler cgi-script .py .sh
    Require all granted
</Directory>
"""

PATTERN = bytes(range(256))

SCRIPTS = {
    "hello.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"sh $QUERY_STRING\"\n",
    "get.py": (f"#!{PY}\nimport os, sys\nq = os.environ.get('QUERY_STRING', '')\n"
               "sys.stdout.write('Content-Type: text/plain\\n\\n' + ('py ' + q + '\\n') * 50)\n"),
    "hash.py": (f"#!{PY}\nimport hashlib, sys\ndata = sys.stdin.buffer.read()\n"
                "sys.stdout.write('Content-Type: text/plain\\n\\n%d %s\\n' % "
                "(len(data), hashlib.sha256(data).hexdigest()))\n"),
    "crash.py": f"#!{PY}\nimport sys\nsys.stderr.write('dying\\n')\nsys.exit(3)\n",
    "die.py": (f"#!{PY}\nimport os, sys\n"
               "sys.stdout.write('Content-Type: text/plain\\n\\nstart\\n')\nsys.stdout.flush()\n"
               "os.kill(os.getpid(), 9)\n"),
    "hang.sh": "#!/bin/sh\nsleep 30\n",
    "flood.py": (f"#!{PY}\nimport sys\nout = sys.stdout.buffer\n"
                 "out.write(b'Content-Type: application/octet-stream\\n\\n')\n"
                 f"block = bytes(range(256)) * 256\nfor _ in range({FLOOD} // len(block)):\n"
                 "    out.write(block)\n"),
}
STATIC = {"small.txt": b"small file\n", "big.bin": PATTERN * 800}


@dataclass
class Answer:
    status: int
    body: bytes
    complete: bool


def expected(kind: str, arg: str) -> tuple[int, bytes | None]:
    """(status, body) a complete answer must have; body None: not compared."""
    if kind == "static":
        return 200, STATIC[static_file(arg)]
    if kind == "sh":
        return 200, f"sh {arg}\n".encode()
    if kind == "py":
        return 200, f"py {arg}\n".encode() * 50
    if kind == "post":
        data = body_for(arg)
        return 200, f"{len(data)} {hashlib.sha256(data).hexdigest()}\n".encode()
    if kind == "crash":
        return 500, None
    if kind == "hang":
        return 504, None
    if kind == "flood":
        return 200, PATTERN * (FLOOD // 256)
    raise AssertionError(kind)


def static_file(arg: str) -> str:
    return "big.bin" if int(re.sub(r"\D", "", arg) or 0) % 2 else "small.txt"


def body_for(arg: str) -> bytes:
    rng = random.Random(arg)
    return rng.randbytes(rng.randrange(0, 300_000))


def request_for(kind: str, arg: str) -> bytes:
    paths = {"static": f"/{static_file(arg)}?{arg}", "sh": f"/hello.sh?{arg}", "py": f"/get.py?{arg}",
             "crash": f"/crash.py?{arg}", "hang": f"/hang.sh?{arg}",
             "flood": f"/flood.py?{arg}", "die": f"/die.py?{arg}"}
    if kind == "post":
        data = body_for(arg)
        return (f"POST /hash.py?{arg} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    return (f"GET {paths[kind]} HTTP/1.1\r\nHost: localhost\r\n"
            "Connection: close\r\n\r\n").encode()


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    if "content-length" in fields:
        size = int(fields["content-length"])
        body = await _exactly(reader, size)
        return Answer(status, body, len(body) == size)
    if fields.get("transfer-encoding") == "chunked":
        body = b""
        try:
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    return Answer(status, body, True)
                body += await reader.readexactly(size)
                assert await reader.readexactly(2) == b"\r\n"
        except (asyncio.IncompleteReadError, ValueError):
            return Answer(status, body, False)
    return Answer(status, await reader.read(), False)


async def _exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        return exc.partial


MIX = (["static"] * 6 + ["sh"] * 5 + ["py"] * 5 + ["post"] * 5 + ["crash"] * 2
       + ["die"] * 2 + ["hang"] * 1 + ["flood"] * 2 + ["abort"] * 3 + ["cut"] * 2)


async def one(port: int, kind: str, arg: str, problems: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if kind == "abort":  # a flood, dropped after a few bytes
            writer.write(request_for("flood", arg))
            await writer.drain()
            await reader.read(100)
            return
        if kind == "cut":  # a POST whose body stops half-way: the client goes
            data = request_for("post", arg)
            writer.write(data[: len(data) - len(body_for(arg)) // 2 - 1])
            await writer.drain()
            await asyncio.sleep(0.05)
            return
        writer.write(request_for(kind, arg))
        await writer.drain()
        got = await read_answer(reader)
        if kind == "die":  # the body stops where the script died: never complete
            if got.status != 200 or got.complete or not b"start\n".startswith(got.body[:6]):
                problems.append(f"die {arg}: {got.status} complete={got.complete}")
            return
        status, body = expected(kind, arg)
        if got.status != status or not got.complete or (body is not None and got.body != body):
            problems.append(f"{kind} {arg}: {got.status} complete={got.complete} "
                            f"{len(got.body)} bytes")
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def non_reader(port: int, arg: str, hold: float) -> None:
    """Asks for a flood and reads nothing for ``hold`` seconds, then goes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_for("flood", arg))
    await writer.drain()
    await asyncio.sleep(hold)
    writer.transport.abort()


async def load(port: int, seed: int) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    jobs = [(rng.choice(MIX), f"q{i}") for i in range(REQUESTS)]
    problems: list[str] = []
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            kind, arg = queue.get_nowait()
            try:
                await asyncio.wait_for(one(port, kind, arg, problems), 30)
            except Exception as exc:  # any failure is a finding, with its request
                problems.append(f"{kind} {arg}: {type(exc).__name__} {exc}")

    stuck = [asyncio.ensure_future(non_reader(port, f"nr{i}", 5.0)) for i in range(NON_READING)]
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CLIENTS)), *stuck),
                           LOAD_DEADLINE)
    return len(jobs) + NON_READING, problems


# --- the server's footprint ----------------------------------------------------------


def descendants(pid: int) -> dict[int, str]:
    """Every descendant of ``pid``: pid -> state letter."""
    parent: dict[int, int] = {}
    state: dict[int, str] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(") ", 1)[1].split()
            except OSError:
                continue
            parent[int(d)], state[int(d)] = int(fields[1]), fields[0]
    out: dict[int, str] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        for child, pp in parent.items():
            if pp == p and child not in out:
                out[child] = state[child]
                todo.append(child)
    return out


def site_processes(www: Path) -> list[int]:
    """Processes a script of the site started, or their children (a ``sleep`` of a
    shell script): their command line or their environment (SCRIPT_FILENAME, which
    children inherit) names the site."""
    needle = str(www).encode() + b"/"
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            for what in ("cmdline", "environ"):
                try:
                    with open(f"/proc/{d}/{what}", "rb") as f:
                        if needle in f.read():
                            out.append(int(d))
                            break
                except OSError:
                    continue
    return out


def footprint(pid: int) -> tuple[int, int, int]:
    """(open fds, descendants, RSS in kB)."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return fds, len(descendants(pid)), rss


def settle(check: object, deadline: float) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return bool(check())  # type: ignore[operator]


def access_lines(root: Path) -> list[str]:
    path = root / "logs" / "access.log"
    return path.read_text(encoding="latin-1").splitlines() if path.exists() else []


def test_soak_mixed_load_leaves_nothing_behind(tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (tmp_path / "logs").mkdir()
    for name, text in SCRIPTS.items():
        (www / name).write_text(text)
        (www / name).chmod(0o755)
    for name, data in STATIC.items():
        (www / name).write_bytes(data)
    conf = tmp_path / "httpd.conf"
    conf.write_text(CONF.format(root=tmp_path, timeout=SCRIPT_TIMEOUT))
    try:
        _soak(tmp_path, www, conf)
    finally:  # whatever failed: no script of this test outlives it
        for leftover in site_processes(www):
            with contextlib.suppress(OSError):
                os.kill(leftover, signal.SIGKILL)


def _soak(tmp_path: Path, www: Path, conf: Path) -> None:
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as server:
        pid = server.proc.pid
        # warm-up: each kind once (zygotes, caches, the log files' buffers exist)
        warm: list[str] = []
        for kind in ("static", "sh", "py", "post", "crash", "flood"):
            asyncio.run(one(server.port, kind, f"w-{kind}", warm))
        assert not warm, warm
        assert settle(lambda: not site_processes(www), 10)
        base_fds, base_kids, base_rss = footprint(pid)
        logged_before = len(access_lines(tmp_path))

        sent, problems = asyncio.run(load(server.port, seed=10))
        assert not problems, problems[:20]

        # everything let go: scripts gone, no zombie, fds and children back
        assert settle(lambda: not site_processes(www), 3 * SCRIPT_TIMEOUT + 10), \
            site_processes(www)
        assert settle(lambda: "Z" not in descendants(pid).values(), 10), descendants(pid)
        assert settle(lambda: footprint(pid)[0] <= base_fds + 4, 10), \
            (footprint(pid), base_fds)
        assert settle(lambda: footprint(pid)[1] <= base_kids, 10), \
            (descendants(pid), base_kids)
        fds, kids, rss = footprint(pid)
        # RSS: Python keeps freed memory in its arenas; a leak would grow per request
        assert rss <= base_rss * 1.5 + 64 * 1024, (rss, base_rss)
        assert settle(lambda: len(access_lines(tmp_path)) >= logged_before + sent, 10)
        lines = access_lines(tmp_path)[logged_before:]
        assert server.stop() == 0
    assert len(lines) == sent, (len(lines), sent)
    assert all(re.fullmatch(r'127\.0\.0\.1 "[^"]+" \d{3} (\d+|-)', x) for x in lines), \
        [x for x in lines if not re.fullmatch(r'127\.0\.0\.1 "[^"]+" \d{3} (\d+|-)', x)][:5]
    # one line per request: each query string once
    queries = [re.search(r"\?(\w+) HTTP", x) for x in lines]
    names = [q.group(1) for q in queries if q]
    assert len(names) == len(set(names)), "a request logged twice"
    # a body cut short by its client is a 400 (Apache), never "-"
    cut = [x for x in lines if x.startswith('127.0.0.1 "POST /hash.py?') and " 200 " not in x]
    assert cut and all(re.search(r'" 400 ', x) for x in cut), cut[:5]
    assert not any("Traceback" in x for x in server.stderr_lines)
