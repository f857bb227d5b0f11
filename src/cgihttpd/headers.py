"""mod_headers: ``Header`` and ``RequestHeader`` as actions built at configuration time
and applied by pure functions over a header list (modules/metadata/mod_headers.c).

Owns parsing one directive's arguments into a ``HeaderAction`` (``parse_action``, with
mod_headers' own messages), the value's format specifiers (``%t``, ``%D``, ``%{VAR}e``,
``%{VAR}s``, ``%%``), and ``apply_actions``: set, setifempty, append, merge, add,
unset, echo, edit, edit* and note (into the notes the facts carry) on a list of ``(name, value)`` pairs with apr_table's
rules (names compared without case; ``set`` keeps the first field's place and drops
the others; ``append`` joins to the first). ``response_headers`` puts a response back
together as Apache's two tables make it: ``always`` actions on r->err_headers_out, the
others on r->headers_out, and for a page the server makes itself (ap_send_error_response)
only the ``always`` ones, on an empty table.

Must not know where the headers come from or go to (the app applies the actions), nor
how an expression is parsed (``expr``). Pure: no IO.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cgihttpd.authz import Facts
from cgihttpd.expr import Expr, ExprError, parse_expr

Table = Literal["onsuccess", "always", "request"]
ActionKind = Literal["set", "setifempty", "append", "merge", "add", "unset", "echo",
                     "edit", "edit*", "note"]
Pairs = list[tuple[str, str]]

#: the script's fields Apache takes out of the header block instead of merging them
#: into r->err_headers_out (util_script.c ap_scan_script_header_err_core_ex): they
#: are r->headers_out or request fields, the rest is err_headers_out
CGI_OUT_FIELDS = frozenset({"content-type", "location", "content-length",
                            "last-modified", "status", "transfer-encoding"})


class HeaderError(ValueError):
    """A Header/RequestHeader line mod_headers refuses (its message)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of a value: literal text, or a tag (``t``, ``D``, ``e``, ``s``) and
    its ``{argument}``."""

    tag: str  # "" for literal text
    text: str


@dataclass(frozen=True, slots=True)
class HeaderAction:
    """One Header or RequestHeader line."""

    table: Table
    kind: ActionKind
    #: the field's name (``echo``: the regex its names are matched with)
    name: str
    value: tuple[Piece, ...] = ()
    #: edit/edit*: the regex and its replacement ($0-$9); echo: the name regex
    pattern: re.Pattern[str] | None = None
    replacement: str = ""
    #: env=NAME (``negate`` for env=!NAME); or expr=
    env: str | None = None
    negate: bool = False
    expr: Expr | None = None
    #: ``early``: accepted; applied with the others (cgihttpd runs no early phase)
    early: bool = False


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What the actions look at: the request's environment (r->subprocess_env), its
    start time and now (seconds), the request's fields (``echo``) and the expression
    facts (built only when an action has an ``expr=``)."""

    env: Mapping[str, str]
    request_time: float
    now: float
    request_headers: Sequence[tuple[str, str]] = ()
    expr_facts: Callable[[], Facts] | None = None
    #: r->notes, where ``note`` copies a field (the access log's %{NAME}n); None:
    #: nowhere to put it
    notes: MutableMapping[str, str] | None = None


# --- parsing ----------------------------------------------------------------------------

_KINDS: dict[str, ActionKind] = {k: k for k in (  # type: ignore[misc]
    "set", "setifempty", "append", "merge", "add", "unset", "echo", "edit", "edit*",
    "note")}
_TAG = re.compile(r"%(?:\{([^}]*)\})?(.)?", re.DOTALL)


