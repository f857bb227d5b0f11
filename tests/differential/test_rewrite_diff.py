"""mod_rewrite on Apache and cgihttpd, one config and one tree: the classic front
controller ("not a file, not a directory → index.py") in a .htaccess and in a
<Directory> (the whole environment the script sees compared: REQUEST_URI, SCRIPT_NAME,
REDIRECT_URL, REDIRECT_STATUS, QUERY_STRING, SCRIPT_URL...), server-context rules
(R=301 with QSA and QSD, F, G, NC, OR, %N and $N back-references, E= seen by a script,
PT through an Alias, a rewrite to a script), RewriteBase, END, and a loop of internal
redirects that ends in 500."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, config_head, serving, site_dirs

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
CONFIG = config_head("authz_core", "mime", "dir", "cgid", "alias", "autoindex",
                     "rewrite") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
DirectoryIndex index.html
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    AllowOverride All
    Options +ExecCGI
    AddHandler cgi-script .py
    Require all granted
</Directory>
<Directory "${ROOT}/aliased">
    AllowOverride All
    Options +ExecCGI
    AddHandler cgi-script .py
    Require all granted
</Directory>
<Directory "${ROOT}/site/fcdir">
    RewriteEngine On
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteRule ^(.*)$ index.py [QSA,L]
</Directory>
<Directory "${ROOT}/site/idx">
    DirectoryIndex first.html index.py
</Directory>
<Directory "${ROOT}/site/nosym">
    Options -FollowSymLinks
</Directory>
Alias /aliased "${ROOT}/aliased"

RewriteEngine On
RewriteRule ^/old/(.*)$ /new/$1 [R=301,L]
RewriteRule ^/qsa/(.*)$ /new/$1?added=1 [R=301,QSA,L]
RewriteRule ^/qsd/(.*)$ /new/$1 [R,QSD,L]
RewriteRule ^/keepq/(.*)$ /new/$1 [R=302,L]
RewriteRule ^/ne/(.*)$ /new/$1 [R,NE,L]
RewriteRule ^/forbidden - [F]
RewriteRule ^/gone(/.*)?$ - [G]
RewriteRule ^/nocase/(.*)$ /new/nc-$1 [NC,R,L]
RewriteCond %{HTTP:X-Mode} ^a$ [OR]
RewriteCond %{QUERY_STRING} (^|&)mode=a(&|$)
RewriteRule ^/ormode$ /new/or-matched [R,L]
RewriteCond %{HTTP_HOST} ^([a-z]+)
RewriteRule ^/back/([a-z]+)/([0-9]+)$ /new/%1/$2/$1 [R,L]
RewriteCond %{REQUEST_METHOD} =POST
RewriteRule ^/postonly$ - [F]
RewriteRule ^/env/(.*)$ /env.py [E=REWRITTEN:$1,E=OTHER:x,L]
RewriteRule ^/pt/(.*)$ /aliased/$1 [PT]
RewriteRule ^/tofile$ /page.html [L]
RewriteCond %{HTTP_USER_AGENT} differential
RewriteRule ^/ua$ /page.html [L]
RewriteCond %{HTTP:X-Mode} ^a$ [OR]
RewriteCond %{HTTP_REFERER} ^r$
RewriteRule ^/uaredirect$ /new/x [R,L]
RewriteRule ^/http/(.*)$ http://elsewhere.test/$1 [L]
RewriteRule ^/space/(.*)$ /new/a\\ b/$1 [R,L]
"""

ENV_PY = (f"#!{PY}\nimport json, os\n"
          'print("Content-Type: application/json")\nprint()\n'
          'print(json.dumps(dict(os.environ), sort_keys=True))\n')

ECHO_PY = (f"#!{PY}\nimport os, sys\n"
           'data = sys.stdin.buffer.read()\n'
           'print("Content-Type: text/plain")\nprint()\n'
           'print(os.environ.get("CONTENT_LENGTH"), len(data), data[:20])\n')

FRONT = ("RewriteEngine On\n"
         "RewriteCond %{REQUEST_FILENAME} !-f\n"
         "RewriteCond %{REQUEST_FILENAME} !-d\n"
         "RewriteRule ^(.*)$ index.py [QSA,L]\n")

