""".htaccess: ``config.htaccess.parse_htaccess`` (the file's text under AllowOverride)
and the resolver reading the files along the path (``resolve_target(access=...)``)
over a fake filesystem. Messages and statuses were compared with Apache 2.4.71
(tests/differential/test_htaccess_diff.py)."""

from __future__ import annotations

import pytest
from test_resolve import FakeFS

from app.factory import directory, make_vhost, require_of, verdicts
from cgihttpd.cache import BoundedCache
from cgihttpd.config.htaccess import Htaccess, HtaccessContext, Overrides, parse_htaccess
from cgihttpd.config.model import VirtualHost
from cgihttpd.resolve import AccessFiles, HtaccessCache, ResolutionCache, resolve_target
from cgihttpd.target import Target

ALL = frozenset({"AuthConfig", "FileInfo", "Indexes", "Limit", "Options"})
MODULES = frozenset({"core_module", "dir_module", "mime_module", "authz_core_module",
                     "autoindex_module", "auth_basic_module", "authn_core_module",
                     "authn_file_module", "authz_user_module", "alias_module",
                     "authz_groupfile_module", "authz_host_module", "access_compat_module"})
CONTEXT = HtaccessContext(MODULES, "/etc/apache2")
INVALID = ("Invalid command 'Foo', perhaps misspelled or defined by a module not included "
           "in the server configuration")


def parse(text: str, classes: frozenset[str] = ALL, *,
          names: frozenset[str] = frozenset(),
          options: frozenset[str] | None = None) -> Htaccess:
    return parse_htaccess(text, "/w/.htaccess", "/w", Overrides(classes, options, names),
                          CONTEXT)


def test_settings_of_each_class_are_a_delta() -> None:
    h = parse("DirectoryIndex start.html\nErrorDocument 404 /e.html\nOptions -Indexes\n"
              "<IfModule mod_dir.c>\nDirectorySlash Off\n</IfModule>\n"
              "<Files .env>\nRequire all denied\n</Files>\n")
    assert h.error is None
    conf = h.conf
    assert conf.options is not None
    assert conf.directory_index == ("start.html",) and conf.directory_slash is False
    assert conf.error_documents == ((404, "/e.html"),)
    assert "Indexes" in conf.options.remove
    (sec,) = h.files
    assert (sec.kind, sec.pattern, sec.within, require_of(sec.conf)) == (
        "files", ".env", "/w", "all denied")


@pytest.mark.parametrize(
    ("text", "classes", "error"),
    [
        ("Foo bar\n", ALL, INVALID),
        ("AddType text/plain .x\n", frozenset({"Indexes"}), "AddType not allowed here"),
        ("DirectoryIndex a\n", frozenset({"FileInfo"}), "DirectoryIndex not allowed here"),
        ("Options -Indexes\n", frozenset({"FileInfo"}), "Options not allowed here"),
        ("Include /etc/passwd\n", ALL, "Include not allowed here"),
        ("DocumentRoot /\n", ALL, "DocumentRoot not allowed here"),
        ("AllowOverride All\n", ALL, "AllowOverride not allowed here"),
        ("<Directory /x>\n</Directory>\n", ALL, "<Directory not allowed here"),
        ("<Files x>\n", ALL, "<Files> was not closed."),
        ("AuthType Digest\nAuthUserFile /p\nRequire valid-user\n", ALL,
         "AuthType Digest: authentication by 'Digest' is not supported by cgihttpd yet; "
         "refusing the request rather than serve it unprotected"),
        ("AuthBasicFake alice\n", ALL,
         "AuthBasicFake: authentication is not supported by cgihttpd yet; refusing the "
         "request rather than serve it unprotected"),
        ("AuthType Basic\n", frozenset({"FileInfo"}), "AuthType not allowed here"),
        ("Require valid-user\n", frozenset({"FileInfo"}), "Require not allowed here"),
        ("Require expr %{TIME_HOUR} -gt 5\n", ALL,
         "Require expr %{TIME_HOUR} -gt 5: this expression (variable %{TIME_HOUR}) is not "
         "supported by cgihttpd yet; refusing the request rather than serve it unprotected"),
    ],
)
def test_what_makes_a_file_unusable(text: str, classes: frozenset[str], error: str) -> None:
    assert parse(text, classes).error == error


def test_limit_request_body_holds_for_the_directory() -> None:
    """LimitRequestBody is per directory (core.c OR_ALL): a .htaccess sets it there."""
    h = parse("LimitRequestBody 10\n", frozenset({"Limit"}))
    assert (h.error, h.conf.limit_request_body) == (None, 10)


