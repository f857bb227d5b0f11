"""The two error families: ``HTTPError`` for requests, ``ConfigError`` for configuration.

No ``OSError`` crosses into a response unmapped: request-time code maps it to an
``HTTPError`` (ENOENT -> 404, EACCES -> 403, anything else -> 500).
"""

from __future__ import annotations

import errno

from cgihttpd.config.model import Source


class ConfigError(Exception):
    """A configuration problem at a file and line: printed as ``FILE:LINE: message``."""

    def __init__(self, message: str, source: Source | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        if self.source is None:
            return self.message
        return f"{self.source.file}:{self.source.line}: {self.message}"


class ConfigErrors(Exception):
    """Every error found while loading a configuration (``-t`` prints them all)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class HTTPError(Exception):
    """A request ends with this status; ``reason`` goes to the error log if set."""

    def __init__(self, status: int, reason: str | None = None, *,
                 headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(reason or str(status))
        self.status = status
        self.reason = reason
        self.headers = headers


def http_error_from_oserror(exc: OSError, what: str) -> HTTPError:
    """Map a filesystem error met while serving ``what`` to the status Apache gives."""
    if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
        return HTTPError(404, f"File does not exist: {what}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return HTTPError(403, f"Permission denied: {what}")
    return HTTPError(500, f"{exc.strerror or exc}: {what}")
