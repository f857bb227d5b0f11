"""Applying mod_rewrite's rules to one request: mod_rewrite.c's ``apply_rewrite_list``,
``apply_rewrite_rule``, ``apply_rewrite_cond``, ``do_expand`` and ``lookup_variable``,
and what its two hooks do with the result (``rewrite_server``: hook_uri2file, at URL
translation; ``rewrite_directory``: hook_fixup, per directory).

Pure: the request comes in as ``Facts`` (values), the filesystem as ``FileTests`` (a
stat and an lstat that raise ``OSError``), and an ``Outcome`` goes out, which
``resolve`` turns into a ``Target``. All strings are wire strings (``rules.wire``).
Must not know targets, handlers or HTTP messages.
"""

from __future__ import annotations

import re
import stat as stat_mod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from cgihttpd import messages as M
from cgihttpd.messages import Note
from cgihttpd.rewrite.rules import Cond, RewriteConf, Rule, unwire

if TYPE_CHECKING:
    import os


class FileTests(Protocol):
    """What the file tests (-f -d -s -l -x) and prefix_stat need (raise ``OSError``)."""

    def stat(self, path: str) -> os.stat_result: ...
    def lstat(self, path: str) -> os.stat_result: ...


@dataclass(frozen=True, slots=True)
class Facts:
    """The request as mod_rewrite's variables see it (wire strings)."""

    method: str = "GET"
    #: r->the_request: the request line
    the_request: str = ""
    protocol: str = "HTTP/1.1"
    scheme: str = "http"
    #: header fields as received (name, value); repeated ones are joined with ", "
    headers: tuple[tuple[str, str], ...] = ()
    remote_addr: str = ""
    remote_port: int = 0
    server_addr: str = ""
    #: ap_get_server_name_for_url (an IPv6 literal in brackets)
    server_name: str = "localhost"
    server_port: int = 80
    #: the names of this virtual host (ServerName, ServerAlias), lower-case, and its
    #: port (0: any), for reduce_uri's "is it us?"
    vhost_names: frozenset[str] = frozenset()
    vhost_port: int = 0
    document_root: str = ""
    server_admin: str = ""
    server_software: str = ""
    #: r->subprocess_env before rewriting (mod_setenvif's, REDIRECT_* after an
    #: internal redirect) and the server's own environment (getenv)
    env: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    remote_user: str | None = None
    auth_type: str | None = None
    is_subreq: bool = False
    ipv6: bool = False
    #: the local time: (year, month, day, hour, minute, second, weekday with Sunday 0)
    now: tuple[int, int, int, int, int, int, int] = (1970, 1, 1, 0, 0, 0, 4)
    #: MODULE_MAGIC_NUMBER_MAJOR:MINOR of the Apache whose behaviour this is
    api_version: str = "20120211:141"

    def header(self, name: str) -> str | None:
        key = name.lower()
        values = [v for k, v in self.headers if k.lower() == key]
        return ", ".join(values) if values else None


# --- what the hooks answer -----------------------------------------------------------------

OutcomeKind = Literal[
    "none",  # nothing rewritten (env may still change: E= of a "-" rule, SCRIPT_URL)
    "status",  # answer ``status`` (F, G, R=4xx/5xx, a refused query string...)
    "redirect",  # an external redirect: ``status`` to ``path`` (a full URL, query in it)
    "internal",  # per directory: an internal redirect to ``path`` (a URL, query in it)
    "file",  # server: serve the filesystem path ``path`` for the same r->uri
    "uri",  # server, [PT]: translate ``path`` as the URI instead (mod_alias, ...)
]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind = "none"
    status: int = 0
    path: str = ""
    #: r->args after rewriting (the script's QUERY_STRING); None: no query
    args: str | None = None
    #: variables set (value) or unset (None) in r->subprocess_env, in order
    env: tuple[tuple[str, str | None], ...] = ()
    #: [END] was used: no more rewriting for this request, its internal redirects
    #: included
    ended: bool = False
    #: [T=...] and [H=...]
    mimetype: str | None = None
    handler: str | None = None
    #: [DPI] dropped r->path_info (per directory)
    discard_path_info: bool = False
    #: an error-log line to write (the reason for a "status")
    note: Note | None = None
    #: the names of the header fields conditions looked at, for Vary
    vary: tuple[str, ...] = ()


