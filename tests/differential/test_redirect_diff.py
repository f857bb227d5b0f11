"""mod_alias's redirects on Debian's apache2 and on cgihttpd, one config: status,
Location, body and the access-log line must be the same.

Covers Redirect (prefix on segment boundaries, the rest escaped and appended, the query
kept), RedirectMatch ($N, a target with its own query, Debian's cgit snippet), the
status words, gone, RedirectTemp/RedirectPermanent, redirects before Alias, the forms
without a URL-path inside <Location> and <Directory>, <Directory> redirects (fixups:
before DirectorySlash, whether the file exists or not), a target that is not a URL (500
and AH00674) ';' in a DirectorySlash Location (ap_escape_uri keeps it) and a redirected
DirectoryIndex subrequest (mod_dir propagates it).

The port is normalised (Location is built from the Host header, and each server has
its own port); the signature line is cut, as in test_static_diff.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, build_site, config_head, start_pair, stop_pair, wait_for_lines

pytestmark = pytest.mark.differential

CONFIG = config_head("authz_core", "mime", "dir", "alias") + r"""
TypesConfig /etc/mime.types
LogFormat "%h \"%r\" %>s %b %U %q" redir
CustomLog "${ROOT}/logs/${IMPL}-access.log" redir
DocumentRoot "${ROOT}/site/default"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
</Directory>

Redirect /old http://example.com/new
Redirect permanent /perm /moved-here
# Debian's cgit snippet (/etc/apache2/conf-available/cgit.conf)
RedirectMatch ^/cgit$ /cgit/
RedirectMatch ^/img/(.*)\.gif$ http://img.example/$1.png
RedirectMatch seeother ^/see/(.*) /seen/$1?from=see
Redirect gone /gone
RedirectTemp /tmp-a /tmp-b
Redirect 307 /keep http://example.com/kept
Redirect /aliased/redir /from-alias
Alias /aliased/ "${ROOT}/site/aliased/"
RedirectMatch ^/relative(.*) relative$1
# mod_dir's index subrequest is redirected: the redirect is propagated
Redirect /idx2/index.html http://example.com/idx
<Location /loc>
    Redirect permanent http://example.com/loc-target
</Location>
<Location /locgone>
    Redirect gone
</Location>
<Directory "${ROOT}/site/default/sub">
    Redirect /sub /sub-moved
</Directory>
<Directory "${ROOT}/site/default/withindex">
    Redirect seeother http://example.com/dir-target
</Directory>
"""

CASES = [
    ("GET", "/old"),
    ("GET", "/old/"),
    ("GET", "/old/a%20b;c?x=1&y"),
    ("GET", "/older"),
    ("POST", "/old"),
    ("HEAD", "/old/x"),
    ("GET", "/perm/x"),
    ("GET", "/cgit"),
    ("GET", "/cgit?url=repo"),
    ("GET", "/cgit/"),
    ("GET", "/img/a%20b.gif?v=1"),
    ("GET", "/see/x?q=1"),
    ("GET", "/gone"),
    ("GET", "/gone/deeper"),
    ("HEAD", "/gone"),
    ("GET", "/tmp-a/b"),
    ("GET", "/keep"),
    ("GET", "/aliased/redir/x"),
    ("GET", "/aliased/al.txt"),
    ("GET", "/relative-x"),
    ("GET", "/loc"),
    ("GET", "/loc/any/thing?z=9"),
    ("GET", "/locgone/x"),
    ("GET", "/sub/inner.txt"),
    ("GET", "/sub"),
    ("GET", "/sub/missing"),
    ("GET", "/withindex/"),
    ("GET", "/withindex"),
    ("GET", "/semi;colon"),
    ("GET", "/idx2/"),
]

_ADDRESS = re.compile(rb"<hr>\s*<address>.*?</address>\s*", re.S)


@pytest.fixture(scope="module")
def redirect_pair(diff_root: Path) -> Iterator[Pair]:
    if not os.access("/usr/sbin/apache2", os.X_OK):
        pytest.fail("/usr/sbin/apache2 is not installed (scripts/install-test-deps)")
    root = diff_root / "redirect"
    root.mkdir()
    os.chmod(root, 0o755)
    build_site(root)
    semi = root / "site" / "default" / "semi;colon"
    semi.mkdir()
    os.chmod(semi, 0o755)
    idx2 = root / "site" / "default" / "idx2"
    idx2.mkdir()
    os.chmod(idx2, 0o755)
    (idx2 / "index.html").write_text("idx2\n")
    os.chmod(idx2 / "index.html", 0o644)
    conf = root / "redirect.conf"
    conf.write_text(CONFIG)
    os.chmod(conf, 0o644)
    started = start_pair(root, conf)
    try:
        yield started
    finally:
        stop_pair(started)


def _answer(pair: Pair, method: str, target: str) -> list[dict[str, object]]:
    out = []
    for server in pair.both():
        resp = server.request(method, target)
        port = f":{server.port}"
        location = resp.header("Location")
        out.append({
            "status": resp.status,
            "location": location.replace(port, ":PORT") if location else None,
            "type": resp.header("Content-Type"),
            "length": resp.header("Content-Length"),
            "body": _ADDRESS.sub(b"", resp.body.replace(port.encode(), b":PORT")),
        })
    return out


@pytest.mark.parametrize(("method", "target"), CASES)
def test_same_answer(redirect_pair: Pair, method: str, target: str) -> None:
    apache, ours = _answer(redirect_pair, method, target)
    assert ours == apache, f"{method} {target} differs (left: cgihttpd, right: apache)"


def test_same_access_log_and_error_line(redirect_pair: Pair) -> None:
    # a marker first: the lines after it are this test's, whatever came before (a log
    # line of an earlier test may still be on its way)
    _answer(redirect_pair, "GET", "/log-marker")
    for method, target in CASES:
        _answer(redirect_pair, method, target)
    logs = []
    for server in redirect_pair.both():
        lines: list[str] = []
        for _ in range(100):
            lines = wait_for_lines(server.log("access"), 0)
            marks = [i for i, line in enumerate(lines) if "/log-marker" in line]
            if marks and len(lines) - marks[-1] - 1 >= len(CASES):
                lines = lines[marks[-1] + 1:]
                break
            time.sleep(0.1)
        logs.append(lines)
    apache, ours = logs
    assert ours == apache
    for server in redirect_pair.both():
        text = server.log("error").read_text(errors="replace")
        assert ("AH00674: cannot redirect '/relative-x' to 'relative-x'; target is not a "
                "valid absoluteURI or abs_path") in text, server.impl
