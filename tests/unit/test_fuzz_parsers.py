"""Fuzzing the small parsers a request or a configuration reaches: Basic credentials
and the password and group files (authn.py), subnets (authz.py), expressions
(expr.py), mod_headers' arguments and actions (headers.py), and the CGI environment
(cgi/environ.py). Each answers with its value or its own documented error, never
another exception; what they hand on keeps the invariants below."""

from __future__ import annotations

import base64
import re

import pytest
from fuzz_helpers import fuzz
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.authn import check_password, parse_basic, read_groups, read_htpasswd
from cgihttpd.authz import Facts, SubnetError, parse_subnet
from cgihttpd.cgi.environ import build_cgi_environ
from cgihttpd.config.model import BUILTIN, DirConf, VirtualHost
from cgihttpd.expr import ExprError, parse_expr
from cgihttpd.headers import HeaderError, HeaderFacts, parse_action, response_headers
from cgihttpd.request import Request
from cgihttpd.target import Target

#: printable text with the bytes parsers trip on
_TRICKY = st.sampled_from(list(":#\"' \t\r\n\x00\\%{}()/$=,!&|~*.-_") + ["\u00e9", "\x7f"])
TEXT = st.text(st.one_of(_TRICKY, st.characters(codec="utf-8")), max_size=40)

# --- authn: Basic credentials, password and group files -------------------------------

_CREDENTIAL = st.text(st.sampled_from(list("a:\x00\u00e9 ")), max_size=4)


@fuzz(400)
@given(st.one_of(TEXT, st.builds(
    lambda scheme, raw: scheme + base64.b64encode(raw).decode("ascii").rstrip("="),
    st.sampled_from(["Basic ", "basic  ", "BASIC\t", "Digest "]),
    st.one_of(st.binary(max_size=30), TEXT.map(lambda t: t.encode("utf-8")),
              # user:password with what a C string or the split would trip on
              st.builds(lambda u, p: f"{u}:{p}".encode(), _CREDENTIAL, _CREDENTIAL)))))
def test_basic_credentials_parse_or_are_refused(header: str) -> None:
    got = parse_basic(header)
    if got is not None:
        user, password = got
        assert ":" not in user and "\x00" not in user + password


@fuzz(300)
@given(st.text(st.characters(codec="utf-8", exclude_characters=":\x00"), max_size=20),
       st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20))
def test_basic_credentials_round_trip(user: str, password: str) -> None:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    assert parse_basic("Basic " + token) == (user, password)


FILE_TEXT = st.lists(st.one_of(TEXT, st.sampled_from([
    "user:$apr1$x$y", "# comment", "  bob:{SHA}abc", "g: a b \"c d\"", "g:", ":x",
    "u:realm:0123abcd", "a:b:c:d", "x::", "  y : z "])),
    max_size=8).map("\n".join)


@fuzz(300)
@given(FILE_TEXT)
def test_password_and_group_files_read_any_text(text: str) -> None:
    for user, hashed in read_htpasswd(text).items():
        assert ":" not in user and ":" not in hashed and "\n" not in user + hashed
    for member, groups in read_groups(text).items():
        assert member is not None and all(":" not in g for g in groups)


HASH_PREFIXES = st.sampled_from(["$apr1$", "$apr1$salt$", "{SHA}", "$2y$", "$2y$05$",
                                 "$2a$04$", "$2b$", "$1$", "$1$ab$", "$5$", "$5$rounds=1$",
                                 "$6$", "$6$rounds=999999999$", "ab", "!!", "*", ""])


@pytest.mark.filterwarnings("ignore:.*rounds.*:UserWarning")  # passlib on "rounds=1"
@fuzz(200)
@given(HASH_PREFIXES, st.text(st.sampled_from(list("./aZ09$=+:")), max_size=60), TEXT,
       st.booleans())
def test_any_password_entry_is_checked_or_never_matches(prefix: str, rest: str,
                                                         password: str,
                                                         plaintext: bool) -> None:
    assert check_password(prefix + rest, password, plaintext=plaintext) in (True, False)


# --- authz: subnets ---------------------------------------------------------------------

ADDR = st.one_of(st.sampled_from(["10.1.2.3", "10.1", "10.", "::1", "2001:db8::", "::ffff:1.2.3.4",
                                  "fe80::1%eth0", "256.1.1.1", "1..2", "", "0", "1.2.3.4.5"]),
                 st.text(st.sampled_from(list("0123456789abcdef.:%/x")), max_size=20))
