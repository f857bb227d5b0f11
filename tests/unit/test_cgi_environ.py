"""CGI meta-variables and argv, against what Debian's Apache 2.4.71 (mod_cgid) gave an
env-dumping script for the same requests (recorded 2026-11-26)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.cgi.environ import (
    DEFAULT_PATH,
    build_cgi_argv,
    build_cgi_environ,
    http_env_name,
    redirect_variables,
    sanitize_env_name,
)
from cgihttpd.config.model import BUILTIN, Address, Alias, DirConf, VirtualHost
from cgihttpd.request import Request
from cgihttpd.resolve import translated_filename
from cgihttpd.target import Target

ROOT = "/tmp/h5ap/htdocs"


def vhost(**kw: object) -> VirtualHost:
    base = dict(
        addresses=(), server_name="localhost", server_aliases=(),
        server_admin="admin@example.com", document_root=ROOT, error_log="",
        log_level="warn", custom_logs=(), aliases=(), base=DirConf(), sections=(),
        timeout=60.0, keepalive=True, keepalive_timeout=5.0, max_keepalive_requests=100,
        server_signature="off", cgi_script_timeout=None, script_log=None, source=BUILTIN,
        is_main=True,
    )
    base.update(kw)
    return VirtualHost(**base)  # type: ignore[arg-type]


def request(target: str = "/env.py", headers: tuple[tuple[str, str], ...] = (),
            method: str = "GET", version: str = "1.1", **kw: object) -> Request:
    path, _, query = target.partition("?")
    base = dict(
        method=method, raw_target=target, raw_path=path, query=query, http_version=version,
        headers=headers, client_addr="127.0.0.1", client_port=51428,
        server_addr="127.0.0.1", server_port=18555, scheme="http",
        request_line=f"{method} {target} HTTP/{version}",
    )
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


def target(**kw: object) -> Target:
    base: dict[str, object] = dict(kind="file", filename=ROOT + "/env.py", url_path="/env.py",
                                   handler="cgi-script", context_document_root=ROOT)
    base.update(kw)
    return Target(**base)  # type: ignore[arg-type]


SERVER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "SECRET": "x",
              "LD_LIBRARY_PATH": "/opt/lib"}


def env_for(req: Request, tgt: Target | None = None, vh: VirtualHost | None = None,
            **kw: object) -> dict[str, str]:
    tgt = tgt or target()
    vh = vh or vhost()
    pt = translated_filename(vh, tgt.path_info) if tgt.path_info else None
    return build_cgi_environ(req, tgt, vh, server_software="Apache/2.4.71 (Debian)",
                             server_environ=SERVER_ENV, path_translated=pt, **kw)  # type: ignore[arg-type]


def test_matches_apache_for_a_get_with_path_info() -> None:
    req = request("/env.py/a/b%20c?x=1&y", headers=(
        ("host", "127.0.0.1:18555"), ("user-agent", "curl/7.88.1"), ("accept", "*/*"),
        ("x-foo", "a"), ("x-foo", "b"), ("proxy", "p"), ("authorization", "Basic x"),
        ("x_under", "u"), ("x.dot", "d")))
    env = env_for(req, target(path_info="/a/b c"))
    assert env == {
        "CONTEXT_DOCUMENT_ROOT": ROOT,
        "CONTEXT_PREFIX": "",
        "DOCUMENT_ROOT": ROOT,
        "GATEWAY_INTERFACE": "CGI/1.1",
        "HTTP_ACCEPT": "*/*",
        "HTTP_HOST": "127.0.0.1:18555",
        "HTTP_USER_AGENT": "curl/7.88.1",
        "HTTP_X_FOO": "a, b",
        "LD_LIBRARY_PATH": "/opt/lib",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PATH_INFO": "/a/b c",
        "PATH_TRANSLATED": ROOT + "/a/b c",
        "QUERY_STRING": "x=1&y",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "51428",
        "REQUEST_METHOD": "GET",
        "REQUEST_SCHEME": "http",
        "REQUEST_URI": "/env.py/a/b%20c?x=1&y",
        "SCRIPT_FILENAME": ROOT + "/env.py",
        "SCRIPT_NAME": "/env.py",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_ADMIN": "admin@example.com",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "18555",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SIGNATURE": "",
        "SERVER_SOFTWARE": "Apache/2.4.71 (Debian)",
    }


def test_server_name_and_port_from_host_header() -> None:
    env = env_for(request(headers=(("host", "Foo.Example:99"),)))
    assert env["SERVER_NAME"] == "foo.example" and env["SERVER_PORT"] == "99"


def test_http10_without_host_uses_servername_and_default_port() -> None:
    # Apache: SERVER_NAME=localhost, SERVER_PORT=80 although it listened on 18555
    env = env_for(request(version="1.0"))
    assert env["SERVER_NAME"] == "localhost" and env["SERVER_PORT"] == "80"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"
    # r->server->port (the loader's VirtualHost.port) when the Host names no port
    env = env_for(request(), vh=vhost(addresses=(Address("*", 8080),), port=8080))
    assert env["SERVER_PORT"] == "8080"
    env = env_for(request(), vh=vhost(server_name="www.example", port=81))
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("www.example", "81")
    env = env_for(request(headers=(("host", "h:7"),)), vh=vhost(port=81))
    assert env["SERVER_PORT"] == "7"


def test_post_body_variables_and_scriptalias_context() -> None:
    req = request("/cgi-bin/env.py/x", method="POST", headers=(
        ("content-type", "application/x-www-form-urlencoded"), ("content-length", "3")))
    vh = vhost(aliases=(Alias("scriptalias", "/cgi-bin/", "/tmp/h5ap/cgi/", BUILTIN),))
    tgt = target(filename="/tmp/h5ap/cgi/env.py", url_path="/cgi-bin/env.py", path_info="/x",
                 context_prefix="/cgi-bin/", context_document_root="/tmp/h5ap/cgi/")
    env = env_for(req, tgt, vh)
    assert env["CONTENT_LENGTH"] == "3"
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert "HTTP_CONTENT_LENGTH" not in env and "HTTP_CONTENT_TYPE" not in env
    assert env["CONTEXT_PREFIX"] == "/cgi-bin/"
    assert env["CONTEXT_DOCUMENT_ROOT"] == "/tmp/h5ap/cgi/"
    assert env["SCRIPT_NAME"] == "/cgi-bin/env.py"
    assert env["PATH_TRANSLATED"] == ROOT + "/x"  # PATH_INFO as a URL: the document root


def test_no_body_no_content_vars_no_path_info_vars() -> None:
    env = env_for(request())
    for k in ("CONTENT_TYPE", "CONTENT_LENGTH", "PATH_INFO", "PATH_TRANSLATED",
              "REMOTE_USER", "AUTH_TYPE", "HTTPS"):
        assert k not in env


def test_nothing_leaks_from_the_server_environment() -> None:
    env = env_for(request())
    assert "HOME" not in env and "SECRET" not in env


def test_default_path_when_server_has_none() -> None:
    env = build_cgi_environ(request(), target(), vhost(), server_software="x",
                            server_environ={})
    assert env["PATH"] == DEFAULT_PATH


def test_cgipassauth_exports_authorization() -> None:
    hdrs = (("authorization", "Basic eDp5"), ("proxy-authorization", "Basic z"))
    assert "HTTP_AUTHORIZATION" not in env_for(request(headers=hdrs))
    env = env_for(request(headers=hdrs), target(conf=DirConf(cgi_pass_auth=True)))
    assert env["HTTP_AUTHORIZATION"] == "Basic eDp5"
    assert env["HTTP_PROXY_AUTHORIZATION"] == "Basic z"


def test_setenv_passenv_unsetenv_in_order_and_cgi_vars_win() -> None:
    conf = DirConf(env=(("set", "A", "1"), ("set", "B", "2"), ("unset", "A", ""),
                        ("pass", "HOME", ""), ("pass", "NOPE", ""),
                        ("set", "SERVER_NAME", "evil"), ("set", "PATH", "/only"),
                        ("set", "1BAD-NAME", "v")))
    env = env_for(request(headers=(("host", "h"),)), target(conf=conf))
    assert "A" not in env and env["B"] == "2" and env["HOME"] == "/root"
    assert "NOPE" not in env
    assert env["SERVER_NAME"] == "h"  # ap_add_common_vars overrides SetEnv
    assert env["PATH"] == "/only"  # env2env prefers r->subprocess_env
    assert env["_BAD_NAME"] == "v"  # ap_create_environment sanitises names


def test_a_nul_in_a_value_cuts_it_as_apache_s_c_strings_do() -> None:
    # found by tests/unit/test_fuzz_parsers.py: a NUL reached the environment, which the
    # OS refuses (the spawn raised ValueError)
    conf = DirConf(env=(("set", "A", "a\x00b"),))
    env = env_for(request(headers=(("x-n", "v\x00w"),)), target(conf=conf))
    assert env["A"] == "a" and env["HTTP_X_N"] == "v"


def test_cgivar_request_uri_current_uri() -> None:
    conf = DirConf(cgi_vars=(("REQUEST_URI", "current-uri"),))
    env = env_for(request("/env.py/p?q"), target(conf=conf, path_info="/p"),
                  current_uri="/env.py/p")
    assert env["REQUEST_URI"] == "/env.py/p"


def test_https_remote_user_and_signature() -> None:
    env = env_for(request(scheme="https", headers=(("host", "a.example"),)),
                  vh=vhost(server_signature="on"), remote_user="bob", auth_type="Basic")
    assert env["HTTPS"] == "on" and env["REQUEST_SCHEME"] == "https"
    assert env["SERVER_PORT"] == "443"
    assert env["REMOTE_USER"] == "bob" and env["AUTH_TYPE"] == "Basic"
    assert env["SERVER_SIGNATURE"] == (
        "<address>Apache/2.4.71 (Debian) Server at a.example Port 443</address>\n")
    env = env_for(request(headers=(("host", "a.example"),)), vh=vhost(server_signature="email"))
    assert env["SERVER_SIGNATURE"] == (
        '<address>Apache/2.4.71 (Debian) Server at <a href="mailto:admin@example.com">'
        "a.example</a> Port 80</address>\n")


def test_server_name_is_html_escaped() -> None:
    env = env_for(request(headers=(("host", 'a"<b>'),)))
    assert env["SERVER_NAME"] == "a&quot;&lt;b&gt;"


def test_chunked_spooled_length_sets_content_length() -> None:
    env = env_for(request(method="POST", headers=(("transfer-encoding", "chunked"),)),
                  content_length=12)
    assert env["CONTENT_LENGTH"] == "12"


def test_non_ascii_paths_are_latin1_views_of_utf8_bytes() -> None:
    env = env_for(request(), target(filename=ROOT + "/é.py", url_path="/é.py"))
    assert env["SCRIPT_FILENAME"].encode("latin-1") == (ROOT + "/é.py").encode("utf-8")


def test_translate_path_info_through_alias() -> None:
    vh = vhost(aliases=(Alias("alias", "/docs", "/srv/docs", BUILTIN),
                        # the URL ends in "/", the target does not: joined as written
                        Alias("alias", "/b/", "/srv/b", BUILTIN),
                        Alias("aliasmatch", r"^/m/(.*)$", "/srv/m-$1", BUILTIN),
                        Alias("aliasmatch", r"^/r/(.*)$", "$1", BUILTIN)))
    assert translated_filename(vh, "/docs/a") == "/srv/docs/a"
    assert translated_filename(vh, "/other") == ROOT + "/other"
    # checked with apache2 2.4.71: PATH_TRANSLATED=/srv/bx, /srv/m-q
    assert translated_filename(vh, "/b/x") == "/srv/bx"
    assert translated_filename(vh, "/m/q") == "/srv/m-q"
    assert translated_filename(vh, "/r//etc/x") == "/etc/x"


def test_redirect_variables() -> None:
    prev = {"QUERY_STRING": "q=1", "REQUEST_METHOD": "POST"}
    out = redirect_variables(prev, 200, "/loc2.py", "q=1")
    assert out == {"REDIRECT_QUERY_STRING": "q=1", "REDIRECT_REQUEST_METHOD": "POST",
                   "REDIRECT_STATUS": "200", "REDIRECT_URL": "/loc2.py"}
    env = env_for(request(), inherited=out)
    assert env["REDIRECT_STATUS"] == "200" and env["REQUEST_METHOD"] == "GET"


def test_isindex_argv_like_apache() -> None:
    # Apache 2.4.71: ?hello+w%20orld+a%2Bb -> ["hello", "w orld", "a+b"]
    assert build_cgi_argv("hello+w%20orld+a%2Bb") == ["hello", "w orld", "a+b"]
    assert build_cgi_argv("x=1&y") == []
    assert build_cgi_argv("") == []
    assert build_cgi_argv("a%3Bb") == ["a\\;b"]  # ap_escape_shell_cmd
    assert len(build_cgi_argv("+".join(["w"] * 5000))) == 4091


def test_http_env_name() -> None:
    assert http_env_name("X-Foo-1") == "HTTP_X_FOO_1"
    assert http_env_name("x_under") is None
    assert http_env_name("x.dot") is None


@given(st.lists(st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=20)), max_size=12))
def test_env_names_are_always_valid(headers: list[tuple[str, str]]) -> None:
    hdrs = tuple((k.lower(), v) for k, v in headers)
    env = env_for(request(headers=hdrs))
    for k in env:
        assert k and all(c.isascii() and (c.isalnum() or c == "_") for c in k)
        assert not k[0].isdigit()
    assert "HTTP_PROXY" not in env
    assert "HTTP_AUTHORIZATION" not in env


@given(st.text(max_size=30))
def test_sanitize_is_idempotent(name: str) -> None:
    once = sanitize_env_name(name)
    assert sanitize_env_name(once) == once



def test_request_uri_is_the_request_lines_target() -> None:
    # after an internal redirect Apache still shows the client's target
    req = request("/env.py?from=local", request_line="GET /local.py?orig=1 HTTP/1.1")
    assert env_for(req)["REQUEST_URI"] == "/local.py?orig=1"
    req = request("/a\xa0b", request_line="GET /a\xa0b HTTP/1.1")
    assert env_for(req)["REQUEST_URI"] == "/a\xa0b"


@given(st.text(alphabet=st.sampled_from("aZ09_-. é٣\x00"), max_size=8) | st.text(max_size=8))
def test_sanitize_env_name_fast_path_agrees_with_the_rule(name: str) -> None:
    # the rule spelled out character by character (ap_create_environment)
    chars = [c if (c.isascii() and c.isalnum()) else "_" for c in name]
    if chars and name[0].isdigit():
        chars[0] = "_"
    assert sanitize_env_name(name) == "".join(chars)


def test_to_wire_keeps_ascii_and_encodes_the_rest() -> None:
    from cgihttpd.cgi.environ import to_wire

    assert to_wire("/var/www/cgi-bin/hello.py") == "/var/www/cgi-bin/hello.py"
    assert to_wire("/srv/caf\xe9") == "/srv/caf\xc3\xa9"  # UTF-8 bytes, latin-1 view
    assert to_wire("/srv/\udcff") == "/srv/\xff"  # an undecodable byte, as fsencode
