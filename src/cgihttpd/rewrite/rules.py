"""mod_rewrite's configuration as values: ``RewriteCond`` and ``RewriteRule`` lines
parsed into frozen ``Cond`` and ``Rule`` objects (their regexes compiled once, here),
and ``RewriteConf``, the settings of one server or one directory with Apache's merge
(``config_server_merge``, ``config_perdir_merge``).

Owns mod_rewrite's own argument line (``parseargline``: its own quoting, not the
config lexer's), the flag field (``cmd_parseflagfield`` and the ``setflag`` tables)
with Apache's messages, and the translation of PCRE patterns to Python's ``re``
(``translate_pattern``).

Strings here are *wire* strings: the latin-1 view of the bytes (Apache matches bytes),
so "." is one byte as in PCRE without UTF mode and a pattern written in UTF-8 matches
the UTF-8 of a decoded path. Must not know requests or files (``engine`` applies the
rules) nor the config tree (``config.directives.rewrite`` calls in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from cgihttpd import messages as M

#: mod_rewrite.c REWRITE_MAX_ROUNDS: the default bound of [N]
MAX_ROUNDS = 10000

CondKind = Literal["regex", "-f", "-s", "-l", "-d", "-x", "<", ">", "<=", ">=", "=",
                   "-lt", "-le", "-gt", "-ge", "-eq"]


class RewriteSyntaxError(ValueError):
    """A RewriteCond/RewriteRule/RewriteBase/RewriteOptions line Apache refuses; the
    message is Apache's."""


def wire(text: str) -> str:
    """A str from the config or the filesystem (UTF-8, surrogateescape) as the latin-1
    view of its bytes."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def unwire(text: str) -> str:
    """The inverse of ``wire``."""
    return text.encode("latin-1").decode("utf-8", "surrogateescape")


# --- PCRE → re ----------------------------------------------------------------------------

_POSIX = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
          "lower": "a-z", "space": r" \t\n\r\f\v", "xdigit": "0-9A-Fa-f",
          "punct": r"!-/:-@\[-`{-~", "word": r"\w", "blank": r" \t", "cntrl": r"\x00-\x1f\x7f",
          "print": r"\x20-\x7e", "graph": r"\x21-\x7e"}


def translate_pattern(pattern: str) -> str:
    """A PCRE pattern as Python's ``re`` reads it the same way. What differs and is
    translated: "$" (Apache compiles with DOLLAR_ENDONLY, the default RegexDefaultOptions:
    it matches only at the very end, Python's "$" also before a final newline) becomes
    ``\\Z``; POSIX classes inside brackets ("[[:alpha:]]"), which ``re`` does not know;
    "(?<name>" named groups (``re`` wants "(?P<name>"); "\\z" (``re``: "\\Z"). Other
    PCRE-only syntax (recursion, \\K, callouts) is an error when compiled, so a rule
    ``re`` cannot read is refused at start-up, never matched differently."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            out.append("\\Z" if nxt == "z" and not in_class else c + nxt)
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2:end] if end != -1 else ""
                if name in _POSIX:
                    out.append(_POSIX[name])
                    i = end + 2
                    continue
                out.append("\\[")
                i += 1
                continue
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # a "]" (after an optional "^") right after "[" is a literal
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "$":
            out.append("\\Z")
            i += 1
            continue
        if pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str, nocase: bool) -> re.Pattern[str]:
    """``pattern`` (a wire string) compiled as Apache's ap_pregcomp would: DOTALL (the
    default RegexDefaultOptions), ASCII-only classes and case folding (PCRE without UTF);
    raises ``re.error``."""
    flags = re.DOTALL | re.ASCII | (re.IGNORECASE if nocase else 0)
    return re.compile(translate_pattern(pattern), flags)


# --- the argument line and the flags -------------------------------------------------------


