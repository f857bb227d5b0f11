""".htaccess through the App over real files: read on each request's path, kept
while unchanged, and seen at once when created, edited or deleted (no restart);
"Require local" against the client's address."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.conftest import Site, build_tree, site_config
from app.factory import directory, location
from cgihttpd.app import App

ALL = frozenset({"AuthConfig", "FileInfo", "Indexes", "Limit", "Options"})


@pytest.fixture
def hsite(tmp_path: Path) -> Iterator[Site]:
    build_tree(tmp_path)
    www = str(tmp_path / "www")
    config = site_config(tmp_path)
    vhost = config.vhosts[0]
    vhost = replace(vhost, sections=(
        *vhost.sections,
        directory(f"{www}/sub", allow_override=ALL),
        location("/status", require="local"),
    ))
    config = replace(config, vhosts=(vhost, *config.vhosts[1:]),
                     modules=config.modules | {"authz_core_module", "authn_core_module",
                                               "auth_basic_module", "authn_file_module",
                                               "authz_user_module"})
    app = App.build(config.with_listens(config.listens))
    yield Site(tmp_path, app, config)
    app.close()


def write(site: Site, text: str) -> Path:
    path = site.root / "www" / "sub" / ".htaccess"
    path.write_text(text)
    # a different mtime even on filesystems with coarse timestamps
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    return path


def test_edits_take_effect_on_the_next_request(hsite: Site) -> None:
    (hsite.root / "www" / "sub" / "start.html").write_text("start\n")
    assert hsite.get("/sub/").text == "sub\n"  # index.html
    path = write(hsite, "DirectoryIndex start.html\n")
    assert hsite.get("/sub/").text == "start\n"
    write(hsite, "DirectoryIndex index.html\n")
    assert hsite.get("/sub/").text == "sub\n"
    write(hsite, "Foo bar\n")
    r = hsite.get("/sub/")
    assert r.status_code == 500
    line = next(ln for ln in hsite.error_log.splitlines() if "Invalid command" in ln)
    assert "[core:alert]" in line and "[client 127.0.0.1:40000]" in line
    assert line.endswith(f"] {path}: Invalid command 'Foo', perhaps misspelled or defined "
                         "by a module not included in the server configuration")
    path.unlink()
    assert hsite.get("/sub/").text == "sub\n"


def test_authentication_in_a_htaccess(hsite: Site) -> None:
    users = hsite.root / "users"
    users.write_text("alice:{SHA}" + base64.b64encode(hashlib.sha1(b"pw").digest()).decode()
                     + "\n")
    write(hsite, f"AuthType Basic\nAuthName private\nAuthUserFile {users}\n"
                 "Require valid-user\n")
    r = hsite.get("/sub/index.html")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="private"'
    token = base64.b64encode(b"alice:pw").decode()
    r = hsite.get("/sub/index.html", headers={"Authorization": f"Basic {token}"})
    assert (r.status_code, r.text) == (200, "sub\n")
    # an AuthType cgihttpd does not implement: 500, never the page
    path = write(hsite, "AuthType Digest\nAuthName private\nRequire valid-user\n")
    r = hsite.get("/sub/index.html", headers={"Authorization": f"Basic {token}"})
    assert r.status_code == 500 and r.text != "sub\n"
    assert (f"{path}: AuthType Digest: authentication by 'Digest' is not supported by "
            "cgihttpd yet; refusing the request rather than serve it unprotected"
            ) in hsite.error_log


def test_require_local(hsite: Site, tmp_path: Path) -> None:
    # the client in Site.get is 127.0.0.1
    assert hsite.get("/status").status_code == 404

    async def far() -> httpx.Response:
        transport = httpx.ASGITransport(app=hsite.app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://localhost:8080") as client:
            return await client.get("/status")

    import asyncio
    assert asyncio.run(far()).status_code == 403
    assert "AH01630: client denied by server configuration" in hsite.error_log


def test_app_without_access_files_config_reads_none(tmp_path: Path) -> None:
    build_tree(tmp_path)
    (tmp_path / "www" / "sub" / ".htaccess").write_text("Foo\n")
    app = App.build(site_config(tmp_path))
    try:
        assert Site(tmp_path, app, app.config).get("/sub/").text == "sub\n"
    finally:
        app.close()
