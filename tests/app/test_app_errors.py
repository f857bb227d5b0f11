"""The App in-process: directories, error pages, ErrorDocument, CGI dispatch rules and
failures that must not take the server down."""

from __future__ import annotations

import pytest

from app.conftest import Site


def test_directory_slash_redirect_keeps_query(site: Site) -> None:
    r = site.get("/sub?x=1")
    assert r.status_code == 301
    assert r.headers["location"] == "http://localhost:8080/sub/?x=1"
    assert site.get("/sub/").text == "sub\n"


def test_directory_without_index(site: Site) -> None:
    r = site.get("/noidx/")
    assert r.status_code == 403
    assert "<title>403 Forbidden</title>" in r.text
    assert ("[autoindex:error]" in site.error_log and "AH01276: Cannot serve directory "
            in site.error_log)
    assert site.get("/noidx/", method="POST").status_code == 404


def test_listing(site: Site) -> None:
    r = site.get("/idx/")
    assert r.status_code == 200
    # no IndexOptions: mod_autoindex's plain list (a space before each name)
    assert '<li><a href="a%3cb&amp;c.txt"> a&lt;b&amp;c.txt</a></li>' in r.text
    assert '<li><a href="sub/"> sub/</a></li>' in r.text
    assert "<title>Index of /idx</title>" in r.text
    assert ".htsecret" in r.text  # no Require rule for it in this config


def test_not_found_page_and_log(site: Site) -> None:
    r = site.get("/missing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert "<p>The requested URL was not found on this server.</p>" in r.text
    assert "Server at localhost Port 8080</address>" in r.text
    assert "[core:info]" in site.error_log and "AH00128: File does not exist:" in site.error_log


def test_access_denied(site: Site) -> None:
    assert site.get("/denied/x.html").status_code == 403
    assert "[authz_core:error]" in site.error_log
    assert "AH01630: client denied by server configuration:" in site.error_log


@pytest.mark.parametrize("raw", ["/%2e%2e/etc/passwd", "/../etc/passwd", "/a%zz"])
def test_bad_paths_are_400(site: Site, raw: str) -> None:
    messages = site.raw(raw)
    assert messages[0]["status"] == 400


def test_encoded_slash_is_404(site: Site) -> None:
    assert site.raw("/a%2Fb")[0]["status"] == 404


def test_error_documents(site: Site) -> None:
    r = site.get("/ed/nope")
    assert (r.status_code, r.text) == (404, "<h1>custom 404</h1>\n")
    r = site.get("/ed/")
    assert (r.status_code, r.text) == (403, "Custom forbidden text")


def test_error_document_that_fails(site: Site) -> None:
    (site.root / "www" / "err2").mkdir()
    r = site.get("/err2/nope")
    assert r.status_code == 404
    assert ("<p>Additionally, a 404 Not Found\nerror was encountered while trying to use "
            "an ErrorDocument to handle the request.</p>") in r.text


def test_exec_cgi_off_is_403_with_apaches_log_line(site: Site) -> None:
    assert site.get("/noexec/hello.cgi").status_code == 403
    assert "Options ExecCGI is off in this directory" in site.error_log


def test_script_alias_runs_cgi(site: Site) -> None:
    r = site.get("/cgi-bin/hello.cgi")
    assert (r.status_code, r.text) == (200, "hi\n")
    assert site.get("/cgi-bin/").status_code == 403
    assert "attempt to invoke directory as script" in site.error_log


def test_an_exception_is_a_500_and_the_next_request_works(site: Site,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import cgihttpd.static.handlers as handlers_module

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers_module, "plan_static", boom)
    monkeypatch.setattr(handlers_module, "plan_plain", boom)  # an unconditional GET
    r = site.get("/a.html")
    assert r.status_code == 500
    assert "admin@example.com" in r.text
    assert "RuntimeError: boom" in site.error_log
    monkeypatch.undo()
    assert site.get("/a.html").status_code == 200


def test_lifespan(site: Site) -> None:
    import asyncio

    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, str]] = []

    async def receive() -> dict[str, str]:
        return messages.pop(0)

    async def send(m: dict[str, str]) -> None:
        sent.append(m)

    asyncio.run(site.app({"type": "lifespan"}, receive, send))  # type: ignore[arg-type]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_missing_document_root_is_a_config_error(tmp_path: object) -> None:
    from pathlib import Path

    from app.conftest import site_config
    from cgihttpd.app import App
    from cgihttpd.config.errors import ConfigError

    root = Path(str(tmp_path))
    (root / "logs").mkdir()
    with pytest.raises(ConfigError, match="DocumentRoot"):
        App.build(site_config(root))


