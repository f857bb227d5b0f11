"""The script helper (helper/, ``cgihttpd_script``) in-process: forms under limits,
uploads spooled, JSON, cookies, headers refused with CR/LF, the FieldStorage shim."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "helper" / "src"))

from cgihttpd_script import FormError, HeaderError, Limits, Request, Response, redirect  # noqa: E402
from cgihttpd_script.cgi_compat import FieldStorage, escape, parse_header  # noqa: E402

BOUNDARY = "----b0undary"


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n".encode()
        if filename:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def post(body: bytes, ctype: str, **extra: str) -> tuple[dict[str, str], io.BytesIO]:
    env = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": ctype,
           "CONTENT_LENGTH": str(len(body)), **extra}
    return env, io.BytesIO(body)


MP = f"multipart/form-data; boundary={BOUNDARY}"


def test_multipart_fields_and_files() -> None:
    body = multipart(("name", None, "Иван".encode()), ("color", None, b"red"),
                     ("color", None, b"blue"), ("photo", "cat.jpg", b"\x00\xff" * 10))
    req = Request(*post(body, MP))
    form = req.form
    assert form.get("name") == "Иван"
    assert form.getlist("color") == ["red", "blue"]
    photo = form.file("photo")
    assert photo is not None and photo.filename == "cat.jpg" and photo.size == 20
    assert photo.read() == b"\x00\xff" * 10
    assert form.keys() == ["name", "color", "photo"]


def test_big_upload_is_spooled_to_a_file() -> None:
    body = multipart(("f", "big.bin", b"x" * 5000))
    form = Request(*post(body, MP), limits=Limits(memory=1000)).form
    upload = form.file("f")
    assert upload is not None and upload.size == 5000
    assert upload.file._rolled  # type: ignore[attr-defined]  # on disk, not in memory


@pytest.mark.parametrize(("limits", "body"), [
    (Limits(fields=2), multipart(("a", None, b"1"), ("b", None, b"2"), ("c", None, b"3"))),
    (Limits(part=10), multipart(("a", "f", b"x" * 11))),
    (Limits(total=100), multipart(("a", "f", b"x" * 200))),
])
def test_multipart_limits(limits: Limits, body: bytes) -> None:
    with pytest.raises(FormError) as info:
        _ = Request(*post(body, MP), limits=limits).form
    assert info.value.status == 413


def test_urlencoded_query_json_cookies() -> None:
    req = Request(*post(b"a=1&b=x+y&a=2", "application/x-www-form-urlencoded",
                        QUERY_STRING="q=%D0%BF", HTTP_COOKIE="sid=abc; theme=dark"))
    assert req.form.getlist("a") == ["1", "2"] and req.form.get("b") == "x y"
    assert req.query.get("q") == "п"
    assert req.cookies == {"sid": "abc", "theme": "dark"}
    with pytest.raises(FormError):
        _ = Request(*post(b"a=1&b=2&c=3", "application/x-www-form-urlencoded"),
                    limits=Limits(fields=2)).form
    assert Request(*post(b'{"x": [1]}', "application/json")).json() == {"x": [1]}
    with pytest.raises(FormError):
        Request(*post(b"{nope", "application/json")).json()


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: evil=1", "a\nb", "a\rb"])
def test_headers_refuse_line_breaks(value: str) -> None:
    with pytest.raises(HeaderError):
        Response(out=io.BytesIO()).header("X-Test", value)
    with pytest.raises(HeaderError):
        redirect("/next" + value, out=io.BytesIO())


def test_response_and_redirect_bytes() -> None:
    out = io.BytesIO()
    r = Response(out=out)
    r.set_cookie("visits", "3", max_age=60)
    r.send("<p>привет</p>")
    head, _, body = out.getvalue().partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"Content-Type: text/html; charset=utf-8"
    assert b"Set-Cookie: visits=3; HttpOnly; Max-Age=60; Path=/; SameSite=Lax" in head
    assert body == "<p>привет</p>".encode()
    out = io.BytesIO()
    redirect("/done", out=out)
    assert out.getvalue() == b"Status: 303 See Other\r\nLocation: /done\r\n\r\n"


def test_fieldstorage_shim() -> None:
    body = multipart(("name", None, b"Ann"), ("tag", None, b"a"), ("tag", None, b"b"),
                     ("up", "notes.txt", b"hello"))
    env, stdin = post(body, MP, QUERY_STRING="page=2")
    form = FieldStorage(fp=stdin, environ=env)
    assert form.getvalue("name") == "Ann" and form.getfirst("tag") == "a"
    assert form.getvalue("tag") == ["a", "b"] and form.getlist("tag") == ["a", "b"]
    assert form.getvalue("page") == "2"  # the query string of a POST, as cgi merged it
    assert form.getvalue("missing", "default") == "default"
    assert "name" in form and len(form) == 4
    assert form["up"].filename == "notes.txt" and form["up"].file.read() == b"hello"
    get = FieldStorage(environ={"REQUEST_METHOD": "GET", "QUERY_STRING": "x=1&y="},
                       fp=io.BytesIO())
    assert get.keys() == ["x"]  # blank values dropped unless keep_blank_values
    assert parse_header('text/html; charset="utf-8"') == ("text/html", {"charset": "utf-8"})
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"
