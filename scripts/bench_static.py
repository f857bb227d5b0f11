"""Static ``index.html`` side by side: Debian's apache2 and cgihttpd (1 and 2 worker
processes) on the course's configuration (a vhost, ``<Directory>`` with ``Options
-Indexes +ExecCGI``, ``AddHandler``, ``Require all granted``, ``CustomLog common``),
measured in one run, alternating, several rounds; medians (docs/design-static.md).

    .venv/bin/python scripts/bench_static.py [--rounds N] [--seconds S] [--conns C]
                                            [--path /index.html] [--workers 1,2]

Prints req/s and server CPU µs per request (utime+stime of the server's whole process
tree, from /proc: less sensitive to what else the machine does than req/s). Needs
Linux, ``wrk`` and ``/usr/sbin/apache2``. Every server started here is stopped by PID.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "differential"))

import diffsupport  # noqa: E402


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(port: int, path: str, conns: int, seconds: int) -> tuple[float, int]:
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
                          f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"non-2xx answers from port {port}:\n{out}")
    return rps, total


def start(kind: str, conf: Path, root: Path, workers: int) -> diffsupport.Server:
    if kind == "apache":
        return diffsupport._start("apache", [diffsupport.APACHE, "-f", str(conf),
                                             "-DFOREGROUND"], root)
    impl = f"cgihttpd{workers}"
    return diffsupport._start(impl, [sys.executable, "-m", "cgihttpd", "-f", str(conf),
                                     "-DFOREGROUND", "--workers", str(workers)], root)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--path", default="/index.html")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--no-apache", action="store_true")
    ns = p.parse_args(argv)
    kinds = ([] if ns.no_apache else [("apache", 0)]) + [
        ("cgihttpd", int(w)) for w in ns.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-static-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        conf = diffsupport.build_course_site(root)
        servers = {}
        try:
            for kind, workers in kinds:
                servers[(kind, workers)] = start(kind, conf, root, workers)
            results: dict[tuple[str, int], list[tuple[float, float]]] = {k: [] for k in kinds}
            for server in servers.values():  # warm-up
                wrk(server.port, ns.path, ns.conns, 1)
            for r in range(ns.rounds):
                for key, server in servers.items():
                    c0 = cpu_seconds(server.proc.pid)
                    rps, total = wrk(server.port, ns.path, ns.conns, ns.seconds)
                    us = (cpu_seconds(server.proc.pid) - c0) / total * 1e6
                    results[key].append((rps, us))
                    name = key[0] if key[0] == "apache" else f"cgihttpd -w{key[1]}"
                    print(f"round {r + 1} {name:12} {rps:9.0f} req/s {us:7.1f} µs CPU/req",
                          flush=True)
            print(f"\nmedians, {ns.path} at {ns.conns} connections, {ns.rounds}×{ns.seconds}s:")
            base = statistics.median(x[0] for x in results[kinds[0]])
            for key in kinds:
                rps = statistics.median(x[0] for x in results[key])
                us = statistics.median(x[1] for x in results[key])
                name = key[0] if key[0] == "apache" else f"cgihttpd -w{key[1]}"
                print(f"| {name} | {rps:,.0f} | {us:.0f} µs | {rps / base:.2f} |")
        finally:
            for server in servers.values():
                diffsupport._stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
