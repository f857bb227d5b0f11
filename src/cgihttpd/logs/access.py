"""Access-log lines: Apache's LogFormat language (mod_log_config) applied to one
finished request. Pure: a format string and a ``LogRecord`` in, a line out.

Must not know about sockets, files or ASGI; ``logs.writer`` owns the files. Nicknames
("common", "combined") are resolved by the config loader: we receive the format string.

The reference is Apache 2.4's modules/loggers/mod_log_config.c (parse_log_item,
process_item and the log_* item functions) with mod_logio's %I %O %S %^FB %^FU, and
server/util.c ap_escape_logitem for escaping. Docs:
https://httpd.apache.org/docs/2.4/mod/mod_log_config.html#formats
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class LogRecord:
    """What one request leaves for the log. Filled in by the app as the request goes."""

    remote_addr: str
    remote_port: int
    local_addr: str
    local_port: int
    #: the request line as received, e.g. "GET /x?y HTTP/1.1" (no CRLF)
    request_line: str
    method: str
    #: the raw request target (path and query, undecoded)
    raw_uri: str
    #: the decoded URL path (%U)
    path: str
    query: str
    protocol: str  # "HTTP/1.1"
    #: request start, seconds since the epoch (time.time())
    start_time: float
    #: request headers, lower-case names, in order
    headers_in: list[tuple[str, str]] = field(default_factory=list)
    #: response headers, as sent
    headers_out: list[tuple[str, str]] = field(default_factory=list)
    #: the status of the original request (%s) and the final one (%>s)
    original_status: int = 0
    status: int = 0
    #: body bytes sent (%B/%b), and all bytes sent including headers (%O)
    body_bytes: int = 0
    total_bytes: int = 0
    #: bytes received, including request line and headers (%I)
    bytes_in: int = 0
    #: seconds the request took (%D, %T), set when it ends
    duration: float = 0.0
    server_name: str = ""  # %v: the canonical ServerName of the vhost
    server_port: int = 0  # %p
    filename: str = ""  # %f
    remote_user: str = ""  # %u
    pid: int = 0
    #: the connection's peer (%{c}a); "" means ``remote_addr`` (no mod_remoteip step)
    peer_addr: str = ""
    #: request environment variables (SetEnv, ...) for %{VAR}e and env= conditions
    env: dict[str, str] = field(default_factory=dict)
    #: False if the connection was aborted before the response completed (%X)
    completed: bool = True
    #: requests served before this one on the same connection (0 for the first)
    keepalive_count: int = 0  # %k
    # --- added by H4 (all defaulted; nothing above changed) ---------------------------
    #: True when the connection stays open after this response (%X "+")
    keepalive: bool = False
    #: the handler that served the request (%R), "" if none
    handler: str = ""
    #: internal notes (%{NAME}n)
    notes: dict[str, str] = field(default_factory=dict)
    #: the thread id for %{tid}P (0: unknown, logs "0" as APR does without threads)
    tid: int = 0
    #: microseconds from request start to the first byte of the response (%^FB); None: "-"
    ttfb_us: int | None = None


class LogFormatError(ValueError):
    """A LogFormat string Apache would refuse (its messages, verbatim)."""


# --- escaping: server/util.c ap_escape_logitem ---------------------------------------

# gen_test_char.c, T_ESCAPE_LOGITEM: "escape all control characters, double quotes
# (because they delimit the request in the log file), backslashes (because we use
# backslash for escaping) and 8-bit chars with the high bit set".
_NAMED = {0x08: "\\b", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v",
          0x22: '\\"', 0x5C: "\\\\"}
_ESCAPE_TABLE: tuple[str, ...] = tuple(
    _NAMED.get(b, f"\\x{b:02x}") if (b < 0x20 or b >= 0x7F or b in (0x22, 0x5C)) else chr(b)
    for b in range(256)
)


def _to_bytes(s: str) -> bytes:
    # Request data arrives latin-1 decoded (one char per byte); anything wider came
    # from our own code (e.g. a decoded filename) and is logged as its UTF-8 bytes.
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape")


def escape_logitem(s: str) -> str:
    """Apache's ap_escape_logitem: the result is printable ASCII, never a newline.

    NUL, which C strings cannot hold, is escaped as ``\\x00`` rather than cutting."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return s
    table = _ESCAPE_TABLE
    return "".join([table[b] for b in _to_bytes(s)])


# --- the parsed format -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Item:
    """One element of a parsed format: literal text or a %-directive."""

    literal: str | None = None
    directive: str = ""
    arg: str = ""
    #: status codes that enable ("%400,501{X}i") or, negated, disable the item
    conditions: tuple[int, ...] = ()
    negate: bool = False
    #: "<" original request / ">" final; default per directive (want_orig_default)
    want_orig: bool = False


