"""Fuzzing the URL resolver (resolve.py, walk.py): whatever a client puts in the path -
"..", "%2e", "%2f", NUL, backslashes, drive letters, UNC forms, in any encoding - the
filename it resolves to stays under the root of its mapping (the DocumentRoot, or the
Alias target), on disk too (no symlink is followed where Options forbid it), or the
request is refused with 400, 403 or 404. Also under Windows' path rules ("\\" is a
separator, an encoded one and ":" are refused), which resolve.py applies where
``os.sep`` is "\\"; here they are switched on by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from fuzz_helpers import fuzz
from hypothesis import given
from hypothesis import strategies as st
from test_resolve import FakeFS

from app.factory import alias, directory, make_vhost, opts
from cgihttpd import resolve
from cgihttpd.target import Target

FS = FakeFS({
    "/srv/www/index.html": "file",
    "/srv/www/a.html": "file",
    "/srv/www/sub/b.html": "file",
    "/srv/www/run.py": "file",
    # a link out of the root where Options forbid following it
    "/srv/www/nolink/etc": ("link", "/etc"),
    "/srv/www/nolink/up": ("link", ".."),
    "/srv/www-evil/x.html": "file",  # a sibling whose name starts like the root's
    "/srv/other/o.html": "file",
    "/srv/other/deep/d.html": "file",
    "/srv/cgi/t.cgi": "file",
    "/srv/secret.txt": "file",
    "/etc/passwd": "file",
    "/C:/x": "file",
})

VHOST = make_vhost(
    "/srv/www",
    aliases=(alias("/cgi-bin/", "/srv/cgi/", "scriptalias"),
             alias("/al", "/srv/other"),
             alias(r"^/m/(.*)$", "/srv/other/$1", "aliasmatch"),
             alias(r"^/u/([^/]+)/(.*)$", "/srv/other/$1/$2", "aliasmatch"),
             alias(r"^/t([^/]*)$", "/srv/cgi/t$1", "aliasmatch"),
             # a group that can take part of a segment ("/p..") and make one of it
             alias(r"^/p([^/]*)(.*)$", "/srv/other/$1$2", "aliasmatch")),
    sections=(directory("/srv/www/nolink", options=opts("-FollowSymLinks")),),
)

#: each mapping's root: what the URL prefix may reach, and nothing else
ROOTS = {None: "/srv/www", "/cgi-bin/": "/srv/cgi", "/al": "/srv/other",
         r"^/m/(.*)$": "/srv/other", r"^/u/([^/]+)/(.*)$": "/srv/other",
         r"^/t([^/]*)$": "/srv/cgi", r"^/p([^/]*)(.*)$": "/srv/other"}

SEGMENT = st.one_of(
    st.sampled_from([
        "..", ".", "...", "%2e", "%2E", "%2e%2e", ".%2e", "%2e.", "%2E%2e", "%2f", "%2F",
        "..%2f", "%2e%2e%2f", "%5c", "%5C", "..%5c", "\\", "..\\", "\\..", "..\\..",
        "%00", "\x00", "a%00.html", "%", "%2", "%zz", "%25", "%252e%252e", "%c0%ae",
        "%c0%af", "%e0%80%ae", "%u002e", "C:", "c:%5c", "C%3a", "%3a", "C:\\", "\\\\srv",
        "\\\\?\\C:", "::$DATA", "a.html::$DATA", "~", ";", "?", "#", " ", ".html",
        "a.html", "index.html", "sub", "b.html", "run.py", "nolink", "etc", "up",
        "passwd", "www-evil", "x.html", "secret.txt", "cgi-bin", "t.cgi", "al", "m",
        "u", "o.html", "deep", "d.html", "t", "srv", "www", "other",
    ]),
    st.text(st.sampled_from(list("./\\%2eEfF5cC0:a~\x00")), max_size=6),
)
PREFIX = st.sampled_from(["/", "//", "/./", "\\", "/\\", "//srv/share/", "\\\\srv\\share\\",
                          "/C:/", "/c:\\", "C:/", "", "http://h/", "https://h//",
                          "/al", "/al/", "/m/", "/u/", "/cgi-bin/", "/t", "/p"])
RAW = st.builds(lambda p, segs, trail: p + "/".join(segs) + trail, PREFIX,
                st.lists(SEGMENT, max_size=7), st.sampled_from(["", "/", "\\", "%2f"]))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


def _check(raw: str, t: Target, windows: bool) -> None:
    if t.kind == "error":
        assert t.status in (400, 403, 404), (raw, t)
    elif t.kind == "redirect":
        # the DirectorySlash redirect: a path of this server, never "//host"
        assert t.location.startswith("/") and not t.location.startswith("//"), (raw, t)
    if not t.filename:
        assert t.kind == "error", (raw, t)
        return
    key = None if t.alias is None else t.alias.url
    root = ROOTS[key]
    name = t.filename.rstrip("/") or "/"
    assert "\x00" not in t.filename, (raw, t)
    assert _inside(name, root), (raw, t)
    parts = name[len(root):].split("/")
    assert ".." not in parts and "." not in parts, (raw, t)
    if windows:
        # what Windows reads as a separator, a drive or a stream never reaches a name
        assert "\\" not in name and ":" not in name[len(root):], (raw, t)
    # and on disk: the walk followed no link out (the only link is behind -FollowSymLinks)
    if t.kind != "error":
        assert _inside(FS.realpath(name), root), (raw, t)


@contextmanager
def windows_rules() -> Iterator[None]:
    """resolve.py's Windows rules (chosen by ``os.sep`` at import), switched on."""
    resolve._screen_path_cached.cache_clear()
    try:
        with mock.patch.object(resolve, "_WINDOWS", True), mock.patch.object(
                resolve, "_REFUSED_BYTES", frozenset({0x2F, 0x00, 0x5C, 0x3A})):
            yield
    finally:
        resolve._screen_path_cached.cache_clear()


@fuzz(1500)
@given(RAW)
def test_no_request_path_leaves_its_root(raw: str) -> None:
    _check(raw, resolve.resolve_target(VHOST, raw, FS), windows=False)


@fuzz(800)
@given(RAW)
def test_no_request_path_leaves_its_root_under_windows_rules(raw: str) -> None:
    with windows_rules():
        _check(raw, resolve.resolve_target(VHOST, raw, FS), windows=True)

