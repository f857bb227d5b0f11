"""URL → ``Target``: what a request path means on the filesystem, decided before
anything is read or run. Pure except for the ``fs`` object passed in (``files.RealFS``
in the server, a fake tree in tests).

Owns, in Apache's order (server/request.c ap_process_request_internal):
1. the path screen: decode unreserved escapes, merge slashes, remove dot segments
   (RFC 3986 5.2.4) — ".." above the root is 400 (AH10244); then decode every escape
   once — "%2F" and "%00" are 404 (AH00026, AllowEncodedSlashes Off), a bad escape 400;
2. translation: Alias/ScriptAlias/AliasMatch/ScriptAliasMatch (mod_alias, first match
   in config order), else DocumentRoot;
3. the filesystem walk (ap_directory_walk): component by component, the first regular
   file ends the walk and the rest is PATH_INFO; a symlink needs FollowSymLinks (or
   SymLinksIfOwnerMatch with the same owner) in the Options of its directory, else 403
   (AH00037);
4. the merged per-directory settings (``walk.effective_conf``), with the .htaccess files
   AllowOverride allows read on the way (``AccessFiles``: through ``fs``, parsed by
   ``config.htaccess``, kept by file identity; a bad one is 500, an unreadable one 403),
   and the settings whose access control the app checks (``Target.access``);
5. the handler (ScriptAlias → cgi-script; else SetHandler/AddHandler);
6. mod_dir: a directory without a trailing slash → 301 (DirectorySlash), with one →
   the first DirectoryIndex that resolves, as a URL, to a file; a URL that maps to no
   file and no handler → the FallbackResource URL, when that resolves to a file.

Containment: after dot-segment removal a URL can only name paths under the root of its
mapping, whatever the encoding (the screen runs before the single decode and "/" cannot
be produced by decoding; a NUL is refused, and so is a dot segment an AliasMatch
substitution makes of part of one). Symlinks are then the only way out, and the walk
lstat()s every component below the root: a link is followed only where the Options of its
directory allow it, as Apache does (checked: a symlink to /etc in the DocumentRoot
serves /etc/passwd under Apache's default Options FollowSymLinks). So where no link was
met, the real path *is* the root's real path plus the walked components; the property
test in tests/unit/test_resolve.py checks that against realpath() on random encodings.
(A realpath() per request cost a quarter of the static path's time and proved nothing
the walk had not.)

Must not know about HTTP messages, methods or the static/CGI handlers.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat as stat_mod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from cgihttpd import messages as M
from cgihttpd.cache import BoundedCache
from cgihttpd.config.htaccess import Htaccess, HtaccessContext, Overrides, parse_htaccess
from cgihttpd.config.model import Alias, ContextRedirect, DirConf, Redirect, VirtualHost
from cgihttpd.errors import HTTPError, http_error_from_oserror
from cgihttpd.messages import Note
from cgihttpd.rewrite import Facts, Outcome, rewrite_directory, rewrite_server, unwire, wire
from cgihttpd.target import Rewritten, Target
from cgihttpd.walk import ConfCache, HtaccessReader, effective_conf

#: Apache's limit on internal redirects (LimitInternalRecursion, default 10).
MAX_INDEX_DEPTH = 10

_HEX = "0123456789abcdefABCDEF"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class FileSystem(Protocol):
    """The filesystem operations resolution needs (raise ``OSError`` like ``os``)."""

    def stat(self, path: str) -> os.stat_result: ...
    def lstat(self, path: str) -> os.stat_result: ...
    def realpath(self, path: str) -> str: ...
    def isdir(self, path: str) -> bool: ...
    def listdir(self, path: str) -> list[str]: ...
    def read_bytes(self, path: str) -> bytes: ...  # a .htaccess


# --- 1. the path screen --------------------------------------------------------------


def normalize_path(raw: str) -> str:
    """Apache's ap_normalize_path (AP_NORMALIZE_DECODE_UNRESERVED |
    AP_NORMALIZE_MERGE_SLASHES): still-encoded path in, still-encoded path out.

    Escapes of unreserved characters are decoded first, so "%2e%2e" is a dot segment
    (RFC 3986 6.2.2.2); a malformed escape or a ".." above the root is 400.
    """
    if _WINDOWS:
        raw = raw.replace("\\", "/")
    if not raw.startswith("/") or "\0" in raw:
        # a literal NUL (the HTTP parser refuses one; a URL from elsewhere may not)
        # would reach the filesystem, which cannot take it: 400, as Apache's request
        # line check answers
        raise HTTPError(400, M.INVALID_URI_PATH.note(raw=raw))
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == "%":
            if i + 2 >= n or raw[i + 1] not in _HEX or raw[i + 2] not in _HEX:
                raise HTTPError(400, M.INVALID_URI_PATH.note(raw=raw))
            ch = chr(int(raw[i + 1:i + 3], 16))
            out.append(ch if ch in _UNRESERVED else raw[i:i + 3].upper())
            i += 3
        else:
            out.append(c)
            i += 1
    segments = "".join(out).split("/")[1:]
    stack: list[str] = []
    trailing = False
    for k, seg in enumerate(segments):
        last = k == len(segments) - 1
        if seg == "" and not last:
            continue  # MergeSlashes On: "//" is "/"
        if seg == ".":
            trailing = last
            continue
        if seg == "..":
            if not stack:
                raise HTTPError(400, M.INVALID_URI_PATH.note(raw=raw))
            stack.pop()
            trailing = last
            continue
        trailing = False
        if seg == "" and last:
            trailing = True
            continue
        stack.append(seg)
    path = "/" + "/".join(stack)
    if trailing and stack:
        path += "/"
    return path


#: Windows also splits paths at "\\" and gives ":" meaning (drives, streams): there a
#: literal "\\" is a "/" and an encoded one, or a ":", is refused like "%2F".
_WINDOWS = os.sep == "\\"
_REFUSED_BYTES = frozenset({0x2F, 0x00} | ({0x5C, 0x3A} if _WINDOWS else set()))


def decode_path(normalized: str, raw: str) -> str:
    """Decode every remaining escape once (ap_unescape_url). "%2F" and "%00" would
    make a "/" or a NUL the screen never saw: Apache answers 404 (AH00026,
    AllowEncodedSlashes Off). Bytes become str as the OS would (UTF-8,
    surrogateescape), so any byte sequence maps to the same filename."""
    data = bytearray()
    i = 0
    n = len(normalized)
    while i < n:
        c = normalized[i]
        if c == "%":
            b = int(normalized[i + 1:i + 3], 16)
            if b in _REFUSED_BYTES:
                raise HTTPError(404, M.ENCODED_SLASH.note(raw=raw))
            data.append(b)
            i += 3
        else:
            if _WINDOWS and c == ":":
                raise HTTPError(404, M.ENCODED_SLASH.note(raw=raw))
            data.extend(c.encode("latin-1") if ord(c) < 256 else c.encode("utf-8"))
            i += 1
    return bytes(data).decode("utf-8", "surrogateescape")


#: screened paths remembered (the screen is pure, and the same few URLs come again and
#: again); only short ones, so a client sending long random URLs costs little memory
SCREEN_CACHE_SIZE = 2048
SCREEN_CACHE_MAX_LENGTH = 256


def screen_path(raw: str) -> str:
    """The raw (still-encoded) request path → the decoded, normalised URL path."""
    if len(raw) <= SCREEN_CACHE_MAX_LENGTH:
        return _screen_path_cached(raw)
    return _screen_path(raw)


def _screen_path(raw: str) -> str:
    if raw.startswith(("http://", "https://")):
        # absolute-form (RFC 9112 3.2.2): the path starts after the authority
        rest = raw.split("://", 1)[1]
        slash = rest.find("/")
        raw = rest[slash:] if slash != -1 else "/"
    return decode_path(normalize_path(raw), raw)


# an invalid path raises HTTPError, which lru_cache does not remember: it is screened
# again each time (and its error log line says why each time)
_screen_path_cached = functools.lru_cache(maxsize=SCREEN_CACHE_SIZE)(_screen_path)


# --- 2. translation ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mapping:
    """Where a URL path points: the root it may not leave and the rest under it."""

    root: str
    rest: str
    alias: Alias | None


def alias_prefix_length(uri: str, fake: str) -> int:
    """mod_alias alias_matches(): the length of ``uri`` matched by the Alias URL
    ``fake``, or 0. Runs of "/" match runs of "/"; the match must end at a segment
    boundary unless ``fake`` ends in "/" (so "Alias /al2/ ..." does not match "/al2")."""
    ui = 0
    ai = 0
    while ai < len(fake):
        if fake[ai] == "/":
            if ui >= len(uri) or uri[ui] != "/":
                return 0
            while ai < len(fake) and fake[ai] == "/":
                ai += 1
            while ui < len(uri) and uri[ui] == "/":
                ui += 1
        else:
            if ui >= len(uri) or uri[ui] != fake[ai]:
                return 0
            ui += 1
            ai += 1
    if fake and fake[-1] != "/" and ui < len(uri) and uri[ui] != "/":
        return 0
    return ui


_GROUP_REF = re.compile(r"\\(\$)|\$(\d)")


def _substitute(template: str, match: re.Match[str]) -> str:
    """ap_pregsub: "$0".."$9" are the match's groups ("\\$" is a literal "$")."""

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        n = int(m.group(2))
        if n > (match.re.groups or 0):
            return ""
        return match.group(n) or ""

    return _GROUP_REF.sub(one, template)


