"""ASGI scope -> ``Request``: the one place that reads the scope.

Keeps the raw request target (for REQUEST_URI and the access log) beside the decoded
path. Must not know about the filesystem or the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    #: the request target exactly as received (latin-1 decoded), e.g. "/a%20b/?x=1"
    raw_target: str
    #: the raw path part of the target (before "?"), still percent-encoded
    raw_path: str
    #: the query string, raw (QUERY_STRING is never decoded)
    query: str
    #: "1.1" or "1.0"
    http_version: str
    #: request headers as received: lower-case names, latin-1 values, in order
    headers: tuple[tuple[str, str], ...]
    client_addr: str
    client_port: int
    server_addr: str
    server_port: int
    scheme: str  # "http" | "https"
    #: the request line as received (no CRLF), for %r
    request_line: str

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for k, v in self.headers:
            if k == lname:
                return v
        return None

    @property
    def host(self) -> str:
        """The Host header's name, lower-case, without port or trailing dot ("" if none)."""
        raw = (self.header("host") or "").strip().lower()
        if raw.startswith("["):
            end = raw.find("]")
            name = raw[: end + 1] if end != -1 else raw
        else:
            name = raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
        return name.rstrip(".")

    @property
    def protocol(self) -> str:
        return f"HTTP/{self.http_version}"