def parse_action(directive: str, args: Sequence[str]) -> HeaderAction:
    """``Header [always|onsuccess] action name [value] [replacement] [condition]`` or
    ``RequestHeader action name [value] [replacement] [condition]``
    (header_cmd/header_inout_cmd), or raise HeaderError with Apache's message."""
    words = list(args)
    request = directive.lower() == "requestheader"
    table: Table = "request" if request else "onsuccess"
    if not words:
        raise HeaderError(f"{directive} requires three arguments")
    if not request and words[0].lower() in ("always", "onsuccess"):
        table = "always" if words.pop(0).lower() == "always" else "onsuccess"
    action = words.pop(0) if words else ""
    name = words.pop(0) if words else ""
    value = words.pop(0) if words else None
    subs = words.pop(0) if words else None
    clause = words.pop(0) if words else None
    if words:
        raise HeaderError(f"{directive} has too many arguments")
    kind = _KINDS.get(action.lower())
    if kind is None:
        raise HeaderError("first argument must be 'add', 'set', 'setifempty', 'append', "
                          "'merge', 'unset', 'echo', 'note', 'edit', or 'edit*'.")
    pattern: re.Pattern[str] | None = None
    replacement = ""
    if kind in ("edit", "edit*"):
        if subs is None or value is None:
            raise HeaderError("Header edit requires a match and a substitution")
        pattern = _compile(value, "Header edit regex could not be compiled")
        replacement = subs
        value = None
    else:
        if clause is not None:
            raise HeaderError("Too many arguments to directive")
        clause = subs
    if kind == "unset":
        if value is not None:
            if clause is not None:
                raise HeaderError("header unset takes two arguments")
            clause, value = value, None
    elif kind == "echo":
        if value is not None:
            if clause is not None:
                raise HeaderError("Header echo takes two arguments")
            clause, value = value, None
        if request:
            raise HeaderError("Header echo only valid on Header directives")
        # names arrive lower-cased here: matched without case (Apache: as sent)
        pattern = _compile(name, "Header echo regex could not be compiled", re.IGNORECASE)
    elif kind not in ("edit", "edit*") and value is None:
        raise HeaderError("Header requires three arguments")
    env: str | None = None
    negate = early = False
    expr: Expr | None = None
    if clause is not None:
        low = clause.lower()
        if low == "early":
            early = True
        elif low.startswith("env="):
            env = clause[4:]
            negate = env.startswith("!")
            env = env[1:] if negate else env
            if not env:
                raise HeaderError("error: missing environment variable name. envclause "
                                  "should be in the form env=envar ")
        elif low.startswith("expr="):
            try:
                expr = parse_expr(clause[5:])
            except ExprError as exc:
                raise HeaderError(f"Can't parse envclause/expression: {exc}") from None
        else:
            raise HeaderError(f"Unknown parameter: {clause}")
    if kind != "echo":
        name = name.split(":", 1)[0]  # "X-Foo:" names X-Foo
    return HeaderAction(table, kind, name, parse_value(value or ""), pattern, replacement,
                        env, negate, expr, early)


