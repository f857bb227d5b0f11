"""mod_rewrite's directives: RewriteEngine, RewriteOptions, RewriteBase, RewriteCond,
RewriteRule. Outside any section they set the server's settings
(``ServerDraft.rewrite``, applied at URL translation) and, for RewriteEngine and
RewriteOptions, the server's per-directory defaults too (``cmd->path == NULL`` in
mod_rewrite.c); inside a section or a .htaccess the directory's (``DirConf.rewrite``,
its ``directory`` the section's path with a "/"). Parsing is ``rewrite.rules``'.

RewriteMap is refused at start-up: a rule that names a map would otherwise expand it to
its default and rewrite somewhere else than Apache does."""

from __future__ import annotations

from dataclasses import replace

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive, flag
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node
from cgihttpd.rewrite import RewriteConf, RewriteSyntaxError, parse_cond, parse_options, wire


def _dir_conf(ctx: Ctx) -> RewriteConf:
    """The section's settings, created with its directory on first use
    (config_perdir_create)."""
    conf = ctx.dir.rewrite
    if conf is None:
        assert ctx.section is not None
        path = wire(ctx.section.pattern)
        conf = RewriteConf(directory=path if path.endswith("/") else path + "/")
    return conf


def _server_conf(ctx: Ctx) -> RewriteConf:
    return ctx.server.rewrite if ctx.server.rewrite is not None else RewriteConf()


def _base_conf(ctx: Ctx) -> RewriteConf:
    return ctx.server.base.rewrite if ctx.server.base.rewrite is not None else RewriteConf()


@directive("RewriteEngine", "FLAG", "On or Off to enable or disable (default) the whole "
           "rewriting engine")
def _engine(ctx: Ctx, node: Node) -> None:
    on = flag(node)
    if ctx.section is None:
        ctx.server.rewrite = replace(_server_conf(ctx), engine=on)
        ctx.set_dir(rewrite=replace(_base_conf(ctx), engine=on))
    else:
        ctx.set_dir(rewrite=replace(_dir_conf(ctx), engine=on))


@directive("RewriteOptions", "ITERATE", "List of option strings to set")
def _options(ctx: Ctx, node: Node) -> None:
    try:
        options, warnings = parse_options(tuple(node.args))
    except RewriteSyntaxError as exc:
        raise ConfigError(str(exc)) from None
    ctx.draft.warnings.extend(f"{node.source}: {w}" for w in warnings)
    if ctx.section is None:
        server = _server_conf(ctx)
        ctx.server.rewrite = replace(server, options=(server.options or frozenset()) | options)
        base = _base_conf(ctx)
        ctx.set_dir(rewrite=replace(base, options=(base.options or frozenset()) | options))
    else:
        conf = _dir_conf(ctx)
        ctx.set_dir(rewrite=replace(conf, options=(conf.options or frozenset()) | options))


@directive("RewriteBase", "TAKE1", "the base URL of the per-directory context")
def _base(ctx: Ctx, node: Node) -> None:
    url = node.args[0]
    if ctx.section is None:
        raise ConfigError("RewriteBase: only valid in per-directory config files")
    if not url:
        raise ConfigError("RewriteBase: empty URL not allowed")
    if not url.startswith("/"):
        raise ConfigError("RewriteBase: argument is not a valid URL")
    ctx.set_dir(rewrite=replace(_dir_conf(ctx), base=wire(url)))


@directive("RewriteCond", "RAW", "an input string and a to be applied regexp-pattern")
def _cond(ctx: Ctx, node: Node) -> None:
    try:
        cond, warnings = parse_cond(node.raw, str(node.source))
    except RewriteSyntaxError as exc:
        raise ConfigError(str(exc)) from None
    ctx.draft.warnings.extend(warnings)
    if ctx.section is None:
        server = _server_conf(ctx)
        ctx.server.rewrite = replace(server, pending=server.pending + (cond,))
    else:
        conf = _dir_conf(ctx)
        ctx.set_dir(rewrite=replace(conf, pending=conf.pending + (cond,)))


@directive("RewriteRule", "RAW", "an URL-applied regexp-pattern and a substitution URL")
def _rule(ctx: Ctx, node: Node) -> None:
    try:
        if ctx.section is None:
            ctx.server.rewrite = _server_conf(ctx).with_rule(node.raw, str(node.source))
        else:
            ctx.set_dir(rewrite=_dir_conf(ctx).with_rule(node.raw, str(node.source)))
    except RewriteSyntaxError as exc:
        raise ConfigError(str(exc)) from None


@directive("RewriteMap", "TAKE23", "a mapname and a filename and options")
def _refused(ctx: Ctx, node: Node) -> None:
    raise ConfigError("RewriteMap: rewrite maps are not supported by cgihttpd yet; "
                      "refusing to start rather than rewrite without them")
