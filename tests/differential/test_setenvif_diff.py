"""mod_setenvif on Apache and cgihttpd, one config and one tree: SetEnvIf on headers,
special attributes, earlier variables and header-name regexes, BrowserMatch(NoCase),
``!var`` and ``$N``; the variables as a CGI script sees them, ``Require env`` fed by a
server-level and a directory-level condition, and ``CustomLog ... env=`` with
``%{VAR}e``."""

from __future__ import annotations

import http.client
import os
import socket
from collections.abc import Iterator

import pytest
from diffsupport import Pair, Server, config_head, start_pair, stop_pair, wait_for_lines

from support import readable_by_all

pytestmark = pytest.mark.differential

MODS = "/usr/lib/apache2/modules"
CONFIG = config_head("authz_core", "authz_host", "env", "mime", "cgid", "setenvif") + r"""
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
LogFormat "%U [%{SEI_MOZ}e] [%{SEI_TAG}e] [%{SEI_SETENV}e]" sei
CustomLog "${ROOT}/logs/${IMPL}-sei.log" sei env=SEI_TAG
SetEnvIf User-Agent ^Mozilla/(\d+)\.(\d+) SEI_MOZ=$1 SEI_MINOR=$2 SEI_ALL=$0
BrowserMatch MSIE SEI_IE
BrowserMatchNoCase msie SEI_IE_ANYCASE
BrowserMatch compatible SEI_LITERAL=$1
SetEnvIf X-Tag (.+) SEI_TAG=$1 SEI_GONE
SetEnvIf X-Drop yes !SEI_GONE
SetEnvIf SEI_TAG ^a SEI_FROMVAR=tag-$0
SetEnvIf Request_Method ^POST$ SEI_POST
SetEnvIf Request_URI ^/cgi/ SEI_URI
SetEnvIf Request_Protocol ^HTTP/1\.1$ SEI_PROTO
SetEnvIf Remote_Addr ^127\. SEI_LOCAL
SetEnvIf Server_Addr ^127\.0\.0\.1$ SEI_SERVER
SetEnvIf ^X-Na.e$ ^(.*)$ SEI_NAMEX=$1
SetEnvIf X-Missing ^$ SEI_MISSING
SetEnvIf User-Agent gate SEI_LET
SetEnvIf X-Override . SEI_SETENV=fromsetenvif
SetEnv SEI_SETENV fromsetenv
SetEnvIfExpr "req('X-Expr') == 'go' && %{REQUEST_METHOD} == 'GET'" SEI_EXPR=yes SEI_EXPR2
SetEnvIfExpr "-n %{HTTP:X-Expr} && %{QUERY_STRING} =~ /^q=/" SEI_EXPRQ
SetEnvIfExpr "reqenv('SEI_TAG') == 'abc'" SEI_EXPRENV=!SEI_TAG
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory "${ROOT}/site">
    Require all granted
</Directory>
<Directory "${ROOT}/site/cgi">
    Options +ExecCGI
    AddHandler cgi-script .py
    AllowOverride FileInfo
    SetEnvIf Request_URI env\.py$ SEI_DIR
    SetEnvIfNoCase X-Dir ^on$ SEI_XDIR
</Directory>
<Directory "${ROOT}/site/gated">
    Require env SEI_LET
</Directory>
<Directory "${ROOT}/site/dirgated">
    SetEnvIf X-Key ^open$ SEI_DIRLET
    Require env SEI_DIRLET
</Directory>
"""

SCRIPT = """#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
for k in sorted(os.environ):
    if k.upper().startswith("SEI_"):
        print(f"{k}={os.environ[k]}")
"""