FILES = {
    "page.html": "page\n",
    "env.py": ENV_PY,
    "fc/.htaccess": FRONT,
    "fc/index.py": ENV_PY,
    "fc/real.txt": "real\n",
    "fc/sub/index.html": "sub index\n",
    "fcdir/index.py": ENV_PY,
    "fcdir/real.txt": "real\n",
    "based/.htaccess": ("RewriteEngine On\nRewriteBase /based/\n"
                        "RewriteRule ^go/(.*)$ target.py?x=$1 [L]\n"
                        "RewriteRule ^ext/(.*)$ elsewhere/$1 [R=302,L]\n"),
    "based/target.py": ENV_PY,
    "nobase/.htaccess": "RewriteEngine On\nRewriteRule ^ext/(.*)$ elsewhere/$1 [R=302,L]\n",
    "loop/.htaccess": "RewriteEngine On\nRewriteRule ^(.*)$ /loop/x$1\n",
    "ended/.htaccess": ("RewriteEngine On\nRewriteRule ^a$ /ended/b [END]\n"
                        "RewriteRule ^b$ /ended/c.txt\n"),
    "ended/b": "b\n",
    "ended/c.txt": "c\n",
    "chained/.htaccess": ("RewriteEngine On\n"
                          "RewriteRule ^x(.*)$ - [C]\n"
                          "RewriteRule ^(.*)$ /page.html [L]\n"
                          "RewriteRule ^skip$ - [S=1]\n"
                          "RewriteRule ^skip$ /forbidden\n"
                          "RewriteRule ^skip$ /page.html\n"),
    "nosym/.htaccess": "RewriteEngine On\nRewriteRule ^(.*)$ /page.html\n",
    "nosym/a.txt": "a\n",
    "../aliased/env.py": ENV_PY,
    # under an Alias: no RewriteBase needed (the context prefix replaces the path)
    "../aliased/fc/.htaccess": FRONT,
    "../aliased/fc/index.py": ENV_PY,
    "inh/.htaccess": "RewriteEngine On\nRewriteRule ^parent$ /page.html [L]\n",
    "inh/child/.htaccess": ("RewriteEngine On\nRewriteOptions Inherit\n"
                            "RewriteRule ^own$ /page.html [L]\n"),
    "noinh/.htaccess": "RewriteEngine On\nRewriteRule ^parent$ /page.html [L]\n",
    "noinh/child/.htaccess": "RewriteEngine On\nRewriteRule ^own$ /page.html [L]\n",
    "typed/.htaccess": ("RewriteEngine On\nRewriteRule ^data$ - [T=text/x-forced]\n"
                        "RewriteRule ^moved$ /page.html [T=text/x-forced]\n"),
    "typed/data": "data\n",
    # the shared-host way to mount a WSGI app (flask through CGIHandler): PATH_INFO
    "pi/.htaccess": ("RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\n"
                     "RewriteRule ^(.*)$ index.py/$1 [L,QSA]\n"),
    "pi/index.py": ENV_PY,
    "post/.htaccess": FRONT,
    # the first index's sub-request is rewritten (query and variable changed) and not
    # used: the request keeps its own
    "idx/.htaccess": ("RewriteEngine On\n"
                      "RewriteRule ^first\\.html$ /nowhere?changed=1 [E=SUB:1,L]\n"),
    "idx/index.py": ENV_PY,
    "post/index.py": ECHO_PY,
}

#: differ by nature: the product, the client's port
_DIFFERENT = ("SERVER_SOFTWARE", "REMOTE_PORT")


@pytest.fixture(scope="module")
def rpair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "rewrite"
    site_dirs(root, FILES)
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


def _answers(pair: Pair, target: str, method: str = "GET",
             headers: dict[str, str] | None = None,
             ) -> list[tuple[int, str | None, bytes, str | None, str | None]]:
    out = []
    for server in pair.both():
        resp = server.request(method, target, headers, host="localhost")
        location = resp.header("Location")
        if location is not None:
            location = location.replace(f":{server.port}", ":PORT")
        out.append((resp.status, location, resp.body if resp.status == 200 else b"",
                    resp.header("Vary"), resp.header("Content-Type")))
    return out


