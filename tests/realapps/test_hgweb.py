"""Mercurial's ``hgweb.cgi`` (Debian's mercurial) set up as its documentation says,
driven by the real ``hg`` client: ``hg clone`` and ``hg push`` over HTTP, on cgihttpd
and on Apache with the same config.

The set-up (``hg help hgweb``, the wiki's "PublishingRepositories"): the example
script /usr/share/doc/mercurial-common/examples/hgweb.cgi copied into the document
root with its ``config`` line pointing at an ``hgweb.config`` whose ``[paths]`` names
the repository; the repository's ``.hg/hgrc`` allows pushing (``allow-push = *``,
``push_ssl = false``). The example's ``#!/usr/bin/env python3`` becomes Debian's
``/usr/bin/python3``, the interpreter Debian's Mercurial is installed for (the
example says "edit as necessary").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from realsupport import Served, server_conf

EXAMPLE = Path("/usr/share/doc/mercurial-common/examples/hgweb.cgi")
SCRIPT_PYTHON = "/usr/bin/python3"
HG = shutil.which("hg", path="/usr/bin:/bin")
HG_DEADLINE = 60.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HG is None or not EXAMPLE.exists()
                       or not os.access(SCRIPT_PYTHON, os.X_OK),
                       reason="Debian's mercurial is not installed "
                              "(scripts/install-test-deps)"),
]

CONF = server_conf() + """\
<Directory />
    Require all denied
</Directory>

<Directory {root}/htdocs>
    Options +ExecCGI
    AddHandler cgi-script .cgi
    Require all granted
</Directory>
"""


def hg(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """The client, with a config of its own only (no user or system hgrc)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "HGRCPATH": str(home / "hgrc"),
           "HGPLAIN": "1", "LC_ALL": "C", "HGUSER": "t <t@example.com>"}
    return subprocess.run([HG or "hg", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=HG_DEADLINE)


def make_site(root: Path) -> None:
    """A repository with one changeset, hgweb.cgi and its hgweb.config; everything
    world-writable (Apache's children may run as another user when the tests run as
    root, and a push writes into the repository)."""
    os.chmod(root, 0o755)
    home = root / "home"
    home.mkdir()
    (home / "hgrc").write_text("[ui]\nusername = t <t@example.com>\n")
    repo = root / "repos" / "repo"
    repo.mkdir(parents=True)
    assert hg("init", cwd=repo, home=home).returncode == 0
    (repo / "README").write_text("hello from hg\n")
    hg("add", "README", cwd=repo, home=home)
    r = hg("commit", "-m", "first", cwd=repo, home=home)
    assert r.returncode == 0, r.stderr
    (repo / ".hg" / "hgrc").write_text(
        "[web]\nallow-push = *\npush_ssl = false\nname = repo\n")
    config = root / "hgweb.config"
    config.write_text(f"[paths]\nrepo = {repo}\n")
    htdocs = root / "htdocs"
    htdocs.mkdir()
    script = EXAMPLE.read_text()
    script = script.replace("#!/usr/bin/env python3", f"#!{SCRIPT_PYTHON}", 1)
    script = script.replace('config = b"/path/to/repo/or/config"',
                            f"config = {str(config).encode()!r}", 1)
    assert str(config) in script
    (htdocs / "hgweb.cgi").write_text(script)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o666)
    os.chmod(htdocs / "hgweb.cgi", 0o755)


Start = Callable[[Path, str], Served]


@pytest.fixture(scope="module", params=[
    "cgihttpd", pytest.param("apache", marks=pytest.mark.differential)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           cgihttpd_on: Start, apache_on: Start) -> Served:
    root = tmp_path_factory.mktemp(f"hg-{request.param}")
    make_site(root)
    start = cgihttpd_on if request.param == "cgihttpd" else apache_on
    return start(root, CONF)


def test_hg_clone(served: Served) -> None:
    out = served.root / "clone"
    r = hg("clone", served.url("/hgweb.cgi/repo"), str(out), cwd=served.root,
           home=served.root / "home")
    assert r.returncode == 0, (r.stdout, r.stderr, served.error_log())
    assert (out / "README").read_text() == "hello from hg\n"


def test_hg_push(served: Served) -> None:
    home = served.root / "home"
    work = served.root / "push"
    r = hg("clone", served.url("/hgweb.cgi/repo"), str(work), cwd=served.root, home=home)
    assert r.returncode == 0, (r.stderr, served.error_log())
    (work / "data.bin").write_bytes(os.urandom(60_000).hex().encode())
    hg("add", "data.bin", cwd=work, home=home)
    assert hg("commit", "-m", "pushed", cwd=work, home=home).returncode == 0
    r = hg("push", cwd=work, home=home)
    assert r.returncode == 0, (r.stdout, r.stderr, served.error_log())
    assert re.search(r"added 1 changesets? with 1 changes? to 1 files?", r.stdout + r.stderr)
    r = hg("log", "-r", "tip", "--template", "{desc}", cwd=served.root / "repos" / "repo",
           home=home)
    assert r.stdout == "pushed"


def test_hgweb_index_lists_the_repository(served: Served) -> None:
    """The hgweb.config index page (a plain GET, the browser's view)."""
    r = httpx.get(served.url("/hgweb.cgi/"), timeout=HG_DEADLINE)
    assert r.status_code == 200, served.error_log()
    assert 'href="/hgweb.cgi/repo/"' in r.text
