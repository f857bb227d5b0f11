"""mod_rewrite's pure core: parsing RewriteCond/RewriteRule lines (Apache's messages),
PCRE patterns made Python's, the merge of per-directory settings, and the engine on a
fake file tree: the front controller, redirects with QSA/QSD, back-references, [OR],
[C], [S], [N], [END], [E=], [NS], RewriteBase, and what Apache refuses."""

from __future__ import annotations

import os
import stat
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.rewrite import (
    Facts,
    RewriteConf,
    RewriteSyntaxError,
    parse_cond,
    parse_options,
    parse_rule,
    rewrite_directory,
    rewrite_server,
    translate_pattern,
    unwire,
    wire,
)
from cgihttpd.rewrite.rules import parse_arg_line


class FakeFiles:
    """Regular files and directories by path; everything else is missing."""

    def __init__(self, files: set[str], dirs: set[str],
                 links: frozenset[str] | set[str] = frozenset()) -> None:
        self.files, self.dirs, self.links = files, dirs, links

    def stat(self, path: str) -> os.stat_result:
        path = path.rstrip("/") or "/"
        if path in self.files:
            size = 0 if path.endswith("empty") else 5
            return os.stat_result((stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, size, 0, 0, 0))
        if path in self.dirs:
            return os.stat_result((stat.S_IFDIR | 0o755, 0, 0, 1, 0, 0, 0, 0, 0, 0))
        raise FileNotFoundError(path)

    def lstat(self, path: str) -> os.stat_result:
        if path in self.links:
            return os.stat_result((stat.S_IFLNK | 0o777, 0, 0, 1, 0, 0, 0, 0, 0, 0))
        return self.stat(path)


TREE = FakeFiles({"/srv/www/index.py", "/srv/www/real.txt"},
                 {"/", "/srv", "/srv/www", "/srv/www/sub"})
FACTS = Facts(the_request="GET /x HTTP/1.1", server_name="example.test", server_port=80,
              vhost_names=frozenset({"example.test"}), document_root="/srv/www",
              headers=(("host", "example.test"), ("user-agent", "curl/8")))


def dir_conf(text: str, directory: str = "/srv/www/", base: str | None = None,
             options: frozenset[str] | None = None) -> RewriteConf:
    conf = RewriteConf(engine=True, directory=directory, base=base, options=options)
    for line in text.strip().splitlines():
        word, _, rest = line.partition(" ")
        if word == "RewriteCond":
            cond, _ = parse_cond(rest)
            conf = RewriteConf(engine=True, directory=directory, base=base, options=options,
                               rules=conf.rules, pending=conf.pending + (cond,))
        else:
            conf = conf.with_rule(rest)
    return conf


def server_conf(text: str) -> RewriteConf:
    return dir_conf(text, directory=None)  # type: ignore[arg-type]


def in_dir(conf: RewriteConf, filename: str, path_info: str = "", args: str | None = None,
           facts: Facts = FACTS, files: FakeFiles = TREE, **kw: object):  # type: ignore[no-untyped-def]
    return rewrite_directory(conf, facts, files, uri="/x", filename=filename,
                             path_info=path_info, args=args, follows_symlinks=True,
                             **kw)  # type: ignore[arg-type]


def on_server(conf: RewriteConf, uri: str, args: str | None = None, facts: Facts = FACTS,
              files: FakeFiles = TREE):  # type: ignore[no-untyped-def]
    return rewrite_server(conf, True, facts, files, uri=uri, args=args)


FRONT = """
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule ^(.*)$ index.py [QSA,L]
"""


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("^a b", ("^a", "b", None, False)),
    ('"^a b" "c d" [L]', ("^a b", "c d", "[L]", False)),
    ("'^x'   y?", ("^x", "y?", None, True)),
    (r"^a\ b c", (r"^a\ b", "c", None, False)),
    ("^a b [L,R=301]", ("^a", "b", "[L,R=301]", False)),
])
def test_argument_line(line: str, expected: tuple[str, str, str | None, bool]) -> None:
    assert parse_arg_line(line) == expected


@pytest.mark.parametrize(("line", "message"), [
    ("^a", "RewriteRule: bad argument line '^a'"),
    ("^a b L", "RewriteRule: bad flag delimiters"),
    ("^a b [L", "RewriteRule: bad flag delimiters"),
    ("^a b [X]", "RewriteRule: unknown flag 'X'"),
    ("^a b [R=299]", "RewriteRule: invalid HTTP response code '299' for flag 'R'"),
    ("^(a b", "RewriteRule: cannot compile regular expression '^(a'"),
    ("^a b [CO=x:y:z]", "RewriteRule: flag 'CO' (cookie) is not supported by cgihttpd yet"),
    ("^a ${m:%{LA-U:x}}", "RewriteRule: LA-U lookahead variables are not supported by "
                          "cgihttpd yet"),
])
def test_rule_errors(line: str, message: str) -> None:
    with pytest.raises(RewriteSyntaxError) as info:
        parse_rule(line)
    assert str(info.value) == message


