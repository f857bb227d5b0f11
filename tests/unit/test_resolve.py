"""resolve.resolve_target over a fake filesystem: the path screen, aliases, the
PATH_INFO split, mod_dir, access and containment. Expected values were checked
against Apache 2.4.71 where Apache is observable (see the module docstring)."""

from __future__ import annotations

import os
import posixpath
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.factory import alias, directory, files, make_vhost, opts, verdicts
from cgihttpd.cache import BoundedCache
from cgihttpd.config.model import DirConf, VirtualHost
from cgihttpd.resolve import ResolutionCache, normalize_path, resolve_target, screen_path
from cgihttpd.target import Target
from cgihttpd.walk import ConfCache


class FakeFS:
    """A tree of dirs, files and symlinks: {"/srv/www/a.html": "file", "/x": "dir",
    "/l": ("link", "/target")}."""

    def __init__(self, tree: dict[str, object]) -> None:
        self.tree = dict(tree)
        for path in list(self.tree):
            parent = posixpath.dirname(path)
            while parent not in self.tree:
                self.tree[parent] = "dir"
                parent = posixpath.dirname(parent)
        self.tree.setdefault("/", "dir")

    def _result(self, kind: object) -> os.stat_result:
        # bytes: a file with that content (a .htaccess)
        size = len(kind) if isinstance(kind, bytes) else 10
        kind = "file" if isinstance(kind, bytes) else kind
        mode = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "link": stat.S_IFLNK}[str(kind)]
        return os.stat_result((mode | 0o644, 1, 1, 1, 0, 0, size, 0, 1_000_000_000, 0))

    def _resolve(self, path: str, depth: int = 0) -> str:
        if depth > 20:
            raise OSError(40, "loop", path)
        out = "/"
        for part in [p for p in path.split("/") if p]:
            out = posixpath.join(out, part)
            entry = self.tree.get(out)
            if isinstance(entry, tuple):
                out = self._resolve(entry[1], depth + 1)
            elif entry is None:
                return posixpath.normpath(path)  # realpath of a missing path
        return out

    def lstat(self, path: str) -> os.stat_result:
        parent = self._resolve(posixpath.dirname(path))
        entry = self.tree.get(posixpath.join(parent, posixpath.basename(path)))
        if entry is None:
            raise FileNotFoundError(2, "No such file or directory", path)
        if isinstance(entry, tuple):
            return self._result("link")
        if self.tree.get(parent) != "dir":
            raise NotADirectoryError(20, "Not a directory", path)
        return self._result(entry)

    def stat(self, path: str) -> os.stat_result:
        real = self._resolve(path)
        entry = self.tree.get(real)
        if entry is None:
            raise FileNotFoundError(2, "No such file or directory", path)
        return self._result(entry)

    def realpath(self, path: str) -> str:
        return self._resolve(path)

    def isdir(self, path: str) -> bool:
        return self.tree.get(self._resolve(path)) == "dir"

    def listdir(self, path: str) -> list[str]:
        return [posixpath.basename(p) for p in self.tree if posixpath.dirname(p) == path]

    def read_bytes(self, path: str) -> bytes:
        entry = self.tree.get(self._resolve(path))
        if entry is None:
            raise FileNotFoundError(2, "No such file or directory", path)
        if entry == "dir":
            raise IsADirectoryError(21, "Is a directory", path)
        return entry if isinstance(entry, bytes) else b""


FS = FakeFS({
    "/srv/www/index.html": "file",
    "/srv/www/a.html": "file",
    "/srv/www/sub/index.html": "file",
    "/srv/www/noidx/f.txt": "file",
    "/srv/www/multi/second.html": "file",
    "/srv/www/multi/first.py": "file",
    "/srv/www/app/run.py": "file",
    "/srv/www/etclink": ("link", "/etc"),
    "/srv/www/nosym/l.html": ("link", "/srv/www/a.html"),
    "/srv/www/nosym/real.html": "file",
    "/srv/www/denied/x.html": "file",
    "/srv/www/we ird/x": "file",
    "/srv/cgi/t.cgi": "file",
    "/srv/other/o.html": "file",
    "/etc/passwd": "file",
})