def _envs(pair: Pair, target: str, method: str = "GET") -> list[dict[str, str]]:
    envs = []
    for server in pair.both():
        resp = server.request(method, target, {"Content-Length": "0"} if method == "POST"
                              else None, host="localhost")
        assert resp.status == 200, (server.impl, target, resp.status, resp.body[:300])
        env = json.loads(resp.body)
        for name in _DIFFERENT:
            env.pop(name, None)
        for name, value in list(env.items()):
            env[name] = value.replace(str(server.port), "PORT")
        envs.append(env)
    return envs


@pytest.mark.parametrize("target", ["/fc/blog/post/1", "/fc/missing.html?a=b%20c",
                                    "/fc/a%20b/c", "/fcdir/x/y?q=1",
                                    "/aliased/fc/some/path?a=1", "/pi/hello/world?x=1",
                                    "/pi/"])
def test_front_controller_environment(rpair: Pair, target: str) -> None:
    apache, ours = _envs(rpair, target)
    assert ours == apache
    assert apache["REQUEST_URI"] == target
    assert apache["REDIRECT_STATUS"] == "200"


@pytest.mark.parametrize("target", ["/env/abc?z=1", "/pt/env.py/extra?q", "/based/go/1",
                                    "/idx/?q=1", "/based/go/caf%C3%A9",
                                    "/fc/caf%C3%A9/x%20y?k=%C3%A9",
                                    "/fc/index.py", "/env.py"])
def test_script_environment(rpair: Pair, target: str) -> None:
    apache, ours = _envs(rpair, target)
    assert ours == apache


def _post(port: int, target: str, body: bytes) -> tuple[int, bytes]:
    head = (f"POST {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        return resp.status, resp.read()


def test_front_controller_passes_the_body_on(rpair: Pair) -> None:
    bodies = []
    for server in rpair.both():
        bodies.append(_post(server.port, "/post/form/1", b"hello world"))
    assert bodies[1] == bodies[0]
    assert bodies[0] == (200, b"11 11 b'hello world'\n")


def test_front_controller_keeps_a_post(rpair: Pair) -> None:
    apache, ours = _envs(rpair, "/fc/form", method="POST")
    assert ours == apache
    assert apache["REQUEST_METHOD"] == "POST"


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/fc/real.txt", 200),  # an existing file is served
        ("/fc/sub/", 200),  # an existing directory: its index
        ("/fc/sub", 301),  # mod_dir's slash first
        # a directory: not rewritten; its missing index's sub-request is, and so is
        # no file: no index (and no listing: Options -Indexes)
        ("/fcdir/", 403),
        ("/old/a/b?x=1", 301),
        ("/qsa/p?q=2", 301),
        ("/qsd/p?q=2", 302),
        ("/keepq/p?q=2", 302),
        ("/old/caf%C3%A9?x=%20", 301),
        ("/ne/caf%C3%A9%3Cb", 302),
        ("/forbidden", 403),
        ("/gone/x", 410),
        ("/NoCase/Y", 302),
        ("/ormode?mode=a", 302),
        ("/ormode", 404),
        ("/back/abc/42", 302),
        ("/tofile", 200),
        ("/ua", 200),  # Vary: User-Agent
        ("/uaredirect", 404),
        ("/http/x?y=1", 302),
        ("/space/c", 302),
        ("/based/ext/1", 302),
        ("/nobase/ext/1", 302),
        ("/loop/a", 500),
        ("/ended/a", 200),
        ("/chained/xy", 200),
        ("/chained/skip", 200),
        ("/nosym/a.txt", 403),
        ("/inh/child/parent", 200),
        ("/inh/child/own", 200),
        ("/noinh/child/parent", 404),
        ("/noinh/child/own", 200),
    ],
)
def test_same_answer(rpair: Pair, target: str, status: int) -> None:
    apache, ours = _answers(rpair, target)
    assert ours == apache, (target, "cgihttpd", ours[:2], "apache", apache[:2])
    assert apache[0] == status


def test_ormode_by_header(rpair: Pair) -> None:
    apache, ours = _answers(rpair, "/ormode", headers={"X-Mode": "a"})
    assert ours == apache
    assert apache[0] == 302


def test_forced_type(rpair: Pair) -> None:
    apache, ours = _answers(rpair, "/typed/data")
    assert ours == apache
    assert apache[4] == "text/x-forced"
    # the type was the redirected request's, not the page's
    apache, ours = _answers(rpair, "/typed/moved")
    assert ours == apache
    assert apache[4] == "text/html"


