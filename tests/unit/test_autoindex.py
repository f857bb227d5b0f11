"""autoindex: the listing layout (Apache's FancyIndexing HTMLTable) and sizes."""

from __future__ import annotations

import time

import pytest

from cgihttpd.static.autoindex import (
    Entry,
    IndexStyle,
    emit_plain,
    forbidden_message,
    index_style,
    render_index,
    render_plain,
    strfsize,
)


@pytest.mark.parametrize(("size", "text"), [
    (0, "  0 "), (4, "  4 "), (972, "972 "), (5000, "4.9K"), (2_000_000, "1.9M"),
    (20_000, " 20K"), (-1, "  - "),
])
def test_strfsize_like_apr(size: int, text: str) -> None:
    assert strfsize(size) == text


def test_listing_escapes_names_and_links_parent() -> None:
    mtime = time.mktime((2026, 11, 26, 16, 52, 0, 0, 0, -1))
    html = render_index("/idx/sub2/", [
        Entry("zz.bin", False, 2, mtime), Entry("a<b&c.txt", False, 4, mtime),
        Entry("dd", True, 4096, mtime), Entry("big.dat", False, 5000, mtime),
    ], signature_html="<hr>\n<address>x</address>\n").decode()
    assert "<title>Index of /idx/sub2</title>" in html
    # the row exactly as Apache 2.4.71 writes it
    assert ('<tr><td valign="top">&nbsp;</td><td><a href="a%3cb&amp;c.txt">a&lt;b&amp;c.txt'
            '</a>              </td><td align="right">2026-11-26 16:52  </td>'
            '<td align="right">  4 </td><td>&nbsp;</td></tr>') in html
    assert '<a href="/idx/">Parent Directory</a>       </td>' in html
    assert '<a href="dd/">dd/</a>' in html
    names = [n for n in ("a%3cb", "big.dat", "dd/", "zz.bin")]
    assert sorted(names, key=html.index) == names
    assert html.endswith("</table>\n<address>x</address>\n</body></html>\n")


def test_sort_by_size_descending_and_long_names_cut() -> None:
    html = render_index("/", [Entry("small", False, 1, 0), Entry("x" * 30, False, 9, 0)],
                        query="C=S;O=D").decode()
    assert html.index("x" * 20 + "..&gt;</a></td>") < html.index("small")
    assert "Parent Directory" not in html
    assert '<a href="?C=S;O=A">Size</a>' in html


def test_forbidden_message_is_apaches() -> None:
    note = forbidden_message("/r/noidx/", ("index.html",))
    assert (note.module, note.level, note.text) == ("autoindex", "error", (
        "AH01276: Cannot serve directory /r/noidx/: No matching DirectoryIndex "
        "(index.html) found, and server-generated directory index forbidden by Options "
        "directive"))
    assert "(none)" in forbidden_message("/r/noidx", ()).text


def test_plain_listing_is_apaches_default_layout() -> None:
    html = render_plain("/idx/", [Entry("z.bin", False, 1, 0), Entry("a<b&c.txt", False, 4, 0),
                                  Entry("dirx", True, 0, 0)],
                        "<hr>\n<address>sig</address>\n").decode()
    assert html.endswith(
        "<h1>Index of /idx</h1>\n"
        '<ul><li><a href="/"> Parent Directory</a></li>\n'
        '<li><a href="a%3cb&amp;c.txt"> a&lt;b&amp;c.txt</a></li>\n'
        '<li><a href="dirx/"> dirx/</a></li>\n'
        '<li><a href="z.bin"> z.bin</a></li>\n'
        "</ul>\n<address>sig</address>\n</body></html>\n")


def test_index_style_from_index_options() -> None:
    assert index_style(None) == IndexStyle(True, "UTF-8")
    assert index_style(()) == IndexStyle(False, "ISO-8859-1")
    assert index_style(("FancyIndexing", "HTMLTable")).fancy
    assert index_style(("FancyIndexing", "Charset=UTF-8")).content_type == "text/html;charset=UTF-8"


def test_long_names_are_cut_before_escaping_like_apache() -> None:
    html = render_index("/", [Entry("ab&cd<ef>gh_long_name_here.txt", False, 0, 0)]).decode()
    assert ('<a href="ab&amp;cd%3cef%3egh_long_name_here.txt">ab&amp;cd&lt;ef&gt;gh_long_nam'
            '..&gt;</a></td>') in html


def test_header_and_readme_take_the_h1_and_the_signature_places() -> None:
    entries = [Entry("f.txt", False, 2, 0.0)]
    sig = "<hr>\n<address>sig</address>\n"
    plain = render_plain("/d/", entries, sig, header=b"<p>Head</p>\n",
                         readme=emit_plain(b"Read <me> & plain\n")).decode()
    assert "<h1>" not in plain and "<address>" not in plain
    assert " <body>\n<p>Head</p>\n<ul><li>" in plain
    assert "</ul>\n<pre>\nRead &lt;me&gt; &amp; plain\n</pre>\n</body></html>\n" in plain
    fancy = render_index("/d/", entries, "", sig, header=emit_plain(b"h"),
                         readme=b"<b>r</b>\n").decode()
    assert " <body>\n<pre>\nh</pre>\n  <table>\n" in fancy
    assert "</table>\n<b>r</b>\n</body></html>\n" in fancy
    assert "<h1>Index of /d</h1>" in render_index("/d/", entries).decode()
