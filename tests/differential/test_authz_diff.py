"""Access control on Apache and cgihttpd, one config and one tree: Require ip/host/
local/env/method/expr, ``Require not``, <RequireAll>/<RequireAny>/<RequireNone>,
AuthMerging, <Limit>/<LimitExcept>, Order/Allow/Deny, Satisfy, and a Require that
needs a user where no authentication is configured. Every client is 127.0.0.1, so the
address rules are written for it (``Require ip 127.0.0.1``) or against it
(``Require ip 10.0.0.0/8``). Same statuses, same error-log lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

MODS = "/usr/lib/apache2/modules"
CONFIG = config_head("authz_core", "authz_host", "authz_user", "authn_core", "access_compat", "env", "mime", "dir") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
</Directory>
<Directory "${ROOT}/site/ipok">
    Require ip 127.0.0.1 ::1
</Directory>
<Directory "${ROOT}/site/ipno">
    Require ip 10.0.0.0/8 192.168.0.0/255.255.0.0
</Directory>
<Directory "${ROOT}/site/partial">
    Require ip 127
</Directory>
<Directory "${ROOT}/site/notip">
    <RequireAll>
        Require all granted
        Require not ip 127.0.0.1
    </RequireAll>
</Directory>
<Directory "${ROOT}/site/notother">
    <RequireAll>
        Require all granted
        Require not ip 10.0.0.0/8
    </RequireAll>
</Directory>
<Directory "${ROOT}/site/none">
    <RequireAll>
        Require all granted
        <RequireNone>
            Require local
        </RequireNone>
    </RequireAll>
</Directory>
<Directory "${ROOT}/site/nested">
    <RequireAny>
        <RequireAll>
            Require ip 10.0.0.0/8
            Require all granted
        </RequireAll>
        <RequireAll>
            Require local
            Require method GET
        </RequireAll>
    </RequireAny>
</Directory>
<Directory "${ROOT}/site/env">
    SetEnv AUTHZ_X 1
    Require env AUTHZ_X
</Directory>
<Directory "${ROOT}/site/host">
    Require host localhost
</Directory>
<Directory "${ROOT}/site/expr">
    Require expr "%{REQUEST_METHOD} == 'GET' && %{REQUEST_URI} =~ m#^/expr/#"
</Directory>
<Directory "${ROOT}/site/exprip">
    Require expr %{REMOTE_ADDR} -ipmatch '10.0.0.0/8'
</Directory>
<Directory "${ROOT}/site/limit">
    <Limit POST PUT>
        Require all denied
    </Limit>
</Directory>
<Directory "${ROOT}/site/limitexcept">
    <LimitExcept GET>
        Require all denied
    </LimitExcept>
</Directory>
<Directory "${ROOT}/site/merge">
    Require ip 10.0.0.0/8
</Directory>
<Directory "${ROOT}/site/merge/and">
    AuthMerging And
    Require ip 127.0.0.1
</Directory>
<Directory "${ROOT}/site/merge/or">
    AuthMerging Or
    Require ip 127.0.0.1
</Directory>
<Directory "${ROOT}/site/merge/off">
    Require ip 127.0.0.1
</Directory>
<Directory "${ROOT}/site/compat">
    Order deny,allow
    Deny from all
    Allow from 127.0.0.1
</Directory>
<Directory "${ROOT}/site/compatdeny">
    Order allow,deny
    Allow from 10.0.0.0/8
</Directory>
<Directory "${ROOT}/site/compatall">
    Order Allow,Deny
    Allow from all
    Deny from 127.0.0
</Directory>
<Directory "${ROOT}/site/compatenv">
    Order allow,deny
    Allow from env=!AUTHZ_NOPE
</Directory>
<Directory "${ROOT}/site/compatlimit">
    <Limit POST>
        Order allow,deny
        Deny from all
    </Limit>
</Directory>
<Directory "${ROOT}/site/satisfyany">
    Require valid-user
    Order allow,deny
    Allow from 127.0.0.1
    Satisfy Any
</Directory>
<Directory "${ROOT}/site/satisfyall">
    Require valid-user
    Order allow,deny
    Allow from 127.0.0.1
    Satisfy All
</Directory>
<Directory "${ROOT}/site/satisfylog">
    Order allow,deny
    Allow from 10.0.0.0/8
    Satisfy Any
</Directory>
<Directory "${ROOT}/site/user">
    Require valid-user
</Directory>
"""

