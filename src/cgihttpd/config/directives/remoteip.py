"""mod_remoteip's directives: ``RemoteIPHeader``, ``RemoteIPProxiesHeader``,
``RemoteIPTrustedProxy``/``RemoteIPInternalProxy`` (and their ``*List`` file variants,
read by ``loader``), ``RemoteIPProxyProtocol`` and ``RemoteIPProxyProtocolExceptions``,
with mod_remoteip.c's messages. Each is per server (RSRC_CONF); ``loader`` merges a
virtual host's over the main server's field by field. The walk itself is
``remoteip``'s; the PROXY header is ``http.proxyproto``'s."""

from __future__ import annotations

from cgihttpd.authz import Subnet, SubnetError, parse_subnet
from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive, flag
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node
from cgihttpd.remoteip import ProxyMatch


def parse_proxy_word(word: str, directive_name: str) -> Subnet:
    """One proxy: an address, a CIDR or an address/netmask (proxies_set). Apache
    resolves a host name there; cgihttpd refuses it (no DNS at start-up)."""
    addr, slash, mask = word.partition("/")
    try:
        return parse_subnet(addr, mask if slash else None)
    except SubnetError as exc:
        if exc.kind == "EINVAL":
            if slash:
                raise ConfigError(f"RemoteIP: Error parsing IP {word} the subnet /{mask} "
                                  f"is invalid for {directive_name}") from None
            raise ConfigError(f"RemoteIP: Error parsing IP {word} (cgihttpd takes IP "
                              f"addresses only, not host names) for "
                              f"{directive_name}") from None
        raise ConfigError(f"RemoteIP: Error parsing IP {word} ({exc.strerror} error) "
                          f"for {directive_name}") from None


@directive("RemoteIPHeader", "TAKE1", "Specifies a request header to trust as the client "
           "IP, e.g. X-Forwarded-For")
def _header(ctx: Ctx, node: Node) -> None:
    ctx.server.remoteip_header = node.args[0].lower()


@directive("RemoteIPProxiesHeader", "TAKE1", "Specifies a request header to record proxy "
           "IP's, e.g. X-Forwarded-By; if not given then do not record")
def _proxies_header(ctx: Ctx, node: Node) -> None:
    ctx.server.remoteip_proxies_header = node.args[0]


def _proxies(ctx: Ctx, node: Node) -> None:
    internal = node.name.lower() == "remoteipinternalproxy"
    name = "RemoteIPInternalProxy" if internal else "RemoteIPTrustedProxy"
    found = [ProxyMatch(parse_proxy_word(w, name), internal) for w in node.args]
    ctx.server.remoteip_proxies = (ctx.server.remoteip_proxies or ()) + tuple(found)


directive("RemoteIPTrustedProxy", "ITERATE", "Specifies one or more proxies which are "
          "trusted to present IP headers")(_proxies)
directive("RemoteIPInternalProxy", "ITERATE", "Specifies one or more internal "
          "(transparent) proxies which are trusted to present IP headers")(_proxies)


def _proxy_list(ctx: Ctx, node: Node) -> None:
    # the file is read by loader (the only reader), in this directive's place in order
    internal = node.name.lower() == "remoteipinternalproxylist"
    ctx.server.remoteip_list_files.append((ctx.root(node.args[0]), internal, node.source))
    ctx.server.remoteip_proxies = ctx.server.remoteip_proxies or ()


directive("RemoteIPTrustedProxyList", "TAKE1", "The filename to read the list of trusted "
          "proxies, see the RemoteIPTrustedProxy directive")(_proxy_list)
directive("RemoteIPInternalProxyList", "TAKE1", "The filename to read the list of "
          "internal proxies, see the RemoteIPInternalProxy directive")(_proxy_list)


@directive("RemoteIPProxyProtocol", "FLAG", "Enable PROXY protocol handling (`on', `off')")
def _proxy_protocol(ctx: Ctx, node: Node) -> None:
    ctx.server.proxy_protocol = flag(node)


@directive("RemoteIPProxyProtocolExceptions", "ITERATE", "Disable PROXY protocol handling "
           "for this list of networks in host or CIDR format")
def _proxy_protocol_exceptions(ctx: Ctx, node: Node) -> None:
    subnets = tuple(parse_proxy_word(w, "RemoteIPProxyProtocolExceptions")
                    for w in node.args)
    ctx.server.proxy_protocol_exceptions += subnets
