"""The ASGI application: one request's path through cgihttpd.

    request → virtual host → target → handler → response → log

Owns the order of those steps, the dispatch on the ``Target`` (static file, directory
index or listing, redirect, CGI), Apache's method rules for the default handler, error
pages with ``ErrorDocument`` (text, external URL, or internal redirect), and filling the
``LogRecord``. Each step lives in its own module (``request``, ``vhost``, ``resolve``,
``static``/``files``, ``autoindex``, ``response``, ``cgi.handler``, ``logwriter``);
this one must not grow their logic. An unexpected exception is a 500 with a traceback in
the error log; the server keeps serving.

Must not know how HTTP is framed (the ASGI server does that) nor how CGI runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import replace
from typing import Any

from cgihttpd.accesslog import LogRecord
from cgihttpd.autoindex import (
    Entry,
    forbidden_message,
    index_style,
    render_index,
    render_plain,
)
from cgihttpd.config.model import ServerConfig, VirtualHost
from cgihttpd.errors import ConfigError, HTTPError
from cgihttpd.exchange import ErrorLogger, Exchange
from cgihttpd.files import RealFS, list_directory, load_file, read_range
from cgihttpd.http.errorpage import server_software, signature
from cgihttpd.mime import content_type
from cgihttpd.request import Request, request_from_scope
from cgihttpd.resolve import FileSystem, resolve_target, resolve_url, screen_path
from cgihttpd.response import (
    PageContext,
    Response,
    absolute_url,
    classify_error_document,
    error_response,
    send_response,
    text_response,
)
from cgihttpd.static import ALLOW, STATIC_METHODS, FileStat, plan_static
from cgihttpd.target import Target
from cgihttpd.vhost import select_vhost

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Apache's module and level for the messages resolution and dispatch log, by AH number
_LOG_SOURCE: dict[str, tuple[str, str]] = {
    "AH00026": ("core", "info"),
    "AH00128": ("core", "info"),
    "AH00129": ("core", "info"),
    "AH00130": ("core", "info"),
    "AH01630": ("authz_core", "error"),
    "AH01276": ("autoindex", "error"),
    "AH01595": ("http", "info"),
}


#: the methods Apache registers at start (http_protocol.c ap_method_registry_init)
REGISTERED_METHODS = frozenset({
    "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL",
    "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE",
    "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
})


class App:
    """``App(config)``: an ASGI 3 application serving ``config``. Opens the logs at
    construction (a missing log directory or DocumentRoot is a ``ConfigError``);
    ``close()`` closes them."""

    def __init__(self, config: ServerConfig, *, fs: FileSystem | None = None,
                 logset: Any = None) -> None:
        self.config = config
        self.fs: FileSystem = fs if fs is not None else RealFS()
        _check_document_roots(config)
        self._vhost_ips = _resolve_vhost_names(config)
        if logset is None:
            from cgihttpd.logwriter import LogSet
            logset = LogSet.open(config)
        self.logs = logset
        # Import what requests need now: after User/Group drop root the interpreter's
        # own files may be unreadable (checked with Debian's apache2.conf: www-data cannot
        # read a pyenv Python under /root).
        try:
            from cgihttpd.cgi import handler as cgi_handler
        except ImportError:  # CGI then answers 500 with a log line
            cgi_handler = None  # type: ignore[assignment]
        self._cgi = cgi_handler
        if not os.path.isdir(config.main.document_root) and config.vhosts:
            # Apache only warns for the main server's root (AH00112); with virtual
            # hosts it may never serve a request.
            self.logs.errorlog_for(config.main).log(
                "warn", "core",
                f"AH00112: Warning: DocumentRoot [{config.main.document_root}] does not exist")

    def close(self) -> None:
        self.logs.close()

    # --- the pipeline -----------------------------------------------------------------

    async def __call__(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return None
        request = request_from_scope(scope)
        vhost = select_vhost(self.config, request.server_addr, request.server_port,
                             request.host, names=self._vhost_ips)
        target = self._resolve(vhost, request)
        exchange = self._exchange(scope, request, vhost, target, receive, send)
        try:
            await self._respond(exchange)
        finally:
            self._log(exchange, scope)
        return None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _resolve(self, vhost: VirtualHost, request: Request) -> Target:
        try:
            return resolve_target(vhost, request.raw_path, self.fs)
        except Exception:  # a bug must cost one request, not the server
            self._errorlog(vhost).log("error", "core", "resolving "
                                      f"{request.raw_path!r} failed: {traceback.format_exc()}",
                                      (request.client_addr, request.client_port))
            return Target(kind="error", status=500, conf=vhost.base)

    def _exchange(self, scope: Mapping[str, Any], request: Request, vhost: VirtualHost,
                  target: Target, receive: Receive, send: Send) -> Exchange:
        ext = (scope.get("extensions") or {}).get("cgihttpd") or {}
        record = LogRecord(
            remote_addr=request.client_addr, remote_port=request.client_port,
            local_addr=request.server_addr, local_port=request.server_port,
            request_line=request.request_line, method=request.method,
            raw_uri=request.raw_target, path=target.url_path + target.path_info or request.raw_path,
            query=request.query, protocol=request.protocol, start_time=time.time(),
            headers_in=list(request.headers), server_name=vhost.server_name,
            server_port=request.server_port, filename=target.filename, pid=os.getpid(),
            bytes_in=int(ext.get("bytes_in", 0)),
            keepalive_count=int(ext.get("keepalive_count", 0)),
        )
        record.env.update(_mod_env(target.conf.env))
        errorlog = self._errorlog(vhost)
        for_request = getattr(errorlog, "for_request", None)
        if for_request is not None:
            # Apache appends ", referer: R" to a request's error-log lines (log.c)
            errorlog = for_request(request.header("referer"))
        return Exchange(config=self.config, vhost=vhost, request=request, target=target,
                        record=record, errorlog=errorlog, receive=receive,
                        send=_recording_send(send, record))

    def _errorlog(self, vhost: VirtualHost) -> ErrorLogger:
        log: ErrorLogger = self.logs.errorlog_for(vhost)
        return log

    def _log(self, ex: Exchange, scope: Mapping[str, Any]) -> None:
        rec = ex.record
        rec.duration = time.time() - rec.start_time
        stats = ((scope.get("extensions") or {}).get("cgihttpd") or {}).get("stats")
        if isinstance(stats, dict):
            rec.total_bytes = int(stats.get("bytes_out", rec.total_bytes))
            rec.body_bytes = int(stats.get("body_bytes", rec.body_bytes))
            if stats.get("aborted"):
                rec.completed = False
        if not rec.original_status:
            rec.original_status = rec.status
        self.logs.access(ex.vhost, rec)

    # --- answering --------------------------------------------------------------------

    async def _respond(self, ex: Exchange) -> None:
        try:
            try:
                await self._dispatch(ex)
            except HTTPError as exc:
                if _started(ex):
                    # too late for an error page: the protocol closes the connection
                    ex.record.completed = False
                    return
                await self._send_error(ex, exc)
            except Exception as exc:
                if _started(ex) or isinstance(exc, OSError) and _client_gone(exc):
                    ex.record.completed = False
                    return
                self._log_error(ex, "error", "core",
                                f"request failed: {traceback.format_exc().rstrip()}")
                await self._send_error(ex, HTTPError(500))
        except OSError as exc:
            if not _client_gone(exc):
                raise
            ex.record.completed = False  # the client left while we answered

    async def _dispatch(self, ex: Exchange, *, inherited_env: Mapping[str, str] | None = None,
                        status_override: int = 0) -> None:
        target = ex.target
        if ex.request.method not in REGISTERED_METHODS:
            # ap_read_request: a method Apache never registered is refused whatever the
            # URL (checked: "SEARCH /a.html" → 501 and AH00135 at core:error)
            raise HTTPError(501, f"AH00135: Invalid method in request {ex.request.request_line}",
                            headers=(("Allow", "HEAD,GET,POST,OPTIONS,TRACE"),))
        if ex.request.method == "TRACE":
            await self._trace(ex)
            return
        if target.kind == "error":
            raise HTTPError(target.status, self._reason_for(ex, target))
        if target.kind == "redirect":
            location = self._absolute(ex, target.location)
            if ex.request.query:
                location += "?" + ex.request.query
            await self._send_page(ex, error_response(301, self._page(ex), location=location))
            return
        if target.handler == "cgi-script":
            await self._serve_cgi(ex, inherited_env, status_override)
        elif target.kind == "directory":
            await self._serve_directory(ex)
        else:
            await self._serve_file(ex, status_override)

    # --- handlers ---------------------------------------------------------------------

    async def _trace(self, ex: Exchange) -> None:
        """TraceEnable On, Apache's default (http_protocol.c ap_send_http_trace, hooked
        at map_to_storage: any URL, before access checks): echo the request head as
        message/http. Header names come lower-case (ASGI); Apache echoes them as sent."""
        req = ex.request
        length = req.header("content-length")
        if (length is not None and length.strip() not in ("", "0")) or req.header(
                "transfer-encoding"):
            raise HTTPError(413, f"AH01595: TRACE with body is not allowed for {req.raw_path}")
        head = req.request_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in req.headers)
        body = (head + "\r\n").encode("latin-1", "replace")
        await self._send_page(ex, Response(200, (("Content-Length", str(len(body))),
                                                 ("Content-Type", "message/http")), body))

    async def _serve_file(self, ex: Exchange, status_override: int = 0) -> None:
        """Apache's default handler (core.c default_handler) for a regular file."""
        target, method = ex.target, ex.request.method
        ctype = content_type(target.filename, target.conf, self.config.mime_types)
        if method == "OPTIONS":
            headers = (("Allow", ALLOW), ("Content-Length", "0"))
            await self._send_page(ex, Response(200, headers + ((("Content-Type", ctype),)
                                                               if ctype else ())))
            return
        if method not in STATIC_METHODS:
            raise HTTPError(405, headers=(("Allow", ALLOW),))
        if target.path_info:
            # AcceptPathInfo Default: the default handler refuses extra path
            raise HTTPError(404, "AH00130: File does not exist: "
                                 f"{target.filename}{target.path_info}")
        st, data, f = await load_file(target.filename)
        if data is not None:
            # a small file, already read: its bytes decide the plan (the fstat may
            # predate a change)
            st_size = len(data)
        else:
            st_size = st.st_size
        try:
            # an error document is served whole, unconditionally (ap_die sets
            # no_local_copy: never a 304 for an error document)
            header = ex.request.header if not status_override else _no_header
            plan = plan_static(FileStat(st_size, st.st_mtime_ns),
                               "GET" if status_override and method != "HEAD" else method,
                               header, ctype, ex.record.start_time)
            if plan.status == 416:
                raise HTTPError(416, headers=plan.headers)
            status = status_override or plan.status
            await ex.send({"type": "http.response.start", "status": status,
                           "headers": _encode(plan.headers)})
            if plan.send_body:
                # the body as (head bytes, file offset, length) pieces: one for 200/206,
                # one per range for multipart/byteranges, then the closing delimiter
                pieces = [(p.head, p.offset, p.length) for p in plan.parts] or [
                    (b"", plan.offset, plan.length)]
                for head, offset, length in pieces:
                    await _send_body(ex, head)
                    if data is not None:
                        await _send_body(ex, data[offset:offset + length])
                    elif f is not None:
                        async for chunk in read_range(f, offset, length):
                            await _send_body(ex, chunk)
                await _send_body(ex, plan.closing)
            await ex.send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if f is not None:
                await asyncio.to_thread(f.close)

    async def _serve_directory(self, ex: Exchange) -> None:
        """mod_autoindex (GET/HEAD only), else what Apache's default handler says
        about a directory."""
        target, method = ex.target, ex.request.method
        if method == "OPTIONS":
            await self._send_page(ex, Response(200, (("Allow", ALLOW),
                                                     ("Content-Length", "0"))))
            return
        if method not in STATIC_METHODS:
            raise HTTPError(405, headers=(("Allow", ALLOW),))
        if method == "POST":
            raise HTTPError(404, f"AH00129: Attempt to serve directory: {target.filename}")
        if "Indexes" not in target.conf.effective_options:
            names = (target.conf.effective_directory_index
                     if target.filename.endswith("/") else ())
            raise HTTPError(403, forbidden_message(target.filename, names))
        entries = await list_directory(target.filename)
        visible = await asyncio.to_thread(self._visible, ex, entries)
        ctx = self._page(ex)
        sig = signature(ctx.server_signature.lower(), server_software(ctx.server_tokens),
                        ctx.server_name, ctx.port, ctx.server_admin)
        style = index_style(getattr(target.conf, "index_options", None))
        if style.fancy:
            body = render_index(target.url_path, visible, ex.request.query, sig)
        else:
            body = render_plain(target.url_path, visible, sig)
        await self._send_page(ex, Response(200, (("Content-Length", str(len(body))),
                                                 ("Content-Type", style.content_type)), body))

    def _visible(self, ex: Exchange, entries: list[Entry]) -> list[Entry]:
        """mod_autoindex lists only what a subrequest could reach: entries denied by
        ``Require`` (Debian's ``.ht*`` rule) or by symlink Options are left out."""
        out = []
        for e in entries:
            url = ex.target.url_path + e.name + ("/" if e.is_dir else "")
            sub = resolve_url(ex.vhost, url, self.fs)
            if sub.kind == "error" and sub.status == 403:
                continue
            out.append(e)
        return out

    async def _serve_cgi(self, ex: Exchange, inherited_env: Mapping[str, str] | None,
                         status_override: int) -> None:
        target = ex.target
        module, number = self._cgi_module()
        scriptaliased = target.alias is not None and target.alias.is_script
        # mod_cgi cgi_handler: ExecCGI first, then the file type
        if "ExecCGI" not in target.conf.effective_options and not scriptaliased:
            self._log_error(ex, "error", module, f"{number['execcgi']}: stderr from "
                            f"{target.filename}: Options ExecCGI is off in this directory")
            raise HTTPError(403)
        if target.kind == "directory":
            self._log_error(ex, "error", module, f"{number['dir']}: stderr from "
                            f"{target.filename}: attempt to invoke directory as script")
            raise HTTPError(403)
        if self._cgi is None:
            self._log_error(ex, "error", "core", "CGI support is unavailable")
            raise HTTPError(500)
        serve_cgi = self._cgi.serve_cgi
        cgi_ex = ex
        if status_override:
            cgi_ex = replace(ex, send=_override_status(ex.send, status_override))

        async def redirect(location: str, env: dict[str, str]) -> None:
            await self._internal_redirect(ex, location, env)

        await serve_cgi(cgi_ex, redirect=redirect, inherited_env=inherited_env)

    def _cgi_module(self) -> tuple[str, dict[str, str]]:
        if "cgid_module" in self.config.modules:
            return "cgid", {"execcgi": "AH01262", "dir": "AH01265", "missing": "AH01264"}
        return "cgi", {"execcgi": "AH02809", "dir": "AH02812", "missing": "AH02811"}

    async def _internal_redirect(self, ex: Exchange, location: str,
                                 env: Mapping[str, str], status_override: int = 0) -> None:
        """Serve ``location`` (a local URL) as a GET in place of the current target
        (ap_internal_redirect): a CGI ``Location: /x`` or a local ErrorDocument."""
        path, _, query = location.partition("?")
        # "This redirect needs to be a GET no matter what the original method was"
        # (ap_die); HEAD stays HEAD so no body goes out.
        method = "HEAD" if ex.request.method == "HEAD" else "GET"
        request = replace(ex.request, method=method, raw_path=path, query=query,
                          raw_target=location)
        target = self._resolve(ex.vhost, request)
        inner = replace(ex, request=request, target=target)
        ex.record.filename = target.filename
        await self._dispatch(inner, inherited_env=env, status_override=status_override)

    # --- errors -----------------------------------------------------------------------

    def _reason_for(self, ex: Exchange, target: Target) -> str:
        reason = target.reason
        if target.handler == "cgi-script" and target.status == 404 and reason.startswith("AH00128"):
            module, number = self._cgi_module()
            return (f"{number['missing']}: stderr from {target.filename}: "
                    "script not found or unable to stat")
        return reason

    async def _send_error(self, ex: Exchange, exc: HTTPError) -> None:
        """ap_die: log the reason, then an ErrorDocument or Apache's page."""
        status = exc.status
        if exc.reason:
            number = _ah_number(exc.reason)
            module, level = _LOG_SOURCE.get(number, ("core", "error"))
            if number in ("AH01264", "AH02811"):
                module, level = self._cgi_module()[0], "error"
            self._log_error(ex, level, module, exc.reason)
        kind, value = classify_error_document(ex.target.conf.error_document(status))
        if kind == "text":
            await self._send_page(ex, text_response(status, value, exc.headers))
            return
        if kind == "external":
            await self._send_page(ex, error_response(302, self._page(ex), location=value))
            return
        if kind == "local":
            try:
                screen_path(value.partition("?")[0])
                env = {"REDIRECT_STATUS": str(status),
                       "REDIRECT_URL": ex.target.url_path + ex.target.path_info
                       or ex.request.raw_path}
                if ex.request.query:
                    env["REDIRECT_QUERY_STRING"] = ex.request.query
                env["REDIRECT_REQUEST_METHOD"] = ex.request.method
                await self._internal_redirect(ex, value, env, status_override=status)
                return
            except HTTPError as inner:
                if _started(ex):
                    return
                if inner.reason:
                    number = _ah_number(inner.reason)
                    module, level = _LOG_SOURCE.get(number, ("core", "error"))
                    self._log_error(ex, level, module, inner.reason)
                # ap_die_r: the original error's page, noting the failed ErrorDocument
                await self._send_page(ex, error_response(status, self._page(ex),
                                                         recursive_error=status,
                                                         extra_headers=_allow(exc)))
                return
        await self._send_page(ex, error_response(status, self._page(ex),
                                                 extra_headers=exc.headers))

    def _log_error(self, ex: Exchange, level: str, module: str, message: str) -> None:
        ex.errorlog.log(level, module, message, (ex.request.client_addr, ex.request.client_port))

    async def _send_page(self, ex: Exchange, response: Response) -> None:
        head = ex.request.method == "HEAD"
        if head and response.status >= 300:
            # ap_send_error_response stops before the body for HEAD: no Content-Length
            response = replace(response, headers=tuple(
                h for h in response.headers if h[0].lower() != "content-length"))
        await send_response(ex.send, response, head=head)

    def _page(self, ex: Exchange) -> PageContext:
        name, port = self._server_name_port(ex)
        return PageContext(method=ex.request.method, server_name=name, port=port,
                           server_admin=ex.vhost.server_admin,
                           server_signature=ex.vhost.server_signature,
                           server_tokens=self.config.server_tokens)

    def _server_name_port(self, ex: Exchange) -> tuple[str, int]:
        """ap_get_server_name/port with UseCanonicalName Off: the Host header's name and
        port; without a port there, the ServerName's port, else the scheme's default
        (checked: "Host: x" gets "Location: http://x/dir/" from Apache, whatever port
        the connection used)."""
        req = ex.request
        raw = (req.header("host") or "").strip()
        name = req.host or ex.vhost.server_name.split(":")[0] or req.server_addr
        port = 443 if req.scheme == "https" else 80
        _, colon, named_port = ex.vhost.server_name.rpartition(":")
        if colon and named_port.isdigit():
            port = int(named_port)
        if raw and not raw.endswith("]") and raw.rsplit(":", 1)[-1].isdigit() and ":" in raw:
            port = int(raw.rsplit(":", 1)[-1])
        return name, port

    def _absolute(self, ex: Exchange, path: str) -> str:
        name, port = self._server_name_port(ex)
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        return absolute_url(ex.request.scheme, name, port, path)


