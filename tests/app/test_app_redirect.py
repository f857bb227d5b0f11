"""The App answering mod_alias redirects: the Location made absolute from the request's
host, the client's query appended unless the target has one, Apache's pages for 301,
302, 303 and 410, and the access-log line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.conftest import Site, build_tree, site_config
from app.factory import SRC
from cgihttpd.app import App
from cgihttpd.config.model import Redirect


def _rd(fake: str, url: str | None, status: int = 302, regex: bool = False) -> Redirect:
    return Redirect(status, fake, url, regex, SRC)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    build_tree(tmp_path)
    config = site_config(tmp_path, redirects=(
        _rd("/old", "/new"),
        _rd("/away", "http://example.com/there", 301),
        _rd("^/search$", "/find?engine=x", regex=True),
        _rd("^/see/(.*)$", "/seen/$1", 303, regex=True),
        _rd("/gone", None, 410),
        _rd("/ed/gone", None, 410),
        _rd("^/bad(.*)", "bad$1", regex=True),
    ))
    app = App.build(config.with_listens(config.listens))
    yield Site(tmp_path, app, config)
    app.close()


def test_path_target_becomes_absolute_and_keeps_the_query(site: Site) -> None:
    r = site.get("/old/a%20b?x=1")
    assert r.status_code == 302
    location = "http://localhost:8080/new/a%20b?x=1"
    assert r.headers["location"] == location
    assert r.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert "<title>302 Found</title>" in r.text
    assert f'<p>The document has moved <a href="{location}">here</a>.</p>' in r.text


def test_url_target_is_kept_and_permanent_is_301(site: Site) -> None:
    r = site.get("/away/x")
    assert (r.status_code, r.headers["location"]) == (301, "http://example.com/there/x")
    assert "<title>301 Moved Permanently</title>" in r.text


def test_a_target_with_its_own_query_gets_no_other(site: Site) -> None:
    r = site.get("/search?q=1")
    assert r.headers["location"] == "http://localhost:8080/find?engine=x"


def test_see_other_page(site: Site) -> None:
    r = site.get("/see/it")
    assert (r.status_code, r.headers["location"]) == (303, "http://localhost:8080/seen/it")
    assert ('<p>The answer to your request is located <a href="http://localhost:8080/'
            'seen/it">here</a>.</p>') in r.text


def test_gone_page_and_error_document(site: Site) -> None:
    r = site.get("/gone")
    assert r.status_code == 410 and "location" not in r.headers
    assert "<title>410 Gone</title>" in r.text
    # answered at translation, before the <Directory> walk: the ErrorDocument 410 of
    # <Directory .../ed> does not apply (Apache's per-dir config is then the
    # <Location>s' only)
    r = site.get("/ed/gone")
    assert r.status_code == 410 and "location" not in r.headers


def test_target_that_is_not_a_url_is_500(site: Site) -> None:
    assert site.get("/badx").status_code == 500
    assert ("[alias:error]" in site.error_log and "AH00674: cannot redirect '/badx' to "
            "'badx'; target is not a valid absoluteURI or abs_path" in site.error_log)


def test_head_and_access_log(site: Site) -> None:
    r = site.get("/old", method="HEAD")
    assert (r.status_code, r.content) == (302, b"")
    site.get("/old?y=2")
    lines = site.access_log.splitlines()
    assert '"HEAD /old HTTP/1.1" 302 -' in lines[-2]
    assert '"GET /old?y=2 HTTP/1.1" 302 ' in lines[-1]