DIRS = ("ipok", "ipno", "partial", "notip", "notother", "none", "nested", "env", "host",
        "expr", "exprip", "limit", "limitexcept", "merge", "merge/and", "merge/or",
        "merge/off", "compat", "compatdeny", "compatall", "compatenv", "compatlimit",
        "satisfyany", "satisfyall", "satisfylog", "user")


@pytest.fixture(scope="module")
def apair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "authz"
    site_dirs(root)
    for d in DIRS:
        (root / "site" / d).mkdir(parents=True, exist_ok=True)
        (root / "site" / d / "a.txt").write_text(f"{d}\n")
    (root / "site" / "ipno" / "index.html").write_text("idx\n")
    with serving(root, CONFIG) as started:
        yield started


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/ipok/a.txt", 200),
    ("GET", "/ipno/a.txt", 403),
    ("GET", "/ipno/missing.txt", 403),  # access before existence
    ("GET", "/ipno", 403),  # before mod_dir's DirectorySlash
    ("GET", "/ipno/", 403),
    ("GET", "/partial/a.txt", 200),
    ("GET", "/notip/a.txt", 403),
    ("GET", "/notother/a.txt", 200),
    ("GET", "/none/a.txt", 403),
    ("GET", "/nested/a.txt", 200),
    ("DELETE", "/nested/a.txt", 403),
    ("GET", "/env/a.txt", 403),  # SetEnv is mod_env's fixup: after the access checks
    ("GET", "/host/a.txt", 200),  # 127.0.0.1 <-> localhost, double-reverse
    ("GET", "/expr/a.txt", 200),
    ("DELETE", "/expr/a.txt", 403),
    ("GET", "/exprip/a.txt", 403),
    ("GET", "/limit/a.txt", 200),
    ("POST", "/limit/a.txt", 403),
    ("DELETE", "/limit/a.txt", 405),
    ("GET", "/limitexcept/a.txt", 200),
    ("HEAD", "/limitexcept/a.txt", 200),
    ("DELETE", "/limitexcept/a.txt", 403),
    ("GET", "/merge/a.txt", 403),
    ("GET", "/merge/and/a.txt", 403),
    ("GET", "/merge/or/a.txt", 200),
    ("GET", "/merge/off/a.txt", 200),
    ("GET", "/compat/a.txt", 200),
    ("GET", "/compatdeny/a.txt", 403),
    ("GET", "/compatall/a.txt", 403),
    ("GET", "/compatenv/a.txt", 200),
    ("GET", "/compatlimit/a.txt", 200),
    ("POST", "/compatlimit/a.txt", 403),
    ("GET", "/satisfyany/a.txt", 200),
    ("GET", "/satisfyall/a.txt", 500),
    # Satisfy Any: Allow refuses (and logs AH01797), the inherited Require grants
    ("GET", "/satisfylog/a.txt", 200),
    ("GET", "/user/a.txt", 500),
])
def test_same_status(apair: Pair, method: str, path: str, status: int) -> None:
    for server in apair.both():
        resp = server.request(method, path)
        assert resp.status == status, (server.impl, method, path, resp.status)
        if status != 200:
            assert path.encode() not in resp.body or status == 404


_CLIENT = re.compile(r"^\[[^]]*\] (\[[a-z_]+:[a-z]+\]) \[pid [^]]*\] "
                     r"\[client [^]]*\] (.*)$")


def _line(path: Path, needle: str) -> tuple[str, str]:
    lines = [ln for ln in wait_for_lines(path, 1) if needle in ln]
    assert lines, (path, needle)
    m = _CLIENT.match(lines[-1])
    assert m, lines[-1]
    return m.group(1), m.group(2)


@pytest.mark.parametrize(("path", "needle"), [
    ("/ipno/a.txt", "AH01630"),
    ("/compatdeny/a.txt", "AH01797"),
    ("/user/a.txt", "AH00027"),
    ("/satisfylog/a.txt", "site/satisfylog/a.txt"),
])
def test_same_error_log_line(apair: Pair, path: str, needle: str) -> None:
    for server in apair.both():
        server.request("GET", path)
    apache = _line(apair.apache.log("error"), needle)
    ours = _line(apair.ours.log("error"), needle)
    assert ours == apache
