"""A traceback hook for scripts, what ``cgitb.enable()`` was (gone in Python 3.13).

``enable()`` makes an uncaught exception print the traceback to stderr (the server's
error log, and cgihttpd's dev-mode page) and, with ``display=True``, also as an HTML
page in the browser: a complete 500 answer if no header was sent yet, else appended
to the page already started; the script then ends with exit status 0, so that the
server sends that page whole. Only for development: a traceback tells visitors about
your code.
"""

from __future__ import annotations

import html
import os
import sys
import traceback
from types import TracebackType
from typing import Any


def _page(text: str) -> str:
    return ("<div style=\"border:3px solid #c0392b;padding:1em;font-family:sans-serif\">"
            "<h2 style=\"color:#c0392b\">The script raised an exception</h2>"
            f"<pre>{html.escape(text)}</pre></div>\n")


class _Watched:
    """stdout (or its buffer) as it was, noting whether anything was written."""

    def __init__(self, stream: Any, seen: list[bool]) -> None:
        self._stream = stream
        self._seen = seen

    def write(self, data: Any) -> Any:
        if data:
            self._seen[0] = True
        return self._stream.write(data)

    @property
    def buffer(self) -> Any:
        return _Watched(self._stream.buffer, self._seen)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def enable(display: bool = True) -> None:
    """Install the hook (call it first thing: what is printed after is watched, to
    know whether the headers have gone)."""
    seen = [False]
    out = sys.stdout
    sys.stdout = _Watched(out, seen)  # type: ignore[assignment,unused-ignore]

    def hook(kind: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb))
        sys.stderr.write(text)
        sys.stderr.flush()
        if not display:
            return
        sent = seen[0]
        try:
            if not sent:
                out.write("Status: 500 Internal Server Error\r\n"
                          "Content-Type: text/html; charset=utf-8\r\n\r\n")
            out.write(_page(text))
            out.flush()
        except (OSError, ValueError):
            return
        # The page shown is the script's answer: end with status 0 so that the server
        # sends it whole (an exit status 1 after a traceback makes a server cut the
        # response off). The traceback is in the error log already.
        os._exit(0)

    sys.excepthook = hook


__all__ = ["enable"]
