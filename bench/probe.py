"""Measuring: wrk runs and their output, a server's process tree (RSS, CPU), the floors.

Owns everything the benchmark reads from the OS while it runs: ``wrk``'s report
(parsed by the pure ``parse_wrk``), ``/proc`` for the process tree of a server (the
server, its workers, zygotes and scripts: every descendant), and the start-up costs
the figures are read against. Must not know which servers or cases exist (``workload``)
nor how results are presented (``report``).

Linux only: process trees are read from ``/proc/PID/stat`` and ``/proc/PID/statm``.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY_PCT = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.M)
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKERR = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True, slots=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers + socket errors (connect, read, write, timeout)


def parse_wrk(text: str) -> WrkResult:
    """``wrk --latency`` output → figures. Raises ValueError when it is not such output."""
    rps = _RPS.search(text)
    total = _TOTAL.search(text)
    if rps is None or total is None:
        raise ValueError(f"not wrk output:\n{text}")
    pct = {m.group(1): float(m.group(2)) * _UNITS_MS[m.group(3)]
           for m in _LATENCY_PCT.finditer(text)}
    errors = 0
    if m := _NON2XX.search(text):
        errors += int(m.group(1))
    if m := _SOCKERR.search(text):
        errors += sum(int(g) for g in m.groups())
    return WrkResult(float(rps.group(1)), pct.get("50", float("nan")),
                     pct.get("99", float("nan")), int(total.group(1)), errors)


def run_wrk(url: str, conns: int, duration: float, script: str | None = None) -> WrkResult:
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(duration))}s", "--latency",
            "--timeout", "10s"]
    if script:
        argv += ["-s", script]
    argv.append(url)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse_wrk(done.stdout)


# --- process trees ----------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, starttime, CPU ticks incl. reaped children) of a live process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold blanks: split after the last ')'.
    fields = data[data.rindex(b")") + 2:].split()
    ppid = int(fields[1])
    cpu = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ppid, int(fields[19]), cpu


def first_worker(pid: int) -> int:
    """The first worker process of a cgihttpd started with workers (its oldest child
    running the same program), else ``pid`` itself."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            mine = f.read()
    except OSError:
        return pid
    for child in sorted(children):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if f.read() == mine:
                    return child
        except OSError:
            continue
    return pid


def tree(root: int) -> dict[int, tuple[int, int]]:
    """Every live process under ``root`` (itself included): pid → (starttime, ticks)."""
    parent: dict[int, int] = {}
    info: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat(int(name))
        if st is not None:
            parent[int(name)] = st[0]
            info[int(name)] = (st[1], st[2])
    members = {root} if root in info else set()
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in members and pid not in members:
                members.add(pid)
                changed = True
    return {pid: info[pid] for pid in members}


def rss_bytes(pids: Iterable[int]) -> int:
    """Sum of resident set sizes (shared pages counted in each process, as `ps` does)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


def pss_bytes(pids: Iterable[int]) -> int:
    """Sum of proportional set sizes: shared pages divided among their sharers."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            pass
    return total


def describe_tree(root: int) -> list[str]:
    """One line per process of the tree: pid and command line (for the report)."""
    lines = []
    for pid in sorted(tree(root)):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        lines.append(f"{pid} {cmd[:120]}")
    return lines


def cpu_ticks(snapshot: dict[int, tuple[int, int]]) -> int:
    return sum(ticks for _start, ticks in snapshot.values())