def test_allow_override_list_and_options_list() -> None:
    assert parse("DirectoryIndex a\n", frozenset(),
                 names=frozenset({"directoryindex"})).error is None
    h = parse("Options +ExecCGI\n", frozenset({"Options"}), options=frozenset({"Indexes"}))
    assert h.error == "Option ExecCGI not allowed here"
    h = parse("Options -Indexes\n", frozenset({"Options"}), options=frozenset({"Indexes"}))
    assert h.error is None


# --- the resolver ----------------------------------------------------------------------


def site(tree: dict[str, object]) -> tuple[VirtualHost, FakeFS]:
    vhost = make_vhost("/srv/www", sections=(
        directory("/", require="all denied", allow_override=frozenset()),
        directory("/srv/www", require="all granted", allow_override=ALL),
        directory("/srv/www/closed", allow_override=frozenset()),
    ))
    return vhost, FakeFS(tree)


def resolve(vhost: VirtualHost, path: str, fs: FakeFS) -> Target:
    return resolve_target(vhost, path, fs, access=AccessFiles(CONTEXT))


def test_nested_files_override_their_parent_and_none_is_not_read() -> None:
    vhost, fs = site({
        "/srv/www/.htaccess": b"DirectoryIndex a.html\n",
        "/srv/www/a.html": "file", "/srv/www/b.html": "file",
        "/srv/www/in/.htaccess": b"DirectoryIndex b.html\n",
        "/srv/www/in/a.html": "file", "/srv/www/in/b.html": "file",
        "/srv/www/closed/.htaccess": b"Foo\n", "/srv/www/closed/a.html": "file",
    })
    assert resolve(vhost, "/", fs).filename == "/srv/www/a.html"
    assert resolve(vhost, "/in/", fs).filename == "/srv/www/in/b.html"
    # AllowOverride None: the file is not even read, so its error does not matter
    t = resolve(vhost, "/closed/", fs)
    assert (t.kind, t.filename) == ("file", "/srv/www/closed/a.html")
    # without the reader (access=None) no .htaccess counts
    assert resolve_target(vhost, "/", fs).kind == "directory"


def test_authentication_in_a_htaccess_is_a_delta() -> None:
    h = parse("AuthType Basic\nAuthName \"Private area\"\nAuthUserFile users\n"
              "AuthGroupFile /g\nRequire user alice bob\n")
    assert h.error is None
    c = h.conf
    assert (c.auth_type, c.auth_name, c.auth_user_file, c.auth_group_file) == (
        "Basic", "Private area", "/etc/apache2/users", "/g")
    assert require_of(c) == "user alice bob"


def test_a_bad_file_is_500_with_its_name_and_an_auth_file_never_serves() -> None:
    vhost, fs = site({
        "/srv/www/bad/.htaccess": b"Foo bar\n", "/srv/www/bad/x.txt": "file",
        "/srv/www/auth/.htaccess": b"AuthType Digest\nAuthName x\nAuthUserFile /p\n"
                                   b"Require valid-user\n",
        "/srv/www/auth/secret.txt": "file",
    })
    t = resolve(vhost, "/bad/x.txt", fs)
    assert (t.kind, t.status) == ("error", 500)
    assert t.note is not None and t.note.text == f"/srv/www/bad/.htaccess: {INVALID}"
    assert (t.note.module, t.note.level) == ("core", "alert")
    t = resolve(vhost, "/auth/secret.txt", fs)
    assert (t.kind, t.status) == ("error", 500)
    assert t.reason.startswith("/srv/www/auth/.htaccess: AuthType Digest: authentication")


def test_an_unreadable_file_is_403() -> None:
    class Unreadable(FakeFS):
        def read_bytes(self, path: str) -> bytes:
            raise PermissionError(13, "Permission denied", path)

    vhost, _ = site({})
    fs = Unreadable({"/srv/www/.htaccess": b"", "/srv/www/x.txt": "file"})
    t = resolve(vhost, "/x.txt", fs)
    assert (t.kind, t.status) == ("error", 403)
    assert t.reason == ("(13)Permission denied: AH00529: /srv/www/.htaccess pcfg_openfile: "
                        "unable to check htaccess file, ensure it is readable and that "
                        "'/srv/www' is executable")


def test_htaccess_files_sections_apply_below_it() -> None:
    vhost, fs = site({
        "/srv/www/p/.htaccess": b"<Files secret.txt>\nRequire all denied\n</Files>\n",
        "/srv/www/p/secret.txt": "file", "/srv/www/p/q/secret.txt": "file",
        "/srv/www/secret.txt": "file",
    })
    assert verdicts(resolve(vhost, "/p/secret.txt", fs)) == ["denied"]
    assert verdicts(resolve(vhost, "/p/q/secret.txt", fs)) == ["denied"]
    assert verdicts(resolve(vhost, "/secret.txt", fs)) == ["granted"]


