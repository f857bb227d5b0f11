"""mod_rewrite through the App, from a configuration the loader reads: a .htaccess front
controller edited while serving (no restart), a rule that reads a header evaluated on
every request (resolutions it took part in are not remembered), [E=] in the log's
environment, the query a rule leaves, an internal redirect's loop ending in 500 with
Apache's line, a bad rule in a .htaccess (500 and an alert), and RewriteMap refused at
start-up with its place."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cgihttpd.app import App
from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.loader import load_config

CONF = """ServerName test.example
ServerRoot {root}
LoadModule mime_module x.so
LoadModule dir_module x.so
LoadModule authz_core_module x.so
LoadModule rewrite_module x.so
DocumentRoot {www}
ErrorLog {root}/error.log
LogFormat "%U %q %{{WHO}}e %>s" env
CustomLog {root}/access.log env
LogLevel info
<Directory />
    Require all denied
</Directory>
<Directory {www}>
    AllowOverride All
    Require all granted
</Directory>
RewriteEngine On
RewriteCond %{{HTTP_USER_AGENT}} ^bot
RewriteRule ^/page$ /bot.html [L]
RewriteRule ^/who/(.*)$ /page.html?from=$1 [E=WHO:$1,L]
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, Path]]:
    www = tmp_path / "www"
    (www / "fc").mkdir(parents=True)
    (www / "loop").mkdir()
    (www / "page.html").write_text("page\n")
    (www / "bot.html").write_text("bot\n")
    (www / "fc" / "front.html").write_text("front\n")
    (www / "fc" / "real.txt").write_text("real\n")
    (www / "loop" / ".htaccess").write_text("RewriteRule ^(.*)$ /loop/x$1\n")
    conf = tmp_path / "httpd.conf"
    conf.write_text(CONF.format(root=tmp_path, www=www))
    app = App.build(load_config(str(conf), environ={}))
    yield app, tmp_path
    app.close()


def get(app: App, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://test.example") as c:
            return await c.get(path, headers=headers)
    return asyncio.run(go())


def write(path: Path, text: str) -> None:
    path.write_text(text)
    st = path.stat()  # another mtime even where timestamps are coarse
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_front_controller_written_while_serving(site: tuple[App, Path]) -> None:
    app, root = site
    assert get(app, "/fc/blog/1").status_code == 404
    htaccess = root / "www" / "fc" / ".htaccess"
    write(htaccess, "RewriteCond %{REQUEST_FILENAME} !-f\n"
                    "RewriteRule ^(.*)$ front.html [L]\n")
    r = get(app, "/fc/blog/1")
    assert (r.status_code, r.text) == (200, "front\n")
    assert get(app, "/fc/real.txt").text == "real\n"
    htaccess.unlink()
    assert get(app, "/fc/blog/1").status_code == 404


def test_a_rule_reading_a_header_is_evaluated_every_time(site: tuple[App, Path]) -> None:
    app, _ = site
    for _ in range(2):
        r = get(app, "/page", {"User-Agent": "bot/1"})
        assert (r.status_code, r.text) == (200, "bot\n")
        assert r.headers["vary"] == "User-Agent"
        assert get(app, "/page", {"User-Agent": "person"}).status_code == 404


def test_env_and_query_left_by_a_rule(site: tuple[App, Path]) -> None:
    app, root = site
    r = get(app, "/who/me?x=1")
    assert (r.status_code, r.text) == (200, "page\n")
    # no QSA: the substitution's query replaces the client's
    assert (root / "access.log").read_text().splitlines()[-1] == "/who/me ?from=me me 200"


def test_an_internal_redirect_loop_ends_in_500(site: tuple[App, Path]) -> None:
    app, root = site
    assert get(app, "/loop/a").status_code == 500
    assert ("AH00124: Request exceeded the limit of 10 internal redirects due to probable "
            "configuration error.") in (root / "error.log").read_text()


def test_a_bad_rule_in_a_htaccess_is_a_500(site: tuple[App, Path]) -> None:
    app, root = site
    write(root / "www" / "fc" / ".htaccess", "RewriteRule ^(.*)$ x [Q]\n")
    assert get(app, "/fc/real.txt").status_code == 500
    line = (root / "error.log").read_text().splitlines()[-1]
    assert "[core:alert]" in line
    assert line.endswith(f"{root}/www/fc/.htaccess: RewriteRule: unknown flag 'Q'")


def test_rewrite_map_is_refused_at_start_up(tmp_path: Path) -> None:
    conf = tmp_path / "httpd.conf"
    conf.write_text(f"ServerName x\nDocumentRoot {tmp_path}\nLoadModule rewrite_module x.so\n"
                    "RewriteMap lower int:tolower\n")
    with pytest.raises(ConfigErrors) as info:
        load_config(str(conf), environ={})
    assert f"{conf}:4: RewriteMap: rewrite maps are not supported by cgihttpd yet" in str(
        info.value)