# --- helpers ----------------------------------------------------------------------------


def _resolve_vhost_names(config: ServerConfig) -> dict[str, frozenset[str]]:
    """<VirtualHost name:port> → the name's addresses, looked up once at start-up as
    Apache does; a name that does not resolve matches no connection."""
    out: dict[str, frozenset[str]] = {}
    for vhost in config.vhosts:
        for addr in vhost.addresses:
            host = addr.host
            if host in ("*", "_default_") or host in out:
                continue
            try:
                ipaddress.ip_address(host.strip("[]"))
                continue
            except ValueError:
                pass
            try:
                infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
                out[host] = frozenset(str(info[4][0]).lower() for info in infos)
            except OSError:
                out[host] = frozenset()
    return out


def _check_document_roots(config: ServerConfig) -> None:
    for vhost in config.vhosts or (config.main,):
        if not os.path.isdir(vhost.document_root):
            raise ConfigError(f"DocumentRoot '{vhost.document_root}' is not a directory "
                              "(or is not readable)", vhost.source)


def _ah_number(reason: str) -> str:
    """The AH number a log message starts with (after an "(errno)text: " prefix)."""
    if reason.startswith("(") and ": AH" in reason:
        reason = reason[reason.index(": AH") + 2:]
    return reason.split(":", 1)[0]