def test_a_deeper_directory_section_overrides_a_parent_htaccess() -> None:
    vhost = make_vhost("/srv/www", sections=(
        directory("/srv/www", require="all granted", allow_override=ALL),
        directory("/srv/www/in", directory_index=("b.html",)),
    ))
    fs = FakeFS({"/srv/www/.htaccess": b"DirectoryIndex a.html\n",
                 "/srv/www/in/a.html": "file", "/srv/www/in/b.html": "file"})
    assert resolve(vhost, "/in/", fs).filename == "/srv/www/in/b.html"


def test_creating_editing_and_deleting_take_effect_with_the_caches() -> None:
    """The remembered resolution is replayed only while the access files' stats are
    the same; the parsed file is kept by its identity."""
    vhost, fs = site({"/srv/www/a.html": "file", "/srv/www/b.html": "file"})
    memo: ResolutionCache = BoundedCache(16)
    parsed: HtaccessCache = BoundedCache(16)
    access = AccessFiles(CONTEXT, parsed)

    def index() -> str:
        t = resolve_target(vhost, "/", fs, memo=memo, confs=BoundedCache(16),
                           access=access)
        return f"{t.kind}:{t.filename}"

    assert index() == "directory:/srv/www/"
    fs.tree["/srv/www/.htaccess"] = b"DirectoryIndex a.html\n"
    assert index() == "file:/srv/www/a.html"
    fs.tree["/srv/www/.htaccess"] = b"DirectoryIndex bb.html b.html\n"
    assert index() == "file:/srv/www/b.html"
    assert len(parsed) == 2
    del fs.tree["/srv/www/.htaccess"]
    assert index() == "directory:/srv/www/"


def test_a_directive_of_an_unimplemented_module_refuses_the_file() -> None:
    """Never a silent skip: a directive ignored would change what is served."""
    context = HtaccessContext(MODULES | {"expires_module"}, "/etc/apache2")
    got = parse_htaccess("DirectoryIndex a.html\nExpiresActive On\n",
                         "/w/.htaccess", "/w", Overrides(ALL), context)
    assert got.error is not None and "ExpiresActive: not implemented by cgihttpd" in got.error
    assert got.error_line == 2


@pytest.mark.parametrize(("text", "classes", "error"), [
    ("Require ip 10.1\n<RequireAll>\nRequire all granted\n</RequireAll>\n",
     frozenset({"AuthConfig"}), None),
    ("Require ip 10.1\n", frozenset({"Limit"}), "Require not allowed here"),
    ("Order allow,deny\nAllow from 10.1\nDeny from env=X\n", frozenset({"Limit"}), None),
    ("Order allow,deny\n", frozenset({"AuthConfig"}), "order not allowed here"),
    ("<Limit POST>\nRequire all denied\n</Limit>\n", frozenset({"AuthConfig"}), None),
    # authz_core_check_config (AH01624) runs at start-up only
    ("<RequireAll>\nRequire not ip 10.1\n</RequireAll>\n", ALL, None),
    ("<Limit FOO>\nRequire all denied\n</Limit>\n", ALL,
     "Could not register method 'FOO' for <Limit from .htaccess configuration"),
])
def test_access_control_in_htaccess(text: str, classes: frozenset[str],
                                    error: str | None) -> None:
    """Require needs AllowOverride AuthConfig, Order/Allow/Deny need Limit (apache2 -L);
    a .htaccess cannot register a method (core.c ap_limit_section)."""
    assert parse(text, classes).error == error


def test_htaccess_require_is_carried_to_the_access_phase() -> None:
    vhost, fs = site({
        "/srv/www/p/.htaccess": b"Order deny,allow\nDeny from all\n",
        "/srv/www/p/a.txt": "file",
        "/srv/www/q/.htaccess": b"Require ip 10.0.0.0/8\n", "/srv/www/q/a.txt": "file",
        # only negative: neutral, so 403 (checked on apache2: 403, AH01630)
        "/srv/www/n/.htaccess": b"<RequireAll>\nRequire not ip 10.1\n</RequireAll>\n",
        "/srv/www/n/a.txt": "file",
    })
    assert verdicts(resolve(vhost, "/n/a.txt", fs)) == ["denied"]
    assert verdicts(resolve(vhost, "/p/a.txt", fs)) == ["denied-host"]
    assert verdicts(resolve(vhost, "/q/a.txt", fs)) == ["denied"]
