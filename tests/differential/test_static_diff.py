"""Static files and virtual hosts: the same request to Debian's Apache and to cgihttpd,
both running tests/differential/conftest.py's config, must give the same status, the
same key headers and the same body.

Normalised before comparing, and why:
- the port: Location is an absolute URL built from the Host header, and each server has
  its own port, so ":<port>" becomes ":PORT";
- error pages: an ``<address>`` line (ServerSignature) names the server software and
  port; the config leaves ServerSignature at its default (Off) so there should be none,
  but it is cut from both if present so a signature change is not mistaken for a layout
  difference;
- ``Allow``: compared as a set (Apache's own order varies between processes);
- directory listings: only the linked names are compared (the layout of mod_autoindex's
  page, its dates and sizes are H3's own unit tests' business).
"""

from __future__ import annotations

import re

import pytest
from diffsupport import Pair, Response

pytestmark = pytest.mark.differential

KEY_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Location",
               "Accept-Ranges", "Content-Range", "Allow")

_ADDRESS = re.compile(rb"<hr>\s*<address>.*?</address>\s*", re.S)
_HREF = re.compile(rb'<a href="([^"]*)"')


def normalise(resp: Response, port: int) -> dict[str, object]:
    headers = {}
    for name in KEY_HEADERS:
        value = resp.header(name)
        if value is not None:
            value = value.replace(f":{port}", ":PORT")
            if name == "Allow":
                # Apache builds Allow from a hash table: its order changes from one
                # process to the next (two Apaches on one config disagree), so a set
                value = ",".join(sorted(m.strip() for m in value.split(",")))
        headers[name] = value
    body = resp.body.replace(f":{port}".encode(), b":PORT")
    body = _ADDRESS.sub(b"", body)
    if b"<title>Index of " in body:
        body = b"\n".join(sorted(_HREF.findall(body)))
    if "Content-Length" in headers and headers["Content-Length"] is not None and \
            b"<title>Index of " in resp.body:
        headers["Content-Length"] = "(listing)"
    return {"status": resp.status, "headers": headers, "body": body}


def same(pair: Pair, method: str, target: str, headers: dict[str, str] | None = None,
         *, host: str | None = None) -> dict[str, object]:
    """Send the request to both; assert they agree; return Apache's normalised answer."""
    results = []
    for server in pair.both():
        h = None if host is None else host.replace("PORT", str(server.port))
        resp = server.request(method, target, headers, host=h)
        results.append(normalise(resp, server.port))
    apache, ours = results
    assert ours == apache, f"{method} {target} differs (left: cgihttpd, right: apache)"
    return apache


def test_index_html(pair: Pair) -> None:
    r = same(pair, "GET", "/index.html")
    assert r["status"] == 200 and r["body"] == b"Hello, World\n"


def test_root_uses_directory_index(pair: Pair) -> None:
    r = same(pair, "GET", "/")
    assert r["status"] == 200 and r["body"] == b"Hello, World\n"


@pytest.mark.parametrize("path", ["/page.txt", "/style.css", "/data.bin", "/thing.custom"])
def test_types_and_validators(pair: Pair, path: str) -> None:
    r = same(pair, "GET", path)
    assert r["status"] == 200


def test_missing_file_404(pair: Pair) -> None:
    r = same(pair, "GET", "/no-such-file.html")
    assert r["status"] == 404


def test_missing_file_below_a_file_404(pair: Pair) -> None:
    same(pair, "GET", "/page.txt/extra")


def test_directory_without_slash_redirects(pair: Pair) -> None:
    r = same(pair, "GET", "/withindex")
    assert r["status"] == 301


def test_directory_redirect_keeps_query(pair: Pair) -> None:
    same(pair, "GET", "/withindex?a=1&b=2")


def test_directory_redirect_host_without_port(pair: Pair) -> None:
    # Location is built from the Host header: no port there, none in the URL
    r = same(pair, "GET", "/withindex", host="x")
    assert r["headers"]["Location"] == "http://x/withindex/"  # type: ignore[index]


def test_directory_redirect_named_vhost(pair: Pair) -> None:
    r = same(pair, "GET", "/withindex", host="default.test:PORT")
    assert r["headers"]["Location"] == "http://default.test:PORT/withindex/"  # type: ignore[index]


def test_directory_index_in_subdirectory(pair: Pair) -> None:
    r = same(pair, "GET", "/withindex/")
    assert r["status"] == 200


def test_no_index_and_no_indexes_is_403(pair: Pair) -> None:
    r = same(pair, "GET", "/sub/")
    assert r["status"] == 403


def test_indexes_listing_names(pair: Pair) -> None:
    r = same(pair, "GET", "/listing/")
    assert r["status"] == 200
    assert b"a.txt" in r["body"]  # type: ignore[operator]


def test_indexes_listing_plain_without_indexoptions(pair: Pair) -> None:
    # mod_autoindex's default: a plain <ul>, ISO-8859-1
    r = same(pair, "GET", "/listing/")  # (same() compares a listing's links)
    assert b"?C=N;O=D" not in r["body"]  # type: ignore[operator]
    assert r["headers"]["Content-Type"] == "text/html;charset=ISO-8859-1"  # type: ignore[index]


def test_indexes_listing_with_debian_indexoptions(pair: Pair) -> None:
    r = same(pair, "GET", "/fancy/")
    assert b"?C=N;O=D" in r["body"] and b"a.txt" in r["body"]  # type: ignore[operator]
    assert b"b.bak" not in r["body"]  # type: ignore[operator]
    assert r["headers"]["Content-Type"] == "text/html;charset=UTF-8"  # type: ignore[index]


def test_range_206(pair: Pair) -> None:
    r = same(pair, "GET", "/data.bin", {"Range": "bytes=10-19"})
    assert r["status"] == 206


