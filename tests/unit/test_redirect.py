"""mod_alias's redirects: the directives as parsed (``config.directives.alias``) and what
the resolver decides for them (``resolve.match_redirect``, ``resolve_target``). The
expected values follow modules/mappers/mod_alias.c (2.4.x) and were checked against
Debian's apache2 2.4.71 (tests/differential/test_redirect_diff.py compares the answers).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from config_helpers import PRELUDE_LINES, load
from test_resolve import FakeFS

from app.factory import SRC, alias, directory, location, make_vhost, verdicts
from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.model import ContextRedirect, DirConf, Redirect
from cgihttpd.resolve import escape_target, match_redirect, pregsub, resolve_target
from cgihttpd.target import Target


def rd(fake: str, url: str | None, status: int = 302, regex: bool = False) -> Redirect:
    return Redirect(status, fake, url, regex, SRC)


# --- the directives --------------------------------------------------------------------


def test_forms_outside_a_section_are_server_redirects(tmp_path: Path) -> None:
    cfg = load(tmp_path, """DocumentRoot /tmp
Redirect /old http://example.com/new
RedirectMatch ^/cgit$ /cgit/
RedirectPermanent /p /q
RedirectTemp /t /u
Redirect gone /g
Redirect 410 /g2
Redirect seeother /s /see
Redirect 307 /r http://x/
RedirectMatch permanent (.*)\\.gif$ http://img.example$1.png
""")
    assert [(r.status, r.fake, r.url, r.regex) for r in cfg.main.redirects] == [
        (302, "/old", "http://example.com/new", False),
        (302, "^/cgit$", "/cgit/", True),
        (301, "/p", "/q", False),
        (302, "/t", "/u", False),
        (410, "/g", None, False),
        (410, "/g2", None, False),
        (303, "/s", "/see", False),
        (307, "/r", "http://x/", False),
        (301, "(.*)\\.gif$", "http://img.example$1.png", True),
    ]


def test_forms_inside_sections(tmp_path: Path) -> None:
    cfg = load(tmp_path, """DocumentRoot /tmp
<Location /loc>
    Redirect permanent /elsewhere
</Location>
<Location /loc2>
    Redirect "http://example.com/x\\ y"
</Location>
<Location /old-stuff>
    Redirect gone
</Location>
<Directory /tmp/d>
    Redirect seeother /d /other
    Redirect 404 /d/hidden
</Directory>
""")
    loc, loc2, gone, d = cfg.main.sections
    assert loc.conf.redirect == ContextRedirect(301, "/elsewhere", loc.conf.redirect.source)
    # the one-argument form is an ap_expr string: "\ " is a space
    assert loc2.conf.redirect is not None and loc2.conf.redirect.url == "http://example.com/x y"
    assert gone.conf.redirect is not None
    assert (gone.conf.redirect.status, gone.conf.redirect.url) == (410, None)
    assert [(r.status, r.fake, r.url) for r in d.conf.redirects] == [
        (303, "/d", "/other"), (404, "/d/hidden", None)]
    assert cfg.main.redirects == ()


def test_vhost_redirects_come_before_the_main_servers(tmp_path: Path) -> None:
    cfg = load(tmp_path, """DocumentRoot /tmp
Redirect /a /from-main
<VirtualHost *:80>
    ServerName v.test
    Redirect /a /from-vhost
