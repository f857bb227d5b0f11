"""What went wrong with a script, in words a learner can act on (dev mode).

Owns the diagnosis only: from what is known of one failed run (the script and the
interpreter that ran it, its exit status, its stderr, the first bytes of its stdout and
what the header parser said) to a ``Diagnosis``: a title, one sentence saying what to
change, the Python traceback's frames, stdout's head cut into lines with the bad one
marked. Pure: no IO, no HTML (``cgi.devpage`` renders it), no process or HTTP.

The kinds of failure (``Problem``) are the ones the server sees: the header block was
unusable (the parser's ``ErrorKind``), the script ran too long, it could not be
started, it died after its headers, or the request never reached it (not found,
ExecCGI off). Within a kind, stderr and stdout tell the cases apart: a Python
traceback names the exception; a first stdout line without ':' is a body printed
before the headers; a bad line after good header lines is a missing empty line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

#: How much of stdout the page shows (and the handler keeps): enough for a page's head.
STDOUT_HEAD: Final = 4096
#: How much of stderr is kept for the page; a traceback is far shorter.
STDERR_KEPT: Final = 64 << 10

Problem = Literal[
    "no-headers",  # output ended before any header line ("End of script output...")
    "premature",  # output ended inside the header block
    "malformed",  # a header line without ':'
    "bad-status",  # an unusable Status header
    "bad-name",  # a header name that is not a token
    "timeout",  # no output for the script timeout
    "launch",  # could not be started (no #!, missing interpreter, exec failed)
    "died",  # ended by a signal or a traceback after its headers
    "not-found",  # the URL names no file
    "execcgi-off",  # a script in a folder without Options +ExecCGI
    "as-text",  # a script sent as text: no handler runs it here
]

#: Python modules removed in 3.13 (PEP 594) that CGI courses import.
REMOVED_MODULES: Final = frozenset({"cgi", "cgitb"})

HELPER_HINT: Final = ("from cgihttpd_script import cgi_compat as cgi (install it with: "
                      "pip install ./helper from cgihttpd's source)")


@dataclass(frozen=True, slots=True)
class ScriptInfo:
    """The script and how it was run. ``argv``: the command (interpreter first, the
    script last), empty when it was never started. ``warning``: what the #! line
    planning said (a byte order mark, a foreign interpreter replaced)."""

    path: str
    argv: tuple[str, ...] = ()
    warning: str | None = None
    timeout: float = 0.0
    url: str = ""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a Python traceback: where, and the line's code."""

    file: str
    line: int
    function: str
    code: str


@dataclass(frozen=True, slots=True)
class StdoutLine:
    number: int
    text: str
    bad: bool


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What the dev page shows. ``advice``: the one sentence saying what to change."""

    problem: Problem
    title: str
    advice: str
    script: str
    interpreter: str
    exit: str
    frames: tuple[Frame, ...] = ()
    #: the exception's last line ("NameError: name 'x' is not defined"), or ""
    exception: str = ""
    stderr: str = ""
    stdout: tuple[StdoutLine, ...] = ()
    stdout_truncated: bool = False
    notes: tuple[str, ...] = ()
    #: what ``stdout`` holds when it is not the script's output (the file's source)
    stdout_title: str = ""

    def summary(self) -> str:
        """One line for the error log / console."""
        return f"{self.script}: {self.title}. {self.advice}"


_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line (?P<line>\d+)(?:, in (?P<fn>.*))?$')
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|"
                        r"Warning|Iteration)?)(?:: (?P<msg>.*))?$")
_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '(?P<mod>[\w.]+)'")


def parse_traceback(stderr: str) -> tuple[tuple[Frame, ...], str]:
    """The frames and the exception line of the last Python traceback in ``stderr``
    (a SyntaxError's location, which has no "in", counts as a frame)."""
    lines = stderr.splitlines()
    start = None
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):") or (
                _FRAME.match(line) and (i == 0 or not lines[i - 1].startswith("  "))):
            start = i
    if start is None:
        return (), ""
    frames: list[Frame] = []
    exception = ""
    i = start
    while i < len(lines):
        line = lines[i]
        m = _FRAME.match(line)
        if m:
            code = ""
            if i + 1 < len(lines) and lines[i + 1].startswith("    ") \
                    and not _FRAME.match(lines[i + 1]):
                code = lines[i + 1].strip()
                i += 1
            frames.append(Frame(m["file"], int(m["line"]), m["fn"] or "", code))
        elif line and not line.startswith(" ") and not line.startswith("Traceback") \
                and _EXCEPTION.match(line):
            exception = line
        i += 1
    return tuple(frames), exception


def split_stdout(head: bytes, bad_line: str | None, limit: int = STDOUT_HEAD,
                 ) -> tuple[tuple[StdoutLine, ...], bool]:
    """stdout's first ``limit`` bytes as lines (decoded leniently, the CR kept visible
    as Apache drops it), the one equal to ``bad_line`` marked."""
    shown = head[:limit]
    text = shown.decode("utf-8", "replace")
    out: list[StdoutLine] = []
    marked = False
    for n, raw in enumerate(text.split("\n"), 1):
        if n > 1 and raw == "" and n == len(text.split("\n")):
            break  # the newline ending the last line is not a line of its own
        bad = (not marked and bad_line is not None
               and raw.replace("\r", "") == bad_line.replace("\r", ""))
        marked = marked or bad
        out.append(StdoutLine(n, raw, bad))
    return tuple(out), len(head) > limit


