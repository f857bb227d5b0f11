"""Limits on a request head, enforced while the bytes arrive. Pure: bytes in, verdicts out.

httptools (llhttp) parses the request, but it buffers a header line until it is complete
and has no size limits, so a 32 MiB header would be held in memory before any callback
could refuse it. ``HeadGuard`` therefore sees every byte of a request head *before* the
parser does and measures lines - it does not parse them: it only finds line ends. It
enforces Apache's core limits (http://httpd.apache.org/docs/2.4/mod/core.html):

- ``LimitRequestLine`` (default 8190) -> 414 "Request-URI Too Long";
- ``LimitRequestFieldSize`` (default 8190) -> 400 "Size of a request header field exceeds
  server limit.";
- ``LimitRequestFields`` (default 100) -> 400 "The number of request header fields exceeds
  this server's limit."

Boundaries measured against Apache 2.4.71 with raw sockets (see docs/design.md §3): a
request line or a header line of ``limit + 1`` characters (CRLF not counted) is accepted,
``limit + 2`` is refused (Apache reads with a buffer of ``limit + 2`` and strips the CRLF);
``limit`` header fields are accepted, ``limit + 1`` refused.

The read deadline (mod_reqtimeout's ``ReadTimeout``) is a configuration value:
``cgihttpd.config.readtimeout``.

Must not know about sockets, asyncio or ASGI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Violation = Literal["request_line", "field_size", "fields"]

#: Apache skips this many empty lines before a request line
#: (DEFAULT_LIMIT_BLANK_LINES in include/http_protocol.h).
MAX_BLANK_LINES = 10


@dataclass(frozen=True, slots=True)
class HeadLimits:
    request_line: int = 8190
    field_size: int = 8190
    fields: int = 100


class HeadGuard:
    """Measures the lines of one request head as it arrives.

    ``scan(data)`` returns ``(consumed, violation, complete)``: how many bytes of ``data``
    belong to the head (all of them unless the head ends inside ``data``), the limit that
    was broken (``None`` if none) and whether the head's empty line was reached. After a
    violation or completion call ``start()`` before scanning the next head.
    """

    __slots__ = ("limits", "line_no", "line_len", "fields", "blank", "last_cr",
                 "request_line_done", "total", "_line_head")

    def __init__(self, limits: HeadLimits) -> None:
        self.limits = limits
        self.start()

    def start(self) -> None:
        #: 0 while on the request line, then 1, 2, ... for header lines
        self.line_no = 0
        #: bytes of the current line seen so far (including a trailing CR)
        self.line_len = 0
        self.fields = 0
        self.blank = 0
        self.last_cr = False
        self.request_line_done = False
        #: bytes of the head seen so far
        self.total = 0
        #: the first bytes of the request line, kept for the log of a refused request
        self._line_head = bytearray()

    @property
    def started(self) -> bool:
        """True once a byte of a request line (not a leading empty line) arrived."""
        return self.line_len > 0 or self.line_no > 0

    @property
    def partial_request_line(self) -> str:
        """What arrived of the request line (at most ``limits.request_line + 1``
        characters: what Apache logs as ``%r`` for a refused line)."""
        return self._line_head.decode("latin-1").rstrip("\r")

    def _limit_for_line(self) -> int:
        # Apache accepts limit + 1 characters before CRLF (see module docstring).
        if self.line_no == 0:
            return self.limits.request_line + 1
        return self.limits.field_size + 1

    def _violation_for_line(self) -> Violation:
        return "request_line" if self.line_no == 0 else "field_size"

    def scan(self, data: bytes) -> tuple[int, Violation | None, bool]:
        if self.total == 0 and data[:1] not in (b"\r", b"\n", b""):
            # Fast path for the usual case, a whole small head in one read: if the
            # head is shorter than both line limits no line can break them. It must
            # also end there: no blank line ("\n\n", "\n\r\n": bare LF is a line end
            # too) before that CRLF CRLF.
            end = data.find(b"\r\n\r\n")
            limits = self.limits
            if (0 < end < limits.request_line and end < limits.field_size
                    and data.count(b"\n", 0, end) <= limits.fields
                    and data.find(b"\n\n", 0, end) == -1
                    and data.find(b"\n\r\n", 0, end + 2) == -1):
                first = data.find(b"\n", 0, end)
                if first == -1:
                    first = end
                self._line_head += data[:first].rstrip(b"\r")
                self.request_line_done = True
                self.total = end + 4
                return end + 4, None, True
        return self._scan(data)

    def _scan(self, data: bytes) -> tuple[int, Violation | None, bool]:
        pos = 0
        n = len(data)
        while pos < n:
            nl = data.find(b"\n", pos)
            end = n if nl == -1 else nl
            piece = end - pos
            keep = self.limits.request_line + 1
            if self.line_no == 0 and len(self._line_head) < keep:
                self._line_head += data[pos:min(end, pos + keep - len(self._line_head))]
            if nl == -1:
                self.line_len += piece
                if piece:
                    self.last_cr = data[n - 1] == 0x0D
                self.total += n - pos
                # A trailing CR may be the start of the CRLF, which does not count.
                if self.line_len - self.last_cr > self._limit_for_line():
                    return n, self._violation_for_line(), False
                return n, None, False
            # a complete line: data[pos:nl] (plus what came before in earlier chunks)
            length = self.line_len + piece
            ends_cr = data[nl - 1] == 0x0D if piece else self.last_cr
            if ends_cr and length:
                length -= 1
            self.total += nl + 1 - pos
            pos = nl + 1
            self.line_len = 0
            self.last_cr = False
            if length > self._limit_for_line():
                return pos, self._violation_for_line(), False
            if self.line_no == 0:
                if length == 0:
                    # RFC 9112 section 2.2: ignore at least one empty line before the
                    # request line; Apache ignores up to ten.
                    self.blank += 1
                    if self.blank > MAX_BLANK_LINES:
                        return pos, "request_line", False
                    continue
                self.request_line_done = True
                self.line_no = 1
                continue
            if length == 0:
                return pos, None, True
            self.line_no += 1
            self.fields += 1
            if self.fields > self.limits.fields:
                return pos, "fields", False
        return n, None, False
