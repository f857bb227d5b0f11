"""The log files: opened once at start, shared, written a line at a time, closed at exit.

Owns every ``ErrorLog`` and ``CustomLog`` target of a configuration (the main server's
and each virtual host's): files in append mode (created, never their directories),
``/dev/stdout`` and ``/dev/stderr`` (the process's own streams), and piped logs
(``"|command"``). Lines come formatted from ``logs.access`` and ``logs.error``; this module
must not know their layout.

Writes are plain blocking writes of one short line followed by a flush, as Apache's
default (unbuffered) log writer does: one ``write(2)`` per line to a local file or pipe,
which returns at once unless the disk or the pipe reader is stalled. A failed write is
reported once on stderr and never raised into a request.
"""

from __future__ import annotations

import errno
import os
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import IO

from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import LogTarget, ServerConfig, Source, VirtualHost
from cgihttpd.logs.access import LogFormatError, LogRecord, format_log_line, parse_log_format
from cgihttpd.logs.error import ErrorLog, LogLevel, LogLevelError
from cgihttpd.platform import windows_rules

_STD_STREAMS = {"/dev/stdout": "stdout", "/dev/stderr": "stderr"}


@dataclass(slots=True)
class _Stream:
    """One open destination, shared by every log that names it."""

    name: str
    file: IO[bytes]
    owned: bool  # False for the process's own stdout/stderr
    lock: threading.Lock = field(default_factory=threading.Lock)
    process: subprocess.Popen[bytes] | None = None
    failed: bool = False

    def write_line(self, line: str) -> None:
        data = (line + "\n").encode("utf-8", "replace")
        with self.lock:
            try:
                self.file.write(data)
                self.file.flush()
            except (OSError, ValueError) as exc:
                if not self.failed:
                    self.failed = True
                    # mod_log_config logs AH00646 "Error writing to %s"; our error log may
                    # be the very stream that failed, so stderr it is.
                    try:
                        sys.stderr.write(f"cgihttpd: error writing to {self.name}: {exc}\n")
                    except (OSError, ValueError):
                        pass


def _condition_holds(condition: str | None, env: dict[str, str]) -> bool:
    """CustomLog's ``env=NAME`` / ``env=!NAME`` (mod_log_config config_log_transaction)."""
    if condition is None:
        return True
    if condition[:4].lower() == "env=":
        name = condition[4:]
        if name.startswith("!"):
            return name[1:] not in env
        return name in env
    # expr= is not implemented: the loader warned; log unconditionally.
    return True


def log_file_path(server_root: str, target: str) -> str | None:
    """The file an ErrorLog/CustomLog target writes to (relative to ServerRoot), or None
    for a piped log, syslog or the process's own streams."""
    if target.startswith("|") or target.lower().startswith("syslog") or target in _STD_STREAMS:
        return None
    path = target if os.path.isabs(target) else os.path.join(server_root, target)
    return os.path.normpath(path)


def _error_log_what(vhost: VirtualHost) -> str:
    # Apache's names for the log in AH02291 (server/log.c open_error_log)
    return "main error log" if vhost.is_main else (
        f"error log of vhost defined at {vhost.source}")


def _custom_log_what(target: LogTarget) -> str:
    # ... and in AH02297 (mod_log_config open_config_log)
    return f"log file '{target.target}' defined at {target.source}"


def log_files(config: ServerConfig) -> list[tuple[str, str, Source]]:
    """Every log that is a file, as (path, what, source), in the order apache2 opens
    them: the error logs (the main server's first), then the CustomLogs."""
    out: list[tuple[str, str, Source]] = []
    servers = (config.main, *config.vhosts)
    for vhost in servers:
        path = log_file_path(config.server_root, vhost.error_log or "/dev/stderr")
        if path is not None:
            out.append((path, _error_log_what(vhost), vhost.source))
    for vhost in servers:
        for target in vhost.custom_logs:
            path = log_file_path(config.server_root, target.target)
            if path is not None:
                out.append((path, _custom_log_what(target), target.source))
    return out


def mkdir_command(directory: str, windows: bool) -> str:
    """The command that creates ``directory`` and its parents, in this system's shell
    (cmd's and PowerShell's ``mkdir`` both make the parents)."""
    if windows:
        # cmd reads an unquoted "/" as a switch; backslashes are what Windows shows
        return 'mkdir "' + directory.replace("/", "\\") + '"'
    return f"mkdir -p {shlex.quote(directory)}"


