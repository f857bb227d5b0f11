"""Writing the answer: headers (refused if they could split the response), cookies,
redirects, then the body.

A CGI script's answer is header lines, an empty line, the body (RFC 3875 §6). The
one mistake that turns into a security hole is a CR or LF inside a header's value (a
user's input put in a Location or a cookie): every header written here is checked and
refused with ``HeaderError``. Must not know how the request was read.
"""

from __future__ import annotations

import re
import sys
from http.cookies import SimpleCookie
from typing import BinaryIO

#: RFC 9110 §5.1 field-name = token
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class HeaderError(ValueError):
    """A header name or value that would break the response (CR, LF, NUL...)."""


def check_header(name: str, value: str) -> tuple[str, str]:
    if not _TOKEN.match(name):
        raise HeaderError(f"not a header name: {name!r}")
    if any(c in value for c in "\r\n\0"):
        raise HeaderError(f"the value of {name} contains a line break: {value!r}")
    return name, value


class Response:
    """Headers first, then the body, each once::

        r = Response(content_type="text/html; charset=utf-8")
        r.set_cookie("visits", "3", max_age=3600)
        r.send("<h1>Hello</h1>")
    """

    def __init__(self, status: int = 200, reason: str = "", *,
                 content_type: str = "text/html; charset=utf-8",
                 out: BinaryIO | None = None) -> None:
        self.status = status
        self.reason = reason
        self.headers: list[tuple[str, str]] = []
        self.out = out if out is not None else sys.stdout.buffer
        self.sent = False
        if content_type:
            self.header("Content-Type", content_type)

    def header(self, name: str, value: str) -> Response:
        """Add a header (checked: no CR/LF)."""
        if self.sent:
            raise HeaderError("the headers have already been sent")
        self.headers.append(check_header(name, str(value)))
        return self

    def set_cookie(self, name: str, value: str, *, max_age: int | None = None,
                   path: str = "/", httponly: bool = True, samesite: str = "Lax",
                   secure: bool = False) -> Response:
        cookie: SimpleCookie = SimpleCookie()
        cookie[name] = value
        morsel = cookie[name]
        morsel["path"] = path
        if max_age is not None:
            morsel["max-age"] = str(max_age)
        if httponly:
            morsel["httponly"] = True
        if samesite:
            morsel["samesite"] = samesite
        if secure:
            morsel["secure"] = True
        return self.header("Set-Cookie", morsel.OutputString())

    def head_bytes(self) -> bytes:
        lines = []
        if self.status != 200 or self.reason:
            lines.append(f"Status: {self.status} {self.reason}".rstrip())
        lines.extend(f"{k}: {v}" for k, v in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_headers(self) -> None:
        if not self.sent:
            self.out.write(self.head_bytes())
            self.sent = True

    def send(self, body: str | bytes = b"") -> None:
        """The headers (once), then ``body`` (text is encoded as UTF-8)."""
        self.send_headers()
        self.out.write(body.encode("utf-8") if isinstance(body, str) else body)
        self.out.flush()


def redirect(location: str, status: int = 303, *, out: BinaryIO | None = None) -> None:
    """Send the browser to ``location`` (303 See Other: after a POST, the next page
    is fetched with GET). Refused if the location has a line break."""
    reasons = {301: "Moved Permanently", 302: "Found", 303: "See Other",
               307: "Temporary Redirect", 308: "Permanent Redirect"}
    r = Response(status, reasons.get(status, ""), content_type="", out=out)
    r.header("Location", location)
    r.send(b"")
