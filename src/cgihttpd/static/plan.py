"""Static files: the plan for answering a request for a regular file. Pure: the file's
stat values and the request's headers in, a status and headers out (decide first, then
act; the IO shell is ``handlers.serve_file``, which reads through ``files``).

Owns the validators Apache's default handler sends (core.c default_handler,
http_protocol.c ap_make_etag/ap_set_last_modified), conditional requests (RFC 9110
13.1-13.2, in the order of 13.2.2) and single byte ranges (RFC 9110 14).
Must not know about sockets, files or ASGI.

Checked against Apache 2.4.71 (curl against a scratch instance):
- ETag under the 2.4 default ``FileETag MTime Size`` is ``"<size hex>-<mtime µs hex>"``,
  weak (``W/``) while the file is less than a second old (or in the future);
- Last-Modified never lies in the future (it is capped at the request time);
- 304 carries Last-Modified, ETag and Accept-Ranges; 412 the same plus
  ``Content-Length: 0`` and Content-Type, with an empty body;
- If-None-Match beats If-Modified-Since; If-Match and If-Unmodified-Since give 412;
- Range "bytes=0-9" → 206 + Content-Range; "bytes=5000-" of 5000 bytes → 416;
  "bytes=abc" and "bytes=5-2" are ignored (200); If-Range with another ETag → 200.
- several ranges → 206 multipart/byteranges, merged and limited as Apache does, with
  Apache's part layout ("Content-type", "Content-range" lines).
Difference, on purpose: 416 also carries ``Content-Range: bytes */size`` (RFC 9110
15.5.17 says it SHOULD; Apache omits it).
"""

from __future__ import annotations

import calendar
import functools
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

PlanStatus = Literal[200, 206, 304, 412, 416]

#: the methods the default handler serves a file for (core.c default_handler: GET and
#: POST; HEAD is GET without a body). Anything else: 405 with this Allow.
STATIC_METHODS = frozenset({"GET", "HEAD", "POST"})
ALLOW = "GET,POST,OPTIONS,HEAD,TRACE"  # as Apache 2.4.71 sends it (TraceEnable On)
ALLOW_NO_TRACE = "GET,POST,OPTIONS,HEAD"  # TraceEnable Off (http_protocol.c make_allow)


@dataclass(frozen=True, slots=True)
class FileStat:
    """The parts of ``os.stat_result`` the plan needs."""

    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class StaticPlan:
    status: PlanStatus
    headers: tuple[tuple[str, str], ...]
    #: the byte range to send: [offset, offset + length)
    offset: int = 0
    length: int = 0
    #: False for HEAD, 304, 412 and 416
    send_body: bool = False
    #: several ranges: the multipart/byteranges pieces (then offset/length are unused)
    parts: tuple[Part, ...] = ()
    closing: bytes = b""


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {m.lower(): i + 1 for i, m in enumerate(_MONTHS)}
# RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms
_IMF = re.compile(r"^[A-Za-z]{3}, (\d\d) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$")
_RFC850 = re.compile(r"^[A-Za-z]+, (\d\d)-([A-Za-z]{3})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$")
_ASCTIME = re.compile(r"^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$")


def http_date(when: float) -> str:
    """An IMF-fixdate (RFC 9110 5.6.7)."""
    t = time.gmtime(when)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def parse_http_date(value: str) -> int | None:
    """Seconds since the epoch, or None if ``value`` is not an HTTP-date (RFC 9110
    5.6.7: recipients accept the three formats; an invalid date is ignored, 13.1.3)."""
    value = value.strip()
    if m := _IMF.match(value):
        day, month, year, hh, mm, ss = m.groups()
    elif m := _RFC850.match(value):
        day, month, yy, hh, mm, ss = m.groups()
        # RFC 9110 5.6.7: a two-digit year more than 50 years in the future is the past
        year = str(2000 + int(yy) if 2000 + int(yy) <= time.gmtime().tm_year + 50
                   else 1900 + int(yy))
    elif m := _ASCTIME.match(value):
        month, day, hh, mm, ss, year = m.groups()
    else:
        return None
    number = _MONTH_NUMBER.get(month.lower())
    if number is None or not 1 <= int(day) <= calendar.monthrange(int(year), number)[1]:
        return None
    if int(hh) > 23 or int(mm) > 59 or int(ss) > 60:
        return None
    try:
        return calendar.timegm((int(year), number, int(day), int(hh), int(mm), int(ss), 0, 0, 0))
    except (ValueError, OverflowError):
        return None