def parse_arg_line(text: str) -> tuple[str, str, str | None, bool]:
    """mod_rewrite.c parseargline: the pattern (or TestString), the substitution (or
    CondPattern), the flag field or None, and whether the second argument ended in a
    literal "?" (for RewriteRule's query handling). Arguments are separated by
    whitespace, may be quoted with " or ', and "\\ " keeps a space (backslash kept).
    Errors are Apache 2.4's ("bad argument line '...'", "bad flag delimiters")."""
    pos = 0
    n = len(text)

    def word() -> tuple[str, bool]:
        nonlocal pos
        quote = text[pos] if pos < n and text[pos] in "\"'" else ""
        if quote:
            pos += 1
        start = pos
        while pos < n:
            ch = text[pos]
            if (ch.isspace() and not quote) or (quote and ch == quote):
                break
            if ch == "\\" and pos + 1 < n and text[pos + 1].isspace():
                pos += 2
                continue
            pos += 1
        value = text[start:pos]
        ended = pos >= n
        if not ended:
            pos += 1  # the separator (or the closing quote) is dropped
        return value, ended

    def skip() -> None:
        nonlocal pos
        while pos < n and text[pos].isspace():
            pos += 1

    skip()
    a1, ended = word()
    if ended:
        raise RewriteSyntaxError(f"bad argument line '{text}'")
    skip()
    a2, ended = word()
    if ended:
        return a1, a2, None, a2.endswith("?")
    skip()
    if pos >= n:
        return a1, a2, None, a2.endswith("?")
    a3, _ = word()
    # (Apache 2.4's words; later versions say more)
    if not (a3.startswith("[") and a3.endswith("]")):
        raise RewriteSyntaxError("bad flag delimiters")
    return a1, a2, a3, a2.endswith("?")


def parse_flag_field(field: str) -> list[tuple[str, str]]:
    """cmd_parseflagfield: "[A,B=c, D]" → [("A", ""), ("B", "c"), ("D", "")]."""
    body = field[1:-1] + ","
    out: list[tuple[str, str]] = []
    for item in body.split(",")[:-1]:
        item = item.strip()
        if not item:
            continue
        key, eq, val = item.partition("=")
        out.append((key, val if eq else ""))
    return out


# --- RewriteCond ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cond:
    """One RewriteCond: its TestString (expanded per request), the kind of test and
    its pattern (the regex compiled for "regex")."""

    test: str
    kind: CondKind
    pattern: str
    negate: bool = False
    nocase: bool = False
    ornext: bool = False
    novary: bool = False
    regex: re.Pattern[str] | None = None
    source: str = ""


def parse_cond(raw: str, source: str = "") -> tuple[Cond, list[str]]:
    """A RewriteCond line → the condition and any start-up warnings Apache gives."""
    try:
        a1, a2, a3, _ = parse_arg_line(wire(raw))
    except RewriteSyntaxError as exc:
        raise RewriteSyntaxError(f"RewriteCond: {exc}") from None
    warnings: list[str] = []
    nocase = ornext = novary = False
    for key, _val in parse_flag_field(a3) if a3 is not None else ():
        low = key.lower()
        if low in ("nocase", "nc"):
            nocase = True
        elif low in ("ornext", "or"):
            ornext = True
        elif low in ("novary", "nv"):
            novary = True
        else:
            raise RewriteSyntaxError(f"RewriteCond: unknown flag '{key}'")
    if a1.lower() == "expr":
        raise RewriteSyntaxError("RewriteCond: expr is not supported by cgihttpd yet")
    _check_expansions(a1, "RewriteCond")
    pattern = a2
    negate = False
    if pattern.startswith("!"):
        negate = True
        pattern = pattern[1:]
    kind: CondKind = "regex"
    if len(pattern) >= 2:
        if pattern[0] == "-":
            if len(pattern) == 2:
                letter = pattern[1]
                if letter in "fsdx":
                    kind = "-" + letter  # type: ignore[assignment]
                elif letter in "hLl":
                    kind = "-l"
                elif letter in "UF":
                    raise RewriteSyntaxError(f"RewriteCond: -{letter} (a sub-request "
                                             "lookahead) is not supported by cgihttpd yet")
            elif len(pattern) > 3:
                op = pattern[1:3]
                if op in ("lt", "le", "gt", "ge", "eq"):
                    kind = "-" + op  # type: ignore[assignment]
                    pattern = pattern[3:]
                elif op == "ne":
                    kind = "-eq"
                    negate = not negate  # "!-ne" is "-eq"
                    pattern = pattern[3:]
        elif pattern[0] in "<>":
            kind = pattern[0]  # type: ignore[assignment]
            pattern = pattern[1:]
            if pattern.startswith("="):
                kind = kind + "="  # type: ignore[assignment]
                pattern = pattern[1:]
        elif pattern[0] == "=":
            kind = "="
            pattern = pattern[1:]
            if pattern == '""':
                pattern = ""
    if kind != "regex" and kind not in ("<", ">", "<=", ">=", "=") and nocase:
        warnings.append(M.REWRITE_NOCASE_IGNORED.text(pattern=unwire(pattern),
                                                      source=source))
        nocase = False
    regex = None
    if kind == "regex":
        try:
            regex = compile_pattern(pattern, nocase)
        except re.error:
            raise RewriteSyntaxError("RewriteCond: cannot compile regular expression "
                                     f"'{unwire(pattern)}'") from None
    return Cond(a1, kind, pattern, negate, nocase, ornext, novary, regex, source), warnings


