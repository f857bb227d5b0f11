"""HTTP Basic authentication on Apache and cgihttpd, one config and one tree, password
files made by Debian's htpasswd in each format: the 401 (status, WWW-Authenticate,
body), 200 for each format's user, a wrong password and an unknown user (401 and the
same error-log line), ``Require user`` and ``Require group`` after authentication, a
script's REMOTE_USER and AUTH_TYPE (and no Authorization without CGIPassAuth), ``%u`` in
the access log, and the same protection from a .htaccess under AllowOverride
AuthConfig; and the Require tree deciding when a user is needed (RequireAll/Any with
addresses, Satisfy Any, ``Require expr`` on REMOTE_USER, AuthzSendForbiddenOnFailure)."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import (
    Pair,
    Response,
    config_head,
    serving,
    site_dirs,
    wait_for_lines,
)

pytestmark = pytest.mark.differential

MODS = "/usr/lib/apache2/modules"
HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
CONFIG = config_head("authz_core", "authz_user", "authz_groupfile", "authz_host", "access_compat", "authn_core", "authn_file", "auth_basic", "mime", "dir", "cgid") + """
LogFormat "%h %l %u \\"%r\\" %>s" auth
CustomLog "${ROOT}/logs/${IMPL}-access.log" auth
TypesConfig /etc/mime.types
AddHandler cgi-script .cgi
DocumentRoot "${ROOT}/site"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    AllowOverride None
    Options +ExecCGI
    Require all granted
</Directory>
<Directory "${ROOT}/site/private">
    AuthType Basic
    AuthName "Private \\"Area\\""
    AuthUserFile users
    Require valid-user
</Directory>
<Directory "${ROOT}/site/bob">
    AuthType Basic
    AuthName bob
    AuthUserFile users
    Require user bob
</Directory>
<Directory "${ROOT}/site/admins">
    AuthType Basic
    AuthName admins
    AuthUserFile users
    AuthGroupFile groups
    Require group admins
</Directory>
<Directory "${ROOT}/site/ht">
    AllowOverride AuthConfig
</Directory>
# configurations that cannot authenticate: 500 on both, never the page
<Directory "${ROOT}/site/notauthoritative">
    AuthType Basic
    AuthName na
    AuthUserFile users
    AuthBasicAuthoritative Off
    Require valid-user
</Directory>
<Directory "${ROOT}/site/noname">
    AuthType Basic
    AuthUserFile users
    Require valid-user
</Directory>
<Directory "${ROOT}/site/notype">
    Require valid-user
</Directory>
<Directory "${ROOT}/site/nofile">
    AuthType Basic
    AuthName nf
    AuthUserFile nosuchfile
    Require valid-user
</Directory>
# the Require tree decides, authentication only when it needs a user (authz9 + authn9)
<Directory "${ROOT}/site/forbid">
    AuthType Basic
    AuthName forbid
    AuthUserFile users
    AuthzSendForbiddenOnFailure On
    Require user bob
</Directory>
<Directory "${ROOT}/site/both">
    AuthType Basic
    AuthName both
    AuthUserFile users
    <RequireAll>
        Require local
        Require valid-user
    </RequireAll>
</Directory>
<Directory "${ROOT}/site/elsewhere">
    AuthType Basic
    AuthName elsewhere
    AuthUserFile users
    <RequireAll>
        Require ip 192.0.2.1
        Require valid-user
    </RequireAll>
</Directory>
<Directory "${ROOT}/site/localany">
    AuthType Basic
    AuthName localany
    AuthUserFile users
    Require local
    Require valid-user
</Directory>
<Directory "${ROOT}/site/satisfy">
    AuthType Basic
    AuthName satisfy
    AuthUserFile users
    Order deny,allow
    Deny from all
    Satisfy Any
    Require valid-user
</Directory>
<Directory "${ROOT}/site/expr">
    AuthType Basic
    AuthName expr
    AuthUserFile users
    Require expr %{REMOTE_USER} == 'bob'
</Directory>
# AuthType without a Require of its own: the inherited "all granted" needs no user
<Directory "${ROOT}/site/granted">
    AuthType Basic
    AuthName g
    AuthUserFile users
