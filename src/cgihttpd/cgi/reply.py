"""The response head cgihttpd sends for a script's header block.

Owns what Apache adds or changes between the script's fields and the wire: the
Content-Type mod_mime gave the file when the script names none (verified: a .py
without Content-Type goes out as text/x-python), ``AddDefaultCharset`` on text/plain
and text/html (core.c ``ap_make_content_type``), dropping a Content-Length that is not
a number. Pure: values in, ASGI header pairs out. Must not know about processes.
"""

from __future__ import annotations

from collections.abc import Iterable

from cgihttpd.config.model import DirConf
from cgihttpd.mime import TableCache, type_table


def file_content_type(filename: str, conf: DirConf, mime_types: Iterable[tuple[str, str]],
                      tables: TableCache | None = None) -> str | None:
    """ForceType, else the last extension with a type (AddType over TypesConfig).
    ``tables``: where lookup tables are kept (the runtime's)."""
    if conf.force_type:
        return conf.force_type
    # the tables are built once per configuration (``tables``, by identity): a dict of
    # the 1,500-pair TypesConfig on every request was a tenth of the server's CPU per
    # warm hello.py
    added = type_table(conf.add_types, tables)
    configured = type_table(mime_types if isinstance(mime_types, tuple) else tuple(mime_types),
                            tables)
    found: str | None = None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    for part in base.lower().split(".")[1:]:
        ext = "." + part
        t = added.get(ext)
        if t is None:
            t = configured.get(ext)
        if t is not None:
            found = t
    return found


def with_default_charset(ctype: str, charset: str | None) -> str:
    """AddDefaultCharset (core docs): text/plain and text/html without a charset."""
    if not charset or charset.lower() == "off":
        return ctype
    if charset.lower() == "on":
        charset = "iso-8859-1"
    lower = ctype.lower()
    if (lower.startswith("text/plain") or lower.startswith("text/html")) \
            and "charset=" not in lower:
        return f"{ctype}; charset={charset}"
    return ctype


def response_headers(fields: Iterable[tuple[str, str]], status: int, *, nph: bool,
                     default_type: str | None,
                     default_charset: str | None) -> list[tuple[bytes, bytes]]:
    """The script's fields as ASGI headers, with Apache's additions."""
    out: list[tuple[bytes, bytes]] = []
    seen_type = False
    for name, value in fields:
        lname = name.lower()
        if lname == "content-length" and not value.strip().isdigit():
            continue
        if lname == "content-type":
            seen_type = True
            if not nph:
                value = with_default_charset(value, default_charset)
        out.append((name.encode("latin-1"), value.encode("latin-1")))
    # a 304 carries no representation, so no type (RFC 9110 §15.4.5)
    if not seen_type and not nph and status != 304 and default_type:
        ctype = with_default_charset(default_type, default_charset)
        out.append((b"Content-Type", ctype.encode("latin-1")))
    return out
