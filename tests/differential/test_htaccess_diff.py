""".htaccess on Apache and cgihttpd, one config and one tree: settings from a .htaccess
(DirectoryIndex, ErrorDocument, Options -Indexes), AllowOverride None (the file is not
read), a class AllowOverride does not allow and an unknown directive (500 on both, the
same error-log line), a nested file overriding its parent, and authentication (401 on both; the
cases of authentication are test_auth_diff.py's)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

MODS = "/usr/lib/apache2/modules"
CONFIG = config_head("authz_core", "authz_user", "authn_core", "authn_file", "auth_basic", "mime", "dir", "autoindex") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    AllowOverride All
    Options +Indexes
    Require all granted
</Directory>
<Directory "${ROOT}/site/none">
    AllowOverride None
</Directory>
<Directory "${ROOT}/site/indexes">
    AllowOverride Indexes
</Directory>
"""

FILES = {
    "index.html": "top\n",
    "di/.htaccess": "DirectoryIndex start.html\n",
    "di/start.html": "start\n",
    "ed/.htaccess": "ErrorDocument 404 /ed/missing.html\n",
    "ed/missing.html": "custom missing\n",
    "noidx/.htaccess": "Options -Indexes\n",
    "noidx/a.txt": "a\n",
    "none/.htaccess": "Foo bar\n",
    "none/index.html": "none\n",
    "indexes/.htaccess": "AddType text/plain .x\n",
    "indexes/a.txt": "a\n",
    "unknown/.htaccess": "DirectoryIndex a.txt\nFoo bar\n",
    "unknown/a.txt": "a\n",
    "auth/.htaccess": "AuthType Basic\nAuthName private\nAuthUserFile /nonexistent\n"
                      "Require valid-user\n",
    "auth/secret.txt": "secret\n",
    "nest/.htaccess": "DirectoryIndex a.html\n",
    "nest/a.html": "nest a\n",
    "nest/b.html": "nest b\n",
    "nest/in/.htaccess": "DirectoryIndex b.html\n",
    "nest/in/a.html": "in a\n",
    "nest/in/b.html": "in b\n",
}


@pytest.fixture(scope="module")
def hpair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "htaccess"
    site_dirs(root, FILES)
    with serving(root, CONFIG) as started:
        yield started


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/di/", 200, b"start\n"),
        ("/ed/nope", 404, b"custom missing\n"),
        ("/noidx/", 403, None),
        ("/none/", 200, b"none\n"),
        ("/indexes/a.txt", 500, None),
        ("/unknown/a.txt", 500, None),
        ("/nest/", 200, b"nest a\n"),
        ("/nest/in/", 200, b"in b\n"),
    ],
)
def test_same_answer(hpair: Pair, path: str, status: int, body: bytes | None) -> None:
    for server in hpair.both():
        resp = server.request("GET", path)
        assert resp.status == status, (server.impl, path, resp.status)
        if body is not None:
            assert resp.body == body, (server.impl, path)


_CLIENT = re.compile(r"^\[[^]]*\] (\[[a-z_]+:[a-z]+\]) \[pid [^]]*\] (?:\([^)]*\)[^[]*)?"
                     r"\[client [^]]*\] (.*)$")


def _line(path: Path, needle: str) -> tuple[str, str]:
    lines = [ln for ln in wait_for_lines(path, 1) if needle in ln]
    assert lines, (path, needle)
    m = _CLIENT.match(lines[-1])
    assert m, lines[-1]
    return m.group(1), m.group(2)


@pytest.mark.parametrize(("path", "needle"), [
    ("/unknown/a.txt", "/unknown/.htaccess:"),
    ("/indexes/a.txt", "/indexes/.htaccess:"),
])
def test_same_error_log_line(hpair: Pair, path: str, needle: str) -> None:
    for server in hpair.both():
        assert server.request("GET", path).status == 500
    apache = _line(hpair.apache.log("error"), needle)
    ours = _line(hpair.ours.log("error"), needle)
    assert ours == apache


def test_authentication_asks_for_a_password(hpair: Pair) -> None:
    """AuthType Basic in a .htaccess: a 401 with the challenge on both, never the page
    (the password file is only read once credentials come)."""
    for server in hpair.both():
        resp = server.request("GET", "/auth/secret.txt")
        assert resp.status == 401 and b"secret" not in resp.body, server.impl
        assert resp.header("WWW-Authenticate") == 'Basic realm="private"', server.impl
