"""static.plan_static: validators, conditional requests and ranges, with the values
Apache 2.4.71 sends for the same cases (static/plan.py docstring lists the checks)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.static.plan import (
    FileStat,
    StaticPlan,
    http_date,
    make_etag,
    parse_range,
    plan_static,
)

NOW = 1_800_000_000.0
ST = FileStat(size=5000, mtime_ns=int((NOW - 3600) * 1e9) + 123_456_000)
ETAG = make_etag(ST, NOW)
LM = http_date(NOW - 3600)


def hdr(**headers: str) -> Callable[[str], str | None]:
    lower = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    return lambda name: lower.get(name)


def plan(method: str = "GET", **headers: str) -> StaticPlan:
    return plan_static(ST, method, hdr(**headers), "text/html", NOW)


def test_etag_is_apaches_size_and_mtime_in_hex() -> None:
    mtime_us = ST.mtime_ns // 1000
    assert ETAG == f'"{5000:x}-{mtime_us:x}"'
    # a file changed within the last second gets a weak tag
    fresh = FileStat(4, int((NOW - 0.5) * 1e9))
    assert make_etag(fresh, NOW).startswith('W/"4-')


def test_200_headers_in_apaches_order() -> None:
    p = plan()
    assert p.status == 200 and p.send_body and (p.offset, p.length) == (0, 5000)
    assert [k for k, _ in p.headers] == [
        "Last-Modified", "ETag", "Accept-Ranges", "Content-Length", "Content-Type"]
    assert dict(p.headers)["Last-Modified"] == LM


def test_last_modified_never_in_the_future() -> None:
    future = FileStat(1, int((NOW + 1000) * 1e9))
    p = plan_static(future, "GET", hdr(), None, NOW)
    assert dict(p.headers)["Last-Modified"] == http_date(NOW)
    assert "Content-Type" not in dict(p.headers)


def test_head_has_length_but_no_body() -> None:
    p = plan("HEAD")
    assert p.status == 200 and not p.send_body
    assert dict(p.headers)["Content-Length"] == "5000"


@pytest.mark.parametrize(("headers", "status"), [
    ({"if_none_match": ETAG}, 304),
    ({"if_none_match": "W/" + ETAG}, 304),
    ({"if_none_match": '"x", ' + ETAG}, 304),
    ({"if_none_match": "*"}, 304),
    ({"if_none_match": '"x"'}, 200),
    ({"if_modified_since": LM}, 304),
    ({"if_modified_since": http_date(NOW - 7200)}, 200),
    ({"if_modified_since": "garbage"}, 200),
    ({"if_modified_since": LM, "if_none_match": '"x"'}, 200),  # INM takes precedence
    ({"if_match": '"x"'}, 412),
    ({"if_match": ETAG}, 200),
    ({"if_match": "*"}, 200),
    ({"if_unmodified_since": "Thu, 01 Jan 2000 00:00:00 GMT"}, 412),
    ({"if_unmodified_since": LM}, 200),
])
def test_conditionals(headers: dict[str, str], status: int) -> None:
    assert plan(**headers).status == status


def test_304_and_412_headers() -> None:
    assert [k for k, _ in plan(if_none_match=ETAG).headers] == [
        "Last-Modified", "ETag", "Accept-Ranges"]
    p = plan("POST", if_none_match="*")
    assert p.status == 412 and not p.send_body
    assert dict(p.headers)["Content-Length"] == "0"


@pytest.mark.parametrize(("value", "status", "content_range"), [
    ("bytes=0-9", 206, "bytes 0-9/5000"),
    ("bytes=4990-", 206, "bytes 4990-4999/5000"),
    ("bytes=-5", 206, "bytes 4995-4999/5000"),
    ("bytes=0-99999", 206, "bytes 0-4999/5000"),
    ("bytes=5000-", 416, "bytes */5000"),
    ("bytes=abc", 200, None),
    ("bytes=5-2", 200, None),
    ("items=0-1", 200, None),
    ("bytes=0-,5-6", 206, "bytes 0-4999/5000"),  # "0-" anywhere: everything
    ("bytes=0-5,3-9", 206, "bytes 0-9/5000"),  # merged as Apache merges
    ("bytes=-0", 200, None),
    ("bytes=0-3000,1000-4999,4000-4999", 206, "bytes 0-4999/5000"),  # merged
    ("bytes=2000-4999,0-10,5-2500", 200, None),  # adds up to more than the file
])
def test_ranges(value: str, status: int, content_range: str | None) -> None:
    p = plan(range=value)
    assert p.status == status
    assert dict(p.headers).get("Content-Range") == content_range
    if status == 206:
        first, last = map(int, content_range.split(" ")[1].split("/")[0].split("-"))  # type: ignore[union-attr]
        assert (p.offset, p.length) == (first, last - first + 1)
        assert dict(p.headers)["Content-Length"] == str(last - first + 1)


def test_several_ranges_are_multipart_like_apaches() -> None:
    from cgihttpd.static.plan import BOUNDARY

    untyped = plan_static(ST, "GET", hdr(range="bytes=0-0,-1"), None, NOW)
    assert untyped.status == 206
    # Apache 2.4.71 sent Content-Length 142 for this request on a 5000-byte untyped file
    assert dict(untyped.headers)["Content-Length"] == "142"
    assert dict(untyped.headers)["Content-Type"] == f"multipart/byteranges; boundary={BOUNDARY}"
    assert [(p.offset, p.length) for p in untyped.parts] == [(0, 1), (4999, 1)]
    assert untyped.parts[0].head == (f"\r\n--{BOUNDARY}\r\nContent-range: bytes 0-0/5000"
                                     "\r\n\r\n").encode()
    assert untyped.closing == f"\r\n--{BOUNDARY}--\r\n".encode()
    typed = plan(range="bytes=0-1,5-6")
    assert typed.parts[1].head == (f"\r\n--{BOUNDARY}\r\nContent-type: text/html\r\n"
                                   "Content-range: bytes 5-6/5000\r\n\r\n").encode()
    total = sum(len(p.head) + p.length for p in typed.parts) + len(typed.closing)
    assert dict(typed.headers)["Content-Length"] == str(total)


def test_if_range() -> None:
    assert plan(range="bytes=0-3", if_range='"x"').status == 200
    assert plan(range="bytes=0-3", if_range=ETAG).status == 206
    assert plan(range="bytes=0-3", if_range=LM).status == 206
    assert plan(range="bytes=0-3", if_range=http_date(NOW - 1)).status == 200


@given(st.lists(st.tuples(st.integers(0, 12_000), st.integers(0, 12_000)), min_size=1,
                max_size=6), st.integers(1, 10_000))
def test_satisfiable_ranges_stay_inside_the_file(pairs: list[tuple[int, int]],
                                                 size: int) -> None:
    ranges = parse_range("bytes=" + ",".join(f"{a}-{b}" for a, b in pairs), size)
    if not ranges:
        return
    assert sum(last - first + 1 for first, last in ranges) <= size
    for first, last in ranges:
        assert 0 <= first <= last < size


@pytest.mark.parametrize(("text", "when"), [
    ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777),
    ("Sunday, 06-Nov-94 08:49:37 GMT", 784111777),
    ("Sun Nov  6 08:49:37 1994", 784111777),
    ("Sun, 32 Nov 1994 08:49:37 GMT", None),
    ("yesterday", None),
])
def test_http_dates_in_all_three_formats(text: str, when: int | None) -> None:
    from cgihttpd.static.plan import parse_http_date

    assert parse_http_date(text) == when


@given(st.integers(0, 4_000_000_000))
def test_http_date_round_trip(when: int) -> None:
    from cgihttpd.static.plan import parse_http_date

    assert parse_http_date(http_date(when)) == when


@given(size=st.integers(0, 10**9), mtime_ns=st.integers(0, 4_000_000_000 * 10**9),
       ahead=st.floats(-5.0, 10.0), method=st.sampled_from(["GET", "HEAD", "POST"]),
       ctype=st.sampled_from([None, "text/html", "image/png"]))
def test_plan_plain_is_plan_static_without_conditional_headers(
        size: int, mtime_ns: int, ahead: float, method: str, ctype: str | None) -> None:
    from cgihttpd.static.plan import plan_plain

    stat = FileStat(size, mtime_ns)
    now = mtime_ns / 1e9 + ahead  # fresh files (weak ETag, capped date) and old ones
    assert plan_plain(stat, method, ctype, now) == plan_static(stat, method, hdr(), ctype, now)
