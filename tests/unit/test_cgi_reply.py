"""The response head built from a script's fields."""

from __future__ import annotations

from cgihttpd.cgi.reply import file_content_type, response_headers, with_default_charset
from cgihttpd.config.model import DirConf

TYPES = ((".py", "text/x-python"), (".html", "text/html"))


def test_file_type_like_mod_mime() -> None:
    assert file_content_type("/x/a.py", DirConf(), TYPES) == "text/x-python"
    assert file_content_type("/x/a.cgi", DirConf(), TYPES) is None
    assert file_content_type("/x/a.html.py", DirConf(), TYPES) == "text/x-python"
    assert file_content_type("/x/a.py", DirConf(add_types=((".py", "text/plain"),)),
                             TYPES) == "text/plain"
    assert file_content_type("/x/a.py", DirConf(force_type="a/b"), TYPES) == "a/b"


def test_default_charset() -> None:
    assert with_default_charset("text/html", None) == "text/html"
    assert with_default_charset("text/html", "On") == "text/html; charset=iso-8859-1"
    assert with_default_charset("text/plain", "utf-8") == "text/plain; charset=utf-8"
    assert with_default_charset("text/html; charset=koi8-r", "utf-8") == \
        "text/html; charset=koi8-r"
    assert with_default_charset("image/png", "utf-8") == "image/png"


def test_response_headers() -> None:
    fields = [("Content-Length", "abc"), ("X-A", "1")]
    assert response_headers(fields, 200, nph=False, default_type="text/x-python",
                            default_charset=None) == [
        (b"X-A", b"1"), (b"Content-Type", b"text/x-python")]
    assert response_headers([("Content-Length", "3")], 304, nph=False,
                            default_type="text/x-python", default_charset=None) == [
        (b"Content-Length", b"3")]
    assert response_headers([], 200, nph=True, default_type="text/x-python",
                            default_charset=None) == []