def _mod_env(changes: tuple[tuple[str, str, str], ...]) -> dict[str, str]:
    """mod_env's SetEnv/PassEnv/UnsetEnv in order: the request's environment, which
    %{NAME}e and CustomLog env= conditions read for every request, not only CGI."""
    env: dict[str, str] = {}
    for op, name, value in changes:
        if op == "set":
            env[name] = value
        elif op == "pass":
            if name in os.environ:
                env[name] = os.environ[name]
        else:
            env.pop(name, None)
    return env


def _no_header(name: str) -> str | None:
    return None


def _allow(exc: HTTPError) -> tuple[tuple[str, str], ...]:
    return tuple(h for h in exc.headers if h[0].lower() == "allow")


async def _send_body(ex: Exchange, data: bytes) -> None:
    if data:
        await ex.send({"type": "http.response.body", "body": data, "more_body": True})


def _encode(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]


def _started(ex: Exchange) -> bool:
    return ex.record.status != 0


def _client_gone(exc: OSError) -> bool:
    return type(exc).__name__ == "ClientDisconnected" or isinstance(
        exc, (BrokenPipeError, ConnectionResetError))


def _recording_send(send: Send, record: LogRecord) -> Send:
    """Wrap ``send`` so the log record learns the status, headers and body size as
    they go out (the protocol's byte counts replace these when it has them)."""

    async def recording(message: Message) -> None:
        if message["type"] == "http.response.start":
            record.status = int(message["status"])
            record.headers_out = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                                  for k, v in message.get("headers", ())]
        elif message["type"] == "http.response.body":
            record.body_bytes += len(message.get("body", b""))
        await send(message)

    return recording


def _override_status(send: Send, status: int) -> Send:
    """An ErrorDocument script answers with the original error's status unless it sets
    one (Apache keeps r->status through the internal redirect)."""

    async def overriding(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message = dict(message)
            message["status"] = status
        await send(message)

    return overriding
