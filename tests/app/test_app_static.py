"""The App in-process: static files, validators, ranges, methods and bounded reads."""

from __future__ import annotations

from pathlib import Path

from app.conftest import Site, build_tree, site_config
from cgihttpd.app import App
from cgihttpd.static import files


def test_index_and_headers(site: Site) -> None:
    r = site.get("/")
    assert r.status_code == 200
    assert r.text == "<h1>Hello, World</h1>\n"
    assert r.headers["content-type"] == "text/html"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"].strip('W/"').count("-") == 1
    assert "last-modified" in r.headers
    assert site.get("/style.css").headers["content-type"] == "text/css"
    assert "content-type" not in site.get("/unknown.qqq").headers


def test_head_sends_no_body(site: Site) -> None:
    r = site.get("/a.html", method="HEAD")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == "9"


def test_conditional_and_range(site: Site) -> None:
    etag = site.get("/a.html").headers["etag"]
    assert site.get("/a.html", headers={"If-None-Match": etag}).status_code == 304
    lm = site.get("/a.html").headers["last-modified"]
    assert site.get("/a.html", headers={"If-Modified-Since": lm}).status_code == 304
    r = site.get("/a.html", headers={"Range": "bytes=1-3"})
    assert r.status_code == 206 and r.content == b"p>x"
    assert r.headers["content-range"] == "bytes 1-3/9"
    r = site.get("/a.html", headers={"Range": "bytes=100-"})
    assert r.status_code == 416 and r.headers["content-range"] == "bytes */9"
    assert site.get("/a.html", headers={"If-Match": '"nope"'}).status_code == 412


def test_large_file_is_sent_in_bounded_chunks(site: Site) -> None:
    messages = site.raw("/big.bin")
    bodies = [m["body"] for m in messages if m["type"] == "http.response.body"]
    assert b"".join(bodies) == (site.root / "www" / "big.bin").read_bytes()
    assert len(bodies) > 3
    assert max(len(b) for b in bodies) <= files.CHUNK
    assert messages[-1]["more_body"] is False


def test_methods_of_the_default_handler(site: Site) -> None:
    assert site.get("/a.html", method="POST", content=b"x=1").text == "<p>x</p>\n"
    r = site.get("/a.html", method="DELETE")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET,POST,OPTIONS,HEAD,TRACE"
    assert "The requested method DELETE is not allowed for this URL." in r.text
    r = site.get("/a.html", method="OPTIONS")
    assert (r.status_code, r.headers["allow"], r.content) == (200, "GET,POST,OPTIONS,HEAD,TRACE", b"")


def test_path_info_on_a_static_file_is_404(site: Site) -> None:
    assert site.get("/a.html/extra").status_code == 404
    assert "AH00130: File does not exist: " in site.error_log


def test_access_log_line(site: Site) -> None:
    site.get("/a.html?q=1")
    site.get("/nope")
    lines = site.access_log.splitlines()
    assert lines[0].startswith("127.0.0.1 - - [")
    assert lines[0].endswith('"GET /a.html?q=1 HTTP/1.1" 200 9')
    assert lines[1].endswith('"GET /nope HTTP/1.1" 404 ' + str(len(site.get("/nope").content)))


def test_vhost_by_host_header(site: Site) -> None:
    assert site.get("/", host="other.example").text == "other vhost\n"
    assert site.get("/", host="WWW.other.example").text == "other vhost\n"
    assert site.get("/", host="unknown.example").text.startswith("<h1>Hello")


def test_trace_echoes_the_request_head(site: Site) -> None:
    r = site.get("/anything?x", method="TRACE", headers={"X-Probe": "v  1"})
    assert r.status_code == 200 and r.headers["content-type"] == "message/http"
    assert r.text.startswith("TRACE /anything?x HTTP/1.1\r\n")
    assert "x-probe: v  1\r\n" in r.text and r.text.endswith("\r\n\r\n")
    assert site.get("/a.html", method="TRACE", content=b"body").status_code == 413


def test_trace_enable_off(tmp_path: Path) -> None:
    """Debian's security.conf: TraceEnable Off. TRACE is 405 with an empty Allow (as
    Apache, which refuses it before a handler said what it allows), and Allow no
    longer names TRACE."""
    build_tree(tmp_path)
    config = site_config(tmp_path, trace_enable="off")
    app = App.build(config)
    try:
        site = Site(tmp_path, app, config)
        r = site.get("/a.html", method="TRACE")
        assert (r.status_code, r.headers["allow"]) == (405, "")
        assert "The requested method TRACE is not allowed for this URL." in r.text
        r = site.get("/a.html", method="OPTIONS")
        assert r.headers["allow"] == "GET,POST,OPTIONS,HEAD"
        assert site.get("/a.html", method="DELETE").headers["allow"] == \
            "GET,POST,OPTIONS,HEAD"
    finally:
        app.close()


def test_multipart_byteranges_body(site: Site) -> None:
    from cgihttpd.static.plan import BOUNDARY

    r = site.get("/big.bin", headers={"Range": "bytes=0-9,100000-100009"})
    data = (site.root / "www" / "big.bin").read_bytes()
    assert r.status_code == 206
    assert r.content == (
        f"\r\n--{BOUNDARY}\r\nContent-range: bytes 0-9/300000\r\n\r\n".encode() + data[:10]
        + f"\r\n--{BOUNDARY}\r\nContent-range: bytes 100000-100009/300000\r\n\r\n".encode()
        + data[100000:100010] + f"\r\n--{BOUNDARY}--\r\n".encode())
    assert r.headers["content-length"] == str(len(r.content))
    small = site.get("/a.html", headers={"Range": "bytes=0-0,2-2"})
    assert small.status_code == 206 and b"Content-type: text/html\r\n" in small.content


def test_post_meets_conditions_like_apache(site: Site) -> None:
    # checked: Apache answers POST with If-None-Match: * on a file with 412, not 304
    r = site.get("/a.html", method="POST", headers={"If-None-Match": "*"})
    assert r.status_code == 412 and r.content == b""


def test_requests_fill_the_runtimes_caches_not_module_state(site: Site) -> None:
    caches = site.app.runtime.caches
    assert len(caches.resolutions) == 0 and len(caches.vhosts) == 0
    assert site.get("/a.html").status_code == 200
    assert len(caches.resolutions) == 1 and len(caches.vhosts) == 1
    assert len(caches.confs) >= 1 and len(caches.mime) >= 1
    assert site.get("/a.html").status_code == 200
    assert len(caches.resolutions) == 1  # the same URL is remembered once


def test_setenvif_conditions_run_once_per_request(site: Site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The log record, the access checks and a script's environment share one result
    (Exchange.setenvif) instead of matching the conditions again each."""
    from dataclasses import replace

    from app.conftest import Site as SiteT
    from cgihttpd import app as app_module
    from cgihttpd.app import App
    from cgihttpd.config.setenvif import parse_condition

    calls: list[int] = []
    real = app_module.apply_conditions

    def counting(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(app_module, "apply_conditions", counting)
    vhost = replace(site.config.vhosts[0], setenvif=(
        parse_condition("SetEnvIf", ("User-Agent", "wrk", "FROM_WRK")),))
    config = replace(site.config, vhosts=(vhost,), main=replace(vhost, is_main=True))
    app = App.build(config)
    try:
        r = SiteT(site.root, app, config).get("/cgi-bin/hello.cgi")
        assert r.status_code == 200 and r.text == "hi\n"
    finally:
        app.close()
    assert len(calls) == 1  # not again for the script's environment
