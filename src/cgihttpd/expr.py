"""The common forms of Apache's expression language (ap_expr, server/util_expr_*.c)
that ``Require expr``, ``SetEnvIfExpr``, ``Header ... expr=`` and ``CustomLog ...
expr=`` are written with.

Owns parsing an expression into a frozen tree and evaluating it against an
``authz.Facts``. The subset: the variables ``%{REMOTE_ADDR}``, ``%{SERVER_ADDR}``,
``%{HTTP_HOST}`` and the other ``HTTP_*`` ap_expr names, ``%{HTTP:Name}``,
``%{ENV:name}``, ``%{REQUEST_METHOD}``, ``%{REQUEST_URI}``, ``%{QUERY_STRING}``,
``%{SERVER_PROTOCOL}``, ``%{REQUEST_STATUS}``, ``%{REMOTE_USER}``; the functions
``req``/``http``, ``reqenv``/``env`` of a quoted name; strings in single or double
quotes (with ``%{VAR}`` inside); ``==``, ``!=``, ``=~``, ``!~`` (``/regex/`` or
``m#regex#``, flag ``i``), ``-eq -ne -lt -le -gt -ge``, ``in {'a', 'b'}``,
``-ipmatch``, ``-R``, ``-n``, ``-z``; ``&&``, ``||``, ``!``, parentheses, ``true``,
``false``. Anything else, or anything nested past ``MAX_DEPTH``, raises ``ExprError``,
which the configuration turns into a refusal at start-up: an expression cgihttpd does
not understand must never be half-evaluated.

Pure: no IO.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from cgihttpd.authz import Facts, Subnet, SubnetError, parse_subnet

VARIABLES = ("REMOTE_ADDR", "HTTP_HOST", "REQUEST_METHOD", "REQUEST_URI", "REMOTE_USER",
             "SERVER_ADDR", "QUERY_STRING", "SERVER_PROTOCOL", "REQUEST_STATUS",
             "HTTP_ACCEPT", "HTTP_COOKIE", "HTTP_FORWARDED", "HTTP_PROXY_CONNECTION",
             "HTTP_REFERER", "HTTP_USER_AGENT")
#: the functions of one string argument (ap_expr's req, http, reqenv, env), as the
#: prefix of the variable they stand for
FUNCTIONS = {"req": "HTTP:", "http": "HTTP:", "reqenv": "ENV:", "env": "ENV:"}


#: How deep an expression may nest ("!", "(", each "&&"/"||" of a chain): far past any
#: written by hand, and far from Python's recursion limit, which parsing and evaluation
#: (recursive, as ap_expr_eval is) must stay under - a configuration line can repeat
#: an operator thousands of times.
MAX_DEPTH: Final = 100


class ExprError(ValueError):
    """The expression is outside the subset cgihttpd evaluates (or is not one)."""


# --- the tree ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """A string: literal pieces and variable names, concatenated."""

    parts: tuple[tuple[bool, str], ...]  # (is_variable, text)

    def value(self, facts: Facts) -> str:
        return "".join(_variable(text, facts) if var else text for var, text in self.parts)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(text for var, text in self.parts if var)


@dataclass(frozen=True, slots=True)
class Compare:
    left: Word
    op: str  # "==", "!="
    right: Word


@dataclass(frozen=True, slots=True)
class Empty:
    """``-z word`` (``negate``: ``-n word``)."""

    word: Word
    negate: bool


_INT_OPS: dict[str, Callable[[int, int], bool]] = {
    "-eq": operator.eq, "-ne": operator.ne, "-lt": operator.lt, "-le": operator.le,
    "-gt": operator.gt, "-ge": operator.ge}


@dataclass(frozen=True, slots=True)
class Match:
    left: Word
    pattern: re.Pattern[str]
    negate: bool


@dataclass(frozen=True, slots=True)
class In:
    left: Word
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class IpMatch:
    left: Word
    subnet: Subnet


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


@dataclass(frozen=True, slots=True)
class Not:
    operand: Cond


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "&&", "||"
    left: Cond
    right: Cond


Cond: TypeAlias = Compare | Empty | Match | In | IpMatch | Const | Not | Binary


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed expression and the text it came from."""

    text: str
    cond: Cond

    def evaluate(self, facts: Facts) -> bool:
        return _eval(self.cond, facts)

    @property
    def variables(self) -> frozenset[str]:
        return _vars(self.cond)


def _known(name: str) -> bool:
    return name in VARIABLES or name[:5].upper() == "HTTP:" or name[:4].upper() == "ENV:"


