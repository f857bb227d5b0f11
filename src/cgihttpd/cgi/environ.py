"""CGI meta-variables and argv: the environment a script starts with (RFC 3875 §4.1).

Owns the exact set Apache 2.4 gives a script (``ap_add_common_vars`` +
``ap_add_cgi_vars`` in server/util_script.c, ``create_argv`` in mod_cgid.c) and
nothing else: the script starts from an empty environment, never from the server's.

Pure: values in (``Request``, ``Target``, ``VirtualHost``, the server's own
environment as a mapping), a ``dict[str, str]`` out. Must not know about processes,
sockets or files.

Encoding: every string in the result is a *latin-1 view of bytes*: the runner encodes
each key and value with latin-1 to get the bytes the script sees. Values taken from
the wire (headers, the request target, the query) are already latin-1 views;
filesystem paths and configuration text go through ``to_wire`` (UTF-8 with
surrogateescape, as ``os.fsencode`` on POSIX).
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from cgihttpd.banner import signature
from cgihttpd.cache import BoundedCache
from cgihttpd.config.model import DirConf, VirtualHost
from cgihttpd.request import Request, TlsFacts
from cgihttpd.target import Target

#: Apache's DEFAULT_PATH (include/httpd.h), used only when the server has no PATH.
DEFAULT_PATH = "/bin:/usr/bin:/usr/ucb:/usr/bsd:/usr/local/bin"

#: Server environment variables Apache copies into every script's environment
#: (util_script.c ``env2env``: PATH everywhere, then per platform; TZ is added by
#: ``ap_create_environment``). Windows needs SystemRoot for any program to start.
_INHERITED = ("PATH", "SystemRoot", "COMSPEC", "PATHEXT", "WINDIR") \
    if sys.platform == "win32" else \
    ("PATH", "DYLD_LIBRARY_PATH") if sys.platform == "darwin" else ("PATH", "LD_LIBRARY_PATH")

#: httpd.h: _POSIX_ARG_MAX where defined (Linux); create_argv keeps 5 slots.
APACHE_ARG_MAX = 4096

#: ap_escape_shell_cmd (server/util.c, T_ESCAPE_SHELL_CMD in gen_test_char.c):
#: mod_cgid backslash-escapes these in ISINDEX argv words although no shell runs.
_SHELL_META = frozenset("&;`'\"|*?~<>^()[]{}$\\\n")


def to_wire(text: str) -> str:
    """A str from the filesystem or the config as the latin-1 view of its bytes."""
    if text.isascii():  # its own view (nearly every path): no encode, no decode
        return text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


#: HTTP_* names by header spelling (a few dozen spellings cover a site's traffic)
NameCache = BoundedCache[str, str | None]


def http_env_name(header: str, names: NameCache | None = None) -> str | None:
    """``HTTP_*`` name for a request header, or None if Apache would not export it.

    util_script.c ``http2env``: alnum upper-cased, '-' -> '_', any other character
    (including '_') and the header is not exported at all. Remembered per spelling in
    ``names`` when given (the runtime's).
    """
    if names is None:
        return _http_env_name(header)
    if header in names:
        return names.get(header)
    name = _http_env_name(header)
    names.put(header, name)
    return name


def _http_env_name(header: str) -> str | None:
    out = ["HTTP_"]
    for c in header:
        if c.isascii() and c.isalnum():
            out.append(c.upper())
        elif c == "-":
            out.append("_")
        else:
            return None
    return "".join(out)


def sanitize_env_name(name: str) -> str:
    """ap_create_environment: a leading digit and every non-alnum becomes '_'."""
    if name.isascii() and name.replace("_", "a").isalnum() and not name[0].isdigit():
        return name  # nothing to change (nearly every name, ~30 per request)
    chars = [c if (c.isascii() and c.isalnum()) else "_" for c in name]
    if chars and name[0].isdigit():
        chars[0] = "_"
    return "".join(chars)


def _host_port(request: Request) -> int | None:
    """The port of the Host header, if it names one (Apache: r->parsed_uri.port)."""
    raw = (request.header("host") or "").strip()
    if raw.startswith("["):
        end = raw.find("]")
        rest = raw[end + 1:] if end != -1 else ""
    else:
        rest = raw[raw.find(":"):] if raw.count(":") == 1 else ""
    if rest.startswith(":") and rest[1:].isdigit():
        return int(rest[1:])
    return None


def _split_name_port(name: str) -> tuple[str, int | None]:
    if name.startswith("["):
        end = name.find("]")
        head, rest = name[: end + 1], name[end + 1:]
    elif name.count(":") == 1:
        head, _, port = name.partition(":")
        rest = ":" + port
    else:
        return name, None
    if rest.startswith(":") and rest[1:].isdigit():
        return head, int(rest[1:])
    return head, None


def server_name(request: Request, vhost: VirtualHost) -> str:
    """ap_get_server_name with UseCanonicalName Off: the Host header's name, lower-case,
    else the vhost's ServerName (IPv6 literals keep their brackets: _for_url)."""
    host = request.host
    if host:
        return host
    name, _ = _split_name_port(vhost.server_name)
    return name or request.server_addr


def server_port(request: Request, vhost: VirtualHost) -> int:
    """ap_get_server_port with UseCanonicalName Off (server/core.c): the Host header's
    port, else r->server->port (``VirtualHost.port``: the ServerName's port, else the
    <VirtualHost> address's unless a ServerName without a port reset it), else the
    scheme's default port (checked: apache2 gives SERVER_PORT 80 for "Host: name" on a
    <VirtualHost *:8080> whose ServerName has no port). The one implementation for CGI
    variables, error pages and redirects."""
    port = _host_port(request)
    if port is not None:
        return port
    if vhost.port:
        return vhost.port
    return 443 if request.scheme == "https" else 80


def mod_env(changes: tuple[tuple[str, str, str], ...],
            server_environ: Mapping[str, str]) -> dict[str, str]:
    """mod_env: SetEnv / PassEnv / UnsetEnv (``DirConf.env``) applied in configuration
    order to an empty environment: the request's variables, which ``%{NAME}e`` in a
    log format and ``CustomLog ... env=`` read for every request, and which a script
    starts with. The one applier: values as configured (str)."""
    env: dict[str, str] = {}
    for op, name, value in changes:
        if op == "set":
            env[name] = value
        elif op == "pass":
            if name in server_environ:
                env[name] = server_environ[name]
        else:
            env.pop(name, None)
    return env


def apply_env_directives(conf: DirConf, server_environ: Mapping[str, str]) -> dict[str, str]:
    """``mod_env`` for a script: the same variables as latin-1 views of their bytes."""
    return {name: to_wire(value) for name, value in mod_env(conf.env, server_environ).items()}


def build_cgi_environ(
    request: Request,
    target: Target,
    vhost: VirtualHost,
    *,
    server_software: str,
    server_environ: Mapping[str, str],
    path_translated: str | None = None,
    content_length: int | None = None,
    remote_user: str | None = None,
    auth_type: str | None = None,
    current_uri: str | None = None,
    inherited: Mapping[str, str] | None = None,
    http_names: NameCache | None = None,
) -> dict[str, str]:
    """The environment Apache 2.4 gives the script of ``target`` for ``request``, built
    as util_script.c builds it: r->subprocess_env (``inherited``, then mod_env), then
    ``common_vars`` (ap_add_common_vars) and ``cgi_vars`` (ap_add_cgi_vars) over it,
    names sanitised (ap_create_environment).

    ``path_translated``: the file PATH_INFO maps to as a URL (the caller translates
    it with ``resolve.translated_filename``, as Apache asks a sub-request), None means
    "not mapped". ``content_length``: the de-chunked length of a spooled chunked body,
    overriding the header. ``current_uri``: r->uri (the decoded path of the request being served, for
    ``CGIVar REQUEST_URI current-uri`` and internal redirects). ``inherited``:
    variables already in r->subprocess_env before the CGI ones are added (REDIRECT_*
    after an internal redirect); the CGI variables win over them.
    """
    env: dict[str, str] = dict(inherited or {})
    env.update(apply_env_directives(target.conf, server_environ))
    if request.tls is not None:
        env.update(ssl_vars(request.tls, bool(target.conf.ssl_std_env_vars)))
    common = common_vars(request, target, vhost, env, server_software=server_software,
                         server_environ=server_environ, content_length=content_length,
                         remote_user=remote_user, auth_type=auth_type,
                         http_names=http_names)
    common.update(cgi_vars(request, target, path_translated=path_translated,
                           current_uri=current_uri))
    # ap_create_environment: names sanitised - those of SetEnv/PassEnv and of inherited
    # variables; the ones made here (HTTP_* included) are valid names by construction.
    out = {sanitize_env_name(k): v for k, v in env.items()}
    out.update(common)
    # TZ from the server unless set
    if "TZ" not in out and "TZ" in server_environ:
        out["TZ"] = to_wire(server_environ["TZ"])
    for key, value in out.items():
        if "\0" in value:
            # Apache's values are C strings, cut at a NUL; the OS refuses one in an
            # environment (a SetEnv can hold one; a request field cannot get past the
            # HTTP parser, but the spawn must not depend on that)
            out[key] = value.partition("\0")[0]
    return out


def ssl_vars(tls: TlsFacts, std_env_vars: bool) -> dict[str, str]:
    """mod_ssl's ssl_hook_Fixup: HTTPS and SSL_TLS_SNI always; with ``SSLOptions
    +StdEnvVars`` the connection's SSL_* variables (checked against apache2 2.4.71).
    Those of certificates (SSL_SERVER_*, SSL_CLIENT_* but VERIFY) and
    SSL_VERSION_INTERFACE are not given: cgihttpd parses no certificate and is not
    mod_ssl."""
    out = {"HTTPS": "on"}
    if tls.sni:
        out["SSL_TLS_SNI"] = tls.sni
    if std_env_vars:
        bits = str(tls.bits)
        out.update({
            "SSL_VERSION_LIBRARY": tls.library, "SSL_PROTOCOL": tls.protocol,
            "SSL_SECURE_RENEG": "true", "SSL_COMPRESS_METHOD": "NULL",
            "SSL_CIPHER": tls.cipher, "SSL_CIPHER_EXPORT": "false",
            "SSL_CIPHER_USEKEYSIZE": bits, "SSL_CIPHER_ALGKEYSIZE": bits,
            "SSL_CLIENT_VERIFY": "NONE",
            "SSL_SESSION_RESUMED": "Resumed" if tls.resumed else "Initial",
        })
        if tls.session_id:
            out["SSL_SESSION_ID"] = tls.session_id
    return out


def common_vars(request: Request, target: Target, vhost: VirtualHost,
                env: Mapping[str, str], *, server_software: str,
                server_environ: Mapping[str, str], content_length: int | None = None,
                remote_user: str | None = None, auth_type: str | None = None,
                http_names: NameCache | None = None) -> dict[str, str]:
    """util_script.c ``ap_add_common_vars``: the request's headers as HTTP_*, the
    variables passed from the server's environment (``env``: r->subprocess_env, first),
    and the server's and connection's facts. Every server-side handler's variables,
    not only CGI's."""
    conf = target.conf
    common: dict[str, str] = {}

    # Request headers (RFC 3875 §4.1.18). Repeated fields arrive merged with ", "
    # in Apache's headers_in table (protocol.c ap_get_mime_headers_core).
    merged: dict[str, tuple[str, list[str]]] = {}
    for name, value in request.headers:
        key = name.lower()
        if key in merged:
            merged[key][1].append(value)
        else:
            merged[key] = (name, [value])
    for key, (name, values) in merged.items():
        value = ", ".join(values)
        if key == "content-type":
            common["CONTENT_TYPE"] = value
        elif key == "content-length":
            common["CONTENT_LENGTH"] = value
        elif key == "proxy":
            # httpoxy (CVE-2016-5385): HTTP_PROXY would configure the script's proxy.
            continue
        elif key in ("authorization", "proxy-authorization"):
            # Apache docs, CGIPassAuth: credentials only when explicitly allowed.
            if conf.cgi_pass_auth:
                env_name = http_env_name(name, http_names)
                if env_name:
                    common[env_name] = value
        else:
            env_name = http_env_name(name, http_names)
            if env_name:
                common[env_name] = value
    if content_length is not None:
        # RFC 3875 §4.1.2: the length of the body the script will read.
        common["CONTENT_LENGTH"] = str(content_length)

    # env2env: r->subprocess_env (SetEnv PATH) first, then the server's own.
    for var in _INHERITED:
        if var in env:
            common[var] = env[var]
        elif var in server_environ:
            common[var] = to_wire(server_environ[var])
        elif var == "PATH":
            common[var] = DEFAULT_PATH

    name = server_name(request, vhost)
    port = server_port(request, vhost)
    # ap_psignature: the per-directory ServerSignature, else the server's
    common["SERVER_SIGNATURE"] = signature(
        conf.server_signature or vhost.server_signature, server_software, name, port, to_wire(vhost.server_admin))
    common["SERVER_SOFTWARE"] = server_software
    common["SERVER_NAME"] = html.escape(name, quote=True)
    common["SERVER_ADDR"] = request.server_addr
    common["SERVER_PORT"] = str(port)
    common["REMOTE_ADDR"] = request.client_addr
    common["DOCUMENT_ROOT"] = to_wire(vhost.document_root)
    common["REQUEST_SCHEME"] = request.scheme
    common["CONTEXT_PREFIX"] = to_wire(target.context_prefix)
    common["CONTEXT_DOCUMENT_ROOT"] = to_wire(target.context_document_root or vhost.document_root)
    common["SERVER_ADMIN"] = to_wire(vhost.server_admin)
    common["SCRIPT_FILENAME"] = to_wire(target.filename)
    common["REMOTE_PORT"] = str(request.client_port)
    if remote_user is not None:
        common["REMOTE_USER"] = remote_user
    if auth_type is not None:
        common["AUTH_TYPE"] = auth_type
    if request.scheme == "https":
        common["HTTPS"] = "on"  # mod_ssl's StdEnvVars minimum
    return common


def cgi_vars(request: Request, target: Target, *, path_translated: str | None = None,
             current_uri: str | None = None) -> dict[str, str]:
    """util_script.c ``ap_add_cgi_vars``: what the CGI/1.1 specification adds (RFC 3875
    §4.1): the gateway, the request line's parts, SCRIPT_NAME and PATH_INFO."""
    cgi: dict[str, str] = {}
    cgi["GATEWAY_INTERFACE"] = "CGI/1.1"
    cgi["SERVER_PROTOCOL"] = request.protocol
    cgi["REQUEST_METHOD"] = request.method
    cgi["QUERY_STRING"] = request.query  # RFC 3875 §4.1.7: never decoded
    rules = dict(target.conf.cgi_vars)
    if rules.get("REQUEST_URI") == "current-uri":
        cgi["REQUEST_URI"] = to_wire(current_uri if current_uri is not None else target.url_path)
    else:
        # original_uri(): the target of the request line as sent, which stays the
        # client's after an internal redirect (verified against Apache 2.4.71).
        cgi["REQUEST_URI"] = original_uri(request)
    cgi["SCRIPT_NAME"] = to_wire(target.url_path)
    if target.path_info:
        cgi["PATH_INFO"] = to_wire(target.path_info)
        if path_translated is not None:
            cgi["PATH_TRANSLATED"] = to_wire(path_translated)
    return cgi


_SPACES = re.compile(r"[ \t\n\v\f\r]+")
_OTHER_SPACE = re.compile(r"[\t\n\v\f\r]")


def original_uri(request: Request) -> str:
    """util_script.c original_uri: the second word of the request line ("" if none)."""
    # apr_isspace is ASCII-only: str.split() would also cut at \x85 and \xa0
    line = request.request_line
    if _OTHER_SPACE.search(line) is None:
        words = [w for w in line.split(" ") if w]  # the usual line: no regex split
    else:
        words = [w for w in _SPACES.split(line) if w]
    if len(words) >= 2:
        return words[1]
    return request.raw_target if not request.request_line else ""


def build_cgi_argv(query: str) -> list[str]:
    """The script's argv after argv[0] (mod_cgid ``create_argv``; RFC 3875 §4.4).

    An ISINDEX-style query (non-empty, no '=') is split on '+', each word
    percent-decoded, then shell-escaped as Apache does. Latin-1 views of bytes.
    """
    if not query or "=" in query:
        return []
    words: list[str] = []
    for word in query.split("+")[:APACHE_ARG_MAX - 5]:  # "Truncate args to prevent overrun"
        decoded = unquote_to_bytes(word).decode("latin-1")
        words.append("".join("\\" + c if c in _SHELL_META else c for c in decoded))
    return words


def redirect_variables(previous: Mapping[str, str], status: int, url: str,
                       query: str | None) -> dict[str, str]:
    """What an internal redirect puts in the new request's environment
    (http_request.c ``rename_original_env`` + util_script.c): every previous variable
    as REDIRECT_<name>, REDIRECT_STATUS, REDIRECT_URL, REDIRECT_QUERY_STRING."""
    out = {"REDIRECT_" + k: v for k, v in previous.items()}
    out["REDIRECT_STATUS"] = str(status)
    out["REDIRECT_URL"] = to_wire(url)
    if query is not None:
        out["REDIRECT_QUERY_STRING"] = query
    return out

