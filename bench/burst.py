"""A burst of CGI requests, cgihttpd beside Apache 2.4: ``python bench/burst.py``.

Not part of ``make bench`` (wrk measures throughput at a steady concurrency; a burst is
one wave of N connections at once). Starts Debian's apache2 (mpm_event + mod_cgid,
Debian's defaults: MaxRequestWorkers 150) and cgihttpd (CGIMaxProcesses at its
default, 64, and the queue's defaults) on one config, sends ``--burst`` concurrent
requests to a script that sleeps ``--sleep`` seconds, and prints per server the
statuses, the wall time of the wave and the slowest answer. ``--memory N`` measures
instead what a request waiting in cgihttpd's queue costs: the server's RSS with N
requests waiting (GET, then POST with a 64 KiB body) behind one slot held, less its
RSS before (docs/design.md, "The CGI queue").

Servers are started and stopped by their PID (tests/differential/diffsupport.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "differential"))

import diffsupport  # noqa: E402

SCRIPT = "#!/usr/bin/python3\nimport os, time\n" \
    "time.sleep(float(os.environ.get('QUERY_STRING') or 1))\n" \
    "print('Content-Type: text/plain\\n\\nslept')\n"
GATE = "#!/usr/bin/python3\nimport os, time\n" \
    "while not os.path.exists(os.environ['RELEASE']):\n    time.sleep(0.05)\n" \
    "print('Content-Type: text/plain\\n\\nreleased')\n"


def config(extra: str = "") -> str:
    return (diffsupport.config_head("authz_core", "mime", "cgid", "env", log_level="warn")
            + 'TypesConfig /etc/mime.types\nDocumentRoot "${ROOT}/site"\n<Directory "${ROOT}/site">\n'
            "  Require all granted\n  Options +ExecCGI\n  AddHandler cgi-script .py\n"
            '  SetEnv RELEASE "${ROOT}/run/release"\n</Directory>\n'
            + f"<IfModule cgihttpd_module>\n{extra}</IfModule>\n")


async def one(port: int, target: str, deadline: float) -> tuple[int, float]:
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), deadline)
        writer.write(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n"
                     "Connection: close\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readline(), deadline)
        await asyncio.wait_for(reader.read(), deadline)
        writer.close()
        status = int(head.split()[1]) if head else 0
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        status = 0  # refused, reset or timed out
    return status, time.monotonic() - start


async def burst(port: int, count: int, sleep: float) -> tuple[Counter[int], float, float]:
    start = time.monotonic()
    got = await asyncio.gather(*(one(port, f"/nap.py?{sleep}", 120.0)
                                 for _ in range(count)))
    return Counter(s for s, _ in got), time.monotonic() - start, max(t for _, t in got)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def waiting_cost(port: int, pid: int, count: int, body: int) -> float:
    """KiB of the server's RSS per request waiting in the queue, behind one request
    holding the only slot (its connection kept open)."""
    _, holder = await asyncio.open_connection("127.0.0.1", port)
    holder.write(b"GET /gate.py HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    conns = [holder]
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        method = "POST" if body else "GET"
        writer.write(f"{method} /gate.py HTTP/1.1\r\nHost: localhost\r\n"
                     f"Content-Length: {body}\r\n\r\n".encode() + b"x" * body)
        conns.append(writer)
    await asyncio.sleep(2.0)  # every request read and queued
    after = rss_kib(pid)
    for w in conns:
        w.close()
    await asyncio.sleep(1.0)
    return (after - before) / count


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--burst", type=int, default=500)
    p.add_argument("--sleep", type=float, default=1.0)
    p.add_argument("--memory", type=int, default=0, metavar="N",
                   help="measure the cost of N waiting requests (cgihttpd only)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cgihttpd-burst-") as tmp:
        root = Path(tmp) / "burst"
        root.mkdir()
        os.chmod(tmp, 0o755)
        diffsupport.site_dirs(root, {"nap.py": SCRIPT, "gate.py": GATE})
        extra = "CGIMaxProcesses 1\n" if args.memory else ""
        with diffsupport.serving(root, config(extra), lambda n: n.endswith(".py")) as pair:
            if args.memory:
                for body in (0, 65536, 1 << 20):
                    cost = asyncio.run(waiting_cost(pair.ours.port, pair.ours.proc.pid,
                                                    args.memory, body))
                    print(f"cgihttpd: {cost:.1f} KiB per waiting request "
                          f"(body {body} bytes, {args.memory} waiting)")
                (root / "run" / "release").touch()
                return 0
            for server in pair.both():
                statuses, wall, slowest = asyncio.run(
                    burst(server.port, args.burst, args.sleep))
                print(f"{server.impl}: {dict(sorted(statuses.items()))} in {wall:.1f} s "
                      f"(slowest answer {slowest:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