def cpu_seconds_between(before: dict[int, tuple[int, int]],
                        after: dict[int, tuple[int, int]]) -> float:
    """CPU the tree used between two snapshots: a process seen in both counts its
    growth, a new one all it has (its reaped children are in its parent's cutime)."""
    ticks = 0
    for pid, (start, t) in after.items():
        old = before.get(pid)
        ticks += t - old[1] if old is not None and old[0] == start else t
    return ticks / TICK


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``: all but idle
    and iowait)."""
    with open("/proc/stat", "rb") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def own_and_children_seconds() -> float:
    """CPU of this process and of its reaped children (wrk, once it has been waited)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class RssSampler:
    """Samples the tree's summed RSS every ``interval`` s in a thread; ``peak`` is the
    largest sum seen between ``start()`` and ``stop()``."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root = root
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(tree(self.root)))
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.peak


# --- profiles -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Profile:
    """Where one server process spent its samples: the top functions by own time (the
    leaf of the stack) and by total time (anywhere on the stack), as % of samples."""

    case: str
    server: str
    samples: int
    own: list[tuple[str, float]]
    total: list[tuple[str, float]]


#: A frame on more than this share of the stacks is the trunk, left out of "total".
TRUNK = 0.9


def summarize_collapsed(text: str, top: int = 12) -> tuple[int, list[tuple[str, float]],
                                                             list[tuple[str, float]]]:
    """py-spy's ``--format raw`` (collapsed stacks: ``a;b;c COUNT`` per line) → samples,
    the ``top`` functions by own share and by total share."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count

    def best(d: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(d.items(), key=lambda kv: -kv[1])[:top]
        return [(name, 100.0 * n / samples) for name, n in ranked]

    # The trunk (main, the event loop's run...) is on nearly every stack and says
    # nothing: total time lists the frames below it.
    branches = {f: n for f, n in total.items() if n <= TRUNK * samples}
    return (samples, best(own), best(branches)) if samples else (0, [], [])


def start_profiler(pid: int, seconds: float, out: str) -> subprocess.Popen[bytes] | None:
    """py-spy sampling ``pid`` for ``seconds`` into ``out`` (collapsed stacks), or None
    when py-spy is not installed. Sampling pauses the process: never during a
    measured run."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=os.path.dirname(sys.executable))
    if spy is None:
        return None
    return subprocess.Popen([spy, "record", "-p", str(pid), "-d", str(max(1, round(seconds))),
                             "-f", "raw", "--nolineno", "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- floors -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Floor:
    label: str
    wall_ms: float  # median wall time of one run
    cpu_ms: float  # median CPU (user + system) of the child


def time_command(argv: list[str], runs: int, cwd: str | None = None) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``argv`` started with posix_spawn and
    reaped with wait4 (the child's rusage), output to /dev/null, after one warm-up."""
    walls: list[float] = []
    cpus: list[float] = []
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                   (os.POSIX_SPAWN_DUP2, devnull, 2)]
        old = os.getcwd()
        if cwd:
            os.chdir(cwd)
        try:
            for i in range(runs + 1):
                t0 = time.perf_counter()
                pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions)
                _pid, status, usage = os.wait4(pid, 0)
                wall = (time.perf_counter() - t0) * 1000
                if os.waitstatus_to_exitcode(status) != 0:
                    raise RuntimeError(f"{argv} exited with status {status}")
                if i:
                    walls.append(wall)
                    cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
        finally:
            os.chdir(old)
    finally:
        os.close(devnull)
    return statistics.median(walls), statistics.median(cpus)


def measure_floors(python_here: str, site: str, runs: int) -> list[Floor]:
    """What a request cannot cost less than: starting the interpreters, the course's
    script cold, and fork+exec of a tiny program."""
    cases = [
        ("`/usr/bin/python3 -c pass` (Debian's, the scripts')", ["/usr/bin/python3", "-c", "pass"]),
        (f"`{python_here} -c pass` (the one running cgihttpd)", [python_here, "-c", "pass"]),
        ("`/usr/bin/python3 hello.py` (the course's script, cold)",
         ["/usr/bin/python3", os.path.join(site, "hello.py")]),
        ("`/bin/sh hello.sh`", ["/bin/sh", os.path.join(site, "hello.sh")]),
        ("fork+exec+wait `/bin/true` (posix_spawn)", ["/bin/true"]),
    ]
    floors = []
    for label, argv in cases:
        n = runs * 5 if argv[0] in ("/bin/true", "/bin/sh") else runs
        wall, cpu = time_command(argv, n, cwd=site)
        floors.append(Floor(label, wall, cpu))
    return floors