def translate(vhost: VirtualHost, url_path: str) -> Mapping:
    for alias in vhost.aliases:
        if alias.kind in ("alias", "scriptalias"):
            length = alias_prefix_length(url_path, alias.url)
            if length:
                return Mapping(alias.path, url_path[length:], alias)
        else:
            m = re.search(alias.url, url_path)
            if m:
                filename = _substitute(alias.path, m)
                # the root is the part of the substitution no group can change
                static = alias.path.split("$", 1)[0]
                root = static if static.endswith("/") else os.path.dirname(static)
                root = root.rstrip("/") or "/"
                if not filename.startswith(root):
                    root = "/"
                return Mapping(root, filename[len(root):] if root != "/" else filename,
                               alias)
    return Mapping(vhost.document_root, url_path, None)


def translated_filename(vhost: VirtualHost, url_path: str) -> str:
    """The filename ``url_path`` translates to, before any walk (r->filename after the
    translate_name hooks): mod_alias joins the alias's target and the rest of the URL as
    they are ("Alias /a/ /srv/b" gives "/srv/bx" for "/a/x", as Apache does); the core
    appends the URL to the DocumentRoot (kept without a trailing "/")."""
    mapping = translate(vhost, url_path)
    if mapping.alias is None:
        return mapping.root.rstrip("/") + mapping.rest
    if mapping.root == "/" and mapping.rest.startswith("/"):
        return mapping.rest  # an AliasMatch whose substitution starts at the root
    return mapping.root + mapping.rest


