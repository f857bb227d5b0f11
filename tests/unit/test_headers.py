"""mod_headers: parsing a Header/RequestHeader line (``headers.parse_action``, with
mod_headers.c's messages), the value's format tags, and the actions on a header list
with apr_table's rules; Apache's two response tables (``response_headers``), each case
checked on apache2 2.4.71; the directives in a loaded configuration."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from config_helpers import errors, load

from cgihttpd.authz import Facts
from cgihttpd.headers import (
    HeaderAction,
    HeaderError,
    HeaderFacts,
    apply_actions,
    parse_action,
    response_headers,
    split_cgi_fields,
)

FACTS = HeaderFacts(env={"tagged": "1", "who": "me"}, request_time=100.0, now=100.25,
                    request_headers=(("x-echo-a", "1"), ("x-other", "2"), ("x-echo-b", "3")),
                    expr_facts=lambda: Facts(uri="/cgi/x", method="GET"))


def act(line: str) -> HeaderAction:
    name, *args = shlex.split(line)
    return parse_action(name, args)


def run(table: list[tuple[str, str]], *lines: str) -> list[tuple[str, str]]:
    return apply_actions([act(line) for line in lines], list(table), FACTS)


def test_set_keeps_the_first_place_and_drops_the_others() -> None:
    table = [("A", "1"), ("X-M", "one"), ("B", "2"), ("x-m", "two")]
    assert run(table, "Header set X-M new") == [("A", "1"), ("X-M", "new"), ("B", "2")]
    assert run([], "Header set X-M new") == [("X-M", "new")]


def test_add_append_merge() -> None:
    assert run([], "Header add X-M one", "Header add X-M two", "Header merge X-M one",
               "Header merge X-M three") == [("X-M", "one, three"), ("X-M", "two")]
    assert run([("X-A", "a")], "Header append X-A b") == [("X-A", "a, b")]
    # merge compares whole tokens, quoted strings kept whole
    assert run([("X", '"a,b", c')], "Header merge X a") == [("X", '"a,b", c, a')]
    assert run([("X", '"a,b", c')], "Header merge X c") == [("X", '"a,b", c')]


def test_unset_setifempty_echo() -> None:
    table = [("Set-Cookie", "a"), ("X", "1"), ("set-cookie", "b")]
    assert run(table, "Header unset Set-Cookie") == [("X", "1")]
    assert run([("X", "")], "Header setifempty X filled") == [("X", "")]
    assert run([], "Header setifempty X filled") == [("X", "filled")]
    assert run([], "Header echo ^X-Echo") == [("X-Echo-A", "1"), ("X-Echo-B", "3")]


def test_edit_first_and_every_match_with_backreferences() -> None:
    assert run([("X", "aaa")], "Header edit X a b") == [("X", "baa")]
    assert run([("X", "aaa")], "Header edit* X a b") == [("X", "bbb")]
    assert run([("X", "abc")], r'RequestHeader edit X "^(.)" "<$1>"') == [("X", "<a>bc")]
    assert run([("X", "abc")], r'Header edit X "b" "\$0"') == [("X", "a$0c")]


def test_conditions() -> None:
    assert run([], "Header set X y env=tagged") == [("X", "y")]
    assert run([], "Header set X y env=!tagged") == []
    assert run([], "Header set X y env=!absent") == [("X", "y")]
    assert run([], "Header set X y expr=%{REQUEST_URI}=~m#^/cgi#") == [("X", "y")]
    assert run([], "Header set X y \"expr=%{REQUEST_METHOD} == 'POST'\"") == []
    assert act("Header set X y early").early


def test_format_tags() -> None:
    assert run([], "Header set X \"%t %D %{who}e %{none}e %{HTTPS}s 100%%\"") == [
        ("X", "t=100000000 D=250000 me (null) (null) 100%")]


def test_always_and_onsuccess_tables() -> None:
    assert act("Header always set X y").table == "always"
    assert act("Header onsuccess set X y").table == "onsuccess"
    assert act("Header set X: y").name == "X"
    assert act("RequestHeader set X y").table == "request"


@pytest.mark.parametrize(("line", "message"), [
    ("Header", "Header requires three arguments"),
    ("Header set X", "Header requires three arguments"),
    ("Header frob X y", "first argument must be 'add', 'set', 'setifempty', 'append', "
                        "'merge', 'unset', 'echo', 'note', 'edit', or 'edit*'."),
    ("Header edit X a", "Header edit requires a match and a substitution"),
    ("Header set X y z", "Unknown parameter: z"),
    ("Header set X y env=", "error: missing environment variable name. envclause "
                            "should be in the form env=envar "),
    ("Header unset X env=a b", "header unset takes two arguments"),
    ("Header set X y env=a b", "Too many arguments to directive"),
    ("Header edit X a b c d", "Header has too many arguments"),
    ("RequestHeader echo X", "Header echo only valid on Header directives"),
    ("Header set X %q", "Unrecognized header format %q"),
])
def test_refusals(line: str, message: str) -> None:
    with pytest.raises(HeaderError) as info:
        act(line)
    assert str(info.value) == message


def test_response_tables_as_apache_builds_them() -> None:
    actions = [act("Header set X-On on"), act("Header always set X-Al al"),
               act("Header unset X-Script"), act("Header always append X-Script more")]
    # a script's fields: Set-Cookie and X-Script are err_headers_out, which only the
    # "always" actions touch; Content-Type stays in headers_out
    fields, err = split_cgi_fields([("Content-Type", "text/plain"),
                                    ("X-Script", "s"), ("Set-Cookie", "c")])
    assert err == 2
    assert response_headers(actions, fields, err, FACTS, error_page=False) == [
        ("X-Script", "s, more"), ("Set-Cookie", "c"), ("X-Al", "al"),
        ("Content-Type", "text/plain"), ("X-On", "on")]
    # a page of the server's own: only "always", on an empty table, first
    page = [("Location", "http://x/"), ("X-Script", "s")]
    assert response_headers(actions, page, 0, FACTS, error_page=True) == [
        ("X-Al", "al"), ("X-Script", "more"), ("Location", "http://x/"), ("X-Script", "s")]


def test_directives_merge_in_order(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    cfg = load(tmp_path, f"""LoadModule headers_module modules/mod_headers.so
DocumentRoot "{root}"
Header set X-Server s
RequestHeader set X-R r
<Directory "{root}/sub">
    Header unset X-Server
