"""``cgi.FieldStorage`` for Python 3.13+, where the ``cgi`` module is gone (PEP 594).

Old course scripts keep working with one changed line::

    from cgihttpd_script import cgi_compat as cgi    # was: import cgi
    form = cgi.FieldStorage()
    name = form.getvalue("name", "stranger")
    colors = form.getlist("color")
    upload = form["photo"]            # .filename, .file, .value, .type

Only the parts scripts use are here: ``FieldStorage`` (getvalue, getfirst, getlist,
keys, ``in``, ``[]``, len), ``MiniFieldStorage``, ``parse_header`` and ``escape``
(removed in 3.8 already; html.escape without quote by default, as it was).
"""

from __future__ import annotations

import html
import os
import sys
from typing import IO, Any, BinaryIO, Mapping, Union

from cgihttpd_script.form import (
    DEFAULT_LIMITS,
    FormData,
    Limits,
    Upload,
    parse_query,
    read_form,
)
from cgihttpd_script.form import parse_header as _parse_header

__all__ = ["FieldStorage", "MiniFieldStorage", "escape", "parse_header"]


class MiniFieldStorage:
    """One plain field (``cgi.MiniFieldStorage``): ``name``, ``value``."""

    filename = None
    list = None
    type = None
    file = None

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"MiniFieldStorage({self.name!r}, {self.value!r})"


class _FileField:
    """An uploaded file as ``cgi.FieldStorage`` showed it."""

    def __init__(self, upload: Upload) -> None:
        self.name = upload.name
        self.filename = upload.filename
        self.type = upload.type
        self.file: IO[bytes] = upload.file
        self._upload = upload

    @property
    def value(self) -> bytes:
        return self._upload.read()


Item = Union[MiniFieldStorage, _FileField]


class FieldStorage:
    """The request's form: the POST body's fields and files, and the query string's
    fields (as the old ``cgi.FieldStorage`` merged them for a urlencoded POST)."""

    def __init__(self, fp: BinaryIO | None = None, environ: Mapping[str, str] | None = None,
                 keep_blank_values: bool = False, limits: Limits = DEFAULT_LIMITS) -> None:
        env = os.environ if environ is None else environ
        stream = fp if fp is not None else sys.stdin.buffer
        form: FormData = read_form(env, stream, limits)
        items = list(form.items)
        if env.get("REQUEST_METHOD", "GET").upper() == "POST" and env.get("QUERY_STRING"):
            items += parse_query(env["QUERY_STRING"], limits).items
        self.list: list[Item] = []
        for name, value in items:
            if isinstance(value, Upload):
                self.list.append(_FileField(value))
            elif value or keep_blank_values:
                self.list.append(MiniFieldStorage(name, value))

    def _all(self, key: str) -> list[Item]:
        return [item for item in self.list if item.name == key]

    def __getitem__(self, key: str) -> Any:
        found = self._all(key)
        if not found:
            raise KeyError(key)
        return found[0] if len(found) == 1 else found

    def getvalue(self, key: str, default: Any = None) -> Any:
        """The value (a list if the name repeats; bytes for a file), or ``default``."""
        found = self._all(key)
        if not found:
            return default
        values = [item.value for item in found]
        return values[0] if len(values) == 1 else values

    def getfirst(self, key: str, default: Any = None) -> Any:
        found = self._all(key)
        return found[0].value if found else default

    def getlist(self, key: str) -> list[Any]:
        return [item.value for item in self._all(key)]

    def keys(self) -> list[str]:
        return list(dict.fromkeys(item.name for item in self.list))

    def __contains__(self, key: object) -> bool:
        return any(item.name == key for item in self.list)

    def __iter__(self) -> Any:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __bool__(self) -> bool:
        return bool(self.list)


def parse_header(line: str) -> tuple[str, dict[str, str]]:
    """``cgi.parse_header``: 'text/html; charset=utf-8' -> ('text/html', {...})."""
    return _parse_header(line)


def escape(s: str, quote: bool = False) -> str:
    """The old ``cgi.escape``: &, < and > (and " with quote=True)."""
    return html.escape(s, quote=quote)
