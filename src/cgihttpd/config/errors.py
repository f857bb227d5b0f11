"""The configuration's own error type: ``ConfigError`` (one problem at a file and line)
and ``ConfigErrors`` (every problem found while loading, for ``-t``).

Owned by the configuration layer, so that ``config/`` needs nothing above it; request
errors (``HTTPError``) are ``cgihttpd.errors``.
"""

from __future__ import annotations

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
