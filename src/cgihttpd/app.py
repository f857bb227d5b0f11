"""The ASGI application: one request's path through cgihttpd.

    request → virtual host → target → handler → response → log

Owns the order of those steps, the dispatch on the ``Target`` (static file, directory
index or listing, redirect, CGI), Apache's method rules for the default handler, error
pages with ``ErrorDocument`` (text, external URL, or internal redirect), and filling the
``LogRecord``. Each step lives in its own module or package (``request``, ``vhost``,
``resolve``, ``static`` for files and listings, ``response``, ``cgi``, ``logs``), and
what persists between requests in the ``Runtime`` it is given; this one must not grow
their logic. An unexpected exception is a 500 with a traceback in the error log; the
server keeps serving.

Must not know how HTTP is framed (the ASGI server does that) nor how CGI runs.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import ipaddress
import os
import socket
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cgihttpd import messages as M
from cgihttpd.asgi import Message, QuickAsk, QuickReply, Receive, Send
from cgihttpd.authn import AuthFiles, AuthOutcome, Groups, authenticate, challenge
from cgihttpd.authz import Facts, always_granted, decide, evaluate, needs_host
from cgihttpd.banner import server_software, signature
from cgihttpd.cgi.devpage import explain_refusal
from cgihttpd.cgi.diagnosis import STDOUT_HEAD, Problem
from cgihttpd.cgi.environ import (
    mod_env,
    redirect_variables,
    server_name,
    server_port,
    to_wire,
)
from cgihttpd.cgi.reply import MAX_INTERNAL_REDIRECTS, redirect_depth
from cgihttpd.cgi.runner import Launcher
from cgihttpd.cgi.scriptlog import log_script_error, script_run
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.htaccess import HtaccessContext
from cgihttpd.config.model import DirConf, ServerConfig, VirtualHost
from cgihttpd.errors import HTTPError, ResponseCutOff
from cgihttpd.exchange import ErrorLogger, Exchange, Outbound
from cgihttpd.headers import HeaderFacts, apply_actions, response_headers, split_cgi_fields
from cgihttpd.http.settings import KeepAlive
from cgihttpd.logs.access import LogRecord
from cgihttpd.messages import Note, cgi_module
from cgihttpd.remoteip import RemoteIPConf
from cgihttpd.request import Request, forwarded_request, request_from_scope
from cgihttpd.resolve import (
    AccessFiles,
    FileSystem,
    RewriteRun,
    kept_questions,
    resolve_target,
    same_answers,
    screen_path,
)
from cgihttpd.response import (
    PageContext,
    Response,
    absolute_url,
    classify_error_document,
    error_response,
    send_response,
    text_response,
)
from cgihttpd.rewrite import Facts as RewriteFacts
from cgihttpd.runtime import Runtime
from cgihttpd.setenvif import EnvAttributes, apply_conditions
from cgihttpd.static.files import RealFS
from cgihttpd.static.handlers import serve_directory, serve_file, serve_trace
from cgihttpd.static.plan import CONDITIONAL_HEADERS
from cgihttpd.status.handler import serve_status
from cgihttpd.target import Target
from cgihttpd.vhost import misdirected, select_vhost

if TYPE_CHECKING:
    from cgihttpd.logs.writer import LogSet


#: the methods Apache registers at start (http_protocol.c ap_method_registry_init)
REGISTERED_METHODS = frozenset({
    "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL",
    "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE",
    "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
})


class App:
    """``App(runtime)``: an ASGI 3 application serving ``runtime.config`` with the
    runtime's logs, launchers and caches; ``App.build(config)`` makes both (a missing
    DocumentRoot or log directory is a ``ConfigError``). ``close()`` closes the logs."""

    def __init__(self, runtime: Runtime, *, fs: FileSystem | None = None) -> None:
        config = runtime.config
        self.runtime = runtime
        self.config = config
        self.fs: FileSystem = fs if fs is not None else RealFS()
        _check_document_roots(config)
        self._vhost_ips = _resolve_vhost_names(config)
        main = config.main
        #: some vhost keeps alive otherwise than the main server (the protocol's rules)
        self._own_keep_alive = any(
            (v.keepalive, v.keepalive_timeout, v.max_keepalive_requests)
            != (main.keepalive, main.keepalive_timeout, main.max_keepalive_requests)
            for v in config.vhosts)
        self._caches = runtime.caches
        #: how .htaccess files are read and kept (resolve.AccessFiles)
        self.access = AccessFiles(HtaccessContext.of(config), runtime.caches.htaccess)
        self.logs = runtime.logs
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
            note = M.DOCUMENT_ROOT_MISSING.note(path=config.main.document_root)
            self.logs.errorlog_for(config.main).log(note.level, note.module, note.text)

    @classmethod
    def build(cls, config: ServerConfig, *, fs: FileSystem | None = None,
              logs: LogSet | None = None, launcher: Launcher | None = None) -> App:
        """The app for ``config`` and its runtime (DocumentRoots are checked before
        the logs are opened, as Apache reports them first)."""
        _check_document_roots(config)
        return cls(Runtime.build(config, logs=logs, launcher=launcher), fs=fs)

    def close(self) -> None:
        self.runtime.close()

    # --- the pipeline -----------------------------------------------------------------

    async def __call__(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return None
        request = request_from_scope(scope)
        vhost = self._select_vhost(request)
        refusal = request.host_refusal  # RFC 9112 §3.2: an invalid or repeated Host
        status = 400
        if refusal is None and request.tls is not None and request.tls.sni:
            status, refusal = self._sni_refusal(request, vhost, request.tls.sni)
        if refusal is None:
            # mod_remoteip, first of the post-read-request hooks
            request = forwarded_request(request, vhost.remoteip)
        target = (self._resolve(vhost, request) if refusal is None
                  else self._host_refused(vhost, request, refusal, status))
        request = _rewritten_request(request, target)
        exchange = self._exchange(scope, request, vhost, target, receive, send)
        self.runtime.status.request_began()
        try:
            await self._respond(exchange, refused=refusal is not None)
        except ResponseCutOff as cut:
            # the protocol's console line for the cut-off response says this instead
            stats = _stats(scope)
            if stats is not None:
                stats["cut_off"] = (f"{request.method} {request.raw_target}: {cut}, so "
                                    "the response was cut off")
        finally:
            self._log(exchange, scope)
            if exchange.quick_offer:
                self._take_offer(exchange, scope, target)
        return None

    # --- the quick path ---------------------------------------------------------------

    def quick(self, ask: QuickAsk) -> QuickReply | None:
        """Apache's quick_handler hook (as mod_cache's CacheQuickHandler): the answer
        to a request whose head is that of a static answer served before from memory
        (``_take_offer``), replayed without the ASGI pipeline while every stat and
        lstat its resolution asked answers the same (the file's identity among them).
        The request is logged and counted as the pipeline would; None: not one."""
        entries = self._caches.quick
        if not entries:
            return None
        host: bytes | None = None
        for name, value in ask.headers:
            if name == b"host":
                if host is not None:
                    return None  # repeated: the pipeline refuses it
                host = value
            elif name in _NOT_QUICK:
                return None
        key = (ask.server or ("", 0), ask.request_line, host)
        entry: _QuickEntry | None = entries.get(key)
        if entry is None:
            return None
        if not same_answers(entry.questions, self.fs):
            entries.discard(key)
            return None
        start = time.time()
        client = ask.client or ("", 0)
        server = ask.server or ("", 0)
        query = ask.query.decode("latin-1")
        raw_path = ask.raw_path.decode("latin-1")
        vhost = entry.vhost
        record = LogRecord(
            remote_addr=client[0], remote_port=client[1], peer_addr=client[0],
            local_addr=server[0], local_port=server[1], request_line=ask.request_line,
            method=ask.method, raw_uri=raw_path + "?" + query if query else raw_path,
            path=entry.path, query=query, protocol="HTTP/" + ask.http_version,
            start_time=start,
            headers_in=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in ask.headers],
            headers_out=list(entry.headers_out), status=200, original_status=200,
            server_name=vhost.server_name, server_port=vhost.port, filename=entry.filename,
            pid=os.getpid(), bytes_in=ask.bytes_in, keepalive_count=ask.keepalive_count,
            env=dict(entry.env))
        status = self.runtime.status
        status.request_began()

        def done(total: int, body: int, kept_alive: bool) -> None:
            record.total_bytes, record.body_bytes = total, body
            record.keepalive = kept_alive
            record.duration = time.time() - start
            status.request_ended(vhost.server_name, total or body, record.duration)
            self.logs.access(vhost, record)

        return QuickReply(200, entry.fields, entry.body, done)

    def _take_offer(self, ex: Exchange, scope: Mapping[str, Any], target: Target) -> None:
        """Keep the static handler's answer for ``quick`` when nothing but the request
        head's URL, Host and the filesystem decided it: no access check that reads the
        request, no variable, header or rewrite rule, no keep-alive rule of the vhost's
        own, a plain connection, an unconditional 200 that went out whole."""
        if len(ex.quick_offer) != 1:
            return  # the handler served more than once (internal redirects)
        (served, fields, body), = ex.quick_offer
        request, vhost, rec, conf = ex.request, ex.vhost, ex.record, target.conf
        stats = _stats(scope)
        if (served is not target or target.kind != "file" or target.rewritten is not None
                or stats is None or stats.get("aborted") or stats.get("answered")
                or rec.status != 200 or not rec.completed or rec.notes or rec.remote_user
                or request.method not in ("GET", "HEAD") or request.tls is not None
                or request.authority is not None or request.peer_addr is not None
                or request.proxy_ips is not None or request.replaced_host is not None
                or self.config.dev_mode or vhost.remoteip != _NO_REMOTEIP
                or vhost.setenvif or conf.setenvif or conf.headers or conf.request_headers
                or ex.user is not None
                or not all(_plainly_granted(c) for c, _ in target.access)
                or (self._own_keep_alive and self._keep_alive(vhost, request) is not None)):
            return
        hosts = [v for k, v in request.headers if k == "host"]
        if len(hosts) != 1 or request.host_refusal is not None:
            return
        questions = kept_questions(self._caches.resolutions, vhost, request.raw_path, target)
        if questions is None:
            return
        key = ((request.server_addr, request.server_port), request.request_line,
               hosts[0].encode("latin-1"))
        self._caches.quick.put(key, _QuickEntry(
            vhost=vhost, questions=questions, fields=fields, body=body,
            headers_out=tuple(rec.headers_out), env=tuple(rec.env.items()),
            path=rec.path, filename=rec.filename))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _select_vhost(self, request: Request) -> VirtualHost:
        # The choice depends only on the (immutable) config, the local address and the
        # request's host (an absolute-form target's, else every Host field: a repeated
        # one must not find the first one's choice), so it is remembered (in a bounded
        # cache: clients choose Host).
        choices = self._caches.vhosts
        key = (request.server_addr, request.server_port, request.host_value)
        vhost: VirtualHost | None = choices.get(key)
        if vhost is None:
            # a refused host names no vhost: the address's default answers (vhost.c
            # returns before ap_update_vhost_given_host)
            host = request.host if request.host_refusal is None else ""
            vhost = select_vhost(self.config, request.server_addr, request.server_port,
                                 host, names=self._vhost_ips)
            choices.put(key, vhost)
        notes = request.host_notes
        if notes:
            # logged while choosing (vhost.c), so by the connection's default server
            default = select_vhost(self.config, request.server_addr, request.server_port,
                                   "", names=self._vhost_ips)
            for note in notes:
                self._errorlog(default).log(note.level, note.module, note.text,
                                            (request.client_addr, request.client_port))
        return vhost

    def _sni_refusal(self, request: Request, vhost: VirtualHost,
                     sni: str) -> tuple[int, tuple[Note, ...] | None]:
        """mod_ssl's ssl_hook_ReadReq, once the Host chose ``vhost``: a request without
        a host on a connection that named one (400), or naming a server whose TLS
        settings differ from the one the handshake chose (421 Misdirected Request)."""
        if not request.host:
            return 400, (M.TLS_SNI_NO_HOST.note(sni=sni),)
        if misdirected(self.config, request.server_addr, request.server_port, sni, vhost,
                       names=self._vhost_ips):
            return 421, (M.TLS_MISDIRECTED.note(sni=sni, host=request.host),)
        return 400, None
    def _keep_alive(self, vhost: VirtualHost, request: Request) -> KeepAlive | None:
        """The serving vhost's keep-alive rules for the protocol, None where they are
        the main server's. The wait after the request is the vhost's KeepAliveTimeout
        if it sets one, else that of the address's default vhost (c->base_server:
        event.c event_post_read_request), as checked against Apache 2.4."""
        waiter = vhost if vhost.keepalive_timeout_set or vhost.is_main else select_vhost(
            self.config, request.server_addr, request.server_port, "",
            names=self._vhost_ips)
        main = self.config.main
        rules = KeepAlive(vhost.keepalive, vhost.keepalive_timeout,
                          vhost.max_keepalive_requests, waiter.keepalive_timeout)
        if rules == KeepAlive(main.keepalive, main.keepalive_timeout,
                              main.max_keepalive_requests, main.keepalive_timeout):
            return None
        return rules

    def _host_refused(self, vhost: VirtualHost, request: Request,
                      notes: tuple[Note, ...], status: int = 400) -> Target:
        """ap_read_request: a 400 before any translation, the per-directory settings
        those of the server (ap_die answers it, ErrorDocument 400 included). The last
        line goes with the answer; any before it (AH02415 says why) is logged now."""
        for note in notes[:-1]:
            self._errorlog(vhost).log(note.level, note.module, note.text,
                                      (request.client_addr, request.client_port))
        return Target(kind="error", status=status, note=notes[-1], conf=vhost.base)

    def _resolve(self, vhost: VirtualHost, request: Request, *, ended: bool = False,
                 env: Mapping[str, str] | None = None) -> Target:
        """Resolution (``resolve``), with mod_rewrite's state for this request where
        mod_rewrite is loaded (``ended``: an [END] before an internal redirect; ``env``:
        the REDIRECT_* variables it brought)."""
        rewrite = None
        if "rewrite_module" in self.config.modules:
            args = request.query if "?" in request.raw_target else None
            rewrite = RewriteRun(functools.partial(self._rewrite_facts, request, vhost, env),
                                 args, ended)
        try:
            return resolve_target(vhost, request.raw_path, self.fs,
                                  memo=self._caches.resolutions, confs=self._caches.confs,
                                  access=self.access, rewrite=rewrite)
        except Exception:  # a bug must cost one request, not the server
            self._errorlog(vhost).log("error", "core", "resolving "
                                      f"{request.raw_path!r} failed: {traceback.format_exc()}",
                                      (request.client_addr, request.client_port))
            return Target(kind="error", status=500, conf=vhost.base)

    def _rewrite_facts(self, request: Request, vhost: VirtualHost,
                       env: Mapping[str, str] | None) -> RewriteFacts:
        """The request as mod_rewrite's %{...} variables see it (wire strings)."""
        now = time.localtime()
        name = server_name(request, vhost)
        subprocess_env = dict(env or {})
        subprocess_env.update(setenvif_env(request, vhost, Target(kind="error")))
        return RewriteFacts(
            method=request.method, the_request=request.request_line,
            protocol=request.protocol, scheme=request.scheme, headers=request.headers,
            remote_addr=request.client_addr or "", remote_port=request.client_port,
            server_addr=request.server_addr,
            server_name=f"[{name}]" if ":" in name and not name.startswith("[") else name,
            server_port=server_port(request, vhost),
            vhost_names=frozenset(n.lower() for n in (vhost.server_name,
                                                      *vhost.server_aliases)),
            vhost_port=vhost.port, document_root=to_wire(vhost.document_root),
            server_admin=to_wire(vhost.server_admin),
            server_software=server_software(self.config.server_tokens),
            env=subprocess_env, environ={k: to_wire(v) for k, v in os.environ.items()},
            ipv6=":" in (request.client_addr or ""),
            now=(now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min,
                 now.tm_sec, (now.tm_wday + 1) % 7))

    def _exchange(self, scope: Mapping[str, Any], request: Request, vhost: VirtualHost,
                  target: Target, receive: Receive, send: Send) -> Exchange:
        ext = (scope.get("extensions") or {}).get("cgihttpd") or {}
        if vhost.body_timeout is not None:
            # RequestReadTimeout body= of this vhost: the protocol reads the body by it
            ext["body_timeout"] = vhost.body_timeout
        if self._own_keep_alive:
            keep = self._keep_alive(vhost, request)
            if keep is not None:
                ext["keep_alive"] = keep
        record = LogRecord(
            remote_addr=request.client_addr, remote_port=request.client_port,
            peer_addr=request.peer_addr or request.client_addr, local_addr=request.server_addr, local_port=request.server_port,
            request_line=request.request_line, method=request.method,
            raw_uri=request.raw_target, path=target.url_path + target.path_info or request.raw_path,
            query=request.query, protocol=request.protocol, start_time=time.time(),
            headers_in=list(request.headers), server_name=vhost.server_name,
            server_port=vhost.port, filename=target.filename, pid=os.getpid(),
            bytes_in=int(ext.get("bytes_in", 0)),
            keepalive_count=int(ext.get("keepalive_count", 0)),
        )
        if request.proxy_ips is not None:
            record.notes["remoteip-proxy-ip-list"] = request.proxy_ips
        # r->subprocess_env: mod_setenvif's (before access control); mod_env's are
        # overlaid in the fixups (``_dispatch``)
        early = setenvif_env(request, vhost, target)
        if target.rewritten is not None:
            _apply_env(early, target.rewritten.env)
        record.env.update(early)
        errorlog = self._errorlog(vhost)
        for_request = getattr(errorlog, "for_request", None)
        if for_request is not None:
            # Apache appends ", referer: R" to a request's error-log lines (log.c);
            # an ErrorLogFormat may name the request's fields, variables and host
            errorlog = for_request(request.header("referer"), headers=request.headers,
                                   env=record.env, host=server_name(request, vhost),
                                   local=(request.server_addr, request.server_port))
        send = _recording_send(send, record)
        outbound = None
        if "headers_module" in self.config.modules:
            outbound = Outbound(target.conf.headers, request)
            send = _header_filter(send, outbound, record)
        return Exchange(runtime=self.runtime, vhost=vhost, request=request, target=target,
                        record=record, errorlog=errorlog, setenvif=early, receive=receive,
                        send=send, outbound=outbound)

    def _errorlog(self, vhost: VirtualHost) -> ErrorLogger:
        log: ErrorLogger = self.logs.errorlog_for(vhost)
        return log

    def _log(self, ex: Exchange, scope: Mapping[str, Any]) -> None:
        rec = ex.record
        rec.duration = time.time() - rec.start_time
        stats = _stats(scope)
        if stats is not None:
            rec.total_bytes = int(stats.get("bytes_out", rec.total_bytes))
            rec.body_bytes = int(stats.get("body_bytes", rec.body_bytes))
            rec.keepalive = bool(stats.get("keep_alive"))
            if stats.get("aborted"):
                rec.completed = False
            if stats.get("answered"):
                # the connection answered for the request (a malformed or late body)
                rec.status = rec.original_status = int(stats["answered"])
        if not rec.original_status:
            rec.original_status = rec.status
        # mod_status: a few additions, on the runtime the request began with
        ex.runtime.status.request_ended(ex.vhost.server_name, rec.total_bytes or
                                        rec.body_bytes, rec.duration)
        self.logs.access(ex.vhost, rec)

    # --- answering --------------------------------------------------------------------

    async def _respond(self, ex: Exchange, *, refused: bool = False) -> None:
        try:
            try:
                if refused:  # ap_read_request: the Host before the method is looked at
                    raise HTTPError(ex.target.status, ex.target.note)
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
                    if isinstance(exc, ResponseCutOff):
                        raise  # for __call__ to tell the console
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
            raise HTTPError(501, M.INVALID_METHOD.note(line=ex.request.request_line),
                            headers=(("Allow", "HEAD,GET,POST,OPTIONS,TRACE"),))
        if ex.request.method == "TRACE":
            await serve_trace(ex)
            return
        if target.rewritten is not None and target.rewritten.vary:
            ex = replace(ex, send=_adding_vary(ex.send, target.rewritten.vary))
        if target.access or ex.user is not None:
            ex = await self._authorized(ex)
        if (target.kind == "error" and target.status == 404
                or target.kind not in ("error", "redirect")):
            # the fixups, once access is granted (a redirect or a refusal never gets
            # there): mod_env's variables (checked: %{VAR}e of a 403 is "-"), then
            # RequestHeader
            ex.record.env.update(mod_env(target.conf.env, os.environ))
            if target.conf.request_headers:
                _apply_request_headers(ex)
        if (target.handler == "server-status" and "status_module" in self.config.modules
                and (target.kind != "error" or target.status == 404)):
            # mod_status answers its URL whether or not a file is there
            await serve_status(ex, server_name(ex.request, ex.vhost))
            return
        if target.kind == "error":
            raise HTTPError(target.status, self._note_for(ex, target),
                            page=self._dev_page(ex, "not-found", target.status,
                                                target.handler == "cgi-script"
                                                and target.status == 404))
        if target.kind == "redirect":
            # mod_alias/mod_dir: a path becomes a full URL (ap_construct_url); the
            # client's query follows unless the target brings its own
            location = target.location
            if location.startswith("/"):
                location = self._absolute(ex, location)
            if ex.request.query and "?" not in location and target.rewritten is None:
                location += "?" + ex.request.query
            await self._send_page(ex, error_response(target.status or 301, self._page(ex),
                                                     location=location))
            return
        if target.kind == "internal":
            await self._rewrite_redirect(ex, inherited_env)
        elif target.handler == "cgi-script":
            await self._serve_cgi(ex, inherited_env, status_override)
        elif self.config.dev_mode and _sent_as_text(ex):
            await self._send_page(ex, _html_page(200, self._dev_page(
                ex, "as-text", 200, True, source=_head(target.filename)) or b""))
        elif target.kind == "directory":
            await serve_directory(ex, self.fs, self._signature(ex),
                                  lambda sub: self._subrequest_access(ex, sub))
        else:
            await serve_file(ex, status_override=status_override)

    # --- access ------------------------------------------------------------------------

    async def _authorized(self, ex: Exchange) -> Exchange:
        """Apache's access phase (server/request.c ``ap_process_request_internal``): for
        each of the target's settings, Order/Allow/Deny then the Require tree, as
        Satisfy combines them (``authz.decide``); where only a user could be granted,
        authentication (``authn.authenticate``) and the tree again with that user
        (mod_authz_core's pass after authentication). The exchange comes back with the
        authenticated user, if there is one; a refusal is raised (403, 401 with a
        challenge, or 500), each with Apache's log line."""
        facts: Facts | None = None
        user: str | None = None
        auth_type: str | None = None
        outcomes: dict[tuple[object, ...], AuthOutcome] = {}
        for conf, filename in ex.target.access:
            if conf.ssl_require_ssl and ex.request.tls is None:
                # mod_ssl ssl_hook_Access, the first access checker: r->filename
                raise HTTPError(403, M.SSL_REQUIRED.note(
                    path=filename or ex.target.url_path))
            tree, compat = conf.require_tree, conf.access_compat
            # an AuthType with no Require at all is mod_authz_core's AH01627 (below)
            no_directives = tree is None and conf.effective_auth_type is not None
            if compat is None and always_granted(tree) and not no_directives:
                continue  # "granted (no directives)", or Require all granted
            if facts is None:
                facts = _access_facts(ex.request, ex.setenvif)
                if needs_host(tree) or (compat is not None and compat.needs_host):
                    loop = asyncio.get_running_loop()
                    name = await loop.run_in_executor(None, _double_reverse,
                                                      facts.client_addr)
                    facts = replace(facts, remote_host=name)
            path = filename or ex.target.url_path
            verdict = decide(tree, compat, facts)
            if verdict.outcome == "denied-host":
                raise HTTPError(403, M.HOST_DENIED.note(path=path))
            if verdict.host_denied:
                # Satisfy Any: Allow/Deny refused (and says so), Require decides
                self._log_note(ex, M.HOST_DENIED.note(path=path))
            if verdict.outcome == "granted":
                if no_directives and not (verdict.satisfy_any and not verdict.host_denied):
                    # mod_authz_core authorize_user_core: "there's an AuthType
                    # configured, but no authorization directives applied to support it"
                    raise HTTPError(500, M.AUTHZ_NO_DIRECTIVES.note())
                continue
            if verdict.outcome == "denied":
                raise HTTPError(403, M.CLIENT_DENIED.note(path=path))
            # "needs-user": only an authenticated user could be granted
            if conf.effective_auth_type is None:
                # no AuthType: Apache's answer when no authentication is configured
                message = M.NO_AUTHENTICATION_ANY if verdict.satisfy_any \
                    else M.NO_AUTHENTICATION
                raise HTTPError(500, message.note(uri=facts.uri))
            user, auth_type = await self._authenticated(ex, conf, facts, outcomes)
        if user != ex.user or auth_type != ex.auth_type:
            ex = replace(ex, user=user, auth_type=auth_type)
        return ex

    async def _subrequest_access(self, ex: Exchange, sub: Target) -> int:
        """The access phase of a subrequest for ``sub`` (mod_autoindex's per entry): 0
        when granted, else its status. Its refusal is logged as Apache logs a
        subrequest's; the user it may authenticate stays the subrequest's."""
        try:
            await self._authorized(replace(ex, target=sub, record=copy.copy(ex.record)))
        except HTTPError as exc:
            if exc.note is not None:
                self._log_note(ex, exc.note)
            return exc.status
        return 0

    async def _authenticated(self, ex: Exchange, conf: DirConf, facts: Facts,
                             outcomes: dict[tuple[object, ...], AuthOutcome],
                             ) -> tuple[str, str | None]:
        """Authentication for ``conf``, then its Require tree with the user (mod_authz_core
        ``authorize_user_core`` after authentication): the user and AuthType when
        granted, else the 401 (or 403, or 500) raised. ``outcomes`` keeps what one
        request's credentials gave against the same authentication settings (the
        directory and its DirectoryIndex file), so a password is verified once."""
        uri = facts.uri
        files = AuthFiles(self.fs, self._caches.auth_files)
        key = (conf.auth_type, conf.auth_name, conf.auth_basic_providers,
               conf.auth_basic_authoritative, conf.auth_user_file)
        outcome = outcomes.get(key)
        if outcome is None:
            # bcrypt takes milliseconds by design: verify away from the event loop
            outcome = await asyncio.to_thread(
                authenticate, conf, _authorization(ex.request), uri, self.config.modules,
                files)
            outcomes[key] = outcome
        if outcome.sent_user is not None:
            ex.record.remote_user = to_wire(outcome.sent_user)  # %u: r->user, even refused
        if outcome.user is None:
            headers = (("WWW-Authenticate", outcome.challenge),) if outcome.challenge else ()
            raise HTTPError(outcome.status, outcome.note, headers=headers)
        groups = Groups(conf, files)

        def groups_of(name: str) -> frozenset[str]:
            # mod_authz_groupfile group_check_authorization: a user no group names is
            # said at info (AH01666), after any line about the file itself
            said = len(groups.notes)
            found = groups(name)
            if not found and len(groups.notes) == said:
                groups.notes.append(M.USER_IN_NO_GROUP.note(user=name, uri=uri,
                                                            path=conf.auth_group_file))
            return found

        decision = evaluate(conf.require_tree,
                            replace(facts, user=outcome.user, groups_of=groups_of))
        for line in groups.notes:
            self._log_note(ex, line)
        if decision == "granted":
            return outcome.user, outcome.auth_type
        if decision == "denied-no-user":
            raise HTTPError(401, M.AUTHZ_NO_USER.note(uri=uri),
                            headers=(("WWW-Authenticate", challenge(conf)),))
        failure = M.AUTHZ_USER_FAILURE.note(user=outcome.user, uri=uri)
        authz = conf.authz
        if authz is not None and authz.forbidden_on_fail:
            # AuthzSendForbiddenOnFailure On: no new challenge to a known user
            raise HTTPError(403, failure)
        raise HTTPError(401, failure, headers=(("WWW-Authenticate", challenge(conf)),))

    # --- handlers (CGI here; the rest in ``handlers``) ----------------------------------

    async def _serve_cgi(self, ex: Exchange, inherited_env: Mapping[str, str] | None,
                         status_override: int) -> None:
        target = ex.target
        module = cgi_module(self.config.modules)
        scriptaliased = target.alias is not None and target.alias.is_script
        # mod_cgi cgi_handler: ExecCGI first, then the file type
        if "ExecCGI" not in target.conf.effective_options and not scriptaliased:
            self._script_log(ex, 403, "Options ExecCGI is off in this directory")
            raise HTTPError(403, M.EXECCGI_OFF(module).note(path=target.filename),
                            page=self._dev_page(ex, "execcgi-off", 403, True))
        if target.kind == "directory":
            self._script_log(ex, 403, "attempt to invoke directory as script")
            raise HTTPError(403, M.DIRECTORY_AS_SCRIPT(module).note(path=target.filename))
        if self._cgi is None:
            self._log_error(ex, "error", "core", "CGI support is unavailable")
            raise HTTPError(500)
        serve_cgi = self._cgi.serve_cgi
        if inherited_env is None:
            # mod_setenvif's variables start the script's environment (an internally
            # redirected request brings its REDIRECT_* ones instead)
            inherited_env = dict(ex.setenvif)
        cgi_ex = ex
        if ex.outbound is not None:
            # the script's own fields are Apache's r->err_headers_out
            cgi_ex = replace(ex, send=_marking(ex.send, "cgihttpd.cgi"))
        if status_override:
            cgi_ex = replace(cgi_ex, send=_override_status(cgi_ex.send, status_override))

        async def redirect(location: str, env: dict[str, str]) -> None:
            await self._internal_redirect(ex, location, env)

        await serve_cgi(cgi_ex, redirect=redirect, inherited_env=inherited_env)

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
        inner = replace(ex, request=request, target=target,
                        setenvif=setenvif_env(request, ex.vhost, target), body_gone=True)
        if ex.outbound is not None:
            # the new request's sections decide its headers (its own insert_filter)
            ex.outbound.actions = target.conf.headers
            ex.outbound.request = request
        ex.record.filename = target.filename
        await self._dispatch(inner, inherited_env=env, status_override=status_override)

    async def _rewrite_redirect(self, ex: Exchange,
                                inherited_env: Mapping[str, str] | None) -> None:
        """mod_rewrite's redirect-handler (ap_internal_redirect): the rewritten URL is
        served in place of the request, method and body kept, the request's variables
        passed on as REDIRECT_*; [END] holds in the new request too."""
        target = ex.target
        previous = dict(inherited_env or {})
        previous.update(ex.setenvif)
        previous.update(mod_env(target.conf.env, os.environ))
        if redirect_depth(previous) >= MAX_INTERNAL_REDIRECTS - 1:
            raise HTTPError(500, M.REDIRECT_LIMIT.note(limit=MAX_INTERNAL_REDIRECTS))
        rewritten = target.rewritten
        args = rewritten.args if rewritten is not None else None
        env = redirect_variables(previous, 200, target.url_path + target.path_info, args)
        path, _, query = target.location.partition("?")
        request = replace(ex.request, raw_path=path, query=query, raw_target=target.location)
        inner_target = self._resolve(ex.vhost, request, env=env,
                                     ended=rewritten is not None and rewritten.ended)
        request = _rewritten_request(request, inner_target)
        early = setenvif_env(request, ex.vhost, inner_target)
        if inner_target.rewritten is not None:
            _apply_env(early, inner_target.rewritten.env)
        inner = replace(ex, request=request, target=inner_target, setenvif=early,
                        keeps_body=True)
        if ex.outbound is not None:
            # the new request's sections decide its headers (its own insert_filter)
            ex.outbound.actions = inner_target.conf.headers
            ex.outbound.request = request
        ex.record.filename = inner_target.filename
        await self._dispatch(inner, inherited_env={**env, **early})

    # --- errors -----------------------------------------------------------------------

    def _note_for(self, ex: Exchange, target: Target) -> Note | None:
        """What resolution's error says, except that mod_cgi speaks for a missing
        script (its handler runs before the default handler would say AH00128)."""
        if (target.handler == "cgi-script" and target.status == 404
                and target.reason.startswith(M.FILE_MISSING.code)):
            self._script_log(ex, 404, "script not found or unable to stat")
            module = cgi_module(self.config.modules)
            return M.SCRIPT_MISSING(module).note(path=target.filename)
        return target.note

    def _dev_page(self, ex: Exchange, problem: Problem, status: int, applies: bool,
                  source: bytes = b"") -> bytes | None:
        """Dev mode's page for a script the request never ran, where ``applies``."""
        if not (applies and self.config.dev_mode):
            return None
        return explain_refusal(problem, ex.target.filename, ex.request.raw_path,
                               status=status, source=source)

    def _script_log(self, ex: Exchange, status: int, error: str) -> None:
        """mod_cgi's log_scripterror: refusals before a script runs go to ScriptLog."""
        log_script_error(ex.vhost.script_log, ex.vhost.script_log_length,
                         script_run(ex.request, ex.target, status, time.time()), error)

    async def _send_error(self, ex: Exchange, exc: HTTPError) -> None:
        """ap_die: log the reason, then an ErrorDocument or Apache's page."""
        status = exc.status
        if exc.note is not None:
            self._log_note(ex, exc.note)
        if exc.page is not None:  # dev mode: the explanation instead of Apache's page
            await self._send_page(ex, _html_page(status, exc.page, exc.headers))
            return
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
                # r->err_headers_out (a 401's challenge) go out with the document
                await self._internal_redirect(_with_headers(ex, _kept(exc)), value, env,
                                              status_override=status)
                return
            except HTTPError as inner:
                if _started(ex):
                    return
                if inner.note is not None:
                    self._log_note(ex, inner.note)
                # ap_die_r: the original error's page, noting the failed ErrorDocument
                await self._send_page(ex, error_response(status, self._page(ex),
                                                         recursive_error=status,
                                                         extra_headers=_kept(exc)))
                return
        await self._send_page(ex, error_response(status, self._page(ex),
                                                 extra_headers=exc.headers))

    def _log_note(self, ex: Exchange, note: Note) -> None:
        self._log_error(ex, note.level, note.module, note.text)

    def _log_error(self, ex: Exchange, level: str, module: str, message: str) -> None:
        ex.errorlog.log(level, module, message, (ex.request.client_addr, ex.request.client_port))

    async def _send_page(self, ex: Exchange, response: Response) -> None:
        # ap_send_error_response: a page of the server's own (mod_headers: "always")
        send = ex.send if ex.outbound is None else _marking(ex.send, "cgihttpd.page")
        await send_response(send, response, head=ex.request.method == "HEAD")

    def _signature(self, ex: Exchange) -> str:
        ctx = self._page(ex)
        return signature(ctx.server_signature, server_software(ctx.server_tokens),
                         ctx.server_name, ctx.port, ctx.server_admin, prefix="<hr>\n")

    def _page(self, ex: Exchange) -> PageContext:
        name, port = self._server_name_port(ex)
        return PageContext(method=ex.request.method, server_name=name, port=port,
                           server_admin=ex.vhost.server_admin,
                           # core.c: per directory (a section's or .htaccess's first)
                           server_signature=(ex.target.conf.server_signature
                                             or ex.vhost.server_signature),
                           server_tokens=self.config.server_tokens)

    def _server_name_port(self, ex: Exchange) -> tuple[str, int]:
        """ap_get_server_name/port with UseCanonicalName Off: the one rule the CGI
        variables use too (checked: "Host: x" gets "Location: http://x/dir/" from
        Apache, whatever port the connection used)."""
        return server_name(ex.request, ex.vhost), server_port(ex.request, ex.vhost)

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


