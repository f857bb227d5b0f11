"""mod_setenvif (SetEnvIf, SetEnvIfNoCase, BrowserMatch, BrowserMatchNoCase): outside
any section a line joins the server's conditions (post-read-request), inside a section
or a .htaccess the directory's (header-parser), as add_setenvif_core chooses by
cmd->path. Parsing is ``config.setenvif``'s."""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.setenvif import add_condition, parse_condition, parse_expr_condition
from cgihttpd.config.tree import Node


def _setenvif(ctx: Ctx, node: Node) -> None:
    try:
        if node.name.lower() == "setenvifexpr":
            cond = parse_expr_condition(tuple(node.args))
        else:
            cond = parse_condition(node.name, tuple(node.args))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if ctx.section is None:
        ctx.server.setenvif = add_condition(ctx.server.setenvif, cond)
    else:
        ctx.set_dir(setenvif=add_condition(ctx.dir.setenvif, cond))


directive("SetEnvIf", "RAW", "A header-name, regex and a list of variables.")(_setenvif)
directive("SetEnvIfNoCase", "RAW", "a header-name, regex and a list of variables.")(_setenvif)
directive("BrowserMatch", "RAW", "A browser regex and a list of variables.")(_setenvif)
directive("BrowserMatchNoCase", "RAW", "A browser regex and a list of variables.")(_setenvif)
directive("SetEnvIfExpr", "RAW", "an expression and a list of variables.")(_setenvif)