</Directory>
""")
    base = cfg.main.base
    assert [a.name for a in base.headers] == ["X-Server"]
    assert [a.name for a in base.request_headers] == ["X-R"]
    sub = next(s for s in cfg.main.sections if s.pattern.endswith("/sub"))
    merged = base.merge(sub.conf)
    assert [(a.kind, a.name) for a in merged.headers] == [("set", "X-Server"),
                                                          ("unset", "X-Server")]


def test_a_bad_line_is_a_config_error(tmp_path: Path) -> None:
    assert errors(tmp_path, "LoadModule headers_module modules/mod_headers.so\n"
                            "Header frob X y\n") == [
        "F:2: first argument must be 'add', 'set', 'setifempty', 'append', 'merge', "
        "'unset', 'echo', 'note', 'edit', or 'edit*'."]


def test_note_copies_a_field_into_the_notes() -> None:
    # mod_headers hdr_note: the field's value under the note named by the value (so
    # %{NAME}n logs it even once the field is unset); a missing field leaves no note
    notes: dict[str, str] = {}
    facts = HeaderFacts(env={"who": "me"}, request_time=0.0, now=0.0, notes=notes)
    table = [("X-Secret", "s3"), ("Other", "o")]
    out = apply_actions([act("Header note X-Secret kept-%{who}e"),
                         act("Header unset X-Secret"), act("Header note X-Gone gone")],
                        table, facts)
    assert out == [("Other", "o")]
    assert notes == {"kept-me": "s3"}