VHOST = make_vhost(
    "/srv/www",
    aliases=(alias("/cgi-bin/", "/srv/cgi/", "scriptalias"), alias("/al", "/srv/other"),
             alias("/al2/", "/srv/other/"),
             alias(r"^/m/(\w+)\.x$", "/srv/other/$1.html", "aliasmatch")),
    base=DirConf(add_handlers=((".py", "cgi-script"),)),
    sections=(
        directory("/srv/www/multi", directory_index=("missing.html", "first.py", "second.html")),
        directory("/srv/www/nosym", options=opts("-FollowSymLinks")),
        directory("/srv/www/denied", require="all denied"),
        files(r"^\.ht", regex=True, require="all denied"),
    ),
)


def resolve(path: str) -> Target:
    return resolve_target(VHOST, path, FS)


def test_index_of_root() -> None:
    t = resolve("/")
    assert (t.kind, t.filename, t.url_path) == ("file", "/srv/www/index.html", "/index.html")


def test_directory_slash_redirect() -> None:
    t = resolve("/sub")
    assert (t.kind, t.location) == ("redirect", "/sub/")
    assert resolve("/we%20ird").location == "/we%20ird/"


def test_directory_without_index() -> None:
    t = resolve("/noidx/")
    assert (t.kind, t.filename) == ("directory", "/srv/www/noidx/")


def test_directory_index_in_order_with_handlers() -> None:
    t = resolve("/multi/")
    assert (t.kind, t.filename, t.handler, t.url_path) == (
        "file", "/srv/www/multi/first.py", "cgi-script", "/multi/first.py")


def test_path_info_after_the_first_file() -> None:
    t = resolve("/app/run.py/a/b%20c/")
    assert (t.kind, t.filename, t.url_path, t.path_info, t.handler) == (
        "file", "/srv/www/app/run.py", "/app/run.py", "/a/b c/", "cgi-script")
    t = resolve("/a.html/x")
    assert (t.kind, t.path_info, t.handler) == ("file", "/x", None)


def test_missing_file() -> None:
    t = resolve("/sub/x/y")
    assert (t.kind, t.status) == ("error", 404)
    assert t.reason == "AH00128: File does not exist: /srv/www/sub/x/y"


@pytest.mark.parametrize(("raw", "status"), [
    ("/a%2Fb", 404), ("/a%2fb", 404), ("/a%00b", 404), ("/%zz", 400), ("/a%2", 400),
    ("/../x", 400), ("/%2e%2e/etc/passwd", 400), ("/sub/%2E%2e/%2e%2e/a.html", 400),
    ("a.html", 400),
])
def test_path_screen_errors(raw: str, status: int) -> None:
    t = resolve(raw)
    assert (t.kind, t.status) == ("error", status)


@pytest.mark.parametrize(("raw", "filename"), [
    ("/sub/../a.html", "/srv/www/a.html"), ("/sub/%2e%2e/a.html", "/srv/www/a.html"),
    ("//a.html", "/srv/www/a.html"), ("/./a.html", "/srv/www/a.html"),
    ("/a.ht%6dl", "/srv/www/a.html"), ("/sub/..", "/srv/www/index.html"),
    ("/sub/.", "/srv/www/sub/index.html"), ("http://host/a.html", "/srv/www/a.html"),
])
def test_dot_segments_and_unreserved_escapes(raw: str, filename: str) -> None:
    t = resolve(raw)
    assert (t.kind, t.filename) == ("file", filename)


def test_normalize_keeps_reserved_escapes() -> None:
    assert normalize_path("/a%2fb/%41%3F") == "/a%2Fb/A%3F"
    assert screen_path("/a%3Fb") == "/a?b"


def test_aliases_follow_mod_alias_slash_rules() -> None:
    assert resolve("/al").kind == "redirect"
    assert resolve("/al/o.html").filename == "/srv/other/o.html"
    assert resolve("/alx").status == 404  # not the alias: DocumentRoot
    assert resolve("/alx").filename == "/srv/www/alx"
    assert resolve("/al2").filename == "/srv/www/al2"
    assert resolve("/al2/o.html").filename == "/srv/other/o.html"
    t = resolve("/al/o.html")
    assert (t.context_prefix, t.context_document_root) == ("/al", "/srv/other")


def test_alias_match_substitutes_groups() -> None:
    t = resolve("/m/o.x")
    assert (t.kind, t.filename) == ("file", "/srv/other/o.html")


def test_script_alias_makes_cgi() -> None:
    t = resolve("/cgi-bin/t.cgi/pi")
    assert (t.kind, t.filename, t.path_info, t.handler) == (
        "file", "/srv/cgi/t.cgi", "/pi", "cgi-script")
    assert t.alias is not None and t.alias.is_script
    d = resolve("/cgi-bin/")
    assert (d.kind, d.handler, d.filename) == ("directory", "cgi-script", "/srv/cgi/")
    assert resolve("/cgi-bin").status == 404  # "ScriptAlias /cgi-bin/" needs the slash


