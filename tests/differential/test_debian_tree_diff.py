"""Debian's stock Apache tree (tests/fixtures/debian-apache2, a copy of /etc/apache2)
on Apache and cgihttpd: ``-t``, ``-S``, the default site and /cgi-bin/.

Both run as ``apache2ctl`` runs apache2: the ``APACHE_*`` variables of its ``envvars``
in the environment (pointed into a temporary directory: logs, run and lock files), and
``-d`` naming the tree (its apache2.conf sets no ServerRoot). To serve, each server gets
its own copy of the tree with one change, port 80 (``Listen 80`` of ports.conf and
``<VirtualHost *:80>`` of 000-default.conf) made ``${PORT}``; and /cgi-bin/ is what a
user gets after ``a2enmod cgid``: serve-cgi-bin.conf's ScriptAlias to /usr/lib/cgi-bin,
where Debian's gitweb puts gitweb.cgi (a real CGI; nothing is written there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, Server, start_server, stop_server

from cgihttpd.config.loader import read_envvars

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "debian-apache2"
GITWEB = Path("/usr/lib/cgi-bin/gitweb.cgi")
INDEX = Path("/var/www/html/index.html")

pytestmark = pytest.mark.differential


def tree_environ(run: Path) -> dict[str, str]:
    """The environment apache2ctl gives apache2: envvars' exports, their directories
    moved under ``run`` and made as apache2ctl makes them (the cgid daemon, as
    www-data, binds its socket in RUN_DIR/socks)."""
    env = read_envvars(str(TREE / "envvars"), environ=dict(os.environ))
    for name in ("APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"):
        env[name] = str(run / name.lower())
        os.makedirs(env[name], exist_ok=True)
    socks = Path(env["APACHE_RUN_DIR"]) / "socks"
    socks.mkdir(exist_ok=True)
    for path in (run, socks, Path(env["APACHE_LOCK_DIR"])):
        os.chmod(path, 0o777 if path != run else 0o755)
    env["APACHE_PID_FILE"] = str(run / "apache_run_dir" / "apache2.pid")
    return env


def argv(impl: str, tree: Path, *flags: str) -> list[str]:
    if impl == "apache":
        return [APACHE, "-d", str(tree), "-f", "apache2.conf", *flags]
    return [sys.executable, "-m", "cgihttpd", "-d", str(tree), "-f", "apache2.conf", *flags]


def run(impl: str, *flags: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv(impl, TREE, *flags), capture_output=True, text=True,
                          env=tree_environ(tmp / impl), timeout=60)


@pytest.mark.parametrize("impl", ["apache", "cgihttpd"])
def test_t_passes_on_the_stock_tree(impl: str, tmp_path: Path) -> None:
    r = run(impl, "-t", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.rstrip().endswith("Syntax OK")


def _vhost_report(text: str) -> list[str]:
    """apache2 -S's lines that cgihttpd prints too: the virtual hosts, ServerRoot, the
    main DocumentRoot and ErrorLog, PidFile, Define, User and Group; not the Mutex
    lines."""
    out = []
    for line in text.splitlines():
        if line.startswith("Mutex ") or line.startswith(" " * 17):
            continue
        out.append(line)
    return out


def test_S_lists_the_vhosts_as_apache_does(tmp_path: Path) -> None:
    ours = run("cgihttpd", "-S", tmp=tmp_path)
    theirs = run("apache", "-S", tmp=tmp_path)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    fixed = ours.stdout.replace(str(tmp_path / "cgihttpd"), str(tmp_path / "apache"))
    # cgihttpd's extra lines (Listen:, Main CustomLog:) are ours alone
    mine = [x for x in _vhost_report(fixed) if not x.startswith(("Listen: ", "Main Custom"))]
    assert mine == _vhost_report(theirs.stdout)
    assert f"*:80                   127.0.0.1 ({TREE}/sites-enabled/000-default.conf:1)" \
        in ours.stdout


def test_unimplemented_modules_are_reported_once_with_what_happens(tmp_path: Path) -> None:
    r = run("cgihttpd", "-t", tmp=tmp_path)
    lines = r.stderr.splitlines()
    assert len(lines) == len(set(lines))
    for module, effect in [("deflate_module", "sent uncompressed"),
                           ("negotiation_module", "no content negotiation"),
                           ("filter_module", "no output filter runs")]:
        (line,) = [x for x in lines if f"module {module} " in x]
        assert "is loaded but not implemented by cgihttpd" in line
        assert effect in line, line
    # every directive of an unimplemented module is named once, at its first place
    (filt,) = [x for x in lines if "filter_module" in x]
    assert f"AddOutputFilterByType ({TREE}/mods-enabled/deflate.conf:2, +4 more)" in filt


def _tree_copy(root: Path) -> Path:
    """The tree with port 80 made ${PORT} and cgid enabled as a2enmod does."""
    tree = root / "etc" / "apache2"
    shutil.copytree(TREE, tree, symlinks=True)
    ports = tree / "ports.conf"
    ports.write_text(ports.read_text().replace("\nListen 80\n", "\nListen 127.0.0.1:${PORT}\n"))
    site = tree / "sites-available" / "000-default.conf"
    site.write_text(site.read_text().replace("<VirtualHost *:80>", "<VirtualHost *:${PORT}>"))
    for name in ("cgid.load", "cgid.conf"):
        (tree / "mods-enabled" / name).symlink_to(f"../mods-available/{name}")
    for dirpath, _dirs, _files in os.walk(root):
        os.chmod(dirpath, 0o755)
    return tree


@pytest.fixture(scope="module")
def servers(diff_root: Path) -> Iterator[dict[str, Server]]:
    """Each server on its own copy, under the 0755 ``diff_root`` (Apache's children and
    its cgid daemon run as www-data)."""
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    started: dict[str, Server] = {}
    try:
        for impl in ("apache", "cgihttpd"):
            root = diff_root / f"debian-{impl}"
            (root / "run").mkdir(parents=True)
            tree = _tree_copy(root)
            started[impl] = start_server(impl, argv(impl, tree, "-DFOREGROUND"), root,
                                         env=tree_environ(root / "var"))
        yield started
    finally:
        for server in started.values():
            stop_server(server)


def test_the_default_site_is_debians_page(servers: dict[str, Server]) -> None:
    if not INDEX.exists():
        pytest.skip("no /var/www/html/index.html (Debian's apache2 writes it)")
    for server in servers.values():
        r = server.request("GET", "/")
        assert r.status == 200, server.impl
        assert r.body == INDEX.read_bytes()
        assert r.header("Content-Type") == "text/html"


def test_a_missing_page_is_404_on_both(servers: dict[str, Server]) -> None:
    for server in servers.values():
        assert server.request("GET", "/no-such-page").status == 404, server.impl


def test_cgi_bin_runs_gitweb(servers: dict[str, Server]) -> None:
    if not os.access(GITWEB, os.X_OK):
        pytest.skip("Debian's gitweb is not installed (/usr/lib/cgi-bin/gitweb.cgi)")
    got = {}
    for impl, server in servers.items():
        r = server.request("GET", "/cgi-bin/gitweb.cgi")
        got[impl] = r.status
        assert b"gitweb" in r.body, (impl, r.body[:300])
    assert got["apache"] == got["cgihttpd"]


def test_trace_is_refused_as_security_conf_says(servers: dict[str, Server]) -> None:
    """security.conf: TraceEnable Off: TRACE gets 405 (with an empty Allow: refused
    before a handler said what it allows), and OPTIONS' Allow no longer names TRACE.
    Apache lists the methods in its hash table's order, which changes from one start
    to the next: compared as sets."""
    got = {}
    for impl, server in servers.items():
        trace = server.request("TRACE", "/")
        options = server.request("OPTIONS", "/index.html")
        got[impl] = (trace.status, trace.header("Allow"), options.status,
                     set((options.header("Allow") or "").split(",")),
                     b"TRACE" in trace.body)
    assert got["cgihttpd"] == got["apache"]
    assert got["apache"][:4] == (405, "", 200, {"GET", "POST", "OPTIONS", "HEAD"})
