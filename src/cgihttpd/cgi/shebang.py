"""How to start a script: its ``#!`` line, read by cgihttpd itself.

Owns the decision "which program, with which leading arguments" for one script file,
so that a script runs without the executable bit, with CRLF line endings, and with a
shebang written for another machine when that shebang clearly names a Python (the
course's ``#!C:/Users/.../Python313/python.exe`` on Linux, ``#!/usr/bin/python3`` on
Windows). Apache leaves this to the kernel's execve; the kernel would refuse all
three cases.

Pure: the first bytes of the file and the facts about the machine come in as values
(``exists``), a ``Command`` or a ``LaunchError`` comes out. Must not open files or
start processes (that is ``runner``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

#: Linux reads at most this much of a #! line (BINPRM_BUF_SIZE since 5.1).
SHEBANG_MAX: Final = 256

#: What Notepad writes before "UTF-8" text.
_BOM: Final = b"\xef\xbb\xbf"

_PYTHON_NAME = re.compile(r"^(?:python(?:\d+(?:\.\d+)*)?w?|py|pythonw?)(?:\.exe)?$", re.I)


@dataclass(frozen=True, slots=True)
class Command:
    """``argv`` to exec (the script path is the last element). ``warning`` is set when
    the #! line was replaced by the configured Python, or found after a byte order mark
    (log it once per script)."""

    argv: tuple[str, ...]
    warning: str | None = None


class LaunchError(Exception):
    """The script cannot be started; the message is the error-log line."""


def parse_shebang(head: bytes) -> tuple[str, str | None] | None:
    """``(interpreter, optional_argument)`` from the first line, or None without ``#!``.

    As Linux's binfmt_script: after ``#!`` and blanks, the interpreter runs to the next
    blank; the rest of the line, trimmed, is one single argument. A CR before the LF
    (a file saved on Windows) is not part of either.
    """
    if not head.startswith(b"#!"):
        return None
    line = head[2:SHEBANG_MAX].split(b"\n", 1)[0].rstrip(b"\r").strip(b" \t\r")
    if not line:
        return None
    text = line.decode("utf-8", "surrogateescape")
    parts = re.split(r"[ \t]+", text, maxsplit=1)
    interp = parts[0]
    arg = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
    return interp, arg


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def is_python_name(path: str) -> bool:
    """True for python, python3, python3.13, python.exe, pythonw.exe, py.exe..."""
    return bool(_PYTHON_NAME.match(_basename(path)))


def plan_command(
    script: str,
    head: bytes,
    *,
    executable: bool,
    exists: Callable[[str], bool],
    python: str,
) -> Command:
    """The argv that runs ``script`` whose file starts with ``head``.

    ``executable``: the file has an execute bit for us. ``exists``: whether a path
    names a runnable program here. ``python``: the configured Python
    (CGIPythonInterpreter, default the one running cgihttpd).
    """
    bom = head.startswith(_BOM + b"#!")
    parsed = parse_shebang(head[len(_BOM):] if bom else head)
    if bom and parsed is not None:
        # Notepad saves "UTF-8" with a byte order mark: the kernel then sees no #! and
        # answers "Exec format error" (Apache's 500). The line after it is clear enough
        # to follow; say once what to change.
        found = plan_command(script, head[len(_BOM):], executable=executable,
                             exists=exists, python=python)
        note = (f"{script} starts with a UTF-8 byte order mark before its #! line (as "
                "Notepad saves it); ran it anyway: save it as UTF-8 without BOM")
        return Command(found.argv, f"{found.warning}; {note}" if found.warning else note)
    if parsed is None:
        if executable:
            return Command((script,))
        raise LaunchError(
            f"script has no #! line and is not executable, cannot run it: {script}")
    interp, arg = parsed
    if exists(interp):
        return Command((interp, arg, script) if arg else (interp, script))
    # `#!/usr/bin/env python3` where there is no /usr/bin/env (Windows)
    env_python = _basename(interp).lower() in ("env", "env.exe") and arg is not None \
        and is_python_name(arg.split()[0])
    if is_python_name(interp) or env_python:
        opts: tuple[str, ...] = ()
        if arg is not None and not env_python and arg.startswith("-"):
            opts = (arg,)  # keep "#!python -u" style options
        warning = (f"#! interpreter '{interp}' of {script} does not exist here; "
                   f"running it with {python}")
        return Command((python, *opts, script), warning)
    raise LaunchError(
        f"#! interpreter '{interp}' of {script} does not exist, cannot run it")
