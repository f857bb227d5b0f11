"""Our ``-t`` errors against Debian's ``apache2 -t`` on the same broken files.

Apache stops at its first error; we report every error, so the first of ours must be
Apache's: same line, same message. (apache2 -t only reads the configuration: no server
is started, no port is bound.)
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.loader import load_config
from cgihttpd.config.report import describe

pytestmark = pytest.mark.differential

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"

HEAD = """ServerRoot "{tmp}"
ServerName oracle.test
PidFile "{tmp}/apache.pid"
ErrorLog "{tmp}/error.log"
Mutex file:{tmp}
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_host_module {mods}/mod_authz_host.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule dir_module {mods}/mod_dir.so
LoadModule alias_module {mods}/mod_alias.so
"""

BROKEN = [
    "Foo bar",
    "\ufeffServerName bom",
    "<Directory /tmp>\nAlias /a /b\n</Directory>",
    "<Directory /tmp>\nAlias /a\n</Directory>",
    "<Location /x>\nAlias /a /b\n</Location>",
    "Alias /a",
    "AllowOverride None",
    "<VirtualHost *:80>\nAllowOverride None\n</VirtualHost>",
    "CustomLog a",
    "LogFormat",
    "SetHandler",
    "AddType text/plain",
    "<VirtualHost>\n</VirtualHost>",
    "Listen abc",
    "Listen 18091\nListen 18091",
    "Listen 1.2.3.4",
    "LimitRequestLine -1",
    "LimitRequestBody abc",
    "ServerTokens Foo",
    "ServerName a:99999",
    "KeepAliveTimeout 5x",
    "UnDefine",
    "Define",
    "Include",
    "LoadModule x",
    "<IfModule>\n</IfModule>",
    "<ifdirective>\n</ifdirective>",
    "<ifsection>\n</ifsection>",
    "<ifmodule>\n</ifmodule>",
    "ErrorDocument 404",
    "LogLevel",
    "<Directory /x>\nAllowOverride Bogus\n</Directory>",
    "<Directory /x>\nRequire\n</Directory>",
    "<Directory /x>\nRequire all maybe\n</Directory>",
    "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\nCGIVar REQUEST_URI foo",
    "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\nCGIVar FOO x",
    "<directory /tmp>\ndocumentroot /tmp\n</directory>",
    "servername a b",
    "REQUIRE all granted",
    "<virtualhost *:80>\nuser x\n</virtualhost>",
    "Foo a \\\n  b",
    "<Directory /tmp>\nOptions +Indexes FollowSymLinks\n</Directory>",
    "<Directory /tmp>\nOptions Indexes All\n</Directory>",
    "<Directory /tmp>\nDocumentRoot /tmp\n</Directory>",
    "<Directory /tmp>\n</Files>",
    "</Directory>",
    "<Directory /tmp>\nDirectoryIndex x",
    "<Directory /tmp>\n<Directory /a>\n</Directory>\n</Directory>",
    "<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>",
    "<VirtualHost *:80>\nUser x\n</VirtualHost>",
    "<VirtualHost *:80>\nListen 81\n</VirtualHost>",
    "Listen",
    "ServerName a b",
    "Options Bogus",
    "Require all granted",
    "<Directory /x>\nRequire foo\n</Directory>",
    "KeepAlive maybe",
    "TraceEnable bogus",
    "ServerAlias x",
    "ErrorDocument 999 /x",
    "Define a:b",
    "ScriptSock /run/x",
    "AddHandler cgi-script",
    "DocumentRoot /no/such/dir",
    "Include {tmp}/none/*.conf",
    "Include {tmp}/nonedir*/x.conf",
    "Include {tmp}/nofile.conf",
    "Redirect",
    "Redirect a b c d",
    "Redirect foo /a /b",
    "Redirect /a relative",
    "Redirect /a",
    "Redirect permanent /a",
    "Redirect gone /a /b",
    "Redirect 404 /a http://x/",
    "RedirectMatch a",
    "RedirectMatch ( /x",
    "RedirectPermanent /a",
    "RedirectTemp /a b c",
    "<Location /x>\nRedirect 301 /a relative\n</Location>",
    "<Directory /tmp>\nRedirect gone /a http://x/\n</Directory>",
    *("LoadModule remoteip_module /usr/lib/apache2/modules/mod_remoteip.so\n" + line
      for line in [
        "RemoteIPTrustedProxy 300.1.1.1", "RemoteIPInternalProxy 10.0.0.0/99",
        "RemoteIPTrustedProxy foo/8", "RemoteIPHeader", "RemoteIPProxyProtocol maybe",
        "<Directory /tmp>\nRemoteIPHeader X-Real-IP\n</Directory>",
        "RemoteIPTrustedProxyList {tmp}/nolist"]),
]


def apache_first_error(conf: Path) -> tuple[int, str]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is missing: scripts/install-test-deps installs Debian's apache2")
    out = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"})
    assert out.returncode != 0, out.stderr
    m = re.search(r"Syntax error on line (\d+) of [^:]+:\s*(.*)", out.stderr, re.DOTALL)
    assert m is not None, out.stderr
    message = m.group(2).strip()
    # "<Directory> was not closed." comes as "FILE:LINE: <Directory> was not closed."
    message = re.sub(r"^\S+:\d+: ", "", message)
    return int(m.group(1)), message


ACCEPTED = [
    "Timeout abc",
    "MaxKeepAliveRequests abc",
    "LimitRequestFields abc",
    "DirectoryIndex",
    "Options",
    "<VirtualHost *:abc>\n</VirtualHost>",
    "<IfDefine a b>\n</IfDefine>",
    "<IfModule a b>\n</IfModule>",
    "ErrorDocument 200 /x",
    "<VirtualHost *:80>\nDocumentRoot /no/such/dir\n</VirtualHost>",
    "IncludeOptional {tmp}/none/*.conf",
    "ServerName ${{UNDEFINED}}",
    "# comment \\\nFoo",
    "Redirect /a http://example.com/b\nRedirectMatch ^/cgit$ /cgit/\nRedirectPermanent /p /q\n"
    "RedirectTemp /t /u\nRedirect gone /g\nRedirect 410 /g2\nRedirect seeother /s /t",
    "RedirectMatch ^/x(.*) rel$1",
    "RedirectMatch 301 ^/x(.*) http://x/$1",
    "<Location /x>\nRedirect /y\n</Location>",
    "<Location /x>\nRedirect permanent http://x/\n</Location>",
    "<Directory /tmp>\nRedirect gone\n</Directory>",
    "<Directory /tmp>\nRedirect 404 /tmp/x\n</Directory>",
]


@pytest.mark.parametrize("snippet", ACCEPTED)
def test_accepted_like_apache(tmp_path: Path, snippet: str) -> None:
    text = HEAD.format(tmp=tmp_path, mods=MODULES) + snippet.format(tmp=tmp_path) + "\n"
    conf = tmp_path / "httpd.conf"
    conf.write_text(text)
    out = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"})
    assert out.returncode == 0, out.stderr
    load_config(str(conf), environ={})


@pytest.mark.parametrize("snippet", BROKEN)
def test_first_error_matches_apache(tmp_path: Path, snippet: str) -> None:
    text = HEAD.format(tmp=tmp_path, mods=MODULES) + snippet.format(tmp=tmp_path) + "\n"
    conf = tmp_path / "httpd.conf"
    conf.write_text(text)
    line, message = apache_first_error(conf)
    with pytest.raises(ConfigErrors) as info:
        load_config(str(conf), environ={})
    first = info.value.errors[0]
    assert first.source is not None
    assert (first.source.line, first.message.strip()) == (line, message)


def test_report_layout_matches_apache_s(tmp_path: Path) -> None:
    """The VirtualHost part of ``-S`` is apache2 -S's, line for line (ours adds indented
    DocumentRoot/ErrorLog/CustomLog lines under each host, left out here)."""
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is missing: scripts/install-test-deps installs Debian's apache2")
    text = HEAD.format(tmp=tmp_path, mods=MODULES) + f"""Listen 127.0.0.1:18080
Listen 127.0.0.1:18081
<VirtualHost *:18080>
ServerName cgi213.loc
ServerAlias www.cgi213.loc *.x.loc
DocumentRoot {tmp_path}
</VirtualHost>
<VirtualHost *:18080>
ServerName b.loc
</VirtualHost>
<VirtualHost 127.0.0.1:18081>
ServerName c.loc
</VirtualHost>
"""
    conf = tmp_path / "httpd.conf"
    conf.write_text(text)
    out = subprocess.run([APACHE, "-S", "-f", str(conf)], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"})
    assert out.returncode == 0, out.stderr
    theirs = out.stdout.split("ServerRoot:")[0].splitlines()
    ours = describe(load_config(str(conf), environ={})).split("ServerRoot:")[0].splitlines()
    ours = [ln for ln in ours if not re.match(r"\s+(DocumentRoot|ErrorLog|CustomLog) ", ln)]
    assert ours == theirs
