"""mod_access_compat: ``Order``, ``Allow from``, ``Deny from``, ``Satisfy`` (the 2.2
forms XAMPP's httpd.conf still carries), with mod_access_compat.c's messages. Each
directive keeps the methods of the ``<Limit>`` around it. What they decide is
``authz.allowed_by_host`` and ``authz.decide``."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from cgihttpd.authz import AccessCompat, HostMatch, Order, SubnetError, parse_subnet
from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node


def _conf(ctx: Ctx) -> AccessCompat:
    # a section holding any of these directives gets a config of its own, which
    # replaces the inherited one whole (mod_access_compat has no merge function)
    return ctx.dir.access_compat or AccessCompat()


@directive("order", "TAKE1", "'allow,deny', 'deny,allow', or 'mutual-failure'")
def _order(ctx: Ctx, node: Node) -> None:
    value = node.args[0].lower()
    if value not in ("allow,deny", "deny,allow", "mutual-failure"):
        raise ConfigError("unknown order")
    order: Order = value  # type: ignore[assignment]
    conf = _conf(ctx)
    ctx.set_dir(access_compat=replace(conf, orders=conf.orders + ((ctx.limited, order),)))


def parse_host_match(word: str, ctx: Ctx) -> HostMatch:
    """One word after ``from`` (mod_access_compat.c ``allow_cmd``)."""
    if word[:5].lower() == "env=!":
        return HostMatch("nenv", word[5:], limited=ctx.limited)
    if word[:4].lower() == "env=":
        return HostMatch("env", word[4:], limited=ctx.limited)
    if word.lower() == "all":
        return HostMatch("all", limited=ctx.limited)
    addr, slash, mask = word.partition("/")
    try:
        subnet = parse_subnet(addr, mask if slash else None)
    except SubnetError as exc:
        if exc.kind != "EINVAL":
            raise ConfigError(exc.strerror) from None
        if slash:
            raise ConfigError("An IP address was expected") from None
        # "no slash, didn't look like an IP address => must be a host"
        return HostMatch("host", word, limited=ctx.limited)
    return HostMatch("ip", word, subnet, ctx.limited)


def _allow_deny(allow: bool) -> None:
    def apply(ctx: Ctx, node: Node) -> None:
        if node.args[0].lower() != "from":
            raise ConfigError("allow and deny must be followed by 'from'")
        matches = tuple(parse_host_match(w, ctx) for w in node.args[1:])
        conf = _conf(ctx)
        if allow:
            conf = replace(conf, allows=conf.allows + matches)
        else:
            conf = replace(conf, denys=conf.denys + matches)
        ctx.set_dir(access_compat=conf)

    directive("allow" if allow else "deny", "ITERATE2",
              "'from' followed by hostnames or IP-address wildcards")(apply)


_allow_deny(True)
_allow_deny(False)


@directive("Satisfy", "TAKE1", "access policy if both allow and require used ('all' or "
           "'any')")
def _satisfy(ctx: Ctx, node: Node) -> None:
    value = node.args[0].lower()
    if value not in ("all", "any"):
        raise ConfigError("Satisfy either 'any' or 'all'.")
    satisfy: Literal["all", "any"] = value  # type: ignore[assignment]
    conf = _conf(ctx)
    ctx.set_dir(access_compat=replace(conf, satisfies=conf.satisfies + ((ctx.limited, satisfy),)))