VCONFIG = config_head("authz_core", "mime", "dir", "cgid", "rewrite") + """
TypesConfig /etc/mime.types
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    AllowOverride All
    Options +ExecCGI
    AddHandler cgi-script .py
    Require all granted
</Directory>
RewriteEngine On
RewriteRule ^/main/(.*)$ /new/main-$1 [R,L]
<VirtualHost *:${PORT}>
    ServerName course.test
    DocumentRoot "${ROOT}/site"
</VirtualHost>
<VirtualHost *:${PORT}>
    ServerName app.test
    DocumentRoot "${ROOT}/site/fc"
    DirectoryIndex index.py
</VirtualHost>
<VirtualHost *:${PORT}>
    ServerName inherit.test
    DocumentRoot "${ROOT}/site"
    RewriteEngine On
    RewriteOptions Inherit
    RewriteRule ^/vh/(.*)$ /new/vh-$1 [R,L]
</VirtualHost>
"""


@pytest.fixture(scope="module")
def vpair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "rewrite-vhosts"
    site_dirs(root, {"fc/.htaccess": FRONT, "fc/index.py": ENV_PY,
                     "quiet/.htaccess": FRONT.replace("RewriteEngine On\n", ""),
                     "quiet/index.py": ENV_PY})
    with serving(root, VCONFIG, lambda name: name.endswith(".py")) as started:
        yield started


@pytest.mark.parametrize(("host", "target", "status"), [
    ("course.test", "/main/x", 404),  # the main server's rules stay there
    ("inherit.test", "/main/x", 302),  # ... unless RewriteOptions Inherit
    ("inherit.test", "/vh/x", 302),
    ("course.test", "/fc/a/b", 200),
    # no RewriteEngine in the .htaccess: the main server's On is inherited
    ("course.test", "/quiet/a/b", 200),
    # a front controller at the DocumentRoot, index.py its DirectoryIndex
    ("app.test", "/", 200),
    ("app.test", "/x/y?z=1", 200),
    ("app.test", "/index.py", 200),
])
def test_virtual_hosts(vpair: Pair, host: str, target: str, status: int) -> None:
    answers = []
    for server in vpair.both():
        resp = server.request("GET", target, host=host)
        location = resp.header("Location")
        env = {}
        if resp.header("Content-Type") == "application/json":
            env = {k: v.replace(str(server.port), "P") for k, v in json.loads(resp.body).items()
                   if k not in _DIFFERENT}
        answers.append((resp.status, location and location.replace(str(server.port), "P"),
                        env))
    assert answers[1] == answers[0]
    assert answers[0][0] == status


@pytest.mark.parametrize("host", ["course.test", "inherit.test"])
def test_front_controller_in_a_course_vhost(vpair: Pair, host: str) -> None:
    envs = []
    for server in vpair.both():
        resp = server.request("GET", "/fc/page?x=1", host=host)
        assert resp.status == 200, (server.impl, resp.status)
        env = json.loads(resp.body)
        for name in _DIFFERENT:
            env.pop(name, None)
        envs.append({k: v.replace(str(server.port), "PORT") for k, v in env.items()})
    assert envs[1] == envs[0]
    assert ("SCRIPT_URL" in envs[0]) == (host == "inherit.test")


def test_post_only_rule(rpair: Pair) -> None:
    apache, ours = _answers(rpair, "/postonly", method="POST",
                            headers={"Content-Length": "0"})
    assert ours == apache and apache[0] == 403
    apache, ours = _answers(rpair, "/postonly")
    assert ours == apache and apache[0] == 404


def _error_lines(path: Path, needle: str) -> list[str]:
    return [line for line in path.read_text().splitlines() if needle in line]


def test_loop_and_symlink_error_lines(rpair: Pair) -> None:
    for target in ("/loop/b", "/nosym/a.txt"):
        _answers(rpair, target)
    for needle in ("AH00124", "AH00670"):
        for server in rpair.both():
            lines = _error_lines(server.log("error"), needle)
            assert lines, (server.impl, needle)
        apache_line = _error_lines(rpair.apache.log("error"), needle)[-1]
        ours_line = _error_lines(rpair.ours.log("error"), needle)[-1]
        assert ours_line[ours_line.index(needle):] == apache_line[apache_line.index(needle):]
