"""The script's output, sans-IO: bytes in, events out (RFC 3875 §6).

Owns the reading of a CGI response's header block exactly as Apache 2.4's
``ap_scan_script_header_err_core_ex`` with the brigade line source
(server/util_script.c) reads it, then hands the rest through as body bytes.
Must not know about processes, sockets or ASGI.

    p = ScriptOutputParser("hello.py")
    p.receive_data(chunk) ... p.receive_data(b"")   # b"" = end of output
    p.next_event() -> Headers | Body | EndOfOutput | ScriptError | NEED_DATA

Apache's line rules, which this follows:
- a line ends at LF; every CR anywhere in it is dropped (getsfunc_BRIGADE);
- at most ``MAX_HEADER_LINE`` characters: a longer line, or output ending inside a
  line, ends the header block as an error ("End of script output before headers" for
  the first line, "Premature end of script headers" after);
- no continuation lines: a line starting with whitespace is a header line of its own
  (with a ':' its name keeps the whitespace and Apache later refuses it);
- a line without ':' is "malformed header from script 'x': Bad header: <30 chars>".

What the script may not put on the wire (each checked against Apache 2.4.71):
- its ``Content-Length`` is dropped, one or several, right or wrong (2.4.59+,
  CVE-2024-24795): the body is what the script writes, framed by the server;
- ``Transfer-Encoding`` is dropped (the server frames the body);
- a control character (not HTAB) in a field's name or value fails the block
  (http_filters.c check_headers: AH02429, AH02430; the error log escapes the bytes);
- a reason phrase with a control character is dropped (the standard one goes);
- a header block past ``MAX_HEADER_BLOCK`` bytes fails (Apache has no bound; ours is
  memory's, far past what a browser accepts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from typing import Final, Literal

from cgihttpd.messages import BAD_HEADER_NAME, BAD_HEADER_VALUE

#: MAX_STRING_LEN (8192) as Apache reads it: getsfunc gets len-1 and keeps room for
#: the NUL, so 8190 characters fill the buffer and a header line may have 8189.
MAX_HEADER_LINE: Final = 8189

#: The header block's bound: every field line, counted as read. Apache reads any number
#: of lines (1,000 lines of 8,000 bytes pass on 2.4.71); browsers refuse far less
#: (Chromium: 256 KiB of response head), so a larger block is a runaway script, and
#: it would otherwise be held in memory whole.
MAX_HEADER_BLOCK: Final = 1 << 20

#: The first 30 characters of a bad line go to the log ("%.30s" in util_script.c).
BAD_HEADER_SHOWN: Final = 30

#: RFC 9110 §5.1 field-name = token
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: http_filters.c check_headers: a field value is VCHAR / obs-text / SP / HTAB
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NPH_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)? +(\d{3})(?: +(.*))?$")


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


@dataclass(frozen=True, slots=True)
class Headers:
    """The header block. ``status`` is None when the script gave no Status (200 then,
    or 302 with an absolute Location). ``headers`` is every other field, merged as
    Apache merges them (Set-Cookie kept apart, one per line), in first-seen order,
    names as the script spelled them; Content-Type and Location are included."""

    status: int | None
    reason: str | None
    headers: tuple[tuple[str, str], ...]
    location: str | None
    content_type: str | None
    #: what was taken out of the block (escaped for the log by its writer): the
    #: script's Content-Length, a reason phrase with control characters
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfOutput:
    pass


ErrorKind = Literal["no-headers", "premature", "malformed", "bad-status", "bad-name",
                    "bad-value", "too-large"]


@dataclass(frozen=True, slots=True)
class ScriptError:
    """The header block is unusable: answer ``status`` and log ``message`` (Apache's
    words) with ``module`` ("cgi"/"cgid" is the caller's; "http" for bad names)."""

    kind: ErrorKind
    status: int
    message: str
    #: the header line that failed, whole (ScriptLog's "%response" shows it)
    line: str = ""


Event = Headers | Body | EndOfOutput | ScriptError | _NeedData


def _valid_status(code: int) -> bool:
    # ap_is_HTTP_VALID_RESPONSE: 100..599
    return 100 <= code <= 599


def _atoi(text: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def _content_type_tolower(value: str) -> str:
    """ap_content_type_tolower: the media type is lower-cased, parameters are not."""
    head, sep, rest = value.partition(";")
    return head.lower() + sep + rest


def _normalise_last_modified(value: str) -> str | None:
    """util_script.c: a parsable date is re-emitted as an HTTP date; else dropped."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return format_datetime(when, usegmt=True) if when.utcoffset() is not None else None


class ScriptOutputParser:
    """Sans-IO reader of one script's output. ``nph``: the output starts with an HTTP
    status line and its header block is taken as written (mod_cgi's nph- scripts)."""

    def __init__(self, script_name: str, *, nph: bool = False) -> None:
        self.script_name = script_name
        self.nph = nph
        self._buf = bytearray()
        self._eof = False
        self._state: Literal["headers", "body", "done", "error"] = "headers"
        self._first = True
        self._status: int | None = None
        self._reason: str | None = None
        # name.lower() -> [spelling, values]; Set-Cookie apart
        self._fields: dict[str, tuple[str, list[str]]] = {}
        self._order: list[tuple[str, int]] = []  # (lower name, cookie index or -1)
        self._cookies: list[tuple[str, str]] = []
        self._error: ScriptError | None = None
        self._status_line_seen = False
        self._rest = b""
        self._block = 0
        self._dropped: list[str] = []

    # --- input ------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self._eof:
            raise RuntimeError("data after end of output")
        if data:
            self._buf += data
        else:
            self._eof = True

    # --- output -----------------------------------------------------------------------

    def next_event(self) -> Event:
        if self._state == "error":
            assert self._error is not None
            return self._error
        if self._state == "done":
            return EndOfOutput()
        if self._state == "body":
            if self._buf:
                data = bytes(self._buf)
                self._buf.clear()
                return Body(data)
            if self._eof:
                self._state = "done"
                return EndOfOutput()
            return NEED_DATA
        return self._next_header_event()

    def _next_header_event(self) -> Event:
        while True:
            nl = self._buf.find(b"\n")
            if nl == -1:
                pending = len(self._buf) - self._buf.count(b"\r")
                if pending >= MAX_HEADER_LINE + 1 or self._eof:
                    return self._fail_premature()
                return NEED_DATA
            raw = bytes(self._buf[:nl]).replace(b"\r", b"")
            del self._buf[: nl + 1]
            if len(raw) > MAX_HEADER_LINE:
                return self._fail_premature()
            self._block += len(raw) + 1
            if self._block > MAX_HEADER_BLOCK:
                return self._fail(
                    "too-large", 500,
                    f"Response header block from script '{self.script_name}' is larger "
                    f"than {MAX_HEADER_BLOCK} bytes")
            nul = raw.find(b"\0")
            if nul != -1:
                raw = raw[:nul]  # Apache handles the line as a C string
            if self.nph and not self._status_line_seen:
                self._status_line_seen = True
                m = _NPH_STATUS.match(raw)
                if m:
                    self._status = int(m.group(1))
                    self._reason = (m.group(2) or b"").decode("latin-1") or None
                    self._first = False
                    continue
            if not raw:
                return self._finish_headers()
            err = self._take_line(raw.decode("latin-1"))
            if err is not None:
                return err
            self._first = False

    def _take_line(self, line: str) -> ScriptError | None:
        name, colon, value = line.partition(":")
        if not colon:
            return self._fail(
                "malformed", 500,
                f"malformed header from script '{self.script_name}': "
                f"Bad header: {line[:BAD_HEADER_SHOWN]}", line)
        value = value.lstrip(" \t\n\v\f\r")
        lname = name.lower()
        if self.nph:
            self._add(name, value)
            return None
        if lname == "content-type":
            self._set(name, _content_type_tolower(value.rstrip(" \t\n\v\f\r")))
        elif lname == "status":
            code = _atoi(value)
            self._status = code
            rest = value.strip()
            self._reason = rest[3:].strip() if len(rest) > 3 and rest[:3].isdigit() else None
            if self._reason is not None and _BAD_VALUE.search(self._reason):
                # Apache 2.4.71 sends its own phrase then ("200 O\x01K" -> "200 OK")
                self._dropped.append(f"Status reason '{self._reason}'")
                self._reason = None
            if not _valid_status(code):
                return self._fail(
                    "bad-status", 500,
                    f"Invalid status line from script '{self.script_name}': "
                    f"{value[:BAD_HEADER_SHOWN]}")
        elif lname in ("location", "content-range", "etag"):
            self._set(name, value)
        elif lname == "content-length":
            # Apache 2.4.59+ (CVE-2024-24795) drops it, and so do we: a length that is
            # not the body's would frame the next response on a kept-alive connection.
            # The server counts the body itself when it has it whole (verified on
            # 2.4.71: two differing lines, or one longer or shorter than the body, go
            # out as the body the script wrote).
            self._dropped.append(f"Content-Length '{value}'")
        elif lname == "transfer-encoding":
            # Apache 2.4.71 drops it and frames the body itself (verified against
            # Debian's apache2: the script's "Transfer-Encoding: chunked" is not sent).
            pass
        elif lname == "last-modified":
            normal = _normalise_last_modified(value)
            if normal is not None:
                self._set(name, normal)
        elif lname == "set-cookie":
            # "Some browsers ... prefer that each Set-Cookie header is sent separately"
            self._order.append((lname, len(self._cookies)))
            self._cookies.append((name, value))
        else:
            self._add(name, value)
        return None

    def _set(self, name: str, value: str) -> None:
        lname = name.lower()
        if lname in self._fields:
            spelling = self._fields[lname][0]
            self._fields[lname] = (spelling, [value])
        else:
            self._fields[lname] = (name, [value])
            self._order.append((lname, -1))

    def _add(self, name: str, value: str) -> None:
        lname = name.lower()
        if lname in self._fields:
            self._fields[lname][1].append(value)
        else:
            self._fields[lname] = (name, [value])
            self._order.append((lname, -1))

    def _finish_headers(self) -> Event:
        out: list[tuple[str, str]] = []
        for lname, idx in self._order:
            if idx >= 0:
                out.append(self._cookies[idx])
                continue
            spelling, values = self._fields[lname]
            if self.nph:
                out.extend((spelling, v) for v in values)
            else:
                # apr_table_overlap(..., APR_OVERLAP_TABLES_MERGE): "a, b"
                out.append((spelling, ", ".join(values)))
        for name, value in out:
            # http_filters.c check_headers, field by field: AH02429 / AH02430, the
            # request is aborted (500); the log line shows the bytes escaped.
            if not _TOKEN.match(name):
                return self._fail("bad-name", 500, BAD_HEADER_NAME.text(name=name))
            if _BAD_VALUE.search(value):
                return self._fail("bad-value", 500,
                                  BAD_HEADER_VALUE.text(name=name, value=value))
        def first(lname: str) -> str | None:
            got = self._fields.get(lname)
            return got[1][-1] if got else None

        self._state = "body"
        return Headers(
            status=self._status,
            reason=self._reason,
            headers=tuple(out),
            location=first("location"),
            content_type=first("content-type"),
            dropped=tuple(self._dropped),
        )

    def _fail_premature(self) -> ScriptError:
        if self._first:
            msg = f"End of script output before headers: {self.script_name}"
            return self._fail("no-headers", 500, msg)
        return self._fail("premature", 500, f"Premature end of script headers: {self.script_name}")

    def _fail(self, kind: ErrorKind, status: int, message: str, line: str = "") -> ScriptError:
        self._error = ScriptError(kind, status, message, line)
        self._state = "error"
        self._rest = bytes(self._buf)
        self._buf.clear()
        return self._error

    @property
    def rest(self) -> bytes:
        """After an error: the output read but not consumed (ScriptLog's "%stdout")."""
        return self._rest

    @property
    def in_body(self) -> bool:
        return self._state in ("body", "done")
