"""Access control through the App: a configuration read by the loader, requests from
chosen client addresses, Apache's statuses and error-log lines (AH01630 from
mod_authz_core, AH01797 from mod_access_compat, AH00027/AH00028 where only an
authenticated user could pass and no authentication is configured)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cgihttpd.app import App
from cgihttpd.config.loader import load_config

CONF = """ServerName test.example
ServerRoot {root}
LoadModule mime_module x.so
LoadModule dir_module x.so
LoadModule authz_core_module x.so
LoadModule authz_host_module x.so
LoadModule authz_user_module x.so
LoadModule access_compat_module x.so
DocumentRoot {www}
ErrorLog {root}/error.log
LogLevel info
<Directory />
    Require all denied
</Directory>
<Directory {www}>
    Require all granted
</Directory>
<Directory {www}/ip>
    Require ip 10.0.0.0/8
</Directory>
<Directory {www}/notlocal>
    <RequireAll>
        Require all granted
        Require not ip 127.0.0.1
    </RequireAll>
</Directory>
<Directory {www}/user>
    Require valid-user
</Directory>
<Directory {www}/compat>
    Order deny,allow
    Deny from all
    Allow from 10.1
</Directory>
<Directory {www}/limit>
    <Limit POST DELETE>
        Require all denied
    </Limit>
</Directory>
<Directory {www}/anyuser>
    Require valid-user
    Order allow,deny
    Allow from 127.0.0.1
    Satisfy Any
</Directory>
<Directory {www}/host>
    Require host localhost
</Directory>
<Directory {www}/expr>
    Require expr "%{{REQUEST_METHOD}} in {{'GET', 'HEAD'}} && %{{REMOTE_ADDR}} -ipmatch '127.0.0.0/8'"
</Directory>
<Directory {www}/fdir>
    Require all denied
</Directory>
<Files pub.html>
    Require all granted
</Files>
<Directory {www}/merge>
    Require ip 10.0.0.0/8
</Directory>
<Directory {www}/merge/and>
    AuthMerging And
    Require ip 10.1
</Directory>
<Directory {www}/merge/off>
    Require ip 127.0.0.1
</Directory>
"""

DIRS = ("ip", "notlocal", "user", "compat", "limit", "anyuser", "host", "expr", "fdir",
        "merge", "merge/and", "merge/off")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    www = tmp_path / "www"
    for d in ("", *DIRS):
        (www / d).mkdir(parents=True, exist_ok=True)
        (www / d / "a.txt").write_text(f"secret {d}\n")
    (www / "fdir" / "pub.html").write_text("pub\n")
    (www / "fdir" / "index.html").write_text("index\n")
    conf = tmp_path / "httpd.conf"
    conf.write_text(CONF.format(root=tmp_path, www=www))
    built = App.build(load_config(str(conf), environ={}))
    yield built
    built.close()


def get(app: App, path: str, client: str = "127.0.0.1",
        method: str = "GET") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://test.example") as c:
            return await c.request(method, path)
    return asyncio.run(go())


def log(tmp_path: Path) -> str:
    return (tmp_path / "error.log").read_text()


def test_require_ip(app: App, tmp_path: Path) -> None:
    r = get(app, "/ip/a.txt")
    assert r.status_code == 403 and b"secret" not in r.content
    assert "[authz_core:error] [pid" in log(tmp_path)
    assert f"AH01630: client denied by server configuration: {tmp_path}/www/ip/a.txt" \
        in log(tmp_path)
    assert get(app, "/ip/a.txt", client="10.9.8.7").status_code == 200


def test_denied_before_404_and_before_directory_slash(app: App) -> None:
    assert get(app, "/ip/missing.txt").status_code == 403
    assert get(app, "/ip").status_code == 403  # not mod_dir's 301
    assert get(app, "/ip/missing.txt", client="10.0.0.1").status_code == 404
    assert get(app, "/ip", client="10.0.0.1").status_code == 301


def test_require_not_inside_require_all(app: App) -> None:
    assert get(app, "/notlocal/a.txt").status_code == 403
    assert get(app, "/notlocal/a.txt", client="10.0.0.1").status_code == 200


def test_a_user_is_needed_but_no_authentication_exists(app: App, tmp_path: Path) -> None:
    r = get(app, "/user/a.txt")
    assert r.status_code == 500 and b"secret" not in r.content
    assert ("AH00027: No authentication done but request not allowed without "
            "authentication for /user/a.txt. Authentication not configured?") in log(tmp_path)


def test_order_deny_allow(app: App, tmp_path: Path) -> None:
    assert get(app, "/compat/a.txt").status_code == 403
    assert "[access_compat:error]" in log(tmp_path)
    assert f"AH01797: client denied by server configuration: {tmp_path}/www/compat/a.txt" \
        in log(tmp_path)
    assert get(app, "/compat/a.txt", client="10.1.0.1").status_code == 200
    assert get(app, "/compat/a.txt", client="10.2.0.1").status_code == 403


def test_limit(app: App) -> None:
    assert get(app, "/limit/a.txt").status_code == 200
    assert get(app, "/limit/a.txt", method="DELETE").status_code == 403
    # a method outside <Limit> is not refused by it (the default handler then says 405)
    assert get(app, "/limit/a.txt", method="PUT").status_code == 405


def test_satisfy_any(app: App, tmp_path: Path) -> None:
    assert get(app, "/anyuser/a.txt").status_code == 200
    r = get(app, "/anyuser/a.txt", client="10.0.0.1")
    assert r.status_code == 500
    text = log(tmp_path)
    assert "AH01797" in text and "AH00028: No authentication done" in text


def test_require_host_is_double_reverse(app: App) -> None:
    assert get(app, "/host/a.txt").status_code == 200  # 127.0.0.1 <-> localhost
    # TEST-NET-1: no name at all
    assert get(app, "/host/a.txt", client="192.0.2.1").status_code == 403


def test_require_expr(app: App) -> None:
    assert get(app, "/expr/a.txt").status_code == 200
    assert get(app, "/expr/a.txt", method="HEAD").status_code == 200
    assert get(app, "/expr/a.txt", method="DELETE").status_code == 403
    assert get(app, "/expr/a.txt", client="10.0.0.1").status_code == 403


def test_a_denied_directory_denies_its_index(app: App) -> None:
    # mod_dir: the directory's own checks come before the index file's
    assert get(app, "/fdir/").status_code == 403
    assert get(app, "/fdir/pub.html").status_code == 200
    assert get(app, "/fdir/a.txt").status_code == 403


def test_auth_merging(app: App) -> None:
    assert get(app, "/merge/a.txt", client="10.2.0.1").status_code == 200
    # And: the parent's 10/8 and the child's 10.1
    assert get(app, "/merge/and/a.txt", client="10.1.0.1").status_code == 200
    assert get(app, "/merge/and/a.txt", client="10.2.0.1").status_code == 403
    # Off (default): the child's lines replace the parent's
    assert get(app, "/merge/off/a.txt").status_code == 200
    assert get(app, "/merge/off/a.txt", client="10.2.0.1").status_code == 403


#: XAMPP's httpd.conf and extra/httpd-xampp.conf (the 1.8 layout, 2.2-style access
#: control still in it), with its paths under a temporary root
XAMPP = """ServerRoot {root}
Listen 80
LoadModule access_compat_module modules/mod_access_compat.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule authz_host_module modules/mod_authz_host.so
LoadModule authz_user_module modules/mod_authz_user.so
LoadModule alias_module modules/mod_alias.so
LoadModule dir_module modules/mod_dir.so
LoadModule mime_module modules/mod_mime.so
ServerName localhost:80
ErrorLog {root}/error.log
<Directory />
    AllowOverride none
    Require all denied