def test_rule_flags() -> None:
    r = parse_rule("^/old/(.*)$ /new/$1 [R=permanent,QSA,L,NE,NS,E=A:1,E=!B]")
    assert (r.redirect, r.status, r.qsappend, r.last, r.noescape, r.nosubreq, r.env) == (
        True, 301, True, True, True, True, ("A:1", "!B"))
    assert parse_rule("^x - [F]").status == 403 and parse_rule("^x - [G]").status == 410
    assert parse_rule("^x - [R=404]").status_only
    assert parse_rule("^x y? [L]").qsnone and parse_rule("^x y? [L]").output == "y"
    assert parse_rule("^x y? [QSA]").qslast
    assert parse_rule("^x y [QSD]").qsnone
    assert parse_rule("!^x y [nocase]").negate
    assert parse_rule("^X y [NC]").regex.search("x")


@pytest.mark.parametrize(("line", "kind", "pattern", "negate"), [
    ("%{REQUEST_FILENAME} !-f", "-f", "-f", True),
    ("%{REQUEST_FILENAME} -d", "-d", "-d", False),
    ("%{REQUEST_FILENAME} -L", "-l", "-L", False),
    ("%{HTTP_HOST} =example.test", "=", "example.test", False),
    ('%{QUERY_STRING} =""', "=", "", False),
    ("%{TIME_HOUR} <12", "<", "12", False),
    ("%{TIME_HOUR} >=12", ">=", "12", False),
    ("%{REMOTE_PORT} -lt1024", "-lt", "1024", False),
    ("%{REMOTE_PORT} !-ne1024", "-eq", "1024", False),
    ("%{REMOTE_PORT} -ne1024", "-eq", "1024", True),
    ("%{HTTP_HOST} ^www\\.", "regex", "^www\\.", False),
])
def test_condition_kinds(line: str, kind: str, pattern: str, negate: bool) -> None:
    cond, _ = parse_cond(line)
    assert (cond.kind, cond.pattern, cond.negate) == (kind, pattern, negate)


def test_nocase_on_a_file_test_is_ignored_with_apaches_warning() -> None:
    cond, warnings = parse_cond("%{REQUEST_FILENAME} -f [NC]", "x.conf:3")
    assert not cond.nocase
    assert warnings == ["AH00665: RewriteCond: NoCase option for non-regex pattern '-f' is "
                        "not supported and will be ignored. (x.conf:3)"]


@pytest.mark.parametrize(("line", "message"), [
    ("%{HTTP_HOST} ^a [XX]", "RewriteCond: unknown flag 'XX'"),
    ("%{HTTP_HOST} (", "RewriteCond: cannot compile regular expression '('"),
    ("expr \"true\"", "RewriteCond: expr is not supported by cgihttpd yet"),
    ("%{REQUEST_URI} -U", "RewriteCond: -U (a sub-request lookahead) is not supported by "
                          "cgihttpd yet"),
])
def test_condition_errors(line: str, message: str) -> None:
    with pytest.raises(RewriteSyntaxError) as info:
        parse_cond(line)
    assert str(info.value) == message


def test_options() -> None:
    assert parse_options(("inherit", "AllowNoSlash")) == (
        frozenset({"Inherit", "AllowNoSlash"}), [])
    assert parse_options(("MaxRedirects=3",))[1][0].startswith("AH00664")
    with pytest.raises(RewriteSyntaxError, match="RewriteOptions: unknown option 'nope'"):
        parse_options(("nope",))


# --- PCRE → re -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("pcre", "python"), [
    ("^/a$", r"^/a\Z"),
    ("[[:alpha:]]+", "[a-zA-Z]+"),
    ("[^[:digit:]x]", "[^0-9x]"),
    ("(?<id>[0-9]+)", "(?P<id>[0-9]+)"),
    ("(?<=a)b(?<!c)", "(?<=a)b(?<!c)"),
    (r"a\$b[$]", r"a\$b[$]"),
    ("[]a]", r"[\]a]"),
    (r"x\z", r"x\Z"),
])
def test_translate_pattern(pcre: str, python: str) -> None:
    assert translate_pattern(pcre) == python


