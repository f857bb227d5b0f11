"""format_error_line and LogLevel: Apache 2.4's default error-log layout, checked
against what Debian's Apache 2.4.71 (mpm_event) wrote."""

from __future__ import annotations

import io
import os
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.logs.error import (
    LEVELS,
    ErrorLog,
    LogLevel,
    LogLevelError,
    escape_errorlog_item,
    format_error_line,
)

T0 = 1795711508.123456  # Thu Nov 26 16:45:08.123456 2026 UTC


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_layout_matches_apache_404_line() -> None:
    # Apache: [Thu Nov 26 16:51:52.851624 2026] [core:info] [pid 6976:tid 6994]
    #         [client 127.0.0.1:47242] AH00128: File does not exist: /x, referer: http://x/"y
    line = format_error_line(T0, "core", "info", 6976, 6994, ("127.0.0.1", 47242),
                             "AH00128: File does not exist: /x", referer='http://x/"y')
    assert line == ("[Thu Nov 26 16:45:08.123456 2026] [core:info] [pid 6976:tid 6994] "
                    '[client 127.0.0.1:47242] AH00128: File does not exist: /x, referer: http://x/"y')


def test_without_client_or_tid() -> None:
    line = format_error_line(T0, "mpm_event", "notice", 10, None, None, "resuming")
    assert line == "[Thu Nov 26 16:45:08.123456 2026] [mpm_event:notice] [pid 10] resuming"


def test_day_is_zero_padded_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2026-11-06 03:04:05 UTC -> in New York it is still Nov 5, 22:04
    when = 1793934245.5
    assert format_error_line(when, "core", "warn", 1, 1, None, "m").startswith(
        "[Fri Nov 06 03:04:05.500000 2026]")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert format_error_line(when, "core", "warn", 1, 1, None, "m").startswith(
            "[Thu Nov 05 22:04:05.500000 2026]")
    finally:
        os.environ["TZ"] = "UTC"
        time.tzset()


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a\nb", "a\\nb"),
        ("tab\there", "tab\\there"),
        ('quote " kept', 'quote " kept'),
        ("back\\slash", "back\\\\slash"),
        ("/docs/\xc3\xa9", "/docs/\\xc3\\xa9"),  # Apache: File does not exist: /tmp/h4ap/docs/\xc3\xa9
        ("\x00\x7f", "\\x00\\x7f"),
    ],
)
def test_message_escaping(raw: str, escaped: str) -> None:
    assert escape_errorlog_item(raw) == escaped


@given(st.text(max_size=80), st.text(max_size=30))
def test_one_line_whatever_the_message(message: str, referer: str) -> None:
    line = format_error_line(T0, "cgi", "error", 1, 2, ("::1", 1), message, referer=referer)
    assert "\n" not in line and "\r" not in line
    assert line.isascii() and line.isprintable()


# --- LogLevel ---------------------------------------------------------------------------


def test_default_is_warn() -> None:
    lv = LogLevel()
    assert lv.enabled("error", "core") and lv.enabled("warn", "core")
    assert not lv.enabled("notice", "core") and not lv.enabled("info", "core")


def test_per_module_levels() -> None:
    lv = LogLevel.parse("warn cgi:info mod_dir.c:debug autoindex_module:error")
    assert lv.level == "warn"
    assert lv.enabled("info", "cgi") and not lv.enabled("debug", "cgi")
    assert lv.enabled("debug", "dir")
    assert not lv.enabled("warn", "autoindex")
    assert not lv.enabled("info", "core")


def test_module_only_inherits_base_level() -> None:
    base = LogLevel.parse("notice")
    lv = LogLevel.parse("cgid:trace3", base)
    assert lv.level == "notice" and lv.enabled("trace3", "cgid")
    assert not lv.enabled("trace4", "cgid")


def test_levels_are_ordered_like_apache() -> None:
    lv = LogLevel.parse("trace8")
    assert all(lv.enabled(level, "x") for level in LEVELS)
    lv = LogLevel.parse("emerg")
    assert [level for level in LEVELS if lv.enabled(level, "x")] == ["emerg"]


@pytest.mark.parametrize("spec", ["loud", "cgi:loud", ":info"])
def test_bad_levels(spec: str) -> None:
    with pytest.raises(LogLevelError):
        LogLevel.parse(spec)


# --- the writer -------------------------------------------------------------------------


def test_errorlog_filters_and_writes_one_line() -> None:
    buf = io.BytesIO()
    log = ErrorLog(buf, "warn cgi:info")
    log.log("info", "core", "not written")
    log.log("info", "cgi", "script said\nhello", ("127.0.0.1", 5))
    log.log("error", "core", "written")
    lines = buf.getvalue().decode().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(
        r"\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\] \[cgi:info\] "
        rf"\[pid {os.getpid()}:tid \d+\] \[client 127\.0\.0\.1:5\] script said\\nhello",
        lines[0])
    assert lines[1].endswith(f"[core:error] [pid {os.getpid()}:tid {_tid()}] written")


def _tid() -> int:
    import threading

    return threading.get_native_id()


class _Broken(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        raise OSError(28, "No space left on device")


def test_a_failing_stream_never_raises() -> None:
    log = ErrorLog(_Broken(), "warn")  # type: ignore[arg-type]
    log.log("error", "core", "x")
    assert log.failed


def test_request_bound_log_appends_referer() -> None:
    buf = io.BytesIO()
    log = ErrorLog(buf, "info")
    log.for_request("http://x/\"y").log("info", "core", "AH00128: File does not exist: /x",
                                        ("127.0.0.1", 1))
    log.for_request(None).log("info", "core", "no referer", ("127.0.0.1", 1))
    lines = buf.getvalue().decode().splitlines()
    assert lines[0].endswith('AH00128: File does not exist: /x, referer: http://x/"y')
    assert lines[1].endswith("] no referer")


def test_an_errno_prefix_goes_before_the_client() -> None:
    # ErrorLogFormat's default "... %E: [client %a] %M" (checked on apache2 2.4.71)
    line = format_error_line(T0, "cgid", "error", 1, None, ("127.0.0.1", 5),
                             "(70008)Partial results are valid but processing is "
                             "incomplete: AH01270: Error reading request entity data")
    assert line.endswith("[pid 1] (70008)Partial results are valid but processing is "
                         "incomplete: [client 127.0.0.1:5] AH01270: Error reading request "
                         "entity data")
    line = format_error_line(T0, "core", "error", 1, None, None, "(2)No such file: x")
    assert line.endswith("[pid 1] (2)No such file: x")
