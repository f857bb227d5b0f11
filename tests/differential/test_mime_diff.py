"""mod_mime's per-directory tables on Apache and cgihttpd, one config and one tree:
AddCharset (alone, with AddType, replacing a charset the type had, undone by
RemoveCharset), RemoveType undoing an inherited AddType (and mime.types' entry with it),
RemoveType in the same section as the AddType, and AddDefaultCharset beside them.
Compared: status, Content-Type and body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, config_head, serving, site_dirs

pytestmark = pytest.mark.differential

MODS = "/usr/lib/apache2/modules"
CONFIG = config_head("authz_core", "mime", "dir") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
AddType text/x-thing .thing .html
AddCharset UTF-8 .utf8
AddCharset iso-2022-jp .jis
AddType "text/plain; charset=us-ascii" .asc
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    AllowOverride All
    Require all granted
</Directory>
<Directory "${ROOT}/site/sub">
    RemoveType .thing .html .css
    RemoveCharset .jis
</Directory>
<Directory "${ROOT}/site/same">
    AddType text/x-same .same
    RemoveType .same
</Directory>
<Directory "${ROOT}/site/dflt">
    AddDefaultCharset utf-8
</Directory>
"""

FILES = {
    "page.html.utf8": "utf8\n",
    "page.utf8": "bare\n",
    "data.json.utf8": "{}\n",
    "page.jis": "jis\n",
    "a.thing": "thing\n",
    "a.html": "html\n",
    "note.asc.utf8": "asc\n",
    "sub/a.thing": "thing\n",
    "sub/a.html": "html\n",
    "sub/a.css": "css\n",
    "sub/a.txt.html": "txt html\n",
    "sub/a.html.txt": "html txt\n",
    "sub/page.jis": "jis\n",
    "sub/page.txt.utf8": "txt\n",
    "same/a.same": "same\n",
    "dflt/a.txt": "txt\n",
    "dflt/a.txt.jis": "txt jis\n",
    "ht/.htaccess": "RemoveType .thing\nAddCharset Shift_JIS .sj\n",
    "ht/a.thing": "thing\n",
    "ht/a.txt.sj": "sj\n",
    "ht/in/.htaccess": "AddType text/x-again .thing\n",
    "ht/in/a.thing": "again\n",
}


@pytest.fixture(scope="module")
def mpair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "mime"
    site_dirs(root, FILES)
    with serving(root, CONFIG) as started:
        yield started


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/page.html.utf8", "text/x-thing; charset=utf-8"),
        ("/page.utf8", None),
        ("/data.json.utf8", "application/json; charset=utf-8"),
        ("/page.jis", None),
        ("/a.thing", "text/x-thing"),
        ("/a.html", "text/x-thing"),
        ("/note.asc.utf8", "text/plain; charset=utf-8"),
        ("/sub/a.thing", None),
        ("/sub/a.html", None),
        ("/sub/a.css", None),
        ("/sub/a.txt.html", "text/plain"),
        ("/sub/a.html.txt", "text/plain"),
        ("/sub/page.jis", None),
        ("/sub/page.txt.utf8", "text/plain; charset=utf-8"),
        ("/same/a.same", None),
        ("/dflt/a.txt", "text/plain; charset=utf-8"),
        ("/dflt/a.txt.jis", "text/plain; charset=iso-2022-jp"),
        ("/ht/a.thing", None),
        ("/ht/a.txt.sj", "text/plain; charset=shift_jis"),
        ("/ht/in/a.thing", "text/x-again"),
    ],
)
def test_same_content_type(mpair: Pair, path: str, ctype: str | None) -> None:
    answers = []
    for server in mpair.both():
        resp = server.request("GET", path)
        answers.append((resp.status, resp.header("Content-Type"), resp.body))
    apache, ours = answers
    assert ours == apache, (path, "cgihttpd", ours, "apache", apache)
    assert apache[0] == 200 and apache[1] == ctype, (path, apache)
