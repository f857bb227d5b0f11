"""ScriptLog entries laid out as mod_cgid's log_script / cgi_common.h log_scripterror
write them (checked against apache2 2.4.71 in tests/e2e/test_cgi_vs_apache.py)."""

from __future__ import annotations

import time
from pathlib import Path

from config_helpers import load

from cgihttpd.cgi.parser import ScriptError, ScriptOutputParser
from cgihttpd.cgi.scriptlog import (
    NO_SCRIPT_LOG,
    ScriptLogger,
    ScriptRun,
    append_entry,
    apr_ctime,
    format_error_entry,
    format_script_entry,
    script_logger,
)
from cgihttpd.request import Request
from cgihttpd.target import Target

WHEN = time.mktime((2026, 11, 6, 7, 8, 9, 0, 0, -1))
RUN = ScriptRun(when=WHEN, method="POST", uri="/bad.py", query="q=1", protocol="HTTP/1.1",
                status=500, filename="/srv/bad.py")


def test_apr_ctime_pads_the_day_with_zero() -> None:
    assert apr_ctime(WHEN) == "Fri Nov 06 07:08:09 2026"


def test_script_entry_layout() -> None:
    entry = format_script_entry(
        RUN, headers_in=[("Host", "x"), ("X-A", "1"), ("x-a", "2")], body=b"a=1\0hidden",
        failed_line="This is not a header", stdout=b"\nrest\n")
    assert entry == (b"%% [Fri Nov 06 07:08:09 2026] POST /bad.py?q=1 HTTP/1.1\n"
                     b"%% 500 /srv/bad.py\n%request\nHost: x\nX-A: 1, 2\n\na=1\n"
                     b"%response\nThis is not a header\n%stdout\n\nrest\n\n")


def test_script_entry_without_body_stdout_or_stderr_and_no_query() -> None:
    run = ScriptRun(WHEN, "GET", "/e.py", None, "HTTP/1.0", 504, "/srv/e.py")
    entry = format_script_entry(run, headers_in=[], body=b"ignored for GET", failed_line="",
                                stdout=b"")
    assert entry == (b"%% [Fri Nov 06 07:08:09 2026] GET /e.py HTTP/1.0\n%% 504 /srv/e.py\n"
                     b"%request\n%response\n")


def test_error_entry_and_the_length_bound(tmp_path: Path) -> None:
    log = tmp_path / "script.log"
    entry = format_error_entry(RUN, "no #! line")
    assert entry.endswith(b"%% 500 /srv/bad.py\n%error\nno #! line\n")
    append_entry(str(log), 10, entry)
    append_entry(str(log), 10, entry)  # larger than ScriptLogLength now: nothing more
    assert log.read_bytes() == entry
    append_entry(str(tmp_path / "no" / "dir.log"), 10, entry)  # skipped quietly


def test_parser_keeps_the_unread_output_after_a_bad_header() -> None:
    p = ScriptOutputParser("bad.py")
    p.receive_data(b"X-A: 1\nThis is not a header\n\nrest\n")
    event = p.next_event()
    assert isinstance(event, ScriptError) and event.line == "This is not a header"
    assert p.rest == b"\nrest\n"


def test_script_log_directives(tmp_path: Path) -> None:
    c = load(tmp_path, "ScriptLog logs/s.log\nScriptLogLength 2000\n<VirtualHost *:80>\n"
             "ScriptLogBuffer 16\n</VirtualHost>\n")
    assert (c.main.script_log_length, c.main.script_log_buffer) == (2000, 1024)
    assert (c.vhosts[0].script_log_length, c.vhosts[0].script_log_buffer) == (2000, 16)
    assert c.vhosts[0].script_log == c.main.script_log and c.main.script_log.endswith("/logs/s.log")


def _request(method: str = "POST") -> Request:
    return Request(method=method, raw_target="/bad.py?q=1", raw_path="/bad.py", query="q=1",
                   http_version="1.1", headers=(("Host", "x"),), client_addr="127.0.0.1",
                   client_port=1, server_addr="127.0.0.1", server_port=80, scheme="http",
                   request_line=f"{method} /bad.py?q=1 HTTP/1.1")


def _logger(tmp_path: Path, text: str, *, stderr_entries: bool = True,
            method: str = "POST") -> ScriptLogger:
    vhost = load(tmp_path, text).main
    target = Target(kind="file", filename="/srv/bad.py", url_path="/bad.py")
    return script_logger(vhost, _request(method), target, stderr_entries=stderr_entries)


def test_a_run_without_script_log_writes_nothing_and_keeps_nothing(tmp_path: Path) -> None:
    logger = _logger(tmp_path, "")
    assert logger is NO_SCRIPT_LOG
    assert (logger.stdout_kept, logger.logs_stderr) == (0, False)
    logger.keep_body(b"a=1")
    logger.log_script(500, "bad", b"rest")
    logger.log_script_error(500, "no #! line")
    logger.log_stderr_line(200, "oops")
    assert list(tmp_path.rglob("*.log")) == []


def test_a_runs_entries_show_the_head_of_its_body(tmp_path: Path) -> None:
    logger = _logger(tmp_path, f"ScriptLog {tmp_path}/s.log\nScriptLogLength 5000\n"
                     "ScriptLogBuffer 6\n")
    assert (logger.stdout_kept, logger.logs_stderr) == (5000, True)
    logger.keep_body(b"abcd")
    logger.keep_body(b"efgh")  # past ScriptLogBuffer: cut
    logger.keep_body(b"ijkl")
    logger.log_script(500, "This is not a header", b"rest")
    logger.log_stderr_line(200, "oops")
    logger.log_script_error(500, "no #! line")
    text = (tmp_path / "s.log").read_bytes()
    entries = text.split(b"%% [")[1:]
    assert len(entries) == 3
    assert entries[0].endswith(b"POST /bad.py?q=1 HTTP/1.1\n%% 500 /srv/bad.py\n%request\n"
                               b"Host: x\n\nabcdef\n%response\nThis is not a header\n"
                               b"%stdout\nrest\n")
    assert entries[1].endswith(b"%% 200 /srv/bad.py\n%error\noops\n")
    assert entries[2].endswith(b"%% 500 /srv/bad.py\n%error\nno #! line\n")


def test_stderr_lines_are_entries_only_under_mod_cgi(tmp_path: Path) -> None:
    logger = _logger(tmp_path, f"ScriptLog {tmp_path}/s.log\n", stderr_entries=False)
    assert not logger.logs_stderr
    logger.log_stderr_line(200, "oops")
    assert not (tmp_path / "s.log").exists()
    logger.log_script(504)
    assert b"%% 504 /srv/bad.py\n" in (tmp_path / "s.log").read_bytes()