def _compile(text: str, message: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(text, flags)
    except re.error:
        raise HeaderError(message) from None


def parse_value(text: str) -> tuple[Piece, ...]:
    """A value's pieces (parse_format_string): ``%%``, ``%t``, ``%D``, ``%{VAR}e``,
    ``%{VAR}s``; any other ``%`` tag is mod_headers' error."""
    if text.startswith("expr="):
        raise HeaderError("a value of the form expr=... is not supported by cgihttpd")
    pieces: list[Piece] = []
    pos = 0
    for m in _TAG.finditer(text):
        if m.start() > pos:
            pieces.append(Piece("", text[pos:m.start()]))
        pos = m.end()
        arg, tag = m.group(1), m.group(2)
        if tag == "%" and arg is None:
            pieces.append(Piece("", "%"))
        elif tag in ("t", "D") or tag in ("e", "s") and arg is not None:
            pieces.append(Piece(tag, arg or ""))
        elif tag is None:
            pieces.append(Piece("", "%"))  # a lone % at the end stays as written
        else:
            raise HeaderError(f"Unrecognized header format %{tag}")
    if pos < len(text):
        pieces.append(Piece("", text[pos:]))
    return tuple(pieces)


# --- applying ---------------------------------------------------------------------------


def render(pieces: tuple[Piece, ...], facts: HeaderFacts) -> str:
    """The value for this request (process_tags)."""
    out: list[str] = []
    for piece in pieces:
        if not piece.tag:
            out.append(piece.text)
        elif piece.tag == "t":
            out.append(f"t={int(facts.request_time * 1_000_000)}")
        elif piece.tag == "D":
            out.append(f"D={max(0, int((facts.now - facts.request_time) * 1_000_000))}")
        elif piece.tag == "e":
            out.append(facts.env.get(piece.text, "(null)"))
        else:  # %{VAR}s: no mod_ssl here
            out.append("(null)")
    return "".join(out)


def _holds(action: HeaderAction, facts: HeaderFacts) -> bool:
    if action.env is not None:
        return (action.env in facts.env) != action.negate
    if action.expr is not None:
        return facts.expr_facts is not None and action.expr.evaluate(facts.expr_facts())
    return True


def _find(table: Pairs, name: str) -> int:
    low = name.lower()
    for i, (k, _) in enumerate(table):
        if k.lower() == low:
            return i
    return -1


def _set(table: Pairs, name: str, value: str) -> None:
    """apr_table_set: the first field takes the value, the others go."""
    i = _find(table, name)
    if i < 0:
        table.append((name, value))
        return
    low = name.lower()
    table[i] = (table[i][0], value)
    table[i + 1:] = [p for p in table[i + 1:] if p[0].lower() != low]


def _merge_into(table: Pairs, name: str, value: str) -> None:
    """apr_table_merge: ", value" after the first field's, or a new field."""
    i = _find(table, name)
    if i < 0:
        table.append((name, value))
    else:
        table[i] = (table[i][0], f"{table[i][1]}, {value}")


def _has_token(current: str, token: str) -> bool:
    """mod_headers' merge: ``token`` among ``current``'s comma-separated tokens, quoted
    strings kept whole, leading space skipped, compared exactly."""
    pos, n = 0, len(current)
    while pos < n:
        while pos < n and current[pos].isspace():
            pos += 1
        start = pos
        while pos < n and current[pos] != ",":
            pos += 1
            if current[pos - 1] == '"':
                while pos < n:
                    pos += 1
                    if current[pos - 1] == '"':
                        break
        if current[start:pos] == token:
            return True
        pos += 1
    return False


_BACKREF = re.compile(r"\\([\\$])|\$(\d)")


def _edit(pattern: re.Pattern[str], replacement: str, value: str, every: bool) -> str:
    def expand(m: re.Match[str]) -> str:
        def ref(r: re.Match[str]) -> str:
            if r.group(1):
                return r.group(1)
            n = int(r.group(2))
            return (m.group(n) or "") if n <= (pattern.groups or 0) else ""
        return _BACKREF.sub(ref, replacement)

    return pattern.sub(expand, value, count=0 if every else 1)


def apply_actions(actions: Sequence[HeaderAction], table: Pairs, facts: HeaderFacts) -> Pairs:
    """``table`` after ``actions`` in order (do_headers_fixup), changed in place and
    returned."""
    for action in actions:
        if not _holds(action, facts):
            continue
        name, kind = action.name, action.kind
        if kind == "add":
            table.append((name, render(action.value, facts)))
        elif kind == "append":
            _merge_into(table, name, render(action.value, facts))
        elif kind == "merge":
            value = render(action.value, facts)
            i = _find(table, name)
            if i < 0 or not _has_token(table[i][1], value):
                _merge_into(table, name, value)
        elif kind == "set":
            _set(table, name, render(action.value, facts))
        elif kind == "setifempty":
            if _find(table, name) < 0:
                table.append((name, render(action.value, facts)))
        elif kind == "unset":
            low = name.lower()
            table[:] = [p for p in table if p[0].lower() != low]
        elif kind == "echo":
            assert action.pattern is not None
            for k, v in facts.request_headers:
                if action.pattern.search(k):
                    table.append((_canonical(k), v))
        elif kind in ("edit", "edit*"):
            assert action.pattern is not None
            low = name.lower()
            table[:] = [(k, _edit(action.pattern, action.replacement, v, kind == "edit*"))
                        if k.lower() == low else (k, v) for k, v in table]
        elif kind == "note":
            # hdr_note: the field's value into r->notes under the rendered name (a
            # missing field leaves no note: %{NAME}n logs "-")
            i = _find(table, name)
            if i >= 0 and facts.notes is not None:
                facts.notes[render(action.value, facts)] = table[i][1]
    return table


def _canonical(name: str) -> str:
    """A lower-cased field name written the usual way (X-Echo-Me)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def response_headers(actions: Sequence[HeaderAction], headers: Sequence[tuple[str, str]],
                     err_count: int, facts: HeaderFacts, *, error_page: bool) -> Pairs:
    """The fields a response goes out with. ``headers``: its first ``err_count`` are
    r->err_headers_out (a script's own fields), the rest r->headers_out. A page the
    server makes (``error_page``: an error, a redirect) has had the tables swapped
    (ap_send_error_response): only the ``always`` actions run, on an empty table.
    Apache sends err_headers_out first (ap_http_header_filter's overlay)."""
    always = [a for a in actions if a.table == "always"]
    if error_page:
        return apply_actions(always, [], facts) + list(headers)
    err = apply_actions(always, list(headers[:err_count]), facts)
    onsuccess = [a for a in actions if a.table == "onsuccess"]
    return err + apply_actions(onsuccess, list(headers[err_count:]), facts)


def split_cgi_fields(headers: Sequence[tuple[str, str]]) -> tuple[Pairs, int]:
    """A script's response fields reordered as Apache's tables hold them: the merged
    ones (err_headers_out) first, then Content-Type, Location... (headers_out); and how
    many are the former."""
    err = [(k, v) for k, v in headers if k.lower() not in CGI_OUT_FIELDS]
    out = [(k, v) for k, v in headers if k.lower() in CGI_OUT_FIELDS]
    return err + out, len(err)
