"""The benchmark's pure parts (bench/probe.parse_wrk, bench/report): wrk's output read
right, targets judged from the figures. No timing is measured or asserted here."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from probe import WrkResult, parse_wrk, summarize_collapsed  # noqa: E402
from report import MB, Memory, Summary, check_targets, render  # noqa: E402

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:18765/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.65ms    1.30ms   9.08ms   89.14%
    Req/Sec     1.23k   231.45     1.60k    60.00%
  Latency Distribution
     50%  850.00us
     75%    1.78ms
     90%    3.09ms
     99%    1.29s
  1226 requests in 1.00s, 2.60MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1223.30
Transfer/sec:      2.60MB
"""


def test_parse_wrk_reads_rate_percentiles_units_and_errors() -> None:
    r = parse_wrk(WRK_OUTPUT)
    assert r.rps == 1223.30
    assert r.requests == 1226
    assert r.p50_ms == pytest.approx(0.85)
    assert r.p99_ms == pytest.approx(1290.0)
    assert r.errors == 12


def test_parse_wrk_without_errors_and_refuses_other_text() -> None:
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines()
                      if "errors" not in line and "Non-2xx" not in line)
    assert parse_wrk(clean).errors == 0
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def _summary(case: str, impl: str, rps: float, p50: float = 1.0, p99: float = 2.0) -> Summary:
    s = Summary(case, case, impl, impl)
    s.rounds = [WrkResult(rps, p50, p99, int(rps * 5), 0)]
    s.cpu_s = [1.0]
    s.machine_s = [2.0]
    return s


def test_targets_met_and_not_met_from_the_figures() -> None:
    summaries = [
        _summary("hello16", "apache", 100, p50=150, p99=300),
        _summary("hello16", "cgihttpd-warmon", 1200, p50=10, p99=100),
        _summary("hello16", "cgihttpd-warmoff", 90),
        _summary("sh16", "apache", 900), _summary("sh16", "cgihttpd", 950),
        _summary("static64", "apache", 12000), _summary("static64", "cgihttpd", 5000),
        _summary("static64", "cgihttpd-w2", 7000),
    ]
    memory = [Memory("cgihttpd", "cgihttpd", idle_start_rss=30 * MB, idle_end_rss=61 * MB)]
    got = {t.text.split(":")[0]: t.met for t in check_targets(
        summaries, memory, {"cgihttpd-warmon": True})}
    assert got == {
        "hello.py @16, warm Python": True,
        "hello.py @16, CGIWarmPython Off": False,
        "/bin/sh hello @16": True,
        "POST 64 KiB @8": None,  # not in this run
        "static index.html @64": True,  # the 2-worker figure counts
        "issue 12, hello.py @16, default server": None,  # no default hello16 here
        "issue 12, hello.py @1, default server": None,
        "issue 12, static index.html @64, default workers": False,
        "issue 12, 1 MiB file @16 (sendfile)": None,
        "idle memory of the whole server incl. zygotes < 60 MB RSS": False,
    }


def test_issue12_targets() -> None:
    summaries = [
        _summary("hello16", "apache", 100), _summary("hello16", "cgihttpd", 650),
        _summary("hello1", "cgihttpd", 400, p50=2.6),
        _summary("static64", "apache", 10000), _summary("static64", "cgihttpd", 10000),
        _summary("big16", "apache", 1000), _summary("big16", "cgihttpd", 790),
    ]
    got = {t.text: t.met for t in check_targets(summaries, [], {})
           if t.text.startswith("issue 12")}
    assert list(got.values()) == [True, False, True, False]


def test_warm_target_needs_p99_below_apache_p50() -> None:
    summaries = [_summary("hello16", "apache", 100, p50=150),
                 _summary("hello16", "cgihttpd-warmon", 2000, p99=151)]
    (warm,) = [t for t in check_targets(summaries, [], {}) if "warm Python" in t.text]
    assert warm.met is False
    assert "not active" in warm.detail  # no zygote was seen


def test_render_has_the_table_with_ratio_to_apache() -> None:
    summaries = [_summary("static16", "apache", 10000), _summary("static16", "cgihttpd", 5000)]
    text = render(title="t", machine=[("nproc", "2")], versions=[], method=[],
                  summaries=summaries, memory=[], warm=[], warm_seen={}, floors=[])
    results = text.split("## Results (medians)")[1].split("##")[0]
    rows = [line for line in results.splitlines() if line.startswith("| static16 | cgihttpd |")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].split("|")]
    assert cells[3] == "5,000" and cells[6] == "0.50"
    assert not math.isnan(summaries[1].cpu_ms_per_req)


def test_collapsed_stacks_own_and_total_without_the_trunk() -> None:
    text = ("main (cli.py);run (server.py);write (protocol.py) 6\n"
            "main (cli.py);run (server.py);spawn (runner.py);fork (os.py) 3\n"
            "main (cli.py);gc (gc.py) 1\n"
            "not a stack line\n")
    samples, own, total = summarize_collapsed(text)
    assert samples == 10
    assert own[0] == ("write (protocol.py)", 60.0)
    assert ("fork (os.py)", 30.0) in own
    names = [name for name, _share in total]
    assert "main (cli.py)" not in names  # on every stack: the trunk
    assert names[0] == "run (server.py)" and total[0][1] == 90.0
    assert summarize_collapsed("") == (0, [], [])
