"""mod_remoteip's walk (``remoteip_modify_request``): from the connection's peer address,
the value of the ``RemoteIPHeader`` and the server's proxy lists, the client address a
request is known by, the header value left over, and the trusted proxies passed.

Pure: a function of values. It owns the rules of the walk and nothing of HTTP, sockets
or the configuration's syntax (``config.directives.remoteip`` builds ``RemoteIPConf``;
``app`` applies the outcome to the request, the logs and ``Require ip``).

The walk, as mod_remoteip.c: while the address the request currently comes from (first
the peer) matches a listed proxy (any address, when no list is given), take the
rightmost element of the header; stop on an empty element or one that is not an IP
address, and - unless every proxy so far was an internal one - on a private or
non-global address (a trusted proxy on the internet cannot speak for an intranet
client). An internal proxy may present a trusted one; once a trusted (external) proxy
has spoken, an internal one behind it is treated as external. Each hop taken through a
trusted (not internal) proxy adds that proxy's address to the proxies list
(``RemoteIPProxiesHeader``). One difference, said in the README: Apache resolves an
element that is a host name (``apr_sockaddr_info_get``); cgihttpd takes only IP
literals.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cgihttpd.authz import Subnet


@dataclass(frozen=True, slots=True)
class ProxyMatch:
    """One ``RemoteIPTrustedProxy``/``RemoteIPInternalProxy`` word (apr_ipsubnet_t)."""

    subnet: Subnet
    internal: bool


@dataclass(frozen=True, slots=True)
class RemoteIPConf:
    """A server's mod_remoteip settings, merged with the main server's field by field
    (merge_remoteip_server_config). ``header`` is lower-case; ``proxies`` None means no
    list was given: every peer may present the header (as external proxies)."""

    header: str | None = None
    proxies_header: str | None = None
    proxies: tuple[ProxyMatch, ...] | None = None


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What the walk found: the client's address; the header's rest (None: the header
    is removed, as apr_table_unset); the trusted proxies passed, nearest first, joined
    by ", " (None: only internal ones)."""

    client: str
    remaining: str | None
    proxy_ips: str | None


def _is_internal_only(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The addresses an external proxy may not present (mod_remoteip.c): RFC 3330's
    local and private IPv4 networks, and any IPv6 address outside 2000::/3 (a v4-mapped
    one is checked as the IPv4 address it maps)."""
    if isinstance(ip, ipaddress.IPv4Address):
        b = ip.packed
        return (b[0] in (10, 127) or (b[0] == 169 and b[1] == 254)
                or (b[0] == 172 and b[1] & 0xF0 == 16) or (b[0] == 192 and b[1] == 168))
    return ip.packed[0] & 0xE0 != 0x20


def _match(proxies: tuple[ProxyMatch, ...], addr: str) -> ProxyMatch | None:
    for m in proxies:
        if m.subnet.contains(addr):
            return m
    return None


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def forwarded_client(peer: str, value: str, conf: RemoteIPConf) -> Forwarded | None:
    """The walk over ``value`` (the header as the request has it) from ``peer``; None
    when nothing changes (no element taken): the request keeps its peer and header."""
    remote: str | None = value
    current = peer
    internal = False
    taken: Forwarded | None = None
    proxy_ips: list[str] = []
    while remote is not None:
        if conf.proxies is not None:
            match = _match(conf.proxies, current)
            if match is None:
                break
            # an internal proxy may present an external one, never the reverse
            internal = match.internal if (taken is None or internal) else False
        head, comma, raw = remote.rpartition(",")
        rest: str | None = head if comma else None
        element = raw.strip(" ")
        ip = _parse_ip(element) if element else None
        if ip is not None and isinstance(ip, ipaddress.IPv6Address) \
                and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # APR_IPV4_ADDR_OK: "::ffff:a.b.c.d" is a.b.c.d
        if ip is None or (not internal and _is_internal_only(ip)):
            if taken is not None:
                # the element stays, as the C code leaves it: its trailing spaces cut
                # (and, alone, its leading ones), the comma restored
                kept = raw.rstrip(" ") if element else raw
                taken = Forwarded(taken.client, head + "," + kept if comma else element,
                                  taken.proxy_ips)
            break
        if not internal:
            proxy_ips.append(current)
        current = str(ip)
        remote = rest
        taken = Forwarded(current, rest, ", ".join(proxy_ips) or None)
    return taken