def _rewritten_request(request: Request, target: Target) -> Request:
    """The request with the query mod_rewrite left (r->args: QUERY_STRING, %q)."""
    rewritten = target.rewritten
    if rewritten is None:
        return request
    query = rewritten.args or ""
    return request if query == request.query else replace(request, query=query)


def _adding_vary(send: Send, names: tuple[str, ...]) -> Send:
    """mod_rewrite merges the header fields its conditions read into Vary; an error or
    redirect page does not carry it (ap_send_error_response)."""

    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start" and (
                int(message["status"]) < 300 or message["status"] == 304):
            message = dict(message)  # type: ignore[assignment]
            headers = list(message.get("headers", ()))
            at = next((i for i, (k, _v) in enumerate(headers)
                       if bytes(k).lower() == b"vary"), None)
            extra = ", ".join(names).encode("latin-1")
            if at is None:
                headers.append((b"Vary", extra))
            else:
                headers[at] = (headers[at][0], bytes(headers[at][1]) + b", " + extra)
            message["headers"] = headers
        await send(message)

    return adding


def _apply_env(env: dict[str, str], changes: Iterable[tuple[str, str | None]]) -> None:
    """mod_rewrite's [E=...] (and SCRIPT_URL, SCRIPT_URI) on r->subprocess_env."""
    for name, value in changes:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value