MASK = st.one_of(st.none(), st.sampled_from(["8", "0", "33", "129", "255.0.0.0", "-1", ""]),
                 st.text(st.sampled_from(list("0123456789.:")), max_size=10))


@fuzz(400)
@given(ADDR, MASK, ADDR)
def test_subnets_parse_or_fail_as_apr_does(addr: str, mask: str | None, client: str) -> None:
    try:
        subnet = parse_subnet(addr, mask)
    except SubnetError as exc:
        assert exc.strerror
        return
    assert subnet.family in (4, 6)
    assert subnet.contains(client) in (True, False)
    if ":" not in addr and mask is None and addr.count(".") == 3:
        assert subnet.contains(addr)


# --- expr: parse, then evaluate against hostile facts -----------------------------------

EXPR_WORDS = st.sampled_from([
    "%{REMOTE_ADDR}", "%{HTTP_HOST}", "%{HTTP:X}", "%{ENV:x}", "%{NOPE}", "%{", "}",
    "'a'", "\"b%{REQUEST_URI}\"", "'", "\"", "==", "!=", "=~", "!~", "/a(b/", "/x/i",
    "m#x#", "m#(#", "-eq", "-lt", "-ge", "-n", "-z", "-R", "-ipmatch", "'10.0.0.0/8'",
    "'::1/200'", "in", "{", "}", ",", "&&", "||", "!", "(", ")", "true", "false", "1",
    "req('x')", "env('y')", "http(", " ", "9" * 30])
EXPR = st.one_of(TEXT, st.lists(EXPR_WORDS, max_size=14).map(" ".join))
FACTS = st.builds(
    Facts, client_addr=ADDR, server_addr=ADDR, method=TEXT, uri=TEXT, host_header=TEXT,
    env=st.dictionaries(st.sampled_from(["x", "y"]), TEXT, max_size=2),
    user=st.one_of(st.none(), TEXT),
    headers=st.lists(st.tuples(st.sampled_from(["x", "host"]), TEXT), max_size=3).map(tuple),
    query=TEXT, protocol=TEXT, status=st.integers(min_value=0, max_value=999))


@fuzz(500)
@given(EXPR, FACTS)
def test_expressions_parse_or_are_refused_and_evaluate_to_a_bool(text: str,
                                                                 facts: Facts) -> None:
    try:
        expr = parse_expr(text)
    except ExprError as exc:
        assert str(exc)
        return
    assert expr.evaluate(facts) in (True, False)
    assert isinstance(expr.variables, frozenset)


@fuzz(60)
@given(st.sampled_from(["!", "(", "true && ", "false || ", "! ("]),
       st.integers(min_value=1, max_value=3000))
def test_deep_expressions_are_refused_or_evaluated(piece: str, depth: int) -> None:
    # a configuration line can repeat an operator thousands of times: the parser and
    # the evaluation must not run out of stack (RecursionError) on it
    text = piece * depth + "true" + (")" * (depth * piece.count("(")))
    try:
        expr = parse_expr(text)
    except ExprError:
        return
    assert expr.evaluate(Facts()) in (True, False)


# --- mod_headers ------------------------------------------------------------------------

#: a Header line's words in their places, each part hostile
_HEADER_LINE = st.builds(
    lambda *parts: [p for p in parts if p is not None],
    st.sampled_from([None, "always", "onsuccess"]),
    st.sampled_from(["set", "setifempty", "append", "merge", "add", "unset", "echo",
                     "edit", "edit*", "note", "bogus"]),
    st.sampled_from(["X-A", "X-A:", "^x", "(", "x-echo", ""]),
    st.one_of(st.none(), st.sampled_from(["a%{x}e", "%t %D", "%{x}s", "%%", "%", "%q",
                                          "(", "a(.)", "^", "expr=true"]), TEXT),
    st.one_of(st.none(), st.sampled_from(["$1$2", "\\$1", "[$0]", "env=x", "early"])),
    st.one_of(st.none(), st.sampled_from(["env=x", "env=!y", "env=", "expr=true",
                                          "expr=%{HTTP:X} == 'a'", "expr=(", "early",
                                          "bogus"])))