</Directory>
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Options Indexes FollowSymLinks Includes ExecCGI
    AllowOverride All
    Require all granted
</Directory>
<IfModule dir_module>
    DirectoryIndex index.php index.pl index.cgi index.asp index.shtml index.html index.htm
</IfModule>
<Files ".ht*">
    Require all denied
</Files>
Alias /security "{root}/security/htdocs/"
<Directory "{root}/security/htdocs">
    <IfModule php5_module>
        <Files "xamppsecurity.php">
            php_admin_flag safe_mode off
        </Files>
    </IfModule>
    AllowOverride None
    Options None
    Order allow,deny
    Allow from all
</Directory>
<LocationMatch "^/(?i:(?:xampp|security|licenses|phpmyadmin|webalizer|server-status|server-info))">
    Order deny,allow
    Deny from all
    Allow from ::1 127.0.0.0/8 \\
        fc00::/7 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 \\
        fe80::/10 169.254.0.0/16
    ErrorDocument 403 /error/XAMPP_FORBIDDEN.html.var
</LocationMatch>
"""


def test_an_xampp_configuration_loads_and_protects_its_admin_pages(tmp_path: Path) -> None:
    for d in ("htdocs/xampp", "security/htdocs"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "htdocs" / "index.html").write_text("home\n")
    (tmp_path / "htdocs" / ".htpasswd").write_text("x:y\n")
    (tmp_path / "htdocs" / "xampp" / "index.html").write_text("admin\n")
    (tmp_path / "security" / "htdocs" / "index.html").write_text("security\n")
    conf = tmp_path / "httpd.conf"
    conf.write_text(XAMPP.format(root=tmp_path))
    app = App.build(load_config(str(conf), environ={}))
    try:
        assert get(app, "/", client="8.8.8.8").text == "home\n"
        assert get(app, "/.htpasswd").status_code == 403
        assert get(app, "/xampp/").text == "admin\n"
        # Allow from all does not lift the Require all denied inherited from <Directory
        # />: both modules must agree (checked on apache2 2.4: 403, AH01630)
        assert get(app, "/security/").status_code == 403
        for path in ("/xampp/", "/security/", "/XAMPP/index.html"):
            r = get(app, path, client="8.8.8.8")
            assert r.status_code == 403 and b"admin" not in r.content, path
        assert get(app, "/xampp/", client="192.168.1.9").status_code == 200
        assert get(app, "/xampp/", client="fe80::1").status_code == 200
    finally:
        app.close()