def _kept(exc: HTTPError) -> tuple[tuple[str, str], ...]:
    """The headers an error keeps whatever page answers it: Allow, a 401's
    WWW-Authenticate (Apache's r->err_headers_out) and a 503's Retry-After."""
    return tuple(h for h in exc.headers
                 if h[0].lower() in ("allow", "www-authenticate", "retry-after"))


#: What a learner's script file is called (dev mode explains one sent as text).
_SCRIPT_SUFFIXES = (".py", ".cgi", ".pl")


def _sent_as_text(ex: Exchange) -> bool:
    """A browser asked for a script that no handler runs here: its source would go
    out as text (dev mode explains why instead)."""
    target = ex.target
    return (target.kind == "file" and target.filename.endswith(_SCRIPT_SUFFIXES)
            and "text/html" in (ex.request.header("accept") or "")
            and _head(target.filename, 2) == b"#!")


def _head(path: str, size: int = STDOUT_HEAD) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def _html_page(status: int, page: bytes,
               headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, headers + (("Content-Length", str(len(page))),
                                       ("Content-Type", "text/html; charset=utf-8"),
                                       ("Cache-Control", "no-store")), page)


def _with_headers(ex: Exchange, headers: tuple[tuple[str, str], ...]) -> Exchange:
    """``ex`` sending ``headers`` too with whatever response it starts."""
    if not any(h[0].lower() == "www-authenticate" for h in headers):
        return ex
    extra = [(h[0].encode("latin-1"), h[1].encode("latin-1")) for h in headers
             if h[0].lower() == "www-authenticate"]
    send = ex.send

    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)  # type: ignore[assignment]
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return replace(ex, send=adding)


