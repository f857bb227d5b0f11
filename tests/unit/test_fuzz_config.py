"""Fuzzing the configuration reader: the lexer (config/lexer.py), the tree and the
loader (config/loader.py). Whatever the text, and whatever is done to a real
configuration from tests/fixtures, reading it gives a ServerConfig or ConfigErrors
whose every entry names a FILE:LINE of a file that was read - never another exception,
and never a hang (the inputs are bounded; pytest-timeout bounds the run)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fuzz_helpers import fuzz
from hypothesis import given
from hypothesis import strategies as st
from test_config_fuzz import MemoryFS

from cgihttpd.config import directives as D
from cgihttpd.config.errors import ConfigError, ConfigErrors
from cgihttpd.config.lexer import logical_lines, physical_lines, split_words
from cgihttpd.config.loader import finish, load_config
from cgihttpd.config.model import Source
from cgihttpd.config.tree import expand, new_state, parse_tree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: the characters Apache's reader gives meaning to, and a few it does not
_ALPHABET = st.sampled_from(list("\n\r\t \\\"'#<>/:${}()*?[]%!~+-=,;aZ0\x00\x0b\x0c") +
                            ["\u00e9", "\udcff", "\ufeff"])
_WORDS = st.sampled_from([
    "<Directory", "</Directory>", "<IfModule", "</IfModule>", "<VirtualHost", "*:80>",
    "</VirtualHost>", "<Location", "<If", "\"%{REQUEST_URI} =~ /x/\">", "</If>", ">",
    "Define", "UnDefine", "${A}", "${", "Include", "IncludeOptional", "ServerRoot",
    "DocumentRoot", "Alias", "ScriptAlias", "Require", "all", "granted", "expr",
    "AddHandler", "Options", "+ExecCGI", "Header", "set", "RequestHeader", "SetEnvIf",
    "LogFormat", "CustomLog", "ErrorLog", "Listen", "LoadModule", "RewriteRule", "\\\n",
    "\n", " ", "\"", "'", "#",
])
TEXT = st.one_of(st.text(_ALPHABET, max_size=200),
                 st.lists(st.one_of(_WORDS, st.text(_ALPHABET, max_size=3)),
                          max_size=60).map("".join))


@fuzz(500)
@given(TEXT)
def test_the_lexer_takes_any_text(text: str) -> None:
    count = len(physical_lines(text))
    for line in logical_lines(text, "f.conf"):
        assert line.source.file == "f.conf" and 1 <= line.source.line <= count, line
        assert line.text and not line.text.startswith("#")
        split_words(line.text)


@fuzz(400)
@given(TEXT)
def test_reading_any_text_gives_a_config_or_errors_at_file_line(text: str) -> None:
    fs = MemoryFS({"/c/httpd.conf": text, "/c/conf/a.conf": "Define B\n"})
    state = new_state("/c", [], {"A": "a"}, fs, D.DIRECTIVES)
    state.files.append("/c/httpd.conf")
    nodes = expand(parse_tree(text, "/c/httpd.conf", state.errors), state)
    draft = D.interpret(nodes, state.server_root, state.loaded_names,
                        Source("/c/httpd.conf", 1))
    errors: list[ConfigError] = state.errors + draft.errors
    if not errors:
        try:
            finish(draft, files=tuple(state.files), defines=frozenset(state.defines),
                   loaded=state.loaded_names, read_warnings=state.warnings, fs=None,
                   host_name="h.example")
        except ConfigErrors as exc:
            errors = exc.errors
    lines = max(1, len(physical_lines(text)))
    for e in errors:
        assert isinstance(e, ConfigError), e
        assert e.source is not None, f"no FILE:LINE: {e}"
        if e.source.file == "/c/httpd.conf":
            assert 1 <= e.source.line <= lines, e


# --- mutated real configurations -----------------------------------------------------

#: (fixture tree, the file mutated in it, the main file, its environment)
TREES = [
    ("conf/course", "httpd.conf", "httpd.conf", "COURSE_ROOT"),
    ("conf/includes", "main.conf", "main.conf", ""),
    ("conf/includes", "conf.d/a.conf", "main.conf", ""),
    ("debian-apache2", "apache2.conf", "apache2.conf", ""),
    ("debian-apache2", "sites-available/000-default.conf", "apache2.conf", ""),
    ("debian-apache2", "mods-available/mime.conf", "apache2.conf", ""),
    ("xampp", "apache/conf/httpd.conf", "apache/conf/httpd.conf", "XAMPP_ROOT"),
]
_PAYLOAD = st.one_of(_WORDS, st.text(_ALPHABET, max_size=8))
#: (what, where, how much, text): delete, insert, duplicate a line, cut the file short
MUTATION = st.tuples(st.sampled_from(["delete", "insert", "duplicate", "truncate"]),
                     st.integers(min_value=0, max_value=100_000),
                     st.integers(min_value=1, max_value=40), _PAYLOAD)


def mutate(text: str, mutations: list[tuple[str, int, int, str]]) -> str:
    for what, where, size, payload in mutations:
        at = where % (len(text) + 1)
        if what == "delete":
            text = text[:at] + text[at + size:]
        elif what == "insert":
            text = text[:at] + payload + text[at:]
        elif what == "duplicate":
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end == -1 else end + 1
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:at]
    return text


def _environ(root: Path, var: str) -> dict[str, str]:
    env = {"XAMPP_PORT": "8080", "APACHE_RUN_USER": "www-data", "APACHE_RUN_GROUP": "www-data",
           "APACHE_LOG_DIR": str(root / "log"), "APACHE_RUN_DIR": str(root / "run"),
           "APACHE_LOCK_DIR": str(root / "lock"),
           "APACHE_PID_FILE": str(root / "run" / "apache2.pid")}
    if var:
        env[var] = str(root)
    return env


@fuzz(120)
@given(st.sampled_from(TREES), st.lists(MUTATION, min_size=1, max_size=4))
def test_a_mutated_real_config_loads_or_fails_at_file_line(
        tree: tuple[str, str, str, str], mutations: list[tuple[str, int, int, str]]) -> None:
    name, target, main, var = tree
    with tempfile.TemporaryDirectory(prefix="fuzzconf") as tmp:
        root = Path(tmp) / "t"
        shutil.copytree(FIXTURES / name, root, symlinks=True)
        path = root / target
        path.write_text(mutate(path.read_text(), mutations), encoding="utf-8",
                        errors="surrogateescape")
        try:
            load_config(str(root / main), environ=_environ(root, var),
                        server_root=str(root) if name == "debian-apache2" else None)
        except ConfigErrors as exc:
            assert exc.errors
            for e in exc.errors:
                assert isinstance(e, ConfigError), e
                assert e.source is not None, f"no FILE:LINE: {e}"
                assert e.source.line >= 1, e