# --- 2a. mod_alias redirects ------------------------------------------------------------

#: ap_is_url: a scheme (letters, digits, "+", "-", "."), then ":"
_IS_URL = re.compile(r"[A-Za-z0-9+.-]+:")
_PREGSUB = re.compile(r"\\(.)|\$(\d)", re.S)


def pregsub(template: str, match: re.Match[str]) -> str:
    """server/util.c ap_pregsub: "$0".."$9" are the match's groups (empty when a group
    did not take part or does not exist); a backslash makes the next character literal
    ("\\$1" is "$1")."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return m.group(1)
        n = int(m.group(2))
        if n > (match.re.groups or 0):
            return ""
        return match.group(n) or ""

    return _PREGSUB.sub(one, template)


#: apr_uri_port_of_scheme: the default ports apr_uri_unparse leaves out
_DEFAULT_PORTS = {"ftp": 21, "ssh": 22, "telnet": 23, "gopher": 70, "http": 80, "pop": 110,
                  "nntp": 119, "imap": 143, "prospero": 191, "wais": 210, "z39.50r": 210,
                  "z39.50s": 210, "ldap": 389, "https": 443, "rtsp": 554, "snews": 563,
                  "acap": 674, "nfs": 2049, "tip": 3372, "sip": 5060}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def escape_target(target: str) -> str:
    """What mod_alias does to a RedirectMatch target (after ``pregsub``) and to the
    one-argument Redirect's: apr_uri_parse, apr_uri_unparse without the query, then
    ap_escape_uri, then "?query" and "#fragment" back as written. So spaces and "%"
    are escaped, a default port is dropped ("http://h:80/x" is "http://h/x") and a
    password is shown as "XXXXXXXX", as Apache does."""
    rest = target
    scheme: str | None = None
    site = ""
    m = _SCHEME.match(rest)
    if m is not None:
        scheme = m.group()[:-1]
        rest = rest[m.end():]
    if rest.startswith("//") and (scheme is not None or rest[2:3] != "/"):
        end = len(rest)
        for delim in "/?#":
            found = rest.find(delim, 2)
            if found != -1:
                end = min(end, found)
        hostinfo, rest = rest[2:end], rest[end:]
        userinfo, at, hostport = hostinfo.rpartition("@")
        user = ""
        if at:
            name, colon, _password = userinfo.partition(":")
            user = name + (":XXXXXXXX" if colon else "") + "@"
        if hostport.startswith("["):
            close = hostport.find("]")
            host = hostport[1:close] if close != -1 else hostport[1:]
            port_part = hostport[close + 1:] if close != -1 else ""
            port_str = port_part[1:] if port_part.startswith(":") else None
        else:
            host, colon, port_text = hostport.partition(":")
            port_str = port_text if colon else None
        port = 0
        if port_str:
            digits = re.match(r"\s*[+-]?\d+", port_str)
            port = int(digits.group()) if digits else 0
            if digits is None or digits.end() != len(port_str):
                rest = ""  # apr_uri_parse stops at a bad port: no path follows
        default = port_str is None or port == 0 or port == _DEFAULT_PORTS.get(
            (scheme or "").lower(), 0)
        bracketed = f"[{host}]" if ":" in host else host
        site = "//" + user + bracketed + ("" if default else ":" + (port_str or ""))
    path_end = min([at for at in (rest.find("?"), rest.find("#")) if at != -1]
                   or [len(rest)])
    path, tail = rest[:path_end], rest[path_end:]
    query: str | None = None
    fragment: str | None = None
    if tail.startswith("?"):
        query, hash_, after = tail[1:].partition("#")
        fragment = after if hash_ else None
    elif tail.startswith("#"):
        fragment = tail[1:]
    out = escape_path((scheme + ":" if scheme is not None else "") + site + path)
    if query is not None:
        out += "?" + query
    if fragment is not None:
        out += "#" + fragment
    return out


def match_redirect(url_path: str, context: ContextRedirect | None,
                   entries: tuple[Redirect, ...]) -> tuple[int, str] | None:
    """mod_alias try_redirect, then try_alias_list over ``entries``: the status and
    the target ("" for a status that takes none) of the first redirect that applies to
    the decoded ``url_path``, or None. A Redirect's target is its URL with the rest of
    the path escaped and appended; a RedirectMatch's, its substitution, escaped."""
    if context is not None:
        return context.status, "" if context.url is None else escape_target(context.url)
    for entry in entries:
        if entry.regex:
            m = re.search(entry.fake, url_path)
            if m is not None:
                return entry.status, "" if entry.url is None else escape_target(
                    pregsub(entry.url, m))
            continue
        length = alias_prefix_length(url_path, entry.fake)
        if length:
            return entry.status, ("" if entry.url is None
                                  else entry.url + escape_path(url_path[length:]))
    return None


def _redirected(found: tuple[int, str], url_path: str, fixup: bool, conf: DirConf,
                filename: str = "") -> Target:
    """mod_alias translate_alias_redir / fixup_redir once a redirect applies: a 3xx
    goes to its target (a path is made a full URL with the request's host by the app,
    ap_construct_url); a target that is neither is a 500; another status is answered as
    an error (ErrorDocument applies)."""
    status, location = found
    if not 300 <= status < 400:
        return Target(kind="error", status=status, url_path=url_path, filename=filename,
                      conf=conf)
    if not location.startswith("/") and not _IS_URL.match(location):
        message = M.REDIRECT_NOT_URL_FIXUP if fixup else M.REDIRECT_NOT_URL
        return Target(kind="error", status=500, url_path=url_path, filename=filename,
                      conf=conf, note=message.note(uri=url_path, target=location))
    return Target(kind="redirect", status=status, location=location, url_path=url_path,
                  filename=filename, conf=conf)


