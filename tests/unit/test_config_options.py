"""Options parsing and merging, as core.c set_options / merge_core_dir_configs.

The merge cases are the examples of Apache 2.4's documentation of ``Options``
(https://httpd.apache.org/docs/2.4/mod/core.html#options); the parse errors are
apache2 -t's own words for the same lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from config_helpers import errors, load

from cgihttpd.config.directives import parse_options
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import OPTIONS_ALL, DirConf

MIXED = "Either all Options must start with + or -, or no Option may."


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("+Indexes FollowSymLinks", MIXED),
        ("Indexes +FollowSymLinks", MIXED),
        ("+ExecCGI None", MIXED),
        ("Indexes None", "'Options None' must be the first Option given."),
        ("-All", "You may not use 'Options +All' or 'Options -All'."),
        ("+None", "You may not use 'Options +None' or 'Options -None'."),
        ("Bogus", "Illegal option Bogus"),
        ("Indexes All", "'Options All' must be the first option given."),
        ("None All", "'Options All' must be the first option given."),
        ("-Indexes All", MIXED),
        ("All -Indexes Indexes", MIXED),
    ],
)
def test_option_errors_as_apache(words: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_options(words.split())
    assert info.value.message == message


def test_option_error_names_file_and_line(tmp_path: Path) -> None:
    assert errors(tmp_path, "<Directory /tmp>\nOptions +Indexes FollowSymLinks\n"
                            "</Directory>\n") == [f"F:2: {MIXED}"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("None", frozenset()),
        ("All", OPTIONS_ALL),
        ("None +ExecCGI", frozenset({"ExecCGI"})),  # accepted by apache2 -t
        ("All -Indexes", OPTIONS_ALL - {"Indexes"}),
        ("All Indexes", OPTIONS_ALL),
        ("None -ExecCGI +Indexes", frozenset({"Indexes"})),
        ("indexes execcgi", frozenset({"Indexes", "ExecCGI"})),
        ("RunScripts", frozenset({"MultiViews", "ExecCGI"})),
    ],
)
def test_absolute_options(words: str, expected: frozenset[str]) -> None:
    assert parse_options(words.split()).apply(frozenset({"FollowSymLinks"})) == expected


def effective(tmp_path: Path, body: str) -> list[frozenset[str]]:
    """Effective options of each <Directory> of ``body``, merged outermost first."""
    c = load(tmp_path, body)
    acc = c.main.base
    out = []
    for sec in c.main.sections:
        acc = acc.merge(sec.conf)
        out.append(acc.effective_options)
    return out


def test_docs_example_absolute_replaces(tmp_path: Path) -> None:
    got = effective(tmp_path, '<Directory "/web/docs">\nOptions Indexes FollowSymLinks\n'
                              '</Directory>\n<Directory "/web/docs/spec">\nOptions Includes\n'
                              "</Directory>\n")
    assert got[1] == frozenset({"Includes"})


def test_docs_example_relative_merges(tmp_path: Path) -> None:
    got = effective(tmp_path, '<Directory "/web/docs">\nOptions Indexes FollowSymLinks\n'
                              '</Directory>\n<Directory "/web/docs/spec">\n'
                              "Options +Includes -Indexes\n</Directory>\n")
    assert got[1] == frozenset({"FollowSymLinks", "Includes"})


def test_default_is_followsymlinks_and_relative_applies_to_it(tmp_path: Path) -> None:
    assert DirConf().effective_options == frozenset({"FollowSymLinks"})
    got = effective(tmp_path, "<Directory /x>\nOptions -Indexes +ExecCGI\n</Directory>\n")
    assert got == [frozenset({"FollowSymLinks", "ExecCGI"})]


def test_two_options_in_one_section_compose(tmp_path: Path) -> None:
    got = effective(tmp_path, "<Directory /x>\nOptions Indexes\nOptions +ExecCGI -Indexes\n"
                              "</Directory>\n")
    assert got == [frozenset({"ExecCGI"})]


def test_server_level_options_are_inherited(tmp_path: Path) -> None:
    got = effective(tmp_path, "Options None\n<Directory /x>\nOptions +ExecCGI\n</Directory>\n")
    assert got == [frozenset({"ExecCGI"})]
