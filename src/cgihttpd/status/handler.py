"""The ``server-status`` handler: ``SetHandler server-status`` answered from the
runtime's counters, as mod_status's ``status_handler``.

The counts are the whole server's (every worker's scoreboard slot summed), the recent
latencies, per-vhost counts, running scripts and failures this worker's.
``?auto`` (anywhere among the query's words, as mod_status reads them) gives the
machine format, ``?json`` the live charts' data, anything else the HTML page
(``?refresh=N`` adds Apache's Refresh header to any of them). Owns the IO of a report: the clock, the
load average, the process's CPU times, the warm launcher's interpreters; the formats are
``report``'s. Must not know how the request got here (``app`` dispatches on the handler).
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from cgihttpd import __version__
from cgihttpd.banner import server_software
from cgihttpd.response import Response, send_response
from cgihttpd.status.report import (
    AUTO_TYPE,
    HTML_TYPE,
    JSON_TYPE,
    Snapshot,
    format_auto,
    format_html,
    format_json,
)
from cgihttpd.status.scoreboard import sum_rows

if TYPE_CHECKING:
    from cgihttpd.exchange import Exchange

#: mod_status status_handler: "refresh" may be followed by "=N"
_REFRESH = re.compile(r"refresh(?:=(\d+))?")
#: the scoreboard's slots when CGIMaxProcesses is not set (cgi.queue's default)
DEFAULT_SLOTS = 64


def snapshot(ex: Exchange, host: str, now: float | None = None) -> Snapshot:
    """The runtime's counters and the process's figures now: the counts summed over
    every worker's slot (this one's CPU made current first), the rest this worker's."""
    runtime = ex.runtime
    counters = runtime.status
    now = time.time() if now is None else now
    getloadavg = getattr(os, "getloadavg", None)  # Windows has none
    try:
        load = getloadavg() if getloadavg is not None else (0.0, 0.0, 0.0)
    except OSError:
        load = (0.0, 0.0, 0.0)
    t = os.times()
    counters.cpu((t.user, t.system, t.children_user, t.children_system))
    every = counters.board.rows()
    total = sum_rows(every)  # a worker gone leaves its counts: totals never go back
    rows = [r for r in every if r.pid]  # the processes there are
    us = 1_000_000
    interpreters = getattr(runtime.launcher, "interpreters", None)
    warm = tuple(interpreters()) if callable(interpreters) else ()
    return Snapshot(
        host=host, version=server_software("Full"), built=f"cgihttpd {__version__}",
        now=now, started=counters.started, generation=counters.generation,
        load=(load[0], load[1], load[2]), extended=runtime.config.extended_status,
        accesses=total.accesses, bytes_out=total.bytes_out,
        duration_us=total.duration_us,
        cpu=(total.cpu_user_us / us, total.cpu_system_us / us,
             total.cpu_children_user_us / us, total.cpu_children_system_us / us),
        busy=total.busy, slots=runtime.config.max_concurrent_cgi or DEFAULT_SLOTS,
        scripts=tuple((r.filename, r.vhost, max(now - r.started, 0.0))
                      for r in list(counters.scripts.values())),
        warm=warm, by_vhost=tuple(sorted(counters.by_vhost.items())),
        latencies=tuple(counters.latencies), script_runs=total.script_runs,
        script_failures=total.script_failures,
        failures=tuple((f.at, f.filename, f.summary) for f in counters.failures),
        processes=max(len(rows), 1), conns=total.conns,
        conns_keep_alive=total.conns_keep_alive,
        workers=tuple((r.index, r.pid, r.counts.conns, r.counts.busy,
                       r.counts.conns_keep_alive) for r in rows),
        pid=os.getpid())


async def serve_status(ex: Exchange, host: str) -> None:
    """Answer ``ex`` with the report its query asks for."""
    words = re.split(r"[&;]", ex.request.query) if ex.request.query else []
    snap = snapshot(ex, host)
    refresh: int | None = None
    for word in words:
        m = _REFRESH.fullmatch(word)
        if m:
            # apache2 2.4.71 answers a bare "refresh" with "Refresh: 10"
            refresh = int(m.group(1) or 10)
    if "auto" in words:
        body, ctype = format_auto(snap), AUTO_TYPE
    elif "json" in words:
        body, ctype = format_json(snap), JSON_TYPE
    else:
        body, ctype = format_html(snap), HTML_TYPE
    data = body.encode("latin-1" if ctype != JSON_TYPE else "utf-8", "replace")
    headers: tuple[tuple[str, str], ...] = (("Content-Length", str(len(data))),
                                            ("Content-Type", ctype))
    if refresh is not None:  # mod_status: a Refresh header, whatever the format
        headers += (("Refresh", str(refresh)),)
    if ctype == JSON_TYPE:
        headers += (("Cache-Control", "no-store"),)
    await send_response(ex.send, Response(200, headers, data),
                        head=ex.request.method == "HEAD")
