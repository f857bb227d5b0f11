"""The built-in demo site's scripts, run as a CGI server would run them: an environment
from scratch (RFC 3875 section 4.1), the body on stdin, the response on stdout."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cgihttpd

DEMO = Path(cgihttpd.__file__).parent / "demo"
SCRIPTS = ("index.py", "env.py", "get.py", "post.py", "cookies.py", "upload.py")


def run(script: str, env: dict[str, str] | None = None, body: bytes = b"") -> tuple[str, bytes]:
    base = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    base.update(env or {})
    proc = subprocess.run([sys.executable, str(DEMO / script)], input=body, env=base,
                          capture_output=True, timeout=30, check=True)
    head, _, rest = proc.stdout.partition(b"\n\n")
    return head.decode(), rest


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_python_with_env_shebang(script: str) -> None:
    path = DEMO / script
    assert path.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert b"\r\n" not in path.read_bytes()
    if os.name == "posix":
        assert os.access(path, os.X_OK)


def test_index_files() -> None:
    assert "Hello, World" in (DEMO / "index.html").read_text()
    head, body = run("index.py")
    assert head == "Content-Type: text/html"
    assert body == b"<h1>Hello, CGI</h1>"


def test_env_as_json_and_html() -> None:
    head, body = run("env.py", {"QUERY_STRING": "format=json", "X_TEST": "<v>"})
    assert head == "Content-Type: application/json"
    assert json.loads(body)["X_TEST"] == "<v>"
    head, body = run("env.py", {"X_TEST": "<v>"})
    assert head.startswith("Content-Type: text/html")
    assert b"<td>X_TEST</td><td>&lt;v&gt;</td>" in body


def test_get_form_echoes_escaped_fields() -> None:
    _, body = run("get.py", {"QUERY_STRING": "name=A%26B&message=%3Cb%3E&empty="})
    assert b"<td>name</td><td>A&amp;B</td>" in body
    assert b"<td>message</td><td>&lt;b&gt;</td>" in body
    assert b"<td>empty</td><td></td>" in body


def test_post_form_reads_content_length_bytes_only() -> None:
    payload = b"name=Bob&message=hi+%C3%A9"
    _, body = run("post.py", {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(payload)),
                              "CONTENT_TYPE": "application/x-www-form-urlencoded"},
                  payload + b"&extra=ignored")
    assert b"<td>message</td><td>hi \xc3\xa9</td>" in body
    assert b"extra" not in body


def test_cookies_count_visits_and_set_a_name() -> None:
    head, body = run("cookies.py", {"HTTP_COOKIE": "visits=4; other=x",
                                    "QUERY_STRING": "name=zed"})
    assert "Set-Cookie: visits=5;" in head and "Set-Cookie: name=zed;" in head
    assert b"Visits (counted in a cookie): 5" in body
    assert b"<td>other</td><td>x</td>" in body


@pytest.mark.parametrize("data", [b"", b"hello\r\nworld\r\n", bytes(range(256)) * 40,
                                  b"\r\n--XyZz\r\nlooks like a boundary"])
def test_upload_reports_size_and_sha256(data: bytes) -> None:
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + data +
            b'\r\n--XyZ\r\nContent-Disposition: form-data; name="comment"\r\n\r\nnice\r\n'
            b"--XyZ--\r\n")
    _, out = run("upload.py", {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)),
                               "CONTENT_TYPE": "multipart/form-data; boundary=XyZ"}, body)
    digest = hashlib.sha256(data).hexdigest().encode()
    assert b"<td>file</td><td>f.bin</td><td>%d</td><td>%s</td>" % (len(data), digest) in out
    assert b"<td>comment</td><td></td><td>4</td><td>nice</td>" in out