def test_require_denied_comes_before_existence_and_redirects() -> None:
    """The target (a file, a 404, a DirectorySlash 301) carries the settings whose
    access checks the app runs first (tests/app: the 403 and its AH01630)."""
    for raw in ("/denied/x.html", "/denied/nope", "/denied", "/.htpasswd"):
        t = resolve(raw)
        assert verdicts(t) == ["denied"], raw
        assert t.access[0][1].startswith(("/srv/www/denied", "/srv/www/.htpasswd")), raw
    assert verdicts(resolve("/a.html")) == ["granted"]


def test_errors_before_the_access_phase_carry_no_access_checks() -> None:
    # a refused symlink, a bad path: Apache answers them before any Require
    assert resolve("/nosym/l.html").access == ()
    assert resolve("/%2e%2e/x").access == ()


def test_symlinks_need_follow_symlinks() -> None:
    t = resolve("/nosym/l.html")
    assert (t.kind, t.status) == ("error", 403)
    assert "AH00037" in t.reason
    assert resolve("/nosym/real.html").kind == "file"
    # FollowSymLinks (the default) follows a link out of the root, as Apache does
    assert resolve("/etclink/passwd").filename == "/srv/www/etclink/passwd"


def test_directory_index_disabled_and_slash_off() -> None:
    vhost = make_vhost("/srv/www", sections=(
        directory("/srv/www/sub", directory_index=("disabled",), directory_slash=False),))
    assert resolve_target(vhost, "/sub/", FS).kind == "directory"
    assert resolve_target(vhost, "/sub", FS).kind == "directory"


def test_fallback_resource_serves_what_maps_to_no_file() -> None:
    vhost = make_vhost("/srv/www", base=DirConf(add_handlers=((".py", "cgi-script"),),
                                                fallback_resource="/app/run.py"), sections=(
        directory("/srv/www/sub", fallback_resource="disabled"),
        directory("/srv/www/noidx", fallback_resource="f.txt"),
        directory("/srv/www/multi", fallback_resource="/sub/gone.html"),
        directory("/srv/www/denied", require="all denied"),
        directory("/srv/www/nosym", fallback_resource="/denied/x.html"),))
    t = resolve_target(vhost, "/blog/post/1", FS)
    assert (t.kind, t.filename, t.url_path, t.path_info, t.handler) == (
        "file", "/srv/www/app/run.py", "/app/run.py", "", "cgi-script")
    # the request's access checks come first, then the fallback's
    assert [f for _c, f in t.access] == ["/srv/www/blog", "/srv/www/app/run.py"]
    # existing files and directories are served as they are
    assert resolve_target(vhost, "/a.html", FS).filename == "/srv/www/a.html"
    assert resolve_target(vhost, "/sub/x", FS).status == 404
    # a directory without its index: the index's own lookup falls back (as in Apache)
    assert resolve_target(vhost, "/noidx/", FS).filename == "/srv/www/noidx/f.txt"
    # a missing URL with a handler of its own keeps its 404 (mod_dir: r->handler set)
    assert resolve_target(vhost, "/gone.py", FS).status == 404
    # disabled; a relative URL is the request directory's; a missing fallback is the
    # request's own 404; a denied one is its 403
    assert resolve_target(vhost, "/sub/", FS).filename == "/srv/www/sub/index.html"
    assert resolve_target(vhost, "/noidx/nope", FS).filename == "/srv/www/noidx/f.txt"
    assert resolve_target(vhost, "/multi/nope", FS).status == 404
    t = resolve_target(vhost, "/nosym/nope", FS)
    assert t.kind == "file" and t.filename == "/srv/www/denied/x.html"
    assert any(c.require_tree is not None for c, _f in t.access)


SEGMENTS = st.sampled_from([
    "..", ".", "%2e", "%2E%2e", ".%2e", "%2f", "%2F..", "", "\\", "..\\..", "a", "sub",
    "etc", "passwd", "%00", "%", "%25", "%252e%252e", "a.html", "%c0%ae", ";", "?",
])


