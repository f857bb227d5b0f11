"""mod_dir FallbackResource on Apache and cgihttpd, one config and one tree: the classic
front controller (a CGI serving every URL that maps to no file, REQUEST_URI kept; the
whole environment it sees compared), existing files and directories served as they
are, a missing URL with a handler of its own (AddHandler) keeping its 404, a fallback
to a static file, from a .htaccess, "disabled" in a subdirectory, a relative fallback,
and a fallback that does not exist (the request's own 404)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, config_head, serving, site_dirs

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
MODS = "/usr/lib/apache2/modules"
CONFIG = config_head("authz_core", "mime", "dir", "cgid", "autoindex") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    AllowOverride Indexes
    Options +ExecCGI
    AddHandler cgi-script .py
    Require all granted
    FallbackResource /index.py
</Directory>
<Directory "${ROOT}/site/static">
    FallbackResource /static/fallback.html
</Directory>
<Directory "${ROOT}/site/off">
    FallbackResource disabled
</Directory>
<Directory "${ROOT}/site/rel">
    FallbackResource here.html
</Directory>
<Directory "${ROOT}/site/gone">
    FallbackResource /off/nothing-here.html
</Directory>
"""

ENV_PY = (f"#!{PY}\nimport json, os\n"
          'print("Content-Type: application/json")\nprint()\n'
          'print(json.dumps(dict(os.environ), sort_keys=True))\n')

FILES = {
    "index.py": ENV_PY,
    "page.html": "page\n",
    "dir/a.txt": "a\n",
    "static/fallback.html": "fallback\n",
    "static/real.txt": "real\n",
    "off/a.txt": "a\n",
    "rel/here.html": "here\n",
    "gone/a.txt": "a\n",
    "ht/.htaccess": "FallbackResource /ht/front.html\n",
    "ht/front.html": "front\n",
}

#: differ by nature: the product, the client's port
_DIFFERENT = ("SERVER_SOFTWARE", "REMOTE_PORT")


@pytest.fixture(scope="module")
def fpair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "fallback"
    site_dirs(root, FILES)
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


def _answers(pair: Pair, target: str) -> list[tuple[int, str | None, bytes]]:
    out = []
    for server in pair.both():
        resp = server.request("GET", target, host="localhost")
        out.append((resp.status, resp.header("Content-Type"), resp.body))
    return out


@pytest.mark.parametrize("target", ["/blog/post/1", "/missing.html?a=b%20c",
                                    "/dir/missing", "/a%20b/c"])
def test_front_controller_environment(fpair: Pair, target: str) -> None:
    apache, ours = _answers(fpair, target)
    assert apache[0] == 200 and apache[1] == "application/json", apache
    assert ours[:2] == apache[:2]
    envs = [json.loads(body) for _s, _t, body in (apache, ours)]
    for env in envs:
        for name in _DIFFERENT:
            env.pop(name, None)
    assert envs[1] == envs[0]
    assert envs[0]["SCRIPT_NAME"] == "/index.py"
    assert envs[0]["REQUEST_URI"] == target


@pytest.mark.parametrize(
    ("target", "status", "body"),
    [
        ("/page.html", 200, b"page\n"),  # an existing file is served
        ("/dir/a.txt", 200, b"a\n"),
        # a directory without its index: the index's sub-request falls back
        ("/static/", 200, b"fallback\n"),
        ("/off/", 403, None),
        ("/missing.py", 404, None),  # a handler of its own: no fallback
        ("/static/nope", 200, b"fallback\n"),
        ("/static/real.txt", 200, b"real\n"),
        ("/off/nope", 404, None),
        ("/rel/nope", 200, b"here\n"),
        ("/gone/nope", 404, None),
        ("/ht/nope", 200, b"front\n"),
    ],
)
def test_same_answer(fpair: Pair, target: str, status: int, body: bytes | None) -> None:
    apache, ours = _answers(fpair, target)
    assert ours == apache, (target, "cgihttpd", ours[:2], "apache", apache[:2])
    assert apache[0] == status
    if body is not None:
        assert apache[2] == body