def _authorization(request: Request) -> str | None:
    """The Authorization header; several are joined as Apache's headers_in joins
    them (and then are no valid credentials)."""
    values = [v for k, v in request.headers if k == "authorization"]
    return ", ".join(values) if values else None


def setenvif_env(request: Request, vhost: VirtualHost, target: Target) -> dict[str, str]:
    """mod_setenvif's variables for ``request``: the server's conditions at
    post-read-request (r->uri still raw), then the directory's at header-parser (r->uri
    decoded and normalised). Empty when no condition is configured."""
    env: dict[str, str] = {}
    if not vhost.setenvif and not target.conf.setenvif:
        return env
    attrs = EnvAttributes(
        remote_addr=request.client_addr or "", remote_host=request.client_addr or "",
        server_addr=request.server_addr, method=request.method,
        protocol=request.protocol, uri=request.raw_path, headers=request.headers,
        query=request.query)
    apply_conditions(vhost.setenvif, attrs, env)
    if target.conf.setenvif:
        try:
            uri = screen_path(request.raw_path)
        except HTTPError:
            uri = request.raw_path
        apply_conditions(target.conf.setenvif, replace(attrs, uri=uri), env)
    return env


def _access_facts(request: Request, env: Mapping[str, str]) -> Facts:
    """What the access checks look at. ``env``: r->subprocess_env at Apache's access
    phase, what mod_setenvif set (``setenvif_env``); mod_env's SetEnv comes later, in
    the fixups."""
    try:
        uri = screen_path(request.raw_path)
    except HTTPError:
        uri = request.raw_path
    return Facts(client_addr=request.client_addr or "", server_addr=request.server_addr,
                 method=request.method, uri=uri, host_header=request.header("host") or "",
                 env=dict(env), headers=request.headers, query=request.query,
                 protocol=request.protocol)


