"""Whole configurations: the course's vhost, Debian's stock tree, inheritance into
virtual hosts, module warnings, the -S report and the zero-config server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from config_helpers import FIXTURES, load

from app.factory import require_of
from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.loader import account_id, load_config, read_envvars
from cgihttpd.config.model import Address, OptionsSpec
from cgihttpd.config.report import describe
from cgihttpd.config.zeroconf import folder_config

DEBIAN = Path("/etc/apache2/apache2.conf")


def course_root(tmp_path: Path) -> Path:
    (tmp_path / "cgi" / "logs").mkdir(parents=True)
    (tmp_path / "logs").mkdir()
    return tmp_path


def test_course_vhost_loads_with_expected_values(tmp_path: Path) -> None:
    root = course_root(tmp_path)
    c = load_config(str(FIXTURES / "course" / "httpd.conf"), environ={"COURSE_ROOT": str(root)})
    assert c.server_root == str(root)
    assert c.listens == (Address("*", 80),)
    (vh,) = c.vhosts
    assert vh.addresses == (Address("*", 80),)
    assert vh.server_name == "cgi213.loc"
    assert vh.server_aliases == ("www.cgi213.loc",)
    assert vh.server_admin == "webmaster@localhost"
    assert vh.document_root == f"{root}/cgi"
    assert vh.error_log == f"{root}/cgi/logs/error.log"
    (log,) = vh.custom_logs
    assert (log.target, log.nickname, log.format) == (
        f"{root}/cgi/logs/access.log", "common", '%h %l %u %t "%r" %>s %b')
    (sec,) = vh.sections
    assert (sec.kind, sec.pattern, sec.regex) == ("directory", f"{root}/cgi", False)
    merged = vh.base.merge(sec.conf)
    assert merged.effective_options == frozenset({"FollowSymLinks", "ExecCGI"})
    assert sec.conf.options == OptionsSpec(add=frozenset({"ExecCGI"}),
                                           remove=frozenset({"Indexes"}))
    assert merged.handler_for("index.py") == "cgi-script"
    assert require_of(merged) == "all granted"
    assert merged.allow_override == frozenset(
        {"AuthConfig", "FileInfo", "Indexes", "Limit", "Options"})
    # DirectoryIndex set in the main server is inherited by the vhost
    assert merged.effective_directory_index == ("index.html", "index.py")
    assert {"cgi_module", "dir_module", "mime_module", "authz_core_module"} <= c.modules
    assert dict(c.mime_types).get(".html") == "text/html"
    # the main server has no ServerName: Apache's AH00558 warning
    assert any("Could not reliably determine the server's fully qualified domain name" in w
               for w in c.warnings)
    # vhost sections come after the main server's; the main server's ErrorLog is its own
    assert c.main.error_log == f"{root}/logs/error.log"
    assert c.pid_file == f"{root}/logs/httpd.pid"


def test_course_report_like_apachectl_s(tmp_path: Path) -> None:
    root = course_root(tmp_path)
    conf = FIXTURES / "course" / "httpd.conf"
    c = load_config(str(conf), environ={"COURSE_ROOT": str(root)})
    text = describe(c)
    line = next(i for i, ln in enumerate(conf.read_text().splitlines(), 1)
                if ln.startswith("<VirtualHost"))
    # layout of apache2 -S on this file: "%-22s %s (%s:%u)"
    assert f"*:80                   cgi213.loc ({conf}:{line})\n" in text
    assert "                 alias www.cgi213.loc\n" in text
    assert f'                 DocumentRoot "{root}/cgi"\n' in text
    assert f'                 CustomLog "{root}/cgi/logs/access.log" common\n' in text
    assert text.startswith("VirtualHost configuration:\n")
    assert f'ServerRoot: "{root}"\n' in text
    assert 'Main DocumentRoot: "/var/www/html"\n' in text
    assert f'Main ErrorLog: "{root}/logs/error.log"\n' in text
    assert "Listen: *:80\n" in text


def debian_environ() -> dict[str, str]:
    """The variables /etc/apache2/envvars exports, as apache2ctl sources them."""
    assert DEBIAN.exists(), ("Debian's apache2 is not installed: run scripts/install-test-deps"
                             " (make test does) so /etc/apache2 exists")
    return read_envvars(str(DEBIAN.parent / "envvars"), environ={})


def test_read_envvars(tmp_path: Path) -> None:
    f = tmp_path / "envvars"
    f.write_text('unset HOME\nif [ x ]; then\n  SUFFIX=\nfi\nexport A=www-data\n'
                 'export B=/var/run/apache2$SUFFIX\nexport C="${B}/x"\nexport LANG\n')
    env = read_envvars(str(f), environ={"KEEP": "1"})
    assert env == {"KEEP": "1", "A": "www-data", "B": "/var/run/apache2",
                   "C": "/var/run/apache2/x"}


def test_debian_stock_tree_loads_without_errors() -> None:
    assert DEBIAN.exists(), ("Debian's apache2 is not installed: run scripts/install-test-deps"
                             " (make test does) so /etc/apache2 exists")
    c = load_config(str(DEBIAN), environ=debian_environ())
    assert c.server_root == "/etc/apache2"
    assert c.listens == (Address("*", 80),)
    assert c.user == "www-data" and c.group == "www-data"
    assert c.main.error_log == "/var/log/apache2/error.log"
    (vh,) = c.vhosts
    assert vh.document_root == "/var/www/html"
    assert [(x.target, x.nickname) for x in vh.custom_logs] == [
        ("/var/log/apache2/access.log", "combined")]
    # mods-enabled/alias.conf's icons directory comes first (it is included before
    # apache2.conf's own sections), then <Directory />, /usr/share, /var/www/
    patterns = [s.pattern for s in c.main.sections if s.kind == "directory"]
    assert patterns[:4] == ["/usr/share/apache2/icons", "/", "/usr/share", "/var/www"]
    assert c.main.base.directory_index is not None
    assert "index.html" in c.main.base.directory_index
    # one warning per unimplemented module, naming its directives with file:line
    # mod_setenvif is implemented: setenvif.conf's BrowserMatch lines are the server's
    # conditions, with no warning
    assert not [w for w in c.warnings if "setenvif_module" in w]
    assert any(x.attribute == "User-Agent" and ("nokeepalive", "1") in x.features
               for x in c.main.setenvif)
    assert any(w.startswith("MPM tuning directives") and "StartServers" in w
               for w in c.warnings)
    assert any(w.startswith("/etc/apache2/mods-enabled/deflate.load:") and
               "module deflate_module (mod_deflate.c) is loaded but not implemented" in w
               for w in c.warnings)
    # mod_status is implemented (status.py): Debian's status.conf loads with no warning
    assert not [w for w in c.warnings if "status_module" in w]


def test_d_sets_the_server_root_and_finds_a_relative_conf(tmp_path: Path) -> None:
    """httpd -d ROOT -f REL: ROOT is the ServerRoot (Debian's apache2.conf sets none) and
    REL, like a relative Include, is found under it."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "httpd.conf").write_text("ServerName x\nInclude extra.conf\n")
    (tmp_path / "extra.conf").write_text("Timeout 7\n")
    c = load_config("etc/httpd.conf", environ={}, server_root=str(tmp_path))
    assert c.server_root == str(tmp_path)
    assert c.files == (f"{tmp_path}/etc/httpd.conf", f"{tmp_path}/extra.conf")
    assert c.main.timeout == 7.0


def test_account_ids_for_the_S_report() -> None:
    """-S prints User/Group with the id unixd resolved (ap_uname2id: #N is N)."""
    assert account_id("#33", "user") == 33
    assert account_id("root", "user") == 0
    assert account_id("root", "group") == 0
    assert account_id("no-such-user-here", "user") is None
    assert account_id(None, "group") is None


def test_debian_mods_available_confs_parse(tmp_path: Path) -> None:
    """Every mods-available/*.conf of the stock tree loads once its module is loaded."""
    avail = DEBIAN.parent / "mods-available"
    assert avail.is_dir(), "Debian's apache2 is not installed (/etc/apache2/mods-available)"
    loads = sorted(p for p in avail.glob("*.load") if "mpm_" not in p.name)
    body = "".join(p.read_text() for p in loads)
    body += "LoadModule mpm_event_module x.so\n"
    body += "".join(f"Include {p}\n" for p in sorted(avail.glob("*.conf"))
                    if not p.name.startswith("mpm_") or p.name == "mpm_event.conf")
    env = debian_environ()
    c = load(tmp_path, body, prelude=False, environ=env)
    assert "ssl_module" in c.modules


def test_vhost_inherits_main_server_values(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    c = load(tmp_path, f"""ErrorLog main.log
CustomLog access.log combined
LogFormat "%h" combined
Timeout 10
ServerAdmin admin@main
DocumentRoot {tmp_path}
Alias /shared /srv/shared
DirectoryIndex main.html
<Directory {tmp_path}>
Options None
</Directory>
<VirtualHost *:80>
ServerName a.example
DocumentRoot {tmp_path}/site
Alias /own /srv/own
</VirtualHost>
<VirtualHost *:80>
ServerName b.example
ErrorLog b.log
CustomLog b-access.log "%h %>s"
Timeout 20
DirectoryIndex b.html
</VirtualHost>
""")
    a, b = c.vhosts
    assert (a.error_log, a.timeout, a.server_admin) == (f"{tmp_path}/main.log", 10.0,
                                                        "admin@main")
    assert a.document_root == f"{tmp_path}/site"
    assert [x.format for x in a.custom_logs] == ["%h"]  # nickname resolved at the end
    assert [x.url for x in a.aliases] == ["/own", "/shared"]
    assert [s.pattern for s in a.sections] == [str(tmp_path)]
    assert a.base.directory_index == ("main.html",)
    assert (b.error_log, b.timeout) == (f"{tmp_path}/b.log", 20.0)
    assert b.document_root == str(tmp_path)
    assert [x.target for x in b.custom_logs] == [f"{tmp_path}/b-access.log"]
    assert b.base.directory_index == ("b.html",)
    assert a.server_name == "a.example" and not a.is_main and c.main.is_main


def test_vhost_without_servername_uses_the_main_one(tmp_path: Path) -> None:
    c = load(tmp_path, "<VirtualHost 127.0.0.1:8080>\n</VirtualHost>\n")
    assert c.vhosts[0].server_name == "test.example"


def test_server_port_as_r_server_port(tmp_path: Path) -> None:
    # core.c server_hostname_port sets s->port (0 without a port); vhost.c
    # ap_parse_vhost_addrs takes the first address's port; else the main server's.
    c = load(tmp_path, """ServerName main.example:8000
<VirtualHost *:8080>
</VirtualHost>
<VirtualHost *:8080>
ServerName named.example
</VirtualHost>
<VirtualHost *:8080>
ServerName ported.example:81
</VirtualHost>
<VirtualHost *>
</VirtualHost>
""")
    assert c.main.port == 8000
    assert [v.port for v in c.vhosts] == [8080, 0, 81, 8000]


def test_missing_vhost_document_root_is_a_warning(tmp_path: Path) -> None:
    # apache2 -t: "AH00112: Warning: DocumentRoot [/tmp/nonexist] does not exist"
    c = load(tmp_path, "<VirtualHost *:80>\nDocumentRoot /no/such/dir\n</VirtualHost>\n")
    assert any("Warning: DocumentRoot [/no/such/dir] does not exist" in w
               for w in c.warnings)


def test_windows_paths_are_kept_as_given(tmp_path: Path) -> None:
    c = load(tmp_path, '<VirtualHost *:80>\nDocumentRoot "D:/Projects/x/"\n'
                       'ErrorLog "D:/Projects/x/logs/error.log"\n'
                       '<Directory "D:/Projects/x">\n</Directory>\n</VirtualHost>\n')
    vh = c.vhosts[0]
    assert vh.document_root == "D:/Projects/x"
    assert vh.error_log == "D:/Projects/x/logs/error.log"
    assert vh.sections[0].pattern == "D:/Projects/x"


def test_unimplemented_module_one_warning_with_its_directives(tmp_path: Path) -> None:
    c = load(tmp_path, "LoadModule expires_module x.so\nExpiresActive On\n"
                       "<Directory /x>\nExpiresActive Off\n</Directory>\n")
    ws = [w for w in c.warnings if "expires_module" in w]
    assert len(ws) == 1
    assert re.search(r"ExpiresActive \(.*httpd\.conf:9, \+1 more\)", ws[0]), ws[0]
    assert [n for n, _ in c.main.sections[0].conf.ignored] == ["ExpiresActive"]


def test_sections_we_do_not_implement_are_reported(tmp_path: Path) -> None:
    c = load(tmp_path, "LoadModule headers_module x.so\n<Directory /x>\n<If \"true\">\n"
                       "Header set X 1\n</If>\n</Directory>\n")
    assert any("<If" in w or "If (" in w for w in c.warnings)


def test_a_limit_section_limits_its_require_lines(tmp_path: Path) -> None:
    # <Limit POST> Require all denied: POST only (ignoring it would serve POST to all)
    c = load(tmp_path, "<Directory /x>\n<Limit POST>\nRequire all denied\n</Limit>\n"
                       "</Directory>\n")
    tree = c.main.sections[0].conf.require_tree
    assert tree is not None and "POST" in tree.limited and "GET" not in tree.limited


def test_config_errors_are_all_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as info:
        load(tmp_path, "Foo\nBar\n")
    assert len(info.value.errors) == 2
    assert all(re.match(r".*httpd\.conf:\d+: Invalid command", str(e))
               for e in info.value.errors)


def test_missing_main_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as info:
        load_config(str(tmp_path / "nope.conf"))
    assert "Could not open configuration file" in str(info.value)


def test_zero_config_folder(tmp_path: Path) -> None:
    c = folder_config(str(tmp_path) + "/", Address("127.0.0.1", 8080))
    assert c.listens == (Address("127.0.0.1", 8080),) and c.vhosts == ()
    m = c.main
    assert m.document_root == str(tmp_path) and m.server_name == "localhost"
    assert (m.error_log, m.custom_logs[0].target) == ("/dev/stderr", "/dev/stdout")
    assert m.custom_logs[0].format == '%h %l %u %t "%r" %>s %b'
    (sec,) = m.sections
    conf = m.base.merge(sec.conf)
    assert sec.pattern == str(tmp_path)
    assert "ExecCGI" in conf.effective_options and "Indexes" not in conf.effective_options
    assert conf.effective_directory_index == ("index.html", "index.py")
    assert conf.handler_for("a.py") == conf.handler_for("b.cgi") == "cgi-script"
    assert require_of(conf) == "all granted" and c.user is None and c.group is None
    assert "VirtualHost configuration:" in describe(c)


def test_course_config_with_crlf_line_endings_loads_the_same(tmp_path: Path) -> None:
    root = course_root(tmp_path / "root")
    text = (FIXTURES / "course" / "httpd.conf").read_text()
    lf = tmp_path / "lf.conf"
    crlf = tmp_path / "crlf.conf"
    lf.write_bytes(text.encode())
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    env = {"COURSE_ROOT": str(root)}
    a = load_config(str(lf), environ=env)
    b = load_config(str(crlf), environ=env)
    assert a.vhosts[0].sections[0].conf == b.vhosts[0].sections[0].conf
    assert (a.vhosts[0].server_name, a.vhosts[0].document_root) == (
        b.vhosts[0].server_name, b.vhosts[0].document_root)


def test_include_and_ifmodule_inside_a_virtual_host(tmp_path: Path) -> None:
    (tmp_path / "vh.conf").write_text("ServerAlias inc.example\n<Directory /x>\n"
                                      "Require all denied\n</Directory>\n")
    c = load(tmp_path, "<VirtualHost *:80>\nServerName a\n<IfModule mod_dir.c>\n"
                       "DirectoryIndex in.html\n</IfModule>\nInclude vh.conf\n"
                       "</VirtualHost>\n")
    vh = c.vhosts[0]
    assert vh.server_aliases == ("inc.example",)
    assert vh.base.directory_index == ("in.html",)
    assert require_of(vh.sections[0].conf) == "all denied"
    assert vh.sections[0].source.file == str(tmp_path / "vh.conf")


def test_remove_handler_then_a_deeper_add_handler(tmp_path: Path) -> None:
    """merge_mime_dir_configs: RemoveHandler acts on the table merged so far, so a
    deeper AddHandler brings the handler back (checked on apache2)."""
    from cgihttpd.config.model import DirConf

    top = DirConf(add_handlers=((".py", "cgi-script"),))
    removed = top.merge(DirConf(remove_handlers=(".py",)))
    again = removed.merge(DirConf(add_handlers=((".py", "cgi-script"),)))
    assert top.handler_for("s.py") == "cgi-script"
    assert removed.handler_for("s.py") is None
    assert again.handler_for("s.py") == "cgi-script"
    assert removed.merge(DirConf()).handler_for("s.py") is None
    # a removed extension does not hide an earlier one's handler
    assert top.merge(DirConf(add_handlers=((".bak", "x"),), remove_handlers=(".bak",))
                     ).handler_for("s.py.bak") == "cgi-script"
