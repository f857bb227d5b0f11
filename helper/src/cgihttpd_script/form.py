"""Reading what the browser sent: the query string, urlencoded and multipart forms.

Owns the parsing of a request's input under limits: how many fields, how big one part
may be, how big the whole body may be. Query strings and urlencoded bodies go through
the standard library's ``urllib.parse.parse_qsl``; multipart/form-data through
python-multipart's streaming ``MultipartParser`` (a maintained parser: the boundary,
the part headers and the data are never split by hand here). Uploaded files are
spooled: kept in memory up to ``Limits.memory`` bytes, then in a temporary file.
Must not know about HTTP responses or the server: it reads an environ and a stream.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from email.message import Message
from typing import IO, BinaryIO, Iterator, Mapping, Union
from urllib.parse import parse_qsl


class FormError(ValueError):
    """The input is over a limit or malformed. ``status``: what to answer (413, 400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """The bounds on what a request may send (pass your own to ``read_form``)."""

    #: fields (and files) in a form
    fields: int = 1000
    #: bytes in one part (a field's value or a file)
    part: int = 10 << 20
    #: bytes in the whole body
    total: int = 50 << 20
    #: an upload bigger than this goes to a temporary file
    memory: int = 1 << 20


DEFAULT_LIMITS = Limits()


@dataclass
class Upload:
    """An uploaded file: ``filename`` as the browser sent it (never a path to trust),
    ``file`` positioned at its start, ``type`` its Content-Type."""

    name: str
    filename: str
    type: str
    file: IO[bytes]
    size: int

    def read(self) -> bytes:
        self.file.seek(0)
        return self.file.read()

    @property
    def value(self) -> bytes:
        """The whole content (``cgi.FieldStorage``'s ``.value`` of a file)."""
        return self.read()

    def save(self, directory: str) -> str:
        """Store the file under ``directory`` with a safe name; the path written."""
        base = os.path.basename(self.filename.replace("\\", "/")).lstrip(".") or "upload"
        path = os.path.join(directory, base)
        self.file.seek(0)
        with open(path, "wb") as out:
            while chunk := self.file.read(1 << 16):
                out.write(chunk)
        return path


Value = Union[str, Upload]


@dataclass
class FormData:
    """Fields in the order sent; a name may repeat (checkboxes, multiple selects)."""

    items: list[tuple[str, Value]] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        """The first text value of ``name``, or ``default`` ("" unless given)."""
        for key, value in self.items:
            if key == name and isinstance(value, str):
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name and isinstance(v, str)]

    def file(self, name: str) -> Upload | None:
        for key, value in self.items:
            if key == name and isinstance(value, Upload):
                return value
        return None

    def files(self) -> list[Upload]:
        return [v for _, v in self.items if isinstance(v, Upload)]

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for k, _ in self.items))

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self.items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def to_dict(self) -> dict[str, str]:
        """Each name's first text value."""
        out: dict[str, str] = {}
        for key, value in self.items:
            if isinstance(value, str):
                out.setdefault(key, value)
        return out


def parse_header(value: str) -> tuple[str, dict[str, str]]:
    """'multipart/form-data; boundary="x"' -> ('multipart/form-data', {'boundary': 'x'});
    also for Content-Disposition (the standard library's parser: quotes, RFC 2231)."""
    msg = Message()
    msg["x"] = value
    params = msg.get_params(header="x", failobj=[])
    if not params:
        return "", {}
    first = params[0][0].strip().lower()
    return first, {k.lower(): str(v) for k, v in params[1:]}


def parse_query(query: str, limits: Limits = DEFAULT_LIMITS) -> FormData:
    """``a=1&b=2&a=3`` (as in QUERY_STRING) -> FormData; '+' is a space."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=limits.fields)
    except ValueError as exc:
        raise FormError(f"too many fields (the limit is {limits.fields})", 413) from exc
    return FormData(list(pairs))


def content_length(environ: Mapping[str, str]) -> int:
    text = (environ.get("CONTENT_LENGTH") or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise FormError(f"bad CONTENT_LENGTH {text!r}")
    return int(text)


def read_body(environ: Mapping[str, str], stream: BinaryIO, limits: Limits = DEFAULT_LIMITS
              ) -> bytes:
    """The whole request body (CONTENT_LENGTH bytes), refused past ``limits.total``."""
    length = content_length(environ)
    if length > limits.total:
        raise FormError(f"the body is {length} bytes; the limit is {limits.total}", 413)
    data = stream.read(length) if length else b""
    return data


def read_form(environ: Mapping[str, str], stream: BinaryIO,
              limits: Limits = DEFAULT_LIMITS) -> FormData:
    """The form of a POST (urlencoded or multipart), or the query string's for any
    other method or body type. Raises ``FormError`` past a limit."""
    raw_type = environ.get("CONTENT_TYPE", "")
    ctype, params = parse_header(raw_type)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if method not in ("POST", "PUT", "PATCH"):
        return parse_query(environ.get("QUERY_STRING", ""), limits)
    if ctype == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise FormError("multipart/form-data without a boundary")
        return _read_multipart(environ, stream, boundary.encode("latin-1"), limits)
    if ctype == "application/x-www-form-urlencoded" or not raw_type:
        body = read_body(environ, stream, limits)
        return parse_query(body.decode("utf-8", "replace"), limits)
    return FormData()


class _Part:
    __slots__ = ("name", "filename", "type", "size", "data", "file")

    def __init__(self) -> None:
        self.name = ""
        self.filename: str | None = None
        self.type = "text/plain"
        self.size = 0
        self.data = bytearray()
        self.file: IO[bytes] | None = None


def _read_multipart(environ: Mapping[str, str], stream: BinaryIO, boundary: bytes,
                    limits: Limits) -> FormData:
    from python_multipart.multipart import MultipartParser, parse_options_header

    length = content_length(environ)
    if length > limits.total:
        raise FormError(f"the body is {length} bytes; the limit is {limits.total}", 413)
    form = FormData()
    headers: dict[bytes, bytes] = {}
    name = bytearray()
    value = bytearray()
    part = _Part()
    count = 0

    def on_part_begin() -> None:
        nonlocal part, count
        count += 1
        if count > limits.fields:
            raise FormError(f"too many fields (the limit is {limits.fields})", 413)
        headers.clear()
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(name).lower()] = bytes(value)
        name.clear()
        value.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(headers.get(b"content-disposition", b""))
        part.name = disp.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disp:
            part.filename = disp[b"filename"].decode("utf-8", "replace")
            part.file = tempfile.SpooledTemporaryFile(max_size=limits.memory)
        part.type = headers.get(b"content-type", b"text/plain").decode("latin-1")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part.size += end - start
        if part.size > limits.part:
            raise FormError(f"the field {part.name!r} is over {limits.part} bytes", 413)
        if part.file is not None:
            part.file.write(data[start:end])
        else:
            part.data.extend(data[start:end])

    def on_part_end() -> None:
        if part.file is not None:
            part.file.seek(0)
            form.items.append((part.name, Upload(part.name, part.filename or "", part.type,
                                                 part.file, part.size)))
        else:
            form.items.append((part.name, part.data.decode("utf-8", "replace")))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }, max_size=limits.total)
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 16))
        if not chunk:
            break
        remaining -= len(chunk)
        try:
            parser.write(chunk)
        except FormError:
            raise
        except ValueError as exc:  # python-multipart's own errors are ValueErrors
            raise FormError(f"malformed multipart body: {exc}") from exc
    parser.finalize()
    return form
