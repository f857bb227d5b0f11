"""mod_status's reports from a ``Snapshot`` of the counters: ``?auto`` (the machine
format that Debian's prometheus-apache-exporter and other tools parse), the HTML page
(Apache's head, then cgihttpd's live charts) and the JSON the charts poll.

Field names and their order are apache2 2.4.71's under mpm_event (checked against its
output for the same config, ``tests/differential/test_status_diff.py``); the values are
cgihttpd's, mapped onto Apache's model of workers:

- a *worker* is a place for a request: each worker process (``Processes``, a slot of
  the scoreboard, ``scoreboard``) answers any number at once with its event loop, so the
  scoreboard has one place per script slot (CGIMaxProcesses, the server's real bound
  on concurrent work), more while more requests are in progress;
- ``BusyWorkers`` (a ``W`` on the scoreboard) are the requests being answered now, this
  one included; ``IdleWorkers`` (``_``) the rest of the places; ``ConnsTotal`` the open
  connections and ``ConnsAsyncKeepAlive`` those waiting for a next request (as each
  worker saw them at its last tick, 0.1 s ago at most); nothing is graceful, stopping,
  waiting for IO, writing or closing asynchronously (those stay 0);
- CPU is the worker processes' own time and their children's (the scripts they waited
  for);
- the counts (accesses, traffic, duration, busy, connections, CPU, script runs and
  failures) are the whole server's, summed over the workers; the recent latencies,
  the per-vhost counts, running scripts and recent failures are the answering
  worker's own (the page says so); warm interpreters are in the HTML page and the JSON.

Pure: values in, text out. Must not know where the values come from (``handler``).
"""

from __future__ import annotations

import html
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cgihttpd.status.charts import CHARTS

#: Apache's DEFAULT_TIME_FORMAT, in the server's local time (ap_ht_time, gmt=0)
TIME_FORMAT = "%A, %d-%b-%Y %H:%M:%S %Z"
AUTO_TYPE = "text/plain; charset=ISO-8859-1"
HTML_TYPE = "text/html; charset=ISO-8859-1"
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The counters and the process's figures at one moment (see ``handler``)."""

    host: str  # the name the request used (the first line of ?auto)
    version: str  # ServerVersion, as the Server header in full
    built: str
    now: float
    started: float
    generation: int
    load: tuple[float, float, float]
    extended: bool  # ExtendedStatus
    accesses: int
    bytes_out: int
    duration_us: int
    cpu: tuple[float, float, float, float]  # user, system, children's user, system
    busy: int
    slots: int  # CGIMaxProcesses
    #: running scripts: (file, virtual host, age in seconds)
    scripts: tuple[tuple[str, str, float], ...] = ()
    #: warm interpreters and the spawner: (what, pid)
    warm: tuple[tuple[str, int], ...] = ()
    by_vhost: tuple[tuple[str, int], ...] = ()
    #: request durations, most recent last (seconds)
    latencies: tuple[float, ...] = ()
    script_runs: int = 0
    script_failures: int = 0
    #: recent failures: (when, file, summary)
    failures: tuple[tuple[float, str, str], ...] = ()
    script_slots_busy: int = 0
    #: worker processes (Processes), and the open connections and those of them
    #: waiting for a next request, summed over them
    processes: int = 1
    conns: int = 0
    conns_keep_alive: int = 0
    #: each worker process: (slot, pid, connections, busy, keep-alive connections)
    workers: tuple[tuple[int, int, int, int, int], ...] = ()
    #: the answering worker's pid: the per-worker figures are its
    pid: int = 0

    @property
    def uptime(self) -> int:
        return max(int(self.now - self.started), 0)


def apr_g(value: float) -> str:
    """APR's ``%g``: C's, but a leading ``0`` before the point dropped (``.01``), as
    apache2 prints ReqPerSec and CPU times."""
    text = f"{value:g}"
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def show_time(seconds: int) -> str:
    """mod_status show_time: `` 1 day 2 hours 3 minutes 4 seconds``, zero parts left
    out, each after a space (so ``ServerUptime:`` runs straight into it)."""
    secs, mins = seconds % 60, seconds // 60
    mins, hrs = mins % 60, mins // 60
    hrs, days = hrs % 24, hrs // 24
    out = ""
    for n, unit in ((days, "day"), (hrs, "hour"), (mins, "minute"), (secs, "second")):
        if n:
            out += f" {n} {unit}{'' if n == 1 else 's'}"
    return out