def check_log_directory(path: str, what: str, source: Source) -> None:
    """A log file is created but never its directory: a missing one is a ConfigError
    (Apache: AH02291/AH02297 "Cannot access directory ..."), to which we add the
    command that creates it (the course's first start fails just so)."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        missing = not os.path.exists(directory)
        reason = os.strerror(errno.ENOENT if missing else errno.ENOTDIR)
        hint = (f" (create it: {mkdir_command(directory, windows_rules())})"
                if missing else "")
        raise ConfigError(f"Cannot access directory '{directory}/' for {what}: "
                          f"{reason}{hint}", source)


def check_log_directories(config: ServerConfig) -> None:
    """What ``apache2 -t`` checks of the logs without opening them: the first log file
    whose directory is missing raises its ConfigError (Apache stops at the first)."""
    for path, what, source in log_files(config):
        check_log_directory(path, what, source)


def create_log_directories(config: ServerConfig) -> list[str]:
    """Dev mode's kindness where Apache refuses to start: make every missing log folder
    (with its parents) and say so, a line each. Folders that cannot be made are left
    for ``LogSet.open`` to report."""
    made: list[str] = []
    for path, _what, _source in log_files(config):
        directory = os.path.dirname(path) or "."
        if not os.path.exists(directory):
            try:
                os.makedirs(directory)
            except OSError:
                continue
            made.append(f"cgihttpd: created the missing log folder {directory} (dev mode; "
                        "Apache would refuse to start)")
    return made


class LogSet:
    """Every log of a configuration, open. Build with ``LogSet.open(config)``."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._errorlogs: dict[int, ErrorLog] = {}
        self._access: dict[int, list[tuple[LogTarget, _Stream]]] = {}
        self._vhosts: list[VirtualHost] = []
        self.warnings: list[str] = []
        self.main_errorlog: ErrorLog = ErrorLog(sys.stderr.buffer)

    # --- opening ---------------------------------------------------------------------

    @classmethod
    def open(cls, config: ServerConfig) -> LogSet:
        """Open the ErrorLog and CustomLog targets of the main server and every vhost.

        Raises ConfigError naming the directive's place if a log's directory is missing
        or a file cannot be opened (Apache: AH02291/AH02297, "Cannot access directory").
        Whatever was opened before the error is closed again.
        """
        logs = cls()
        try:
            for vhost in (config.main, *config.vhosts):
                logs._add_vhost(config, vhost)
        except BaseException:
            logs.close()
            raise
        logs.main_errorlog = logs._errorlogs[id(config.main)]
        return logs

    def _add_vhost(self, config: ServerConfig, vhost: VirtualHost) -> None:
        self._vhosts.append(vhost)
        stream = self._stream(config, vhost.error_log or "/dev/stderr",
                              _error_log_what(vhost), vhost.source)
        try:
            level = LogLevel.parse(vhost.log_level or "warn")
        except LogLevelError as exc:
            raise ConfigError(str(exc), vhost.source) from None
        self._errorlogs[id(vhost)] = ErrorLog(stream.file, level, lock=stream.lock,
                                              name=stream.name)
        targets: list[tuple[LogTarget, _Stream]] = []
        for target in vhost.custom_logs:
            try:
                parse_log_format(target.format)
            except LogFormatError as exc:
                raise ConfigError(str(exc), target.source) from None
            stream = self._stream(config, target.target, _custom_log_what(target),
                                  target.source)
            targets.append((target, stream))
        self._access[id(vhost)] = targets

    def _stream(self, config: ServerConfig, target: str, what: str, source: Source) -> _Stream:
        if target.startswith("|"):
            return self._pipe(target, source)
        if target.lower().startswith("syslog"):
            key = "syslog"
            if key not in self._streams:
                self.warnings.append(f"{source}: ErrorLog {target}: syslog is not supported; "
                                     "logging to stderr")
                self._streams[key] = _Stream("stderr", sys.stderr.buffer, owned=False)
            return self._streams[key]
        if target in _STD_STREAMS:
            key = _STD_STREAMS[target]
            if key not in self._streams:
                std = sys.stdout if key == "stdout" else sys.stderr
                self._streams[key] = _Stream(target, std.buffer, owned=False)
            return self._streams[key]
        path = log_file_path(config.server_root, target)
        assert path is not None
        key = os.path.realpath(path)
        if key in self._streams:
            return self._streams[key]
        check_log_directory(path, what, source)
        try:
            # Apache: APR_WRITE | APR_APPEND | APR_CREATE with APR_OS_DEFAULT (0666, then
            # the umask).
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            file = os.fdopen(fd, "ab", buffering=0)
        except OSError as exc:
            raise ConfigError(f"could not open {what} {path}: {exc.strerror}", source) from None
        stream = _Stream(path, file, owned=True)
        self._streams[key] = stream
        return stream

    def _pipe(self, target: str, source: Source) -> _Stream:
        # server/log.c: Apache 2.4 runs "|prog args" (and the 2.2 spelling "||prog")
        # without a shell, the words split as apr_tokenize_to_argv does; "|$cmd" runs
        # through /bin/sh -c.
        key = "pipe:" + target
        if key in self._streams:
            return self._streams[key]
        command = target[1:]
        if command.startswith("|"):
            command = command[1:]
        shell = command.startswith("$")
        if shell:
            command = command[1:]
        try:
            if shell:
                proc = subprocess.Popen(command.strip(), shell=True, stdin=subprocess.PIPE)
            else:
                proc = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"Couldn't start piped log process '{command.strip()}': "
                              f"{reason}", source) from None
        assert proc.stdin is not None
        stream = _Stream(target, proc.stdin, owned=True, process=proc)
        self._streams[key] = stream
        return stream

    # --- using ------------------------------------------------------------------------

    def errorlog_for(self, vhost: VirtualHost) -> ErrorLog:
        """The error log of ``vhost`` (the main server's if it is not one we opened)."""
        log = self._errorlogs.get(id(vhost))
        if log is None:
            for known in self._vhosts:
                if known == vhost:
                    return self._errorlogs[id(known)]
            return self.main_errorlog
        return log

    def access(self, vhost: VirtualHost, rec: LogRecord) -> None:
        """Write ``rec`` to every CustomLog of ``vhost`` whose condition holds."""
        targets = self._access.get(id(vhost))
        if targets is None:
            targets = next((self._access[id(k)] for k in self._vhosts if k == vhost), [])
        for target, stream in targets:
            if not _condition_holds(target.condition, rec.env):
                continue
            try:
                line = format_log_line(target.format, rec)
            except LogFormatError:  # checked at open; kept for formats changed later
                continue
            stream.write_line(line)

    def close(self) -> None:
        """Flush and close what we opened; piped loggers get EOF and a moment to exit."""
        for stream in self._streams.values():
            with stream.lock:
                try:
                    stream.file.flush()
                    if stream.owned:
                        stream.file.close()
                except (OSError, ValueError):
                    pass
            if stream.process is not None:
                try:
                    stream.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    stream.process.kill()
                    stream.process.wait()
        self._streams.clear()