def make_etag(st: FileStat, request_time: float) -> str:
    """ap_make_etag with FileETag MTime Size: weak while mtime is within a second of
    the request, since the file may change again within the same second."""
    mtime_us = st.mtime_ns // 1000
    tag = f'"{st.size:x}-{mtime_us:x}"'
    if request_time * 1_000_000 - mtime_us > 1_000_000:
        return tag
    return "W/" + tag


def last_modified_seconds(st: FileStat, request_time: float) -> int:
    # ap_update_mtime/ap_set_last_modified: never later than the request itself.
    return int(min(st.mtime_ns / 1e9, request_time))


def _etag_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches_weak(header: str, etag: str) -> bool:
    """RFC 9110 8.8.3.2 weak comparison, as If-None-Match uses (13.1.2)."""
    tags = _etag_list(header)
    return "*" in tags or any(_opaque(t) == _opaque(etag) for t in tags)


def etag_matches_strong(header: str, etag: str) -> bool:
    """Strong comparison, as If-Match (13.1.1) and If-Range (13.1.5) use."""
    if etag.startswith("W/"):
        return "*" in _etag_list(header)
    tags = _etag_list(header)
    return "*" in tags or etag in tags


#: byterange_filter.c defaults (MaxRanges, MaxRangeOverlaps, MaxRangeReversals): past
#: them Apache quietly sends the whole file
MAX_RANGES = 200
MAX_OVERLAPS = 20
MAX_REVERSALS = 20
#: one boundary per process, as Apache's ap_multipart_boundary
BOUNDARY = secrets.token_hex(8)


def _strict_length(text: str) -> int | None:
    # ap_parse_strict_length: digits only
    return int(text) if text.isdigit() and text.isascii() else None


def parse_range(value: str, size: int) -> list[tuple[int, int]] | None:
    """A ``Range`` header → the (first, last) byte pairs to send, Apache's way
    (byterange_filter.c ap_set_byterange): None means "ignore it, send 200" (not
    ``bytes=``, a syntax error anywhere, a limit passed, or ranges adding up to more
    than the file); [] means nothing is satisfiable (416). Ranges are merged where
    one overlaps or touches the one before, and "0-" anywhere means the whole file."""
    if value[:6].lower() != "bytes=":
        return None
    ranges: list[tuple[int, int]] = []
    unsatisfiable = False
    in_merge = False
    ostart = oend = 0
    overlaps = reversals = 0
    for spec in value[6:].split(","):
        if not spec:
            break
        first_s, dash, last_s = spec.partition("-")
        if not dash:
            return None
        if first_s == "":
            number = _strict_length(last_s)
            if number is None or number < 1:
                return None
            start, end = size - number, size - 1
        else:
            first = _strict_length(first_s)
            if first is None:
                return None
            start = first
            if last_s:
                last = _strict_length(last_s)
                if last is None or start > last:
                    return None
                end = last
            else:
                end = size - 1
                if start == 0:  # "0-": everything, whatever else was asked
                    ranges, in_merge, ostart, oend = [], True, 0, end
                    unsatisfiable = False
                    break
        start = max(start, 0)
        if start >= size:
            unsatisfiable = True
            continue
        end = min(end, size - 1)
        if not in_merge:
            ostart, oend, in_merge = start, end, True
            continue
        in_merge = False
        if start >= ostart and end <= oend:
            in_merge = True
        if start < ostart and end >= ostart - 1:
            ostart = start
            reversals += 1
            in_merge = True
        if end >= oend and start <= oend + 1:
            oend = end
            in_merge = True
        if in_merge:
            overlaps += 1
            continue
        ranges.append((ostart, oend))
        ostart, oend, in_merge = start, end, True
    if in_merge:
        ranges.append((ostart, oend))
    elif not ranges and unsatisfiable:
        return []
    if (not ranges or sum(b - a + 1 for a, b in ranges) > size or len(ranges) > MAX_RANGES
            or overlaps > MAX_OVERLAPS or reversals > MAX_REVERSALS):
        return None
    return ranges


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a multipart/byteranges body: ``head`` bytes, then the file's bytes
    [offset, offset + length)."""

    head: bytes
    offset: int
    length: int


def multipart_parts(ranges: list[tuple[int, int]], size: int,
                    content_type: str | None) -> tuple[tuple[Part, ...], bytes]:
    """The parts and closing delimiter of a multipart/byteranges body (RFC 9110
    14.6), laid out byte for byte as Apache's byterange filter does."""
    typed = f"\r\nContent-type: {content_type}" if content_type else ""
    parts = tuple(
        Part(f"\r\n--{BOUNDARY}{typed}\r\nContent-range: bytes {a}-{b}/{size}\r\n\r\n"
             .encode("latin-1"), a, b - a + 1)
        for a, b in ranges)
    return parts, f"\r\n--{BOUNDARY}--\r\n".encode("latin-1")