def _check_expansions(text: str, directive: str) -> None:
    """Lookaheads need sub-requests cgihttpd does not make: refused at start-up rather
    than expanded to something else."""
    upper = text.upper()
    for look in ("%{LA-U:", "%{LA-F:"):
        if look in upper:
            raise RewriteSyntaxError(f"{directive}: {look[2:6]} lookahead variables are "
                                     "not supported by cgihttpd yet")


# --- RewriteRule ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One RewriteRule with its conditions and flags (mod_rewrite.c rewriterule_entry)."""

    pattern: str
    regex: re.Pattern[str]
    output: str
    conds: tuple[Cond, ...] = ()
    negate: bool = False
    #: "-": no substitution
    nosub: bool = False
    #: forced_responsecode (302 unless [R=...], [F], [G])
    status: int = 302
    #: RULEFLAG_STATUS: the rule answers with ``status`` (F, G, R=non-3xx)
    status_only: bool = False
    redirect: bool = False
    last: bool = False
    end: bool = False
    chain: bool = False
    skip: int = 0
    next_round: bool = False
    max_rounds: int = MAX_ROUNDS
    qsappend: bool = False
    qsdiscard: bool = False
    qslast: bool = False
    #: a literal "?" ends the substitution: no query string
    qsnone: bool = False
    noescape: bool = False
    nosubreq: bool = False
    passthrough: bool = False
    proxy: bool = False
    discard_path_info: bool = False
    unc: bool = False
    unsafe_prefix_stat: bool = False
    unsafe_allow_3f: bool = False
    escape_backrefs: bool = False
    escapes: str | None = None
    noescapes: str | None = None
    escape_noplus: bool = False
    escape_ctls: bool = False
    nocase: bool = False
    #: [E=...] as written, expanded per request
    env: tuple[str, ...] = ()
    mimetype: str | None = None
    handler: str | None = None
    source: str = ""


def _status_for(val: str) -> int:
    low = val.lower()
    if low == "permanent":
        return 301
    if low == "temp":
        return 302
    if low == "seeother":
        return 303
    if val[:1].isdigit():
        m = re.match(r"\d+", val)
        status = int(m.group()) if m else 0
        # ap_index_of_response: a code Apache has no reason phrase for
        if status != 500 and not (100 <= status <= 599 and status in _KNOWN_STATUSES):
            raise RewriteSyntaxError(f"RewriteRule: invalid HTTP response code '{val}' "
                                     "for flag 'R'")
        return status
    return 0


#: the status codes Apache knows (http_protocol.c status_lines)
_KNOWN_STATUSES = frozenset({
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302,
    303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
    412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
    500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511})


