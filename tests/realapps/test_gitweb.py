"""gitweb (Debian's gitweb package) served through Debian's own Apache snippet,
``/etc/apache2/conf-available/gitweb.conf``, included as it is (its ``<IfModule
mod_cgid.c>`` / ``Define ENABLE_GITWEB`` / ``<IfDefine>`` wrapping, ``Alias /gitweb
/usr/share/gitweb``, ``Options +FollowSymLinks +ExecCGI``, ``AddHandler cgi-script
.cgi``), with what Debian's apache2.conf and dir.conf add around it (``Require all
granted`` on /usr/share, ``DirectoryIndex ... index.cgi ...``: /gitweb/ runs the
``index.cgi -> gitweb.cgi`` symlink). The only adaptation to the test's paths:
``SetEnv GITWEB_CONFIG`` names a gitweb.conf whose ``$projectroot`` is the test's.

Browsed with plain GETs (the project list, a commit page) on cgihttpd and on Apache
serving the same repository from the same config: same status, same Content-Type, and
the same HTML once the port and gitweb's relative ages are masked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from realsupport import Served, server_conf

from support import readable_by_all

SNIPPET = Path("/etc/apache2/conf-available/gitweb.conf")
GITWEB = Path("/usr/share/gitweb/gitweb.cgi")
GIT = shutil.which("git", path="/usr/bin:/bin")
DEADLINE = 60.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(GIT is None or not SNIPPET.exists() or not GITWEB.exists(),
                       reason="Debian's gitweb is not installed (scripts/install-test-deps)"),
]

CONF = server_conf("env", "dir") + """\

# From Debian's apache2.conf and mods-available/dir.conf.
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<Directory /usr/share>
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm

# Debian's gitweb snippet, as shipped; gitweb reads its config from GITWEB_CONFIG.
Include /etc/apache2/conf-available/gitweb.conf
SetEnv GITWEB_CONFIG {root}/gitweb.conf
"""

GITWEB_CONF = """\
$projectroot = "{root}/git";
$git_temp = "/tmp";
@diff_opts = ();
"""


def git(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
           "LC_ALL": "C", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
           "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"}
    return subprocess.run([GIT or "git", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=DEADLINE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One bare repository with one commit (fixed dates), served by both servers;
    returns the root and the commit's id."""
    root = tmp_path_factory.mktemp("gitweb")
    home = root / "home"
    home.mkdir()
    (root / "htdocs").mkdir()
    work = root / "work"
    work.mkdir()
    assert git("init", "-q", "-b", "main", cwd=work, home=home).returncode == 0
    (work / "README").write_text("hello from gitweb\n")
    git("add", "README", cwd=work, home=home)
    assert git("commit", "-q", "-m", "first <commit> & more", cwd=work,
               home=home).returncode == 0
    bare = root / "git" / "repo.git"
    r = git("clone", "-q", "--bare", str(work), str(bare), cwd=root, home=home)
    assert r.returncode == 0, r.stderr
    (bare / "description").write_text("a test repository\n")
    sha = git("rev-parse", "HEAD", cwd=work, home=home).stdout.strip()
    (root / "gitweb.conf").write_text(GITWEB_CONF.format(root=root))
    readable_by_all(root)
    return root, sha


Start = Callable[[Path, str], Served]


@pytest.fixture(scope="module")
def on_cgihttpd(site: tuple[Path, str], cgihttpd_on: Start) -> Served:
    return cgihttpd_on(site[0], CONF)


@pytest.fixture(scope="module")
def on_apache(site: tuple[Path, str], apache_on: Start) -> Served:
    return apache_on(site[0], CONF)


@pytest.fixture(scope="module", params=[
    "cgihttpd", pytest.param("apache", marks=pytest.mark.differential)])
def served(request: pytest.FixtureRequest) -> Served:
    name = "on_cgihttpd" if request.param == "cgihttpd" else "on_apache"
    served: Served = request.getfixturevalue(name)
    return served


def page(served: Served, path: str) -> tuple[int, str, str]:
    """Status, Content-Type and the HTML with the port and relative ages masked."""
    r = httpx.get(served.url(path), timeout=DEADLINE)
    html = r.text.replace(f"127.0.0.1:{served.port}", "127.0.0.1:PORT")
    html = re.sub(r"\d+ (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?) ago",
                  "AGE ago", html)
    html = re.sub(r'class="age\d+"', 'class="ageN"', html)
    return r.status_code, r.headers.get("content-type", ""), html


def test_the_project_list(served: Served) -> None:
    status, ctype, html = page(served, "/gitweb/")
    assert status == 200, served.error_log()
    assert ctype.startswith("application/xhtml+xml") or ctype.startswith("text/html")
    assert "repo.git" in html
    assert "a test repository" in html


def test_a_commit_page(served: Served, site: tuple[Path, str]) -> None:
    sha = site[1]
    status, _ctype, html = page(served, f"/gitweb/?p=repo.git;a=commit;h={sha}")
    assert status == 200, served.error_log()
    assert sha in html
    assert "first &lt;commit&gt; &amp; more" in html


@pytest.mark.differential
@pytest.mark.parametrize("what", ["list", "commit", "missing project"])
def test_both_servers_give_the_same_page(on_cgihttpd: Served, on_apache: Served,
                                         site: tuple[Path, str], what: str) -> None:
    path = {"list": "/gitweb/", "commit": f"/gitweb/?p=repo.git;a=commit;h={site[1]}",
            "missing project": "/gitweb/?p=nope.git;a=summary"}[what]
    ours = page(on_cgihttpd, path)
    theirs = page(on_apache, path)
    assert ours[:2] == theirs[:2], (ours[:2], theirs[:2])
    assert ours[0] == (404 if what == "missing project" else 200)
    assert ours[2] == theirs[2]
