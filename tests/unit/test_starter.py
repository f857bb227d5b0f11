"""starter.hostsfile and starter.site: the hosts-file text and the course's site, pure."""

from __future__ import annotations

import pytest

from cgihttpd.starter.hostsfile import (
    MARKER,
    WINDOWS_HOSTS,
    add_entries,
    admin_hint,
    host_lines,
    hosts_path,
)
from cgihttpd.starter.site import SiteSpec, httpd_conf, next_steps, shebang, site_files

NAMES = ["cgi213.loc", "www.cgi213.loc"]


def test_lines_are_the_courses() -> None:
    assert host_lines(NAMES) == [
        "127.0.0.1   cgi213.loc", "::1         cgi213.loc",
        "127.0.0.1   www.cgi213.loc", "::1         www.cgi213.loc"]


def test_hosts_path_per_system() -> None:
    assert hosts_path(False) == "/etc/hosts"
    assert hosts_path(True) == WINDOWS_HOSTS == r"C:\Windows\System32\drivers\etc\hosts"
    assert hosts_path(True, {"SystemRoot": "D:\\WINNT\\"}) == \
        r"D:\WINNT\System32\drivers\etc\hosts"


def test_add_appends_the_missing_lines_once() -> None:
    text = "127.0.0.1 localhost\n# 127.0.0.1 www.cgi213.loc (a comment maps nothing)\n" \
           "127.0.0.1\tCGI213.loc other.loc\n"
    new, added = add_entries(text, NAMES)
    assert added == ["::1         cgi213.loc", "127.0.0.1   www.cgi213.loc",
                     "::1         www.cgi213.loc"]
    assert new == text + MARKER + "\n" + "\n".join(added) + "\n"
    again, none = add_entries(new, NAMES)
    assert (again, none) == (new, [])


@pytest.mark.parametrize(("text", "head"), [
    ("", ""),
    ("127.0.0.1 localhost", "127.0.0.1 localhost\n"),  # no newline at the end
    ("127.0.0.1 localhost\r\n", "127.0.0.1 localhost\r\n"),
])
def test_add_keeps_the_files_text_and_line_ending(text: str, head: str) -> None:
    new, added = add_entries(text, ["a.loc"])
    nl = "\r\n" if "\r\n" in text else "\n"
    assert added == host_lines(["a.loc"])
    assert new == head + nl.join([MARKER, *added]) + nl


def test_admin_hint_names_the_way_per_system() -> None:
    assert "sudo cgihttpd hosts a --apply" in admin_hint(False, "cgihttpd hosts a --apply")
    assert "Run as administrator" in admin_hint(True, "cgihttpd hosts a --apply")


def test_shebang_is_the_courses_form_on_windows() -> None:
    exe = r"C:\Users\nikit\AppData\Local\Programs\Python\Python313\python.exe"
    assert shebang(exe, True) == \
        "#!C:/Users/nikit/AppData/Local/Programs/Python/Python313/python.exe"
    assert shebang("/usr/bin/python3", False) == "#!/usr/bin/python3"


POSIX = SiteSpec(root="/home/me/Server-213", name="cgi213.loc", python="/usr/bin/python3",
                 windows=False)
WINDOWS = SiteSpec(root=r"D:\Projects\python\Server-213", name="cgi213.loc",
                   python=r"C:\Python313\python.exe", windows=True)


def test_the_virtual_host_is_the_courses() -> None:
    conf = httpd_conf(WINDOWS)
    block = conf[conf.index("\n<VirtualHost ") + 1:]
    for line in ('<VirtualHost *:80>', "ServerAdmin webmaster@localhost",
                 'DocumentRoot "D:/Projects/python/Server-213/cgi"',
                 "ServerName cgi213.loc", "ServerAlias www.cgi213.loc",
                 'ErrorLog "D:/Projects/python/Server-213/cgi/logs/error.log"',
                 'CustomLog "D:/Projects/python/Server-213/cgi/logs/access.log" common',
                 '<Directory "D:/Projects/python/Server-213/cgi">', "AllowOverride All",
                 "Options -Indexes +ExecCGI", "AddHandler cgi-script .py",
                 "Require all granted"):
        assert f"\n    {line}\n" in block or block.startswith(line) or \
            f"\n        {line}\n" in block, line
    assert "LoadModule cgi_module C:/xampp/apache/modules/mod_cgi.so" in conf
    assert "mpm_event" not in conf  # Windows' Apache has its MPM built in
    # dev mode on for init sites, in a block Apache skips
    assert "\n<IfDirective CGIDevMode>\n    CGIDevMode On\n</IfDirective>\n" in conf
    assert "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so" in \
        httpd_conf(POSIX)


def test_scripts_start_with_this_machines_python() -> None:
    for spec, first in ((POSIX, "#!/usr/bin/python3\n"),
                        (WINDOWS, "#!C:/Python313/python.exe\n")):
        files = site_files(spec)
        assert files["cgi/index.py"].startswith(first)
        assert files["cgi/form.py"].startswith(first)
        assert "Hello, World" in files["cgi/index.html"]
        assert 'action="form.py"' in files["cgi/form.html"]


def test_next_steps_say_the_commands_urls_and_hosts_file() -> None:
    text = next_steps(POSIX, "/home/me/Server-213/httpd.conf")
    assert "cgihttpd -t -f /home/me/Server-213/httpd.conf\n" in text
    # port 80 needs root on POSIX: the command overrides it, the URLs follow
    assert "cgihttpd -f /home/me/Server-213/httpd.conf -l 127.0.0.1:8080\n" in text
    assert "http://cgi213.loc.localhost:8080/" in text
    assert "/etc/hosts" in text and "  ::1         www.cgi213.loc\n" in text
    text = next_steps(WINDOWS, r"D:\Projects\python\Server 213\httpd.conf")
    assert 'cgihttpd -f "D:\\Projects\\python\\Server 213\\httpd.conf"\n' in text
    assert "http://cgi213.loc.localhost/" in text
    assert r"C:\Windows\System32\drivers\etc\hosts" in text
