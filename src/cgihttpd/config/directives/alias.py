"""mod_alias: Alias, ScriptAlias, AliasMatch, ScriptAliasMatch (globally, and the
one-argument form inside <Location>)."""

from __future__ import annotations

import re
from typing import Literal

from cgihttpd.config.directives.draft import Apply, Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import Alias
from cgihttpd.config.tree import Node


def _alias(kind: Literal["alias", "scriptalias", "aliasmatch", "scriptaliasmatch"]) -> Apply:
    def apply(ctx: Ctx, node: Node) -> None:
        args = node.args
        if ctx.section is not None:
            # mod_alias add_alias_internal (wording from apache2 -t)
            if len(args) != 1:
                raise ConfigError(f"{node.name} cannot occur within directory context")
            if ctx.section.kind != "location":
                raise ConfigError(f"{node.name} cannot occur within {ctx.parent} section")
            ctx.server.aliases.append(Alias(kind, ctx.section.pattern, args[0], node.source))
            return
        if len(args) != 2:
            raise ConfigError(f"{node.name} must have two arguments when used globally")
        url, path = args
        if kind.endswith("match"):
            try:
                re.compile(url)
            except re.error:
                raise ConfigError("Regular expression could not be compiled.") from None
        ctx.server.aliases.append(Alias(kind, url, path, node.source))

    return apply


directive("Alias", "TAKE12", "a fakename and a realname, or a realname in a Location")(
    _alias("alias"))
directive("ScriptAlias", "TAKE12", "a fakename and a realname, or a realname in a Location")(
    _alias("scriptalias"))
directive("AliasMatch", "TAKE2", "a regular expression and a filename")(_alias("aliasmatch"))
directive("ScriptAliasMatch", "TAKE2", "a regular expression and a filename")(
    _alias("scriptaliasmatch"))
