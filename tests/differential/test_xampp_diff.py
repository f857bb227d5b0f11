"""An XAMPP-style single httpd.conf (tests/fixtures/xampp: XAMPP's layout, C:/xampp made
${XAMPP_ROOT} and port 80 ${XAMPP_PORT}) on Apache and cgihttpd: ``-t``, ``-S``, and
requests: htdocs with its DirectoryIndex, a name-based virtual host from
conf/extra/httpd-vhosts.conf, a Perl CGI under ScriptAlias /cgi-bin/ and a .cgi in
htdocs (``AddHandler cgi-script .cgi .pl .asp``, ``Options ... ExecCGI``).

Each server runs on its own copy of the tree (XAMPP's logs are relative to ServerRoot),
with what an XAMPP install has beside httpd.conf: ``apache/modules`` (here Debian's
modules), ``apache/conf/mime.types`` (here /etc/mime.types), ``apache/logs``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, MODULES, Server, free_port, start_server, stop_server

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "xampp"
PERL = "/usr/bin/perl"

pytestmark = pytest.mark.differential

# XAMPP's cgi-bin/printenv.pl does the same: the environment, sorted, as text/plain.
PRINTENV = f"""#!{PERL}
print "Content-type: text/plain; charset=iso-8859-1\\n\\n";
foreach my $var (sort(keys(%ENV))) {{
    my $val = $ENV{{$var}};
    $val =~ s|\\n|\\\\n|g;
    $val =~ s|"|\\\\"|g;
    print "${{var}}=\\"${{val}}\\"\\n";
}}
"""
HELLO_CGI = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello from %s\\n' \"$SCRIPT_NAME\"\n"


def make_tree(root: Path) -> Path:
    """The fixture under ``root`` (0755, world-readable: Apache's children run as
    daemon) with XAMPP's htdocs, cgi-bin and the files beside httpd.conf; returns the
    XAMPP root."""
    xampp = root / "xampp"
    shutil.copytree(FIXTURE, xampp)
    (xampp / "apache" / "modules").symlink_to(MODULES)
    (xampp / "apache" / "conf" / "mime.types").symlink_to("/etc/mime.types")
    (xampp / "apache" / "logs").mkdir()
    files = {"htdocs/index.html": "XAMPP htdocs\n",
             "htdocs/project/index.html": "the project\n",
             "htdocs/.htaccess": "# XAMPP's AllowOverride All reads it\n",
             "htdocs/hello.cgi": HELLO_CGI,
             "cgi-bin/printenv.pl": PRINTENV}
    for rel, text in files.items():
        path = xampp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for dirpath, _dirs, names in os.walk(root):
        os.chmod(dirpath, 0o777 if dirpath.endswith("logs") else 0o755)
        for name in names:
            os.chmod(os.path.join(dirpath, name),
                     0o755 if name.endswith((".cgi", ".pl")) else 0o644)
    return xampp


def argv(impl: str, xampp: Path, *flags: str) -> list[str]:
    conf = str(xampp / "apache" / "conf" / "httpd.conf")
    if impl == "apache":
        return [APACHE, "-f", conf, *flags]
    return [sys.executable, "-m", "cgihttpd", "-f", conf, *flags]


@pytest.fixture(scope="module")
def checked(diff_root: Path) -> Path:
    """One tree, for -t and -S (port 80 is never bound)."""
    return make_tree(diff_root / "xampp-check")


def run(impl: str, xampp: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XAMPP_ROOT=str(xampp), XAMPP_PORT="80")
    return subprocess.run(argv(impl, xampp, *flags), capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("impl", ["apache", "cgihttpd"])
def test_t_passes(impl: str, checked: Path) -> None:
    r = run(impl, checked, "-t")
    assert r.returncode == 0, r.stderr
    assert r.stderr.rstrip().endswith("Syntax OK")


def _report(text: str) -> list[str]:
    """apache2 -S's lines that cgihttpd prints too (not Mutex;
    not cgihttpd's own DocumentRoot/log lines under a vhost, Listen and Main CustomLog)."""
    out = []
    for line in text.splitlines():
        if line.startswith(("Mutex ", "Listen: ", "Main CustomLog: ")):
            continue
        if line.lstrip().startswith(("DocumentRoot ", "ErrorLog ", "CustomLog ")):
            continue
        out.append(line)
    return out


