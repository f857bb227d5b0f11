"""ScriptLog: mod_cgi/mod_cgid's debugging log of script runs that failed.

Owns the layout of an entry (modules/generators/mod_cgid.c and mod_cgi.c
``log_script``; cgi_common.h ``log_scripterror``) and the ScriptLogLength bound:
Apache opens the file for each entry and writes nothing once the file is larger than
ScriptLogLength (default 10385760 bytes). An entry::

    %% [Thu Nov 26 17:38:31 2026] POST /bad.py?q=1 HTTP/1.1
    %% 500 /srv/htdocs/bad.py
    %request
    Host: vh.example
    Content-Length: 5

    hello                      <- the first ScriptLogBuffer bytes of a POST/PUT body
    %response
    This is not a header       <- the header line that failed, if any
    %stdout
    ...the rest of stdout...

Under mod_cgi every line a script writes to stderr also gets an entry of its own
("%error" and the line, with the status of the moment, 200 while the script runs), as
it is logged (checked with apache2 2.4.71: log_script_err -> log_scripterror); so no
"%stderr" section is left for log_script to show. mod_cgid's scripts have no stderr
pipe there at all.

The date is apr_ctime's, in local time. Formatting is pure (values in, bytes out);
``append_entry`` is the only function that touches the file. ``ScriptLogger`` is what
the handler holds for one run: it keeps the head of the request body and writes the
run's entries, and does nothing at all where ScriptLog is unset. Must not know about
processes or the HTTP connection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cgihttpd.config.model import VirtualHost
from cgihttpd.request import Request
from cgihttpd.target import Target

#: mod_cgi.c / mod_cgid.c DEFAULT_LOGBYTES and DEFAULT_BUFBYTES
DEFAULT_LOG_LENGTH: Final = 10385760
DEFAULT_LOG_BUFFER: Final = 1024

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """The request line parts and outcome an entry starts with."""

    when: float
    method: str
    #: r->uri: the decoded path of the request being served
    uri: str
    #: r->args: None when the request had no "?"
    query: str | None
    protocol: str
    status: int
    filename: str


def script_run(request: Request, target: Target, status: int, when: float) -> ScriptRun:
    """The entry's facts for ``request`` served by ``target``."""
    return ScriptRun(when=when, method=request.method,
                     uri=target.url_path + target.path_info,
                     query=request.query if "?" in request.raw_target else None,
                     protocol=request.protocol, status=status, filename=target.filename)


