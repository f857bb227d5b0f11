"""Three answers checked on apache2 and then made the same in cgihttpd: a handler
removed by RemoveHandler and added again in a deeper directory runs there (and not
above it); a directory without an index when mod_autoindex is not loaded is the
default handler's 404 (AH00129), not a listing; and SetEnv's variables are not in the
access log of a request refused before the fixups (403), only of those that reach
them (a 404 for a missing file included)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import pytest
from diffsupport import Pair, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
CONFIG = config_head("authz_core", "mime", "dir", "env", "cgid") + """
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
LogFormat "%U %>s [%{tagged}e]" tagged
CustomLog "${ROOT}/logs/${IMPL}-tagged.log" tagged
SetEnv tagged yes
<Directory "${ROOT}/site">
    Require all granted
    Options +ExecCGI +Indexes
    AddHandler cgi-script .py
</Directory>
<Directory "${ROOT}/site/a">
    RemoveHandler .py
</Directory>
<Directory "${ROOT}/site/a/b">
    AddHandler cgi-script .py
</Directory>
<Directory "${ROOT}/site/denied">
    Require all denied
</Directory>
"""

SCRIPT = f'#!{PY}\nprint("Content-Type: text/plain")\nprint()\nprint("ran")\n'
FILES = {"s.py": SCRIPT, "a/s.py": SCRIPT, "a/b/s.py": SCRIPT, "noidx/y.txt": "y\n",
         "denied/x.html": "x\n"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("known-gaps")
    site_dirs(root, FILES)
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


@pytest.mark.parametrize(("target", "status", "ran"), [
    ("/s.py", 200, True), ("/a/s.py", 200, False), ("/a/b/s.py", 200, True),
    ("/noidx/", 404, False), ("/denied/x.html", 403, False),
])
def test_same_answer(pair: Pair, target: str, status: int, ran: bool) -> None:
    a = pair.apache.request("GET", target)
    o = pair.ours.request("GET", target)
    assert a.status == status and (a.body == b"ran\n") == ran
    assert (o.status, o.body == b"ran\n") == (a.status, a.body == b"ran\n")
    if ran or target.endswith(".py"):
        assert o.body == a.body


def test_setenv_only_after_access_is_granted(pair: Pair) -> None:
    found = {}
    for server in pair.both():
        for target in ("/denied/x.html", "/missing.html", "/noidx/y.txt"):
            server.request("GET", target)
        end = time.monotonic() + 10
        lines = wait_for_lines(server.log("tagged"), 1)
        while not any("/noidx/y" in x for x in lines) and time.monotonic() < end:
            time.sleep(0.05)
            lines = wait_for_lines(server.log("tagged"), 1)
        found[server.impl] = lines[-3:]
    assert found[pair.apache.impl] == ["/denied/x.html 403 [-]", "/missing.html 404 [yes]",
                                       "/noidx/y.txt 200 [yes]"]
    assert found[pair.ours.impl] == found[pair.apache.impl]