@settings(max_examples=500)
@given(st.lists(SEGMENTS, max_size=8), st.booleans())
def test_no_encoding_escapes_the_root(segments: list[str], trailing: bool) -> None:
    raw = "/" + "/".join(segments) + ("/" if trailing else "")
    t = resolve(raw)
    if t.kind == "error" and not t.filename:
        return
    assert t.filename.startswith(("/srv/www/", "/srv/other/", "/srv/cgi/")) or (
        t.filename in ("/srv/www", "/srv/other", "/srv/cgi")), (raw, t)
    if "etclink" not in t.filename:
        assert FS.realpath(t.filename).startswith("/srv/"), (raw, t)


def test_a_denied_index_is_an_error_not_a_listing() -> None:
    vhost = make_vhost("/srv/www", sections=(
        files("index.html", require="all denied"),))
    t = resolve_target(vhost, "/sub/", FS)
    # mod_dir's redirect to the index passes the directory's checks, then the index's
    assert (t.kind, t.filename) == ("file", "/srv/www/sub/index.html")
    assert [f for _, f in t.access] == ["/srv/www/sub/", "/srv/www/sub/index.html"]
    assert verdicts(t) == ["granted", "denied"]


def test_unsearchable_or_failing_components_are_403() -> None:
    class Denying(FakeFS):
        def lstat(self, path: str) -> os.stat_result:
            if path.startswith("/srv/www/sub/"):
                raise PermissionError(13, "Permission denied", path)
            if len(os.path.basename(path)) > 255:
                raise OSError(36, "File name too long", path)
            return super().lstat(path)

    fs = Denying(FS.tree)
    t = resolve_target(VHOST, "/sub/index.html", fs)
    assert (t.kind, t.status) == ("error", 403)
    assert t.reason == ("(13)Permission denied: AH00035: access to /sub/index.html denied "
                        "(filesystem path '/srv/www/sub/index.html') because search "
                        "permissions are missing on a component of the path")
    t = resolve_target(VHOST, "/" + "a" * 300, fs)
    assert (t.status, t.reason.split(": ")[1]) == (403, "AH00036")


_PATHS = ["/srv/www/index.html", "/srv/www/a.html", "/srv/www/sub", "/srv/www/sub/index.html",
          "/srv/www/sub/x.py", "/srv/www/nosym/l.html", "/srv/www/multi/first.py"]
_URLS = ["/", "/index.html", "/a.html", "/a.html/extra", "/sub", "/sub/", "/sub/x.py/p",
         "/nosym/l.html", "/multi/", "/cgi-bin/t.cgi", "/al/o.html", "/%2e%2e/x"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["file", "dir", "link", "remove"]),
                          st.sampled_from(_PATHS)), max_size=12))
def test_a_remembered_resolution_is_what_a_fresh_one_would_be(
        changes: list[tuple[str, str]]) -> None:
    """resolve_target keeps each resolution with the filesystem's answers and reuses it
    while they are the same: whatever the tree does between requests, it answers as
    resolution from scratch (``_resolve_target``) does."""
    from cgihttpd.resolve import _resolve_target

    fs = FakeFS(dict(FS.tree))
    memo: ResolutionCache = BoundedCache(64)  # kept across the changes
    confs: ConfCache = BoundedCache(64)
    for kind, path in [("file", "/srv/www/a.html"), *changes]:
        if kind == "remove":
            for p in [p for p in fs.tree if p == path or p.startswith(path + "/")]:
                del fs.tree[p]
        elif kind == "link":
            fs.tree[path] = ("link", "/srv/www/a.html")
        else:
            fs.tree[path] = kind
        for url in _URLS:
            assert resolve_target(VHOST, url, fs, memo=memo, confs=confs) == _resolve_target(
                VHOST, url, fs, None, None), url


def test_a_remembered_resolution_sees_a_changed_file() -> None:
    fs = FakeFS(dict(FS.tree))
    memo: ResolutionCache = BoundedCache(8)
    first = resolve_target(VHOST, "/a.html", fs, memo=memo)
    assert resolve_target(VHOST, "/a.html", fs, memo=memo) is first  # remembered
    assert resolve_target(VHOST, "/a.html", fs) is not first  # no memo: resolved again
    fs.tree["/srv/www/a.html"] = "dir"
    assert resolve_target(VHOST, "/a.html", fs, memo=memo).kind == "redirect"


# --- an alias whose target is a file (git-http-backend's documented set-up) ----------

BACKEND = "/usr/lib/git-core/git-http-backend"
GIT_FS = FakeFS({BACKEND: "file", "/srv/www/index.html": "file"})


def _git(url: str, target: str, kind: str = "scriptalias") -> VirtualHost:
    return make_vhost("/srv/www", aliases=(alias(url, target, kind),))


