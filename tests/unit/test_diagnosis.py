"""The dev-mode diagnosis as a pure function: what a failed run's facts become, and
its page (everything the script wrote escaped)."""

from __future__ import annotations

from cgihttpd.cgi.devpage import explain_refusal, render_page, render_tail
from cgihttpd.cgi.diagnosis import (
    ScriptInfo,
    diagnose,
    parse_traceback,
    split_stdout,
)

INFO = ScriptInfo("/site/index.py", ("/usr/bin/python3", "/site/index.py"), None, 5.0, "/")

TRACEBACK = b"""Traceback (most recent call last):
  File "/site/index.py", line 7, in <module>
    main()
  File "/site/index.py", line 4, in main
    x = 1 / 0
        ~~^~~
ZeroDivisionError: division by zero
"""

SYNTAX = b"""  File "/site/index.py", line 3
    if True
           ^
SyntaxError: expected ':'
"""


def test_traceback_frames_and_exception() -> None:
    frames, exc = parse_traceback(TRACEBACK.decode())
    assert [(f.line, f.function, f.code) for f in frames] == [
        (7, "<module>", "main()"), (4, "main", "x = 1 / 0")]
    assert exc == "ZeroDivisionError: division by zero"


def test_syntax_error_location_is_a_frame() -> None:
    frames, exc = parse_traceback(SYNTAX.decode())
    assert [(f.line, f.code) for f in frames] == [(3, "if True")]
    assert exc == "SyntaxError: expected ':'"


def test_the_last_traceback_wins() -> None:
    frames, exc = parse_traceback("warning: x\n" + TRACEBACK.decode() + SYNTAX.decode())
    assert exc.startswith("SyntaxError")


def test_stdout_lines_mark_the_bad_one() -> None:
    lines, truncated = split_stdout(b"Content-Type: text/html\r\n<h1>Hi</h1>\n", "<h1>Hi</h1>")
    assert [(x.number, x.bad) for x in lines] == [(1, False), (2, True)]
    assert lines[0].text == "Content-Type: text/html\r"
    assert not truncated
    assert split_stdout(b"x" * 10, None, limit=4)[1]


def test_exception_before_headers() -> None:
    d = diagnose(INFO, "no-headers", returncode=1, stderr=TRACEBACK)
    assert d.title == "The script raised an exception before it printed its headers"
    assert "line 4 of /site/index.py (x = 1 / 0)" in d.advice
    assert d.exit == "exit status 1" and d.interpreter == "/usr/bin/python3"


def test_removed_module_points_to_the_helper() -> None:
    err = (b'Traceback (most recent call last):\n  File "/site/f.py", line 2, in <module>\n'
           b"    import cgitb\nModuleNotFoundError: No module named 'cgitb'\n")
    d = diagnose(INFO, "no-headers", returncode=1, stderr=err)
    assert "'cgitb' does not exist" in d.title
    assert "cgihttpd_script" in d.advice
    # another missing module is an ordinary exception
    other = err.replace(b"cgitb", b"numpy")
    assert "cgihttpd_script" not in diagnose(INFO, "no-headers", stderr=other).advice


def test_body_first_and_missing_blank_line() -> None:
    first = diagnose(INFO, "malformed", stdout=b"<h1>x</h1>\nContent-Type: text/html\n\n",
                     bad_line="<h1>x</h1>")
    assert first.title == "The script printed its body before its headers"
    later = diagnose(INFO, "malformed", stdout=b"Content-Type: text/html\n<h1>x</h1>\n",
                     bad_line="<h1>x</h1>")
    assert later.title == "There is no empty line between the headers and the body"
    assert "(before line 2)" in later.advice


def test_signal_timeout_and_silence() -> None:
    assert diagnose(INFO, "died", returncode=-9).exit == "killed by signal 9"
    assert "stopped by the server" in diagnose(INFO, "timeout").exit
    silent = diagnose(INFO, "no-headers", returncode=0)
    assert silent.title == "The script printed nothing"
    assert "exit status 2" in diagnose(INFO, "no-headers", returncode=2).title


def test_page_escapes_what_the_script_wrote() -> None:
    evil = b"<script>alert(1)</script>"
    d = diagnose(INFO, "malformed", stdout=evil + b"\n", stderr=evil,
                 bad_line=evil.decode())
    for page in (render_page(d), render_tail(d)):
        assert evil not in page
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page
    page = explain_refusal("not-found", "/x/<i>.py", "/<i>.py", status=404)
    assert b"<i>" not in page and b"There is no script at this address" in page