@given(st.text(alphabet=string.ascii_letters + string.digits + "/_-.~", max_size=30))
def test_patterns_without_specials_are_unchanged(text: str) -> None:
    assert translate_pattern(text) == text


@given(st.text(max_size=40))
def test_wire_round_trip(text: str) -> None:
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "ignore")
    assert unwire(wire(text)) == text
    assert all(ord(c) < 256 for c in wire(text))


@given(st.text(alphabet=string.ascii_letters + "/", max_size=20))
def test_dollar_matches_only_at_the_very_end(text: str) -> None:
    # DOLLAR_ENDONLY (Apache's RegexDefaultOptions): "a$" does not match "a\n"
    rule = parse_rule("^(.*)$ x")
    assert rule.regex.search(text) is not None
    assert rule.regex.fullmatch(text + "\n") is not None  # DOTALL: "." takes the newline
    assert parse_rule("a$ x").regex.search(text + "a\n") is None


# --- merging --------------------------------------------------------------------------------------


def test_a_directory_with_rules_replaces_its_parents() -> None:
    parent = dir_conf("RewriteRule ^p$ /p", "/srv/www/")
    child = dir_conf("RewriteRule ^c$ /c", "/srv/www/sub/")
    merged = parent.merge(child)
    assert [r.pattern for r in merged.rules] == ["^c$"]
    assert merged.directory == "/srv/www/sub/"
    inherit = dir_conf("RewriteRule ^c$ /c", "/srv/www/sub/", options=frozenset({"Inherit"}))
    assert [r.pattern for r in parent.merge(inherit).rules] == ["^c$", "^p$"]
    before = dir_conf("RewriteRule ^c$ /c", "/srv/www/sub/",
                      options=frozenset({"InheritBefore"}))
    assert [r.pattern for r in parent.merge(before).rules] == ["^p$", "^c$"]
    # RewriteBase is not inherited unless MergeBase
    based = dir_conf("RewriteRule ^p$ /p", base="/app/")
    assert based.merge(child).base is None
    merge_base = dir_conf("", "/srv/www/sub/", options=frozenset({"MergeBase"}))
    assert based.merge(merge_base).base == "/app/"


# --- the engine, per directory ----------------------------------------------------------------------


def test_front_controller() -> None:
    conf = dir_conf(FRONT)
    out = in_dir(conf, "/srv/www/blog", "/post/1", args="a=1")
    assert (out.kind, out.path, out.args) == ("internal", "/index.py?a=1", "a=1")
    assert in_dir(conf, "/srv/www/real.txt").kind == "none"
    assert in_dir(conf, "/srv/www/sub/").kind == "none"
    # the redirected request: the script itself is a file
    assert in_dir(conf, "/srv/www/index.py").kind == "none"


def test_the_same_filename_is_not_redirected_again() -> None:
    out = in_dir(dir_conf("RewriteRule ^(.*)$ index.py"), "/srv/www/index.py")
    assert out.kind == "none"


def test_rewrite_base_and_the_document_root() -> None:
    based = dir_conf("RewriteRule ^go/(.*)$ t.py?x=$1 [L]", "/srv/www/sub/", base="/app/")
    out = in_dir(based, "/srv/www/sub/go", "/42")
    assert (out.kind, out.path) == ("internal", "/app/t.py?x=42")
    plain = dir_conf("RewriteRule ^go/(.*)$ t.py?x=$1 [L]", "/srv/www/sub/")
    assert in_dir(plain, "/srv/www/sub/go", "/42").path == "/sub/t.py?x=42"
    # a relative [R] names the directory's path, unless RewriteBase says the URL
    redirect = dir_conf("RewriteRule ^e/(.*)$ x/$1 [R]", "/srv/www/sub/")
    assert in_dir(redirect, "/srv/www/sub/e", "/1").path == (
        "http://example.test/srv/www/sub/x/1")
    based_redirect = dir_conf("RewriteRule ^e/(.*)$ x/$1 [R]", "/srv/www/sub/", base="/b/")
    assert in_dir(based_redirect, "/srv/www/sub/e", "/1").path == "http://example.test/b/x/1"


def test_refusals_per_directory() -> None:
    conf = dir_conf("RewriteRule ^(.*)$ /x?a=$1")
    out = in_dir(conf, "/srv/www/a b")
    assert (out.kind, out.status) == ("status", 403)
    assert out.note is not None and "AH10411" in out.note.text
    out = rewrite_directory(conf, FACTS, TREE, uri="/x", filename="/srv/www/a", path_info="",
                            args=None, follows_symlinks=False)
    assert (out.kind, out.status) == ("status", 403)
    assert out.note is not None and out.note.text.startswith("AH00670: Options FollowSymLinks")
    # the directory itself without its slash: left to mod_dir
    assert in_dir(dir_conf(FRONT, "/srv/www/sub/"), "/srv/www/sub").kind == "none"
    assert in_dir(dir_conf(FRONT, "/srv/www/sub/", options=frozenset({"AllowNoSlash"})),
                  "/srv/www/sub").kind == "none"  # -d: the conditions say no


