"""The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a
balancer sends before the HTTP bytes of a connection, as mod_remoteip's
``RemoteIPProxyProtocol On`` reads it; and ``ProxyProtocolRule``, which connections must
start with one.

Sans-IO: ``read_proxy_header(buffer)`` takes the bytes received so far and says whether
more are needed, what the header gave, or that the connection must be refused. It knows
nothing of sockets or of the configuration's shape (``server.http_settings`` builds the
rule). What Apache 2.4.71 does, checked with a raw socket: the header's source address
becomes the request's client (REMOTE_ADDR, ``%a``, ``Require ip``; ``%{c}a`` and
REMOTE_PORT keep the connection's peer); a connection without a valid header is closed
without an answer; ``LOCAL`` (v2) keeps the peer.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Protocol

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_PREFIX = b"PROXY "
#: proxy-protocol.txt 2.1: "a receiver may reject an incomplete line which does not
#: contain the CRLF sequence in the first 107 characters"
V1_MAX = 107
V2_HEAD = 16


class ProxyHeaderError(ValueError):
    """Not a valid PROXY header: the connection is closed."""


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    """A complete header: ``length`` bytes to drop, and the source it names (None: the
    peer stands, for ``UNKNOWN`` and ``LOCAL``)."""

    length: int
    source: tuple[str, int] | None


def _v1(buffer: bytes) -> ProxyHeader | None:
    end = buffer.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(buffer) >= V1_MAX:
            raise ProxyHeaderError("no CRLF in the first 107 bytes of a v1 header")
        return None
    words = buffer[len(V1_PREFIX):end].decode("ascii", "replace").split(" ")
    if words[0] == "UNKNOWN":
        return ProxyHeader(end + 2, None)
    if len(words) != 5 or words[0] not in ("TCP4", "TCP6"):
        raise ProxyHeaderError(f"malformed v1 header {words!r}")
    family = ipaddress.IPv4Address if words[0] == "TCP4" else ipaddress.IPv6Address
    try:
        src = family(words[1])
        family(words[2])
        sport, dport = int(words[3]), int(words[4])
    except ValueError:
        raise ProxyHeaderError(f"malformed v1 header {words!r}") from None
    if not (0 <= sport <= 65535 and 0 <= dport <= 65535) or not words[3].isdigit():
        raise ProxyHeaderError(f"bad port in v1 header {words!r}")
    return ProxyHeader(end + 2, (str(src), sport))


def _v2(buffer: bytes) -> ProxyHeader | None:
    if len(buffer) < V2_HEAD:
        return None
    ver_cmd, fam, length = struct.unpack("!BBH", buffer[12:16])
    if ver_cmd >> 4 != 2:
        raise ProxyHeaderError(f"unsupported version {ver_cmd >> 4}")
    total = V2_HEAD + length
    if len(buffer) < total:
        return None
    command = ver_cmd & 0x0F
    if command == 0:  # LOCAL: the balancer's own connection (a health check)
        return ProxyHeader(total, None)
    if command != 1:
        raise ProxyHeaderError(f"unsupported command {command}")
    body = buffer[V2_HEAD:total]
    if fam >> 4 == 1 and length >= 12:  # AF_INET
        return ProxyHeader(total, (str(ipaddress.IPv4Address(body[:4])),
                                   struct.unpack("!H", body[8:10])[0]))
    if fam >> 4 == 2 and length >= 36:  # AF_INET6
        return ProxyHeader(total, (str(ipaddress.IPv6Address(body[:16])),
                                   struct.unpack("!H", body[32:34])[0]))
    raise ProxyHeaderError(f"unsupported protocol {fam:#04x}")


def read_proxy_header(buffer: bytes) -> ProxyHeader | None:
    """The header at the start of ``buffer``, or None if more bytes are needed. Raises
    ``ProxyHeaderError`` when the bytes cannot start a valid header."""
    n = min(len(buffer), len(V2_SIGNATURE))
    if buffer[:n] == V2_SIGNATURE[:n]:
        return _v2(buffer) if n == len(V2_SIGNATURE) else None
    n = min(len(buffer), len(V1_PREFIX))
    if buffer[:n] == V1_PREFIX[:n]:
        return _v1(buffer) if n == len(V1_PREFIX) else None
    raise ProxyHeaderError("no PROXY header")


class AddressSet(Protocol):
    def contains(self, addr: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ProxyProtocolRule:
    """Which connections must start with a PROXY header (RemoteIPProxyProtocol On):
    every one (``ports`` None: the main server's), or those to ``ports`` (the virtual
    hosts that turned it on), but from a peer in ``exceptions``
    (RemoteIPProxyProtocolExceptions)."""

    ports: frozenset[int] | None = None
    exceptions: tuple[AddressSet, ...] = ()

    def required(self, local_port: int, peer: str) -> bool:
        if self.ports is not None and local_port not in self.ports:
            return False
        return not any(e.contains(peer) for e in self.exceptions)
