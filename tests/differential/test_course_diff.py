"""The course's virtual host (../shared/seed/README.md, paths and port adapted) serving
the built-in demo site, on Apache and on cgihttpd: same status, key headers and body for
the pages and the demo's CGI scripts, and the same access-log lines.

Normalised: the listening port where it shows in a body or Location (each server has
its own), and whether a CGI reply has a Content-Length (a choice by timing,
``framed_by_timing``). In the environment dump the variables both servers must agree on
are compared, SERVER_PORT included (the Host has no port and ServerName none: 80 on
both, whatever port was listened on); PATH, SERVER_SOFTWARE, SERVER_SIGNATURE and
REMOTE_PORT may differ (Apache's own PATH and banner; two connections).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
from pathlib import Path

import pytest
from diffsupport import Pair, Server, request, wait_for_lines

pytestmark = pytest.mark.differential

HOST = "cgi213.loc"
KEY_HEADERS = ("Status", "Content-Type", "Content-Length", "Location", "Set-Cookie",
               "ETag", "Last-Modified")


def answer(server: Server, method: str, target: str, headers: dict[str, str] | None = None,
           body: bytes = b"", host: str = HOST) -> dict[str, object]:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close",
             "User-Agent: differential/1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(raw)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        headers_out = {name: "; ".join(resp.headers.get_all(name) or []) or None
                       for name in KEY_HEADERS}
    length = headers_out["Content-Length"]
    assert method == "HEAD" or length is None or int(length) == len(data), (server.impl, target)
    return {"status": resp.status, "headers": headers_out,
            "body": data.replace(f":{server.port}".encode(), b":PORT")}


def framed_by_timing(target: str) -> bool:
    """Whether the server chooses this answer's framing by timing: a CGI reply gets a
    Content-Length when the script's whole output is in before the head leaves (Apache's
    content-length filter counts only a body it holds whole), else it is chunked; so
    whether it has one depends on the machine's load, in Apache as in cgihttpd. Its
    value, where there is one, is the body's length (``answer``), and the body is
    compared."""
    return target.partition("?")[0].endswith(".py")


def same(pair: Pair, method: str, target: str, headers: dict[str, str] | None = None,
         body: bytes = b"", host: str = HOST) -> dict[str, object]:
    apache = answer(pair.apache, method, target, headers, body, host)
    ours = answer(pair.ours, method, target, headers, body, host)
    if framed_by_timing(target):
        for r in (apache, ours):
            r["headers"] = {k: v for k, v in r["headers"].items()  # type: ignore[attr-defined]
                            if k != "Content-Length"}
    assert ours == apache, f"{method} {target} differs (left: cgihttpd, right: apache)"
    return apache


@pytest.mark.parametrize("host", [HOST, "www.cgi213.loc", "WWW.CGI213.LOC"])
def test_root_is_index_html(course_pair: Pair, host: str) -> None:
    r = same(course_pair, "GET", "/", host=host)
    assert r["status"] == 200 and b"Hello, World" in r["body"]  # type: ignore[operator]


def test_index_py_says_hello_cgi(course_pair: Pair) -> None:
    r = same(course_pair, "GET", "/index.py")
    assert r["status"] == 200 and r["body"] == b"<h1>Hello, CGI</h1>"


def test_logs_directory_is_not_listed(course_pair: Pair) -> None:
    assert same(course_pair, "GET", "/logs/")["status"] == 403


def test_get_form(course_pair: Pair) -> None:
    r = same(course_pair, "GET", "/get.py?name=A%26B&message=hello+world")
    assert b"<td>name</td><td>A&amp;B</td>" in r["body"]  # type: ignore[operator]


def test_post_form(course_pair: Pair) -> None:
    body = b"name=Bob&message=line1%0D%0Aline2"
    r = same(course_pair, "POST", "/post.py",
             {"Content-Type": "application/x-www-form-urlencoded"}, body)
    assert b"<td>name</td><td>Bob</td>" in r["body"]  # type: ignore[operator]


def test_cookies(course_pair: Pair) -> None:
    r = same(course_pair, "GET", "/cookies.py?name=zed", {"Cookie": "visits=2; other=x"})
    assert "visits=3" in (r["headers"]["Set-Cookie"] or "")  # type: ignore[index]


def test_upload(course_pair: Pair) -> None:
    data = bytes(range(256)) * 64
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--b0undary--\r\n")
    r = same(course_pair, "POST", "/upload.py",
             {"Content-Type": "multipart/form-data; boundary=b0undary"}, body)
    assert hashlib.sha256(data).hexdigest().encode() in r["body"]  # type: ignore[operator]


# Variables both servers must set alike for the same request (RFC 3875 section 4.1 and
# Apache's additions); PATH, SERVER_SOFTWARE, SERVER_SIGNATURE and REMOTE_PORT differ.
# SERVER_PORT is the Host header's port, else the ServerName's, else 80 (core.c
# ap_get_server_port under UseCanonicalName Off): the Host here has none, so "80".
SAME_VARS = ("GATEWAY_INTERFACE", "SERVER_PROTOCOL", "REQUEST_METHOD", "QUERY_STRING",
             "SCRIPT_NAME", "SCRIPT_FILENAME", "REQUEST_URI", "SERVER_NAME", "SERVER_ADDR",
             "REMOTE_ADDR", "DOCUMENT_ROOT", "CONTEXT_PREFIX", "CONTEXT_DOCUMENT_ROOT",
             "SERVER_ADMIN", "REQUEST_SCHEME", "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_X_TEST",
             "HTTP_CONNECTION", "PATH_INFO", "PATH_TRANSLATED", "SERVER_PORT")


def test_env_json(course_pair: Pair) -> None:
    envs = []
    for server in course_pair.both():
        r = answer(server, "GET", "/env.py?format=json&x=%41", {"X-Test": "a b"})
        assert r["status"] == 200
        envs.append(json.loads(r["body"]))  # type: ignore[arg-type]
    apache, ours = envs
    pick = {k: apache.get(k) for k in SAME_VARS}
    assert {k: ours.get(k) for k in SAME_VARS} == pick
    assert apache["SERVER_PORT"] == "80"


def test_access_log_lines(course_pair: Pair) -> None:
    clf = re.compile(r"^(\S+ \S+ \S+) \[[^\]]+\] (.*)$")
    found = []
    for server in course_pair.both():
        log = Path(course_pair.root) / "cgi" / "logs" / f"{server.impl}-access.log"
        before = len(wait_for_lines(log, 0, 0))
        request(server.port, "GET", "/index.py?q=1", host=HOST)
        lines = wait_for_lines(log, before + 1)
        assert len(lines) > before, f"{server.impl}: nothing logged"
        m = clf.match(lines[before])
        assert m, lines[before]
        found.append(m.groups())
    assert found[1] == found[0]
    assert found[0][1] == '"GET /index.py?q=1 HTTP/1.1" 200 19'


#: A learner's broken scripts (dev mode's cases): without CGIDevMode both servers answer
#: Apache's 500 page, whatever cgihttpd would explain in dev mode.
BROKEN = {
    "bodyfirst.py": "print('<h1>Hello</h1>')\nprint('Content-Type: text/html')\nprint()\n",
    "noblank.py": "print('Content-Type: text/html')\nprint('<h1>Hi</h1>')\n",
    "raises.py": "average = 10 / 0\nprint('Content-Type: text/html\\n')\n",
    "silent.py": "import sys\nsys.exit(3)\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_script_gets_apaches_500_page(course_pair: Pair, name: str) -> None:
    path = course_pair.root / "cgi" / "broken" / name
    path.parent.mkdir(mode=0o755, exist_ok=True)
    path.write_text("#!/usr/bin/env python3\n" + BROKEN[name])
    path.chmod(0o755)
    r = same(course_pair, "GET", f"/broken/{name}")
    assert r["status"] == 500 and b"Internal Server Error" in r["body"]  # type: ignore[operator]
    assert b"What to change" not in r["body"]  # type: ignore[operator]


def test_demo_helper_page(course_pair: Pair) -> None:
    """The demo page written with the script helper answers the same on both."""
    assert same(course_pair, "GET", "/helper.py")["status"] == 200
