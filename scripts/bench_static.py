"""Static ``index.html`` side by side: Debian's apache2 and cgihttpd (1 and 2 worker
processes) on the course's configuration (a vhost, ``<Directory>`` with ``Options
-Indexes +ExecCGI``, ``AddHandler``, ``Require all granted``, ``CustomLog common``),
measured in one run, alternating, several rounds; medians (docs/design.md §7).

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


def memory_kib(pid: int) -> tuple[int, int]:
    """RSS and PSS (shared pages split between the processes sharing them) of the
    process tree, in KiB."""
    rss = pss = 0
    for p in _tree(pid):
        try:
            text = Path(f"/proc/{p}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


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


def start(kind: str, conf: Path, root: Path, workers: int,
          src: str | None = None) -> diffsupport.Server:
    if kind == "apache":
        return diffsupport.start_server("apache", [diffsupport.APACHE, "-f", str(conf),
                                             "-DFOREGROUND"], root)
    impl = f"{kind}{workers}"
    argv = [sys.executable, "-m", "cgihttpd", "-f", str(conf), "-DFOREGROUND",
            "--workers", str(workers)]
    if kind == "shared":  # the workers share one socket instead of SO_REUSEPORT sets
        argv[1:3] = ["-c", "import sys; from cgihttpd import cli, server; "
                     "server.REUSE_PORT = False; sys.exit(cli.main(sys.argv[1:]))"]
    if src is None:
        return diffsupport.start_server(impl, argv, root)
    # another version of the package (e.g. `git archive COMMIT src | tar -x -C DIR`)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src
    try:
        return diffsupport.start_server(impl, argv, root)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


def _name(key: tuple[str, int]) -> str:
    return key[0] if key[0] == "apache" else f"{key[0]} -w{key[1]}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--path", default="/index.html")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--no-apache", action="store_true")
    p.add_argument("--before", metavar="SRC",
                   help="also run the package found in SRC (a src/ directory)")
    p.add_argument("--shared", action="store_true",
                   help="also run the workers on one shared socket (no SO_REUSEPORT)")
    ns = p.parse_args(argv)
    worker_counts = [int(w) for w in ns.workers.split(",")]
    kinds = ([] if ns.no_apache else [("apache", 0)]) + [
        ("cgihttpd", w) for w in worker_counts]
    if ns.before:
        kinds += [("before", w) for w in worker_counts]
    if ns.shared:
        kinds += [("shared", w) for w in worker_counts if w > 1]
    with tempfile.TemporaryDirectory(prefix="bench-static-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        conf = diffsupport.build_course_site(root)
        servers = {}
        try:
            for kind, workers in kinds:
                servers[(kind, workers)] = start(kind, conf, root, workers,
                                                 ns.before if kind == "before" else None)
            results: dict[tuple[str, int], list[tuple[float, float]]] = {k: [] for k in kinds}
            for server in servers.values():  # warm-up
                wrk(server.port, ns.path, ns.conns, 1)
            for key, server in servers.items():
                rss, pss = memory_kib(server.proc.pid)
                print(f"idle {_name(key):12} RSS {rss / 1024:5.1f} MB  PSS {pss / 1024:5.1f} MB "
                      f"({len(_tree(server.proc.pid))} processes)", flush=True)
            for r in range(ns.rounds):
                for key, server in servers.items():
                    c0 = cpu_seconds(server.proc.pid)
                    rps, total = wrk(server.port, ns.path, ns.conns, ns.seconds)
                    us = (cpu_seconds(server.proc.pid) - c0) / total * 1e6
                    results[key].append((rps, us))
                    print(f"round {r + 1} {_name(key):12} {rps:9.0f} req/s {us:7.1f} µs CPU/req",
                          flush=True)
            print(f"\nmedians, {ns.path} at {ns.conns} connections, {ns.rounds}×{ns.seconds}s:")
            base = statistics.median(x[0] for x in results[kinds[0]])
            for key in kinds:
                rps = statistics.median(x[0] for x in results[key])
                us = statistics.median(x[1] for x in results[key])
                print(f"| {_name(key)} | {rps:,.0f} | {us:.0f} µs | {rps / base:.2f} |")
        finally:
            for server in servers.values():
                diffsupport.stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
