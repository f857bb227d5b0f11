"""cgihttpd against Apache 2.4, side by side: ``make bench`` (or ``python bench/run.py``).

Starts Debian's apache2 (mpm_event + mod_cgid) and cgihttpd (plus its variants: warm
Python Off / On, ``--workers 1``) on free 127.0.0.1 ports from ONE config file and one
site (``workload``), checks every server answers every case correctly, then runs wrk
case by case, alternating the servers, for several rounds, and writes the medians, the
cgihttpd/Apache ratios, memory, the floors and issue 4's targets to
``bench/results/DATE-SHA.md`` (see bench/README.md).

Servers are started and stopped the way the differential tests do it
(tests/differential/diffsupport.py): by their PID, nothing else is signalled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "differential"))

import diffsupport  # noqa: E402  (the differential tests' server start/stop)
import probe  # noqa: E402
import report  # noqa: E402
import workload  # noqa: E402

SETTLE = 1.0  # seconds a server is left alone before its idle memory is read
PAUSE = 0.3  # between two wrk runs (CGI stragglers finish, sockets close)
SCRIPT_PYTHON = "/usr/bin/python3"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="rounds (medians of these); 3")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run; 5")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round of 2 s")
    p.add_argument("--cases", default=",".join(workload.CASE_NAMES),
                   help=f"comma-separated subset of {','.join(workload.CASE_NAMES)}")
    p.add_argument("--no-apache", action="store_true", help="cgihttpd only (no ratios)")
    p.add_argument("--no-variants", action="store_true",
                   help="only the default cgihttpd (no warm Off/On, no --workers 1)")
    p.add_argument("--no-floors", action="store_true", help="skip the start-up floors")
    p.add_argument("--profile", default="",
                   help="comma-separated cases to profile cgihttpd on with py-spy, in an "
                   "extra unmeasured run after the rounds")
    p.add_argument("--output", type=Path, help="report file (default bench/results/DATE-SHA.md)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, site)")
    ns = p.parse_args(argv)
    if ns.quick:
        ns.rounds, ns.duration = 1, 2.0
    ns.cases = [c.strip() for c in ns.cases.split(",") if c.strip()]
    unknown = set(ns.cases) - set(workload.CASE_NAMES)
    if unknown or not ns.cases:
        p.error(f"unknown cases {sorted(unknown)}; choose from {workload.CASE_NAMES}")
    ns.profile = [c.strip() for c in ns.profile.split(",") if c.strip()]
    if set(ns.profile) - set(ns.cases):
        p.error("--profile names cases that are not in --cases")
    if ns.rounds < 1 or ns.duration < 1:
        p.error("--rounds and --duration must be at least 1")
    return ns


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({e})"
    return (done.stdout or done.stderr).strip()


def _git(*args: str) -> str:
    return _run(["git", "-C", str(REPO), *args])


def machine_facts() -> list[tuple[str, str]]:
    model = "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return [("nproc", str(os.cpu_count())), ("CPU", model), ("memory", mem),
            ("kernel", platform.release())]


def version_facts() -> list[tuple[str, str]]:
    def pkg(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    dirty = _git("status", "--porcelain", "--", "src")
    sha = _git("rev-parse", "--short", "HEAD")
    if dirty:
        sha += f" + uncommitted changes in {len(dirty.splitlines())} file(s) under src/"
    return [
        ("Apache", _run([diffsupport.APACHE, "-v"]).splitlines()[0]),
        ("Python running cgihttpd", f"{platform.python_version()} ({sys.executable})"),
        ("Python running the scripts", _run([SCRIPT_PYTHON, "--version"])
         + f" ({SCRIPT_PYTHON})"),
        ("cgihttpd", f"git {sha}"),
        ("uvicorn / httptools / uvloop",
         f"{pkg('uvicorn')} / {pkg('httptools')} / {pkg('uvloop')}"),
        ("wrk", _run(["wrk", "--version"]).splitlines()[0] if shutil.which("wrk") else "—"),
    ]


def server_argv(v: workload.Variant, conf: Path) -> list[str]:
    if v.apache:
        return [diffsupport.APACHE, "-f", str(conf), "-DFOREGROUND"]
    return [sys.executable, "-m", "cgihttpd", "-f", str(conf), "-DFOREGROUND",
            *(f"-D{d}" for d in v.defines), *v.flags]


def check_answers(server: diffsupport.Server, case: workload.Case, times: int) -> None:
    """The server answers the case right (status 200, the expected body): a benchmark
    of error pages would measure nothing. Also warms the server up."""
    for _ in range(times):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            body = workload.POST_BODY if case.method == "POST" else None
            headers = {"Content-Type": "application/octet-stream"} if body else {}
            conn.request(case.method, case.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200 or data != case.expect:
            raise SystemExit(f"{server.impl} answers {case.method} {case.path} with "
                             f"{resp.status} {data[:300]!r}; expected 200 {case.expect[:300]!r}"
                             f"\n(see {server.root}/logs/{server.impl}-error.log)")


def profile_case(server: diffsupport.Server, v: workload.Variant, c: workload.Case,
                 duration: float, root: Path) -> probe.Profile | None:
    """Load the server with the case while py-spy samples its main process (with
    workers, the first worker: the parent only waits on them)."""
    out = root / "run" / f"profile-{c.name}-{v.impl}.txt"
    spy = probe.start_profiler(probe.first_worker(server.proc.pid), duration + 1, str(out))
    if spy is None:
        return None
    time.sleep(0.5)  # attached before the load starts
    probe.run_wrk(f"http://127.0.0.1:{server.port}{c.path}", c.conns, duration,
                  str(root / "post.lua") if c.method == "POST" else None)
    try:
        spy.wait(timeout=duration + 30)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait()
    text = out.read_text(errors="replace") if out.exists() else ""
    samples, own, total = probe.summarize_collapsed(text)
    print(f"profiled {c.name} on {v.impl}: {samples} samples", flush=True)
    return probe.Profile(c.name, v.label, samples, own, total)


def zygotes(root_pid: int) -> list[int]:
    """Processes under the server running the scripts' Python that outlive a request:
    the warm-Python zygotes (a cold CGI script has exited by the time we look)."""
    target = os.path.realpath(SCRIPT_PYTHON)
    found = []
    for pid in probe.tree(root_pid):
        try:
            exe = os.path.realpath(f"/proc/{pid}/exe")
        except OSError:
            continue
        if pid != root_pid and exe == target:
            found.append(pid)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    cases = [c for c in workload.CASES if c.name in ns.cases]
    variants = [v for v in workload.VARIANTS
                if not (v.apache and ns.no_apache)
                and not (ns.no_variants and not v.apache and v is not workload.CGIHTTPD)
                and (not v.cases or set(v.cases) & set(ns.cases))]
    need = ["wrk"] + ([] if ns.no_apache else [diffsupport.APACHE])
    for tool in need:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: run scripts/install-test-deps (make bench does)")

    root = Path(tempfile.mkdtemp(prefix="cgihttpd-bench-", dir="/tmp"))
    os.chmod(root, 0o755)
    conf = workload.build_site(root)
    if not ns.no_apache:
        check = subprocess.run([diffsupport.APACHE, "-t", "-f", str(conf)], capture_output=True,
                               text=True, timeout=30,
                               env=dict(os.environ, PORT="1", ROOT=str(root), IMPL="apache"))
        if check.returncode != 0:
            raise SystemExit(f"apache2 -t refused the config:\n{check.stderr}")

    started: dict[str, diffsupport.Server] = {}
    memory: dict[str, report.Memory] = {}
    summaries: dict[tuple[str, str], report.Summary] = {}
    warm_notes: list[str] = []
    warm_seen: dict[str, bool] = {}
    floors: list[probe.Floor] = []
    profiles: list[probe.Profile] = []
    try:
        for v in variants:
            print(f"starting {v.impl}: {' '.join(server_argv(v, conf))}", flush=True)
            started[v.impl] = diffsupport.start_server(v.impl, server_argv(v, conf), root)
        time.sleep(SETTLE)
        for v in variants:
            pids = probe.tree(started[v.impl].proc.pid)
            memory[v.impl] = report.Memory(v.impl, v.label, probe.rss_bytes(pids),
                                           probe.pss_bytes(pids))

        def runs_case(v: workload.Variant, c: workload.Case) -> bool:
            return not v.cases or c.name in v.cases

        for v in variants:
            for c in cases:
                if runs_case(v, c):
                    check_answers(started[v.impl], c, 1 if ns.quick else 5)
        time.sleep(0.5)
        for v in variants:
            if v.apache or v.flags:
                continue
            if not any(runs_case(v, c) and c.path.endswith(".py") for c in cases):
                continue
            z = zygotes(started[v.impl].proc.pid)
            warm_seen[v.impl] = bool(z)
            warm_notes.append(f"{v.label}: " + (
                f"{len(z)} process(es) of {SCRIPT_PYTHON} stay up under the server after "
                "Python requests (zygotes: warm Python active)" if z else
                f"no process of {SCRIPT_PYTHON} stays up under the server after Python "
                "requests (cold CGI: warm Python not active)"))

        for rnd in range(ns.rounds):
            for c in cases:
                order = [v for v in variants if runs_case(v, c)]
                if rnd % 2:
                    order.reverse()
                for v in order:
                    server = started[v.impl]
                    s = summaries.setdefault((c.name, v.impl), report.Summary(
                        c.name, c.label, v.impl, v.label))
                    before = probe.tree(server.proc.pid)
                    busy0 = probe.machine_busy_seconds() - probe.own_and_children_seconds()
                    sampler = probe.RssSampler(server.proc.pid).start()
                    result = probe.run_wrk(
                        f"http://127.0.0.1:{server.port}{c.path}", c.conns, ns.duration,
                        str(root / "post.lua") if c.method == "POST" else None)
                    peak = sampler.stop()
                    s.machine_s.append(probe.machine_busy_seconds()
                                       - probe.own_and_children_seconds() - busy0)
                    s.cpu_s.append(probe.cpu_seconds_between(before, probe.tree(server.proc.pid)))
                    s.rounds.append(result)
                    mem = memory[v.impl]
                    if peak > mem.peak_rss:
                        mem.peak_rss, mem.peak_case = peak, c.name
                    print(f"round {rnd + 1}/{ns.rounds} {c.name:9} {v.impl:17} "
                          f"{result.rps:10,.0f} req/s  p50 {result.p50_ms:8.2f} ms  "
                          f"p99 {result.p99_ms:8.2f} ms  errors {result.errors}", flush=True)
                    time.sleep(PAUSE)

        time.sleep(SETTLE * 2)
        for v in variants:
            pid = started[v.impl].proc.pid
            pids = probe.tree(pid)
            mem = memory[v.impl]
            mem.idle_end_rss, mem.idle_end_pss = probe.rss_bytes(pids), probe.pss_bytes(pids)
            mem.processes = probe.describe_tree(pid)
        for c in cases:
            if c.name not in ns.profile:
                continue
            for v in variants:
                if v.apache or v.flags or not runs_case(v, c):
                    continue
                prof = profile_case(started[v.impl], v, c, ns.duration, root)
                if prof is None:
                    print("py-spy not found: no profiles (pip install py-spy)", flush=True)
                    break
                profiles.append(prof)
    finally:
        for server in reversed(list(started.values())):
            diffsupport.stop_server(server)
        if ns.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    if not ns.no_floors:
        site = Path(tempfile.mkdtemp(prefix="cgihttpd-bench-floor-", dir="/tmp"))
        try:
            workload.build_site(site)
            floors = probe.measure_floors(sys.executable, str(site / "site"),
                                          runs=5 if ns.quick else 30)
        finally:
            shutil.rmtree(site, ignore_errors=True)

    now = dt.datetime.now(dt.timezone.utc)
    sha = _git("rev-parse", "--short", "HEAD") or "nogit"
    out = ns.output or HERE / "results" / f"{now:%Y-%m-%d}-{sha}.md"
    ordered = [summaries[(c.name, v.impl)] for c in cases for v in variants
               if (c.name, v.impl) in summaries]
    text = report.render(
        title=f"cgihttpd vs Apache 2.4 — {now:%Y-%m-%d %H:%M} UTC, {sha}",
        machine=machine_facts() + [
            ("load average (1, 5, 15 min)", f"{load_before} before the run, "
             f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])} after")],
        versions=version_facts(),
        method=[f"{ns.rounds} round(s) of {ns.duration:g} s per case and server; "
                "the servers alternate case by case (order reversed every other round); "
                "figures are medians over the rounds",
                "load: `wrk -t1 -cN --latency --timeout 10s` on 127.0.0.1, keep-alive; "
                "the POST body (64 KiB) comes from a wrk Lua script",
                "both servers run the same config file and site (bench/workload.py); "
                "scripts use Debian's /usr/bin/python3; every answer is checked once "
                "(status and body) before measuring",
                "CPU ms/req, machine less wrk: busy time of all cores (/proc/stat) during "
                "the run, less wrk's and the bench's own, divided by the requests wrk "
                "completed (includes anything else running on the machine: see the load)",
                "CPU ms/req, server tree: utime+stime+cutime+cstime growth of the server's "
                "process tree; exact for cgihttpd, but misses Apache's CGI scripts "
                "(mod_cgid's daemon is not charged for its children)",
                "RSS: sum over the server's process tree (shared pages counted in each "
                "process; PSS divides them), peak sampled every 0.1 s under load",
                "floors: posix_spawn + wait4, median of repeated runs, after the servers stop"],
        summaries=ordered, memory=[memory[v.impl] for v in variants],
        warm=warm_notes or ["(no Python case in this run)"], warm_seen=warm_seen,
        floors=floors, profiles=profiles)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print()
    print("\n".join(report.results_table(ordered)))
    print(f"\nreport: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
