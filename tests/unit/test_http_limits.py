"""HeadGuard (Apache's request-head limits) and ReadTimeout (mod_reqtimeout's rule)."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.http.limits import HeadGuard, HeadLimits

SMALL = HeadLimits(request_line=20, field_size=10, fields=3)


def scan_all(data: bytes, limits: HeadLimits = SMALL, cuts: list[int] | None = None
             ) -> tuple[int, str | None, bool]:
    g = HeadGuard(limits)
    pieces = []
    last = 0
    for c in sorted(set(cuts or [])):
        pieces.append(data[last:c])
        last = c
    pieces.append(data[last:])
    consumed = 0
    for p in pieces:
        if not p:
            continue
        n, violation, complete = g.scan(p)
        consumed += n
        if violation or complete:
            return consumed, violation, complete
    return consumed, None, False


def line(n: int) -> bytes:
    # a request line of n characters
    return b"GET /" + b"a" * (n - len("GET / HTTP/1.1")) + b" HTTP/1.1"


@pytest.mark.parametrize(("length", "verdict"), [(20, None), (21, None), (22, "request_line")])
def test_request_line_limit_plus_one_passes(length: int, verdict: str | None) -> None:
    data = line(length) + b"\r\nHost: x\r\n\r\n"
    _, violation, complete = scan_all(data)
    assert violation == verdict
    assert complete == (verdict is None)


@pytest.mark.parametrize(("length", "verdict"), [(10, None), (11, None), (12, "field_size")])
def test_field_size_limit_plus_one_passes(length: int, verdict: str | None) -> None:
    field = b"X: " + b"v" * (length - 3)
    _, violation, _ = scan_all(b"GET / HTTP/1.1\r\n" + field + b"\r\n\r\n")
    assert violation == verdict


@pytest.mark.parametrize(("count", "verdict"), [(3, None), (4, "fields")])
def test_field_count_limit(count: int, verdict: str | None) -> None:
    fields = b"".join(b"A: b\r\n" for _ in range(count))
    _, violation, _ = scan_all(b"GET / HTTP/1.1\r\n" + fields + b"\r\n")
    assert violation == verdict


def test_complete_head_reports_where_it_ends() -> None:
    head = b"GET / HTTP/1.1\r\nA: b\r\n\r\n"
    consumed, violation, complete = scan_all(head + b"BODY")
    assert (consumed, violation, complete) == (len(head), None, True)


def test_bare_lf_lines_are_measured_too() -> None:
    assert scan_all(b"GET / HTTP/1.1\nA: b\n\n")[2] is True


def test_leading_empty_lines_are_skipped_up_to_ten() -> None:
    assert scan_all(b"\r\n" * 10 + b"GET / HTTP/1.1\r\n\r\n")[2] is True
    assert scan_all(b"\r\n" * 11 + b"GET / HTTP/1.1\r\n\r\n")[1] == "request_line"


def test_overlong_line_is_refused_before_its_end_arrives() -> None:
    g = HeadGuard(SMALL)
    assert g.scan(b"GET /" + b"a" * 100)[1] == "request_line"


def test_partial_request_line_is_kept_for_the_log() -> None:
    g = HeadGuard(SMALL)
    g.scan(b"GET /" + b"a" * 100)
    # Apache logs limit + 1 characters of a refused line (%r)
    assert g.partial_request_line == ("GET /" + "a" * 100)[:21]
    assert not g.request_line_done


heads = st.builds(
    lambda n, fields, size: line(max(n, 15)) + b"\r\n" + b"".join(
        b"X: " + b"v" * size + b"\r\n" for _ in range(fields)) + b"\r\n",
    st.integers(14, 25), st.integers(0, 5), st.integers(0, 10),
)


@given(heads, st.lists(st.integers(0, 80), max_size=6))
def test_same_verdict_however_the_head_is_split(head: bytes, cuts: list[int]) -> None:
    whole = scan_all(head)
    split = scan_all(head, cuts=[c for c in cuts if c < len(head)])
    assert split[1:] == whole[1:]
    if whole[2]:
        assert split[0] == whole[0] == len(head)


@pytest.mark.parametrize(("text", "expected"), [
    ("20-40,MinRate=500", ReadTimeout(20, 40, 500)),
    ("20-40", ReadTimeout(20, 40, 500)),
    ("2", ReadTimeout(2, 2, 0)),
    ("1-2,minrate=100", ReadTimeout(1, 2, 100)),
])
def test_read_timeout_parse(text: str, expected: ReadTimeout) -> None:
    assert ReadTimeout.parse(text) == expected


@pytest.mark.parametrize("text", ["", "x", "1-2,Foo=3", "-1"])
def test_read_timeout_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ReadTimeout.parse(text)


def test_read_timeout_extends_with_min_rate_up_to_the_maximum() -> None:
    t = ReadTimeout(20, 40, 500)
    assert t.deadline(100.0, 0) == 120.0
    assert t.deadline(100.0, 1000) == 122.0
    assert t.deadline(100.0, 10**9) == 140.0
    assert ReadTimeout(5, 5, 0).deadline(0.0, 10**6) == 5.0


def test_read_timeout_without_maximum_or_with_zero() -> None:
    # mod_reqtimeout body=20,MinRate=500: no upper bound; header=0: no deadline at all
    assert ReadTimeout(20, math.inf, 500).deadline(0.0, 10**6) == 2020.0
    assert ReadTimeout(0, 0, 0).deadline(0.0, 0) == math.inf


@given(st.lists(st.sampled_from([b"GET / HTTP/1.1", b"A: b", b"X-Long: " + b"v" * 40, b""]),
                min_size=1, max_size=8),
       st.sampled_from([b"\r\n", b"\n"]), st.binary(max_size=5))
# a head ended by a bare-LF blank line, a CRLF CRLF after it (found by hypothesis)
@example([b"GET / HTTP/1.1"], b"\n", b"\r\n\r\n")
@example([b"GET / HTTP/1.1"], b"\n", b"\r\n\r\nx")
@example([b"GET / HTTP/1.1", b"A: b"], b"\n", b"\r\n\r\n")
def test_fast_path_agrees_with_line_by_line(lines: list[bytes], eol: bytes, tail: bytes
                                            ) -> None:
    data = eol.join(lines) + eol + eol + tail
    limits = HeadLimits(request_line=60, field_size=60, fields=4)
    whole = HeadGuard(limits)
    result = whole.scan(data)
    bytewise = HeadGuard(limits)
    for i in range(len(data)):
        step = bytewise.scan(data[i:i + 1])
        if step[1] or step[2]:
            break
    assert (whole.total, result[1:]) == (bytewise.total, step[1:])
    assert whole.partial_request_line == bytewise.partial_request_line
    assert whole.request_line_done == bytewise.request_line_done


@pytest.mark.parametrize("data", [b"GET / HTTP/1.1\n\r\n\r\n", b"GET / HTTP/1.1\nA: b\n\r\n\r\nX",
                                  b"GET / HTTP/1.1\r\nA: b\n\n\r\n\r\n"])
def test_a_head_ends_at_its_first_blank_line_whatever_follows(data: bytes) -> None:
    limits = HeadLimits(request_line=60, field_size=60, fields=4)
    whole = HeadGuard(limits).scan(data)
    bytewise = HeadGuard(limits)
    for i in range(len(data)):
        step = bytewise.scan(data[i:i + 1])
        if step[2]:
            break
    assert whole[1:] == (None, True) and whole[0] == bytewise.total == i + 1
