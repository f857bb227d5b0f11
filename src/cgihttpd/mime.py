"""Media types: which Content-Type a file is served with. Pure.

Owns mod_mime's lookup (modules/http/mod_mime.c, find_ct): ``ForceType`` wins; else every
dot-separated part of the name after the first is an extension, looked up in the
per-directory ``AddType`` table and then in ``TypesConfig``; the last extension that maps
decides ("file.html.en" is text/html). A name with no known extension gets no
Content-Type at all, as Apache 2.4 sends none (DefaultType is gone since 2.3; checked:
Apache answers a ".qqq" file without the header). Python's ``mimetypes`` stands in for
``TypesConfig`` only when the configuration names no types file (zero-config mode).

``RemoveType`` undoes an AddType (inherited or not) for its extensions: the extension
then gives no type at all, not even TypesConfig's (checked: Apache sends no
Content-Type for "a.html" after "RemoveType .html", and text/plain for "a.txt.html").
``AddCharset``: the charset of the last extension that has one becomes the type's
charset parameter, replacing one the type had (find_ct's analyze_ct rebuild); ForceType,
applied later by the core's fixups, replaces the whole type, charset included.

``AddDefaultCharset`` appends a charset to text/plain and text/html (core docs).
Must not know about the filesystem or HTTP.
"""

from __future__ import annotations

import mimetypes
from functools import lru_cache

from cgihttpd.cache import BoundedCache
from cgihttpd.config.model import DirConf

Types = tuple[tuple[str, str], ...]
#: lookup tables by the identity of their (extension, type) tuple, kept with it (an
#: id() can be reused): hashing a 1,500-pair TypesConfig tuple on every request would
#: cost more than the lookup, and the tuples live as long as the configuration
TableCache = BoundedCache[int, tuple[Types, dict[str, str]]]


def type_table(types: Types, tables: TableCache | None = None) -> dict[str, str]:
    if tables is not None:
        hit = tables.get(id(types))
        if hit is not None and hit[0] is types:
            return hit[1]
    table = {ext.lower(): media for ext, media in types}
    if tables is not None:
        tables.put(id(types), (types, table))
    return table


@lru_cache(maxsize=1)
def _python_table() -> dict[str, str]:
    db = mimetypes.MimeTypes()
    table: dict[str, str] = {}
    for mapping in (db.types_map[0], db.types_map[1]):
        for ext, media in mapping.items():
            table.setdefault(ext.lower(), media)
    return table


def content_type(filename: str, conf: DirConf, types: Types,
                 tables: TableCache | None = None) -> str | None:
    """The Content-Type for ``filename`` (a basename or a path), or None. ``tables``:
    where the lookup tables built from ``types`` and AddType are kept (the runtime's)."""
    media: str | None = conf.force_type
    if media is None or media.lower() == "none":
        media = None
        charset: str | None = None
        added = type_table(conf.media_types, tables)
        charsets = type_table(conf.charsets, tables) if conf.add_charsets else {}
        configured = type_table(types, tables) if types else _python_table()
        basename = filename.rsplit("/", 1)[-1]
        for part in basename.split(".")[1:]:
            ext = "." + part.lower()
            # a removed AddType is "": no type from this extension, and not mime.types'
            # either (checked against apache2)
            found = added.get(ext)
            if found is None:
                found = configured.get(ext)
            if found:
                media = found
            charset = charsets.get(ext) or charset
        if media is not None and charset:
            media = with_charset(media, charset)
    if media is None:
        return None
    return with_default_charset(media, conf.default_charset)


def with_charset(media: str, charset: str) -> str:
    """mod_mime find_ct: ``media`` with its charset parameter set to ``charset`` (in
    the place of one it had, else appended)."""
    parts = [p.strip() for p in media.split(";")]
    out = [parts[0]]
    replaced = False
    for param in parts[1:]:
        if not param:
            continue
        if param.split("=", 1)[0].strip().lower() == "charset":
            if not replaced:
                out.append("charset=" + charset)
                replaced = True
            continue
        out.append(param)
    if not replaced:
        out.append("charset=" + charset)
    return "; ".join(out)


def with_default_charset(media: str, charset: str | None) -> str:
    """AddDefaultCharset: only text/plain and text/html without a charset of their own."""
    if not charset or charset.lower() == "off" or "charset=" in media.lower():
        return media
    base = media.split(";", 1)[0].strip().lower()
    if base in ("text/plain", "text/html"):
        value = "iso-8859-1" if charset.lower() == "on" else charset
        return f"{media}; charset={value}"
    return media
