"""Access-control configuration against Debian's ``apache2 -t``: the same broken
``Require``/``<RequireAll>``/``<Limit>``/``Order``/``Allow`` lines give the same first
error (line and message), and the same valid ones load (see test_config_oracle)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_config_oracle import APACHE, HEAD, MODULES, apache_first_error

from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.loader import load_config

pytestmark = pytest.mark.differential

AUTHZ_HEAD = HEAD + """LoadModule authz_user_module {mods}/mod_authz_user.so
LoadModule authz_groupfile_module {mods}/mod_authz_groupfile.so
LoadModule access_compat_module {mods}/mod_access_compat.so
"""


def _d(body: str) -> str:
    return "<Directory /tmp>\n" + body + "\n</Directory>"


BROKEN = [
    _d("Require not all denied"),
    _d("Require not ip 10.0.0.0/8"),
    _d("Require all"),
    _d("Require all granted extra"),
    _d("Require ip"),
    _d("Require ip 10.0.0.300"),
    _d("Require ip 10.0.0.0/33"),
    _d("Require ip 10.0.0.0/255.0.255"),
    _d("Require ip fe80::1/129"),
    _d("Require ip ::ffff:1.2.3.4"),
    _d("Require ip 1.2.3.4.5"),
    _d("Require ip example.org"),
    _d("Require method FOO"),
    _d("Require method get"),
    _d("Require nosuch x"),
    _d("<RequireAll>\n</RequireAll>"),
    _d("<RequireAll x>\nRequire all granted\n</RequireAll>"),
    _d("<RequireNone>\nRequire ip 10.1\n</RequireNone>"),
    _d("<RequireAny>\nRequire not ip 10.1\n</RequireAny>"),
    _d("<RequireAll>\n<RequireAny>\n<RequireNone>\nRequire ip 10.1\n</RequireNone>\n"
       "</RequireAny>\n</RequireAll>"),
    _d("AuthMerging maybe"),
    _d("<Limit>\nRequire all denied\n</Limit>"),
    _d("<Limit TRACE>\nRequire all denied\n</Limit>"),
    _d("<Limit GET>\n<Limit GET>\nRequire all denied\n</Limit>\n</Limit>"),
    _d("<Limit GET>\n<Limit POST>\nRequire all denied\n</Limit>\n</Limit>"),
    _d("<LimitExcept GET>\n<Limit GET>\nRequire all denied\n</Limit>\n</LimitExcept>"),
    "<Limit GET>\nRequire all denied\n</Limit>",
    "Require all denied",
    _d("Order foo"),
    _d("Order"),
    _d("Allow 10.1"),
    _d("Allow to 10.1"),
    _d("Allow from"),
    _d("Deny from 10.0.0.0/abc"),
    _d("Deny from 10.0.0.1/8x"),
    _d("Allow from 10.0.0.300"),
    _d("Deny from nohost/8"),
    _d("Satisfy maybe"),
    _d("Require expr"),
    "Order allow,deny",
    _d("<Limit GET>\n<LimitExcept POST>\nRequire all denied\n</LimitExcept>\n</Limit>"),
]

ACCEPTED = [
    _d("Require all granted\nRequire ip 127.0.0.1 10.1 10.2. 192.168.0.0/16 "
       "10.0.0.0/255.0.0.0 ::1 fe80::/10"),
    _d("Require local\nRequire host localhost .example.org\nRequire env A B\n"
       "Require method GET POST HEAD"),
    _d("<RequireAll>\nRequire all granted\nRequire not ip 10.1\n</RequireAll>"),
    _d("<RequireAll>\n<RequireAll>\nRequire not ip 10.1\n</RequireAll>\n"
       "Require ip 127.0.0.1\n</RequireAll>"),
    _d("<RequireAll>\nRequire ip 127.0.0.1\n<RequireNone>\nRequire ip 10.1\n</RequireNone>\n"
       "</RequireAll>"),
    _d("<RequireAny>\n<RequireAll>\nRequire valid-user\nRequire ip 10.1\n</RequireAll>\n"
       "Require user a b\nRequire group g\n</RequireAny>"),
    _d("AuthMerging And\nAuthMerging or\nAuthMerging Off\nAuthzSendForbiddenOnFailure On"),
    _d("<Limit GET POST>\nRequire all denied\n</Limit>\n<LimitExcept GET>\n"
       "Require all granted\n</LimitExcept>"),
    _d("<Limit FOO>\nRequire all denied\n</Limit>"),
    _d("Order Allow,Deny\nOrder deny,allow\nOrder mutual-failure\nAllow from all\n"
       "Allow from 127.0.0.1 ::1 10.1 env=X env=!Y example.org\nDeny from 10.0.0.0/8\n"
       "Satisfy any\nSatisfy All\n<Limit POST>\nOrder allow,deny\nDeny from all\n</Limit>"),
    _d("Require expr %{REMOTE_ADDR} -ipmatch '127.0.0.0/8'"),
    _d("Require expr \"%{REQUEST_METHOD} == 'GET' && %{HTTP_HOST} != 'x'\""),
    _d("Require expr %{REQUEST_URI} =~ m#^/a# || ! (%{REQUEST_METHOD} in {'GET', 'HEAD'})"),
    _d("Require local extra words"),
    _d("Require env"),
    _d("Require method"),
]


@pytest.mark.parametrize("snippet", BROKEN)
def test_first_error_matches_apache(tmp_path: Path, snippet: str) -> None:
    conf = tmp_path / "httpd.conf"
    conf.write_text(AUTHZ_HEAD.format(tmp=tmp_path, mods=MODULES) + snippet + "\n")
    line, message = apache_first_error(conf)
    with pytest.raises(ConfigErrors) as info:
        load_config(str(conf), environ={})
    first = info.value.errors[0]
    assert first.source is not None
    assert (first.source.line, first.message.strip()) == (line, message)


@pytest.mark.parametrize("snippet", ACCEPTED)
def test_accepted_like_apache(tmp_path: Path, snippet: str) -> None:
    conf = tmp_path / "httpd.conf"
    conf.write_text(AUTHZ_HEAD.format(tmp=tmp_path, mods=MODULES) + snippet + "\n")
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is missing")
    out = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"})
    assert out.returncode == 0, out.stderr
    load_config(str(conf), environ={})


def test_only_negative_lines_fail_like_apache(tmp_path: Path) -> None:
    """authz_core_check_config (AH01624) has no line in Apache's output: same text,
    and ours names the section's line."""
    conf = tmp_path / "httpd.conf"
    conf.write_text(AUTHZ_HEAD.format(tmp=tmp_path, mods=MODULES)
                    + _d("<RequireAll>\nRequire not ip 10.1\n</RequireAll>") + "\n")
    out = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"})
    assert out.returncode != 0
    apache = out.stderr.splitlines()[0].strip()
    with pytest.raises(ConfigErrors) as info:
        load_config(str(conf), environ={})
    first = info.value.errors[0]
    assert first.message == apache
    assert first.source is not None and first.source.line == AUTHZ_HEAD.count("\n") + 2
