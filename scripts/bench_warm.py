"""Measure warm Python against cold, below HTTP: the course's hello.py started through
``SubprocessLauncher`` and ``WarmLauncher`` (no preloads, and with preloads), one at a
time (latency) and 16 at a time (throughput), plus the zygote's RSS.

Usage: .venv/bin/python scripts/bench_warm.py [--python /usr/bin/python3] [--seconds 3]
Prints a Markdown table (for docs/design.md §8). A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time

from cgihttpd.cgi.runner import Launcher, LaunchSpec, SubprocessLauncher
from cgihttpd.warm.launcher import WarmLauncher

HELLO = ('print("Content-Type: text/html")\nprint()\nprint("<h1>Hello, World</h1>")\n')
PRELOADS = ("json", "urllib.parse", "html", "http.cookies", "datetime", "cgi")


async def once(launcher: Launcher, spec: LaunchSpec) -> float:
    t0 = time.perf_counter()
    proc = await launcher.start(spec)
    proc.stdin.close()
    out, _err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
    await proc.wait()
    assert b"Hello" in out, out
    return time.perf_counter() - t0


async def measure(launcher: Launcher, spec: LaunchSpec, seconds: float) -> tuple[float, float, float]:
    for _ in range(5):  # start the zygote, fill caches
        await once(launcher, spec)
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        lat.append(await once(launcher, spec))
    done = 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < end:
            await once(launcher, spec)
            done += 1

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(16)))
    rate = done / (time.monotonic() - t0)
    lat.sort()
    return statistics.median(lat) * 1000, lat[int(len(lat) * 0.99)] * 1000, rate


def zygote_rss_kib(launcher: WarmLauncher) -> int:
    total = 0
    for pool in launcher._pools.values():
        for z in pool.values():
            with open(f"/proc/{z.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
    return total


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--seconds", type=float, default=3.0)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "hello.py")
        with open(script, "w") as f:
            f.write(f"#!{ns.python}\n{HELLO}")
        env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET"}
        rows = []
        for label, launcher, preload in (
                ("cold (SubprocessLauncher)", SubprocessLauncher(), ()),
                ("warm, no preload", WarmLauncher(), ()),
                (f"warm, preload {' '.join(PRELOADS)}", WarmLauncher(), PRELOADS)):
            spec = LaunchSpec((ns.python, script), (), env, d, warm=True, preload=preload)
            p50, p99, rate = await measure(launcher, spec, ns.seconds)
            rss = zygote_rss_kib(launcher) if isinstance(launcher, WarmLauncher) else 0
            rows.append((label, p50, p99, rate, rss))
            if isinstance(launcher, WarmLauncher):
                launcher.close()
    print(f"{ns.python} ({platform.python_version() if ns.python == sys.executable else 'see -V'}),"
          f" {os.cpu_count()} CPUs, {platform.platform()}")
    print()
    print("| launcher | 1 at a time p50 | p99 | 16 at a time, starts/s | zygote RSS |")
    print("|---|---:|---:|---:|---:|")
    for label, p50, p99, rate, rss in rows:
        print(f"| {label} | {p50:.2f} ms | {p99:.2f} ms | {rate:,.0f} | "
              f"{f'{rss / 1024:.1f} MB' if rss else '-'} |")


if __name__ == "__main__":
    asyncio.run(main())
