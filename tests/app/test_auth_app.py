"""HTTP Basic authentication through the App over real files: the 401 and its challenge,
each htpasswd format, Require user/group after authentication, REMOTE_USER and AUTH_TYPE
for a script, the Authorization header kept from scripts unless CGIPassAuth On, ``%u``
in the access log, and a password file edited without a restart. Compared with Apache
in tests/differential/test_auth_diff.py."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.conftest import Site, build_tree, site_config
from app.factory import directory, opts
from cgihttpd.app import App

HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
AUTH_MODULES = frozenset({"auth_basic_module", "authn_core_module", "authn_file_module",
                          "authz_user_module", "authz_groupfile_module", "authz_core_module"})
WHO = ("#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
       "echo \"user=${REMOTE_USER-unset} type=${AUTH_TYPE-unset} "
       "auth=${HTTP_AUTHORIZATION-unset}\"\n")


def htpasswd_line(flag: str, user: str, password: str) -> str:
    if not os.access(HTPASSWD, os.X_OK):
        pytest.fail("htpasswd is not installed (scripts/install-test-deps installs "
                    "apache2-utils)")
    out = subprocess.run([HTPASSWD, "-nb", flag, user, password], capture_output=True,
                         check=True, timeout=30)
    return out.stdout.decode().strip()


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def asite(tmp_path: Path) -> Iterator[Site]:
    build_tree(tmp_path)
    www = tmp_path / "www"
    for rel in ("private/index.html", "bob/index.html", "admins/index.html",
                "withdoc/index.html"):
        (www / rel).parent.mkdir(parents=True, exist_ok=True)
        (www / rel).write_text(f"{rel}\n")
    for rel in ("private/who.cgi", "pass/who.cgi"):
        (www / rel).parent.mkdir(parents=True, exist_ok=True)
        (www / rel).write_text(WHO)
        os.chmod(www / rel, 0o755)
    users = tmp_path / "users"
    users.write_text("\n".join([htpasswd_line("-B", "alice", "wonder"),
                                htpasswd_line("-m", "bob", "builder"),
                                htpasswd_line("-s", "carol", "sha"),
                                htpasswd_line("-d", "dave", "crypt")]) + "\n")
    groups = tmp_path / "groups"
    groups.write_text("admins: carol\nstaff: alice bob\n")
    auth = dict(auth_type="Basic", auth_name="Private Area", auth_user_file=str(users),
                auth_group_file=str(groups))
    config = site_config(tmp_path)
    vhost = config.vhosts[0]
    vhost = replace(vhost, sections=(
        *vhost.sections,
        directory(f"{www}/private", require="valid-user", options=opts("+ExecCGI"), **auth),
        directory(f"{www}/bob", require="user bob", **auth),
        directory(f"{www}/admins", require="group admins", **auth),
        directory(f"{www}/pass", require="valid-user", cgi_pass_auth=True,
                  options=opts("+ExecCGI"), **auth),
        directory(f"{www}/withdoc", require="valid-user",
                  error_documents=((401, "/err/missing.html"),), **auth),
    ))
    config = replace(config, vhosts=(vhost, *config.vhosts[1:]),
                     modules=config.modules | AUTH_MODULES)
    app = App.build(config.with_listens(config.listens))
    yield Site(tmp_path, app, config)
    app.close()


def test_no_credentials_is_401_with_the_challenge(asite: Site) -> None:
    r = asite.get("/private/")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Basic realm="Private Area"'
    assert "<title>401 Unauthorized</title>" in r.text
    assert "private/index.html" not in r.text
    # Apache logs nothing for a first, credential-less request
    assert "AH016" not in asite.error_log
    assert '"GET /private/ HTTP/1.1" 401' in asite.access_log


@pytest.mark.parametrize(("user", "password"), [
    ("alice", "wonder"), ("bob", "builder"), ("carol", "sha"), ("dave", "crypt")])
def test_each_format_authenticates(asite: Site, user: str, password: str) -> None:
    r = asite.get("/private/", headers=basic(user, password))
    assert (r.status_code, r.text) == (200, "private/index.html\n")
    assert f"127.0.0.1 - {user} [" in asite.access_log  # %u


def test_a_wrong_password_or_user_is_401_with_apaches_line(asite: Site) -> None:
    r = asite.get("/private/index.html", headers=basic("alice", "nope"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="Private Area"'
    assert ('[auth_basic:error] [pid' in asite.error_log and
            'AH01617: user alice: authentication failure for "/private/index.html": '
            "Password Mismatch" in asite.error_log)
    assert "127.0.0.1 - alice [" in asite.access_log  # r->user, though refused
    r = asite.get("/private/index.html", headers=basic("mallory", "x"))
    assert r.status_code == 401
    assert "AH01618: user mallory not found: /private/index.html" in asite.error_log


@pytest.mark.parametrize("header", ["Basic !!!!", "Bearer abc", "Basic " +
                                    base64.b64encode(b"alice").decode(),
                                    "Basic " + base64.b64encode(b"alice:\xff").decode()])
def test_bad_headers_never_pass(asite: Site, header: str) -> None:
    r = asite.get("/private/", headers={"Authorization": header})
    assert r.status_code == 401 and "private/index.html" not in r.text


def test_require_user_and_group_after_authentication(asite: Site) -> None:
    assert asite.get("/bob/", headers=basic("bob", "builder")).status_code == 200
    r = asite.get("/bob/", headers=basic("alice", "wonder"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="Private Area"'
    log = asite.error_log
    assert '[authz_core:error]' in log
    assert 'AH01631: user alice: authorization failure for "/bob/": ' in log
    assert "AH01663" not in log  # a debug line, and the site logs at info
    assert asite.get("/admins/", headers=basic("carol", "sha")).status_code == 200
    assert asite.get("/admins/", headers=basic("alice", "wonder")).status_code == 401
    assert 'AH01631: user alice: authorization failure for "/admins/": ' in asite.error_log
    assert asite.get("/admins/", headers=basic("dave", "crypt")).status_code == 401
    assert ("[authz_groupfile:info]" in asite.error_log and
            "AH01666: Authorization of user dave to access /admins/ failed, "
            "reason: user doesn't appear in group file" in asite.error_log)


def test_a_script_gets_remote_user_and_auth_type_not_the_password(asite: Site) -> None:
    r = asite.get("/private/who.cgi", headers=basic("alice", "wonder"))
    assert (r.status_code, r.text) == (200, "user=alice type=Basic auth=unset\n")
    r = asite.get("/pass/who.cgi", headers=basic("alice", "wonder"))
    token = basic("alice", "wonder")["Authorization"]
    assert r.text == f"user=alice type=Basic auth={token}\n"  # CGIPassAuth On
    # no authentication where none is needed: no user
    r = asite.get("/cgi-bin/hello.cgi", headers=basic("alice", "wonder"))
    assert r.status_code == 200


def test_a_changed_password_file_is_read_again(asite: Site) -> None:
    assert asite.get("/private/", headers=basic("bob", "builder")).status_code == 200
    users = asite.root / "users"
    users.write_text(htpasswd_line("-m", "bob", "rebuilt") + "\n")
    st = users.stat()
    os.utime(users, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert asite.get("/private/", headers=basic("bob", "builder")).status_code == 401
    assert asite.get("/private/", headers=basic("bob", "rebuilt")).status_code == 200


def test_an_unreadable_password_file_is_500(asite: Site) -> None:
    (asite.root / "users").unlink()
    r = asite.get("/private/", headers=basic("bob", "builder"))
    assert r.status_code == 500 and "private/index.html" not in r.text
    assert "AH01620: Could not open password file: " in asite.error_log
    # without credentials nothing is read: the challenge, as Apache
    assert asite.get("/private/").status_code == 401


def test_an_error_document_for_401_keeps_the_challenge(asite: Site) -> None:
    r = asite.get("/withdoc/")
    assert r.status_code == 401 and r.text == "<h1>custom 404</h1>\n"
    assert r.headers["www-authenticate"] == 'Basic realm="Private Area"'
