"""The request error family: ``HTTPError`` (a request ends with this status).
Configuration errors are the configuration layer's own (``cgihttpd.config.errors``).

No ``OSError`` crosses into a response unmapped: request-time code maps it to an
``HTTPError`` (ENOENT -> 404, EACCES -> 403, anything else -> 500).
"""

from __future__ import annotations

import errno

from cgihttpd.messages import Note, plain


class HTTPError(Exception):
    """A request ends with this status. ``note``: the error-log line it carries (module,
    level, text: ``messages``), written by whoever answers it; a plain string is a
    ``core:error`` line. None: nothing to log (already logged, or nothing to say).
    ``page``: an HTML page (UTF-8) to send instead of Apache's (dev mode's
    explanation of a failed script, ``cgi.devpage``)."""

    def __init__(self, status: int, note: Note | str | None = None, *,
                 headers: tuple[tuple[str, str], ...] = (),
                 page: bytes | None = None) -> None:
        if isinstance(note, str):
            note = plain(note)
        super().__init__(note.text if note is not None else str(status))
        self.status = status
        self.note: Note | None = note
        self.headers = headers
        self.page = page

    @property
    def reason(self) -> str | None:
        """The note's text, or None."""
        return self.note.text if self.note is not None else None


class ResponseCutOff(Exception):
    """The response had started when what produced it failed: the connection closes
    without the response's end, so the client sees the truncation. ``str(exc)`` says
    what happened in one line a learner can act on (the console prints it with the
    request, in place of the HTTP layer's generic line)."""


def http_error_from_oserror(exc: OSError, what: str) -> HTTPError:
    """Map a filesystem error met while serving ``what`` to the status Apache gives."""
    if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
        return HTTPError(404, f"File does not exist: {what}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return HTTPError(403, f"Permission denied: {what}")
    return HTTPError(500, f"{exc.strerror or exc}: {what}")