def test_unregistered_method_is_501(site: Site) -> None:
    r = site.get("/a.html", method="SEARCH")
    assert r.status_code == 501
    assert "<p>SEARCH not supported for current URL.<br />\n</p>" in r.text
    assert "AH00135: Invalid method in request SEARCH /a.html HTTP/1.1" in site.error_log


def test_error_document_script_keeps_the_error_status(site: Site) -> None:
    from dataclasses import replace

    from app.factory import directory
    from cgihttpd.app import App

    script = site.root / "www" / "scripts" / "err.cgi"
    script.write_text("#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
                      "echo \"status=$REDIRECT_STATUS url=$REDIRECT_URL\"\n")
    script.chmod(0o755)
    (site.root / "www" / "e3").mkdir()
    vhost = site.config.vhosts[0]
    vhost = replace(vhost, sections=vhost.sections + (
        directory(str(site.root / "www" / "e3"), error_documents=((404, "/cgi-bin/err.cgi"),)),))
    config = replace(site.config, vhosts=(vhost,), main=replace(vhost, is_main=True))
    app = App.build(config)
    try:
        r = type(site)(site.root, app, config).get("/e3/nope?q=1")
    finally:
        app.close()
    assert r.status_code == 404
    assert r.text == "status=404 url=/e3/nope\n"


def test_head_error_page_has_no_body_nor_length(site: Site) -> None:
    messages = site.raw("/missing", method="HEAD")
    assert messages[0]["status"] == 404
    assert b"content-length" not in dict(messages[0]["headers"])
    assert all(m.get("body", b"") == b"" for m in messages[1:])


def test_unreadable_file_is_403(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """EACCES when opening a file -> 403 and core's AH00132 line. The suite runs as
    root, which reads any file whatever its mode, so the refusal is made by the open
    that static/files.py does (its module-level ``open``), not by chmod."""
    import builtins

    import cgihttpd.static.files as files_mod

    path = site.root / "www" / "a.html"
    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(files_mod, "open", refusing_open, raising=False)
    assert site.get("/a.html").status_code == 403
    assert "AH00132: file permissions deny server access" in site.error_log


def test_require_method_grants_only_its_methods(site: Site) -> None:
    """mod_authz_core "Require method GET POST OPTIONS" (Debian's userdir.conf): other
    methods get 403 and AH01630; HEAD counts as GET."""
    from dataclasses import replace

    from app.factory import directory
    from cgihttpd.app import App

    (site.root / "www" / "m").mkdir()
    (site.root / "www" / "m" / "a.txt").write_text("m\n")
    vhost = site.config.vhosts[0]
    vhost = replace(vhost, sections=vhost.sections + (
        directory(str(site.root / "www" / "m"), require="method GET POST OPTIONS"),))
    config = replace(site.config, vhosts=(vhost,), main=replace(vhost, is_main=True))
    app = App.build(config)
    try:
        msite = type(site)(site.root, app, config)
        assert msite.get("/m/a.txt").status_code == 200
        assert msite.get("/m/a.txt", method="HEAD").status_code == 200
        assert msite.get("/m/a.txt", method="DELETE").status_code == 403
        assert "AH01630: client denied by server configuration" in msite.error_log
        assert msite.get("/a.html", method="DELETE").status_code == 405  # elsewhere: not denied
    finally:
        app.close()
