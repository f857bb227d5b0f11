"""IndexOptions words and their merge down the directory tree (mod_autoindex.c add_opts,
merge_autoindex_configs). Each merge case was run on apache2 2.4 (a <Directory> and a
subdirectory's <Directory>, the listing's columns compared)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.config.indexopts import (
    FLAGS,
    add_index_options,
    effective_index_options,
    merge_index_options,
)


def section(*directives: str) -> tuple[str, ...] | None:
    """A directory's words after its IndexOptions lines, as the directive table builds
    them; None when it has none."""
    words: tuple[str, ...] | None = None
    for line in directives:
        words = add_index_options(words, line.split()[1:])
    return words


def walk(*sections: tuple[str, ...] | None) -> set[str]:
    """The options in force after merging the sections in order over a server that sets
    no IndexOptions."""
    merged: tuple[str, ...] | None = None
    for s in sections:
        merged = merge_index_options(merged, s)
    return set(effective_index_options(merged))


@pytest.mark.parametrize(
    ("top", "sub", "at_top", "at_sub"),
    [
        # a later +word in the same directory is not applied there (and not passed on
        # unless a subdirectory's IndexOptions merges with it)
        (("IndexOptions FancyIndexing", "IndexOptions +SuppressSize"), (),
         {"FancyIndexing"}, {"FancyIndexing"}),
        (("IndexOptions FancyIndexing", "IndexOptions +SuppressSize"),
         ("IndexOptions +SuppressLastModified",),
         {"FancyIndexing"}, {"FancyIndexing", "SuppressSize", "SuppressLastModified"}),
        (("IndexOptions FancyIndexing",), ("IndexOptions +SuppressLastModified",),
         {"FancyIndexing"}, {"FancyIndexing", "SuppressLastModified"}),
        (("IndexOptions FancyIndexing +SuppressSize",), ("IndexOptions -SuppressLastModified",),
         {"FancyIndexing"}, {"FancyIndexing", "SuppressSize"}),
        (("IndexOptions FancyIndexing +SuppressSize",), ("IndexOptions Charset=UTF-8",),
         {"FancyIndexing"}, {"FancyIndexing", "SuppressSize", "Charset=UTF-8"}),
    ],
)
def test_merge_as_apache_lists(top: tuple[str, ...], sub: tuple[str, ...], at_top: set[str],
                               at_sub: set[str]) -> None:
    assert walk(section(*top)) == at_top
    assert walk(section(*top), section(*sub)) == at_sub


def test_plain_words_below_replace_what_is_inherited() -> None:
    server = section("IndexOptions FancyIndexing HTMLTable Charset=UTF-8")
    assert walk(server, section("IndexOptions SuppressSize")) == {"SuppressSize",
                                                                  "Charset=UTF-8"}
    assert walk(server, section("IndexOptions -HTMLTable +VersionSort")) == {
        "FancyIndexing", "VersionSort", "Charset=UTF-8"}
    assert walk(server, section("IndexOptions None")) == {"None", "Charset=UTF-8"}


def test_a_plain_word_drops_the_increments_read_before_it() -> None:
    assert section("IndexOptions +ScanHTMLTitles -IconsAreLinks FancyIndexing") == (
        "FancyIndexing",)


@given(st.lists(st.lists(st.sampled_from(sorted(set(FLAGS.values()) - {"None"})), max_size=4)
                .map(lambda ws: [("+" if i % 2 else "") + w for i, w in enumerate(ws)]),
                max_size=4))
def test_merging_with_nothing_changes_nothing(lines: list[list[str]]) -> None:
    words: tuple[str, ...] | None = None
    for line in lines:
        words = add_index_options(words, line)
    assert merge_index_options(words, None) == words
    assert merge_index_options(None, words) == words
