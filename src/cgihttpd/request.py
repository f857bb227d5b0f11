"""ASGI scope -> ``Request``: the one place that reads the scope (``request_from_scope``).

Keeps the raw request target (for REQUEST_URI and the access log) beside the decoded
path. Owns the request's host as Apache reads it (server/vhost.c fix_hostname,
ap_update_vhost_from_headers_ex, HttpProtocolOptions Strict, the default): the host of
an absolute-form target wins over the Host header, which then takes its value (RFC 9112
§3.2.2; AH02417); repeated Host fields are one value joined by ", " (apr_table merge),
which no valid host contains; an invalid host is a 400 (RFC 9112 §3.2) with Apache's
error-log line (``Request.host_refusal``). Pure. Must not know about the filesystem or
the configuration.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from cgihttpd import messages as M
from cgihttpd.messages import Note
from cgihttpd.remoteip import RemoteIPConf, forwarded_client


@dataclass(frozen=True, slots=True)
class HostName:
    """A valid host: ``name`` lower-case without a trailing dot (an IPv6 literal keeps
    its brackets), ``port`` as written ("" for none)."""

    name: str
    port: str


def _strict_name_problem(host: str) -> str | None:
    """vhost.c strict_hostname_check: letters, digits, "-", "_" and "." only (so no
    space, and no "," of merged Host fields); all-digit names must be a dotted quad
    without leading zeros; a name's last label must start with a letter (RFC 1123
    2.1). Returns where the problem is (the AH02415 line's tail), or None."""
    dotted_decimal = True
    leading_zeroes = 0
    dots = 0
    for i, ch in enumerate(host):
        if ch.isascii() and (ch.isalpha() or ch in "-_"):
            dotted_decimal = False
        elif ch == ".":
            dots += 1
            if host[i + 1:i + 2] == "0" and host[i + 2:i + 3].isdigit():
                leading_zeroes += 1
        elif not (ch.isascii() and ch.isdigit()):
            return ", problem near: " + host[i:i + 6]
    if dotted_decimal:
        if host.startswith(".") or (host[:1] == "0" and host[1:2].isdigit()):
            leading_zeroes += 1
        if dots != 3 or leading_zeroes:
            return ""
        return None
    last = host.rfind(".")
    if last != -1 and last + 1 < len(host) and not host[last + 1].isalpha():
        return ", problem near: " + host[last:last + 6]
    return None


def parse_host(src: str) -> HostName | tuple[Note, ...]:
    """Apache's fix_hostname under HttpProtocolOptions Strict: a Host value or an
    absolute-form target's authority → the name and port, or the error-log lines of
    its 400."""

    def bad(*first: Note) -> tuple[Note, ...]:
        return (*first, M.MALFORMED_HOST.note(host=src))

    if src.isdigit():
        return (M.NUMERIC_HOST.note(host=src),)  # RFC 3986 7.4
    host, port = src, ""
    # apr_parse_addr_port: a trailing ":digits" is the port, 1-65535
    head, colon, tail = src.rpartition(":")
    if colon and tail and tail.isdigit():
        if not head or not 1 <= int(tail) <= 65535:
            return bad()
        host, port = head, tail
    if host.startswith("["):
        inner = host[1:-1] if host.endswith("]") else ""
        if "%" in inner or not _is_ipv6(inner):
            return bad()  # no "]" at the end, a scope id, or not an address
        return HostName("[" + inner.lower() + "]", port)
    # fix_hostname_non_v6: no "..", "/" or "\"; a trailing dot goes
    if ".." in host or "/" in host or "\\" in host:
        return bad()
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    near = _strict_name_problem(host)
    if near is not None:
        return bad(M.INVALID_HOST_NAME.note(host=host, near=near))
    return HostName(host, port)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def absolute_authority(target: str) -> str | None:
    """The host[:port] of an absolute-form target (RFC 9112 §3.2.2), or None for any
    other form. Userinfo before the last "@" is not part of it (apr_uri_parse)."""
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if i != -1:
            end = min(end, i)
    return rest[:end].rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """What the TLS connection a request came on tells its scripts (mod_ssl)."""

    protocol: str  # "TLSv1.3"
    cipher: str  # OpenSSL's name: "TLS_AES_256_GCM_SHA384"
    bits: int
    #: the server name the client sent (SNI), None if none
    sni: str | None = None
    resumed: bool = False
    session_id: str = ""
    #: the TLS library, as mod_ssl names it: "OpenSSL/3.0.19"
    library: str = ""


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
    #: the server takes "http.response.zerocopysend" messages (``http.cycle``
    #: ZERO_COPY): a file's bytes can go by sendfile (not over TLS)
    zero_copy: bool = False
    #: the host[:port] of an absolute-form target ("GET http://h/x"), None otherwise
    authority: str | None = None
    #: the Host value the absolute-form target's host replaced in ``headers``, if any
    replaced_host: str | None = None
    #: the connection's peer when mod_remoteip put another address in ``client_addr``
    #: (Apache's c->client_ip beside r->useragent_ip), else None
    peer_addr: str | None = None
    #: mod_remoteip's note "remoteip-proxy-ip-list": the trusted proxies passed
    proxy_ips: str | None = None
    #: the TLS connection's facts (mod_ssl's SSL_* variables); None: plain HTTP
    tls: TlsFacts | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for k, v in self.headers:
            if k == lname:
                return v
        return None

    @property
    def host_value(self) -> str | None:
        """What Apache reads the host from: an absolute-form target's authority, else
        the Host fields joined by ", " (as apr_table merges them), else None."""
        if self.authority is not None:
            return self.authority
        values = [v.strip(" \t") for k, v in self.headers if k == "host"]
        return ", ".join(values) if values else None

    @property
    def host(self) -> str:
        """The request's host name, lower-case, without port or trailing dot ("" if
        none); an IPv6 literal keeps its brackets. An invalid one (``host_refusal``)
        is cut the same way, as it was read before it was checked."""
        parsed = _parsed_host(self.host_value)
        if isinstance(parsed, HostName):
            return parsed.name
        raw = (self.host_value or "").strip().lower()
        if raw.startswith("["):
            end = raw.find("]")
            name = raw[: end + 1] if end != -1 else raw
        else:
            name = raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
        return name.rstrip(".")

    @property
    def host_notes(self) -> tuple[Note, ...]:
        """The error-log lines of an accepted host (AH02417: the Host field replaced)."""
        if self.replaced_host is None:
            return ()
        return (M.HOST_REPLACED.note(header=self.replaced_host, host=self.header("host")),)

    @property
    def host_refusal(self) -> tuple[Note, ...] | None:
        """The error-log lines of a 400 for the request's host (RFC 9112 §3.2), or None:
        an invalid host, repeated Host fields, or an HTTP/1.1 request that names none
        (an empty Host; one without any is refused before the app sees it)."""
        src = self.host_value
        parsed = _parsed_host(src)
        if isinstance(parsed, tuple):
            return parsed
        if self.http_version == "1.1" and not parsed.name:
            return (M.NO_HOSTNAME.note(uri=self.raw_path),)
        return None

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
    words = str(request_line).split(" ")
    authority = absolute_authority(words[1]) if len(words) > 2 else None
    replaced = None
    if authority is not None:
        before = headers
        headers = _replace_host(headers, authority)
        if headers is not before:
            replaced = ", ".join(v.strip(" \t") for k, v in before if k == "host")
    return Request(
        method=method,
        raw_target=raw_target,
        raw_path=raw_path,
        query=query,
        http_version=version,
        headers=headers,
        # a PROXY header's source is the client; the peer stays for %{c}a (and, as
        # with Apache 2.4.71, REMOTE_PORT)
        client_addr=str(ext.get("proxy_client") or client[0]),
        client_port=int(client[1] or 0),
        server_addr=str(server[0]),
        server_port=int(server[1] or 0) if server[1] is not None else 0,
        scheme=str(scope.get("scheme", "http")),
        request_line=str(request_line),
        raw_output=bool(ext.get("raw_output", False)),
        zero_copy=bool(ext.get("zero_copy", False)),
        authority=authority,
        replaced_host=replaced,
        peer_addr=str(client[0]) if ext.get("proxy_client") else None,
        tls=_tls_facts(ext.get("tls")),
    )


def forwarded_request(request: Request, conf: RemoteIPConf) -> Request:
    """mod_remoteip's post-read-request (remoteip_modify_request): the client named by
    ``conf.header`` when the walk (``remoteip.forwarded_client``) takes a step; the
    header left with what the walk did not take (removed when it took everything), and
    ``RemoteIPProxiesHeader`` set to the trusted proxies passed. Repeated header fields
    count as one value joined by ", ", as Apache merges them when it reads the head."""
    name = conf.header
    if name is None:
        return request
    values = [v for k, v in request.headers if k == name]
    if not values:
        return request
    found = forwarded_client(request.client_addr, ", ".join(values), conf)
    if found is None:
        return request
    headers = _set_header(request.headers, name, found.remaining)
    if found.proxy_ips is not None and conf.proxies_header is not None:
        headers = _set_header(headers, conf.proxies_header.lower(), found.proxy_ips)
    return replace(request, client_addr=found.client, headers=headers,
                   peer_addr=request.peer_addr or request.client_addr,
                   proxy_ips=found.proxy_ips)


def _set_header(headers: tuple[tuple[str, str], ...], name: str,
                value: str | None) -> tuple[tuple[str, str], ...]:
    """apr_table_setn (the first field takes ``value``, the others go; appended when
    there is none) or, with None, apr_table_unset."""
    out: list[tuple[str, str]] = []
    done = value is None
    for k, v in headers:
        if k != name:
            out.append((k, v))
        elif not done and value is not None:
            out.append((k, value))
            done = True
    if not done and value is not None:
        out.append((name, value))
    return tuple(out)


def _tls_facts(raw: Any) -> TlsFacts | None:
    if not raw:
        return None
    return TlsFacts(protocol=str(raw.get("protocol", "")), cipher=str(raw.get("cipher", "")),
                    bits=int(raw.get("bits") or 0), sni=raw.get("sni") or None,
                    resumed=bool(raw.get("resumed")),
                    session_id=str(raw.get("session_id", "")),
                    library=str(raw.get("library", "")))


_NO_HOST = HostName("", "")


@functools.lru_cache(maxsize=256)
def _parsed_host(src: str | None) -> HostName | tuple[Note, ...]:
    # the same few hosts come again and again (a bounded cache: clients choose them)
    if not src:
        return _NO_HOST  # "Host CAN be blank" (RFC 2616; fix_hostname)
    return parse_host(src)


def _replace_host(headers: tuple[tuple[str, str], ...],
                  authority: str) -> tuple[tuple[str, str], ...]:
    """ap_update_vhost_from_headers_ex: with an absolute-form target, a Host field
    takes the target's host (lower-case, its port kept) - scripts' HTTP_HOST and the
    access log's %{Host}i see that one. Without a Host field none is added."""
    if not any(k == "host" for k, _ in headers):
        return headers
    parsed = parse_host(authority) if authority else _NO_HOST
    if isinstance(parsed, tuple):
        return headers  # refused anyway (host_refusal)
    value = parsed.name + (":" + parsed.port if parsed.port else "")
    out: list[tuple[str, str]] = []
    for k, v in headers:
        if k != "host":
            out.append((k, v))
        elif not any(k2 == "host" for k2, _ in out):
            out.append((k, value))
    return tuple(out)
