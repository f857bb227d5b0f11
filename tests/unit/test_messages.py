"""The catalogue of Apache's messages (``cgihttpd.messages``): each AH number is written
once, in the catalogue, and nowhere else in the code (docstrings and comments may cite
them); a failed request carries its line as a structured ``Note``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import cgihttpd
from cgihttpd import messages as M
from cgihttpd.errors import HTTPError

ROOT = Path(cgihttpd.__file__).resolve().parent
AH = re.compile(r"AH\d{5}")


def _docstrings(tree: ast.Module) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def ah_numbers_in_code(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in AH.findall(node.value)]
    return found


def test_ah_numbers_are_written_only_in_the_catalogue() -> None:
    outside = [hit for path in sorted(ROOT.rglob("*.py")) if path.name != "messages.py"
               for hit in ah_numbers_in_code(path)]
    assert outside == []


def catalogue() -> list[M.Message]:
    out: list[M.Message] = []
    for value in vars(M).values():
        if isinstance(value, M.Message):
            out.append(value)
        elif isinstance(value, M.CgiMessage):
            out += [value("cgi"), value("cgid")]
    return out


def test_each_ah_number_is_one_message() -> None:
    texts: dict[str, str] = {}
    for m in catalogue():
        assert AH.fullmatch(m.code), m
        assert texts.setdefault(m.code, m.template) == m.template, m.code
    assert len(texts) >= 25


def test_the_checker_sees_a_number_in_code() -> None:
    fake = ROOT / "_fake_for_test.py"
    fake.write_text('"""Cites AH00128 in a docstring."""\nX = "AH00128: File"\n', encoding="utf-8")
    try:
        assert ah_numbers_in_code(fake) == ["_fake_for_test.py:2 AH00128"]
    finally:
        fake.unlink()


def test_a_note_carries_module_level_and_text() -> None:
    note = M.FILE_PERMISSIONS.note(errno=PermissionError(13, "Permission denied"), path="/x")
    assert (note.module, note.level, note.text) == (
        "core", "error", "(13)Permission denied: AH00132: file permissions deny server access: /x")
    missing = M.SCRIPT_MISSING("cgid").note(path="/s.py")
    assert (missing.module, missing.text) == (
        "cgid", "AH01264: stderr from /s.py: script not found or unable to stat")
    assert M.SCRIPT_MISSING("cgi").code == "AH02811"
    assert M.cgi_module({"cgid_module", "cgi_module"}) == "cgid"
    assert M.cgi_module({"cgi_module"}) == "cgi"
    err = HTTPError(404, "plain words")
    assert err.note is not None and (err.note.module, err.note.level) == ("core", "error")
    assert err.reason == "plain words" and HTTPError(403).note is None