def scoreboard(snap: Snapshot) -> str:
    """One character per worker slot: ``W`` a request being answered, ``_`` idle."""
    width = max(snap.slots, snap.busy)
    return "W" * snap.busy + "_" * (width - snap.busy)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile ``p`` (0-100) of ``sorted_values``; 0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(math.ceil(p / 100 * len(sorted_values)) - 1, 0)
    return sorted_values[min(rank, len(sorted_values) - 1)]


def _when(t: float) -> str:
    return time.strftime(TIME_FORMAT, time.localtime(t))


def format_auto(snap: Snapshot) -> str:
    """``/server-status?auto``: apache2 2.4.71's fields, in its order (module docstring)."""
    up = snap.uptime
    lines = [
        snap.host,
        f"ServerVersion: {snap.version}",
        "ServerMPM: event",
        f"Server Built: {snap.built}",
        f"CurrentTime: {_when(snap.now)}",
        f"RestartTime: {_when(snap.started)}",
        f"ParentServerConfigGeneration: {snap.generation + 1}",
        f"ParentServerMPMGeneration: {snap.generation}",
        f"ServerUptimeSeconds: {up}",
        f"ServerUptime:{show_time(up)}",
        f"Load1: {snap.load[0]:.2f}",
        f"Load5: {snap.load[1]:.2f}",
        f"Load15: {snap.load[2]:.2f}",
    ]
    if snap.extended:
        count, kbytes = snap.accesses, snap.bytes_out >> 10
        lines += [f"Total Accesses: {count}", f"Total kBytes: {kbytes}",
                  f"Total Duration: {snap.duration_us // 1000}"]
        names = ("CPUUser", "CPUSystem", "CPUChildrenUser", "CPUChildrenSystem")
        lines += [f"{name}: {apr_g(v)}" for name, v in zip(names, snap.cpu, strict=True)]
        cpu = sum(snap.cpu)
        if cpu and up:
            lines.append(f"CPULoad: {apr_g(cpu / up * 100)}")
        lines.append(f"Uptime: {up}")
        if up > 0:
            lines += [f"ReqPerSec: {apr_g(count / up)}",
                      f"BytesPerSec: {apr_g(snap.bytes_out / up)}"]
        if count > 0:
            lines += [f"BytesPerReq: {apr_g(snap.bytes_out / count)}",
                      f"DurationPerReq: {apr_g(snap.duration_us / 1000 / count)}"]
    lines += [
        f"BusyWorkers: {snap.busy}",
        "GracefulWorkers: 0",
        f"IdleWorkers: {max(snap.slots - snap.busy, 0)}",
        f"Processes: {snap.processes}",
        "Stopping: 0",
        f"ConnsTotal: {snap.conns}",
        "ConnsAsyncWaitIO: 0",
        "ConnsAsyncWriting: 0",
        f"ConnsAsyncKeepAlive: {snap.conns_keep_alive}",
        "ConnsAsyncClosing: 0",
        f"Scoreboard: {scoreboard(snap)}",
    ]
    return "\n".join(lines) + "\n"


def to_json(snap: Snapshot) -> dict[str, object]:
    """What the live charts poll (``?json``): totals, the latency percentiles in ms,
    running scripts with their age, warm interpreters, per-vhost counts, failures."""
    ordered = sorted(snap.latencies)
    return {
        "now": snap.now, "uptime": snap.uptime, "generation": snap.generation,
        "accesses": snap.accesses, "bytes": snap.bytes_out,
        "duration_ms": snap.duration_us // 1000,
        "busy": snap.busy, "slots": snap.slots, "extended": snap.extended,
        "processes": snap.processes, "conns": snap.conns,
        "conns_keep_alive": snap.conns_keep_alive,
        # what follows "latency_ms" up to "failures" is the answering worker's own
        "pid": snap.pid,
        "latency_ms": {f"p{p}": round(percentile(ordered, p) * 1000, 3)
                       for p in (50, 90, 99)},
        "latency_window": len(ordered),
        "scripts": [{"file": f, "vhost": v, "age": round(a, 3)} for f, v, a in snap.scripts],
        "script_runs": snap.script_runs, "script_failures": snap.script_failures,
        "warm": [{"what": w, "pid": pid} for w, pid in snap.warm],
        "vhosts": dict(snap.by_vhost),
        "failures": [{"at": at, "file": f, "summary": s} for at, f, s in snap.failures],
        "load": list(snap.load),
    }


def format_json(snap: Snapshot) -> str:
    return json.dumps(to_json(snap), separators=(",", ":"))


