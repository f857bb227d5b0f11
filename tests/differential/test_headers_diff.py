"""mod_headers on Apache and cgihttpd, one config and one tree: ``Header`` set, add,
append, merge, unset, setifempty, edit, edit*, echo with env= and expr= conditions and
the %t/%D/%{VAR}e tags; Apache's two tables (a static file and a script's own status
take both, a page the server makes only ``always``; a script's fields are touched only
by ``always``); sections and a .htaccess (FileInfo) merged in order; ``RequestHeader``
as a script (HTTP_*) and the access log (%{...}i) see it."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, Response, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
CONFIG = config_head("authz_core", "mime", "alias", "cgid", "env", "setenvif",
                     "headers") + r"""
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
LogFormat "%U [%{X-Req}i] [%{X-Edit}i] [%{User-Agent}i]" hdr
CustomLog "${ROOT}/logs/${IMPL}-hdr.log" hdr
CustomLog "${ROOT}/logs/${IMPL}-expr.log" "%U %>s" "expr=%{REQUEST_STATUS} -ge 400 || req('X-Log') == 'yes'"
Redirect /old http://x.test/new
SetEnvIf X-Tag . tagged
SetEnv who me
Header set X-On on
Header always set X-Always always
Header always append X-Script appended
Header unset Set-Cookie
Header add X-Multi one
Header add X-Multi two
Header merge X-Multi one
Header merge X-Multi three
Header echo ^X-Echo
Header always set X-Env yes env=tagged
Header always set X-NoEnv yes env=!tagged
Header always set X-Expr yes "expr=%{REQUEST_URI} =~ m#^/cgi#"
Header always setifempty X-Empty filled
Header always edit* X-Edit2 a b
Header always edit X-Edit1 a b
Header set X-Fmt "%t %D %{who}e %{none}e 100%%"
RequestHeader set X-Req "req %{who}e"
RequestHeader edit X-Edit "^(.)" "<$1>"
RequestHeader unset User-Agent
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .py
    Header set X-Dir dir
</Directory>
<Directory "${ROOT}/site/sub">
    AllowOverride FileInfo
    Header unset X-Dir
    Header set X-Sub sub
</Directory>
"""

SCRIPT = f"""#!{PY}
import os
q = os.environ.get("QUERY_STRING", "")
print("Content-Type: text/plain")
print("X-Script: fromscript")
print("Set-Cookie: a=1")
print("X-Empty:")
print("X-Edit1: aaa")
print("X-Edit2: aaa")
if q == "404":
    print("Status: 404 Nope")
if q == "302":
    print("Location: http://x.test/")
print()
for k in sorted(os.environ):
    if k.startswith("HTTP_X") or k == "HTTP_USER_AGENT":
        print(k, "=", os.environ[k])
"""

FILES = {
    "a.html": "hello\n",
    "sub/b.html": "sub\n",
    "sub/deeper/c.html": "deeper\n",
    "sub/deeper/.htaccess": "Header set X-Htaccess ht\nHeader unset X-Sub\n",
    "cgi/s.py": SCRIPT,
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("headers")
    site_dirs(root, FILES)
    (root / "site" / "a.html").touch()
    os.utime(root / "site" / "a.html", (1_700_000_000, 1_700_000_000))
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


def fields(r: Response) -> list[tuple[str, str]]:
    """The fields mod_headers can touch, sorted (the two servers order the others
    their own way), the time tags reduced to their form."""
    out = []
    for k, v in r.headers.items():
        k = k.lower()
        if k.startswith("x-") or k in ("set-cookie", "location"):
            v = re.sub(r"\bt=\d{16}\b", "t=T", v)
            out.append((k, re.sub(r"\bD=\d+\b", "D=D", v)))
    return sorted(out)


HEADERS = {"X-Tag": "1", "X-Edit": "abc", "X-Echo-Me": "echoed"}


@pytest.mark.parametrize("target", [
    "/a.html", "/missing", "/old", "/sub/b.html", "/sub/deeper/c.html",
    "/cgi/s.py", "/cgi/s.py?404", "/cgi/s.py?302",
])
def test_response_fields(pair: Pair, target: str) -> None:
    a = pair.apache.request("GET", target, HEADERS)
    o = pair.ours.request("GET", target, HEADERS)
    assert (o.status, fields(o)) == (a.status, fields(a))
    if target.startswith("/cgi/s.py") and a.status != 302:
        assert o.body == a.body  # RequestHeader: what the script sees as HTTP_*


def test_not_modified_takes_the_onsuccess_table(pair: Pair) -> None:
    etag = pair.apache.request("GET", "/a.html").header("ETag") or ""
    a = pair.apache.request("GET", "/a.html", {"If-None-Match": etag})
    o = pair.ours.request("GET", "/a.html", {"If-None-Match": etag})
    assert (a.status, o.status) == (304, 304)
    assert fields(o) == fields(a)
    assert ("x-on", "on") in fields(o)


def test_request_header_in_the_access_log(pair: Pair) -> None:
    for target in ("/a.html", "/old", "/cgi/s.py"):
        for server in pair.both():
            server.request("GET", target, {"X-Edit": "zzz"})

    def logged(path: Path) -> list[str]:
        end = time.monotonic() + 10
        while True:
            lines = [x for x in wait_for_lines(path, 1) if "zz]" in x]
            if len(lines) >= 3 or time.monotonic() > end:
                return lines
            time.sleep(0.05)

    a, o = logged(pair.apache.log("hdr")), logged(pair.ours.log("hdr"))
    assert o == a
    assert a[1] == "/old [-] [zzz] [differential/1]"  # no fixups before a redirect


def test_custom_log_expr_condition(pair: Pair) -> None:
    for target, headers in (("/missing-expr", {}), ("/a.html", {}),
                            ("/sub/b.html", {"X-Log": "yes"}), ("/old", {})):
        for server in pair.both():
            server.request("GET", target, headers)
    a = [x for x in wait_for_lines(pair.apache.log("expr"), 3) if "/a.html" not in x]
    o = wait_for_lines(pair.ours.log("expr"), len(a))
    assert "/missing-expr 404" in a and "/sub/b.html 200" in a
    assert sorted(o) == sorted(a)  # what the other tests asked for too
