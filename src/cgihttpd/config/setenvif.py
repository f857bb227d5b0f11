"""mod_setenvif's conditions as configured: ``SetEnvIf``, ``SetEnvIfNoCase``,
``BrowserMatch``, ``BrowserMatchNoCase``, ``SetEnvIfExpr`` lines → ``EnvCondition``
values
(modules/metadata/mod_setenvif.c ``add_setenvif_core``).

It owns the parsing: which attribute a line tests (a special one, a header or earlier
variable, or a regex over header names), whether its pattern is a plain string or a
regex, and its variable changes. Evaluating them against a request is
``cgihttpd.setenvif``'s; this module knows nothing of requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from cgihttpd.expr import Expr, ExprError, parse_expr

#: the attributes mod_setenvif reads from the request itself (SPECIAL_*), lower-case
SPECIALS: frozenset[str] = frozenset({
    "remote_addr", "remote_host", "request_uri", "request_method", "request_protocol",
    "server_addr",
})

#: Value that marks a variable to unset (``!name``, stored as Apache stores it)
UNSET = "!"

_PLAIN_HEADER = re.compile(r"[-A-Za-z0-9_]*")
_REGEX_CHARS = frozenset("^.$|()[]*+?{}")


@dataclass(frozen=True, slots=True)
class EnvCondition:
    """One conditional: when ``attribute``'s value matches, apply ``features``."""

    #: the attribute as written (a header, variable, special name or name regex)
    attribute: str
    #: the pattern as written
    regex: str
    icase: bool
    #: (name, value) in order, one per name (case-insensitive, as apr tables): value
    #: ``UNSET`` unsets; values of a regex pattern take ``$0``..``$9``
    features: tuple[tuple[str, str], ...]

    #: the pattern compiled (re.search), None for a plain one (``literal``)
    pattern: re.Pattern[str] | None = None
    #: is_header_regex: an attribute with characters other than ``-_A-Za-z0-9`` (and
    #: not a special one) is a regex over the request's header names
    name_regex: re.Pattern[str] | None = None
    #: non_regex_pattern: the pattern as a plain substring (escapes removed) when it
    #: has no regex syntax, else None. Such a pattern's values are not substituted.
    literal: str | None = None
    #: SetEnvIfExpr: the expression (``attribute`` and ``regex`` are then "")
    expr: Expr | None = None

    @property
    def special(self) -> str | None:
        """The special attribute (lower-case) this tests, or None."""
        low = self.attribute.lower()
        return low if low in SPECIALS else None


def literal_pattern(s: str) -> str | None:
    """mod_setenvif.c ``non_regex_pattern``."""
    out: list[str] = []
    escape = False
    for c in s:
        if c in _REGEX_CHARS:
            if not escape:
                return None
            escape = False
            out.append(c)
        elif c == "\\":
            if escape:
                out.append(c)
            escape = not escape
        else:
            if escape:
                return None
            out.append(c)
    return "".join(out)


def _compile(regex: str, icase: bool) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE if icase else 0)


def parse_condition(directive: str, args: tuple[str, ...]) -> EnvCondition:
    """One SetEnvIf/SetEnvIfNoCase/BrowserMatch/BrowserMatchNoCase line's arguments
    (the ``RAW_ARGS`` words) → its condition; ValueError with Apache's message (the
    directive makes it a ConfigError: ``model`` imports this module)."""
    low = directive.lower()
    icase = low.endswith("nocase")
    words = list(args)
    if low.startswith("browsermatch"):
        attribute = "User-Agent"
    else:
        if not words:
            raise ValueError(f"Missing header-field name for {directive}")
        attribute = words.pop(0)
    if not words or not words[0]:
        raise ValueError(f"Missing regular expression for {directive}")
    regex = words.pop(0)
    pattern = names = None
    literal = literal_pattern(regex)
    if literal is None:
        try:
            pattern = _compile(regex, icase)
        except re.error:
            raise ValueError(f"{directive} regex could not be compiled.") from None
    if attribute.lower() not in SPECIALS and not _PLAIN_HEADER.fullmatch(attribute):
        try:
            names = _compile(attribute, icase)
        except re.error:
            raise ValueError(f"{directive}Header name regex could not be compiled.") from None
    if not words:
        raise ValueError(f"Missing envariable expression for {directive}")
    return EnvCondition(attribute, regex, icase, _features((), words), pattern, names,
                        literal)


def parse_expr_condition(args: tuple[str, ...]) -> EnvCondition:
    """One SetEnvIfExpr line's arguments (add_setenvifexpr): the expression, then the
    variables as SetEnvIf's; ValueError with Apache's message."""
    if not args or not args[0]:
        raise ValueError("Missing expression for SetEnvIfExpr")
    try:
        expr = parse_expr(args[0])
    except ExprError as exc:
        raise ValueError(f"Could not parse expression \"{args[0]}\": {exc}") from None
    if len(args) < 2:
        raise ValueError("Missing envariable expression for SetEnvIfExpr")
    if any(re.search(r"\$\d", word) for word in args[1:]):
        # ap_expr_exec_re's captures are not kept by cgihttpd's evaluator
        raise ValueError("SetEnvIfExpr: $0..$9 in a value is not supported by cgihttpd")
    return EnvCondition("", "", False, _features((), list(args[1:])), expr=expr)


def _features(start: tuple[tuple[str, str], ...],
              words: list[str]) -> tuple[tuple[str, str], ...]:
    feats = list(start)
    for word in words:
        var, eq, value = word.partition("=")
        if eq and value:
            pair = (var, value)
        elif var.startswith("!"):
            pair = (var[1:], UNSET)
        else:
            pair = (var, "1")
        # apr_table_setn: a name already there keeps its place and takes the value
        for i, (name, _) in enumerate(feats):
            if name.lower() == pair[0].lower():
                feats[i] = (name, pair[1])
                break
        else:
            feats.append(pair)
    return tuple(feats)


def add_condition(conds: tuple[EnvCondition, ...],
                  new: EnvCondition) -> tuple[EnvCondition, ...]:
    """``conds`` with ``new`` appended, or merged into the last one when that tests the
    same attribute with the same pattern and case rule (add_setenvif_core)."""
    if conds and new.expr is None and conds[-1].expr is None:
        last = conds[-1]
        if (last.attribute.lower() == new.attribute.lower() and last.icase == new.icase
                and last.regex == new.regex):
            words = [f"{n}={v}" if v != UNSET else f"!{n}" for n, v in new.features]
            merged = replace(last, features=_features(last.features, words))
            return conds[:-1] + (merged,)
    return conds + (new,)
