"""The handlers that are not CGI: Apache's default handler for a file (core.c
default_handler: GET/HEAD/POST, OPTIONS, 405 otherwise), the directory handler
(mod_autoindex, or the 403/404 Apache gives), and TRACE.

Each takes an ``Exchange`` whose target resolution already decided, plans with the pure
modules (``static``, ``autoindex``, ``mime``) and sends through ``ex.send``; file bytes
come from ``files``. Errors are raised as ``HTTPError`` for the app to render. Must not
know about virtual-host choice, URL resolution or error documents.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable

from cgihttpd import messages as M
from cgihttpd.asgi import ZERO_COPY
from cgihttpd.authz import always_granted
from cgihttpd.config.htaccess import HtaccessContext
from cgihttpd.errors import HTTPError
from cgihttpd.exchange import Exchange
from cgihttpd.mime import content_type
from cgihttpd.resolve import AccessFiles, FileSystem, resolve_url
from cgihttpd.response import Response, send_response
from cgihttpd.static.autoindex import (
    Entry,
    emit_plain,
    forbidden_message,
    index_style,
    is_ignored,
    render_index,
    render_plain,
)
from cgihttpd.static.files import FILE_CACHE, list_directory, load_file, read_range
from cgihttpd.static.plan import (
    ALLOW,
    ALLOW_NO_TRACE,
    CONDITIONAL_HEADERS,
    STATIC_METHODS,
    FileStat,
    plan_plain,
    plan_static,
    settled,
)
from cgihttpd.target import Target


def _allow(ex: Exchange) -> str:
    return ALLOW_NO_TRACE if ex.vhost.trace_enable == "off" else ALLOW


async def serve_trace(ex: Exchange) -> None:
    """TraceEnable On, Apache's default (http_protocol.c ap_send_http_trace, hooked
    at map_to_storage: any URL, before access checks): echo the request head as
    message/http. Header names come lower-case (ASGI); Apache echoes them as sent.
    TraceEnable Off: 405 ("TRACE denied by server configuration", a note only)."""
    req = ex.request
    if ex.vhost.trace_enable == "off":
        # refused at map_to_storage, before any handler said what it allows: Apache's
        # Allow is then empty (make_allow over r->allowed == 0)
        raise HTTPError(405, headers=(("Allow", ""),))
    length = req.header("content-length")
    if (length is not None and length.strip() not in ("", "0")) or req.header(
            "transfer-encoding"):
        raise HTTPError(413, M.TRACE_WITH_BODY.note(path=req.raw_path))
    head = req.request_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in req.headers)
    body = (head + "\r\n").encode("latin-1", "replace")
    await _send_page(ex, Response(200, (("Content-Length", str(len(body))),
                                             ("Content-Type", "message/http")), body))

async def discard_body(ex: Exchange) -> bool:
    """ap_discard_request_body, which Apache's default handler calls before anything
    else: a Content-Length body is read and dropped before the answer, so one the
    client cuts short ends the request as 400 (logged; nobody is left to read an
    answer) rather than a 200 sent ahead of it. False when it was cut. A chunked body
    is read by the connection before any answer (``http.cycle``)."""
    length = ex.request.header("content-length")
    if (ex.body_gone or not length or length.strip() == "0"
            or ex.request.header("transfer-encoding")):
        return True
    while True:
        msg = await ex.receive()
        if msg["type"] == "http.disconnect":
            if not ex.record.status:
                ex.record.status = 400
            return False
        if not msg.get("more_body", False):
            return True


async def serve_file(ex: Exchange, *, status_override: int = 0) -> None:
    """Apache's default handler (core.c default_handler) for a regular file.
    ``status_override``: serving an ErrorDocument, answer with that status, whole and
    unconditionally."""
    target, method = ex.target, ex.request.method
    if not status_override and not await discard_body(ex):
        return
    ctype = content_type(target.filename, target.conf, ex.config.mime_types,
                         ex.runtime.caches.mime)
    if method == "OPTIONS":
        headers = (("Allow", _allow(ex)), ("Content-Length", "0"))
        await _send_page(ex, Response(200, headers + ((("Content-Type", ctype),)
                                                           if ctype else ())))
        return
    if method not in STATIC_METHODS:
        raise HTTPError(405, headers=(("Allow", _allow(ex)),))
    if target.path_info:
        # AcceptPathInfo Default: the default handler refuses extra path
        raise HTTPError(404, M.PATH_INFO_REFUSED.note(path=target.filename + target.path_info))
    st, data, f = await load_file(target.filename, st=target.stat)
    if data is not None:
        # a small file, already read: its bytes decide the plan (the fstat may
        # predate a change)
        st_size = len(data)
    else:
        st_size = st.st_size
    try:
        # an error document is served whole, unconditionally (ap_die sets
        # no_local_copy: never a 304 for an error document)
        fstat = FileStat(st_size, st.st_mtime_ns)
        plan_method = "GET" if status_override and method != "HEAD" else method
        if status_override or not _conditional(ex.request.headers):
            plan = plan_plain(fstat, plan_method, ctype, ex.record.start_time)
        else:
            plan = plan_static(fstat, plan_method, ex.request.header, ctype,
                               ex.record.start_time)
        if plan.status == 416:
            raise HTTPError(416, headers=plan.headers)
        status = status_override or plan.status
        fields = _encode(plan.headers)
        await ex.send({"type": "http.response.start", "status": status, "headers": fields})
        if (data is not None and not status_override and plan.status == 200
                and not plan.parts and plan.offset == 0 and plan.length == len(data)
                and settled(fstat, ex.record.start_time)
                and _cached(target.filename, st, data)):
            # the same answer for every request for this URL while the file and the
            # resolution stay as they are: offered to the quick path (app.App.quick)
            ex.quick_offer.append((target, fields, data))
        if plan.send_body and data is not None:
            # a small file: the whole body in one message (and so one write, with the
            # head the protocol holds back for it)
            if plan.parts:
                body = b"".join([p.head + data[p.offset:p.offset + p.length]
                                 for p in plan.parts]) + plan.closing
            else:
                body = data[plan.offset:plan.offset + plan.length]
            await ex.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if plan.send_body:
            # the body as (head bytes, file offset, length) pieces: one for 200/206,
            # one per range for multipart/byteranges, then the closing delimiter
            pieces = [(p.head, p.offset, p.length) for p in plan.parts] or [
                (b"", plan.offset, plan.length)]
            zero_copy = f is not None and _sendfile(ex)
            for head, offset, length in pieces:
                await _send_body(ex, head)
                if data is not None:
                    await _send_body(ex, data[offset:offset + length])
                elif f is not None and zero_copy:
                    await ex.send({"type": ZERO_COPY, "file": f, "offset": offset,
                                   "count": length, "more_body": True})
                elif f is not None:
                    async for chunk in read_range(f, offset, length):
                        await _send_body(ex, chunk)
            await _send_body(ex, plan.closing)
        await ex.send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        if f is not None:
            f.close()  # read-only: nothing to flush, nothing that waits on the disk


def _cached(path: str, st: os.stat_result, data: bytes) -> bool:
    """Whether ``data`` are the small-file cache's bytes of ``path`` as it is now (the
    cache keeps no file that changed within ``files.RACY_SECONDS``)."""
    hit = FILE_CACHE.get(path, st)
    return hit is not None and hit[1] is data


def _sendfile(ex: Exchange) -> bool:
    """Whether a file's bytes go by sendfile: the connection can (not TLS) and
    EnableSendfile is not Off. Apache 2.4's default is Off (since 2.3.9, for network
    filesystems and kernels whose sendfile was broken); ours is On: the client gets the
    same bytes either way, and a big file costs Python nothing (docs/design.md §7).
    Only files too big for the small-file cache (``files.CHUNK``) get here."""
    return ex.request.zero_copy and ex.target.conf.enable_sendfile is not False


#: the access phase of an entry's subrequest (the app's): 0 when granted, else the
#: status the subrequest would end with (401, 403, 500)
AccessCheck = Callable[[Target], Awaitable[int]]


async def serve_directory(ex: Exchange, fs: FileSystem, signature_html: str,
                          access_check: AccessCheck) -> None:
    """mod_autoindex (GET/HEAD only), else what Apache's default handler says
    about a directory."""
    target, method = ex.target, ex.request.method
    if not await discard_body(ex):
        return
    if method == "OPTIONS":
        await _send_page(ex, Response(200, (("Allow", _allow(ex)),
                                                 ("Content-Length", "0"))))
        return
    if method not in STATIC_METHODS:
        raise HTTPError(405, headers=(("Allow", _allow(ex)),))
    if method == "POST" or "autoindex_module" not in ex.config.modules:
        # no mod_autoindex: the default handler refuses a directory (AH00129)
        raise HTTPError(404, M.DIRECTORY_REFUSED.note(path=target.filename))
    if "Indexes" not in target.conf.effective_options:
        names = (target.conf.effective_directory_index
                 if target.filename.endswith("/") else ())
        raise HTTPError(403, forbidden_message(target.filename, names))
    entries = await list_directory(target.filename)
    entries = [e for e in entries if not is_ignored(e.name, target.conf.index_ignore)]
    style = index_style(target.conf.effective_index_options)
    visible = await _visible(ex, fs, entries, access_check, style.show_forbidden)
    header = await _inserted(ex, fs, target.conf.header_name)
    readme = await _inserted(ex, fs, target.conf.readme_name)
    if style.fancy:
        body = render_index(target.url_path, visible, ex.request.query, signature_html,
                            header=header, readme=readme)
    else:
        body = render_plain(target.url_path, visible, signature_html, header=header,
                            readme=readme)
    await _send_page(ex, Response(200, (("Content-Length", str(len(body))),
                                             ("Content-Type", style.content_type)), body))

async def _inserted(ex: Exchange, fs: FileSystem, name: str | None) -> bytes | None:
    """HeaderName's or ReadmeName's file as the listing includes it (mod_autoindex
    emit_head/emit_tail, through a subrequest for the URL ``name``, relative to the
    directory's): a text/html file as it is, another text/* one as ``<pre>`` text; None
    when there is none to include (missing, not a plain file, denied, another type, a
    script: cgihttpd runs no subrequest for those)."""
    if not name:
        return None
    url = name if name.startswith("/") else ex.target.url_path + name
    access = AccessFiles(HtaccessContext.of(ex.runtime.config), ex.runtime.caches.htaccess)
    sub = await asyncio.to_thread(resolve_url, ex.vhost, url, fs,
                                  confs=ex.runtime.caches.confs, access=access)
    if (sub.kind != "file" or sub.handler is not None or sub.path_info
            or not all(always_granted(conf.require_tree) and conf.access_compat is None
                       for conf, _ in sub.access)):
        return None
    ctype = content_type(sub.filename, sub.conf, ex.config.mime_types, ex.runtime.caches.mime)
    media = (ctype or "").split(";", 1)[0].strip().lower()
    if not media.startswith("text/"):
        return None
    try:
        _st, data, f = await load_file(sub.filename, st=sub.stat)
        if f is not None:
            try:
                data = await asyncio.to_thread(f.read)
            finally:
                f.close()  # read-only: nothing to flush, nothing that waits on the disk
    except OSError:
        return None
    assert data is not None
    return data if media == "text/html" else emit_plain(data)


async def _visible(ex: Exchange, fs: FileSystem, entries: list[Entry],
                   access_check: AccessCheck, show_forbidden: bool) -> list[Entry]:
    """mod_autoindex lists only what a subrequest could reach (make_autoindex_entry:
    its status must be OK, 2xx or 3xx): entries denied by ``Require`` in a ``<Files>``
    (Debian's ``.ht*`` rule), by symlink Options or by a broken .htaccess are left out;
    a 401 or 403 is listed with ``IndexOptions ShowForbidden``. As ap_process_request_internal
    does, a subrequest whose settings are the directory's own skips the access phase."""
    subs = await asyncio.to_thread(_subrequests, ex, fs, entries)
    own = tuple(conf for conf, _ in ex.target.access)
    out = []
    for e, sub in zip(entries, subs, strict=True):
        if sub.kind == "error":
            status = sub.status
        elif sub.access and tuple(conf for conf, _ in sub.access) != own:
            status = await access_check(sub)
        else:
            status = 0
        if status >= 400 and not (show_forbidden and status in (401, 403)):
            continue
        out.append(e)
    return out


def _subrequests(ex: Exchange, fs: FileSystem, entries: list[Entry]) -> list[Target]:
    access = AccessFiles(HtaccessContext.of(ex.runtime.config), ex.runtime.caches.htaccess)
    return [resolve_url(ex.vhost, ex.target.url_path + e.name + ("/" if e.is_dir else ""),
                        fs, confs=ex.runtime.caches.confs, access=access)
            for e in entries]


async def _send_page(ex: Exchange, response: Response) -> None:
    await send_response(ex.send, response, head=ex.request.method == "HEAD")


async def _send_body(ex: Exchange, data: bytes) -> None:
    if data:
        await ex.send({"type": "http.response.body", "body": data, "more_body": True})


def _conditional(headers: tuple[tuple[str, str], ...]) -> bool:
    return any(k in CONDITIONAL_HEADERS for k, _ in headers)


@functools.lru_cache(maxsize=1024)  # a remembered plan brings the same headers again
def _encode(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
                 for k, v in headers)
