"""mod_setenvif: parsing (``config.setenvif``) and matching (``setenvif``), as
mod_setenvif.c's add_setenvif_core and match_headers do."""

from __future__ import annotations

import re

import pytest

from cgihttpd.config.setenvif import (
    EnvCondition,
    add_condition,
    literal_pattern,
    parse_condition,
    parse_expr_condition,
)
from cgihttpd.setenvif import EnvAttributes, apply_conditions

ATTRS = EnvAttributes(
    remote_addr="127.0.0.1", remote_host="127.0.0.1", server_addr="127.0.0.2",
    method="GET", protocol="HTTP/1.1", uri="/a/b.cgi",
    headers=(("host", "x"), ("user-agent", "Mozilla/4.0 (compatible; MSIE 6.0)"),
             ("x-tag", "one"), ("x-tag", "two"), ("x-other", "o")))


def run(*lines: str, env: dict[str, str] | None = None,
        attrs: EnvAttributes = ATTRS) -> dict[str, str]:
    conds: tuple[EnvCondition, ...] = ()
    for line in lines:
        name, *args = line.split()
        conds = add_condition(conds, parse_condition(name, tuple(args)))
    out = dict(env or {})
    apply_conditions(conds, attrs, out)
    return out


@pytest.mark.parametrize(("lines", "expected"), [
    (["BrowserMatch MSIE ie"], {"ie": "1"}),
    (["BrowserMatch msie ie"], {}),
    (["BrowserMatchNoCase msie ie"], {"ie": "1"}),
    (["SetEnvIf user-agent ^Mozilla/(\\d)\\.(\\d) v=$1.$2 all=$0 none=$3"],
     {"v": "4.0", "all": "Mozilla/4.0", "none": ""}),
    # a plain pattern is a substring and its values are literal
    (["SetEnvIf User-Agent compatible v=$0"], {"v": "$0"}),
    (["SetEnvIf Remote_Addr ^127\\. local"], {"local": "1"}),
    (["SetEnvIf Server_Addr 127.0.0.2 s"], {"s": "1"}),
    (["SetEnvIf Request_Method ^GET$ g", "SetEnvIf Request_Protocol 1\\.1$ p"],
     {"g": "1", "p": "1"}),
    (["SetEnvIf Request_URI \\.cgi$ cgi=yes"], {"cgi": "yes"}),
    # headers of one name are joined as headers_in merges them
    (["SetEnvIf X-Tag ^one,.two$ t"], {"t": "1"}),
    # a name regex: the last matching header's value
    (["SetEnvIf ^x- ^(.*)$ last=$1"], {"last": "o"}),
    # an absent attribute is the empty string
    (["SetEnvIf X-None ^$ missing"], {"missing": "1"}),
    # a variable set earlier is an attribute; ! unsets; names ignore case
    (["SetEnvIf Host x first=F", "SetEnvIf first ^F$ second", "SetEnvIf Host y !FIRST"],
     {"first": "F", "second": "1"}),
    (["SetEnvIf Host x a", "SetEnvIf Host x !a"], {}),
    (["SetEnvIf Host x A=1", "SetEnvIf Host z a=2"], {"A": "1"}),
    (["SetEnvIf Host . A=1 b", "SetEnvIf User-Agent . a=2"], {"A": "2", "b": "1"}),
    (["SetEnvIf Host ^x v=a\\$1b"], {"v": "a$1b"}),
    (["SetEnvIf Host x v="], {"v": "1"}),
])
def test_matching(lines: list[str], expected: dict[str, str]) -> None:
    assert run(*lines) == expected


def test_unset_removes_an_existing_variable_whatever_its_case() -> None:
    assert run("SetEnvIf Host x !Old", env={"OLD": "1", "k": "v"}) == {"k": "v"}


def test_a_run_on_one_attribute_reads_it_once() -> None:
    # match_headers caches the value for consecutive lines on the same name
    assert run("SetEnvIf v ^$ v=set", "SetEnvIf V ^set$ seen") == {"v": "set"}
    assert run("SetEnvIf v ^$ v=set", "SetEnvIf Host . h", "SetEnvIf V ^set$ seen") == {
        "v": "set", "h": "1", "seen": "1"}


def test_same_attribute_and_pattern_merge_into_one_condition() -> None:
    conds = add_condition((), parse_condition("SetEnvIf", ("host", "x", "a", "b=2")))
    conds = add_condition(conds, parse_condition("SetEnvIf", ("Host", "x", "!A")))
    assert len(conds) == 1 and conds[0].features == (("a", "!"), ("b", "2"))
    conds = add_condition(conds, parse_condition("SetEnvIfNoCase", ("Host", "x", "c")))
    assert len(conds) == 2


@pytest.mark.parametrize(("pattern", "literal"), [
    ("abc", "abc"), ("a\\.b", "a.b"), ("a\\\\b", "a\\b"), ("^a", None), ("a\\d", None),
    ("a.b", None),
])
def test_literal_pattern(pattern: str, literal: str | None) -> None:
    assert literal_pattern(pattern) == literal


@pytest.mark.parametrize(("name", "args", "message"), [
    ("SetEnvIf", (), "Missing header-field name for SetEnvIf"),
    ("SetEnvIf", ("X",), "Missing regular expression for SetEnvIf"),
    ("SetEnvIf", ("X", "a"), "Missing envariable expression for SetEnvIf"),
    ("SetEnvIf", ("X", "("), "SetEnvIf regex could not be compiled."),
    ("SetEnvIf", ("(x", "a", "b"), "SetEnvIfHeader name regex could not be compiled."),
    ("BrowserMatch", (), "Missing regular expression for BrowserMatch"),
])
def test_errors_are_apaches(name: str, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message.replace('(', '.').replace('.', '.')}$"):
        parse_condition(name, args)


def test_setenvifexpr_sees_the_request_and_the_variables_so_far() -> None:
    conds = (parse_condition("SetEnvIf", ("X-Tag", "one", "T=1")),
             parse_expr_condition(("req('x-other') == 'o' && reqenv('T') == '1'",
                                   "E=yes", "!T")),
             parse_expr_condition(("%{REQUEST_METHOD} == 'POST'", "P")))
    env: dict[str, str] = {}
    apply_conditions(conds, ATTRS, env)
    assert env == {"E": "yes"}


@pytest.mark.parametrize(("args", "message"), [
    ((), "Missing expression for SetEnvIfExpr"),
    (("true",), "Missing envariable expression for SetEnvIfExpr"),
    (("%{NOPE} == 1", "X"), 'Could not parse expression "%{NOPE} == 1": variable %{NOPE}'),
])
def test_setenvifexpr_refusals(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        parse_expr_condition(args)