HEADER_ARGS = _HEADER_LINE | st.lists(st.one_of(st.sampled_from([
    "always", "onsuccess", "set", "setifempty", "append", "merge", "add", "unset", "echo",
    "edit", "edit*", "note", "X-A", "X-A:", "^x", "(", "a%{x}e", "%t %D", "%{x}s", "%%",
    "%", "%q", "expr=true", "expr=%{HTTP:X} == 'a'", "expr=(", "env=x", "env=!x", "env=",
    "early", "$1$2", "(a)(b)?", "\\$1"]), TEXT), max_size=6)
SAFE_VALUE = st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=12)
FIELDS = st.lists(st.tuples(st.sampled_from(["X-A", "x-a", "Set-Cookie", "Content-Type"]),
                            SAFE_VALUE), max_size=4)
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@fuzz(500)
@given(st.sampled_from(["Header", "RequestHeader"]), st.lists(HEADER_ARGS, max_size=3),
       FIELDS, st.dictionaries(st.sampled_from(["x", "y"]), SAFE_VALUE, max_size=2),
       st.integers(min_value=0, max_value=4), st.booleans())
def test_header_actions_parse_or_are_refused_and_keep_fields_clean(
        directive: str, lines: list[list[str]], fields: list[tuple[str, str]],
        env: dict[str, str], err_count: int, error_page: bool) -> None:
    actions = []
    for args in lines:
        try:
            actions.append(parse_action(directive, args))
        except HeaderError as exc:
            assert str(exc)
    facts = HeaderFacts(env=env, request_time=1.5, now=2.0,
                        request_headers=[("x-echo", "e"), ("x-a", "q")],
                        expr_facts=lambda: Facts(headers=(("x", "a"),)))
    out = response_headers(actions, fields, min(err_count, len(fields)), facts,
                           error_page=error_page)
    # from clean fields and a configuration's words (no line breaks in them: the
    # lexer splits there), what goes out has none either
    for args in lines:
        if any(_CTL.search(a) for a in args):
            return
    for name, value in out:
        assert not _CTL.search(value), (name, value)


# --- the CGI environment ----------------------------------------------------------------

ROOT = "/srv/www"
VHOST = VirtualHost(
    addresses=(), server_name="localhost", server_aliases=(), server_admin="a@b",
    document_root=ROOT, error_log="", log_level="warn", custom_logs=(), aliases=(),
    base=DirConf(), sections=(), timeout=60.0, keepalive=True, keepalive_timeout=5.0,
    max_keepalive_requests=100, server_signature="off", cgi_script_timeout=None,
    script_log=None, source=BUILTIN, is_main=True)
HEADER_NAME = st.one_of(
    st.sampled_from(["proxy", "Proxy", "PROXY", "proxy ", "proxy_", "pro-xy", "x-proxy",
                     "http-proxy", "host", "content-length", "content-type",
                     "authorization", "x_under", "x.dot", "\u0130", "k\u212a"]),
    st.text(st.sampled_from(list("proxyPROXY-_.0\x00 ")), min_size=1, max_size=8))
#: what the HTTP parser lets through in a field value (no CTL but HTAB), latin-1
WIRE_VALUE = st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)) | st.just(
    "\t"), max_size=12)


@fuzz(400)
@given(st.lists(st.tuples(HEADER_NAME, st.one_of(WIRE_VALUE, TEXT)), max_size=6),
       st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=12),
       # os.environ cannot hold a NUL
       st.dictionaries(st.sampled_from(["PATH", "TZ", "HOME", "X"]),
                       TEXT.map(lambda t: t.replace("\x00", "")), max_size=3),
       st.sampled_from(["", "/a", "/b c/%41"]))
def test_the_cgi_environment_has_no_nul_and_no_http_proxy(
        headers: list[tuple[str, str]], query: str, server_environ: dict[str, str],
        path_info: str) -> None:
    req = Request(method="GET", raw_target="/x.py?" + query, raw_path="/x.py", query=query,
                  http_version="1.1", headers=tuple((n.lower(), v) for n, v in headers),
                  client_addr="127.0.0.1", client_port=1, server_addr="127.0.0.1",
                  server_port=80, scheme="http", request_line="GET /x.py HTTP/1.1")
    tgt = Target(kind="file", filename=ROOT + "/x.py", url_path="/x.py",
                 path_info=path_info, handler="cgi-script", context_document_root=ROOT)
    env = build_cgi_environ(req, tgt, VHOST, server_software="cgihttpd",
                            server_environ=server_environ,
                            path_translated=ROOT + path_info if path_info else None)
    assert "HTTP_PROXY" not in env, env
    for name, value in env.items():
        assert name and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), name
        assert "\x00" not in value, (name, value)
