"""mod_headers (Header, RequestHeader): each line becomes a ``headers.HeaderAction``
on the per-directory settings of where it is written (server, vhost, section,
.htaccess with FileInfo), merged by appending as merge_headers_config does. Parsing and
the messages are ``headers.parse_action``'s."""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node
from cgihttpd.headers import HeaderError, parse_action


@directive("Header", "RAW", "an optional condition, an action, header and value followed "
           "by optional env clause")
def _header(ctx: Ctx, node: Node) -> None:
    try:
        action = parse_action("Header", node.args)
    except HeaderError as exc:
        raise ConfigError(str(exc)) from None
    ctx.set_dir(headers=ctx.dir.headers + (action,))


@directive("RequestHeader", "RAW", "an action, header and value followed by optional env "
           "clause")
def _request_header(ctx: Ctx, node: Node) -> None:
    try:
        action = parse_action("RequestHeader", node.args)
    except HeaderError as exc:
        raise ConfigError(str(exc)) from None
    ctx.set_dir(request_headers=ctx.dir.request_headers + (action,))
