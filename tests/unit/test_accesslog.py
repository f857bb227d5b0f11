"""format_log_line: Apache's LogFormat language, checked against lines Apache 2.4.71
(Debian) wrote for the same requests (see tests/differential/test_logs_diff.py for the
live comparison)."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgihttpd.logs.access import (
    LogFormatError,
    LogRecord,
    escape_logitem,
    format_log_line,
    parse_log_format,
)

COMMON = '%h %l %u %t "%r" %>s %b'
COMBINED = '%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'

# 2026-11-26 16:45:08.123456 UTC
T0 = 1795711508.123456


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def record(**kw: object) -> LogRecord:
    base: dict[str, object] = dict(
        remote_addr="127.0.0.1", remote_port=50000, local_addr="127.0.0.1", local_port=8080,
        request_line="GET /index.html?a=1 HTTP/1.1", method="GET",
        raw_uri="/index.html?a=1", path="/index.html", query="a=1", protocol="HTTP/1.1",
        start_time=T0, status=200, original_status=200, body_bytes=13, total_bytes=250,
        bytes_in=80, server_name="www.example.test", server_port=80, pid=1234,
        headers_in=[("host", "Example.test:8080"), ("user-agent", "curl/7.88.1")],
        headers_out=[("Content-Type", "text/html; charset=utf-8"), ("ETag", '"d-1"')],
    )
    base.update(kw)
    return LogRecord(**base)  # type: ignore[arg-type]


def test_common_layout_matches_apache() -> None:
    assert format_log_line(COMMON, record()) == (
        '127.0.0.1 - - [26/Nov/2026:16:45:08 +0000] "GET /index.html?a=1 HTTP/1.1" 200 13'
    )


def test_combined_layout_with_missing_referer() -> None:
    assert format_log_line(COMBINED, record()) == (
        '127.0.0.1 - - [26/Nov/2026:16:45:08 +0000] "GET /index.html?a=1 HTTP/1.1" 200 250'
        ' "-" "curl/7.88.1"'
    )


def test_b_is_dash_for_no_body_and_B_is_zero() -> None:
    # Apache: "HEAD / HTTP/1.1" 200 -   and a 304 logs "-" too
    rec = record(body_bytes=0, status=304)
    assert format_log_line("%b %B %>s", rec) == "- 0 304"


def test_time_uses_local_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert format_log_line("%t", record()) == "[26/Nov/2026:22:15:08 +0530]"
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        assert format_log_line("%t", record()) == "[26/Nov/2026:11:45:08 -0500]"
    finally:
        os.environ["TZ"] = "UTC"
        time.tzset()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%{sec}t", "1795711508"),
        ("%{msec}t", "1795711508123"),
        ("%{usec}t", "1795711508123456"),
        ("%{msec_frac}t", "123"),
        ("%{usec_frac}t", "123456"),
        ("%{%Y-%m-%d %H:%M:%S}t", "2026-11-26 16:45:08"),
        ("%{begin:%d/%b}t", "26/Nov"),
        ("%{end:sec}t", "1795711510"),
        ("%{end}t", "[26/Nov/2026:16:45:10 +0000]"),
        ("%{begin}t", "[26/Nov/2026:16:45:08 +0000]"),
    ],
)
def test_time_forms(fmt: str, expected: str) -> None:
    assert format_log_line(fmt, record(duration=2.0)) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%a %A %h", "10.0.0.5 127.0.0.2 10.0.0.5"),
        ("%{remote}p %{local}p %p %{canonical}p %{bogus}p", "50000 8080 80 80 bogus"),
        ("%m %H %U %q", "GET HTTP/1.1 /index.html ?a=1"),
        ("%v %V", "www.example.test example.test"),
        ("%P %{pid}P %{tid}P", "1234 1234 77"),
        ("%D %T %{ms}T %{us}T %{s}T", "2500000 2 2500 2500000 2"),
        ("%I %O %S", "80 250 330"),
        ("%k %X", "3 +"),  # the fourth request on its connection, kept alive
        ("%{Content-Type}o %{ETag}o %{X-None}o", 'text/html \\"d-1\\" -'),
        ("%f %R", "/srv/www/index.html cgi-script"),
        ("%{HOME}e %{NOPE}e", "/root -"),
        ("%{note}n", "v"),
        ("%l %u %L %F %{errcode}c %{SSL_PROTOCOL}x %^ti %^FB", "- - - - - - - -"),
        ("100%% \\t\\\\", "100% \t\\"),
    ],
)
def test_directives(fmt: str, expected: str) -> None:
    rec = record(
        remote_addr="10.0.0.5", local_addr="127.0.0.2", duration=2.5, tid=77,
        keepalive_count=3, keepalive=True, filename="/srv/www/index.html",
        handler="cgi-script", env={"HOME": "/root"}, notes={"note": "v"},
    )
    assert format_log_line(fmt, rec) == expected


@pytest.mark.parametrize(
    ("prior", "keepalive", "expected"),
    # Apache 2.4.71, four requests on one connection, the last with Connection: close:
    # k=0 k=1 k=2 k=2; and a single closing request: 0.
    [(0, True, "0"), (1, True, "1"), (2, True, "2"), (3, False, "2"), (0, False, "0")],
)
def test_keepalive_count_as_apache_counts(prior: int, keepalive: bool, expected: str) -> None:
    assert format_log_line("%k", record(keepalive_count=prior, keepalive=keepalive)) == expected


def test_query_absent_vs_empty() -> None:
    assert format_log_line("%q", record(raw_uri="/x", query="")) == ""
    assert format_log_line("%q", record(raw_uri="/x?", query="")) == "?"


def test_status_original_and_final() -> None:
    rec = record(original_status=404, status=200)
    assert format_log_line("%s %<s %>s", rec) == "404 404 200"
    assert format_log_line("%s", record(original_status=0, status=500)) == "500"
    assert format_log_line("%>s", record(status=0)) == "-"


def test_status_conditions() -> None:
    ok = record(status=200)
    bad = record(status=400)
    assert format_log_line("%400,501{User-agent}i", ok) == "-"
    assert format_log_line("%400,501{User-agent}i", bad) == "curl/7.88.1"
    assert format_log_line("%!200,304,302{User-agent}i", ok) == "-"
    assert format_log_line("%!200,304,302{User-agent}i", bad) == "curl/7.88.1"


def test_repeated_request_headers_are_merged() -> None:
    rec = record(headers_in=[("x-a", "1"), ("X-A", "2")])
    assert format_log_line("%{x-a}i", rec) == "1, 2"


def test_set_cookie_out_is_joined() -> None:
    rec = record(headers_out=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert format_log_line("%{set-cookie}o", rec) == "a=1, b=2"


def test_cookie_directive() -> None:
    rec = record(headers_in=[("cookie", "a=1; SID = xyz ; c=")])
    assert format_log_line("%{sid}C|%{c}C|%{zz}C", rec) == "xyz|-|-"


def test_remote_user() -> None:
    assert format_log_line("%u", record(remote_user="bob")) == "bob"
    assert format_log_line("%u", record(remote_user='b"b')) == 'b\\"b'


def test_aborted_connection() -> None:
    assert format_log_line("%X", record(completed=False)) == "X"
    assert format_log_line("%X", record(keepalive=False)) == "-"


# --- escaping (server/util.c ap_escape_logitem) -----------------------------------------


def test_escaping_matches_apache_request_line() -> None:
    # Apache 2.4.71 logged this request line, sent raw, as shown.
    raw = b'GET /\xc3\xa9"q?a="\\ HTTP/1.0'.decode("latin-1")
    assert format_log_line('"%r"', record(request_line=raw)) == (
        '"GET /\\xc3\\xa9\\"q?a=\\"\\\\ HTTP/1.0"'
    )


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("\n\r\t\b\v", "\\n\\r\\t\\b\\v"),
        ("\x01\x1f\x7f", "\\x01\\x1f\\x7f"),
        ("\xff", "\\xff"),
        ("\x00", "\\x00"),
        ("plain text ~", "plain text ~"),
        ("é", "\\xe9"),  # a latin-1 decoded byte
        ("\u20ac", "\\xe2\\x82\\xac"),  # wider: its UTF-8 bytes
    ],
)
def test_escape_logitem(raw: str, escaped: str) -> None:
    assert escape_logitem(raw) == escaped


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("%Z", "Unrecognized LogFormat directive %Z"),
        ("%{x}", "Ran off end of LogFormat parsing args to some directive"),
        ("abc %", "Ran off end of LogFormat parsing args to some directive"),
        ("%>", "Ran off end of LogFormat parsing args to some directive"),
    ],
)
def test_bad_formats(fmt: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        parse_log_format(fmt)


def test_unclosed_brace_takes_the_rest() -> None:
    with pytest.raises(LogFormatError, match="Ran off end"):
        parse_log_format("%{abc i")


# --- invariants ---------------------------------------------------------------------------

_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40)
_directives = st.sampled_from(
    ["%h", "%a", "%l", "%u", "%t", '"%r"', "%>s", "%s", "%b", "%B", "%O", "%I", "%D",
     "%T", "%U", "%q", "%m", "%H", "%v", "%V", "%p", "%{remote}p", "%P", "%f", "%k", "%X",
     "%{User-Agent}i", "%{Referer}i", "%{X-Custom}i", "%{Content-Type}o", "%{Location}o",
     "%{VAR}e", "%{sid}C", "%{%d %b}t", "%400,500{Referer}i", "%!200{X-Custom}i", "%R"]
)
_literal = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E,
                                 exclude_characters="%\\"), max_size=5)


@settings(max_examples=300, deadline=None)
@given(
    fmt_parts=st.lists(st.tuples(_literal, _directives), min_size=1, max_size=10),
    request_line=_text, path=_text, query=_text, method=_text, user=_text,
    header_value=_text, out_value=_text, env_value=_text, filename=_text,
    status=st.integers(min_value=-1, max_value=999),
)
def test_no_newline_or_control_char_whatever_the_request(
    fmt_parts: list[tuple[str, str]], request_line: str, path: str, query: str,
    method: str, user: str, header_value: str, out_value: str, env_value: str,
    filename: str, status: int,
) -> None:
    fmt = "".join(lit + d for lit, d in fmt_parts)
    rec = record(
        request_line=request_line, path=path, query=query, raw_uri=path + "?" + query,
        method=method, remote_user=user, filename=filename, status=status,
        headers_in=[("host", header_value), ("user-agent", header_value),
                    ("referer", header_value), ("x-custom", header_value),
                    ("cookie", "sid=" + header_value)],
        headers_out=[("Content-Type", out_value), ("Location", out_value)],
        env={"VAR": env_value}, handler=header_value, protocol=header_value,
        server_name=header_value,
    )
    line = format_log_line(fmt, rec)
    assert "\n" not in line and "\r" not in line
    # every request-supplied character reaches the log as printable ASCII
    assert all(" " <= c <= "~" for c in line), line


@given(st.text(max_size=60))
def test_escaped_items_never_hold_an_unescaped_quote(s: str) -> None:
    out = escape_logitem(s)
    assert out.isascii() and out.isprintable()
    # every quote is preceded by an odd run of backslashes: the field stays delimited
    i = out.find('"')
    while i != -1:
        j = i
        while j > 0 and out[j - 1] == "\\":
            j -= 1
        assert (i - j) % 2 == 1
        i = out.find('"', i + 1)


@given(st.text(max_size=40))
def test_any_format_parses_or_fails_with_apache_message(fmt: str) -> None:
    try:
        parse_log_format(fmt)
    except LogFormatError as exc:
        assert str(exc).startswith(("Unrecognized LogFormat directive %", "Ran off end"))
    else:
        format_log_line(fmt, record())  # and whatever parses, formats


@given(st.text(st.characters(exclude_characters="%\\"), max_size=40))
def test_plain_text_is_copied(fmt: str) -> None:
    assert format_log_line(fmt, record()) == fmt


def _interpreted(fmt: str, rec: LogRecord) -> str:
    """The format walked item by item (what compile_log_format's generated code does)."""
    from cgihttpd.logs.access import _HANDLERS, parse_log_format

    out: list[str] = []
    for item in parse_log_format(fmt):
        if item.literal is not None:
            out.append(item.literal)
        elif item.conditions and ((rec.status in item.conditions) == item.negate):
            out.append("-")
        else:
            value = _HANDLERS[item.directive](rec, item.arg, item.want_orig)
            out.append("-" if value is None else value)
    return "".join(out)


@given(st.lists(st.one_of(
    st.sampled_from(["%h", "%l", "%u", "%t", "%r", "%>s", "%<s", "%b", "%B", "%q", "%U",
                     "%400,404{User-Agent}i", "%!200{Referer}i", "%{Content-Type}o",
                     "%{X}e", "%{sec}t", "%D", "%k", "%X", "%%", "%{'}i", "%{\"}i"]),
    st.text(alphabet="ab \"'\\{}\n\té😀", max_size=5).map(lambda t: t.replace("%", ""))),
    max_size=12), st.sampled_from([200, 304, 400, 404, 500]))
def test_the_compiled_format_is_the_format_walked(pieces: list[str], status: int) -> None:
    fmt = "".join(pieces)
    rec = record()
    rec.status = status
    assert format_log_line(fmt, rec) == _interpreted(fmt, rec)
