"""git-http-backend (Debian's git) set up as its manual says, driven by the real git
client: ``git clone`` over smart HTTP, and a ``git push`` (also with a chunked request
body) where the repository enables ``http.receivepack``, on cgihttpd and on Apache with
the same config. Then the manual's authenticated push "if you do not have mod_rewrite":
``<LocationMatch "^/git/.*/git-receive-pack$">`` with ``AuthType Basic`` and
``Require valid-user`` (a password file made by Debian's ``htpasswd``): a push with
credentials succeeds, an anonymous one gets 401 and git fails cleanly.

The manual's lines (git-http-backend(1), "Apache 2.x"): ``SetEnv GIT_PROJECT_ROOT``,
``SetEnv GIT_HTTP_EXPORT_ALL``, ``ScriptAlias /git/ /usr/lib/git-core/git-http-backend/``.
That ScriptAlias names a file with a trailing slash: the backend needs
SCRIPT_NAME "/git" and PATH_INFO "/repo.git/info/refs" (it dies with "aliased"
otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from realsupport import Served, server_conf

BACKEND = "/usr/lib/git-core/git-http-backend"
GIT = shutil.which("git")
GIT_DEADLINE = 60.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(GIT is None or not os.access(BACKEND, os.X_OK),
                       reason="Debian's git (git-http-backend) is not installed"),
]

CONF = server_conf("env") + """\
<Directory />
    Require all denied
</Directory>

# git-http-backend(1), "Apache 2.x"
SetEnv GIT_PROJECT_ROOT {root}/git
SetEnv GIT_HTTP_EXPORT_ALL
ScriptAlias /git/ /usr/lib/git-core/git-http-backend/
<Directory "/usr/lib/git-core">
    Require all granted
</Directory>
"""


# git-http-backend(1): "it is sufficient to just protect git-receive-pack itself";
# the repository then needs http.receivepack (the advertisement is anonymous).
AUTH_CONF = server_conf("env", "auth_basic", "authn_core", "authn_file",
                        "authz_user") + CONF.split("DocumentRoot {root}/htdocs\n", 1)[1] + """<LocationMatch "^/git/.*/git-receive-pack$">
    AuthType Basic
    AuthName "Git Access"
    AuthUserFile {root}/git.passwd
    Require valid-user
</LocationMatch>
"""
HTPASSWD = shutil.which("htpasswd", path="/usr/bin:/bin:/usr/sbin")


def git(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run([GIT or "git", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=GIT_DEADLINE)


def make_site(root: Path) -> None:
    """A bare repo with one commit, receive-pack enabled, world-readable (Apache's
    children may run as another user when the tests run as root)."""
    os.chmod(root, 0o755)
    (root / "htdocs").mkdir()
    (root / "home").mkdir()
    work = root / "work"
    work.mkdir()
    home = root / "home"
    assert git("init", "-q", "-b", "main", cwd=work, home=home).returncode == 0
    (work / "README").write_text("hello from a bare repo\n")
    git("add", "README", cwd=work, home=home)
    assert git("commit", "-q", "-m", "first", cwd=work, home=home).returncode == 0
    bare = root / "git" / "repo.git"
    r = git("clone", "-q", "--bare", str(work), str(bare), cwd=root, home=home)
    assert r.returncode == 0, r.stderr
    git("config", "http.receivepack", "true", cwd=bare, home=home)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o666)


Start = Callable[[Path, str], Served]


@pytest.fixture(scope="module", params=[
    "cgihttpd", pytest.param("apache", marks=pytest.mark.differential)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           cgihttpd_on: Start, apache_on: Start) -> Served:
    root = tmp_path_factory.mktemp(f"git-{request.param}")
    make_site(root)
    start = cgihttpd_on if request.param == "cgihttpd" else apache_on
    return start(root, CONF)


def test_git_clone_over_smart_http(served: Served) -> None:
    out = served.root / "clone"
    r = git("clone", served.url("/git/repo.git"), str(out), cwd=served.root,
            home=served.root / "home")
    assert r.returncode == 0, (r.stderr, served.error_log())
    assert (out / "README").read_text() == "hello from a bare repo\n"


@pytest.mark.parametrize("post_buffer", ["1048576", "1024"])
def test_git_push_with_receivepack_enabled(served: Served, post_buffer: str) -> None:
    """A push; with a 1 KB http.postBuffer the pack goes as a chunked body."""
    home = served.root / "home"
    work = served.root / f"push-{post_buffer}"
    r = git("clone", "-q", served.url("/git/repo.git"), str(work), cwd=served.root,
            home=home)
    assert r.returncode == 0, (r.stderr, served.error_log())
    (work / f"file-{post_buffer}").write_bytes(os.urandom(8192).hex().encode())
    git("add", ".", cwd=work, home=home)
    assert git("commit", "-q", "-m", "pushed", cwd=work, home=home).returncode == 0
    r = git("-c", f"http.postBuffer={post_buffer}", "push", "origin", "main", cwd=work,
            home=home)
    assert r.returncode == 0, (r.stderr, served.error_log())
    r = git("--git-dir", str(served.root / "git" / "repo.git"), "log", "--format=%s",
            "-1", "main", cwd=served.root, home=home)
    assert r.stdout.strip() == "pushed"


def test_the_backend_sees_script_name_and_path_info(served: Served) -> None:
    """The manual's ScriptAlias: no "aliased" death in the error log."""
    r = git("ls-remote", served.url("/git/repo.git"), cwd=served.root,
            home=served.root / "home")
    assert r.returncode == 0, (r.stderr, served.error_log())
    assert "refs/heads/main" in r.stdout
    assert "aliased" not in served.error_log()


