"""ASGI scope -> ``Request``: the one place that reads the scope (``request_from_scope``).

Keeps the raw request target (for REQUEST_URI and the access log) beside the decoded
path. Must not know about the filesystem or the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


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
    #: the server takes ``cgihttpd.raw`` messages (asgi.py RAW): a response
    #: can be written byte for byte (nph- scripts)
    raw_output: bool = False

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


def request_from_scope(scope: Mapping[str, Any]) -> Request:
    """Build the ``Request`` from an ASGI HTTP scope (ASGI 3 "HTTP connection scope").

    ``raw_path`` is the path exactly as received (ASGI: without the query); servers
    that do not give it get the path re-quoted. The request line comes from our
    protocol's extension when present, else is rebuilt as Apache would log it.
    """
    method = str(scope.get("method", "GET"))
    raw = scope.get("raw_path")
    if isinstance(raw, (bytes, bytearray)) and raw:
        raw_path = bytes(raw).decode("latin-1")
    else:
        raw_path = quote(str(scope.get("path", "/")), safe="/:@!$&'()*+,;=-._~")
    if "?" in raw_path:  # some servers leave the query in raw_path
        raw_path, _, query_in_path = raw_path.partition("?")
    else:
        query_in_path = ""
    query_bytes = scope.get("query_string", b"")
    query = bytes(query_bytes).decode("latin-1") if query_bytes else query_in_path
    version = str(scope.get("http_version", "1.1"))
    raw_target = raw_path + ("?" + query if query else "")
    headers = tuple([(k.decode("latin-1").lower(), v.decode("latin-1"))
                     for k, v in scope.get("headers", ())])
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("", 0)
    ext = (scope.get("extensions") or {}).get("cgihttpd") or {}
    request_line = ext.get("request_line") or f"{method} {raw_target} HTTP/{version}"
    return Request(
        method=method,
        raw_target=raw_target,
        raw_path=raw_path,
        query=query,
        http_version=version,
        headers=headers,
        client_addr=str(client[0]),
        client_port=int(client[1] or 0),
        server_addr=str(server[0]),
        server_port=int(server[1] or 0) if server[1] is not None else 0,
        scheme=str(scope.get("scheme", "http")),
        request_line=str(request_line),
        raw_output=bool(ext.get("raw_output", False)),
    )