# --- the working state of one pass ----------------------------------------------------------

_NOMATCH, _MATCH, _NOSUB, _STATUS_SET = 0, 1, 2, 3
_ACTION_NORMAL, _ACTION_NOESCAPE, _ACTION_STATUS, _ACTION_STATUS_SET = 1, 2, 3, 4

_Backref = tuple[str, "re.Match[str]"] | None


@dataclass
class _Pass:
    """rewrite_ctx plus the request fields the rules change (r->filename, r->args,
    r->path_info, r->status, r->subprocess_env)."""

    facts: Facts
    files: FileTests
    perdir: str | None
    uri: str  # r->uri
    filename: str
    args: str | None
    path_info: str = ""
    status: int = 200
    env: dict[str, str | None] = field(default_factory=dict)
    env_order: list[tuple[str, str | None]] = field(default_factory=list)
    ended: bool = False
    #: CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT ("" and DocumentRoot unless an Alias
    #: mapped the URL; known per directory)
    context_prefix: str = ""
    context_root: str = ""
    #: reduce_uri made a URL of this server a path (mod_rewrite_uri_reduced)
    reduced: bool = False
    mimetype: str | None = None
    handler: str | None = None
    note: Note | None = None
    #: header fields looked at: by the rules that matched, by this rule, by this condition
    vary: list[str] = field(default_factory=list)
    vary_rule: list[str] = field(default_factory=list)
    vary_this: list[str] = field(default_factory=list)
    match_uri: str = ""
    rr: _Backref = None
    rc: _Backref = None

    def set_env(self, name: str, value: str | None) -> None:
        self.env[name] = value
        self.env_order.append((name, value))


# --- variables -------------------------------------------------------------------------------


def _lookup_header(st: _Pass, name: str) -> str | None:
    value = st.facts.header(name)
    # lookup_header: Vary names every header looked at, except Host (RFC 7231 7.1.4)
    if value is not None and name.lower() != "host":
        st.vary_this.append(name)
    return value


def _env_value(st: _Pass, name: str) -> str | None:
    if name in st.env:
        return st.env[name]
    return st.facts.env.get(name, st.facts.environ.get(name))


#: the variables that name a request header field
_HEADER_VARIABLES = {"HTTP_HOST": "Host", "HTTP_ACCEPT": "Accept", "HTTP_COOKIE": "Cookie",
                     "HTTP_REFERER": "Referer", "HTTP_FORWARDED": "Forwarded",
                     "HTTP_USER_AGENT": "User-Agent",
                     "HTTP_PROXY_CONNECTION": "Proxy-Connection"}


def lookup_variable(st: _Pass, var: str) -> str:
    """mod_rewrite.c lookup_variable: %{NAME} → its value ("" when unknown or unset)."""
    if len(var) < 4:
        return ""
    f = st.facts
    result: str | None = None
    if var[3:4] == ":":
        prefix, name = var[:3].upper(), var[4:]
        if name and prefix == "ENV":
            result = _env_value(st, name)
        return result or ""  # SSL:... : no mod_ssl here
    if var[4:5] == ":":
        if var[5:] and var[:4].upper() == "HTTP":
            return _lookup_header(st, var[5:]) or ""
        return ""
    name = var.upper()
    if name.startswith("TIME"):
        year, mon, day, hour, minute, sec, wday = f.now
        times = {"TIME": f"{year:04d}{mon:02d}{day:02d}{hour:02d}{minute:02d}{sec:02d}",
                 "TIME_DAY": f"{day:02d}", "TIME_SEC": f"{sec:02d}",
                 "TIME_MIN": f"{minute:02d}", "TIME_MON": f"{mon:02d}",
                 "TIME_WDAY": str(wday), "TIME_YEAR": f"{year:04d}",
                 "TIME_HOUR": f"{hour:02d}"}
        return times.get(name, "")
    headers = _HEADER_VARIABLES.get(name)
    if headers is not None:
        return _lookup_header(st, headers) or ""
    simple: dict[str, str | None] = {
        "IPV6": "on" if f.ipv6 else "off",
        "HTTPS": "on" if f.scheme == "https" else "off",
        "IS_SUBREQ": "true" if f.is_subreq else "false",
        "PATH_INFO": st.path_info or None,
        "AUTH_TYPE": f.auth_type,
        "SERVER_NAME": f.server_name,
        "REMOTE_ADDR": f.remote_addr,
        "SERVER_ADDR": f.server_addr,
        "THE_REQUEST": f.the_request,
        "API_VERSION": f.api_version,
        "SERVER_PORT": str(f.server_port),
        "REMOTE_HOST": f.remote_addr,  # HostnameLookups Off: the address
        "REMOTE_PORT": str(f.remote_port),
        "REMOTE_USER": f.remote_user,
        "SCRIPT_USER": "<unknown>",
        "SCRIPT_GROUP": "<unknown>",
        "REQUEST_URI": st.uri,
        "REMOTE_IDENT": None,
        "QUERY_STRING": st.args,
        "SERVER_ADMIN": f.server_admin,
        "DOCUMENT_ROOT": f.document_root,
        "CONTEXT_PREFIX": st.context_prefix,
        "CONTEXT_DOCUMENT_ROOT": st.context_root or f.document_root,
        "REQUEST_METHOD": f.method,
        "REQUEST_SCHEME": f.scheme,
        "SCRIPT_FILENAME": st.filename,
        "REQUEST_FILENAME": st.filename,
        "SERVER_PROTOCOL": f.protocol,
        "SERVER_SOFTWARE": f.server_software,
        "CONN_REMOTE_ADDR": f.remote_addr,
    }
    return simple.get(name) or ""


