"""Virtual-host selection: which <VirtualHost> answers a request. Pure.

Owns Apache's two-step choice (vhosts.html, "How the server selects the proper
name-based virtual host"; server/vhost.c):
1. by the connection's local address and port: the vhosts whose address is that exact
   IP, else those for "*" / "_default_"; a vhost's port must match unless the command
   line replaced ``Listen`` (then ports are ignored, so ``-l 127.0.0.1:0`` still serves
   a config written for ``*:80``);
2. by the ``Host`` name, case-insensitively, against ServerName then ServerAlias
   (wildcards allowed); no match → the first vhost of that address set.
No address match at all → the main server.

One extension of cgihttpd's own (docs/design.md, "Names on this machine"): when no vhost
of the set matches a Host ending in ``.localhost``, that Host without the suffix is
tried the same way, so ``cgi213.loc.localhost`` - a name browsers resolve to loopback
without a hosts-file entry (RFC 6761 section 6.3) - reaches the vhost named
``cgi213.loc``. It never overrides a match of the full name, nor the default vhost for
a name nobody has.

Must not know about HTTP parsing (the caller passes the Host name already lower-cased
and without port) nor about the filesystem.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from cgihttpd.config.model import Address, ServerConfig, VirtualHost

_ANY_HOSTS = frozenset({"*", "_default_"})


def _strip_port(name: str) -> str:
    if name.startswith("["):
        end = name.find("]")
        return name[: end + 1] if end != -1 else name
    if name.count(":") == 1:
        return name.split(":", 1)[0]
    return name


def _normal_ip(host: str) -> str:
    return host.strip("[]").lower()


def _port_ok(addr: Address, local_port: int, ignore_ports: bool) -> bool:
    return ignore_ports or addr.port is None or addr.port == local_port


def address_candidates(config: ServerConfig, local_addr: str, local_port: int,
                       names: Mapping[str, frozenset[str]] | None = None) -> list[VirtualHost]:
    """The vhosts bound to the connection's address, exact IP before wildcard.
    ``names`` maps a <VirtualHost name> to the IPs it resolved to at start-up (Apache
    resolves them once, server/vhost.c get_addresses)."""
    ip = _normal_ip(local_addr)
    ignore = config.listen_overridden

    def ips(host: str) -> frozenset[str]:
        if names is not None and host in names:
            return names[host]
        return frozenset({_normal_ip(host)})

    exact = [v for v in config.vhosts
             if any(ip in ips(a.host) and _port_ok(a, local_port, ignore)
                    for a in v.addresses)]
    if exact:
        return exact
    return [v for v in config.vhosts
            if any(a.host in _ANY_HOSTS and _port_ok(a, local_port, ignore)
                   for a in v.addresses)]


def name_matches(vhost: VirtualHost, host: str) -> bool:
    """Does ``host`` (lower-case, no port) name this vhost? Aliases may hold wildcards
    (core docs, ServerAlias)."""
    if not host:
        return False
    if _strip_port(vhost.server_name.lower()).rstrip(".") == host:
        return True
    for alias in vhost.server_aliases:
        pattern = _strip_port(alias.lower()).rstrip(".")
        if fnmatch.fnmatchcase(host, pattern):
            return True
    return False


#: the special-use domain every name under which is loopback (RFC 6761 section 6.3)
LOCALHOST_SUFFIX = ".localhost"


def localhost_fallback(host: str) -> str | None:
    """``cgi213.loc`` for ``cgi213.loc.localhost`` (lower-case, no port); None for a
    name not under ``.localhost`` and for ``localhost`` itself."""
    if not host.endswith(LOCALHOST_SUFFIX):
        return None
    rest = host[: -len(LOCALHOST_SUFFIX)].rstrip(".")
    return rest or None


def local_site_names(config: ServerConfig, port: int) -> list[str]:
    """The ServerNames a browser on this machine can reach on ``port`` as
    ``NAME.localhost`` (the start-up banner's URLs): those of the vhosts a loopback
    connection to that port chooses among, in order, without wildcards, IP literals or
    names already under ``localhost``."""
    out: list[str] = []
    for vhost in address_candidates(config, "127.0.0.1", port):
        name = _strip_port(vhost.server_name.lower()).rstrip(".")
        if (not name or name in out or any(c in name for c in "*?[:")
                or name == "localhost" or name.endswith(LOCALHOST_SUFFIX)
                or name.replace(".", "").isdigit()):
            continue
        out.append(name)
    return out


def select_vhost(config: ServerConfig, local_addr: str, local_port: int, host: str,
                 *, names: Mapping[str, frozenset[str]] | None = None) -> VirtualHost:
    candidates = address_candidates(config, local_addr, local_port, names)
    if not candidates:
        return config.main
    host = _strip_port(host.lower()).rstrip(".")
    for vhost in candidates:
        if name_matches(vhost, host):
            return vhost
    # cgihttpd's extension: NAME.localhost reaches NAME, only once the full name has
    # matched nothing (the module docstring)
    short = localhost_fallback(host)
    if short is not None:
        for vhost in candidates:
            if name_matches(vhost, short):
                return vhost
    # Apache: "If no matching ServerName or ServerAlias is found in the set of virtual
    # hosts containing the most specific matching IP address and port combination,
    # then the first listed virtual host that matches that will be used."
    return candidates[0]


def misdirected(config: ServerConfig, local_addr: str, local_port: int, sni: str | None,
                chosen: VirtualHost, *,
                names: Mapping[str, frozenset[str]] | None = None) -> bool:
    """mod_ssl's ssl_hook_ReadReq: the Host header chose ``chosen``, the handshake the
    server SNI named; a request to a server whose TLS settings differ from the
    handshake's (ssl_server_compatible) is misdirected (421)."""
    if not sni:
        return False
    handshake = select_vhost(config, local_addr, local_port, sni.lower(), names=names)
    return handshake is not chosen and handshake.tls != chosen.tls
