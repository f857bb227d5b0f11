"""Directory listings (mod_autoindex) and the 403 for a directory without an index.
Pure: a URL path, the entries and the query in, HTML out (``files.list_directory``
reads the directory).

The layout is Apache 2.4's ``IndexOptions FancyIndexing HTMLTable`` without icons
(checked against apache2 on a scratch instance): a table with Name, Last modified, Size
and Description columns, names padded to NameWidth 23 and cut as "..>", sizes as
apr_strfsize ("  4 ", "4.9K", "  - " for directories), dates "YYYY-MM-DD HH:MM" in local
time, sorted by name unless the query asks ``C=N|M|S|D;O=A|D`` as Apache's column links
do; ``charset=UTF-8`` as Debian's autoindex.conf (``Charset=UTF-8``) makes Apache send.
That is Debian's stock ``IndexOptions``; without FancyIndexing in the effective
``DirConf.index_options`` it is Apache's default plain ``<ul>`` list in ISO-8859-1.
``IndexIgnore`` patterns hide entries (``is_ignored``). HeaderName's file takes the
``<h1>``'s place and ReadmeName's the signature's (an HTML file as it is, a text one
in ``<pre>``: ``emit_plain``). Without ``+Indexes`` Apache
answers 403 and logs AH01276 (``forbidden_message``).

Must not know about the filesystem or the configuration.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from html import escape

from cgihttpd.messages import INDEX_FORBIDDEN, Note
from cgihttpd.resolve import escape_path
from cgihttpd.response import DOCTYPE

NAME_WIDTH = 23  # mod_autoindex DEFAULT_NAME_WIDTH


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    is_dir: bool
    size: int
    mtime: float


def forbidden_message(dirname: str, index_names: tuple[str, ...]) -> Note:
    """The error-log line mod_autoindex writes when Indexes is off. A URL without its
    trailing slash (DirectorySlash Off) was never searched for an index: Apache then
    says "(none)"."""
    return INDEX_FORBIDDEN.note(path=dirname, names=",".join(index_names) or "none")


def strfsize(size: int) -> str:
    """apr_strfsize: four characters, as mod_autoindex prints sizes."""
    if size < 0:
        return "  - "
    if size < 973:
        return f"{size:3d} "
    units = "KMGTPE"
    u = 0
    while True:
        remain = size & 1023
        size >>= 10
        if size >= 973:
            u += 1
            continue
        if size < 9 or (size == 9 and remain < 973):
            remain = ((remain * 5) + 256) // 512
            if remain >= 10:
                size += 1
                remain = 0
            return f"{size}.{remain}{units[u]}"
        if remain >= 512:
            size += 1
        return f"{size:3d}{units[u]}"


def parse_sort(query: str) -> tuple[str, bool]:
    """The ``C=`` column (N, M, S, D) and ``O=D`` (descending) from the query."""
    column, descending = "N", False
    for part in query.replace("&", ";").split(";"):
        key, _, value = part.partition("=")
        if key == "C" and value in ("N", "M", "S", "D"):
            column = value
        elif key == "O" and value in ("A", "D"):
            descending = value == "D"
    return column, descending


def _sorted(entries: list[Entry], column: str, descending: bool) -> list[Entry]:
    def key(e: Entry) -> tuple[object, ...]:
        name = e.name.encode("utf-8", "surrogateescape")
        if column == "M":
            return (e.mtime, name)
        if column == "S":
            return (-1 if e.is_dir else e.size, name)
        return (name,)

    return sorted(entries, key=key, reverse=descending)


def _cell_name(href: str, label: str) -> str:
    # mod_autoindex cuts the name to NameWidth - 3 characters, then escapes it and
    # appends "..&gt;" (checked against apache2 with "ab&cd<ef>gh_long_name_here.txt")
    shown = escape(label, quote=False)
    if len(label) > NAME_WIDTH:
        shown = escape(label[: NAME_WIDTH - 3], quote=False) + "..&gt;"
    pad = " " * max(0, NAME_WIDTH - len(label))
    return f'<td><a href="{escape(href)}">{shown}</a>{pad}</td>'


@dataclass(frozen=True, slots=True)
class IndexStyle:
    """What ``IndexOptions`` asks for, as far as we render it."""

    fancy: bool = True
    charset: str = "UTF-8"
    #: ShowForbidden: entries a subrequest answers 401 or 403 are listed all the same
    show_forbidden: bool = False

    @property
    def content_type(self) -> str:
        return f"text/html;charset={self.charset}"


#: what Debian's autoindex.conf sets (FancyIndexing HTMLTable ... Charset=UTF-8): used
#: when the configuration does not tell us its IndexOptions
DEBIAN_STYLE = IndexStyle()


def index_style(options: tuple[str, ...] | None) -> IndexStyle:
    """``IndexOptions`` words → style. None (not known) → Debian's; a known empty list
    is Apache's default: a plain list in ISO-8859-1 (checked against apache2)."""
    if options is None:
        return DEBIAN_STYLE
    fancy = show_forbidden = False
    charset = "ISO-8859-1"
    for word in options:
        name, _, value = word.partition("=")
        bare = name.lstrip("+-").lower()
        if bare == "fancyindexing":
            fancy = not name.startswith("-")
        elif bare == "charset" and value:
            charset = value
        elif bare == "showforbidden":
            show_forbidden = not name.startswith("-")
    return IndexStyle(fancy, charset, show_forbidden)