@pytest.fixture(scope="module")
def spair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("setenvif")
    for sub in ("logs", "run", "site/cgi", "site/gated", "site/dirgated"):
        (root / sub).mkdir(parents=True)
    (root / "site" / "cgi" / "env.py").write_text(SCRIPT)
    (root / "site" / "cgi" / ".htaccess").write_text("SetEnvIf X-Hta ^1$ SEI_HTA=h\n")
    for d in ("gated", "dirgated"):
        (root / "site" / d / "a.txt").write_text(f"{d}\n")
    readable_by_all(root)
    os.chmod(root / "site" / "cgi" / "env.py", 0o755)
    conf = root / "httpd.conf"
    conf.write_text(CONFIG)
    os.chmod(conf, 0o644)
    started = start_pair(root, conf)
    try:
        yield started
    finally:
        stop_pair(started)


def send(server: Server, method: str, target: str,
         headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    """One request with exactly ``headers`` (no User-Agent unless given)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    raw = ("\r\n".join(lines) + "\r\n")
    if method == "POST":
        raw += "Content-Length: 0\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall((raw + "\r\n").encode("latin-1"))
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        return resp.status, resp.read()


CGI_CASES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "none": ("GET", []),
    "mozilla": ("GET", [("User-Agent", "Mozilla/5.0 (X11; Linux)")]),
    "msie": ("GET", [("User-Agent", "Mozilla/4.0 (compatible; MSIE 6.0)")]),
    "msie-lower": ("GET", [("User-Agent", "something msie")]),
    "tag": ("GET", [("X-Tag", "abc")]),
    "tag-dropped": ("GET", [("X-Tag", "xyz"), ("X-Drop", "yes")]),
    "tags-merged": ("GET", [("X-Tag", "a1"), ("X-Tag", "b2")]),
    "post": ("POST", [("X-Name", "named")]),
    "name-regex": ("GET", [("X-Nabe", "v1"), ("X-Name", "v2")]),
    "directory": ("GET", [("X-Dir", "ON"), ("X-Hta", "1")]),
    "setenv-wins": ("GET", [("X-Override", "1")]),
    "missing-present": ("GET", [("X-Missing", "here")]),
    "expr": ("GET", [("X-Expr", "go")]),
    "expr-query": ("GET?q=1", [("X-Expr", "other")]),
    "expr-env": ("GET", [("X-Tag", "abc")]),
}


@pytest.mark.parametrize("case", sorted(CGI_CASES))
def test_script_sees_the_same_variables(spair: Pair, case: str) -> None:
    method, headers = CGI_CASES[case]
    method, _, query = method.partition("?")
    target = "/cgi/env.py" + ("?" + query if query else "")
    got = {s.impl: send(s, method, target, headers) for s in spair.both()}
    apache, ours = got[spair.apache.impl], got[spair.ours.impl]
    assert apache[0] == 200, apache
    assert ours == apache


@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/gated/a.txt", [("User-Agent", "let me through: gate")], 200),
    ("/gated/a.txt", [("User-Agent", "nope")], 403),
    ("/dirgated/a.txt", [("X-Key", "open")], 200),
    ("/dirgated/a.txt", [("X-Key", "closed")], 403),
])
def test_require_env_sees_setenvif(spair: Pair, path: str, headers: list[tuple[str, str]],
                                   status: int) -> None:
    for server in spair.both():
        assert send(server, "GET", path, headers)[0] == status, server.impl


def test_custom_log_env_condition_and_env_format(spair: Pair) -> None:
    requests = [("/gated/a.txt", [("User-Agent", "gate")]),
                ("/dirgated/a.txt", [("User-Agent", "Mozilla/3.1"), ("X-Tag", "logged"),
                                     ("X-Key", "open")]),
                ("/cgi/env.py", [("X-Tag", "t2"), ("X-Override", "1")])]
    found = {}
    for server in spair.both():
        before = len(wait_for_lines(server.log("sei"), 0, 0))
        for path, headers in requests:
            send(server, "GET", path, headers)
        found[server.impl] = wait_for_lines(server.log("sei"), before + 2)[before:]
    assert found[spair.apache.impl] == [
        "/dirgated/a.txt [3] [logged] [fromsetenv]", "/cgi/env.py [-] [t2] [fromsetenv]"]
    assert found[spair.ours.impl] == found[spair.apache.impl]