# --- 3. the filesystem walk ----------------------------------------------------------

FoundKind = Literal["file", "dir", "missing", "other"]


@dataclass(frozen=True, slots=True)
class Found:
    kind: FoundKind
    filename: str
    path_info: str
    #: a symlink met below the root (realpath containment then does not apply)
    followed_link: bool
    #: for "file": its stat (through a followed link)
    st: os.stat_result | None = None


def _join(base: str, name: str) -> str:
    return base + name if base.endswith("/") else base + "/" + name


def _walk_error(exc: OSError, url_path: str, filename: str) -> HTTPError:
    """ap_directory_walk: a component that cannot be searched is 403 (AH00035), any
    other failure but "no such file" too (AH00036: "deny rather than assume not
    found"); the log line carries the OS error first, as Apache's does."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return HTTPError(403, M.SEARCH_DENIED.note(errno=exc, url=url_path, path=filename))
    return HTTPError(403, M.ACCESS_FAILED.note(errno=exc, url=url_path, path=filename))


def _symlink_allowed(vhost: VirtualHost, link: str, url_path: str, fs: FileSystem,
                     lst: os.stat_result, confs: ConfCache | None,
                     htaccess: HtaccessReader | None = None) -> bool:
    parent = link.rsplit("/", 1)[0] or "/"
    options = effective_conf(vhost, parent, url_path, is_dir=True, cache=confs,
                             htaccess=htaccess).effective_options
    if "FollowSymLinks" in options:
        return True
    if "SymLinksIfOwnerMatch" in options:
        try:
            return fs.stat(link).st_uid == lst.st_uid
        except OSError:
            return False
    return False


def walk_filesystem(vhost: VirtualHost, mapping: Mapping, url_path: str,
                    fs: FileSystem, confs: ConfCache | None = None,
                    htaccess: HtaccessReader | None = None) -> Found:
    """ap_directory_walk over ``mapping.rest`` below ``mapping.root``.

    Apache walks r->filename, the alias's target and the rest of the URL joined as
    written, and a regular file ends the walk wherever it is met, the target itself
    included: what follows the file's name is PATH_INFO, its leading "/" kept ("ScriptAlias
    /git/ /usr/lib/git-core/git-http-backend/" gives "/repo.git/info/refs" for
    "/git/repo.git/info/refs", and "/" for "/git/"; git-http-backend needs both)."""
    if (mapping.alias is not None and mapping.rest and not mapping.rest.startswith("/")
            and not mapping.root.endswith("/") and mapping.root.rstrip("/")):
        # "Alias /a/ /srv/b": "/a/x" names "/srv/bx", a sibling of the target, as in
        # Apache (mod_alias joins the two as written)
        parent, _, name = mapping.root.rpartition("/")
        mapping = Mapping(parent or "/", "/" + name + mapping.rest, mapping.alias)
    root = mapping.root.rstrip("/") or "/"
    parts = mapping.rest.split("/")
    components = [p for p in parts if p]
    if "." in components or ".." in components:
        # only an AliasMatch substitution can make a dot segment (the screen removed the
        # URL's): a group that took part of one ("^/p([^/]*)" on "/p.."). Apache's walk
        # would resolve it and leave the alias's target; we refuse it, as AH00036 does
        # what it cannot walk safely
        raise HTTPError(403, M.ACCESS_FAILED.note(url=url_path, path=mapping.root + mapping.rest))
    # mod_alias appends the rest to the target as written: "/srv/cgi/" + "" keeps its "/"
    trailing = "/" if mapping.rest.endswith("/") or (
        not mapping.rest and mapping.root.endswith("/")) else ""
    try:
        st = fs.stat(root)
    except OSError as exc:
        err = http_error_from_oserror(exc, root)
        if err.status == 404:
            return Found("missing", root, mapping.rest, False)
        raise err from None
    if stat_mod.S_ISREG(st.st_mode):
        # what follows the file's name in root + rest, runs of "/" merged as
        # apr_filepath_merge merges them ("/x" + "//y" → "/y"), a trailing one kept
        after = (mapping.root + mapping.rest)[len(root):]
        path_info = ("/" + "/".join(components) + trailing) if components else (
            "/" if after else "")
        return Found("file", root, path_info, False, st)
    if not stat_mod.S_ISDIR(st.st_mode):
        return Found("other", root, mapping.rest, False)
    path = root
    followed = False
    for i, name in enumerate(components):
        candidate = _join(path, name)
        rest = "/".join(components[i + 1:])
        path_info = ("/" + rest + trailing) if rest else trailing
        try:
            lst = fs.lstat(candidate)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return Found("missing", candidate, path_info, followed)
            raise _walk_error(exc, url_path, _join(root, mapping.rest.lstrip("/"))) from None
        st = lst
        if stat_mod.S_ISLNK(lst.st_mode):
            if not _symlink_allowed(vhost, candidate, url_path, fs, lst, confs, htaccess):
                raise HTTPError(403, M.SYMLINK_DENIED.note(path=candidate))
            try:
                st = fs.stat(candidate)
            except OSError:
                raise HTTPError(403, M.SYMLINK_DENIED.note(path=candidate)) from None
            followed = True
        if stat_mod.S_ISDIR(st.st_mode):
            path = candidate
            continue
        if stat_mod.S_ISREG(st.st_mode):
            return Found("file", candidate, path_info, followed, st)
        return Found("other", candidate, path_info, followed)
    return Found("dir", path + trailing if not path.endswith("/") else path, "", followed)


# --- 4. access files --------------------------------------------------------------------

#: parsed access files by the file's identity (path, device, inode, size, mtime) and
#: what may be in it there: an edited file has another key, so it is parsed again
HtaccessCache = BoundedCache[tuple[str, int, int, int, int, Overrides], Htaccess]


@dataclass(frozen=True, slots=True)
class AccessFiles:
    """What reading .htaccess files needs: the server's side of parsing them, and where
    parsed files are kept (the runtime's cache, or None)."""

    context: HtaccessContext
    cache: HtaccessCache | None = None


def _access_file_reader(vhost: VirtualHost, fs: FileSystem,
                        access: AccessFiles) -> HtaccessReader:
    """ap_parse_htaccess for ``walk``: the first of AccessFileName's names present in a
    directory, parsed (or taken from the cache while its stat is the same). The stat
    goes through ``fs``, so a remembered resolution is replayed only while every access
    file on its path (present or absent) is as it was."""

    def read(directory: str, conf: DirConf) -> Htaccess | None:
        overrides = Overrides.of(conf)
        for name in vhost.access_file_names:
            path = _join(directory, name)
            try:
                st = fs.stat(path)
                key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, overrides)
                parsed = access.cache.get(key) if access.cache is not None else None
                if parsed is None:
                    text = fs.read_bytes(path).decode("utf-8", "surrogateescape")
                    parsed = parse_htaccess(text, path, directory, overrides,
                                            access.context)
                    if access.cache is not None:
                        access.cache.put(key, parsed)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                    continue
                # "Server unable to read htaccess file, denying access to be safe"
                raise HTTPError(403, M.HTACCESS_UNREADABLE.note(
                    errno=exc, path=path, dir=directory)) from None
            if parsed.error is not None:
                raise HTTPError(500, M.htaccess_error(path, parsed.error))
            return parsed
        return None

    return read


