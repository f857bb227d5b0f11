"""Lexer and tree: Apache's line, word and section rules (server/util.c, config.c)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.config.errors import ConfigError
from cgihttpd.config.lexer import logical_lines, split_words
from cgihttpd.config.tree import Node, parse_tree


def lines(text: str) -> list[tuple[str, int]]:
    return [(ln.text, ln.source.line) for ln in logical_lines(text, "f.conf")]


def test_comments_only_at_line_start_and_blank_lines_skipped() -> None:
    text = "# a comment\n\n   # indented comment\nServerName a # not a comment\n"
    assert lines(text) == [("ServerName a # not a comment", 4)]


def test_continuation_joins_without_space_and_reports_last_line() -> None:
    # checked with apache2 -t: an error in a continued directive names its last line
    assert lines("Foo a \\\n b\nBar\n") == [("Foo a  b", 2), ("Bar", 3)]


def test_backslash_followed_by_space_is_not_a_continuation() -> None:
    assert lines("ServerName a \\  \nFoo\n") == [("ServerName a \\", 1), ("Foo", 2)]


def test_a_continued_comment_swallows_the_next_line() -> None:
    # apache2 -t: "# comment \" followed by "Foo" is Syntax OK
    assert lines("# comment \\\nFoo\nBar\n") == [("Bar", 3)]


def test_crlf_line_endings() -> None:
    assert lines("A 1\r\nB \\\r\n 2\r\n") == [("A 1", 1), ("B  2", 3)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a b  c", ["a", "b", "c"]),
        ('"D:/Projects/x y" z', ["D:/Projects/x y", "z"]),
        ("'single quoted' x", ["single quoted", "x"]),
        (r'"a\"b" c', ['a"b', "c"]),
        (r"'a\'b'", ["a'b"]),
        (r'"a\\b"', ["a\\b"]),
        (r'"a\nb"', ["a\\nb"]),  # only \\ and \<quote> are escapes
        (r"a\\b", ["a\\b"]),  # \\ unquoted too (substring_conf)
        ('a"b c', ['a"b', "c"]),  # a quote inside a word is data
        ('"unterminated x', ["unterminated x"]),
        ('"%h %l" common', ["%h %l", "common"]),
        ('""', [""]),
    ],
)
def test_words_as_ap_getword_conf(text: str, words: list[str]) -> None:
    assert split_words(text) == words


def tree(text: str) -> tuple[list[Node], list[str]]:
    errors: list[ConfigError] = []
    nodes = parse_tree(text, "f.conf", errors)
    return nodes, [str(e) for e in errors]


def test_sections_nest_and_names_are_kept_as_written() -> None:
    nodes, errors = tree('<VirtualHost *:80>\n<directory "/x y">\nOptions None\n'
                         "</DIRECTORY>\n</VirtualHost>\n")
    assert errors == []
    (vh,) = nodes
    assert vh.name == "VirtualHost" and vh.args == ("*:80",) and vh.source.line == 1
    assert vh.children is not None
    (d,) = vh.children
    assert d.key == "<directory" and d.args == ("/x y",)
    assert d.children == (Node("Options", "None", ("None",), d.children[0].source),)
    assert d.children[0].source.line == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<Directory /tmp>\n</Files>\n", "f.conf:2: Expected </Directory> but saw </Files>"),
        ("</Directory>\n", "f.conf:1: </Directory> without matching <Directory> section"),
        ("A\n<Directory /tmp>\n", "f.conf:2: <Directory> was not closed."),
        ("<Directory /tmp\n</Directory>\n",
         "f.conf:1: <Directory> directive missing closing '>'"),
    ],
)
def test_section_errors_as_apache(text: str, message: str) -> None:
    # wording from apache2 -t on the same text
    assert message in tree(text)[1]


def test_every_structural_error_is_reported() -> None:
    _, errors = tree("</A>\n<B x>\n</C>\n<D y>\n")
    assert len(errors) == 3


def _shape(nodes: list[Node] | tuple[Node, ...]) -> list[object]:
    return [(n.name, n.args, n.source.line, _shape(n.children) if n.children else None)
            for n in nodes]


_word = st.text(alphabet="abcXYZ019/._-*:$%{}\"' \\", min_size=1, max_size=8)
_line = st.one_of(
    st.builds(lambda n, a: f"{n} {a}", st.sampled_from(["ServerName", "Options", "Foo"]),
              _word),
    st.just("# comment"),
    st.just(""),
    st.builds(lambda a: f"Cont {a} \\", _word),
)


@given(st.lists(st.lists(_line, max_size=4), max_size=4))
def test_same_tree_whatever_the_line_endings(blocks: list[list[str]]) -> None:
    body: list[str] = []
    for block in blocks:
        body.append("<Directory /x>")
        body.extend(block)
        body.append("Last line")
        body.append("</Directory>")
    lf = "\n".join(body) + "\n"
    crlf = "\r\n".join(body) + "\r\n"
    assert _shape(tree(lf)[0]) == _shape(tree(crlf)[0])
    assert tree(lf)[1] == tree(crlf)[1]


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\r\x00",
                                               blacklist_categories=("Cs",)), max_size=10),
                min_size=1, max_size=5))
def test_any_words_survive_quoting(words: list[str]) -> None:
    """Quoting with \\\\ and \\" escapes, as substring_conf undoes them, round-trips."""
    quoted = " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words)
    assert split_words(quoted) == words