def _header(facts: Facts, name: str) -> str:
    low = name.lower()
    values = [v for k, v in facts.headers if k == low]
    return ", ".join(values)


def _variable(name: str, facts: Facts) -> str:
    if name[:5].upper() == "HTTP:":
        return _header(facts, name[5:])
    if name[:4].upper() == "ENV:":
        return facts.env.get(name[4:], "")
    if name.startswith("HTTP_") and name != "HTTP_HOST":
        return _header(facts, name[5:].replace("_", "-"))
    if name == "SERVER_ADDR":
        return facts.server_addr
    if name == "QUERY_STRING":
        return facts.query
    if name == "SERVER_PROTOCOL":
        return facts.protocol
    if name == "REQUEST_STATUS":
        return str(facts.status)
    if name == "REMOTE_ADDR":
        return facts.client_addr
    if name == "HTTP_HOST":
        return facts.host_header
    if name == "REQUEST_METHOD":
        return facts.method
    if name == "REQUEST_URI":
        return facts.uri
    return facts.user or ""  # REMOTE_USER


def _eval(cond: Cond, facts: Facts) -> bool:
    if isinstance(cond, Const):
        return cond.value
    if isinstance(cond, Not):
        return not _eval(cond.operand, facts)
    if isinstance(cond, Binary):
        if cond.op == "&&":
            return _eval(cond.left, facts) and _eval(cond.right, facts)
        return _eval(cond.left, facts) or _eval(cond.right, facts)
    if isinstance(cond, Compare):
        if cond.op in _INT_OPS:
            try:
                left, right = int(cond.left.value(facts)), int(cond.right.value(facts))
            except ValueError:
                return False
            return _INT_OPS[cond.op](left, right)
        equal = cond.left.value(facts) == cond.right.value(facts)
        return equal if cond.op == "==" else not equal
    if isinstance(cond, Empty):
        return (cond.word.value(facts) == "") != cond.negate
    if isinstance(cond, Match):
        return (cond.pattern.search(cond.left.value(facts)) is not None) != cond.negate
    if isinstance(cond, In):
        value = cond.left.value(facts)
        return any(w.value(facts) == value for w in cond.words)
    return cond.subnet.contains(cond.left.value(facts))


def _vars(cond: Cond) -> frozenset[str]:
    if isinstance(cond, Const):
        return frozenset()
    if isinstance(cond, Empty):
        return cond.word.variables
    if isinstance(cond, Not):
        return _vars(cond.operand)
    if isinstance(cond, Binary):
        return _vars(cond.left) | _vars(cond.right)
    if isinstance(cond, In):
        out = cond.left.variables
        for w in cond.words:
            out |= w.variables
        return out
    if isinstance(cond, Compare):
        return cond.left.variables | cond.right.variables
    return cond.left.variables