def _double_reverse(addr: str) -> str | None:
    """ap_get_remote_host(REMOTE_DOUBLE_REV): the client's name if its reverse lookup
    is confirmed by a forward lookup of that name, else None."""
    try:
        name = socket.getnameinfo((addr, 0), socket.NI_NAMEREQD)[0]
        forward = {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return None
    return name if addr in forward else None


#: request fields that make a static answer more than the URL's: conditions, ranges
_NOT_QUICK = frozenset(name.encode("latin-1") for name in CONDITIONAL_HEADERS)
_NO_REMOTEIP = RemoteIPConf()


@dataclass(frozen=True, slots=True)
class _QuickEntry:
    """A static answer ``App.quick`` replays: the serving vhost, the resolution's
    filesystem questions, the header fields and body, and what the log record had
    that does not change from one such request to the next."""

    vhost: VirtualHost
    questions: tuple[Any, ...]
    fields: tuple[tuple[bytes, bytes], ...]
    body: bytes
    headers_out: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]
    path: str
    filename: str


def _plainly_granted(conf: DirConf) -> bool:
    """The access phase grants every request for ``conf`` without looking at it
    (``App._authorized``'s first test)."""
    tree = conf.require_tree
    return (not conf.ssl_require_ssl and conf.access_compat is None and always_granted(tree)
            and not (tree is None and conf.effective_auth_type is not None))