# --- mod_rewrite -----------------------------------------------------------------------


class RewriteRun:
    """One request's mod_rewrite state while it is resolved (and across its internal
    redirects: ``ended``): the request's facts (built on first use, only when some rule
    set applies), r->args as the rules leave it, the variables they set, and whether any
    rule set was consulted (then the resolution is not remembered)."""

    def __init__(self, facts: Callable[[], Facts], args: str | None,
                 ended: bool = False) -> None:
        self._make_facts = facts
        self._facts: Facts | None = None
        self.args = args
        self.env: list[tuple[str, str | None]] = []
        self.vary: list[str] = []
        self.ended = ended
        self._parent: RewriteRun | None = None
        self._consulted = False

    def child(self) -> RewriteRun:
        """The state of a sub-request (mod_dir's): the request's query and variables to
        start with, its own changes, kept only if the request adopts it (``adopt``)."""
        run = RewriteRun(self._make_facts, self.args, self.ended)
        run._facts = self._facts
        run.env = list(self.env)
        run._parent = self
        return run

    def adopt(self, child: RewriteRun) -> None:
        self.args = child.args
        self.env = list(child.env)
        self.vary.extend(child.vary)
        self.ended = self.ended or child.ended

    @property
    def consulted(self) -> bool:
        return self._consulted

    @consulted.setter
    def consulted(self, value: bool) -> None:
        # a sub-request's rules decide what the request is served too
        self._consulted = value
        if self._parent is not None:
            self._parent.consulted = value

    def _facts_for(self, subreq: bool) -> Facts:
        if self._facts is None:
            self._facts = self._make_facts()
        facts = self._facts
        if self.env:
            env = dict(facts.env)
            for name, value in self.env:
                if value is None:
                    env.pop(name, None)
                else:
                    env[name] = value
            facts = replace(facts, env=env)
        return replace(facts, is_subreq=True) if subreq else facts

    def _take(self, out: Outcome) -> Outcome:
        self.args = out.args
        self.env.extend(out.env)
        self.vary.extend(out.vary)
        self.ended = self.ended or out.ended
        return out

    def server(self, vhost: VirtualHost, url_path: str, located: DirConf, fs: FileSystem,
               *, subreq: bool) -> Outcome:
        engine = located.rewrite is not None and located.rewrite.enabled
        if vhost.rewrite is None or not engine or self.ended:
            return Outcome(args=self.args)
        self.consulted = True
        return self._take(rewrite_server(
            vhost.rewrite, engine, self._facts_for(subreq), fs, uri=wire(url_path),
            args=self.args, legacy_docroot=vhost.rewrite.has("LegacyPrefixDocRoot")))

    def directory(self, conf: DirConf, filename: str, path_info: str, url_path: str,
                  fs: FileSystem, *, subreq: bool, context_prefix: str,
                  context_root: str) -> Outcome:
        rw = conf.rewrite
        if rw is None or not rw.enabled or rw.directory is None or self.ended:
            return Outcome(args=self.args)
        self.consulted = True
        options = conf.effective_options
        return self._take(rewrite_directory(
            rw, self._facts_for(subreq), fs, uri=wire(url_path), filename=wire(filename),
            path_info=wire(path_info), args=self.args,
            follows_symlinks=bool({"FollowSymLinks", "SymLinksIfOwnerMatch"} & options),
            context_prefix=wire(context_prefix), context_document_root=wire(context_root)))