</Directory>
"""

WHO = ("#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
       "echo \"user=${REMOTE_USER-unset} type=${AUTH_TYPE-unset} "
       "auth=${HTTP_AUTHORIZATION-unset}\"\n")
FILES = {
    "private/index.html": "private\n",
    "private/who.cgi": WHO,
    "bob/index.html": "bob\n",
    "admins/index.html": "admins\n",
    "ht/.htaccess": "AuthType Basic\nAuthName ht\nAuthUserFile users\nRequire valid-user\n",
    "ht/index.html": "ht\n",
    **{f"{d}/index.html": f"{d}\n" for d in ("notauthoritative", "noname", "notype",
                                             "nofile", "granted", "forbid", "both",
                                             "elsewhere", "localany", "satisfy", "expr")},
}
#: user → (htpasswd flag, password): one user per format htpasswd writes that Apache
#: verifies on Linux (-p plain text does not: APR hands it to crypt(3))
USERS = {"bcrypt": ("-B", "b-pw"), "apr1": ("-m", "m-pw"), "sha1": ("-s", "s-pw"),
         "des": ("-d", "d-pw"), "sha256": ("-2", "2-pw"), "sha512": ("-5", "5-pw"),
         "bob": ("-m", "builder"), "plain": ("-p", "p-pw")}


def credentials(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def apair(diff_root: Path) -> Iterator[Pair]:
    root = diff_root / "auth"
    site_dirs(root, FILES)
    lines = []
    for user, (flag, password) in USERS.items():
        out = subprocess.run([HTPASSWD, "-nb", flag, user, password], capture_output=True,
                             check=True, timeout=30)
        lines.append(out.stdout.decode().strip())
    (root / "users").write_text("\n".join(lines) + "\n")
    (root / "groups").write_text("admins: sha1 bob\nstaff: apr1\n")
    with serving(root, CONFIG, lambda name: name == "who.cgi") as started:
        yield started


_ADDRESS = re.compile(rb"<hr>\s*<address>.*?</address>\s*", re.S)


def answer(resp: Response) -> tuple[int, str | None, bytes]:
    return resp.status, resp.header("WWW-Authenticate"), _ADDRESS.sub(b"", resp.body)


def same(pair: Pair, path: str, headers: dict[str, str] | None = None
         ) -> tuple[int, str | None, bytes]:
    apache, ours = (answer(s.request("GET", path, headers)) for s in pair.both())
    assert ours == apache, path
    return apache


@pytest.mark.parametrize("path", ["/private/", "/private/index.html", "/private/nope",
                                  "/ht/", "/bob/"])
def test_no_credentials_is_the_same_401(apair: Pair, path: str) -> None:
    status, challenge, body = same(apair, path)
    assert status == 401 and challenge is not None and challenge.startswith("Basic realm=")
    assert b"401 Unauthorized" in body


def test_the_realm_is_quoted_as_apache_quotes_it(apair: Pair) -> None:
    assert same(apair, "/private/")[1] == 'Basic realm="Private \\"Area\\""'


@pytest.mark.parametrize("user", [u for u in USERS if u != "plain"])
def test_each_format_authenticates(apair: Pair, user: str) -> None:
    assert same(apair, "/private/", credentials(user, USERS[user][1]))[0] == 200
    assert same(apair, "/private/", credentials(user, USERS[user][1] + "x"))[0] == 401


def test_plain_text_is_refused_on_linux_by_both(apair: Pair) -> None:
    assert same(apair, "/private/", credentials("plain", "p-pw"))[0] == 401


_CLIENT = re.compile(r"^\[[^]]*\] (\[[a-z_]+:[a-z]+\]) \[pid [^]]*\] (?:\([^)]*\)[^[]*)?"
                     r"\[client [^]]*\] (.*)$")


def _lines(path: Path, needle: str) -> list[tuple[str, str]]:
    out = []
    for ln in wait_for_lines(path, 1):
        m = _CLIENT.match(ln)
        if m and needle in ln:
            out.append((m.group(1), m.group(2)))
    return out


@pytest.mark.parametrize(("path", "user", "password", "needle"), [
    ("/private/index.html", "apr1", "wrong", "user apr1: authentication failure"),
    ("/private/index.html", "mallory", "x", "user mallory not found"),
    ("/private/", "", "x", "user  not found"),
    ("/bob/", "apr1", "m-pw", "user apr1: authorization failure"),
    ("/admins/", "apr1", "m-pw", "user apr1: authorization failure"),
    # (AH01663 and AH01667 are debug lines; AH01666 is info)
    ("/admins/", "des", "d-pw", "user des to access"),
])
def test_refusals_log_the_same_line(apair: Pair, path: str, user: str, password: str,
                                    needle: str) -> None:
    status, challenge, _ = same(apair, path, credentials(user, password))
    assert status == 401 and challenge is not None
    apache = _lines(apair.apache.log("error"), needle)
    ours = _lines(apair.ours.log("error"), needle)
    assert apache and ours and ours[-1] == apache[-1], (ours, apache)


def test_require_user_and_group(apair: Pair) -> None:
    assert same(apair, "/bob/", credentials("bob", "builder"))[:1] == (200,)
    assert same(apair, "/admins/", credentials("sha1", "s-pw"))[:1] == (200,)
    assert same(apair, "/admins/", credentials("bob", "builder"))[:1] == (200,)


def test_a_script_sees_the_user_and_not_the_password(apair: Pair) -> None:
    status, _, body = same(apair, "/private/who.cgi", credentials("apr1", "m-pw"))
    assert (status, body) == (200, b"user=apr1 type=Basic auth=unset\n")


def test_percent_u_is_the_user_even_refused(apair: Pair) -> None:
    for server in apair.both():
        server.request("GET", "/private/index.html?u", credentials("sha1", "s-pw"))
        server.request("GET", "/private/index.html?wrong", credentials("sha1", "no"))
        server.request("GET", "/private/index.html?none")
    found = []
    for server in apair.both():
        # a server logs after it answers: wait for the last request's line
        end = time.monotonic() + 10
        while True:
            lines = [ln for ln in wait_for_lines(server.log("access"), 1)
                     if "/private/index.html?" in ln]
            if any("?none" in ln for ln in lines) or time.monotonic() > end:
                break
            time.sleep(0.05)
        found.append(lines[-3:])
    apache, ours = found
    assert ours == apache
    assert apache == ['127.0.0.1 - sha1 "GET /private/index.html?u HTTP/1.1" 200',
                      '127.0.0.1 - sha1 "GET /private/index.html?wrong HTTP/1.1" 401',
                      '127.0.0.1 - - "GET /private/index.html?none HTTP/1.1" 401']


def test_a_htaccess_protects_as_the_config_does(apair: Pair) -> None:
    assert same(apair, "/ht/")[1] == 'Basic realm="ht"'
    status, _, body = same(apair, "/ht/", credentials("bcrypt", "b-pw"))
    assert (status, body) == (200, b"ht\n")


@pytest.mark.parametrize(("path", "user", "password", "status", "needle"), [
    ("/notauthoritative/", "nobody", "x", 500, "AuthType Basic configured without"),
    ("/notauthoritative/", "apr1", "bad", 401, "user apr1: authentication failure"),
    ("/noname/", None, None, 500, "need AuthName: /noname/"),
    ("/notype/", None, None, 500, "No authentication done but request not allowed"),
    ("/nofile/", None, None, 401, None),  # no credentials: the file is not read
    ("/nofile/", "apr1", "m-pw", 500, "Could not open password file"),
    ("/private/", "Bearer", "x", 401, "client used wrong authentication scheme"),
    ("/granted/", None, None, 200, None),
])
def test_what_cannot_authenticate(apair: Pair, path: str, user: str | None,
                                  password: str | None, status: int,
                                  needle: str | None) -> None:
    headers = (None if user is None else {"Authorization": "Bearer x"} if user == "Bearer"
               else credentials(user, password or ""))
    assert same(apair, path, headers)[0] == status
    if needle is not None:
        apache = _lines(apair.apache.log("error"), needle)
        ours = _lines(apair.ours.log("error"), needle)
        # (Apache puts an errno's "(2)No such file or directory: " before [client])
        assert apache and ours
        assert ours[-1][0] == apache[-1][0] and ours[-1][1].endswith(apache[-1][1])


@pytest.mark.parametrize(("path", "user", "password", "status", "needle"), [
    # AuthzSendForbiddenOnFailure: a known user the tree refuses is 403, no challenge
    ("/forbid/", "apr1", "m-pw", 403, "user apr1: authorization failure"),
    ("/forbid/", None, None, 401, None),
    ("/forbid/", "bob", "builder", 200, None),
    # RequireAll: granted by address, then a user is needed
    ("/both/", None, None, 401, None),
    ("/both/", "sha1", "s-pw", 200, None),
    # RequireAll denied by address: 403 before any authentication
    ("/elsewhere/", None, None, 403, "client denied by server configuration"),
    ("/elsewhere/", "sha1", "s-pw", 403, None),
    # the implicit RequireAny: granted by address, no user asked for
    ("/localany/", None, None, 200, None),
    # Satisfy Any: Allow/Deny refused, so Require decides (with a user)
    ("/satisfy/", None, None, 401, None),
    ("/satisfy/", "des", "d-pw", 200, None),
    # an expression reading REMOTE_USER needs a user
    ("/expr/", None, None, 401, None),
    ("/expr/", "bob", "builder", 200, None),
    ("/expr/", "apr1", "m-pw", 401, "(no authenticated user): /expr/"),
])
def test_the_tree_decides_and_asks_for_a_user(apair: Pair, path: str, user: str | None,
                                             password: str | None, status: int,
                                             needle: str | None) -> None:
    headers = None if user is None else credentials(user, password or "")
    got = same(apair, path, headers)
    assert got[0] == status
    if needle is not None:
        apache = _lines(apair.apache.log("error"), needle)
        ours = _lines(apair.ours.log("error"), needle)
        assert apache and ours and ours[-1] == apache[-1], (ours, apache)
