"""``serve_cgi``: run one CGI script for one request and answer with its output.

Owns the IO around the pure cores: reading the request body into the script's stdin
with back-pressure, its stdout through ``ScriptOutputParser`` to the client as it is
produced, its stderr to the vhost's error log line by line, the script timeout
(CGIScriptTimeout / CGIDScriptTimeout) and killing the script's process group when the
client goes away. Decide, then act: once the header block is read, ``reply.plan_reply``
says what the answer is and ``_respond`` carries it out; the response goes through a
``output.ReplyWriter`` (what is held and when it goes) and a failed run is told to a
``scriptlog.ScriptLogger``. Behaviour follows mod_cgi/mod_cgid
(modules/generators/cgi_common.h) unless noted. Must not know how the URL was resolved (``Target`` says) nor how the
HTTP connection is framed (the ASGI server does that).

Errors before the response has started are logged here with Apache's words and raised
as ``HTTPError`` (no reason: already logged) for the app to render. After the response
has started, a script that dies or stalls makes ``serve_cgi`` raise ``ScriptAborted``
so that the protocol closes the connection without completing the body: the client
sees a truncated response, never a complete-looking one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, Final

from cgihttpd import messages as M
from cgihttpd.asgi import RAW
from cgihttpd.banner import server_software
from cgihttpd.cgi.devpage import render_notes, render_page, render_tail
from cgihttpd.cgi.diagnosis import (
    STDERR_KEPT,
    STDOUT_HEAD,
    Diagnosis,
    Problem,
    ScriptInfo,
    diagnose,
)
from cgihttpd.cgi.environ import (
    build_cgi_argv,
    build_cgi_environ,
    redirect_variables,
    to_wire,
)
from cgihttpd.cgi.output import ReplyWriter
from cgihttpd.cgi.parser import (
    NEED_DATA,
    Body,
    EndOfOutput,
    Event,
    Headers,
    ScriptError,
    ScriptOutputParser,
)
from cgihttpd.cgi.queue import EARLY_BODY, WAITER_BASE, WAITER_BODY, Busy, ScriptSlots
from cgihttpd.cgi.reply import (
    MAX_INTERNAL_REDIRECTS,
    ReplyPlan,
    file_content_type,
    plan_reply,
    response_headers,
)
from cgihttpd.cgi.runner import Launcher, LaunchSpec, ScriptProcess
from cgihttpd.cgi.scriptlog import script_logger
from cgihttpd.cgi.shebang import SHEBANG_MAX, LaunchError, plan_command
from cgihttpd.cgi.streams import (
    SPOOL_MEMORY,
    BodyTooLarge,
    ClientGone,
    StderrLines,
    spool_body,
)
from cgihttpd.errors import HTTPError, ResponseCutOff, http_error_from_oserror
from cgihttpd.exchange import Exchange
from cgihttpd.messages import Note, cgi_module
from cgihttpd.resolve import translated_filename

#: Bytes read from the script's stdout/stderr at a time (APR_BUCKET_BUFF_SIZE is 8000).
READ_SIZE: Final = 1 << 16

#: After a bad header block, a redirect or a 304 the rest of stdout is read and
#: dropped so the script ends normally (discard_script_output), up to this much;
#: past it the script is killed rather than read forever.
DRAIN_LIMIT: Final = 16 << 20

Redirect = Callable[[str, dict[str, str]], Awaitable[None]]

#: How long a failed script's exit and the end of its stderr are awaited for the
#: diagnosis (it has closed stdout: it is usually exiting); dev mode's page shows them,
#: production only logs them.
SETTLE_DEV: Final = 1.0
SETTLE_PRODUCTION: Final = 0.25

#: How long a script's remembered argv is trusted (``_CgiRun._command``): whether a
#: #! interpreter exists is asked again after that.
COMMAND_TTL: Final = 1.0
#: Retry-After (RFC 9110 §10.2.3) on a 503 from the CGI queue, in seconds: a burst that
#: filled the queue is usually gone by then.
RETRY_AFTER: Final = 5


class ScriptAborted(ResponseCutOff):
    """The response had started when the script failed: close the connection. The
    message names the script and what it did."""


async def serve_cgi(ex: Exchange, *, redirect: Redirect | None = None,
                    inherited_env: Mapping[str, str] | None = None,
                    launcher: Launcher | None = None) -> None:
    """Run ``ex.target`` as a CGI script and send its response through ``ex.send``.

    ``redirect(location, redirect_env)``: called for a local ``Location: /path`` with
    status 200 (Apache's internal redirect): the caller serves ``location`` as a GET
    and passes ``redirect_env`` (the REDIRECT_* variables) as ``inherited_env`` if it
    runs a script again. Without it, such a Location is answered with a 302.
    ``launcher``: what starts the script (default: the runtime's).
    """
    run = _CgiRun(ex, redirect, inherited_env or {}, launcher or ex.runtime.launcher)
    try:
        await run.serve()
    finally:
        # the writer calls back into the run: without this the two would live on as
        # a cycle (with the process, pipes and parser) until the garbage collector ran
        run.out.close()


class _CgiRun:
    def __init__(self, ex: Exchange, redirect: Redirect | None,
                 inherited_env: Mapping[str, str], launcher: Launcher) -> None:
        self.ex = ex
        self.redirect = redirect
        self.inherited_env = inherited_env
        self.launcher = launcher
        self.filename = ex.target.filename
        self.name = os.path.basename(self.filename)
        self.module = cgi_module(ex.config.modules)
        self.client = (ex.request.client_addr, ex.request.client_port)
        self.nph = self.name.startswith("nph-")
        self.timeout = ex.vhost.script_timeout
        self.loop = asyncio.get_running_loop()
        self.last_activity = self.loop.time()
        self.body_done = False
        #: the request body read while the request waited for a slot (``_queue``)
        self.early = bytearray()
        #: the request body is still being handed to the script's stdin: the script
        #: timeout waits for it (mod_cgi writes the whole body before it reads)
        self.feeding = False
        #: the response on its way to the client: what is held, whether it has gone
        self.out = ReplyWriter(ex.send, self._abort)
        self.proc: ScriptProcess | None = None
        #: done when the script's stderr has ended (every line logged)
        self.errlog_task: asyncio.Future[None] | None = None
        self.stderr_lines = 0
        self.env: dict[str, str] = {}
        self.scriptlog = script_logger(ex.vhost, ex.request, ex.target,
                                       stderr_entries=self.module == "cgi")
        #: dev mode (CGIDevMode / --dev): a failure is explained in the browser
        self.dev = bool(getattr(ex.config, "dev_mode", False))
        #: what a failure's diagnosis reads (bounded): the argv and #! warning, the
        #: first bytes of stdout, stderr
        self.argv: tuple[str, ...] = ()
        self.warning: str | None = None
        self.stdout_head = bytearray()
        self.stderr_kept = bytearray()
        #: the response's Content-Type as sent (dev mode appends only to HTML)
        self.content_type = ""
        self.non_ascii = False

    def log(self, level: str, message: str, module: str | None = None) -> None:
        self.ex.errorlog.log(level, module or self.module, message, self.client)

    def say(self, note: Note) -> None:
        """One of Apache's messages (``messages``), under its module and level."""
        self.ex.errorlog.log(note.level, note.module, note.text, self.client)

    # --- before the script runs -------------------------------------------------------

    async def serve(self) -> None:
        ex = self.ex
        # After an internal redirect the body belonged to the first request: Apache
        # reads or discards it there, and unsets Content-Length for a CGI Location
        # redirect (cgi_common.h), so this script gets an empty stdin.
        redirected = "REDIRECT_STATUS" in self.inherited_env and not ex.keeps_body
        if redirected:
            spool, length = None, 0
            self.body_done = True
        else:
            try:
                spool, length = await self._prepare_body()
            except ClientGone:
                self._body_cut()
                return
        try:
            command = self._command()
            self.env = build_cgi_environ(
                ex.request, ex.target, ex.vhost,
                # the same banner as the Server header (ap_get_server_banner)
                server_software=server_software(ex.config.server_tokens),
                server_environ=ex.runtime.server_environ,
                path_translated=(translated_filename(ex.vhost, ex.target.path_info)
                                 if ex.target.path_info else None),
                content_length=length if spool is not None else None,
                current_uri=ex.target.url_path + ex.target.path_info,
                # r->user and r->ap_auth_type, once authentication found a user
                remote_user=None if ex.user is None else to_wire(ex.user),
                auth_type=None if ex.auth_type is None else to_wire(ex.auth_type),
                inherited=self.inherited_env,
                http_names=ex.runtime.caches.http_names,
            )
            if redirected and self.inherited_env.get("REDIRECT_STATUS") == "200":
                self.env.pop("CONTENT_LENGTH", None)
            ex.record.env.update(self.env)
            length_header = ex.request.header("content-length")
            spec = LaunchSpec(command, tuple(build_cgi_argv(ex.request.query)), self.env,
                              os.path.dirname(self.filename) or ".",
                              warm=ex.target.conf.cgi_warm_python is not False,
                              preload=tuple(getattr(ex.config, "cgi_warm_preload", ())),
                              notify=self.log,
                              # no body, no stdin pipe: the script reads end of file
                              stdin=spool is not None or (
                                  not redirected and length_header is not None
                                  and length_header.strip().lstrip("0") != ""))
            slots = ex.runtime.slots()
            await self._queue(slots, spool, length)
            try:
                # mod_status: the script is listed while it runs
                counters = ex.runtime.status
                token = counters.script_began(self.filename, ex.vhost.server_name,
                                              time.time())
                try:
                    await self._run(spec, spool)
                finally:
                    counters.script_ended(token)
            finally:
                slots.release()
        finally:
            if spool is not None:
                spool.close()

    async def _queue(self, slots: ScriptSlots, spool: IO[bytes] | None,
                     length: int) -> None:
        """A script slot for this request, waiting in turn (``cgi.queue``) while
        watching the client. Refused (time or memory bound), or the client left the
        queue (no slot taken): logged, 503."""
        if slots.try_take():
            return
        # what this waiter holds (``cgi.queue``): its connection and request, and the
        # body in memory (spooled chunked: the spool's memory part; else read while
        # waiting and buffered by the connection)
        cl = self.ex.request.header("content-length")
        pending = int(cl) if cl is not None and cl.strip().isdigit() else 0
        held = (min(length, SPOOL_MEMORY) if spool is not None
                else min(2 * pending, WAITER_BODY))
        start = self.loop.time()
        waiter = self.loop.create_task(slots.take(WAITER_BASE + held))
        watcher = self.loop.create_task(self._watch_client(spool is not None))
        decided = False
        try:
            await asyncio.wait((waiter, watcher), return_when=asyncio.FIRST_COMPLETED)
            decided = True
        finally:
            watcher.cancel()
            waiter.cancel()  # the client left (or we are cancelled): leave at once
            # both finished before the body is read on: no receive() left pending
            await asyncio.wait((waiter, watcher))
            granted = not waiter.cancelled() and waiter.exception() is None
            gone = (watcher.done() and not watcher.cancelled()
                    and watcher.exception() is None and watcher.result())
            if granted and (gone or not decided):
                # granted as the client left, or we are cancelled: the next takes it
                slots.release()
        waited = self.loop.time() - start
        if granted and not gone:
            return
        if gone:
            # logged 503 (nothing was served) with the connection aborted (%X)
            self.say(M.cgi_queue_left(self.module, self.filename, waited))
            self.ex.record.completed = False
            raise HTTPError(503)
        exc = waiter.exception()
        assert isinstance(exc, Busy)
        self.say(M.cgi_queue_refused(self.module, self.filename, exc.reason, str(exc),
                                     waited))
        raise HTTPError(503, headers=(("Retry-After", str(RETRY_AFTER)),))

    async def _watch_client(self, spooled: bool) -> bool:
        """While the request waits for a slot: True when the client closes. The body
        is read meanwhile (into ``early``, for the script later) up to EARLY_BODY;
        past that the watch ends, and a client that leaves is noticed when its script
        reads the body."""
        if spooled or self.body_done:
            return bool((await self.ex.receive())["type"] == "http.disconnect")
        while True:
            if len(self.early) >= EARLY_BODY:
                await asyncio.Event().wait()  # until cancelled: the body stays unread
            msg = await self.ex.receive()
            if msg["type"] == "http.disconnect":
                return True
            self.early += msg.get("body", b"")
            if not msg.get("more_body", False):
                self.body_done = True
                return bool((await self.ex.receive())["type"] == "http.disconnect")

    async def _prepare_body(self) -> tuple[IO[bytes] | None, int]:
        """LimitRequestBody; a chunked body is spooled so CONTENT_LENGTH can be set
        (RFC 3875 §4.1.2 requires it when there is a body; Apache 2.4 omits it)."""
        req = self.ex.request
        # per directory (core docs: server config, virtual host, directory, .htaccess)
        limit = self.ex.target.conf.limit_request_body
        if limit is None:
            limit = self.ex.config.limits.request_body
        cl = req.header("content-length")
        if cl is not None:
            if cl.strip().isdigit() and limit and int(cl) > limit:
                self.say(M.BODY_LENGTH_TOO_LARGE.note(length=int(cl), limit=limit))
                raise HTTPError(413)
            return None, 0
        if "chunked" not in (req.header("transfer-encoding") or "").lower():
            return None, 0
        try:
            spool, total = await spool_body(self.ex.receive, limit)
        except BodyTooLarge as exc:
            self.say(M.BODY_READ_TOO_LARGE.note(length=exc.total, limit=limit))
            raise HTTPError(413) from None
        self.body_done = True
        return spool, total

    def _command(self) -> tuple[str, ...]:
        """The argv that runs the script: from its #! line (``plan_command``), kept
        for COMMAND_TTL seconds per version of the file (path, inode, mtime, size,
        mode, from the stat resolution took), so a busy script is not opened and
        parsed on every request while an edited one is read again at once."""
        ex = self.ex
        st = ex.target.stat
        python = ex.target.conf.cgi_python or sys.executable
        commands = ex.runtime.caches.commands
        key = None
        if st is not None:
            key = (self.filename, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, python)
            cached = commands.get(key)
            if cached is not None and cached[1] > self.loop.time():
                argv: tuple[str, ...] = cached[0]
                self.argv, self.warning = argv, cached[2]
                return argv
        argv = self._plan_command(python)
        self.argv = argv
        if key is not None:
            commands.put(key, (argv, self.loop.time() + COMMAND_TTL, self.warning))
        return argv

    def _plan_command(self, python: str) -> tuple[str, ...]:
        try:
            with open(self.filename, "rb") as f:
                head = f.read(SHEBANG_MAX)
        except OSError as exc:
            err = http_error_from_oserror(exc, self.filename)
            self.say(M.EXEC_FAILED(self.module).note(errno=exc, path=self.filename))
            raise HTTPError(err.status) from None
        try:
            cmd = plan_command(
                self.filename, head,
                executable=os.access(self.filename, os.X_OK),
                exists=_runnable, python=python)
        except LaunchError as exc:
            self.log("error", str(exc))
            self.scriptlog.log_script_error(500, str(exc))
            raise HTTPError(500, page=self._explain("launch", message=str(exc))) from None
        self.warning = cmd.warning
        warned = self.ex.runtime.caches.warned
        if cmd.warning and self.filename not in warned:
            warned.put(self.filename, True)
            self.log("warn", cmd.warning)
        return cmd.argv

    # --- the script running -----------------------------------------------------------

    async def _run(self, spec: LaunchSpec, spool: IO[bytes] | None) -> None:
        try:
            proc = await self.launcher.start(spec)
        except OSError as exc:
            self.say(M.EXEC_FAILED(self.module).note(errno=exc, path=spec.argv[0]))
            self.log("error", f"End of script output before headers: {self.name}")
            self.scriptlog.log_script_error(
                500, f"exec of '{spec.argv[0]}' failed: {exc.strerror}")
            raise HTTPError(500, page=self._explain(
                "launch", message=f"exec of '{spec.argv[0]}' failed: {exc.strerror}"),
            ) from None
        self.proc = proc
        self.last_activity = self.loop.time()
        self.feeding = True
        feeder = self.loop.create_task(self._feed_stdin(proc, spool))
        lines = StderrLines()
        errlog = self.errlog_task = proc.stderr.consume(
            lambda data: self._on_stderr(lines, data))
        try:
            await self._respond(proc)
        finally:
            feeder.cancel()
            if proc.returncode is None:
                proc.kill()
            if not errlog.done():
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    # stderr the script wrote before it exited still reaches the log
                    await asyncio.wait_for(errlog, 2.0)
            errlog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feeder
            if proc.returncode is None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5.0)
            proc.reap_group()
            proc.stdout.close()
            proc.stderr.close()

    async def _feed_stdin(self, proc: ScriptProcess, spool: IO[bytes] | None) -> None:
        """Request body -> stdin with back-pressure; then watch for the client leaving.

        A script that stops reading (or never reads) makes the write fail: the rest
        of the body is read and dropped (mod_cgi: "child stopped reading") so the
        connection stays usable.
        """
        writing = True
        keep_body = self.scriptlog.keep_body

        async def write(data: bytes) -> None:
            nonlocal writing
            keep_body(data)
            if not writing or not data:
                return
            try:
                proc.stdin.write(data)
                # mod_cgi's write to the script has the Timeout too; then, as when
                # the script exits, the rest is read and dropped
                await asyncio.wait_for(proc.stdin.drain(), self.timeout)
            except (BrokenPipeError, ConnectionResetError, asyncio.TimeoutError):
                writing = False

        try:
            if spool is not None:
                while chunk := spool.read(READ_SIZE):
                    await write(chunk)
            if self.early:
                early, self.early = bytes(self.early), bytearray()
                await write(early)
            if spool is None and not self.body_done:
                while True:
                    msg = await self.ex.receive()
                    if msg["type"] == "http.disconnect":
                        self._body_cut()
                        return
                    await write(msg.get("body", b""))
                    if not msg.get("more_body", False):
                        break
            self.body_done = True
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            # the script timeout starts now: Apache times the script's output only
            # once the body is handed over, however slowly the client sent it
            self.feeding = False
            self.last_activity = max(self.last_activity, self.loop.time())
        # The whole body is read: the next message is the disconnect, if any.
        msg = await self.ex.receive()
        if msg["type"] == "http.disconnect":
            self.out.lose_client()

    def _body_cut(self) -> None:
        """The client closed before the whole request body came. Apache logs the
        request as 400 (mod_cgi answers it; nobody is left to read the answer) with
        AH01270/AH01225 (checked on 2.4.71); a response already begun keeps its
        status."""
        rec = self.ex.record
        if not rec.status:
            rec.status = 400
        self.say(M.BODY_READ_FAILED(self.module).note(errno=_INCOMPLETE))
        self.out.lose_client()

    def _abort(self) -> None:
        """The client went away before the response was complete (``ReplyWriter``)."""
        self.ex.record.completed = False
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.kill()
        # nobody reads the rest: stop waiting for stdout's end, which a child the
        # script left behind may hold open (no process group to kill on Windows)
        proc.stdout.close()

    def _on_stderr(self, lines: StderrLines, data: bytes) -> None:
        """Every stderr line to the error log (cgi_common.h log_script_err), logged as
        it comes so that a script writing megabytes there never blocks; b"": the end."""
        if not data:
            for line in lines.close():
                self._log_stderr_line(line)
            return
        self.last_activity = self.loop.time()
        if len(self.stderr_kept) < STDERR_KEPT:
            self.stderr_kept += data[: STDERR_KEPT - len(self.stderr_kept)]
        for line in lines.feed(data):
            self._log_stderr_line(line)

    def _log_stderr_line(self, line: bytes) -> None:
        self.stderr_lines += 1
        # mod_cgi log_script_err: each line is also a ScriptLog entry, with the status
        # of the moment (200 until a response has another)
        text = line.decode("latin-1")
        self.scriptlog.log_stderr_line(self.ex.record.status or 200, text)
        self.say(M.SCRIPT_STDERR(self.module).note(path=self.filename, line=text))

    async def _read_stdout(self, proc: ScriptProcess) -> bytes | None:
        """The next stdout bytes (b"" at end), or None when nothing came for the
        script timeout (any output, stdout or stderr, restarts the clock). The clock
        starts when we start waiting: time spent sending to a slow client is not the
        script's (Apache's timeout is per read from the script), nor is time spent
        receiving the request body (``feeding``: its own deadline is
        RequestReadTimeout's)."""
        self.last_activity = max(self.last_activity, self.loop.time())
        while True:
            if self.feeding:
                # re-checked after each slice: the clock starts when the body is in
                remaining = self.timeout
            else:
                remaining = self.last_activity + self.timeout - self.loop.time()
            if remaining <= 0:
                return None
            try:
                data = await proc.stdout.read(READ_SIZE, remaining)
            except asyncio.TimeoutError:
                continue
            self.last_activity = self.loop.time()
            return data

    async def _events(self, proc: ScriptProcess, parser: ScriptOutputParser,
                      holding: bool = False) -> Event | None:
        """The parser's next event, reading as needed; None on timeout.
        ``holding``: output may be held (``ReplyWriter.read`` decides when it goes)."""
        while True:
            event = parser.next_event()
            if event is not NEED_DATA:
                return event
            data = await self.out.read(proc.stdout, READ_SIZE) if holding else None
            if data is None:
                data = await self._read_stdout(proc)
            else:
                self.last_activity = self.loop.time()
            if data is None:
                return None
            if len(self.stdout_head) < STDOUT_HEAD:
                self.stdout_head += data[: STDOUT_HEAD - len(self.stdout_head)]
            parser.receive_data(data)

    async def _respond(self, proc: ScriptProcess) -> None:
        if self.nph and self.ex.request.raw_output:
            await self._respond_raw(proc)
            return
        parser = ScriptOutputParser(self.name, nph=self.nph)
        event = await self._events(proc, parser)
        if event is None:
            if self.out.gone:
                return
            if self.module == "cgi":
                self.say(M.SCRIPT_OUTPUT_TIMEOUT(self.module).note(path=self.filename))
            self.log("error", f"Script timed out before returning headers: {self.name}")
            # cgi_handle_response: the brigade is emptied on a timeout, no %stdout
            self.scriptlog.log_script(504)
            proc.kill()
            raise HTTPError(504, page=await self._explain_run("timeout", status=504))
        if isinstance(event, ScriptError):
            if self.out.gone:
                return
            kept = self.scriptlog.stdout_kept
            rest = await self._drain(proc, keep=max(kept, STDOUT_HEAD))
            if len(self.stdout_head) < STDOUT_HEAD:
                self.stdout_head += rest[: STDOUT_HEAD - len(self.stdout_head)]
            rest = rest[:kept]
            if self.scriptlog.logs_stderr and self.errlog_task is not None:
                # mod_cgi logs stderr before the failure: let the reader catch up
                await asyncio.wait({self.errlog_task}, timeout=1.0)
            module = "http" if event.kind in ("bad-name", "bad-value") else None
            self.log("error", event.message, module)
            self.scriptlog.log_script(event.status, event.line, parser.rest + rest)
            raise HTTPError(event.status, page=await self._explain_run(
                event.kind, status=event.status, bad_line=event.line,
                message=event.message))
        assert isinstance(event, Headers)
        if self.out.gone:
            return  # the client left (its body cut short, say): the log keeps that
        for what in event.dropped:
            self.log("debug", f"Dropped {what} from the output of script '{self.name}'")
        plan = plan_reply(event, nph=self.nph, method=self.ex.request.method,
                          header=self.ex.request.header,
                          request_time=self.ex.record.start_time or time.time(),
                          can_redirect=self.redirect is not None,
                          inherited_env=self.inherited_env)
        if plan.kind == "stream":
            self.out.hold_start(self._start_message(plan))
            await self._send_body(proc, parser, plan)
            return
        # every other answer ends the script's part: the rest of stdout is dropped
        await self._drain(proc)
        if plan.kind == "local-redirect":
            await self._redirect(plan.location)
        elif plan.kind == "redirect-limit":
            self.say(M.REDIRECT_LIMIT.note(limit=MAX_INTERNAL_REDIRECTS))
            raise HTTPError(plan.status)
        elif plan.kind == "client-redirect":
            raise HTTPError(plan.status, headers=plan.headers)
        elif plan.kind == "precondition-failed":
            self.scriptlog.log_script(plan.status)  # log_script runs for any ret but OK
            raise HTTPError(plan.status)
        else:
            assert plan.kind == "not-modified"
            self.scriptlog.log_script(plan.status)
            await self.out.send(self._start_message(plan))
            await self.out.send({"type": "http.response.body", "body": b"",
                                 "more_body": False}, last=True)

    async def _respond_raw(self, proc: ScriptProcess) -> None:
        """An nph- script: its output goes to the client as written, nothing parsed,
        added or framed (mod_cgi removes every filter up to the connection's), and the
        connection closes after it (AP_CONN_CLOSE). Apache logs such a request as 200
        with no body bytes (%>s 200, %b "-"; %O counts what went out), whatever
        status line the script wrote (checked with apache2 2.4.71); so do we."""
        ex = self.ex
        first = True
        while True:
            data = await self._read_stdout(proc)
            if self.out.gone:
                return
            if data is None:
                self.say(M.SCRIPT_OUTPUT_TIMEOUT(self.module).note(path=self.filename))
                if first:
                    self.log("error", f"Script timed out before returning headers: {self.name}")
                    raise HTTPError(504)
                proc.kill()
                raise ScriptAborted(self._timed_out())
            if first:
                first = False
                ex.record.status = 200
                if not ex.record.original_status:
                    ex.record.original_status = 200
            if not data:
                break
            if not await self.out.send({"type": RAW, "bytes": data, "more": True}):
                return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.wait(), self.timeout)
        # An empty output is an empty answer, as Apache sends for it (nothing, then
        # the close); the last message ends the response and closes the connection.
        await self.out.send({"type": RAW, "bytes": b"", "more": False}, last=True)

    def _timed_out(self) -> str:
        return (f"the script {self.filename} wrote nothing for {self.timeout:g} seconds "
                "(its timeout) and was stopped")

    # --- explaining a failure (dev mode; the error log in production) ----------------

    def _info(self) -> ScriptInfo:
        return ScriptInfo(self.filename, self.argv, self.warning, self.timeout,
                          self.ex.request.raw_path)

    def _explain(self, problem: Problem, *, returncode: int | None = None,
                 status: int = 500, bad_line: str | None = None,
                 message: str = "") -> bytes | None:
        """Log what went wrong in a learner's words, after Apache's own line (in
        production too: the same details as the dev page); in dev mode, the page."""
        diagnosis = diagnose(self._info(), problem, returncode=returncode,
                             stderr=bytes(self.stderr_kept), stdout=bytes(self.stdout_head),
                             bad_line=bad_line, message=message)
        if problem != "launch":  # a launch error's own line says it all already
            self._log_diagnosis(diagnosis)
        return render_page(diagnosis, status) if self.dev else None

    def _log_diagnosis(self, diagnosis: Diagnosis) -> None:
        self.ex.runtime.status.script_failed(self.filename, diagnosis.summary(), time.time())
        self.log("error", f"{diagnosis.summary()} (run with {diagnosis.interpreter}; "
                 f"{diagnosis.exit})")

    async def _settle(self) -> int | None:
        """Wait a moment for the script's exit and the end of its stderr, which the
        diagnosis reads; the exit status, if known. In production the error page waits
        less (SETTLE_PRODUCTION): the log line says what is known by then."""
        proc = self.proc
        if proc is None:
            return None
        grace = SETTLE_DEV if self.dev else SETTLE_PRODUCTION
        if proc.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
        if self.errlog_task is not None and not self.errlog_task.done():
            await asyncio.wait({self.errlog_task}, timeout=grace)
        return proc.returncode

    async def _diagnose_run(self, problem: Problem, returncode: int | None) -> Diagnosis:
        await self._settle()
        diagnosis = diagnose(self._info(), problem, returncode=returncode,
                             stderr=bytes(self.stderr_kept), stdout=bytes(self.stdout_head))
        self._log_diagnosis(diagnosis)
        return diagnosis

    async def _explain_run(self, problem: Problem, *, status: int,
                           bad_line: str | None = None, message: str = "") -> bytes | None:
        """``_explain`` for a script that ran: its exit status and whole stderr."""
        rc = await self._settle()
        return self._explain(problem, returncode=rc, status=status, bad_line=bad_line,
                             message=message)

    def _dev_notes(self) -> tuple[str, ...]:
        """What a page that worked should still fix (dev mode, appended to HTML)."""
        notes: list[str] = []
        if self.warning and "byte order mark" in self.warning:
            notes.append(self.warning)
        if self.non_ascii and "charset=" not in self.content_type:
            notes.append(
                "The page contains non-ASCII text (e.g. Cyrillic) but its Content-Type "
                "names no charset, so the browser may guess wrong and show garbled "
                "letters: print(\"Content-Type: text/html; charset=utf-8\") instead.")
        return tuple(notes)

    async def _drain(self, proc: ScriptProcess, keep: int = 0) -> bytes:
        """Read and drop the rest of stdout (discard_script_output); the first ``keep``
        bytes of it are returned (for ScriptLog)."""
        dropped = 0
        kept = bytearray()
        while dropped <= DRAIN_LIMIT:
            data = await self._read_stdout(proc)
            if not data:
                return bytes(kept)
            if len(kept) < keep:
                kept += data[: keep - len(kept)]
            dropped += len(data)
        proc.kill()
        return bytes(kept)

    async def _redirect(self, location: str) -> None:
        """Apache's internal redirect: once the script has exited, ``location`` is
        served as a GET with this request's REDIRECT_* variables."""
        assert self.redirect is not None
        proc = self.proc
        if proc is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), self.timeout)
        req = self.ex.request
        variables = redirect_variables(
            self.env, 200, self.ex.target.url_path + self.ex.target.path_info,
            req.query if "?" in req.raw_target else None)
        await self.redirect(location, variables)

    def _start_message(self, plan: ReplyPlan) -> dict[str, object]:
        """The response's start message for ``plan`` (the access log's status and
        headers recorded as it is made)."""
        ex = self.ex
        conf = ex.target.conf
        status = plan.status
        headers = response_headers(
            plan.headers, status, nph=self.nph,
            default_type=file_content_type(self.filename, conf, ex.config.mime_types,
                                           ex.runtime.caches.mime),
            default_charset=conf.default_charset)
        ex.record.status = status
        if not ex.record.original_status:
            ex.record.original_status = status
        ex.record.headers_out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        self.content_type = next((v.decode("latin-1").lower() for k, v in headers
                                  if k.lower() == b"content-type"), "")
        start: dict[str, object] = {"type": "http.response.start", "status": status,
                                    "headers": headers}
        if plan.reason:
            # Apache sends the script's own reason phrase (r->status_line); our
            # protocol takes it as the "reason" extension key, others ignore it.
            start["reason"] = plan.reason
        return start

    async def _send_body(self, proc: ScriptProcess, parser: ScriptOutputParser,
                         plan: ReplyPlan) -> None:
        """The body as the script writes it, through ``self.out`` (which holds it with
        the head while the script keeps writing), then the end once the script's exit
        says whether the body is whole."""
        out = self.out
        head = not plan.send_body
        sent = 0
        while True:
            ev = await self._events(proc, parser, holding=True)
            if out.gone:
                return
            if ev is None:
                self.say(M.SCRIPT_OUTPUT_TIMEOUT(self.module).note(path=self.filename))
                proc.kill()
                await out.flush()
                raise ScriptAborted(self._timed_out())
            if isinstance(ev, EndOfOutput):
                break
            assert isinstance(ev, Body)
            data = ev.data
            sent += len(data)
            if head or not data:
                continue
            if not self.non_ascii and not data.isascii():
                self.non_ascii = True
            if not await out.hold(data):
                return
        # stdout is closed: the script has ended (or closed it)
        rc = await out.exit_status(proc, self.timeout)
        if rc is None:
            return
        if rc > 0 and self.errlog_task is not None and not self.errlog_task.done():
            # the stderr reader may not have caught up with what came before the exit
            await asyncio.wait({self.errlog_task}, timeout=1.0)
        # "Died": killed by a signal, or failed with a message on stderr (an uncaught
        # Python exception exits 1 after its traceback). A shell script whose last test
        # returned 1, silently, has not died: its output stands.
        died = rc < 0 or (rc > 0 and self.stderr_lines > 0)
        # (a script's own Content-Length is dropped, so the body may grow)
        appendable = self.dev and not head and self.content_type.startswith("text/html")
        if died:
            how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
            self.log("error", f"CGI script {self.filename} ended ({how}) after "
                     f"{sent} bytes of body; closing the connection")
            diagnosis = await self._diagnose_run("died", rc)
            if appendable:
                # dev mode: the page ends with the explanation, properly framed, so
                # that the learner sees why instead of a half page
                await out.hold(render_tail(diagnosis))
                await out.finish()
                return
            await out.flush()
            raise ScriptAborted(f"the script {self.filename} ended ({how}) after {sent} "
                                "bytes of its body")
        if appendable:
            notes = self._dev_notes()
            if notes:
                tail = render_notes("cgihttpd dev mode: something to fix", notes)
                sent += len(tail)
                await out.hold(tail)
        # the whole body still held: it goes with a length counted here, as Apache's
        # content-length filter counts a body it has whole (the script's own is dropped)
        counted = not self.nph and plan.status not in (204, 304)
        await out.finish(length=sent if counted else None)


#: APR_INCOMPLETE, as Apache prefixes AH01270 with it
_INCOMPLETE = OSError(70008, "Partial results are valid but processing is incomplete")


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)
