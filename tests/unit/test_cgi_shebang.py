"""Choosing the program that runs a script from its #! line."""

from __future__ import annotations

import pytest

from cgihttpd.cgi.shebang import Command, LaunchError, is_python_name, parse_shebang, plan_command

HERE = {"/usr/bin/env", "/bin/sh", "/usr/bin/python3", "/usr/bin/perl"}


def plan(head: bytes, executable: bool = False, python: str = "/venv/bin/python") -> Command:
    return plan_command("/srv/cgi/s.py", head, executable=executable,
                        exists=HERE.__contains__, python=python)


def test_parse_variants() -> None:
    assert parse_shebang(b"#!/bin/sh\n") == ("/bin/sh", None)
    assert parse_shebang(b"#! /usr/bin/env python3\r\nprint()") == ("/usr/bin/env", "python3")
    assert parse_shebang(b"#!/usr/bin/perl -w  -T \r\n") == ("/usr/bin/perl", "-w  -T")
    assert parse_shebang(b"print('no')\n") is None
    assert parse_shebang(b"#!\n") is None


def test_existing_interpreter_runs_with_its_argument() -> None:
    assert plan(b"#!/usr/bin/env python3\n").argv == ("/usr/bin/env", "python3", "/srv/cgi/s.py")
    assert plan(b"#!/bin/sh\r\n").argv == ("/bin/sh", "/srv/cgi/s.py")  # CRLF script
    assert plan(b"#!/usr/bin/perl -w\n").argv == ("/usr/bin/perl", "-w", "/srv/cgi/s.py")
    assert plan(b"#!/bin/sh\n").warning is None


def test_course_windows_shebang_runs_with_configured_python_and_warns() -> None:
    cmd = plan(b"#!C:/Users/nikit/AppData/Local/Programs/Python/Python313/python.exe\r\n")
    assert cmd.argv == ("/venv/bin/python", "/srv/cgi/s.py")
    assert cmd.warning is not None and "python.exe" in cmd.warning
    assert "/venv/bin/python" in cmd.warning


@pytest.mark.parametrize("head", [
    b"#!/usr/local/bin/python3.13\n", b"#!/opt/py/bin/python\n",
    b"#!C:\\Python313\\pythonw.exe\n", b"#!/usr/local/bin/env python3\n",
])
def test_foreign_python_shebangs(head: bytes) -> None:
    cmd = plan(head)
    assert cmd.argv[0] == "/venv/bin/python" and cmd.warning


def test_foreign_python_keeps_options() -> None:
    assert plan(b"#!/nowhere/python3 -u\n").argv == ("/venv/bin/python", "-u", "/srv/cgi/s.py")


def test_missing_non_python_interpreter_is_an_error() -> None:
    with pytest.raises(LaunchError, match="/usr/bin/ruby.*does not exist"):
        plan(b"#!/usr/bin/ruby\n")


def test_no_shebang() -> None:
    assert plan(b"\x7fELF...", executable=True).argv == ("/srv/cgi/s.py",)
    with pytest.raises(LaunchError) as e:
        plan(b"print('x')\n", executable=False)
    assert str(e.value) == ("script has no #! line and is not executable, cannot run it: "
                            "/srv/cgi/s.py")


def test_python_names() -> None:
    for n in ("python", "python3", "python3.13", "python.exe", "pythonw.exe", "py.exe",
              "C:/x/Python313/python.exe"):
        assert is_python_name(n), n
    for n in ("perl", "sh", "pythonic", "ipython"):
        assert not is_python_name(n), n


def test_a_byte_order_mark_before_the_shebang_is_stepped_over_with_a_warning() -> None:
    """Notepad's "UTF-8" (issue 11): the kernel would say Exec format error."""
    cmd = plan(b"\xef\xbb\xbf#!/usr/bin/python3\r\nprint()\r\n")
    assert cmd.argv == ("/usr/bin/python3", "/srv/cgi/s.py")
    assert cmd.warning is not None and "byte order mark" in cmd.warning
    assert "without BOM" in cmd.warning
    both = plan(b"\xef\xbb\xbf#!C:/Python313/python.exe\r\n")
    assert both.argv == ("/venv/bin/python", "/srv/cgi/s.py")
    assert both.warning is not None and "python.exe" in both.warning and "BOM" in both.warning
    with pytest.raises(LaunchError):  # a BOM and no #! after it: still no way to run it
        plan(b"\xef\xbb\xbfprint()\n")
