"""The request error family: ``HTTPError`` (a request ends with this status).
Configuration errors are the configuration layer's own (``cgihttpd.config.errors``).

No ``OSError`` crosses into a response unmapped: request-time code maps it to an
``HTTPError`` (ENOENT -> 404, EACCES -> 403, anything else -> 500).
"""

from __future__ import annotations

import errno


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