@pytest.mark.parametrize("spec", ["bytes=-16", "bytes=2040-", "bytes=0-0", "bytes=100-99999"])
def test_range_forms(pair: Pair, spec: str) -> None:
    same(pair, "GET", "/data.bin", {"Range": spec})


def test_range_unsatisfiable_416(pair: Pair) -> None:
    """Same status, headers and page, with two deliberate differences:
    - Apache 2.4.71 sends its 416 page with no Content-Length and ends it by closing
      the connection; cgihttpd gives the page's length, so the connection stays usable;
    - Apache sends no Content-Range; RFC 9110 §15.5.17 says a 416 to a byte-range
      request SHOULD carry ``Content-Range: bytes */<length>``, and cgihttpd does
      (the issue asks for "single Range -> 206/416" done right).
    Everything else must agree."""
    answers = []
    for server in pair.both():
        resp = server.request("GET", "/data.bin", {"Range": "bytes=5000-6000"})
        answers.append((resp, normalise(resp, server.port)))
    (_, apache), (ours_resp, ours) = answers
    assert apache["status"] == ours["status"] == 416
    assert apache["headers"].pop("Content-Length") is None  # type: ignore[attr-defined]
    assert ours["headers"].pop("Content-Length") == str(len(ours_resp.body))  # type: ignore[attr-defined]
    assert apache["headers"].pop("Content-Range") is None  # type: ignore[attr-defined]
    assert ours["headers"].pop("Content-Range") == "bytes */2048"  # type: ignore[attr-defined]
    assert ours == apache


def test_if_none_match_304(pair: Pair) -> None:
    etags = []
    for server in pair.both():
        etag = server.request("GET", "/page.txt").header("ETag")
        assert etag
        etags.append(etag)
    assert etags[0] == etags[1]
    r = same(pair, "GET", "/page.txt", {"If-None-Match": etags[0]})
    assert r["status"] == 304 and r["body"] == b""


def test_if_modified_since_304(pair: Pair) -> None:
    lm = pair.apache.request("GET", "/page.txt").header("Last-Modified")
    assert lm
    r = same(pair, "GET", "/page.txt", {"If-Modified-Since": lm})
    assert r["status"] == 304


def test_head(pair: Pair) -> None:
    r = same(pair, "HEAD", "/index.html")
    assert r["status"] == 200 and r["body"] == b""


def test_head_404(pair: Pair) -> None:
    same(pair, "HEAD", "/nope")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("a.test", b"<h1>site a</h1>\n"),
        ("A.TEST:PORT", b"<h1>site a</h1>\n"),
        ("www.a.test", b"<h1>site a</h1>\n"),
        ("b.test", b"<h1>site b</h1>\n"),
        ("x.b.example", b"<h1>site b</h1>\n"),  # ServerAlias *.b.example
        ("deep.x.b.example", b"<h1>site b</h1>\n"),
        ("b.example", b"Hello, World\n"),  # the wildcard needs a label: default vhost
        ("unknown.test", b"Hello, World\n"),  # the first vhost is the default
        ("default.test", b"Hello, World\n"),
    ],
)
def test_name_based_vhosts(pair: Pair, host: str, expected: bytes) -> None:
    r = same(pair, "GET", "/", host=host)
    assert r["body"] == expected


def test_vhost_file_only_in_its_root(pair: Pair) -> None:
    assert same(pair, "GET", "/only-a.txt", host="a.test")["status"] == 200
    assert same(pair, "GET", "/only-a.txt", host="b.test")["status"] == 404


def test_alias(pair: Pair) -> None:
    assert same(pair, "GET", "/aliased/al.txt")["status"] == 200


@pytest.mark.parametrize(
    "target",
    [
        "/sp%20ace.txt",
        "/caf%C3%A9.txt",
        "/caf%c3%a9.txt",
        "/%69ndex.html",  # an encoded unreserved char
        "/page%2etxt",
        "/withindex%2Findex.html",  # encoded slash: Apache's AllowEncodedSlashes Off -> 404
        "/nul%00.txt",
        "/bad%zz",
    ],
)
def test_percent_encoded_paths(pair: Pair, target: str) -> None:
    same(pair, "GET", target)


@pytest.mark.parametrize(
    "target",
    [
        "/sub/../index.html",
        "/./index.html",
        "/sub/./inner.txt",
        "/sub/%2e%2e/index.html",
        "/sub/%2E%2E/page.txt",
        "/../index.html",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/sub/..",
        "//index.html",
    ],
)
def test_dot_segments(pair: Pair, target: str) -> None:
    same(pair, "GET", target)


def test_query_string_ignored_for_static(pair: Pair) -> None:
    assert same(pair, "GET", "/index.html?x=1")["status"] == 200


def test_denied_outside_the_site(pair: Pair) -> None:
    # <Directory /> Require all denied: an Alias-free path can't get there, but a file
    # the root covers is still 200; the empty dir has no index -> 403.
    assert same(pair, "GET", "/empty-dir/")["status"] == 403


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH", "OPTIONS", "BREW"])
def test_methods_on_a_static_file(pair: Pair, method: str) -> None:
    # Apache 2.4.71: POST serves the file (200), DELETE/PUT/PATCH 405 with Allow,
    # OPTIONS 200 with Allow, an unknown method 501
    same(pair, method, "/index.html", {"Content-Length": "0"})


def test_error_document_local_path(pair: Pair) -> None:
    r = same(pair, "GET", "/nope", host="b.test")
    assert r["status"] == 404 and r["body"] == b"<p>b has no such page</p>\n"


def test_error_document_text(pair: Pair) -> None:
    r = same(pair, "GET", "/closed/", host="b.test")
    assert r["status"] == 403 and r["body"] == b"Custom forbidden text"
