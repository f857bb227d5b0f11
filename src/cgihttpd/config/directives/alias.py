"""mod_alias: Alias, ScriptAlias, AliasMatch, ScriptAliasMatch (globally, and the
one-argument form inside <Location>); Redirect, RedirectMatch, RedirectTemp and
RedirectPermanent (globally: ``VirtualHost.redirects``, checked before the aliases; in a
section or .htaccess: ``DirConf.redirects``, or ``DirConf.redirect`` for the forms
without a URL-path). What a redirect answers is ``resolve``'s business."""

from __future__ import annotations

import re
from typing import Literal

from cgihttpd.config.directives.draft import Apply, Ctx
from cgihttpd.config.directives.table import atoi, directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import Alias, ContextRedirect, Redirect
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


# --- Redirect, RedirectMatch, RedirectTemp, RedirectPermanent -------------------------

#: mod_alias add_redirect_internal: the status words of the first argument
_STATUS_WORDS = {"permanent": 301, "temp": 302, "seeother": 303, "gone": 410}
#: ap_is_url: a scheme (letters, digits, "+", "-", ".") then ":"
_URL = re.compile(r"[A-Za-z0-9+.-]+:")


def is_redirect_status(status: int) -> bool:
    """ap_is_HTTP_REDIRECT"""
    return 300 <= status < 400


def _expr_string(text: str) -> str:
    """The value of an ap_expr string (server/util_expr_scan.l, string mode) for the
    forms of it cgihttpd evaluates: literal text, backslash escapes and ``$N`` (a regex
    back-reference, empty here: the expression has no regex)."""
    if "%{" in text:
        # a variable is evaluated per request; refusing is better than redirecting to
        # the literal text
        raise ConfigError(f"Cannot parse redirect expression '{text}': cgihttpd does not "
                          "evaluate %{...} variables in Redirect")
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            m = re.match(r"[0-9]+", text[i + 1:])
            if m and re.fullmatch(r"[0-7]{1,3}", m.group()):
                if int(m.group(), 8) > 0xFF:
                    raise ConfigError(f"Cannot parse redirect expression '{text}': "
                                      "Escape sequence out of bound")
                out.append(chr(int(m.group(), 8)))
                i += 1 + len(m.group())
                continue
            if m:
                raise ConfigError(f"Cannot parse redirect expression '{text}': "
                                  "Bad escape sequence")
            nxt = text[i + 1]
            out.append({"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}.get(nxt, nxt))
            i += 2
            continue
        if c == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _redirect(default_status: int, use_regex: bool) -> Apply:
    """mod_alias add_redirect_internal (2.4.x), with its messages."""

    def apply(ctx: Ctx, node: Node) -> None:
        args = node.args
        arg1 = args[0]
        arg2 = args[1] if len(args) > 1 else None
        arg3 = args[2] if len(args) > 2 else None
        status = default_status
        # grok: 1 a redirect status, -1 another status (gone, 404...), 0 not a status
        grok = 1
        word = _STATUS_WORDS.get(arg1.lower())
        if word is not None:
            status = word
            grok = -1 if word == 410 else 1
        elif arg1[:1].isdigit():
            status = atoi(arg1)
            grok = 1 if is_redirect_status(status) else -1
        else:
            grok = 0
        if arg3 is not None and not grok:
            raise ConfigError("Redirect: invalid first argument (of three)")
        in_dir = ctx.section is not None
        # the forms without a URL-path exist inside a section only (cmd->path)
        if in_dir and ((grok > 0 and arg2 is not None and arg3 is None)
                       or (not grok and arg2 is None)):
            url = arg2 if grok else arg1
            assert url is not None
            ctx.set_dir(redirect=ContextRedirect(status, _expr_string(url), node.source))
            return
        if in_dir and grok < 0 and arg2 is None:
            ctx.set_dir(redirect=ContextRedirect(status, None, node.source))
            return
        fake, target = (arg1, arg2) if arg3 is None and not grok else (arg2, arg3)
        if use_regex:
            try:
                re.compile(fake or "")
            except re.error:
                raise ConfigError("Regular expression could not be compiled.") from None
        if is_redirect_status(status):
            if target is None:
                raise ConfigError("URL to redirect to is missing")
            # PR#35314: a path is allowed; it is made a full URL per request
            if not use_regex and not _URL.match(target) and not target.startswith("/"):
                raise ConfigError("Redirect to non-URL")
        elif target is not None:
            raise ConfigError("Redirect URL not valid for this status")
        if fake is None:
            # "Redirect gone" outside a section: Apache accepts it and its entry can
            # never match anything sensible; nothing to keep
            return
        entry = Redirect(status, fake, target, use_regex, node.source)
        if in_dir:
            ctx.set_dir(redirects=ctx.dir.redirects + (entry,))
        else:
            ctx.server.redirects.append(entry)

    return apply


directive("Redirect", "TAKE123", "an optional status, then document to be redirected and "
          "destination URL")(_redirect(302, False))
directive("RedirectMatch", "TAKE23", "an optional status, then a regular expression and "
          "destination URL")(_redirect(302, True))
directive("RedirectTemp", "TAKE2", "a document to be redirected, then the destination URL")(
    _redirect(302, False))
directive("RedirectPermanent", "TAKE2",
          "a document to be redirected, then the destination URL")(_redirect(301, False))
