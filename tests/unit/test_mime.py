"""mime.content_type: AddType, RemoveType, AddCharset, RemoveCharset, ForceType and
AddDefaultCharset through DirConf.merge, as mod_mime's find_ct and merge do
(tests/differential/test_mime_diff.py checks the same against apache2)."""

from __future__ import annotations

import pytest

from cgihttpd.cgi.reply import file_content_type
from cgihttpd.config.model import DirConf
from cgihttpd.mime import content_type, with_charset

TYPES = ((".html", "text/html"), (".txt", "text/plain"), (".css", "text/css"),
         (".json", "application/json"))
SERVER = DirConf(add_types=((".thing", "text/x-thing"), (".html", "text/x-html")),
                 add_charsets=((".utf8", "utf-8"), (".jis", "iso-2022-jp")))


def ctype(name: str, *sections: DirConf) -> str | None:
    conf = SERVER
    for section in sections:
        conf = conf.merge(section)
    return content_type(name, conf, TYPES)


@pytest.mark.parametrize(("name", "expected"), [
    ("page.html.utf8", "text/x-html; charset=utf-8"),
    ("data.json.utf8", "application/json; charset=utf-8"),
    ("page.utf8", None),  # a charset alone makes no type
    ("a.utf8.jis.txt", "text/plain; charset=iso-2022-jp"),  # the last charset wins
    ("a.thing", "text/x-thing"),
])
def test_add_charset(name: str, expected: str | None) -> None:
    assert ctype(name) == expected


def test_remove_type_undoes_an_inherited_add_type_and_mime_types_too() -> None:
    sub = DirConf(remove_types=(".thing", ".html", ".css"))
    assert ctype("a.thing", sub) is None
    assert ctype("a.html", sub) is None  # not TypesConfig's text/html either
    assert ctype("a.css", sub) is None
    assert ctype("a.txt.html", sub) == "text/plain"  # an earlier extension still maps
    # a deeper section may add it again
    assert ctype("a.thing", sub, DirConf(add_types=((".thing", "text/x-again"),))) \
        == "text/x-again"


def test_remove_type_applies_to_its_own_section_whatever_the_order() -> None:
    same = DirConf(add_types=((".same", "text/x-same"),), remove_types=(".same",))
    assert ctype("a.same", same) is None
    # the server's own section (never merged onto anything) too
    alone = DirConf(add_types=((".x", "text/x-x"),), remove_types=(".x",))
    assert content_type("a.x", alone, TYPES) is None


def test_remove_charset() -> None:
    assert ctype("a.txt.jis", DirConf(remove_charsets=(".jis",))) == "text/plain"


def test_force_type_replaces_the_charset_too() -> None:
    assert ctype("a.html.utf8", DirConf(force_type="text/plain")) == "text/plain"


def test_add_default_charset_only_without_a_charset() -> None:
    dflt = DirConf(default_charset="utf-8")
    assert ctype("a.txt", dflt) == "text/plain; charset=utf-8"
    assert ctype("a.txt.jis", dflt) == "text/plain; charset=iso-2022-jp"


def test_with_charset_replaces_a_charset_parameter() -> None:
    assert with_charset("text/plain; charset=us-ascii; x=1", "utf-8") \
        == "text/plain; charset=utf-8; x=1"
    assert with_charset("text/plain", "utf-8") == "text/plain; charset=utf-8"


def test_cgi_default_type_honours_remove_type() -> None:
    conf = SERVER.merge(DirConf(remove_types=(".html",)))
    assert file_content_type("a.txt.html", conf, TYPES) == "text/plain"
    assert file_content_type("a.html", conf, TYPES) is None
