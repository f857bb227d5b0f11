"""mod_status's reports as pure functions (``status.report``) and its counters
(``status.counters``): apache2 2.4.71's ``?auto`` fields in its order, APR's number
format, show_time, the scoreboard, percentiles, and what a reload keeps."""

from __future__ import annotations

import json

import pytest

from cgihttpd.status.counters import LATENCY_WINDOW, StatusCounters
from cgihttpd.status.report import (
    Snapshot,
    apr_g,
    format_auto,
    format_html,
    format_json,
    percentile,
    scoreboard,
    show_time,
)

#: apache2 2.4.71 (Debian), mpm_event, ExtendedStatus On: the names of /server-status?auto
#: after the host line, in order (CPULoad appears only once some CPU time was used)
APACHE_EXTENDED = [
    "ServerVersion", "ServerMPM", "Server Built", "CurrentTime", "RestartTime",
    "ParentServerConfigGeneration", "ParentServerMPMGeneration", "ServerUptimeSeconds",
    "ServerUptime", "Load1", "Load5", "Load15", "Total Accesses", "Total kBytes",
    "Total Duration", "CPUUser", "CPUSystem", "CPUChildrenUser", "CPUChildrenSystem",
    "Uptime", "ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq", "BusyWorkers",
    "GracefulWorkers", "IdleWorkers", "Processes", "Stopping", "ConnsTotal",
    "ConnsAsyncWaitIO", "ConnsAsyncWriting", "ConnsAsyncKeepAlive", "ConnsAsyncClosing",
    "Scoreboard",
]
APACHE_PLAIN = [n for n in APACHE_EXTENDED if n not in (
    "Total Accesses", "Total kBytes", "Total Duration", "CPUUser", "CPUSystem",
    "CPUChildrenUser", "CPUChildrenSystem", "Uptime", "ReqPerSec", "BytesPerSec",
    "BytesPerReq", "DurationPerReq")]


def snap(**kw: object) -> Snapshot:
    base: dict[str, object] = dict(
        host="127.0.0.1", version="cgihttpd/0.1.0 (Python 3.11)", built="x", now=1000.0,
        started=990.0, generation=0, load=(0.5, 0.25, 0.125), extended=True,
        accesses=3, bytes_out=3000, duration_us=4500, cpu=(0.0, 0.0, 0.0, 0.0), busy=1,
        slots=4)
    base.update(kw)
    return Snapshot(**base)  # type: ignore[arg-type]


def names(text: str) -> list[str]:
    return [line.split(":", 1)[0] for line in text.splitlines()[1:]]


def test_auto_has_apaches_fields_in_apaches_order() -> None:
    text = format_auto(snap())
    assert text.splitlines()[0] == "127.0.0.1"
    assert names(text) == APACHE_EXTENDED
    assert names(format_auto(snap(extended=False))) == APACHE_PLAIN
    # CPULoad comes after the CPU times, once there are some
    with_cpu = names(format_auto(snap(cpu=(0.5, 0.25, 0.0, 0.0))))
    assert with_cpu == [*APACHE_EXTENDED[:19], "CPULoad", *APACHE_EXTENDED[19:]]


def test_auto_values() -> None:
    lines = dict(line.split(": ", 1) for line in format_auto(snap()).splitlines()[1:]
                 if ": " in line)
    assert lines["Total Accesses"] == "3"
    assert lines["Total kBytes"] == "2"
    assert lines["Total Duration"] == "4"
    assert lines["ServerUptimeSeconds"] == "10"
    assert lines["ReqPerSec"] == ".3"
    assert lines["BytesPerReq"] == "1000"
    assert lines["DurationPerReq"] == "1.5"
    assert lines["Load1"] == "0.50"
    assert (lines["BusyWorkers"], lines["IdleWorkers"], lines["Processes"]) == ("1", "3", "1")
    assert lines["Scoreboard"] == "W___"
    # no request yet, no second yet: the per-request and per-second lines are left out
    empty = format_auto(snap(accesses=0, now=990.0))
    assert "ReqPerSec" not in empty and "BytesPerReq" not in empty
    assert "ServerUptime:\n" in empty


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (0.01, ".01"), (3, "3"), (341.3333333, "341.333"), (1024.0, "1024"),
    (0.0123456789, ".0123457"),
])
def test_apr_g(value: float, text: str) -> None:
    assert apr_g(value) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, ""), (1, " 1 second"), (6, " 6 seconds"), (3600, " 1 hour"),
    (90061, " 1 day 1 hour 1 minute 1 second"), (2 * 86400 + 120, " 2 days 2 minutes"),
])
def test_show_time(seconds: int, text: str) -> None:
    assert show_time(seconds) == text


def test_scoreboard_grows_past_the_slots() -> None:
    assert scoreboard(snap(busy=0, slots=3)) == "___"
    assert scoreboard(snap(busy=5, slots=3)) == "WWWWW"


def test_percentile() -> None:
    values = [float(i) for i in range(1, 101)]
    assert [percentile(values, p) for p in (50, 90, 99)] == [50.0, 90.0, 99.0]
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 99) == 7.0


def test_json_and_html() -> None:
    s = snap(latencies=(0.001, 0.002, 0.010), by_vhost=(("a", 2), ("b", 1)),
             scripts=(("/x.py", "a", 1.5),), warm=(("warm Python", 42),),
             failures=((999.0, "/bad.py", "exit status 3"),), script_failures=1)
    data = json.loads(format_json(s))
    assert data["latency_ms"] == {"p50": 2.0, "p90": 10.0, "p99": 10.0}
    assert data["vhosts"] == {"a": 2, "b": 1}
    assert data["scripts"] == [{"file": "/x.py", "vhost": "a", "age": 1.5}]
    assert data["warm"] == [{"what": "warm Python", "pid": 42}]
    assert data["failures"][0]["summary"] == "exit status 3"
    page = format_html(s)
    assert "<title>Apache Status</title>" in page
    assert "<h1>Apache Server Status for 127.0.0.1 (via 127.0.0.1)</h1>" in page
    assert "<dt>Total accesses: 3 - Total Traffic: 2 kB - Total Duration: 4</dt>" in page
    assert "<dt>Server uptime:  10 seconds</dt>" in page
    assert "<pre>W___</pre>" in page
    # self-contained: no script or style from elsewhere
    live = page.split("<hr />")[-1]
    assert "?json" in live and "<script>" in live and "src=" not in live and "://" not in live


def test_counting_and_reloads() -> None:
    c = StatusCounters(started=5.0)
    c.request_began()
    assert c.busy == 1
    c.request_ended("a", 100, 0.25)
    assert (c.busy, c.accesses, c.bytes_out, c.duration_us, c.by_vhost) == (
        0, 1, 100, 250_000, {"a": 1})
    for _ in range(LATENCY_WINDOW + 5):
        c.request_began()
        c.request_ended("a", 0, 0.0)
    assert len(c.latencies) == LATENCY_WINDOW
    token = c.script_began("/x.py", "a", 7.0)
    assert [r.filename for r in c.scripts.values()] == ["/x.py"]
    c.script_ended(token)
    assert not c.scripts and c.script_runs == 1
    # graceful: the same counters, one generation on; restart: afresh
    kept = c.carried(graceful=True, now=50.0)
    assert kept is c and kept.generation == 1 and kept.started == 5.0
    fresh = c.carried(graceful=False, now=60.0)
    assert (fresh.accesses, fresh.started, fresh.generation) == (0, 60.0, 2)