</VirtualHost>
""")
    assert [r.url for r in cfg.vhosts[0].redirects] == ["/from-vhost", "/from-main"]


@pytest.mark.parametrize(("text", "message"), [
    ("Redirect foo /a /b", "Redirect: invalid first argument (of three)"),
    ("Redirect /a relative", "Redirect to non-URL"),
    ("Redirect permanent /a", "URL to redirect to is missing"),
    ("Redirect /a", "URL to redirect to is missing"),
    ("Redirect gone /a /b", "Redirect URL not valid for this status"),
    ("Redirect 404 /a http://x/", "Redirect URL not valid for this status"),
    ("RedirectMatch ( /x", "Regular expression could not be compiled."),
    ("<Location /x>\nRedirect %{REQUEST_URI}\n</Location>",
     "Cannot parse redirect expression '%{REQUEST_URI}': cgihttpd does not evaluate "
     "%{...} variables in Redirect"),
])
def test_bad_arguments(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigErrors) as info:
        load(tmp_path, "DocumentRoot /tmp\n" + text + "\n")
    first = info.value.errors[0]
    assert first.message == message
    assert first.source is not None and first.source.line == PRELUDE_LINES + 2 + (
        1 if text.startswith("<") else 0)


def test_regex_target_may_be_relative(tmp_path: Path) -> None:
    # PR#35314 is checked per request for RedirectMatch (500 then, AH00674)
    cfg = load(tmp_path, "DocumentRoot /tmp\nRedirectMatch ^/x(.*) y$1\n")
    assert cfg.main.redirects[0].url == "y$1"


# --- the pure parts --------------------------------------------------------------------


def test_pregsub_is_ap_pregsub() -> None:
    m = re.search(r"^/old/(\w+)(x)?", "/old/abc")
    assert m is not None
    assert pregsub("/new/$1/$2/$9/$0", m) == "/new/abc////old/abc"
    # a backslash makes the next character literal, "&" is not special
    assert pregsub(r"\$1-\\-\q-&", m) == "$1-\\-q-&"


@pytest.mark.parametrize(("target", "escaped"), [
    ("/new path/", "/new%20path/"),
    ("http://example.com/a b?x=1 2#f g", "http://example.com/a%20b?x=1 2#f g"),
    ("http://h:8080/x%20", "http://h:8080/x%2520"),  # "%" is escaped too
    ("http://h:80/x", "http://h/x"),  # apr_uri_unparse drops a default port
    ("https://u:pw@h:443/x", "https://u:XXXXXXXX@h/x"),
    ("/a<b>\"c\"", "/a%3cb%3e%22c%22"),
    ("relative/x y", "relative/x%20y"),
])
def test_escape_target(target: str, escaped: str) -> None:
    assert escape_target(target) == escaped


def test_prefix_matches_on_segment_boundaries_and_appends_the_rest_escaped() -> None:
    entries = (rd("/old", "http://example.com/new"),)
    assert match_redirect("/old", None, entries) == (302, "http://example.com/new")
    assert match_redirect("/old/a b", None, entries) == (302, "http://example.com/new/a%20b")
    assert match_redirect("/older", None, entries) is None
    # runs of "/" match runs of "/", as for Alias
    assert match_redirect("/old//x", None, (rd("/old/", "/n/"),)) == (302, "/n/x")


def test_first_matching_redirect_wins_and_context_form_first() -> None:
    entries = (rd("^/a$", "/first", regex=True), rd("/a", "/second"))
    assert match_redirect("/a", None, entries) == (302, "/first")
    context = ContextRedirect(301, "/ctx", SRC)
    assert match_redirect("/a/b", context, entries) == (301, "/ctx")
    assert match_redirect("/a", ContextRedirect(410, None, SRC), entries) == (410, "")


def test_gone_has_no_target() -> None:
    assert match_redirect("/g/x", None, (rd("/g", None, 410),)) == (410, "")
    assert match_redirect("/gx", None, (rd("^/g", None, 410, regex=True),)) == (410, "")


# --- resolution ------------------------------------------------------------------------

FS = FakeFS({
    "/srv/www/index.html": "file",
    "/srv/www/cgit/index.html": "file",
    "/srv/www/old/page.html": "file",
    "/srv/www/moved/index.html": "file",
    "/srv/www/denied/x.html": "file",
    "/srv/www/dirindex/index.html": "file",
    "/srv/other/o.html": "file",
})

VHOST = make_vhost(
    "/srv/www",
    redirects=(rd("/al/special", "/special"), rd("^/cgit$", "/cgit/", regex=True),
               rd("/gone", None, 410), rd("^/rel(.*)", "rel$1", regex=True),
               rd("/dirindex/index.html", "/elsewhere.html")),
    aliases=(alias("/al", "/srv/other"),),
    sections=(
        location("/loc", redirect=ContextRedirect(301, "http://example.com/", SRC)),
        directory("/srv/www/moved", redirects=(rd("/moved", "/new-home", 303),)),
        directory("/srv/www/denied", require="all denied",
                  redirects=(rd("/denied", "/never"),)),
        directory("/srv/www/old", redirect=ContextRedirect(302, "/archive/", SRC)),
    ),
)


def resolve(path: str) -> Target:
    return resolve_target(VHOST, path, FS)


def test_server_redirects_come_before_aliases() -> None:
    t = resolve("/al/special/x")
    assert (t.kind, t.status, t.location) == ("redirect", 302, "/special/x")
    assert resolve("/al/o.html").kind == "file"


def test_cgit_snippet() -> None:
    t = resolve("/cgit")
    assert (t.kind, t.status, t.location) == ("redirect", 302, "/cgit/")
    assert resolve("/cgit/").filename == "/srv/www/cgit/index.html"


def test_gone_is_an_error_status_without_a_log_line() -> None:
    t = resolve("/gone/anything")
    assert (t.kind, t.status, t.note) == ("error", 410, None)


def test_a_target_that_is_not_a_url_is_500_with_apaches_line() -> None:
    t = resolve("/relx")
    assert (t.kind, t.status) == ("error", 500)
    assert t.note is not None and (t.note.module, t.note.level) == ("alias", "error")
    assert t.reason == ("AH00674: cannot redirect '/relx' to 'relx'; target is not a "
                        "valid absoluteURI or abs_path")


def test_location_context_redirects_every_url_under_it() -> None:
    for raw in ("/loc", "/loc/deep/x", "/loc/"):
        t = resolve(raw)
        assert (t.kind, t.status, t.location) == ("redirect", 301, "http://example.com/")
    assert resolve("/locx").status == 404


def test_directory_redirects_run_in_fixups() -> None:
    # whether or not the file exists, before mod_dir's DirectorySlash
    for raw in ("/moved/index.html", "/moved/missing", "/moved"):
        t = resolve(raw)
        assert (t.kind, t.status) == ("redirect", 303), raw
    assert resolve("/moved/a b").location == "/new-home/a%20b"
    t = resolve("/old/page.html")
    assert (t.kind, t.location, t.filename) == ("redirect", "/archive/",
                                                 "/srv/www/old/page.html")


def test_require_denied_comes_before_a_directory_redirect() -> None:
    t = resolve("/denied/x.html")
    assert t.kind == "redirect" and verdicts(t) == ["denied"]


def test_a_redirected_directory_index_is_propagated() -> None:
    # mod_dir fixup_dir: "If the request returned a redirect, propagate it"
    t = resolve("/dirindex/")
    assert (t.kind, t.location, t.url_path) == ("redirect", "/elsewhere.html", "/dirindex/")


def test_directory_slash_is_a_301() -> None:
    t = resolve("/cgit/../moved/..//dirindex")
    assert (t.kind, t.status, t.location) == ("redirect", 301, "/dirindex/")


def test_no_redirects_no_change() -> None:
    plain = make_vhost("/srv/www", base=DirConf())
    assert resolve_target(plain, "/index.html", FS).kind == "file"