def plan_static(st: FileStat, method: str, header: Callable[[str], str | None],
                content_type: str | None, request_time: float) -> StaticPlan:
    """Decide the answer to ``method`` on a file with stat ``st``. ``header(name)``
    gives a request header's value or None."""
    etag = make_etag(st, request_time)
    mtime = last_modified_seconds(st, request_time)
    validators = (("Last-Modified", http_date(mtime)), ("ETag", etag),
                  ("Accept-Ranges", "bytes"))
    typed = (("Content-Type", content_type),) if content_type else ()
    get_like = method in ("GET", "HEAD")

    def failed() -> StaticPlan:
        return StaticPlan(412, validators + (("Content-Length", "0"),) + typed)

    # RFC 9110 13.2.2, steps 1-2
    if_match = header("if-match")
    if if_match is not None:
        if not etag_matches_strong(if_match, etag):
            return failed()
    else:
        ius = header("if-unmodified-since")
        when = parse_http_date(ius) if ius is not None else None
        if when is not None and mtime > when:
            return failed()
    # steps 3-4
    inm = header("if-none-match")
    if inm is not None:
        if etag_matches_weak(inm, etag):
            return StaticPlan(304, validators) if get_like else failed()
    elif get_like:
        ims = header("if-modified-since")
        when = parse_http_date(ims) if ims is not None else None
        if when is not None and mtime <= when <= request_time:
            return StaticPlan(304, validators)
    # step 5: Range, only for GET (RFC 9110 14.2), guarded by If-Range
    range_header = header("range")
    if range_header is not None and get_like and st.size > 0 and _if_range_holds(
            header("if-range"), etag, mtime):
        ranges = parse_range(range_header, st.size)
        if ranges is not None:
            if not ranges:
                return StaticPlan(416, (("Content-Range", f"bytes */{st.size}"),))
            if len(ranges) == 1:
                first, last = ranges[0]
                length = last - first + 1
                return StaticPlan(
                    206,
                    validators + (("Content-Length", str(length)),
                                  ("Content-Range", f"bytes {first}-{last}/{st.size}"))
                    + typed,
                    offset=first, length=length, send_body=method != "HEAD")
            parts, closing = multipart_parts(ranges, st.size, content_type)
            total = sum(len(p.head) + p.length for p in parts) + len(closing)
            return StaticPlan(
                206,
                validators + (("Content-Length", str(total)),
                              ("Content-Type", f"multipart/byteranges; boundary={BOUNDARY}")),
                send_body=method != "HEAD", parts=parts, closing=closing)
    return StaticPlan(200, validators + (("Content-Length", str(st.size)),) + typed,
                      offset=0, length=st.size, send_body=method != "HEAD")


#: the request headers that can make the answer other than a plain 200 (RFC 9110 13.1
#: preconditions, 14.2 Range and 13.1.5 If-Range), lower-case as ``Request`` keeps them
CONDITIONAL_HEADERS = frozenset({"if-match", "if-none-match", "if-modified-since",
                                 "if-unmodified-since", "range", "if-range"})


def _no_header(name: str) -> str | None:
    return None


def plan_plain(st: FileStat, method: str, content_type: str | None,
               request_time: float) -> StaticPlan:
    """``plan_static`` for a request with none of ``CONDITIONAL_HEADERS`` - the common
    case. For a file last changed more than a second before the request the plan
    depends on nothing but the file and the method (a strong ETag, Last-Modified not
    capped), so it is made once and remembered."""
    if settled(st, request_time):
        return _plain_settled(st, method, content_type)
    return plan_static(st, method, _no_header, content_type, request_time)


def settled(st: FileStat, request_time: float) -> bool:
    """Whether the file was last changed more than a second before ``request_time``:
    then its plain plan is the same for every later request."""
    return request_time * 1_000_000 - st.mtime_ns // 1000 > 1_000_000


@functools.lru_cache(maxsize=1024)
def _plain_settled(st: FileStat, method: str, content_type: str | None) -> StaticPlan:
    # any request time more than a second after the mtime gives this same plan
    return plan_static(st, method, _no_header, content_type, st.mtime_ns / 1e9 + 2.0)


def _if_range_holds(value: str | None, etag: str, mtime: int) -> bool:
    """RFC 9110 13.1.5: the range applies only if the validator still matches."""
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return etag_matches_strong(value, etag) and "*" not in value
    when = parse_http_date(value)
    return when is not None and when == mtime