def _file_mapping(vhost: VirtualHost, path: str) -> Mapping:
    """Where a server-context rule's filesystem path is walked from: the DocumentRoot
    when it is under it (as the core would map it), else the filesystem's root."""
    root = vhost.document_root.rstrip("/")
    if path.startswith(root + "/"):
        return Mapping(root, path[len(root):], None)
    return Mapping("/", path, None)


# --- 4.-6. settings, access, handler, mod_dir -----------------------------------------


def _url_prefix(url_path: str, path_info: str) -> str:
    if path_info and url_path.endswith(path_info):
        return url_path[: len(url_path) - len(path_info)]
    return url_path


# --- remembered resolutions -----------------------------------------------------------
#
# Resolution is a function of the configuration, the URL and what the filesystem
# answered (which calls, on which paths, with which results). So a resolution is kept
# with the answers it got; the next request for the same URL asks the same questions
# again - the same syscalls, so no change on disk goes unseen - and if every answer is
# what it was, the result is too, without the work in between (translation, the walk,
# the merged settings, mod_dir, the Target). Any other answer: resolve afresh.

#: an answer: the stat fields anything downstream reads (type and permission bits,
#: owner, and the file's identity for Target.stat), or the errno of the failure
_Answer = tuple[int, ...]
_Question = tuple[str, str, _Answer]

#: kept resolutions by (vhost, raw path): the vhost (an id() can be reused), the
#: questions asked with their answers, and the result
ResolutionCache = BoundedCache[tuple[int, str],
                               tuple[VirtualHost, tuple[_Question, ...], Target]]


def _answer(st: os.stat_result) -> _Answer:
    return (st.st_mode, st.st_uid, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            st.st_ctime_ns)


class _RecordingFS:
    """A ``FileSystem`` that notes each stat/lstat question and its answer."""

    def __init__(self, fs: FileSystem) -> None:
        self.fs = fs
        self.questions: list[_Question] = []
        self.replayable = True

    def _ask(self, op: str, path: str) -> os.stat_result:
        try:
            st: os.stat_result = getattr(self.fs, op)(path)
        except OSError as exc:
            self.questions.append((op, path, (-1, exc.errno or 0)))
            raise
        self.questions.append((op, path, _answer(st)))
        return st

    def stat(self, path: str) -> os.stat_result:
        return self._ask("stat", path)

    def lstat(self, path: str) -> os.stat_result:
        return self._ask("lstat", path)

    # not used by resolution today; a resolution that used them is not kept
    def realpath(self, path: str) -> str:
        self.replayable = False
        return self.fs.realpath(path)

    def isdir(self, path: str) -> bool:
        self.replayable = False
        return self.fs.isdir(path)

    def listdir(self, path: str) -> list[str]:
        self.replayable = False
        return self.fs.listdir(path)

    def read_bytes(self, path: str) -> bytes:
        # read after a stat that is recorded: the file's identity is in the answers
        return self.fs.read_bytes(path)


def same_answers(questions: tuple[_Question, ...], fs: FileSystem) -> bool:
    """Whether ``fs`` answers each question as it did (one stat or lstat each)."""
    for op, path, answer in questions:
        try:
            st = fs.stat(path) if op == "stat" else fs.lstat(path)
        except OSError as exc:
            if answer != (-1, exc.errno or 0):
                return False
            continue
        if _answer(st) != answer:
            return False
    return True


def kept_questions(memo: ResolutionCache, vhost: VirtualHost, request_path_raw: str,
                   target: Target) -> tuple[_Question, ...] | None:
    """The filesystem questions (with their answers) that made ``target`` the kept
    resolution of ``request_path_raw``: while ``same_answers`` holds for them it is
    the resolution again. None when ``memo`` does not hold that very target (one
    mod_rewrite took part in is never kept)."""
    kept = memo.get((id(vhost), request_path_raw))
    if kept is None or kept[0] is not vhost or kept[2] is not target:
        return None
    return kept[1]


def resolve_target(vhost: VirtualHost, request_path_raw: str, fs: FileSystem, *,
                   memo: ResolutionCache | None = None,
                   confs: ConfCache | None = None,
                   access: AccessFiles | None = None,
                   rewrite: RewriteRun | None = None) -> Target:
    """Resolve a raw request path (no query) for ``vhost``. Errors found on the way
    come back as ``Target(kind="error")`` with the status and the error-log reason.
    With ``memo``, a resolution whose filesystem answers have not changed is
    remembered (above); ``confs`` remembers merged settings (``walk``); ``access``:
    how .htaccess files are read (None: never, as with AllowOverride None);
    ``rewrite``: the request's mod_rewrite state (None: no rewriting). A resolution
    mod_rewrite took part in depends on more than the path (headers, query, ...): it
    is not remembered."""
    if memo is None:
        return _rewritten(_resolve_target(vhost, request_path_raw, fs, confs, access,
                                          rewrite), rewrite)
    key = (id(vhost), request_path_raw)
    kept = memo.get(key)
    if kept is not None and kept[0] is vhost and same_answers(kept[1], fs):
        return kept[2]
    recording = _RecordingFS(fs)
    target = _resolve_target(vhost, request_path_raw, recording, confs, access, rewrite)
    if rewrite is not None and rewrite.consulted:
        return _rewritten(target, rewrite)
    if recording.replayable:
        memo.put(key, (vhost, tuple(recording.questions), target))
    return target


