"""Access- and error-log lines: the same request to Apache and to cgihttpd (same config,
tests/differential/diffsupport.py) must leave the same line, byte for byte, once the
fields that cannot agree are normalised:

- ``%t`` (the time; its layout is checked, not its value);
- ``%O`` in ``combined`` (all bytes sent, headers included: the ``Server`` header and
  header order differ between the two servers; it is checked to be a number no smaller
  than the body);
- in the error log: the time, pid, tid and the client's port.

Everything else (``%h %l %u``, the escaped request line, ``%>s``, ``%b``, the quoted
Referer and User-Agent with their escapes) must be identical.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from diffsupport import DIFF_TZ, Pair, Server, wait_for_lines

pytestmark = pytest.mark.differential

# the time's digits are normalised, its offset is compared (both run under TZ=DIFF_TZ)
CLF_TIME = r"\[\d\d/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d\d:\d\d:\d\d ([+-]\d{4})\]"
COMMON_RE = re.compile(rf'^(\S+ \S+ \S+) {CLF_TIME} (".*") (\d{{3}}) (\S+)$')
COMBINED_RE = re.compile(rf'^(\S+ \S+ \S+) {CLF_TIME} (".*") (\d{{3}}) (\d+) (".*" ".*")$')
ERROR_RE = re.compile(
    r"^\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\] \[([\w-]+:\w+)\] "
    r"\[pid \d+(?::tid \d+)?\] (\[client 127\.0\.0\.1:)\d+(\] .*)$"
)


def norm_common(line: str) -> tuple[str, ...]:
    m = COMMON_RE.match(line)
    assert m, f"not a common-format line: {line!r}"
    return m.groups()


def norm_combined(line: str) -> tuple[str, ...]:
    m = COMBINED_RE.match(line)
    assert m, f"not a combined-format line: {line!r}"
    head, offset, req, status, out, tail = m.groups()
    return head, offset, req, status, "%O", tail


def exchange(server: Server, raw: bytes, logs: tuple[str, ...],
             marker: str = "") -> dict[str, str]:
    """Send ``raw`` on a fresh connection, read to close, and return the first new line
    holding ``marker`` in each of ``logs`` (waiting, with a deadline, for the server to
    write it; the error log also gets lines of its own, e.g. at start-up)."""
    before = {name: len(wait_for_lines(server.log(name), 0, 0)) for name in logs}
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw.replace(b"PORT", str(server.port).encode()))
        while sock.recv(65536):
            pass
    new = {}
    for name in logs:
        end = time.monotonic() + 10
        while True:
            lines = wait_for_lines(server.log(name), before[name] + 1)
            hits = [x for x in lines[before[name]:] if marker in x]
            if hits or time.monotonic() > end:
                break
            time.sleep(0.05)
        assert hits, f"{server.impl}: no new line with {marker!r} in {name}.log"
        new[name] = hits[0]
    return new


REQUESTS = {
    "get": b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nConnection: close\r\n\r\n",
    "root-index": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nUser-Agent: ua/1\r\n\r\n",
    "404": b"GET /nope.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           b"Referer: http://example.test/from\r\n\r\n",
    "403": b"GET /sub/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "301": b"GET /withindex?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "head": b"HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "206": b"GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\nConnection: close\r\n\r\n",
    "304": b'GET /page.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: "10-60a2418221090"\r\n'
           b"Connection: close\r\n\r\n",
    "http10": b"GET /page.txt HTTP/1.0\r\n\r\n",
    "query": b"GET /index.html?a=1&b=%22two%22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "escapes": b'GET /sp%20ace.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'
               b'User-Agent: quote " backslash \\ high \xc3\xa9 tab\tend\r\n'
               b'Referer: http://x/"y"\r\n\r\n',
    "empty-ua": b"GET /index.html HTTP/1.1\r\nHost: x\r\nUser-Agent:\r\nConnection: close\r\n\r\n",
    # refused before any handler runs: Apache still logs them (414 with the request
    # line cut at LimitRequestLine)
    "414": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "400-garbage": b"GARBAGE\r\n\r\n",
    "400-ctl-header": b"GET /x HTTP/1.1\r\nHost: x\r\nBad\x01: y\r\n\r\n",
    "400-long-header": b"GET /x HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 9000 + b"\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_common_and_combined_lines_match(pair: Pair, case: str) -> None:
    raw = REQUESTS[case]
    lines = {s.impl: exchange(s, raw, ("access", "combined")) for s in pair.both()}
    apache, ours = lines[pair.apache.impl], lines[pair.ours.impl]
    assert norm_common(ours["access"]) == norm_common(apache["access"]), (ours, apache)
    assert norm_common(apache["access"])[1] == datetime.now(ZoneInfo(DIFF_TZ)).strftime("%z")
    assert norm_combined(ours["combined"]) == norm_combined(apache["combined"]), (ours, apache)
    # %O counts headers too, so it is at least the body (%b, "-" for none)
    m = COMBINED_RE.match(ours["combined"])
    assert m
    body = norm_common(ours["access"])[4]
    assert int(m.group(5)) >= (0 if body == "-" else int(body))


RICH_CASES = {
    "static": b"GET /sub/inner.txt?a=%22b%22 HTTP/1.1\r\nHost: Default.Test:PORT\r\n"
              b"Cookie: x=1; sid=abc\r\nX-Test: t\"1\r\nConnection: close\r\n\r\n",
    "404": b"GET /nope%20x HTTP/1.1\r\nHost: x\r\nX-Test: t2\r\nConnection: close\r\n\r\n",
    "dir": b"GET /withindex/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(RICH_CASES))
def test_rich_format_line_matches(pair: Pair, case: str) -> None:
    lines = {s.impl: exchange(s, RICH_CASES[case], ("rich",))["rich"] for s in pair.both()}
    assert lines[pair.ours.impl] == lines[pair.apache.impl]


@pytest.mark.parametrize(("target", "log"), [("/sub/inner.txt", "sub"),
                                             ("/index.html", "notsub")])
def test_env_conditions_pick_the_log(pair: Pair, target: str, log: str) -> None:
    other = "notsub" if log == "sub" else "sub"
    raw = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    for server in pair.both():
        before_other = len(wait_for_lines(server.log(other), 0, 0))
        line = exchange(server, raw, (log,), target)[log]
        assert f'"GET {target} HTTP/1.1" 200' in line, server.impl
        # the request that went to one log is not in the other
        assert not any(target in x for x in
                       wait_for_lines(server.log(other), 0, 0)[before_other:]), server.impl


def test_vhost_with_own_custom_log_does_not_inherit_main_logs(pair: Pair) -> None:
    raw = b"GET /only-a.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    for server in pair.both():
        before = len(wait_for_lines(server.log("access"), 0, 0))
        line = exchange(server, raw, ("a-access",))["a-access"]
        assert '"GET /only-a.txt HTTP/1.1" 200 10' in line, (server.impl, line)
        # mod_log_config: a vhost with a CustomLog of its own does not also log to the
        # main server's (no GlobalLog here)
        after = wait_for_lines(server.log("access"), 0, 0)
        assert not any("only-a.txt" in x for x in after[before:]), server.impl


@pytest.mark.parametrize(
    ("case", "module"),
    [("404", "core:info"), ("403", "autoindex:error")],
)
def test_error_log_line_matches(pair: Pair, case: str, module: str) -> None:
    found = {}
    for server in pair.both():
        line = exchange(server, REQUESTS[case], ("error",), "[client ")["error"]
        m = ERROR_RE.match(line)
        assert m, f"{server.impl}: not Apache's error-log layout: {line!r}"
        found[server.impl] = (m.group(1), m.group(2), m.group(3))
    assert found[pair.ours.impl] == found[pair.apache.impl]
    assert found[pair.apache.impl][0] == module, found


@pytest.mark.parametrize(("log", "fmt"), [("access", "COMMON"), ("combined", "COMBINED")])
def test_goaccess_parses_our_logs(pair: Pair, tmp_path: Path, log: str, fmt: str) -> None:
    assert shutil.which("goaccess"), "goaccess is not installed (scripts/install-test-deps)"
    # the well-formed requests only: goaccess counts "GARBAGE" as a failed line whoever
    # wrote it (it does so for Apache's own log too)
    cases = [raw for name, raw in sorted(REQUESTS.items()) if not name[:3].isdigit()
             or name in ("404", "403", "301", "206", "304")]
    before = len(wait_for_lines(pair.ours.log(log), 0, 0))
    for raw in cases:
        exchange(pair.ours, raw, (log,))
    ours = wait_for_lines(pair.ours.log(log), before + len(cases))[before:]
    assert len(ours) == len(cases)
    path = tmp_path / f"{log}.log"
    path.write_text("".join(line + "\n" for line in ours), encoding="latin-1")
    report = tmp_path / "report.json"
    proc = subprocess.run(["goaccess", str(path), f"--log-format={fmt}", "-o", str(report)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    general = json.loads(report.read_text())["general"]
    assert general["failed_requests"] == 0
    assert general["total_requests"] == len(cases)
