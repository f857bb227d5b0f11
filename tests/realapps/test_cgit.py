"""cgit (Debian's cgit) set up with Debian's Apache snippet,
``/etc/apache2/conf-available/cgit.conf``, included as it is (``ScriptAlias /cgit/
"/usr/lib/cgit/cgit.cgi/"``, ``RedirectMatch ^/cgit$ /cgit/``, ``Alias /cgit-css``),
with what Debian's apache2.conf adds around it; browsed with plain GETs and cloned with
the real git client over cgit's http clone URL (git's "dumb" protocol, which cgit
serves), on cgihttpd and on Apache with the same config.

cgit reads its configuration from ``CGIT_CONFIG`` (cgitrc(5)); ours is Debian's
/etc/cgitrc plus one repository.
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

SNIPPET = Path("/etc/apache2/conf-available/cgit.conf")
CGIT = Path("/usr/lib/cgit/cgit.cgi")
GIT = shutil.which("git", path="/usr/bin:/bin")
DEADLINE = 60.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(GIT is None or not SNIPPET.exists() or not CGIT.exists(),
                       reason="Debian's cgit is not installed (scripts/install-test-deps)"),
]

CONF = server_conf("env") + """\

# From Debian's apache2.conf.
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<Directory /usr/share>
    AllowOverride None
    Require all granted
</Directory>

# Debian's cgit snippet, as shipped; cgit reads its config from CGIT_CONFIG.
Include /etc/apache2/conf-available/cgit.conf
SetEnv CGIT_CONFIG {root}/cgitrc
"""

# Debian's /etc/cgitrc, then the repository (cgitrc(5): repo.* after repo.url).
CGITRC = """\
css=/cgit-css/cgit.css
logo=/cgit-css/cgit.png
cache-size=0
enable-http-clone=1
repo.url=repo
repo.path={root}/git/repo.git
repo.desc=a test repository
"""


def git(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
           "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"}
    return subprocess.run([GIT or "git", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=DEADLINE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One bare repository with one commit (fixed dates), readable by Apache's
    children; returns the root and the commit's id."""
    root = tmp_path_factory.mktemp("cgit")
    home = root / "home"
    home.mkdir()
    (root / "htdocs").mkdir()
    work = root / "work"
    work.mkdir()
    assert git("init", "-q", "-b", "main", cwd=work, home=home).returncode == 0
    (work / "README").write_text("hello from cgit\n")
    git("add", "README", cwd=work, home=home)
    assert git("commit", "-q", "-m", "first <commit> & more", cwd=work,
               home=home).returncode == 0
    bare = root / "git" / "repo.git"
    r = git("clone", "-q", "--bare", str(work), str(bare), cwd=root, home=home)
    assert r.returncode == 0, r.stderr
    # the dumb protocol reads info/refs and objects/info/packs (git-update-server-info(1))
    assert git("update-server-info", cwd=bare, home=home).returncode == 0
    sha = git("rev-parse", "HEAD", cwd=work, home=home).stdout.strip()
    (root / "cgitrc").write_text(CGITRC.format(root=root))
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
    """Status, Content-Type and the body with the port and relative ages masked."""
    r = httpx.get(served.url(path), timeout=DEADLINE)
    body = r.text.replace(f"127.0.0.1:{served.port}", "127.0.0.1:PORT")
    body = re.sub(r"\d+ (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)",
                  "AGE", body)
    body = re.sub(r"title='[^']*'", "title='T'", body)
    return r.status_code, r.headers.get("content-type", ""), body


def test_redirect_match_sends_cgit_to_cgit_slash(served: Served) -> None:
    r = httpx.get(served.url("/cgit"), timeout=DEADLINE)
    assert r.status_code == 302, served.error_log()
    assert r.headers["location"] == served.url("/cgit/")


def test_the_repository_index(served: Served) -> None:
    status, ctype, html = page(served, "/cgit/")
    assert status == 200, served.error_log()
    assert ctype.startswith("text/html")
    assert "a test repository" in html
    assert "href='/cgit/repo/'" in html


def test_a_commit_page(served: Served, site: tuple[Path, str]) -> None:
    status, _ctype, html = page(served, f"/cgit/repo/commit/?id={site[1]}")
    assert status == 200, served.error_log()
    assert site[1] in html
    assert "first &lt;commit&gt; &amp; more" in html


def test_the_stylesheet_from_the_alias(served: Served) -> None:
    r = httpx.get(served.url("/cgit-css/cgit.css"), timeout=DEADLINE)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
    assert r.content == Path("/usr/share/cgit/cgit.css").read_bytes()


def test_git_clone_over_cgits_http_clone_url(served: Served) -> None:
    out = served.root / f"clone-{served.impl}"
    r = git("clone", served.url("/cgit/repo"), str(out), cwd=served.root,
            home=served.root / "home")
    assert r.returncode == 0, (r.stderr, served.error_log())
    assert (out / "README").read_text() == "hello from cgit\n"


@pytest.mark.differential
@pytest.mark.parametrize("what", ["index", "commit", "tree", "missing repo", "info/refs"])
def test_both_servers_give_the_same_page(on_cgihttpd: Served, on_apache: Served,
                                         site: tuple[Path, str], what: str) -> None:
    path = {"index": "/cgit/", "commit": f"/cgit/repo/commit/?id={site[1]}",
            "tree": "/cgit/repo/tree/README", "missing repo": "/cgit/nope/",
            "info/refs": "/cgit/repo/info/refs"}[what]
    ours = page(on_cgihttpd, path)
    theirs = page(on_apache, path)
    assert ours[:2] == theirs[:2], (ours[:2], theirs[:2])
    assert ours[2] == theirs[2]
