"""Error-log lines in Apache 2.4's default layout, and ``LogLevel`` filtering.

Owns the line format (server/log.c ``do_errorlog_default``), the escaping of messages
(server/util.c ``ap_escape_errorlog_item``) and the meaning of ``LogLevel`` (core.c
``set_loglevel``). ``ErrorLog`` is the writer every request-time module logs through
(the ``ErrorLogger`` protocol of ``exchange``); it is handed a binary stream by
``logs.writer`` and must not know where the stream goes.

What Debian's Apache 2.4.71 (mpm_event) writes for a 404 at LogLevel info:

    [Thu Nov 26 16:51:52.851624 2026] [core:info] [pid 6976:tid 6994] [client 127.0.0.1:47242] AH00128: File does not exist: /tmp/h4ap/docs/nope, referer: http://x/"y
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from cgihttpd.config.errorformat import Item

#: Apache's levels, most severe first (http_log.h APLOG_EMERG..APLOG_TRACE8).
LEVELS: tuple[str, ...] = (
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8",
)
_RANK = {name: i for i, name in enumerate(LEVELS)}
#: core.c: the default LogLevel is warn.
DEFAULT_LEVEL = "warn"
#: MAX_STRING_LEN: Apache formats a message into a buffer of this size.
MAX_MESSAGE = 8192

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# ap_escape_errorlog_item: as ap_escape_logitem, but a double quote is kept (it
# delimits nothing in the error log).
_NAMED = {0x08: "\\b", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v", 0x5C: "\\\\"}
_TABLE: tuple[str, ...] = tuple(
    _NAMED.get(b, f"\\x{b:02x}") if (b < 0x20 or b >= 0x7F or b == 0x5C) else chr(b)
    for b in range(256)
)


def escape_errorlog_item(message: str) -> str:
    """A message as Apache writes it: control and 8-bit bytes as ``\\xhh``, newlines as
    ``\\n``, backslashes doubled; never a line break."""
    if message.isascii() and message.isprintable() and "\\" not in message:
        return message
    try:
        data = message.encode("latin-1")
    except UnicodeEncodeError:
        data = message.encode("utf-8", "surrogateescape")
    return "".join([_TABLE[b] for b in data])


def error_ctime(when: float) -> str:
    """``Thu Nov 26 16:45:08.123456 2026`` in local time (ap_recent_ctime_ex with
    AP_CTIME_OPTION_USEC; the day of the month is zero-padded)."""
    us = int(round(when * 1_000_000))
    secs, frac = divmod(us, 1_000_000)
    tm = time.localtime(secs)
    return (f"{_DAYS[tm.tm_wday]} {_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:02d} "
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}.{frac:06d} {tm.tm_year}")


_ERRNO_PREFIX = re.compile(r"\(-?\d+\)[^:\[]*: ")


def format_error_line(when: float, module: str, level: str, pid: int, tid: int | None,
                      client: tuple[str, int] | None, message: str, *,
                      referer: str | None = None) -> str:
    """One error-log line without its line end, in Apache 2.4's default layout:
    ``[time] [module:level] [pid N:tid M] [client IP:PORT] message, referer: R``.

    ``tid`` None leaves out ``:tid`` (Apache does so under a non-threaded MPM).
    """
    parts = [f"[{error_ctime(when)}] [{module}:{level}] [pid {pid}"]
    if tid is not None:
        parts.append(f":tid {tid}")
    parts.append("] ")
    if client is not None:
        # the default ErrorLogFormat puts the failure ("%E: ", a Note's "(errno)text: "
        # prefix) before the client: "[pid 1] (70008)Partial...: [client a:p] AH01270"
        m = _ERRNO_PREFIX.match(message)
        if m:
            parts.append(escape_errorlog_item(m.group(0)))
            message = message[m.end():]
        parts.append(f"[client {client[0]}:{client[1]}] ")
    parts.append(escape_errorlog_item(message[:MAX_MESSAGE]))
    if referer:
        # log_header: the Referer is escaped as a log item would be.
        parts.append(", referer: " + escape_errorlog_item(referer))
    return "".join(parts)


# --- LogLevel --------------------------------------------------------------------------


class LogLevelError(ValueError):
    """A LogLevel argument Apache refuses."""


def _module_key(name: str) -> str:
    """Apache accepts ``cgi``, ``mod_cgi.c`` and ``cgi_module`` for one module."""
    key = name.lower()
    if key.endswith(".c"):
        key = key[:-2]
    if key.startswith("mod_"):
        key = key[4:]
    if key.endswith("_module"):
        key = key[: -len("_module")]
    return key


@dataclass(frozen=True, slots=True)
class LogLevel:
    """A parsed ``LogLevel``: the default level and per-module overrides."""

    level: str = DEFAULT_LEVEL
    modules: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str, base: LogLevel | None = None) -> LogLevel:
        """``"warn"``, ``"warn cgi:info"``, ``"cgi:debug"`` (module only: the default
        level is inherited from ``base``). Raises LogLevelError."""
        base = base or cls()
        level = base.level
        modules = dict(base.modules)
        for word in spec.split():
            if ":" in word:
                mod, _, lvl = word.rpartition(":")
                lvl = lvl.lower()
                if lvl not in _RANK:
                    raise LogLevelError(f"LogLevel requires level keyword: one of {', '.join(LEVELS)}")
                if not mod:
                    raise LogLevelError("LogLevel: module name missing")
                modules[_module_key(mod)] = lvl
            else:
                lvl = word.lower()
                if lvl not in _RANK:
                    raise LogLevelError(f"LogLevel requires level keyword: one of {', '.join(LEVELS)}")
                level = lvl
        return cls(level, modules)

    def enabled(self, level: str, module: str) -> bool:
        """Whether a message of ``level`` from ``module`` is written."""
        limit = self.modules.get(_module_key(module), self.level)
        return _RANK.get(level.lower(), 0) <= _RANK[limit]


# --- the writer ------------------------------------------------------------------------


class ErrorLog:
    """An ``ErrorLogger`` writing Apache-layout lines to a binary stream, one write and
    one flush per line (so a line is never held in a buffer, and never torn)."""

    def __init__(self, stream: IO[bytes], level: LogLevel | str = DEFAULT_LEVEL, *,
                 lock: threading.Lock | None = None, name: str = "",
                 items: tuple[Item, ...] | None = None, server_name: str = "") -> None:
        #: ErrorLogFormat's items (None: Apache's default layout) and %v
        self.items = items
        self.server_name = server_name
        self.stream = stream
        self.level = level if isinstance(level, LogLevel) else LogLevel.parse(level)
        self.name = name
        self._lock = lock or threading.Lock()
        self.failed = False

    def enabled(self, level: str, module: str = "core") -> bool:
        return self.level.enabled(level, module)

    def log(self, level: str, module: str, message: str,
            client: tuple[str, int] | None = None, *, referer: str | None = None) -> None:
        if not self.level.enabled(level, module):
            return
        if self.items is not None:
            self.log_formatted(level, module, message, client)
            return
        line = format_error_line(time.time(), module, level.lower(), os.getpid(),
                                 threading.get_native_id(), client, message, referer=referer)
        self.write_line(line)

    def log_formatted(self, level: str, module: str, message: str,
                      client: tuple[str, int] | None, request: RequestErrorLog | None = None
                      ) -> None:
        """Write a message in ErrorLogFormat's layout (nothing if a ``+`` item is
        empty); ``request``: the request it is logged for."""
        # imported here: errorformat builds on this module's time and escaping
        from cgihttpd.logs.errorformat import ErrorInfo, format_error_message

        assert self.items is not None
        info = ErrorInfo(time.time(), level.lower(), module, os.getpid(),
                         threading.get_native_id(), message, client,
                         server_name=self.server_name)
        if request is not None:
            info = ErrorInfo(info.when, info.level, module, info.pid, info.tid, message,
                             client, request.local, self.server_name, request.headers,
                             request.env, request.host)
        line = format_error_message(self.items, info)
        if line is not None:
            self.write_line(line)

    def for_request(self, referer: str | None, *, headers: Sequence[tuple[str, str]] = (),
                    env: Mapping[str, str] | None = None, host: str = "",
                    local: tuple[str, int] | None = None) -> RequestErrorLog:
        """This log as seen by one request: Apache appends ``, referer: R`` to every
        message logged for a request that carried a Referer (log.c, log_header); an
        ErrorLogFormat reads the request's fields, variables and host instead."""
        return RequestErrorLog(self, referer, headers, env if env is not None else {}, host, local)

    def write_line(self, line: str) -> None:
        """Write one preformatted line; a failing stream never raises into a request."""
        data = (line + "\n").encode("utf-8", "replace")
        with self._lock:
            try:
                self.stream.write(data)
                self.stream.flush()
            except (OSError, ValueError):
                # ValueError: the stream was closed under us (shutdown). Apache ignores
                # failed error-log writes too; ``failed`` lets a caller notice.
                self.failed = True


class RequestErrorLog:
    """An ``ErrorLogger`` bound to one request (see ``ErrorLog.for_request``)."""

    __slots__ = ("base", "referer", "headers", "env", "host", "local")

    def __init__(self, base: ErrorLog, referer: str | None,
                 headers: Sequence[tuple[str, str]] = (),
                 env: Mapping[str, str] | None = None, host: str = "",
                 local: tuple[str, int] | None = None) -> None:
        self.base = base
        self.referer = referer
        self.headers = headers
        self.env = env if env is not None else {}
        self.host = host
        self.local = local

    def enabled(self, level: str, module: str = "core") -> bool:
        return self.base.enabled(level, module)

    def log(self, level: str, module: str, message: str,
            client: tuple[str, int] | None = None) -> None:
        base = self.base
        if base.items is None or not base.level.enabled(level, module):
            base.log(level, module, message, client, referer=self.referer)
            return
        base.log_formatted(level, module, message, client, self)