# --- expansion ---------------------------------------------------------------------------------


def _closing_curly(s: str, start: int) -> int:
    depth = 1
    for i in range(start, len(s)):
        if s[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        elif s[i] == "{":
            depth += 1
    return -1


def _char_in_curlies(s: str, start: int, end: int, ch: str) -> int:
    depth = 1
    for i in range(start, end):
        if s[i] == ch and depth == 1:
            return i
        if s[i] == "}":
            depth -= 1
            if depth == 0:
                return -1
        elif s[i] == "{":
            depth += 1
    return -1


def _escape_backref(text: str, rule: Rule) -> str:
    """escape_backref ([B]): like PHP's urlencode, on the bytes."""
    out: list[str] = []
    for c in text:
        code = ord(c)
        if rule.escape_ctls:
            wanted = not (0x21 <= code <= 0x7E or code >= 0x80)
        else:
            wanted = rule.escapes is None
        if rule.escapes is not None and c in rule.escapes:
            wanted = True
        if wanted and not (rule.noescapes is not None and c in rule.noescapes):
            if c.isascii() and (c.isalnum() or c == "_"):
                out.append(c)
            elif c == " " and not rule.escape_noplus:
                out.append("+")
            else:
                out.append(f"%{code:02x}")
        else:
            out.append(c)
    return "".join(out)


def expand(st: _Pass, text: str, rule: Rule | None = None,
           track_qmark: bool = False) -> tuple[str, int]:
    """do_expand: "\\c", %{VAR}, ${map:key|default}, $N and %N in one pass. With
    ``track_qmark``: also whether the "?" that splits off the query came from an
    expansion (1), from the text (0) or is absent (-1) (the first one, or the last with
    [QSL])."""
    out: list[str] = []
    unsafe = -1
    tracking = track_qmark
    qslast = rule is not None and rule.qslast
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        piece: str
        expanded = False
        if c == "\\":
            if i + 1 >= n:
                piece = "\\"
                i += 1
            else:
                piece = text[i + 1]
                i += 2
        elif c in "$%" and i + 1 < n and text[i + 1] == "{":
            end = _closing_curly(text, i + 2)
            if end == -1:
                piece = text[i:i + 2]
                i += 2
            elif c == "%":
                piece = lookup_variable(st, text[i + 2:end])
                expanded = True
                i = end + 1
            else:
                colon = _char_in_curlies(text, i + 2, end, ":")
                if colon == -1:
                    piece = text[i:i + 2]
                    i += 2
                else:
                    # RewriteMap is refused at start-up, so no map exists: the default
                    # (lookup_map fails), expanded
                    bar = _char_in_curlies(text, colon + 1, end, "|")
                    piece = expand(st, text[bar + 1:end], rule)[0] if bar != -1 else ""
                    expanded = True
                    i = end + 1
        elif c in "$%" and i + 1 < n and text[i + 1].isdigit():
            num = int(text[i + 1])
            bri = st.rr if c == "$" else st.rc
            piece = ""
            if bri is not None:
                source, m = bri
                if num <= (m.re.groups or 0) and m.start(num) != -1 and m.end(num) > m.start(num):
                    piece = source[m.start(num):m.end(num)]
                    if rule is not None and rule.escape_backrefs:
                        piece = _escape_backref(piece, rule)
                    expanded = True
            i += 2
        else:
            piece = c
            i += 1
            if tracking and c == "?":
                unsafe = 0
                tracking = qslast
        if tracking and expanded and "?" in piece:
            unsafe = 1
            tracking = qslast
        out.append(piece)
    return "".join(out), unsafe


# --- conditions ---------------------------------------------------------------------------------


def _stat(st: _Pass, path: str, link: bool = False) -> os.stat_result | None:
    try:
        p = unwire(path)
        return st.files.lstat(p) if link else st.files.stat(p)
    except (OSError, ValueError):
        return None


def _lexi(a: str, b: str) -> int:
    """compare_lexicography: the longer string is greater, else bytewise."""
    if len(a) != len(b):
        return 1 if len(a) > len(b) else -1
    return (a > b) - (a < b)


def _atoi(text: str) -> int:
    """C's atoi: leading digits, else 0."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def apply_cond(st: _Pass, cond: Cond) -> bool:
    value, _ = expand(st, cond.test)
    kind = cond.kind
    rc = False
    if kind == "regex":
        assert cond.regex is not None
        m = cond.regex.search(value)
        rc = m is not None
        if m is not None and not cond.negate:
            st.rc = (value, m)
    elif kind in ("-f", "-s", "-d", "-x"):
        sb = _stat(st, value)
        if sb is not None:
            if kind == "-f":
                rc = stat_mod.S_ISREG(sb.st_mode)
            elif kind == "-s":
                rc = stat_mod.S_ISREG(sb.st_mode) and sb.st_size > 0
            elif kind == "-d":
                rc = stat_mod.S_ISDIR(sb.st_mode)
            else:
                rc = bool(sb.st_mode & 0o111)
    elif kind == "-l":
        sb = _stat(st, value, link=True)
        rc = sb is not None and stat_mod.S_ISLNK(sb.st_mode)
    elif kind in ("<", ">", "<=", ">="):
        if cond.nocase:  # strcasecmp: bytewise on the lower-cased strings
            a, b = value.lower(), cond.pattern.lower()
            cmp = (a > b) - (a < b)
        else:
            cmp = _lexi(value, cond.pattern)
        rc = {"<": cmp < 0, ">": cmp > 0, "<=": cmp <= 0, ">=": cmp >= 0}[kind]
    elif kind == "=":
        rc = (value.lower() == cond.pattern.lower()) if cond.nocase else value == cond.pattern
    else:
        x, y = _atoi(value), _atoi(cond.pattern)
        rc = {"-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y, "-eq": x == y}[kind]
    return rc != cond.negate


# --- URLs -----------------------------------------------------------------------------------------

_SCHEMES = (("ajp://", True), ("balancer://", True), ("ftp://", False), ("fcgi://", True),
            ("gopher://", False), ("http://", True), ("https://", True), ("h2://", True),
            ("h2c://", True), ("ldap://", False), ("mailto:", True), ("news:", False),
            ("nntp://", False), ("scgi://", True), ("ws://", True), ("wss://", True))


def absolute_uri(uri: str) -> tuple[int, bool]:
    """is_absolute_uri: the length of the scheme part ("http://" is 7) or 0, and
    whether a query string makes sense for it."""
    if uri.startswith("/") or len(uri) <= 5:
        return 0, False
    low = uri[:12].lower()
    for scheme, qs in _SCHEMES:
        if low.startswith(scheme):
            return len(scheme), qs
    if low.startswith("unix:"):
        return (7 if uri[5:7] == "//" else 5), True
    return 0, False


#: gen_test_char T_OS_ESCAPE_PATH: what ap_escape_uri leaves as it is
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                  "$-_.+!*'(),:;@&=~/")


def escape_uri(text: str) -> str:
    """ap_escape_uri on a wire string."""
    return "".join(c if c in _SAFE else f"%{ord(c):02x}" for c in text)


def _escape_absolute_uri(uri: str, scheme: int) -> str:
    """escape_absolute_uri: the part after the host escaped (ldap's "?" kept)."""
    cp = scheme
    if uri[cp - 1] == "/":
        while cp < len(uri) and uri[cp] != "/":
            cp += 1
        if cp >= len(uri) or cp + 1 >= len(uri):
            return uri
        cp += 1
        if uri[:4].lower() == "ldap":
            tokens = uri[cp:].split("?", 4)
            return uri[:cp] + "?".join(escape_uri(t) for t in tokens)
    return uri[:cp] + escape_uri(uri[cp:])


def _is_default_port(f: Facts) -> bool:
    return f.server_port == (443 if f.scheme == "https" else 80)


def _fully_qualify(st: _Pass) -> None:
    if st.facts.method == "CONNECT" or absolute_uri(st.filename)[0]:
        return
    f = st.facts
    port = "" if _is_default_port(f) else f":{f.server_port}"
    sep = "" if st.filename.startswith("/") else "/"
    st.filename = f"{f.scheme}://{f.server_name}{port}{sep}{st.filename}"


def _reduce_uri(st: _Pass) -> bool:
    """reduce_uri: "http://ourhost[:port]/x" → "/x" (True when reduced)."""
    f = st.facts
    head = f.scheme + "://"
    name = st.filename
    if not (len(name) > len(head) and name[:len(head)].lower() == head):
        return False
    rest = name[len(head):]
    cut = len(rest)
    for i, ch in enumerate(rest):
        if ch in "/:":
            cut = i
            break
    host = rest[:cut]
    after = rest[cut:]
    default = 443 if f.scheme == "https" else 80
    if after.startswith(":"):
        slash = after.find("/")
        port = _atoi(after[1:slash if slash != -1 else len(after)])
        url = after[slash:] if slash != -1 else "/"
    elif after.startswith("/"):
        port, url = default, after
    else:
        port, url = default, "/"
    if host.lower() in f.vhost_names and (not f.vhost_port or f.vhost_port == port):
        st.filename = url
        return True
    return False


def _splitout_queryargs(st: _Pass, rule: Rule) -> None:
    if rule.qsnone:
        st.args = None
        return
    skip, qs = absolute_uri(st.filename)
    if skip and not qs:
        st.args = None
        return
    if rule.qsdiscard:
        st.args = None
    q = st.filename.rfind("?", skip) if rule.qslast else st.filename.find("?", skip)
    if q == -1:
        return
    query = st.filename[q + 1:]
    st.filename = st.filename[:q]
    if rule.qsappend:
        if query:
            st.args = query + "&" + (st.args or "")
    else:
        st.args = query
    if st.args is not None:
        if not st.args:
            st.args = None
        elif st.args.endswith("&"):
            st.args = st.args[:-1]


# --- rules ----------------------------------------------------------------------------------------


def apply_rule(st: _Pass, rule: Rule) -> tuple[int, bool]:
    """apply_rewrite_rule: (what happened, whether a per-dir prefix was added)."""
    uri = st.filename
    perdir = st.perdir
    if perdir is not None:
        if st.path_info:
            uri += st.path_info
        if uri.startswith(perdir):
            uri = uri[len(perdir):]
    m = rule.regex.search(uri)
    if (m is not None) == rule.negate:
        return _NOMATCH, False
    st.vary_this = []
    st.vary_rule = []
    st.rc = None
    st.rr = None if rule.negate or m is None else (uri, m)
    conds = rule.conds
    i = 0
    while i < len(conds):
        cond = conds[i]
        rc = apply_cond(st, cond)
        if cond.novary:
            st.vary_this = []
        if cond.ornext:
            if not rc:
                st.vary_this = []
                i += 1
                continue
            while i < len(conds) and conds[i].ornext:
                i += 1
        elif not rc:
            return _NOMATCH, False
        if st.vary_this:
            st.vary_rule.extend(st.vary_this)
            st.vary_this = []
        i += 1
    newuri = ""
    if not rule.nosub:
        newuri, unsafe = expand(st, rule.output, rule, track_qmark=not rule.unsafe_allow_3f)
        if unsafe > 0:
            st.note = M.REWRITE_UNSAFE_3F.note()
            st.status = 403
            return _STATUS_SET, False
    for item in rule.env:
        name, _ = expand(st, item)
        if name.startswith("!"):
            st.set_env(name[1:], None)
        else:
            key, _sep, value = name.partition(":")
            st.set_env(key, value)
    if rule.nosub:
        _force_type_handler(st, rule)
        if rule.status_only:
            st.status = rule.status
        return _NOSUB, False
    prefix_added = False
    if not newuri.startswith("/") and not absolute_uri(newuri)[0]:
        if perdir is not None:
            newuri = perdir + newuri
            prefix_added = True
        elif not (rule.proxy or rule.redirect):
            newuri = "/" + newuri
            prefix_added = True
    st.filename = newuri
    if perdir is not None and rule.discard_path_info:
        st.path_info = ""
    _splitout_queryargs(st, rule)
    if rule.proxy:
        _fully_qualify(st)
        st.filename = "proxy:" + st.filename
        return _MATCH, prefix_added
    if rule.redirect:
        _fully_qualify(st)
        st.status = rule.status
        return _MATCH, prefix_added
    if _reduce_uri(st):
        st.reduced = True
    if absolute_uri(st.filename)[0]:
        st.status = rule.status
        return _MATCH, prefix_added
    if not (rule.unc or prefix_added) and not rule.output.startswith("//"):
        while st.filename.startswith("//"):
            st.filename = st.filename[1:]
    _force_type_handler(st, rule)
    return _MATCH, prefix_added


def _force_type_handler(st: _Pass, rule: Rule) -> None:
    if rule.mimetype:
        value, _ = expand(st, rule.mimetype, rule)
        if value:
            st.mimetype = value.lower()
    if rule.handler:
        value, _ = expand(st, rule.handler, rule)
        if value:
            st.handler = value.lower()


#: LimitRequestLine's default, which bounds a rewritten filename (twice it)
_LIMIT_REQUEST_LINE = 8190


def apply_list(st: _Pass, rules: tuple[Rule, ...]) -> tuple[int, Rule | None]:
    """apply_rewrite_list: the ACTION_* result and the last rule that substituted."""
    changed = 0
    lastsub: Rule | None = None
    rounds = 1
    i = 0
    while i < len(rules):
        rule = rules[i]
        if st.facts.is_subreq and (rule.nosubreq or rule.redirect):
            i += 1
            continue
        rc, _ = apply_rule(st, rule)
        if rc != _NOMATCH:
            # the fields the matching rule's conditions looked at go to Vary
            st.vary.extend(st.vary_rule)
            if not rule.nosub:
                lastsub = rule
            if len(st.filename) > 2 * _LIMIT_REQUEST_LINE:
                st.note = M.plain(f"RewriteRule '{unwire(rule.pattern)}' and URI "
                                  f"'{unwire(st.uri)}' exceeded maximum length "
                                  f"({2 * _LIMIT_REQUEST_LINE})", "rewrite")
                st.status = 500
                return _ACTION_STATUS, lastsub
            if rc == _STATUS_SET:
                return _ACTION_STATUS_SET, lastsub
            if rule.status_only:
                return _ACTION_STATUS, lastsub
            if rc != _NOSUB:
                changed = _ACTION_NOESCAPE if rule.noescape else _ACTION_NORMAL
            if rule.passthrough:
                st.filename = "passthrough:" + st.filename
                changed = _ACTION_NORMAL
                break
            if rule.end:
                st.ended = True
                break
            if rule.proxy or rule.last:
                break
            if rule.next_round:
                rounds += 1
                if rounds >= rule.max_rounds:
                    st.note = M.REWRITE_ROUNDS.note(pattern=unwire(rule.pattern),
                                                    uri=unwire(st.uri),
                                                    rounds=rule.max_rounds)
                    st.status = 500
                    return _ACTION_STATUS, lastsub
                i = 0
                continue
            if rule.skip > 0:
                i += rule.skip
        else:
            while i < len(rules) and rules[i].chain:
                i += 1
        i += 1
    return changed, lastsub


# --- the two hooks -----------------------------------------------------------------------------------


def _outcome(st: _Pass, kind: OutcomeKind, *, status: int = 0, path: str = "",
             note: Note | None = None, discard_path_info: bool = False) -> Outcome:
    return Outcome(kind=kind, status=status, path=path, args=st.args,
                   env=tuple(st.env_order),
                   ended=st.ended, mimetype=st.mimetype, handler=st.handler,
                   discard_path_info=discard_path_info, note=note or st.note,
                   vary=tuple(dict.fromkeys(st.vary)))


def _bad_args(args: str | None) -> bool:
    """ap_scan_vchar_obstext found a byte that is neither VCHAR nor obs-text."""
    return args is not None and any(not (0x21 <= ord(c) <= 0x7E or ord(c) >= 0x80)
                                    for c in args)


def _redirect(st: _Pass, rulestatus: int, oargs: str | None, skip: int) -> Outcome:
    if rulestatus != _ACTION_NOESCAPE:
        st.filename = _escape_absolute_uri(st.filename, skip)
    if st.args:
        noescape = rulestatus == _ACTION_NOESCAPE or (oargs is not None and st.args == oargs)
        st.filename += "?" + (st.args if noescape else escape_uri(st.args))
    status = st.status if 300 <= st.status < 400 else 302
    return _outcome(st, "redirect", status=status, path=st.filename)


def _subst_prefix(path: str, match: str, subst: str) -> str:
    """subst_prefix_path: ``match`` (a directory) at the start of ``path`` replaced by
    ``subst`` (RewriteBase)."""
    length = len(match) - 1 if match.endswith("/") else len(match)
    if path.startswith(match[:length]) and path[length:length + 1] == "/":
        base = subst if subst.endswith("/") else subst + "/"
        return base + path[length + 1:]
    return path


def rewrite_server(conf: RewriteConf | None, engine: bool, facts: Facts, files: FileTests,
                   *, uri: str, args: str | None, ended: bool = False,
                   legacy_docroot: bool = False) -> Outcome:
    """hook_uri2file: the server's (or virtual host's) rules on r->uri. ``conf``: the
    server's settings (None: the virtual host has no mod_rewrite directive, so the main
    server's rules do not apply to it); ``engine``: RewriteEngine where the request is
    (the server's, or a <Location>'s)."""
    if conf is None or not engine or ended:
        return Outcome(args=args)
    st = _Pass(facts=facts, files=files, perdir=None, uri=uri, filename=uri, args=args)
    if not conf.has("AllowAnyURI"):
        words = facts.the_request.split()
        if (len(words) > 1 and words[1] == "*") or not uri.startswith("/"):
            return Outcome(args=args)
    if not facts.is_subreq:
        st.set_env("SCRIPT_URL", facts.env.get("REDIRECT_SCRIPT_URL", uri))
    else:
        st.set_env("SCRIPT_URL", facts.env.get("SCRIPT_URL", uri))
    port = "" if _is_default_port(facts) else f":{facts.server_port}"
    st.set_env("SCRIPT_URI", f"{facts.scheme}://{facts.server_name}{port}"
                             f"{st.env['SCRIPT_URL']}")
    oargs = args
    rulestatus, lastsub = apply_list(st, conf.rules)
    if not rulestatus:
        st.args = oargs
        return _outcome(st, "none")
    skip = absolute_uri(st.filename)[0] if st.filename else 0
    to_proxy = st.filename.startswith("proxy:")
    will_escape = bool(skip) and rulestatus != _ACTION_NOESCAPE
    if st.args and not will_escape and _bad_args(st.args):
        return _outcome(st, "status", status=403, note=M.REWRITE_BAD_QUERY.note())
    if rulestatus in (_ACTION_STATUS, _ACTION_STATUS_SET):
        return _outcome(st, "status", status=st.status)
    if to_proxy:
        return _outcome(st, "status", status=403,
                        note=M.REWRITE_NO_PROXY.note(url=unwire(st.filename)))
    if skip:
        return _redirect(st, rulestatus, oargs, skip)
    if st.filename.startswith("passthrough:") and len(st.filename) > 12:
        return _outcome(st, "uri", path=st.filename[12:])
    if not st.filename.startswith("/"):
        return _outcome(st, "status", status=400)
    reduced = st.reduced and not legacy_docroot
    unsafe = conf.has("UnsafePrefixStat")
    if not _prefix_stat(st, st.filename, None if unsafe else lastsub) or reduced:
        root = facts.document_root.rstrip("/")
        st.filename = root + st.filename
    return _outcome(st, "file", path=st.filename)


def _prefix_stat(st: _Pass, path: str, lastsub: Rule | None) -> bool:
    """prefix_stat: whether ``path`` is taken as a filesystem path (its first segment
    exists, and the rule's substitution spelled it, or it is under DocumentRoot)."""
    first = path[1:].split("/", 1)[0]
    statpath = "/" + first
    if _stat(st, statpath) is None:
        return False
    if lastsub is None or lastsub.unsafe_prefix_stat:
        return True
    docroot = st.facts.document_root
    return lastsub.output.startswith(statpath) or path.startswith(docroot)


def rewrite_directory(conf: RewriteConf | None, facts: Facts, files: FileTests, *,
                      uri: str, filename: str, path_info: str, args: str | None,
                      follows_symlinks: bool, context_prefix: str = "",
                      context_document_root: str = "", ended: bool = False) -> Outcome:
    """hook_fixup: the rules of the directory (its merged settings ``conf``) on
    r->filename + r->path_info, the directory's prefix stripped."""
    if conf is None or not conf.engine or conf.directory is None or ended:
        return Outcome(args=args)
    directory = conf.directory
    if not conf.has("AllowNoSlash"):
        # a request for the directory itself without its "/": mod_dir redirects it
        if filename == directory[:-1]:
            return Outcome(args=args)
    if not follows_symlinks:
        return Outcome(kind="status", status=403, args=args,
                       note=M.REWRITE_SYMLINKS_OFF.note(path=unwire(filename)))
    st = _Pass(facts=facts, files=files, perdir=directory, uri=uri, filename=filename,
               args=args, path_info=path_info, context_prefix=context_prefix,
               context_root=context_document_root)
    ofilename = filename
    oargs = args
    rulestatus, _ = apply_list(st, conf.rules)
    if not rulestatus:
        st.args = oargs
        return _outcome(st, "none")
    skip = absolute_uri(st.filename)[0]
    will_escape = bool(skip) and rulestatus != _ACTION_NOESCAPE
    if st.args and not will_escape and _bad_args(st.args):
        return _outcome(st, "status", status=403, note=M.REWRITE_BAD_QUERY_DIR.note())
    if rulestatus in (_ACTION_STATUS, _ACTION_STATUS_SET):
        return _outcome(st, "status", status=st.status)
    dpi = st.path_info != path_info
    if st.filename.startswith("proxy:"):
        return _outcome(st, "status", status=403,
                        note=M.REWRITE_NO_PROXY_DIR.note(url=unwire(st.filename)))
    if skip:
        if conf.base is not None:
            slash = st.filename.find("/", skip)
            if slash != -1 and slash + 1 < len(st.filename):
                cp = st.filename[slash + 1:]
                directory_rel = directory[1:] if directory.startswith("/") else directory
                replaced = _subst_prefix(cp, directory_rel, conf.base[1:])
                if replaced != cp:
                    st.filename = st.filename[:slash + 1] + replaced
        return _redirect(st, rulestatus, oargs, skip)
    if st.filename.startswith("passthrough:") and len(st.filename) > 12:
        st.filename = st.filename[12:]
    if not st.filename.startswith("/"):
        return _outcome(st, "status", status=400)
    if st.filename == ofilename:
        # "initial URL equal rewritten URL [IGNORING REWRITE]": served as it is
        return _outcome(st, "none", discard_path_info=dpi)
    before = st.filename
    if conf.base is not None:
        st.filename = _subst_prefix(st.filename, directory, conf.base)
    else:
        root = facts.document_root.rstrip("/")
        if st.filename.startswith(root) and st.filename[len(root):len(root) + 1] == "/":
            st.filename = st.filename[len(root):]
    if st.filename == before and not conf.has("IgnoreContextInfo") and context_document_root:
        st.filename = _subst_prefix(st.filename, context_document_root, context_prefix)
    path = st.filename + ("?" + st.args if st.args else "")
    return _outcome(st, "internal", path=path)