def is_ignored(name: str, patterns: tuple[str, ...]) -> bool:
    """IndexIgnore: mod_autoindex ``ignore_entry`` matches the entry's name against the
    last path component of each pattern with ap_strcmp_match (``*`` and ``?`` only,
    case-sensitive)."""
    for pattern in patterns:
        last = pattern.rsplit("/", 1)[-1]
        rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in last)
        if re.fullmatch(rx, name, re.DOTALL):
            return True
    return False


def emit_plain(data: bytes) -> bytes:
    """mod_autoindex do_emit_plain: a text file in a ``<pre>`` block, ``<``, ``>`` and
    ``&`` escaped."""
    body = data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    return b"<pre>\n" + body + b"</pre>\n"


def _head(title: str, header: bytes | None) -> list[str]:
    """emit_head: the preamble, then HeaderName's file in place of the <h1>."""
    lines = [DOCTYPE, "<html>\n <head>\n", f"  <title>Index of {title}</title>\n",
             " </head>\n <body>\n"]
    if header is None:
        lines.append(f"<h1>Index of {title}</h1>\n")
    else:
        lines.append(header.decode("utf-8", "surrogateescape"))
    return lines


def _tail(signature_html: str, readme: bytes | None) -> list[str]:
    """emit_tail: ReadmeName's file in place of the signature, then the end."""
    if readme is None:
        return [signature_html.removeprefix("<hr>\n"), "</body></html>\n"]
    return [readme.decode("utf-8", "surrogateescape"), "</body></html>\n"]


def render_plain(url_path: str, entries: list[Entry], signature_html: str = "", *,
                 header: bytes | None = None, readme: bytes | None = None) -> bytes:
    """mod_autoindex without FancyIndexing: a bare list of links, sorted by name;
    ``header``/``readme``: HeaderName's and ReadmeName's HTML (``emit_plain`` made a
    text file's)."""
    title = escape(url_path.rstrip("/") or "/", quote=False)
    lines = [*_head(title, header), "<ul>"]
    if url_path != "/":
        parent = url_path.rstrip("/").rsplit("/", 1)[0] + "/"
        lines.append(f'<li><a href="{escape(escape_path(parent))}"> Parent Directory</a></li>\n')
    for e in _sorted(entries, "N", False):
        suffix = "/" if e.is_dir else ""
        lines.append(f'<li><a href="{escape(escape_path(e.name) + suffix)}"> '
                     f"{escape(e.name + suffix, quote=False)}</a></li>\n")
    lines.append("</ul>\n")
    lines += _tail(signature_html, readme)
    return "".join(lines).encode("utf-8", "surrogateescape")


def render_index(url_path: str, entries: list[Entry], query: str = "",
                 signature_html: str = "", *, header: bytes | None = None,
                 readme: bytes | None = None) -> bytes:
    """The FancyIndexing HTMLTable listing of ``url_path`` (a decoded URL path ending
    in "/"); ``header``/``readme`` as ``render_plain``'s."""
    column, descending = parse_sort(query)
    shown_path = url_path.rstrip("/") or "/"
    title = escape(shown_path, quote=False)
    lines = [*_head(title, header), "  <table>\n"]
    heads = []
    for col, label in (("N", "Name"), ("M", "Last modified"), ("S", "Size"),
                       ("D", "Description")):
        order = "D" if col == column and not descending else "A"
        heads.append(f'<th><a href="?C={col};O={order}">{label}</a></th>')
    lines.append('   <tr><th valign="top">&nbsp;</th>' + "".join(heads) + "</tr>\n")
    lines.append('   <tr><th colspan="5"><hr></th></tr>\n')
    if url_path != "/":
        parent = url_path.rstrip("/").rsplit("/", 1)[0] + "/"
        lines.append('<tr><td valign="top">&nbsp;</td>'
                     + _cell_name(escape_path(parent), "Parent Directory")
                     + '<td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>\n')
    for e in _sorted(entries, column, descending):
        suffix = "/" if e.is_dir else ""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.mtime))
        size = strfsize(-1 if e.is_dir else e.size)
        lines.append('<tr><td valign="top">&nbsp;</td>'
                     + _cell_name(escape_path(e.name) + suffix, e.name + suffix)
                     + f'<td align="right">{when}  </td><td align="right">{size}</td>'
                     + "<td>&nbsp;</td></tr>\n")
    lines.append('   <tr><th colspan="5"><hr></th></tr>\n</table>\n')
    lines += _tail(signature_html, readme)
    return "".join(lines).encode("utf-8", "surrogateescape")