def test_unsafe_question_mark_from_a_back_reference() -> None:
    conf = dir_conf("RewriteRule ^(.*)$ /x/$1")
    out = in_dir(conf, "/srv/www/a?b")
    assert (out.kind, out.status) == ("status", 403)
    assert out.note is not None and out.note.text.startswith("AH10508")
    allowed = dir_conf("RewriteRule ^(.*)$ /x/$1 [UnsafeAllow3F]")
    assert in_dir(allowed, "/srv/www/a?b").path == "/x/a?b"


# --- the engine, server context ---------------------------------------------------------------------


def test_redirects_and_query_strings() -> None:
    conf = server_conf("""
RewriteRule ^/old/(.*)$ /new/$1 [R=301,L]
RewriteRule ^/qsa/(.*)$ /new/$1?b=2 [R,QSA,L]
RewriteRule ^/qsd/(.*)$ /new/$1 [R,QSD,L]
RewriteRule ^/ne/(.*)$ /new/$1 [R,NE,L]
""")
    out = on_server(conf, "/old/a b", "x=1")
    assert (out.kind, out.status, out.path) == ("redirect", 301,
                                                "http://example.test/new/a%20b?x=1")
    assert on_server(conf, "/qsa/p", "x=1").path == "http://example.test/new/p?b=2&x=1"
    out = on_server(conf, "/qsd/p", "x=1")
    assert (out.path, out.args) == ("http://example.test/new/p", None)
    assert on_server(conf, "/ne/a%20b").path == "http://example.test/new/a%20b"


def test_back_references_or_and_chains() -> None:
    conf = server_conf("""
RewriteCond %{HTTP_HOST} ^([a-z]+)\\.test$
RewriteRule ^/b/([0-9]+)$ /n/%1/$1 [R,L]
RewriteCond %{HTTP:X-A} =1 [OR]
RewriteCond %{QUERY_STRING} a=1
RewriteRule ^/or$ /yes [R,L]
RewriteRule ^/c - [C]
RewriteRule ^/c(.*)$ /chained$1 [R,L]
RewriteRule ^/s - [S=1]
RewriteRule ^/s /skipped [R,L]
RewriteRule ^/s /after [R,L]
""")
    assert on_server(conf, "/b/42").path == "http://example.test/n/example/42"
    assert on_server(conf, "/or", "a=1").path == "http://example.test/yes?a=1"
    assert on_server(conf, "/or").kind == "none"
    headers = FACTS.headers + (("x-a", "1"),)
    out = on_server(conf, "/or", facts=Facts(**{**_fields(FACTS), "headers": headers}))
    assert out.path == "http://example.test/yes" and out.vary == ("X-A",)
    assert on_server(conf, "/cx").path == "http://example.test/chainedx"
    assert on_server(conf, "/s").path == "http://example.test/after"


def _fields(facts: Facts) -> dict[str, object]:
    return {name: getattr(facts, name) for name in facts.__dataclass_fields__}


def test_status_env_end_and_paths() -> None:
    conf = server_conf("""
RewriteRule ^/f - [F]
RewriteRule ^/g - [G]
RewriteRule ^/e/(.*)$ - [E=WHO:$1,E=!GONE]
RewriteRule ^/end$ /srv/www/real.txt [END]
RewriteRule ^/rel$ real.txt [L]
RewriteRule ^/pt$ /aliased/x [PT]
RewriteRule ^/abs$ http://example.test/local [L]
""")
    assert (on_server(conf, "/f").status, on_server(conf, "/g").status) == (403, 410)
    out = on_server(conf, "/e/me")
    assert out.kind == "none"
    assert out.env[-2:] == (("WHO", "me"), ("GONE", None))
    assert ("SCRIPT_URL", "/e/me") in out.env
    out = on_server(conf, "/end")
    assert (out.kind, out.path, out.ended) == ("file", "/srv/www/real.txt", True)
    # "/real.txt": its first segment is no directory of the root: DocumentRoot's
    assert on_server(conf, "/rel").path == "/srv/www/real.txt"
    assert (on_server(conf, "/pt").kind, on_server(conf, "/pt").path) == ("uri", "/aliased/x")
    # a URL naming this server is reduced to its path (then DocumentRoot's)
    assert on_server(conf, "/abs").path == "/srv/www/local"