def _rule_flags(flags: list[tuple[str, str]]) -> dict[str, object]:
    """cmd_rewriterule_setflag: the flag field → Rule's fields."""
    out: dict[str, object] = {}
    env: list[str] = []
    for key, val in flags:
        low = key.lower()
        head, rest = low[:1], low[1:]
        if head == "b" and rest in ("", "ackrefescaping"):
            out["escape_backrefs"] = True
            if val:
                out["escapes"] = val
        elif low == "bne":
            if not val:
                raise RewriteSyntaxError("RewriteRule: flag 'BNE' wants a list of "
                                         "characters (i.e. [BNE=...])")
            out["noescapes"] = val
        elif low in ("bnp", "backrefernoplus"):
            out["escape_noplus"] = True
        elif low == "bctls":
            out["escape_ctls"] = True
            out["escape_backrefs"] = True
        elif head == "c" and rest in ("", "hain"):
            out["chain"] = True
        elif head == "c" and rest in ("o", "ookie"):
            raise RewriteSyntaxError("RewriteRule: flag 'CO' (cookie) is not supported by "
                                     "cgihttpd yet")
        elif head == "d" and rest in ("", "pi", "iscardpath"):
            out["discard_path_info"] = True
        elif head == "d":
            pass  # Apache ignores any other D... flag silently
        elif head == "e" and rest in ("", "nv"):
            env.append(val)
        elif low == "end":
            out["end"] = True
        elif head == "f" and rest in ("", "orbidden"):
            out["status"], out["status_only"], out["nosub"] = 403, True, True
        elif head == "g" and rest in ("", "one"):
            out["status"], out["status_only"], out["nosub"] = 410, True, True
        elif head == "h" and rest in ("", "andler"):
            out["handler"] = val
        elif head == "l" and rest in ("", "ast"):
            out["last"] = True
        elif low in ("ne", "noescape"):
            out["noescape"] = True
        elif head == "n" and rest in ("", "ext"):
            out["next_round"] = True
            if val:
                m = re.match(r"\s*[+-]?\d+", val)
                out["max_rounds"] = int(m.group()) if m else 0
        elif low in ("ns", "nosubreq"):
            out["nosubreq"] = True
        elif low in ("nc", "nocase"):
            out["nocase"] = True
        elif head == "p" and rest in ("", "roxy"):
            out["proxy"] = True
        elif low in ("pt", "passthrough"):
            out["passthrough"] = True
        elif low in ("qsa", "qsappend"):
            out["qsappend"] = True
        elif low in ("qsd", "qsdiscard"):
            out["qsdiscard"] = True
        elif low in ("qsl", "qslast"):
            out["qslast"] = True
        elif head == "r" and rest in ("", "edirect"):
            out["redirect"] = True
            if val:
                status = _status_for(val)
                out["status"] = status
                if status and not 300 <= status < 400:
                    out["status_only"], out["nosub"] = True, True
        elif head == "s" and rest in ("", "kip"):
            m = re.match(r"\s*[+-]?\d+", val)
            out["skip"] = int(m.group()) if m else 0
        elif head == "t" and rest in ("", "ype"):
            out["mimetype"] = val
        elif low == "unsafeprefixstat":
            out["unsafe_prefix_stat"] = True
        elif low == "unsafeallow3f":
            out["unsafe_allow_3f"] = True
        elif low == "unc":
            out["unc"] = True
        else:
            raise RewriteSyntaxError(f"RewriteRule: unknown flag '{key}'")
    if env:
        out["env"] = tuple(env)
    return out