def _rewritten(target: Target, rewrite: RewriteRun | None) -> Target:
    if rewrite is None or not rewrite.consulted:
        return target
    return replace(target, rewritten=Rewritten(rewrite.args, tuple(rewrite.env),
                                               rewrite.ended,
                                               tuple(dict.fromkeys(rewrite.vary))))


def _resolve_target(vhost: VirtualHost, request_path_raw: str, fs: FileSystem,
                    confs: ConfCache | None, access: AccessFiles | None,
                    rewrite: RewriteRun | None = None) -> Target:
    try:
        url_path = screen_path(request_path_raw)
    except HTTPError as exc:
        return Target(kind="error", status=exc.status, note=exc.note,
                      conf=effective_conf(vhost, None, request_path_raw, cache=confs),
                      url_path="")
    return resolve_url(vhost, url_path, fs, confs=confs, access=access, rewrite=rewrite)


def resolve_url(vhost: VirtualHost, url_path: str, fs: FileSystem,
                *, confs: ConfCache | None = None, access: AccessFiles | None = None,
                rewrite: RewriteRun | None = None, _depth: int = 0) -> Target:
    """Resolve an already screened, decoded URL path (DirectoryIndex and ErrorDocument
    URLs come here)."""
    located = effective_conf(vhost, None, url_path, cache=confs)
    rewritten: Mapping | None = None
    if rewrite is not None:
        # mod_rewrite's translate_name hook runs first (APR_HOOK_FIRST)
        out = rewrite.server(vhost, url_path, located, fs, subreq=_depth > 0)
        if out.kind == "status":
            return Target(kind="error", status=out.status, note=out.note,
                          url_path=url_path, conf=located)
        if out.kind == "redirect":
            # a URL stays bytes as latin-1, as the header (and a raw target) carries it
            return Target(kind="redirect", status=out.status, location=out.path,
                          url_path=url_path, conf=located)
        if out.kind == "uri":  # [PT]: the new URI goes through mod_alias and the core
            url_path = unwire(out.path)
            located = effective_conf(vhost, None, url_path, cache=confs)
        elif out.kind == "file":  # a path: no other translation (the hook said OK)
            rewritten = _file_mapping(vhost, unwire(out.path))
    # mod_alias translate_alias_redir: the redirects of the <Location>s (walked before
    # translation) and of the server come before any alias, in config order
    if "\0" in url_path:
        # an internal URL (an index, a fallback, a rewrite) can carry what the screen
        # refuses; os.stat() would raise ValueError on it
        return Target(kind="error", status=400, url_path=url_path, conf=located,
                      note=M.INVALID_URI_PATH.note(raw=url_path))
    redirect = None if rewritten is not None else match_redirect(
        url_path, located.redirect, vhost.redirects)
    if redirect is not None:
        return _redirected(redirect, url_path, False, located)
    reader = None if access is None else _access_file_reader(vhost, fs, access)
    mapping = rewritten if rewritten is not None else translate(vhost, url_path)
    alias = mapping.alias
    if alias is not None and alias.kind in ("alias", "scriptalias"):
        context_prefix, context_root = alias.url, alias.path
    else:
        # mod_alias sets the context (ap_set_context_info) for a prefix alias only: an
        # AliasMatch leaves DocumentRoot's (checked against apache2)
        context_prefix, context_root = "", vhost.document_root

    def error(status: int, note: Note | None, filename: str = "",
              conf: DirConf | None = None, handler: str | None = None) -> Target:
        # with ``conf``: found after the walk, so after the access checks
        checks = () if conf is None else ((conf, filename),)
        if conf is None:
            conf = effective_conf(vhost, None, url_path, cache=confs)
        return Target(kind="error", status=status, note=note, filename=filename,
                      url_path=url_path, conf=conf,
                      handler=handler, alias=alias, context_prefix=context_prefix,
                      context_document_root=context_root, access=checks)

    try:
        found = walk_filesystem(vhost, mapping, url_path, fs, confs, reader)
        conf = effective_conf(vhost, found.filename, url_path, is_dir=found.kind == "dir",
                              cache=confs, htaccess=reader)
    except HTTPError as exc:
        return error(exc.status, exc.note)

    filename = found.filename
    forced_handler: str | None = None
    if rewrite is not None:
        # mod_rewrite's fixup hook runs first (APR_HOOK_FIRST), after the access checks
        out = rewrite.directory(conf, filename, found.path_info, url_path, fs,
                                subreq=_depth > 0, context_prefix=context_prefix,
                                context_root=context_root)
        checks = ((conf, filename),)
        if out.kind == "status":
            return Target(kind="error", status=out.status, note=out.note, filename=filename,
                          url_path=url_path, conf=conf, access=checks)
        if out.kind == "redirect":
            return Target(kind="redirect", status=out.status, location=out.path,
                          url_path=url_path, filename=filename, conf=conf, access=checks)
        if out.kind == "internal":
            if _depth and found.kind != "file":
                # a sub-request (mod_dir's) sees no file there: its next candidate
                return error(404, None, filename, conf)
            return Target(kind="internal", location=out.path, url_path=url_path,
                          filename=filename, conf=conf, access=checks)
        if out.discard_path_info:
            found = replace(found, path_info="")
        if out.mimetype:
            conf = replace(conf, force_type=unwire(out.mimetype))
        if out.handler:
            forced_handler = unwire(out.handler)
    # From here on the target carries ``access``: the app runs the access
    # checks (Require, Order/Allow/Deny) first, as Apache does after the walk and
    # before the handler, so a denied missing /.htx is 403, not 404 (Debian's
    # <FilesMatch "^\.ht">), and a denied directory is 403, not a DirectorySlash 301.
    # mod_alias fixup_redir: the redirects of every section that applies, before the
    # handler knows whether the file exists and before mod_dir (whose fixups run last)
    redirect = match_redirect(url_path, conf.redirect, conf.redirects)
    if redirect is not None:
        # fixups: after the access checks
        return replace(_redirected(redirect, url_path, True, conf, filename),
                       access=((conf, filename),))
    basename = filename.rstrip("/").rsplit("/", 1)[-1]
    # ScriptAlias "has the same behavior as Alias, except that in addition it marks the
    # target directory as containing CGI scripts" (mod_alias docs): handler cgi-script.
    handler = "cgi-script" if alias is not None and alias.is_script else conf.handler_for(basename)
    if forced_handler is not None:
        handler = forced_handler  # [H=...]: mod_rewrite's type checker has the last word
    prefix = _url_prefix(url_path, found.path_info)

    def target(kind: Literal["file", "directory", "redirect"], **extra: object) -> Target:
        return Target(kind=kind, filename=filename, url_path=extra.pop("url", prefix),  # type: ignore[arg-type]
                      path_info=found.path_info, conf=conf, handler=handler, alias=alias,
                      context_prefix=context_prefix, context_document_root=context_root,
                      access=((conf, filename),), **extra)  # type: ignore[arg-type]

    if found.kind == "missing":
        fallback = conf.fallback_resource
        # mod_dir dir_fixups: nothing in the filesystem and no handler (an AddHandler
        # extension, a ScriptAlias keep their 404) - FallbackResource
        if (handler is None and fallback is not None and fallback.lower() != "disabled"
                and _depth < MAX_INDEX_DEPTH):
            # ap_sub_req_lookup_uri: a relative URL is the request's directory's
            fallback_url = (fallback if fallback.startswith("/")
                            else url_path.rsplit("/", 1)[0] + "/" + fallback)
            child = rewrite.child() if rewrite is not None else None
            sub = resolve_url(vhost, fallback_url, fs, confs=confs, access=access,
                              rewrite=child, _depth=_depth + 1)
            # fixup_dflt: a regular file is served in the request's place
            # (ap_internal_fast_redirect, as for a DirectoryIndex); a redirect or an
            # error other than 404 is the answer; a 404 leaves the request's own 404
            if sub.kind in ("file", "redirect", "internal") or (
                    sub.kind == "error" and sub.status != 404):
                if sub.kind == "redirect":
                    sub = replace(sub, url_path=url_path)
                if rewrite is not None and child is not None:
                    rewrite.adopt(child)
                return replace(sub, access=((conf, filename), *sub.access))
        return error(404, M.FILE_MISSING.note(path=filename + found.path_info),
                     filename, conf, handler)
    if found.kind == "other":
        return error(403, M.FILE_PERMISSIONS.note(path=filename), filename, conf, handler)
    if found.kind == "file":
        return target("file", stat=found.st)

    # a directory: mod_dir (fixup_dir)
    if not url_path.endswith("/"):
        if conf.effective_directory_slash:
            return target("redirect", status=301, location=escape_path(url_path) + "/")
        return target("directory")
    if _depth < MAX_INDEX_DEPTH:
        names = conf.effective_directory_index
        if not (len(names) == 1 and names[0].lower() == "disabled"):
            failed: Target | None = None
            for name in names:
                index_url = name if name.startswith("/") else url_path + name
                child = rewrite.child() if rewrite is not None else None
                sub = resolve_url(vhost, index_url, fs, confs=confs, access=access,
                                  rewrite=child, _depth=_depth + 1)
                # mod_dir uses an index only when its subrequest would succeed on a
                # regular file (ap_internal_fast_redirect then takes its r->args and
                # r->subprocess_env: what its rules did)
                if (sub.kind == "file" and not sub.path_info) or sub.kind == "internal":
                    if rewrite is not None and child is not None:
                        rewrite.adopt(child)
                    # the directory's access checks come first (the request for
                    # the directory), then the index's (mod_dir's redirect)
                    return replace(sub, access=((conf, filename), *sub.access))
                # "If the request returned a redirect, propagate it to the client"
                # (the request, and so its log line, stays the directory's)
                if sub.kind == "redirect":
                    return replace(sub, url_path=url_path,
                                   access=((conf, filename), *sub.access))
                # "If the request returned something other than 404 (or 200) ... we
                # return the last error response we got, instead of a directory
                # listing" (mod_dir.c fixup_dir): a denied index.html is a 403
                if sub.kind == "error" and sub.status != 404:
                    failed = sub
            if failed is not None:
                return replace(failed, access=((conf, filename), *failed.access))
    return target("directory")


#: server/gen_test_char.c: T_OS_ESCAPE_PATH spares letters, digits and "$-_.+!*'(),:;@&=/~"
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                  "$-_.+!*'(),:;@&=~/")


def escape_path(path: str) -> str:
    """ap_escape_uri (ap_os_escape_path): bytes that may not appear in a URL path as
    lower-case %xx (the DirectorySlash redirect, the listing's hrefs)."""
    out: list[str] = []
    for byte in path.encode("utf-8", "surrogateescape"):
        ch = chr(byte)
        out.append(ch if byte < 128 and ch in _SAFE else f"%{byte:02x}")
    return "".join(out)
