"""Status lines as Apache httpd 2.4 writes them (``status_lines`` in
modules/http/http_protocol.c). Pure: a status code in, bytes out.

Apache's reason phrases differ from Python's ``http.HTTPStatus`` in places that show in
a raw response (414 "Request-URI Too Long", 413 "Request Entity Too Large", 416
"Requested Range Not Satisfiable"), so the table is Apache's, not Python's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

APACHE_REASONS: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    417: "Expectation Failed",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}

#: the status lines of the codes Apache knows, made once
_STATUS_LINES: Mapping[int, bytes] = MappingProxyType({
    status: b"HTTP/1.1 %d %s\r\n" % (status, reason.encode("ascii"))
    for status, reason in APACHE_REASONS.items()})


def reason_phrase(status: int) -> str:
    """Apache's reason phrase for ``status`` ("" for a code it does not know)."""
    return APACHE_REASONS.get(status, "")


def status_line(status: int, reason: str | None = None) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n``. Apache always answers HTTP/1.1, also to an
    HTTP/1.0 client (RFC 9110 section 6.2: the server's own version). A ``reason`` given by
    the application (a CGI ``Status: 404 Gone Fishing`` line) wins, as in Apache."""
    if reason is not None:
        clean = reason.replace("\r", " ").replace("\n", " ")
        return b"HTTP/1.1 %d %s\r\n" % (status, clean.encode("latin-1", "replace"))
    line = _STATUS_LINES.get(status)
    if line is None:
        line = b"HTTP/1.1 %d \r\n" % status
    return line