def test_next_rounds_are_bounded() -> None:
    conf = server_conf("RewriteRule ^/(a+)$ /$1a [N=5]")
    out = on_server(conf, "/a")
    assert (out.kind, out.status) == ("status", 500)
    assert out.note is not None and "AH02596" in out.note.text


def test_no_subrequest_rules_and_no_redirect_in_subrequests() -> None:
    conf = server_conf("RewriteRule ^/ns$ /x [NS]\nRewriteRule ^/r$ /y [R]")
    sub = Facts(**{**_fields(FACTS), "is_subreq": True})
    assert on_server(conf, "/ns").kind == "file"
    assert on_server(conf, "/ns", facts=sub).kind == "none"
    assert on_server(conf, "/r", facts=sub).kind == "none"


def test_variables() -> None:
    conf = server_conf("RewriteRule ^/v$ /%{REQUEST_METHOD}/%{HTTPS}/%{HTTP_USER_AGENT}/"
                       "%{ENV:FROM_ENV}/%{TIME_YEAR}/%{nonsense}/%{QUERY_STRING} [R,L]")
    facts = Facts(**{**_fields(FACTS), "env": {"FROM_ENV": "e"},
                     "now": (2026, 12, 6, 7, 8, 9, 0)})
    out = on_server(conf, "/v", "q", facts=facts)
    assert out.path == "http://example.test/GET/off/curl/8/e/2026//q?q"


_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-_.~ %é", min_size=1,
                   max_size=8).filter(lambda s: s not in (".", ".."))


@given(st.lists(_SEGMENT, min_size=1, max_size=4))
def test_per_directory_prefix_is_stripped_and_added_back(segments: list[str]) -> None:
    """A rule giving back what it matched names the same file: no redirect (the
    per-directory prefix taken off before matching is put back before comparing)."""
    filename = wire("/srv/www/" + "/".join(segments))
    out = in_dir(dir_conf("RewriteRule ^(.*)$ $1"), filename)
    assert out.kind == "none"
    moved = in_dir(dir_conf("RewriteRule ^(.*)$ x/$1"), filename)
    assert (moved.kind, moved.path) == ("internal", "/x/" + filename[len("/srv/www/"):])


_QUERY = st.text(alphabet=string.ascii_letters + string.digits + "=+-_.", min_size=1,
                 max_size=10)


@given(_QUERY, _QUERY)
def test_qsa_puts_the_substitutions_query_first(own: str, client: str) -> None:
    out = on_server(server_conf(f"RewriteRule ^/x$ /y?{own} [QSA,L]"), "/x", client)
    assert out.args == f"{own}&{client}"
    assert on_server(server_conf(f"RewriteRule ^/x$ /y?{own} [L]"), "/x", client).args == own
    assert on_server(server_conf("RewriteRule ^/x$ /y [L]"), "/x", client).args == client
    assert on_server(server_conf("RewriteRule ^/x$ /y? [L]"), "/x", client).args is None


def test_file_tests_and_comparisons() -> None:
    files = FakeFiles({"/srv/www/index.py", "/srv/www/empty"}, {"/srv/www"},
                      links={"/srv/www/link"})

    def matches(cond: str, facts: Facts = FACTS) -> bool:
        conf = server_conf(f"RewriteCond {cond}\nRewriteRule ^/t$ /yes [R,L]")
        return on_server(conf, "/t", facts=facts, files=files).kind == "redirect"

    assert matches("/srv/www/index.py -s") and not matches("/srv/www/empty -s")
    assert matches("/srv/www/link -l") and matches("/srv/www/link -L")
    assert not matches("/srv/www/index.py -l") and matches("/srv/www/index.py !-l")
    assert matches("/srv/www -d") and not matches("/srv/www -f")
    assert matches("%{REQUEST_URI} =/t") and matches("%{REQUEST_URI} !=/u")
    assert matches("abc <abd") and matches("abcd >abd")  # longer is greater
    assert matches("ABC =abc [NC]") and not matches("ABC =abc")
    assert matches("10 -gt9") and matches("10 -ge10") and matches("9 -le10")
    facts = Facts(**{**_fields(FACTS), "the_request": "GET /t HTTP/1.1",
                     "remote_addr": "10.1.2.3", "scheme": "https"})
    assert matches("%{THE_REQUEST} ^GET\\ /t", facts)
    assert matches("%{REMOTE_ADDR} ^10\\.", facts) and matches("%{HTTPS} =on", facts)
