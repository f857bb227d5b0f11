"""The request as a script sees it: method, query, form, uploads, JSON, cookies.

Reads the CGI meta-variables (RFC 3875 §4.1) and stdin once, lazily: a script that
never looks at the form never reads the body. Must not know how responses are written.
"""

from __future__ import annotations

import json
import os
import sys
from http.cookies import CookieError, SimpleCookie
from typing import Any, BinaryIO, Mapping

from cgihttpd_script.form import (
    DEFAULT_LIMITS,
    FormData,
    FormError,
    Limits,
    parse_query,
    read_body,
    read_form,
)


class Request:
    """``Request()`` reads ``os.environ`` and ``sys.stdin``; tests pass their own."""

    def __init__(self, environ: Mapping[str, str] | None = None,
                 stdin: BinaryIO | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._stdin = stdin
        self.limits = limits
        self._form: FormData | None = None
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        return self.environ.get("REQUEST_METHOD", "GET").upper()

    @property
    def path(self) -> str:
        return self.environ.get("SCRIPT_NAME", "") + self.environ.get("PATH_INFO", "")

    @property
    def content_type(self) -> str:
        return self.environ.get("CONTENT_TYPE", "")

    @property
    def query(self) -> FormData:
        """The query string's fields (also for a POST)."""
        return parse_query(self.environ.get("QUERY_STRING", ""), self.limits)

    def _stream(self) -> BinaryIO:
        return self._stdin if self._stdin is not None else sys.stdin.buffer

    @property
    def form(self) -> FormData:
        """A POST's fields and files; for GET, the query string's."""
        if self._form is None:
            if self._body is not None:
                raise FormError("the body was already read as raw bytes")
            self._form = read_form(self.environ, self._stream(), self.limits)
        return self._form

    @property
    def body(self) -> bytes:
        if self._body is None:
            if self._form is not None:
                raise FormError("the body was already read as a form")
            self._body = read_body(self.environ, self._stream(), self.limits)
        return self._body

    def json(self) -> Any:
        """The body parsed as JSON (FormError if it is not)."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise FormError(f"the body is not JSON: {exc}") from exc

    @property
    def cookies(self) -> dict[str, str]:
        """The Cookie header's name -> value (a malformed header gives what parses)."""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.environ.get("HTTP_COOKIE", ""))
        except CookieError:
            return {}
        return {name: morsel.value for name, morsel in jar.items()}