def describe_exit(returncode: int | None, problem: Problem, timeout: float) -> str:
    if problem == "timeout":
        return f"still running after {timeout:g} s without output: stopped by the server"
    if returncode is None:
        return "not known (it was not started, or had not ended)"
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def diagnose(info: ScriptInfo, problem: Problem, *, returncode: int | None = None,
             stderr: bytes = b"", stdout: bytes = b"", bad_line: str | None = None,
             message: str = "", stdout_title: str = "") -> Diagnosis:
    """The explanation of one failed run. ``bad_line``: the header line the parser
    refused; ``message``: what the server logged (Apache's words, or the launch error)."""
    err = stderr[:STDERR_KEPT].decode("utf-8", "replace")
    frames, exception = parse_traceback(err)
    lines, truncated = split_stdout(stdout, bad_line)
    interpreter = info.argv[0] if len(info.argv) > 1 else (
        "the file itself (no #! line: run as a program)" if info.argv else "none")
    title, advice = _explain(info, problem, returncode, frames, exception, lines,
                             bad_line, message)
    notes = (info.warning,) if info.warning else ()
    return Diagnosis(problem, title, advice, info.path, interpreter,
                     describe_exit(returncode, problem, info.timeout), frames, exception,
                     err, lines, truncated, notes, stdout_title)


def _where(frames: tuple[Frame, ...]) -> str:
    if not frames:
        return ""
    f = frames[-1]
    return f" at line {f.line} of {f.file}" + (f" ({f.code})" if f.code else "")


def _explain(info: ScriptInfo, problem: Problem, rc: int | None, frames: tuple[Frame, ...],
             exception: str, lines: tuple[StdoutLine, ...], bad_line: str | None,
             message: str) -> tuple[str, str]:
    """(title, advice) for the case at hand: the most specific first."""
    removed = _NO_MODULE.match(exception)
    if removed and removed["mod"].split(".")[0] in REMOVED_MODULES:
        mod = removed["mod"]
        return (f"The module '{mod}' does not exist in this Python: it was removed in "
                "Python 3.13",
                f"Replace 'import {mod}' with {HELPER_HINT}; FieldStorage, getvalue, "
                "getfirst and getlist work as before.")
    if exception.startswith(("SyntaxError", "IndentationError", "TabError")):
        return ("The script has a syntax error: Python could not read it, so nothing ran",
                f"Fix the line Python points to{_where(frames)}: {exception}.")
    if problem == "died":
        return ("The script failed after it had printed its headers: the page is cut "
                "short",
                f"Fix the error{_where(frames)}: {exception or 'see stderr below'}.")
    if problem == "timeout":
        return (f"The script printed nothing for {info.timeout:g} seconds and was stopped",
                "Look for a loop that never ends (while True without a break), or a "
                "read of input the browser never sends; then reload.")
    if problem == "launch":
        return _launch(info, message)
    if problem == "not-found":
        return ("There is no script at this address",
                f"Create {info.path}, or check the spelling of the URL {info.url} "
                "(names are case-sensitive).")
    if problem == "execcgi-off":
        return ("Scripts may not run in this folder: Options ExecCGI is off",
                "Add 'Options +ExecCGI' to the <Directory> block of this folder in "
                "httpd.conf (or in a .htaccess file if AllowOverride allows it).")
    if problem == "as-text":
        return ("This script was sent to the browser as text instead of being run",
                "Tell the server to run such files: 'AddHandler cgi-script .py' (with "
                "'Options +ExecCGI') in the <Directory> block of this folder.")
    if exception and problem in ("no-headers", "premature", "malformed"):
        return ("The script raised an exception before it printed its headers",
                f"Fix the error{_where(frames)}: {exception}.")
    if problem == "no-headers":
        if rc not in (None, 0):
            return (f"The script ended with exit status {rc} without printing anything",
                    "Look at its stderr below (an error, sys.exit with a code?), and "
                    "print a Content-Type header, an empty line, then the body.")
        return ("The script printed nothing",
                "Print at least a header and an empty line: print(\"Content-Type: "
                "text/html\"), then print(), then the body.")
    if problem == "premature":
        return ("The script's output ended inside its headers: no empty line after them",
                "Print an empty line (print()) after the last header, then the body.")
    if problem == "malformed":
        first = lines[0].bad if lines else False
        if first:
            return ("The script printed its body before its headers",
                    "Print the headers first: print(\"Content-Type: text/html\") and "
                    "an empty line (print()) before the first line of the body.")
        number = next((x.number for x in lines if x.bad), None)
        at = f" (before line {number})" if number else ""
        return ("There is no empty line between the headers and the body",
                f"Add print() after the last header{at}: the empty line is what ends "
                "the headers.")
    if problem == "bad-name":
        return ("A header's name is not valid",
                f"Header names are letters, digits and '-' only ({bad_line or message}); "
                "check the line marked below, or add the missing empty line before "
                "the body.")
    if problem == "bad-status":
        return ("The Status header is not valid",
                "Write it as 'Status: 404 Not Found': a three-digit code, then the "
                "reason.")
    return ("The script failed", message or "See its stderr below.")


def _launch(info: ScriptInfo, message: str) -> tuple[str, str]:
    if "no #! line" in message:
        return ("The script has no #! line, so the server does not know what runs it",
                "Make its first line name the interpreter, e.g. #!/usr/bin/env python3 "
                "(or the course's #!C:/.../python.exe).")
    if "does not exist" in message:
        return ("The interpreter named on the #! line does not exist here",
                f"Change the first line to a Python that exists ({message}).")
    return ("The script could not be started",
            f"{message}. Check its first line (#!) and that the interpreter exists.")