def _stats(scope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The protocol's per-request counters (``cgihttpd.http.protocol``), shared through
    the scope's ``cgihttpd`` extension; None under another ASGI server."""
    stats = ((scope.get("extensions") or {}).get("cgihttpd") or {}).get("stats")
    return stats if isinstance(stats, dict) else None


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
            headers = message.get("headers", ())
            record.headers_out = list(_decoded(headers) if isinstance(headers, tuple)
                                      else _decode(headers))
        elif message["type"] == "http.response.body":
            record.body_bytes += len(message.get("body", b""))
        await send(message)

    return recording


def _decode(headers: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple([(bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                  for k, v in headers])


#: the static handler sends the same header tuples again and again (``handlers._encode``)
_decoded = functools.lru_cache(maxsize=1024)(_decode)


def _apply_request_headers(ex: Exchange) -> None:
    """RequestHeader (mod_headers' fixup): the request's fields as the handler, the
    script (HTTP_*) and the access log (%{...}i) see them."""
    request, record = ex.request, ex.record
    facts = HeaderFacts(env=record.env, request_time=record.start_time, now=time.time(),
                        request_headers=request.headers,
                        expr_facts=lambda: _access_facts(request, record.env),
                        notes=record.notes)
    fields = apply_actions(ex.target.conf.request_headers, list(request.headers), facts)
    ex.request = replace(request, headers=tuple((k.lower(), v) for k, v in fields))
    record.headers_in = list(ex.request.headers)
    if ex.outbound is not None:
        ex.outbound.request = ex.request


def _marking(send: Send, key: str) -> Send:
    """``send`` with ``key`` set on the response's start message (``_header_filter``
    reads it)."""

    async def marking(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, key: True}  # type: ignore[assignment]
        await send(message)

    return marking


def _header_filter(send: Send, outbound: Outbound, record: LogRecord) -> Send:
    """mod_headers' output filters: the response's fields after the ``Header``
    actions in force (``outbound``), Apache's two tables told apart by the marks
    ``_marking`` left (a script's fields; a page of the server's own)."""

    async def filtering(message: Message) -> None:
        if message["type"] == "http.response.start":
            page = bool(message.get("cgihttpd.page"))
            cgi = bool(message.get("cgihttpd.cgi"))
            message = {k: v for k, v in message.items()  # type: ignore[assignment]
                       if k not in ("cgihttpd.page", "cgihttpd.cgi")}
            if outbound.actions:
                fields = list(_decode(message.get("headers", ())))
                err = 0
                if cgi and not page:
                    fields, err = split_cgi_fields(fields)
                request = outbound.request
                facts = HeaderFacts(
                    env=record.env, request_time=record.start_time, now=time.time(),
                    request_headers=request.headers,
                    expr_facts=lambda: _access_facts(request, record.env),
                    notes=record.notes)
                fields = response_headers(outbound.actions, fields, err, facts,
                                          error_page=page)
                message["headers"] = [(k.encode("latin-1"),
                                       v.encode("latin-1", "replace")) for k, v in fields]
        await send(message)

    return filtering


def _override_status(send: Send, status: int) -> Send:
    """An ErrorDocument script answers with the original error's status unless it sets
    one (Apache keeps r->status through the internal redirect)."""

    async def overriding(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message = dict(message)
            message["status"] = status
        await send(message)

    return overriding