def format_html(snap: Snapshot) -> str:
    """The HTML page: mod_status's head (title, h1 and the ``<dt>`` lines tools scrape,
    the scoreboard in ``<pre>``), then the live charts, which poll ``?json``."""
    e = html.escape
    up = snap.uptime
    count, kb = snap.accesses, snap.bytes_out >> 10
    out = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
        '"http://www.w3.org/TR/html4/strict.dtd">',
        "<html><head>\n<title>Apache Status</title>",
        '<meta name="viewport" content="width=device-width">',
        "</head><body>",
        f"<h1>Apache Server Status for {e(snap.host)} (via {e(snap.host)})</h1>\n",
        f"<dl><dt>Server Version: {e(snap.version)}</dt>",
        "<dt>Server MPM: event</dt>",
        f"<dt>Server Built: {e(snap.built)}\n</dt></dl><hr /><dl>",
        f"<dt>Current Time: {_when(snap.now)}</dt>",
        f"<dt>Restart Time: {_when(snap.started)}</dt>",
        f"<dt>Parent Server Config. Generation: {snap.generation + 1}</dt>",
        f"<dt>Parent Server MPM Generation: {snap.generation}</dt>",
        f"<dt>Server uptime: {show_time(up)}</dt>",
        f"<dt>Server load: {snap.load[0]:.2f} {snap.load[1]:.2f} {snap.load[2]:.2f}</dt>",
    ]
    if snap.extended:
        u, s, cu, cs = (apr_g(x) for x in snap.cpu)
        out += [f"<dt>Total accesses: {count} - Total Traffic: {kb} kB - Total Duration: "
                f"{snap.duration_us // 1000}</dt>",
                f"<dt>CPU Usage: u{u} s{s} cu{cu} cs{cs}</dt>"]
        if up and count:
            out.append(f"<dt>{apr_g(count / up)} requests/sec - "
                       f"{apr_g(snap.bytes_out / up)} B/second - "
                       f"{apr_g(snap.bytes_out / count)} B/request - "
                       f"{apr_g(snap.duration_us / 1000 / count)} ms/request</dt>")
    out += [f"<dt>{snap.busy} requests currently being processed, 0 workers gracefully "
            f"restarting, {max(snap.slots - snap.busy, 0)} idle workers</dt>",
            "</dl>",
            *_process_table(snap),
            f"<pre>{_wrap(scoreboard(snap))}</pre>",
            '<p>Scoreboard Key:<br />\n"<b><code>_</code></b>" Waiting for Connection, \n'
            '"<b><code>W</code></b>" Sending Reply, \n'
            '"<b><code>.</code></b>" Open slot with no current process<br />\n</p>',
            CHARTS,
            "</body></html>"]
    return "\n".join(out) + "\n"


def _process_table(snap: Snapshot) -> list[str]:
    """mod_status's table of the worker processes (event MPM), a row per slot and their
    sum; the per-thread columns are cgihttpd's places (``scoreboard``)."""
    if not snap.workers:
        return []
    share = -(-snap.slots // max(snap.processes, 1))
    out = ['\n<table rules="all" cellpadding="1%">',
           '<tr><th rowspan="2">Slot</th><th rowspan="2">PID</th><th rowspan="2">'
           'Stopping</th><th colspan="2">Connections</th>',
           '<th colspan="3">Threads</th><th colspan="4">Async connections</th></tr>',
           "<tr><th>total</th><th>accepting</th><th>busy</th><th>graceful</th><th>idle"
           "</th><th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th></tr>"]
    sums = [0, 0, 0, 0]
    for slot, pid, conns, busy, keep_alive in snap.workers:
        idle = max(share - busy, 0)
        sums = [sums[0] + conns, sums[1] + busy, sums[2] + idle, sums[3] + keep_alive]
        out.append(f"<tr><td>{slot}</td><td>{pid}</td><td>no</td><td>{conns}</td>"
                   f"<td>yes</td><td>{busy}</td><td>0</td><td>{idle}</td><td>0</td>"
                   f"<td>0</td><td>{keep_alive}</td><td>0</td></tr>")
    out += [f"<tr><td>Sum</td><td>{len(snap.workers)}</td><td>0</td><td>{sums[0]}</td>"
            f"<td>&nbsp;</td><td>{sums[1]}</td><td>0</td><td>{sums[2]}</td><td>0</td>"
            f"<td>0</td><td>{sums[3]}</td><td>0</td></tr>",
            "</table>"]
    return out


def _wrap(board: str, width: int = 64) -> str:
    return "\n".join(board[i:i + width] for i in range(0, len(board), width))