@pytest.mark.parametrize(("url", "target", "raw", "expected"), [
    # git-http-backend(1): "ScriptAlias /git/ /usr/lib/git-core/git-http-backend/"
    ("/git/", BACKEND + "/", "/git/repo.git/info/refs",
     ("file", BACKEND, "/git", "/repo.git/info/refs")),
    ("/git/", BACKEND + "/", "/git/", ("file", BACKEND, "/git", "/")),
    ("/git/", BACKEND + "/", "/git/repo.git/", ("file", BACKEND, "/git", "/repo.git/")),
    ("/git/", BACKEND + "/", "/git", ("error", "/srv/www/git", "", "")),
    # neither has a trailing slash
    ("/git", BACKEND, "/git/repo.git/x", ("file", BACKEND, "/git", "/repo.git/x")),
    ("/git", BACKEND, "/git", ("file", BACKEND, "/git", "")),
    ("/git", BACKEND, "/git/", ("file", BACKEND, "/git", "/")),
    # only the URL has one: "/git/" + "repo" names ".../git-http-backendrepo"
    ("/git/", BACKEND, "/git/", ("file", BACKEND, "/git/", "")),
    ("/git/", BACKEND, "/git/repo", ("error", BACKEND + "repo", "", "")),
    # only the target has one: ".../git-http-backend/" + "/repo", "//" merged
    ("/git", BACKEND + "/", "/git/repo", ("file", BACKEND, "/git", "/repo")),
    ("/git", BACKEND + "/", "/git", ("file", BACKEND, "/git", "/")),
])
def test_an_alias_to_a_file_splits_path_info_after_it(
        url: str, target: str, raw: str, expected: tuple[str, str, str, str]) -> None:
    t = resolve_target(_git(url, target), raw, GIT_FS)
    assert (t.kind, t.filename, t.url_path if t.kind != "error" else "",
            t.path_info) == expected
    if t.kind == "file":
        assert t.handler == "cgi-script"


def test_alias_match_to_a_file_gives_the_same_split() -> None:
    vhost = _git(r"^/git/(.*)$", BACKEND + "/$1", "scriptaliasmatch")
    t = resolve_target(vhost, "/git/repo.git/info/refs", GIT_FS)
    assert (t.kind, t.filename, t.url_path, t.path_info) == (
        "file", BACKEND, "/git", "/repo.git/info/refs")
    # no context for a regex alias (mod_alias calls ap_set_context_info for prefixes)
    assert (t.context_prefix, t.context_document_root) == ("", "/srv/www")


def test_an_alias_without_the_targets_slash_names_a_sibling() -> None:
    # "Alias /al3/ /srv/other": "/al3/o.html" is "/srv/othero.html", as in Apache
    fs = FakeFS({"/srv/other/o.html": "file", "/srv/othero.html": "file"})
    vhost = make_vhost("/srv/www", aliases=(alias("/al3/", "/srv/other"),))
    assert resolve_target(vhost, "/al3/o.html", fs).filename == "/srv/othero.html"
    assert resolve_target(vhost, "/al3/x", fs).reason == (
        "AH00128: File does not exist: /srv/otherx")


def test_a_literal_nul_never_reaches_the_filesystem() -> None:
    # found by tests/unit/test_fuzz_resolve.py: os.lstat() raises ValueError (not
    # OSError) on a NUL, so the request failed with a traceback instead of an answer
    assert resolve("/a\x00.html").status == 400
    from cgihttpd.resolve import resolve_url
    assert resolve_url(VHOST, "/a\x00.html", FS).status == 400


def test_a_dot_segment_made_by_an_alias_match_is_refused() -> None:
    # found by tests/unit/test_fuzz_resolve.py: "^/p([^/]*)(.*)$" on "/p../x" gave
    # "/srv/other/../x", the walk followed "..", and a file outside the alias's target
    # was served
    vhost = make_vhost("/srv/www", aliases=(
        alias(r"^/p([^/]*)(.*)$", "/srv/other/$1$2", "aliasmatch"),))
    t = resolve_target(vhost, "/p../www/a.html", FS)
    assert (t.kind, t.status, t.filename) == ("error", 403, "")
    assert t.note is not None and "AH00036" in t.note.text
    assert resolve_target(vhost, "/p.", FS).status == 403
    # a group that makes no dot segment is walked as before
    assert resolve_target(vhost, "/p/o.html", FS).filename == "/srv/other/o.html"