# Directives whose want_orig_default is 1 in log_pre_config (mod_log_config.c).
_WANT_ORIG_DEFAULT = frozenset({"L", "F", "r", "D", "T", "U", "s", "R"})


def _unescape_literal(text: str) -> str:
    # parse_log_misc_string: \\ \r \n \t are escapes in the literal text; any other
    # backslash is copied verbatim.
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "\\rnt":
            out.append({"\\": "\\", "r": "\r", "n": "\n", "t": "\t"}[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def parse_log_format(fmt: str) -> tuple[_Item, ...]:
    """Parse a LogFormat string as parse_log_string does; raise LogFormatError with
    Apache's message for an unknown directive or a dangling ``%``."""
    items: list[_Item] = []
    i, n = 0, len(fmt)
    while i < n:
        if fmt[i] != "%":
            j = fmt.find("%", i)
            j = n if j == -1 else j
            items.append(_Item(literal=_unescape_literal(fmt[i:j])))
            i = j
            continue
        i += 1
        if i < n and fmt[i] == "%":
            items.append(_Item(literal="%"))
            i += 1
            continue
        negate = False
        want_orig: bool | None = None
        arg = ""
        conditions: list[int] = []
        while True:
            if i >= n:
                raise LogFormatError("Ran off end of LogFormat parsing args to some directive")
            c = fmt[i]
            if c == "!":
                negate = not negate
                i += 1
            elif c == "<":
                want_orig = True
                i += 1
            elif c == ">":
                want_orig = False
                i += 1
            elif c == ",":
                i += 1
            elif c == "{":
                # ap_getword(..., '}'): up to the brace, or the rest of the string.
                j = fmt.find("}", i + 1)
                arg = fmt[i + 1:] if j == -1 else fmt[i + 1:j]
                i = n if j == -1 else j + 1
            elif c.isdigit() and c.isascii():
                j = i
                while j < n and fmt[j].isdigit() and fmt[j].isascii():
                    j += 1
                conditions.append(int(fmt[i:j]))
                i = j
            else:
                if c == "^" and fmt[i:i + 3] in _HANDLERS:
                    name = fmt[i:i + 3]
                elif c in _HANDLERS:
                    name = c
                else:
                    raise LogFormatError(f"Unrecognized LogFormat directive %{c}")
                i += len(name)
                items.append(_Item(
                    directive=name, arg=arg, conditions=tuple(conditions), negate=negate,
                    want_orig=(name in _WANT_ORIG_DEFAULT) if want_orig is None else want_orig,
                ))
                break
    return tuple(items)


def format_log_line(fmt: str, rec: LogRecord) -> str:
    """One access-log line for ``rec`` in format ``fmt``, without the line end.

    Every value taken from the request is escaped as Apache escapes it, so a line holds
    no newline unless the format's own literal text asks for one (``\\n``), as in Apache.
    """
    return compile_log_format(fmt)(rec)


@functools.lru_cache(maxsize=256)
def compile_log_format(fmt: str) -> Callable[[LogRecord], str]:
    """``fmt`` parsed once into a function of a ``LogRecord`` (what ``format_log_line``
    runs). The function is generated: one expression per item - literal text as a
    constant, a directive as a call of its handler with its argument bound, "-" for
    None, and process_item's status condition (a status list limits the item to, or
    with "!" excludes, those statuses of the final response; otherwise "-")."""
    namespace: dict[str, object] = {}
    parts: list[str] = []
    literal = ""
    for n, item in enumerate(parse_log_format(fmt)):
        if item.literal is not None:
            literal += item.literal
            continue
        if literal:
            parts.append(repr(literal))
            literal = ""
        namespace[f"h{n}"] = _HANDLERS[item.directive]
        namespace[f"a{n}"] = item.arg
        value = f'("-" if (v := h{n}(rec, a{n}, {item.want_orig!r})) is None else v)'
        if item.conditions:
            namespace[f"c{n}"] = frozenset(item.conditions)
            value = f'("-" if (rec.status in c{n}) == {item.negate!r} else {value})'
        parts.append(value)
    if literal:
        parts.append(repr(literal))
    source = f"def line(rec):\n    return ''.join(({', '.join(parts)}{',' if parts else ''}))\n"
    exec(compile(source, f"<LogFormat {fmt!r}>", "exec"), namespace)  # noqa: S102
    line: Callable[[LogRecord], str] = namespace["line"]  # type: ignore[assignment]
    return line


# --- the directives ---------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _usec(t: float) -> int:
    return int(round(t * 1_000_000))


def _clf_time(t_us: int) -> str:
    """``[26/Nov/2026:16:45:08 +0000]``: local time with its UTC offset (log_request_time)."""
    # the zone is part of the key: time.tzset() may change it in a running process
    return _clf_second(t_us // 1_000_000, time.tzname, time.timezone)


@functools.lru_cache(maxsize=8)  # a busy server logs the same second many times
def _clf_second(seconds: int, _zone: tuple[str, str], _offset: int) -> str:
    tm = time.localtime(seconds)
    off = tm.tm_gmtoff or 0
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return (f"[{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year}:"
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} "
            f"{sign}{off // 3600:02d}{(off % 3600) // 60:02d}]")


def _time(rec: LogRecord, a: str, orig: bool) -> str | None:
    start = _usec(rec.start_time)
    t = start
    fmt = a
    kind = "custom"
    if not a:
        kind = "clf"
    else:
        if fmt.startswith("begin"):
            fmt = fmt[5:]
            if not fmt:
                kind = "clf"
            elif fmt[0] == ":":
                fmt = a = fmt[1:]
        elif fmt.startswith("end"):
            fmt = fmt[3:]
            t = start + _usec(rec.duration)
            if not fmt:
                kind = "clf"
            elif fmt[0] == ":":
                fmt = a = fmt[1:]
        if fmt.startswith("msec"):
            kind = {"msec": "msec", "msec_frac": "msec_frac"}.get(fmt, kind)
        elif fmt.startswith("usec"):
            kind = {"usec": "usec", "usec_frac": "usec_frac"}.get(fmt, kind)
        elif fmt == "sec":
            kind = "sec"
        elif not fmt:
            kind = "clf"
    if kind == "clf":
        return _clf_time(t)
    if kind == "sec":
        return str(t // 1_000_000)
    if kind == "msec":
        return str(t // 1000)
    if kind == "usec":
        return str(t)
    if kind == "msec_frac":
        return f"{(t % 1_000_000) // 1000:03d}"
    if kind == "usec_frac":
        return f"{t % 1_000_000:06d}"
    # A strftime format, in local time (apr_strftime). Its output is not escaped by
    # Apache either; we drop control characters so a line stays one line.
    try:
        text = time.strftime(a, time.localtime(t // 1_000_000))
    except ValueError:
        return "-"
    return "".join(ch for ch in text if ch.isprintable())


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    # Apache merges repeated request header fields with ", " as it reads them
    # (protocol.c, apr_table_compress(..., APR_OVERLAP_TABLES_MERGE)).
    lname = name.lower()
    values = [v for k, v in headers if k.lower() == lname]
    return ", ".join(values) if values else None


def _header_in(rec: LogRecord, a: str, orig: bool) -> str | None:
    v = _header(rec.headers_in, a)
    return None if v is None else escape_logitem(v)


def _header_out(rec: LogRecord, a: str, orig: bool) -> str | None:
    lname = a.lower()
    values = [v for k, v in rec.headers_out if k.lower() == lname]
    if not values:
        return None
    if lname == "content-type":
        # ap_field_noparam: the media type without its parameters
        v = values[0].split(";", 1)[0].rstrip(" \t")
    elif lname == "set-cookie":
        v = ", ".join(values)
    else:
        v = values[0]
    return escape_logitem(v)


def _cookie(rec: LogRecord, a: str, orig: bool) -> str | None:
    # log_cookie: version-0 cookies, names matched case-insensitively, blanks trimmed.
    entry = _header(rec.headers_in, "cookie")
    if entry is None:
        return None
    for part in entry.split(";"):
        if "=" not in part:
            continue
        name, value = part.split("=", 1)
        if name.strip(" \t").lower() == a.lower() and value:
            return escape_logitem(value.strip(" \t"))
    return None


def _remote_user(rec: LogRecord, a: str, orig: bool) -> str | None:
    return escape_logitem(rec.remote_user) if rec.remote_user else None


def _server_name(rec: LogRecord, a: str, orig: bool) -> str | None:
    # ap_get_server_name under UseCanonicalName Off (the default): the Host header's
    # name (lower-cased, port removed), else the ServerName.
    host = _header(rec.headers_in, "host")
    if host:
        host = host.split(",")[0].strip().lower()
        if host.startswith("["):
            host = host[: host.find("]") + 1] if "]" in host else host
        elif host.count(":") == 1:
            host = host.split(":", 1)[0]
        host = host.rstrip(".")
    return escape_logitem(host or rec.server_name)


def _port(rec: LogRecord, a: str, orig: bool) -> str | None:
    which = a.lower()
    if which in ("", "canonical"):
        return str(rec.server_port or 80)
    if which == "remote":
        return str(rec.remote_port)
    if which == "local":
        return str(rec.local_port)
    return a  # a bogus format is logged as itself


def _pid(rec: LogRecord, a: str, orig: bool) -> str | None:
    which = a.lower()
    if which in ("", "pid"):
        return str(rec.pid)
    if which == "tid":
        return str(rec.tid)
    if which == "hextid":
        return f"{rec.tid:x}"
    return a


def _duration_scaled(rec: LogRecord, a: str, orig: bool) -> str | None:
    us = _usec(rec.duration)
    unit = a.lower()
    if unit in ("", "s"):
        return str(us // 1_000_000)
    if unit == "ms":
        return str(us // 1000)
    if unit == "us":
        return str(us)
    return a


def _status(rec: LogRecord, a: str, orig: bool) -> str | None:
    status = (rec.original_status or rec.status) if orig else rec.status
    return str(status) if status > 0 else None  # pfmt: "-" for <= 0


def _connection_status(rec: LogRecord, a: str, orig: bool) -> str | None:
    if not rec.completed:
        return "X"
    return "+" if rec.keepalive else "-"


def _keepalives(rec: LogRecord, a: str, orig: bool) -> str | None:
    # log_requests_on_connection: c->keepalives - 1, floored at 0, where c->keepalives
    # counts the keep-alive responses so far, this one included (ap_set_keepalive
    # increments it before the log is written). Apache logs 0 0 for a keep-alive request
    # followed by a closing one, and 0 1 2 2 for three keep-alive requests and a last.
    return str(max(rec.keepalive_count + (1 if rec.keepalive else 0) - 1, 0))


def _query(rec: LogRecord, a: str, orig: bool) -> str | None:
    # r->args is NULL without "?", so "" then; "?" alone logs "?".
    return "?" + escape_logitem(rec.query) if "?" in rec.raw_uri else ""


def _opt(value: str) -> str | None:
    return escape_logitem(value) if value else None


_HANDLERS: dict[str, Callable[[LogRecord, str, bool], str | None]] = {
    # HostnameLookups Off: %h is the address (escaped, as log_remote_host does).
    # %{c}a and %{c}h: the connection's peer, not the client mod_remoteip found
    "h": lambda r, a, o: escape_logitem(r.peer_addr or r.remote_addr if a == "c"
                                        else r.remote_addr),
    "a": lambda r, a, o: r.peer_addr or r.remote_addr if a == "c" else r.remote_addr,
    "A": lambda r, a, o: r.local_addr,
    # IdentityCheck is not supported: ap_get_remote_logname gives NULL.
    "l": lambda r, a, o: None,
    "u": _remote_user,
    "t": _time,
    "f": lambda r, a, o: _opt(r.filename),
    # clf_log_bytes_sent: "-" for no body bytes; log_bytes_sent: "0"
    "b": lambda r, a, o: str(r.body_bytes) if r.body_bytes > 0 else None,
    "B": lambda r, a, o: str(max(r.body_bytes, 0)),
    "i": _header_in,
    "o": _header_out,
    "n": lambda r, a, o: None if a not in r.notes else escape_logitem(r.notes[a]),
    "L": lambda r, a, o: None,
    "e": lambda r, a, o: None if a not in r.env else escape_logitem(r.env[a]),
    "V": _server_name,
    "v": lambda r, a, o: escape_logitem(r.server_name),
    "p": _port,
    "P": _pid,
    "H": lambda r, a, o: escape_logitem(r.protocol),
    "m": lambda r, a, o: escape_logitem(r.method),
    "q": _query,
    "F": lambda r, a, o: None,
    "X": _connection_status,
    "C": _cookie,
    "k": _keepalives,
    "r": lambda r, a, o: escape_logitem(r.request_line),
    "D": lambda r, a, o: str(_usec(r.duration)),
    "T": _duration_scaled,
    "U": lambda r, a, o: escape_logitem(r.path),
    "s": _status,
    "R": lambda r, a, o: _opt(r.handler),
    "^ti": lambda r, a, o: None,
    "^to": lambda r, a, o: None,
    # mod_ssl's variables: no TLS here ("errcode" is "-" in Apache too)
    "c": lambda r, a, o: None,
    "x": lambda r, a, o: None,
    # mod_logio (compiled into Debian's apache2)
    "I": lambda r, a, o: str(r.bytes_in),
    "O": lambda r, a, o: str(r.total_bytes),
    "S": lambda r, a, o: str(r.bytes_in + r.total_bytes),
    "^FB": lambda r, a, o: None if r.ttfb_us is None else str(r.ttfb_us),
    "^FU": lambda r, a, o: None,
}
