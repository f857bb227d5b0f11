"""``cgihttpd init`` and ``cgihttpd hosts`` as a learner runs them: the course's site
written, checked (Syntax OK) and served the first time, by its ``.localhost`` name too;
the hosts-file lines printed and applied to a file (--file) once, with a backup. The
Windows forms (the hosts file's path, the course's ``#!`` line) through the forced
Windows mode (``CGIHTTPD_PLATFORM=windows``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from _http_helpers import WAIT

from support import ServerProcess, raw_request

WINDOWS_ENV = {"CGIHTTPD_PLATFORM": "windows"}


def run_cli(*args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cgihttpd", *args], capture_output=True,
                          text=True, timeout=WAIT, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def wait_line(srv: ServerProcess, line: str) -> bool:
    end = time.monotonic() + WAIT
    while line not in srv.stderr_lines and time.monotonic() < end:
        time.sleep(0.05)
    return line in srv.stderr_lines


def get(srv: ServerProcess, target: str, host: str, body: str = "") -> bytes:
    method = "POST" if body else "GET"
    head = (f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            + (f"Content-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(body.encode())}\r\n" if body else "") + "\r\n")
    return raw_request(srv.address, head.encode() + body.encode())


@pytest.mark.parametrize("env", [{}, WINDOWS_ENV], ids=["posix", "windows-mode"])
def test_init_site_checks_ok_and_serves_index_py_first_time(
        tmp_path: Path, env: dict[str, str]) -> None:
    site = tmp_path / "Server-213"
    r = run_cli("init", str(site), env=env)
    assert r.returncode == 0, r.stderr
    conf = site / "httpd.conf"
    assert f"cgihttpd -t -f {conf}\n" in r.stdout
    assert "http://cgi213.loc.localhost" in r.stdout
    index_py = site / "cgi" / "index.py"
    assert index_py.read_text().splitlines()[0] == f"#!{sys.executable}"
    assert (site / "cgi" / "logs").is_dir()
    check = run_cli("-t", "-f", str(conf), env=env)
    assert (check.returncode, check.stderr) == (0, "Syntax OK\n")
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"], env=env) as srv:
        # the banner says which URLs work now (printed just after the ready line)
        assert wait_line(srv, f"cgihttpd: site cgi213.loc: http://cgi213.loc.localhost:{srv.port}/ works " \
               f"now; http://cgi213.loc:{srv.port}/ once the hosts file names it " \
               "(cgihttpd hosts cgi213.loc)")
        for host in ("cgi213.loc", "cgi213.loc.localhost", "www.cgi213.loc.localhost"):
            out = get(srv, "/", host)
            assert out.startswith(b"HTTP/1.1 200 OK\r\n"), out
            assert b"<h1>Hello, CGI</h1>" in out
        out = get(srv, "/form.py", "cgi213.loc.localhost",
                  "name=" + urllib.parse.quote("Вася <b>") + "&message=hi")
        assert "<h1>Hello, Вася &lt;b&gt;</h1>".encode() in out, out
        assert b"Hello, World" in get(srv, "/index.html", "cgi213.loc")
        assert get(srv, "/logs/error.log", "cgi213.loc").startswith(b"HTTP/1.1 403 ")
    access = (site / "cgi" / "logs" / "access.log").read_text()
    assert '"GET / HTTP/1.1" 200' in access and '"POST /form.py HTTP/1.1" 200' in access


def test_a_missing_logs_folder_says_the_mkdir_to_run(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("init", str(site)).returncode == 0
    (site / "cgi" / "logs").rmdir()
    # -t checks as apache2 -t does; a start outside dev mode refuses likewise
    for args in (["-t"], ["-c", "CGIDevMode Off", "-l", "127.0.0.1:0"]):
        r = run_cli(*args, "-f", str(site / "httpd.conf"))
        assert r.returncode == 1
        assert r.stderr.rstrip().endswith(
            f": No such file or directory (create it: mkdir -p {site}/cgi/logs)"), r.stderr
    assert not (site / "cgi" / "logs").exists()


def test_a_dev_mode_start_makes_the_missing_logs_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("init", str(site)).returncode == 0
    (site / "cgi" / "logs").rmdir()
    with ServerProcess(["-f", str(site / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        assert b"Hello, CGI" in get(srv, "/", "cgi213.loc")
    assert (site / "cgi" / "logs" / "access.log").is_file()


def test_init_refuses_a_folder_with_files_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    r = run_cli("init", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr == (f"cgihttpd: {tmp_path} is not empty: choose a new folder, or add "
                        "--force to write the site's files into it (files of the same "
                        "name are replaced)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
    r = run_cli("init", str(tmp_path), "--force", "--name", "My.Site", "--port", "8081")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    conf = (tmp_path / "httpd.conf").read_text()
    assert "ServerName my.site\n" in conf and "<VirtualHost *:8081>" in conf
    assert f"cgihttpd -f {tmp_path}/httpd.conf\n" in r.stdout  # 8081: no -l needed
    assert "http://my.site.localhost:8081/" in r.stdout


def test_hosts_prints_the_lines_and_this_systems_file() -> None:
    r = run_cli("hosts", "cgi213.loc")
    assert r.returncode == 0
    assert r.stdout.startswith("Add these lines to /etc/hosts:\n"
                               "  127.0.0.1   cgi213.loc\n  ::1         cgi213.loc\n")
    r = run_cli("hosts", "a.loc", "http://b.loc/")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == ("cgihttpd: 'http://b.loc/' is not a host name (no spaces, '#', "
                        "slashes or colons)\n")
    r = run_cli("hosts", "cgi213.loc", env=WINDOWS_ENV)
    assert r.stdout.startswith(
        "Add these lines to C:\\Windows\\System32\\drivers\\etc\\hosts:\n")


def test_hosts_apply_adds_once_with_a_backup(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    original = "127.0.0.1 localhost\r\n::1 localhost\r\n"
    hosts.write_bytes(original.encode())
    r = run_cli("hosts", "cgi213.loc", "www.cgi213.loc", "--apply", "--file", str(hosts))
    assert r.returncode == 0, r.stderr
    backups = list(tmp_path.glob("hosts.cgihttpd-*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == original.encode()
    assert f"(the old file is {backups[0]})" in r.stdout
    text = hosts.read_bytes().decode()
    assert text == original + ("# added by cgihttpd hosts\r\n127.0.0.1   cgi213.loc\r\n"
                               "::1         cgi213.loc\r\n127.0.0.1   www.cgi213.loc\r\n"
                               "::1         www.cgi213.loc\r\n")
    r = run_cli("hosts", "cgi213.loc", "--apply", "--file", str(hosts))
    assert r.returncode == 0
    assert "nothing to do" in r.stdout
    assert hosts.read_bytes().decode() == text
    assert len(list(tmp_path.glob("hosts.cgihttpd-*.bak"))) == 1


def test_hosts_apply_on_a_file_it_may_not_write_says_how(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(hosts)],
                                        capture_output=True).returncode != 0:
        # as root only an immutable file refuses a write; without chattr, a non-root
        # user's read-only file does
        if os.geteuid() == 0:
            pytest.skip("root and no chattr +i here: every file is writable")
        hosts.chmod(0o444)
    try:
        r = run_cli("hosts", "a.loc", "--apply", "--file", str(hosts))
        assert r.returncode == 1
        assert r.stderr.startswith(f"cgihttpd: {hosts}: ")
        assert r.stderr.endswith("the hosts file can only be changed by root: run again "
                                 "as sudo cgihttpd hosts a.loc --apply\n")
        w = run_cli("hosts", "a.loc", "--apply", "--file", str(hosts), env=WINDOWS_ENV)
        assert "open the terminal with 'Run as administrator'" in w.stderr
    finally:
        if chattr is not None:
            subprocess.run([chattr, "-i", str(hosts)], capture_output=True)
    assert hosts.read_text() == "127.0.0.1 localhost\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts"]  # no backup left


def test_a_script_failing_mid_body_is_one_plain_console_line(tmp_path: Path) -> None:
    script = tmp_path / "late.py"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      "print('Content-Type: text/html')\nprint()\n"
                      "print('<p>half a page', flush=True)\nraise ValueError('oops')\n")
    # production (dev mode, on for a folder, would end the page with the explanation)
    conf = tmp_path / "httpd.conf"
    conf.write_text("LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n"
                    "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\n"
                    "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
                    f"ServerName localhost\nDocumentRoot {tmp_path}\nErrorLog /dev/stderr\n"
                    f"<Directory {tmp_path}>\n  Options +ExecCGI\n  Require all granted\n"
                    "</Directory>\nAddHandler cgi-script .py\n")
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        out = get(srv, "/late.py", "localhost")
        assert b"half a page" in out and not out.endswith(b"0\r\n\r\n")  # cut off
        line = (f"cgihttpd: ERROR: GET /late.py: the script {script} ended (exit status 1) "
                "after 15 bytes of its body, so the response was cut off")
        assert wait_line(srv, line), srv.stderr_lines
    assert not any("ASGI" in x for x in srv.stderr_lines), srv.stderr_lines