def apr_ctime(when: float) -> str:
    """"Thu Nov 26 17:38:31 2026" in local time, English names whatever the locale."""
    t = time.localtime(when)
    return (f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {t.tm_year}")


def _head(run: ScriptRun) -> str:
    args = "" if run.query is None else "?" + run.query
    return (f"%% [{apr_ctime(run.when)}] {run.method} {run.uri}{args} {run.protocol}\n"
            f"%% {run.status} {run.filename}\n")


def merged_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """r->headers_in: a repeated field once, its values joined with ", " (protocol.c)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        key = name.lower()
        if key in out:
            out[key][1].append(value)
        else:
            out[key] = (name, [value])
    return [(name, ", ".join(values)) for name, values in out.values()]


def format_script_entry(run: ScriptRun, *, headers_in: Iterable[tuple[str, str]],
                        body: bytes, failed_line: str, stdout: bytes) -> bytes:
    """log_script: a run whose header block failed (or timed out). ``body``: the first
    ScriptLogBuffer bytes of the request body."""
    text = _head(run) + "%request\n"
    text += "".join(f"{k}: {v}\n" for k, v in merged_headers(headers_in))
    out = text.encode("latin-1", "replace")
    # dbuf is a C string: shown up to its first NUL, only for POST and PUT
    shown = body.split(b"\0", 1)[0]
    if run.method in ("POST", "PUT") and shown:
        out += b"\n" + shown + b"\n"
    out += b"%response\n"
    if failed_line:
        out += failed_line.encode("latin-1", "replace") + b"\n"
    if stdout:
        out += b"%stdout\n" + stdout + b"\n"
    return out


def format_error_entry(run: ScriptRun, error: str) -> bytes:
    """log_scripterror: a script that could not run (exec failed, no #! line), or one
    line of a script's stderr (mod_cgi)."""
    return (_head(run) + f"%error\n{error}\n").encode("latin-1", "replace")


def log_script_error(path: str | None, limit: int, run: ScriptRun, error: str) -> None:
    """log_scripterror's entry, when ScriptLog is set (``path``)."""
    if path:
        append_entry(path, limit, format_error_entry(run, error))


def append_entry(path: str, limit: int, entry: bytes) -> None:
    """Append ``entry`` unless the log is already larger than ``limit`` (ScriptLogLength);
    a log that cannot be opened is skipped, as Apache does."""
    try:
        if os.stat(path).st_size > limit:
            return
    except OSError:
        pass
    try:
        with open(path, "ab") as f:
            f.write(entry)
    except OSError:
        return


class ScriptLogger:
    """One run's ScriptLog: what the handler tells it (the request body as it goes to
    the script, each stderr line, a failed run). This base class writes nothing: it
    is the logger of every run where ScriptLog is unset (``script_logger``), so that a
    run costs nothing here then."""

    __slots__ = ()

    #: how much of the rest of stdout a failed run's entry shows (ScriptLogLength)
    stdout_kept: int = 0
    #: every stderr line is an entry (mod_cgi): a failed run's entry waits for them
    logs_stderr: bool = False

    def keep_body(self, data: bytes) -> None:
        """Request body bytes on their way to the script (the first ScriptLogBuffer
        of them are shown)."""

    def log_script(self, status: int, failed_line: str = "", stdout: bytes = b"") -> None:
        """log_script: the entry of a run whose header block failed (or timed out), or
        that was answered 304/412."""

    def log_script_error(self, status: int, error: str) -> None:
        """log_scripterror: the entry of a script that could not run."""

    def log_stderr_line(self, status: int, line: str) -> None:
        """mod_cgi log_script_err: a stderr line, with the status of the moment."""


class FileScriptLogger(ScriptLogger):
    """ScriptLog set: entries appended to its file (``append_entry``)."""

    __slots__ = ("path", "limit", "buffer", "request", "target", "body_head",
                 "stdout_kept", "logs_stderr")

    def __init__(self, path: str, limit: int, buffer: int, request: Request,
                 target: Target, *, stderr_entries: bool) -> None:
        self.path = path
        self.limit = limit
        self.buffer = buffer
        self.request = request
        self.target = target
        self.body_head = bytearray()
        self.stdout_kept = limit
        self.logs_stderr = stderr_entries

    def _run(self, status: int) -> ScriptRun:
        return script_run(self.request, self.target, status, time.time())

    def keep_body(self, data: bytes) -> None:
        if len(self.body_head) < self.buffer:
            self.body_head += data[: self.buffer - len(self.body_head)]

    def log_script(self, status: int, failed_line: str = "", stdout: bytes = b"") -> None:
        entry = format_script_entry(
            self._run(status), headers_in=self.request.headers,
            body=bytes(self.body_head), failed_line=failed_line, stdout=stdout)
        append_entry(self.path, self.limit, entry)

    def log_script_error(self, status: int, error: str) -> None:
        append_entry(self.path, self.limit, format_error_entry(self._run(status), error))

    def log_stderr_line(self, status: int, line: str) -> None:
        if self.logs_stderr:
            self.log_script_error(status, line)


#: The logger of a run without ScriptLog: stateless, so one serves every run.
NO_SCRIPT_LOG: Final = ScriptLogger()


def script_logger(vhost: VirtualHost, request: Request, target: Target, *,
                  stderr_entries: bool) -> ScriptLogger:
    """The ScriptLog of one run of ``target`` for ``request`` under ``vhost``'s
    ScriptLog, ScriptLogLength and ScriptLogBuffer. ``stderr_entries``: each stderr
    line is an entry of its own (mod_cgi; mod_cgid's scripts have no stderr there)."""
    if not vhost.script_log:
        return NO_SCRIPT_LOG
    return FileScriptLogger(vhost.script_log, vhost.script_log_length,
                            vhost.script_log_buffer, request, target,
                            stderr_entries=stderr_entries)