def parse_rule(raw: str, conds: tuple[Cond, ...] = (), source: str = "") -> Rule:
    """A RewriteRule line (with the RewriteConds written before it) → the rule."""
    try:
        a1, a2, a3, qmark = parse_arg_line(wire(raw))
    except RewriteSyntaxError as exc:
        raise RewriteSyntaxError(f"RewriteRule: {exc}") from None
    fields = _rule_flags(parse_flag_field(a3)) if a3 is not None else {}
    _check_expansions(a2, "RewriteRule")
    pattern = a1
    negate = pattern.startswith("!")
    if negate:
        pattern = pattern[1:]
    try:
        regex = compile_pattern(pattern, bool(fields.get("nocase")))
    except re.error:
        raise RewriteSyntaxError("RewriteRule: cannot compile regular expression "
                                 f"'{unwire(pattern)}'") from None
    output = a2
    if output == "-":
        fields["nosub"] = True
    if qmark:
        if fields.get("qsappend"):
            fields["qslast"] = True  # splitout_queryargs takes the last "?"
        else:
            fields["qsnone"] = True
            output = output[:-1]
    elif fields.get("qsdiscard") and "?" not in output:
        fields["qsnone"] = True
    return Rule(pattern=pattern, regex=regex, output=output, conds=conds, negate=negate,
                source=source, **fields)  # type: ignore[arg-type]


# --- RewriteOptions -------------------------------------------------------------------------

_OPTIONS = {"inherit": "Inherit", "inheritbefore": "InheritBefore",
            "inheritdown": "InheritDown", "inheritdownbefore": "InheritDownBefore",
            "ignoreinherit": "IgnoreInherit", "allownoslash": "AllowNoSlash",
            "allowanyuri": "AllowAnyURI", "mergebase": "MergeBase",
            "ignorecontextinfo": "IgnoreContextInfo",
            "legacyprefixdocroot": "LegacyPrefixDocRoot",
            "longurloptimization": "LongURLOptimization",
            "unsafeprefixstat": "UnsafePrefixStat"}


def parse_options(words: tuple[str, ...]) -> tuple[frozenset[str], list[str]]:
    """cmd_rewriteoptions: the options named, and the warnings Apache logs."""
    found: set[str] = set()
    warnings: list[str] = []
    for w in words:
        name = _OPTIONS.get(w.lower())
        if name is not None:
            found.add(name)
        elif w.lower().startswith("maxredirects="):
            warnings.append(M.REWRITE_MAX_REDIRECTS.text())
        else:
            raise RewriteSyntaxError(f"RewriteOptions: unknown option '{w}'")
    return frozenset(found), warnings


# --- one server's or one directory's settings -----------------------------------------------


@dataclass(frozen=True, slots=True)
class RewriteConf:
    """mod_rewrite's settings where they are written: a server (its rules apply at
    URL translation) or a directory (``directory`` set: <Directory>, .htaccess; its
    rules apply in the fixups). ``None``: not set here."""

    engine: bool | None = None
    options: frozenset[str] | None = None
    #: RewriteBase (a directory's only)
    base: str | None = None
    #: the per-directory prefix, ending in "/" (a wire string); None for a server
    directory: str | None = None
    rules: tuple[Rule, ...] = ()
    #: RewriteConds read and waiting for their RewriteRule (while reading only)
    pending: tuple[Cond, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.engine)

    def has(self, option: str) -> bool:
        return self.options is not None and option in self.options

    def with_rule(self, raw: str, source: str = "") -> RewriteConf:
        rule = parse_rule(raw, self.pending, source)
        return replace(self, rules=self.rules + (rule,), pending=())

    def merge(self, over: RewriteConf) -> RewriteConf:
        """config_perdir_merge (and config_server_merge, with ``directory`` None):
        ``over`` written in a more specific place than ``self``."""
        engine = self.engine if over.engine is None else over.engine
        options = self.options if over.options is None else over.options
        opts = options or frozenset()
        base_opts = self.options or frozenset()
        if "MergeBase" in opts:
            base = self.base if over.base is None else over.base
        else:
            base = over.base
        if "Inherit" in opts or ("InheritDown" in base_opts and "IgnoreInherit" not in opts):
            rules = over.rules + self.rules
        elif "InheritBefore" in opts or ("InheritDownBefore" in base_opts
                                         and "IgnoreInherit" not in opts):
            rules = self.rules + over.rules
        else:
            rules = over.rules
        return RewriteConf(engine=engine, options=options, base=base,
                           directory=over.directory, rules=rules)