def test_S_lists_the_vhosts_as_apache_does(checked: Path) -> None:
    ours, theirs = run("cgihttpd", checked, "-S"), run("apache", checked, "-S")
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    assert _report(ours.stdout) == _report(theirs.stdout)
    assert "port 80 namevhost project.localhost" in ours.stdout


def test_unimplemented_modules_are_each_reported_once(checked: Path) -> None:
    lines = run("cgihttpd", checked, "-t").stderr.splitlines()
    assert len(lines) == len(set(lines))
    for module in ("include_module", "proxy_module", "asis_module"):
        assert len([x for x in lines if f"module {module} " in x]) == 1, module


@pytest.fixture(scope="module")
def servers(diff_root: Path) -> Iterator[dict[str, Server]]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    started: dict[str, Server] = {}
    try:
        for impl in ("apache", "cgihttpd"):
            root = diff_root / f"xampp-{impl}"
            (root / "run").mkdir(parents=True)
            xampp = make_tree(root)
            port = free_port()
            started[impl] = start_server(
                impl, argv(impl, xampp, "-DFOREGROUND"), root, port=port,
                env={"XAMPP_ROOT": str(xampp), "XAMPP_PORT": str(port)})
        yield started
    finally:
        for server in started.values():
            stop_server(server)


@pytest.mark.parametrize(("target", "host", "status", "body"), [
    ("/", "localhost", 200, b"XAMPP htdocs\n"),
    ("/", "project.localhost", 200, b"the project\n"),
    ("/", "www.project.localhost", 200, b"the project\n"),
    ("/hello.cgi", "localhost", 200, b"hello from /hello.cgi\n"),
    ("/.htaccess", "localhost", 403, None),
    ("/cgi-bin/nope.pl", "localhost", 404, None),
])
def test_requests(servers: dict[str, Server], target: str, host: str, status: int,
                  body: bytes | None) -> None:
    for server in servers.values():
        r = server.request("GET", target, host=host)
        assert r.status == status, (server.impl, r.body[:200])
        if body is not None:
            assert r.body == body, server.impl


def test_the_perl_cgi_under_script_alias(servers: dict[str, Server]) -> None:
    envs = {}
    for impl, server in servers.items():
        r = server.request("GET", "/cgi-bin/printenv.pl?a=1", host="localhost",
                           headers={"Proxy": "http://evil.test/"})
        assert r.status == 200, (impl, r.body[:300])
        assert r.header("Content-Type") == "text/plain; charset=iso-8859-1"
        envs[impl] = dict(line.split("=", 1) for line in r.body.decode().splitlines())
    for env in envs.values():
        assert env["SCRIPT_NAME"] == '"/cgi-bin/printenv.pl"'
        assert env["QUERY_STRING"] == '"a=1"'
        assert env["SERVER_NAME"] == '"localhost"'
        # httpoxy: RequestHeader unset Proxy early, and cgihttpd never passes it
        assert "HTTP_PROXY" not in env
    ours, theirs = envs["cgihttpd"], envs["apache"]
    same = ("GATEWAY_INTERFACE", "REQUEST_METHOD", "SERVER_PROTOCOL", "SCRIPT_NAME",
            "QUERY_STRING", "REQUEST_URI", "SERVER_NAME", "REMOTE_ADDR", "HTTP_HOST")
    assert {k: ours.get(k) for k in same} == {k: theirs.get(k) for k in same}
    assert ours["SCRIPT_FILENAME"].replace("xampp-cgihttpd", "xampp-apache") == \
        theirs["SCRIPT_FILENAME"]