# --- parsing -------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<var>%\{[^}]*\})
    | (?P<call>(?:req|http|reqenv|env)\(\s*(?:'[^']*'|"[^"]*")\s*\))
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<regex>/(?:[^/\\]|\\.)*/i?|m(?P<delim>[^\w\s])(?:(?!(?P=delim)).|\\.)*(?P=delim)i?)
    | (?P<op>==|!=|=~|!~|&&|\|\||!|\(|\)|\{|\}|,)
    | (?P<word>-?[A-Za-z_][A-Za-z0-9_-]*|\d+)
    )""", re.VERBOSE | re.DOTALL)

_VAR = re.compile(r"%\{([^}]*)\}")


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExprError(f"cannot read the expression at '{text[pos:].strip()}'")
        kind = m.lastgroup if m.lastgroup != "delim" else "regex"
        if m.group("regex") is not None:
            kind = "regex"
        assert kind is not None
        out.append((kind, m.group(kind).strip() if kind != "str" else m.group(kind)))
        pos = m.end()
    return out


def _word_of(kind: str, text: str) -> Word:
    if kind == "var":
        name = text[2:-1]
        if not _known(name):
            raise ExprError(f"variable %{{{name}}}")
        return Word(((True, name),))
    if kind == "str":
        body = re.sub(r"\\(.)", r"\1", text[1:-1])
        parts: list[tuple[bool, str]] = []
        pos = 0
        for m in _VAR.finditer(body):
            if m.start() > pos:
                parts.append((False, body[pos:m.start()]))
            if not _known(m.group(1)):
                raise ExprError(f"variable %{{{m.group(1)}}}")
            parts.append((True, m.group(1)))
            pos = m.end()
        if pos < len(body) or not parts:
            parts.append((False, body[pos:]))
        return Word(tuple(parts))
    if kind == "call":
        fn, _, arg = text.partition("(")
        return Word(((True, FUNCTIONS[fn] + arg.rstrip(")").strip()[1:-1]),))
    if kind == "word" and text.isdigit():
        return Word(((False, text),))
    raise ExprError(f"'{text}' where a string or %{{VARIABLE}} was expected")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.level = 0  # "!" and "(" open: how deep unary() recurses

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ExprError("the expression ends too early")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok[1] != text:
            raise ExprError(f"'{text}' expected, found '{tok[1]}'")

    def expression(self) -> Cond:
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            left = Binary("||", left, self.conjunction())
        return left

    def conjunction(self) -> Cond:
        left = self.unary()
        while self.peek() == ("op", "&&"):
            self.take()
            left = Binary("&&", left, self.unary())
        return left

    def unary(self) -> Cond:
        tok = self.peek()
        if tok in (("op", "!"), ("op", "(")):
            self.take()
            self.level += 1
            if self.level > MAX_DEPTH:
                raise ExprError(f"the expression nests deeper than {MAX_DEPTH} levels")
            if tok == ("op", "!"):
                inner: Cond = Not(self.unary())
            else:
                inner = self.expression()
                self.expect(")")
            self.level -= 1
            return inner
        if tok is not None and tok[0] == "word" and tok[1] in ("true", "false"):
            self.take()
            return Const(tok[1] == "true")
        if tok is not None and tok in (("word", "-n"), ("word", "-z")):
            self.take()
            return Empty(_word_of(*self.take()), negate=tok[1] == "-n")
        if tok is not None and tok == ("word", "-R"):
            self.take()
            return IpMatch(Word(((True, "REMOTE_ADDR"),)), self.subnet())
        return self.comparison()

    def subnet(self) -> Subnet:
        kind, text = self.take()
        word = _word_of(kind, text)
        if word.variables:
            raise ExprError("-ipmatch with a variable subnet")
        value = "".join(text for _, text in word.parts)
        addr, _, mask = value.partition("/")
        try:
            return parse_subnet(addr, mask or None)
        except SubnetError:
            raise ExprError(f"'{value}' is not an IP address or subnet") from None

    def comparison(self) -> Cond:
        left = _word_of(*self.take())
        kind, op = self.take()
        if op in ("==", "!=") or (kind, op) in (("word", o) for o in _INT_OPS):
            return Compare(left, op, _word_of(*self.take()))
        if op in ("=~", "!~"):
            rkind, rtext = self.take()
            if rkind != "regex":
                raise ExprError(f"a regular expression expected after {op}")
            return Match(left, _regex(rtext), op == "!~")
        if (kind, op) == ("word", "in"):
            self.expect("{")
            words = [_word_of(*self.take())]
            while self.peek() == ("op", ","):
                self.take()
                words.append(_word_of(*self.take()))
            self.expect("}")
            return In(left, tuple(words))
        if (kind, op) == ("word", "-ipmatch"):
            return IpMatch(left, self.subnet())
        raise ExprError(f"operator '{op}'")


def _regex(text: str) -> re.Pattern[str]:
    flags = 0
    if text.endswith("i"):
        flags, text = re.IGNORECASE, text[:-1]
    body = text[1:-1] if text.startswith("/") else text[2:-1]
    try:
        return re.compile(body, flags)
    except re.error as exc:
        raise ExprError(f"regular expression: {exc}") from None


def parse_expr(text: str) -> Expr:
    """Parse ``text`` (one ``Require expr`` line's expression) or raise ExprError."""
    parser = _Parser(_tokens(text))
    if not parser.tokens:
        raise ExprError("empty expression")
    cond = parser.expression()
    if parser.peek() is not None:
        raise ExprError(f"unexpected '{parser.peek()[1]}'")  # type: ignore[index]
    if _depth(cond) > MAX_DEPTH:
        raise ExprError(f"the expression nests deeper than {MAX_DEPTH} levels")
    return Expr(text, cond)


def _depth(cond: Cond) -> int:
    """The tree's depth, without recursion (a chain of "&&" is as deep as it is long)."""
    deepest = 0
    todo = [(cond, 0)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(node, Not):
            todo.append((node.operand, depth + 1))
        elif isinstance(node, Binary):
            todo += [(node.left, depth + 1), (node.right, depth + 1)]
    return deepest