@pytest.fixture(scope="module", params=[
    "cgihttpd", pytest.param("apache", marks=pytest.mark.differential)])
def authed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           cgihttpd_on: Start, apache_on: Start) -> Served:
    """The manual's protected git-receive-pack; user "pusher", password "s3cret"."""
    if HTPASSWD is None:
        pytest.skip("Debian's apache2-utils (htpasswd) is not installed")
    root = tmp_path_factory.mktemp(f"git-auth-{request.param}")
    make_site(root)
    passwd = root / "git.passwd"
    subprocess.run([HTPASSWD, "-bcB", str(passwd), "pusher", "s3cret"], check=True,
                   capture_output=True, timeout=GIT_DEADLINE)
    os.chmod(passwd, 0o644)
    start = cgihttpd_on if request.param == "cgihttpd" else apache_on
    return start(root, AUTH_CONF)


def _commit_to_push(served: Served, name: str) -> Path:
    home = served.root / "home"
    work = served.root / name
    r = git("clone", "-q", served.url("/git/repo.git"), str(work), cwd=served.root,
            home=home)
    assert r.returncode == 0, (r.stderr, served.error_log())
    (work / name).write_text(f"{name}\n")
    git("add", ".", cwd=work, home=home)
    assert git("commit", "-q", "-m", name, cwd=work, home=home).returncode == 0
    return work


def _head(served: Served) -> str:
    r = git("--git-dir", str(served.root / "git" / "repo.git"), "log", "--format=%s",
            "-1", "main", cwd=served.root, home=served.root / "home")
    return r.stdout.strip()


def test_an_anonymous_push_is_refused_with_401(authed: Served) -> None:
    work = _commit_to_push(authed, "anonymous")
    r = git("push", "origin", "main", cwd=work, home=authed.root / "home")
    assert r.returncode != 0
    # GIT_TERMINAL_PROMPT=0: git asks for credentials, may not prompt, and gives up
    assert "Authentication failed" in r.stderr or "terminal prompts disabled" in r.stderr, \
        r.stderr
    assert _head(authed) == "first"
    log = (authed.root / f"{authed.impl}-access.log").read_text()
    assert '"POST /git/repo.git/git-receive-pack HTTP/1.1" 401 ' in log


def test_a_push_with_credentials_succeeds(authed: Served) -> None:
    work = _commit_to_push(authed, "authenticated")
    url = authed.url("/git/repo.git").replace("http://", "http://pusher:s3cret@", 1)
    r = git("push", url, "main", cwd=work, home=authed.root / "home")
    assert r.returncode == 0, (r.stderr, authed.error_log())
    assert _head(authed) == "authenticated"
    log = (authed.root / f"{authed.impl}-access.log").read_text()
    assert '- pusher [' in log
    assert '"POST /git/repo.git/git-receive-pack HTTP/1.1" 200 ' in log


def test_a_wrong_password_is_refused(authed: Served) -> None:
    work = _commit_to_push(authed, "wrong")
    url = authed.url("/git/repo.git").replace("http://", "http://pusher:nope@", 1)
    r = git("push", url, "main", cwd=work, home=authed.root / "home")
    assert r.returncode != 0
    # credentials in the URL are sent up front: the RPC itself gets the 401
    assert "HTTP 401" in r.stderr or "Authentication failed" in r.stderr, r.stderr
    assert _head(authed) != "wrong"
