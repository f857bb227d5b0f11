"""Running the server: bind the Listen addresses, build the application, write the
PidFile, drop privileges, then serve on uvicorn with our HTTP protocol until SIGINT or
SIGTERM.

Order matters and is Apache's: sockets are bound and logs opened (by the application
factory) while still root, then ``User``/``Group`` take over. uvicorn does the event
loop (uvloop where installed), the signals and the graceful shutdown
(``timeout_graceful_shutdown``); ``cgihttpd.http.protocol`` does HTTP.

Must not know about Apache's config syntax (that is ``config``) nor about requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from cgihttpd import control
from cgihttpd import messages as M
from cgihttpd.banner import server_software
from cgihttpd.config.model import Address, ServerConfig
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.handoff import Handoff
from cgihttpd.http.limits import HeadLimits
from cgihttpd.http.listener import TlsListener
from cgihttpd.http.protocol import CgiHttpProtocol, HttpSettings, ProtocolErrorEvent
from cgihttpd.http.proxyproto import ProxyProtocolRule
from cgihttpd.notify import READY, STOPPING, notify, reloading
from cgihttpd.reload import CONTROL_SIGNALS, Generation, Generations, Rebuild, handling
from cgihttpd.reload import log as server_log
from cgihttpd.status.scoreboard import Scoreboard
from cgihttpd.tls import TlsContexts, tls_ports

#: seconds in-flight requests get to finish after SIGINT/SIGTERM
GRACEFUL_SHUTDOWN = 10
#: listen(2) backlog (Apache's ListenBacklog default is 511)
BACKLOG = 511
#: --workers N gives each worker its own SO_REUSEPORT sockets (Linux 3.9+, where the
#: kernel balances connections over them); elsewhere the workers share one socket
REUSE_PORT = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")

#: ``--workers auto`` (the default) starts one worker per core this process may run
#: on, as nginx's ``worker_processes auto``, but no more than this: each worker is a
#: whole interpreter (≈ 20 MB PSS idle) with zygotes of its own once scripts run
#: (docs/design.md §7, "Workers": the memory budget).
AUTO_MAX_WORKERS = 8


def auto_workers() -> int:
    """The number of workers ``--workers auto`` starts: the cores this process may
    run on (its CPU affinity, as a container's cpuset limits it), at most
    ``AUTO_MAX_WORKERS``; 1 where there is no fork."""
    if sys.platform == "win32" or not hasattr(os, "fork"):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS has no affinity
        cores = os.cpu_count() or 1
    return max(1, min(cores, AUTO_MAX_WORKERS))

AppFactory = Callable[[ServerConfig], Any]


class StartupError(Exception):
    """A problem that stops the server from starting; printed as one line per problem."""


def _family_and_host(address: Address) -> tuple[socket.AddressFamily, str]:
    host = address.host
    if host in ("*", ""):
        # "Listen 80": every address, IPv6 and IPv4 on one socket as Apache binds it on
        # Linux (v4-mapped: "*:80" in ss), so a hosts file mapping the name to ::1 and
        # 127.0.0.1 works either way; IPv4 alone where this machine has no IPv6
        return (socket.AF_INET6, "::") if _dual_stack() else (socket.AF_INET, "0.0.0.0")
    if host == "0.0.0.0":
        return socket.AF_INET, "0.0.0.0"
    if host.startswith("["):
        return socket.AF_INET6, host.strip("[]")
    if ":" in host:
        return socket.AF_INET6, host
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise StartupError(f"could not resolve Listen address {host}: {exc.strerror}") from None
    family, _, _, _, sockaddr = infos[0]
    return socket.AddressFamily(family), str(sockaddr[0])


def _dual_stack() -> bool:
    """Whether an IPv6 socket that also takes IPv4 can be made here."""
    if not socket.has_ipv6 or not hasattr(socket, "IPV6_V6ONLY"):
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            probe.bind(("::", 0))
    except OSError:
        return False
    return True


#: how far past a port in use ``bind_advice`` looks for a free one
_PORT_SEARCH = 20


def _free_loopback_port(start: int) -> int | None:
    """The first port from ``start`` that 127.0.0.1 can bind now, within a few."""
    for candidate in range(start, min(start + _PORT_SEARCH, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return None


def bind_advice(err: int | None, port: int) -> str:
    """What a learner can do about a refused bind, as the end of its one line: a port
    in use → a free one near it; a port that needs admin rights → 8080."""
    if err == errno.EADDRINUSE:
        free = _free_loopback_port(port + 1)
        other = f"-l 127.0.0.1:{free}" if free else "-l 127.0.0.1:PORT with another port"
        return (f" (another program is using port {port}: stop it, or run cgihttpd with "
                f"{other})")
    if err in (errno.EACCES, errno.EPERM):
        free = _free_loopback_port(8080) or 8080
        return (f" (ports below 1024 need root or an administrator: run cgihttpd with "
                f"-l 127.0.0.1:{free} and open http://127.0.0.1:{free}/)")
    return ""


def bind_listeners(listens: Sequence[Address], *, reuse_port: bool = False
                   ) -> list[socket.socket]:
    """Bind and listen on every address (duplicates once). On failure close what was
    bound and raise ``StartupError`` naming the address, as Apache's AH00072.
    ``reuse_port``: set SO_REUSEPORT, so that more sockets can be bound to the same
    addresses (one per worker, see ``bind_worker_listeners``)."""
    sockets: list[socket.socket] = []
    seen: set[tuple[str, int]] = set()
    try:
        for address in listens:
            family, host = _family_and_host(address)
            port = 80 if address.port is None else address.port
            if (host, port) in seen:
                continue
            seen.add((host, port))
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            try:
                if sys.platform != "win32":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuse_port and sys.platform != "win32":  # REUSE_PORT is False there
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    # only the wildcard takes IPv4 too (Apache's v4-mapped default)
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                                    0 if host == "::" and address.host in ("*", "") else 1)
                sock.bind((host, port))
                sock.listen(BACKLOG)
                sock.setblocking(False)
                sock.set_inheritable(True)
            except OSError as exc:
                where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
                raise StartupError(
                    f"could not bind to address {where}: {exc.strerror or exc}"
                    + bind_advice(exc.errno, port)) from None
    except BaseException:
        for s in sockets:
            s.close()
        raise
    if not sockets:
        raise StartupError("no listening sockets available (no Listen directive)")
    return sockets


def bind_worker_listeners(listens: Sequence[Address], workers: int
                          ) -> list[list[socket.socket]]:
    """One set of listening sockets per worker process, all bound to the same addresses
    with SO_REUSEPORT: the kernel then spreads new connections evenly over the workers
    (by a hash of the connection's addresses), where workers sharing one socket take
    whatever each happens to accept first (docs/design.md §7, "Workers"). Bound
    here, before ``User`` takes over, as Apache binds before it drops root. A port 0 in
    ``listens`` is the port the first set got."""
    first = bind_listeners(listens, reuse_port=True)
    sets = [first]
    try:
        actual = [_address_of(s) for s in first]
        for _ in range(workers - 1):
            sets.append(bind_listeners(actual, reuse_port=True))
    except BaseException:
        for group in sets:
            for s in group:
                s.close()
        raise
    return sets


def _address_of(sock: socket.socket) -> Address:
    host, port = sock.getsockname()[:2]
    if _takes_ipv4(sock):
        return Address("*", port)  # the dual-stack wildcard, bound again as such
    return Address(f"[{host}]" if sock.family == socket.AF_INET6 else host, port)


def _takes_ipv4(sock: socket.socket) -> bool:
    """A wildcard IPv6 socket that takes IPv4 clients too (``Listen 80``)."""
    return (sock.family == socket.AF_INET6 and sock.getsockname()[0] == "::"
            and not sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY))


def url_of(sock: socket.socket, scheme: str = "http") -> str:
    """The URL a person can open for a bound socket (a wildcard shows as 127.0.0.1)."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "") or _takes_ipv4(sock):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}/"


def _banner_address(sock: socket.socket) -> tuple[str, int]:
    """The local address a connection to ``sock`` from this machine would have."""
    url = url_of(sock)
    host, port = url[len("http://"):-1].rsplit(":", 1)
    return host.strip("[]"), int(port)


def site_lines(config: ServerConfig, sockets: Sequence[socket.socket],
               https: Callable[[socket.socket], bool] = lambda _s: False) -> list[str]:
    """A banner line per named site a browser here can open now: ``NAME.localhost``
    needs no hosts-file entry (``vhost.localhost_fallback``), ``NAME`` itself does.
    On a TLS socket (``https``) only ``NAME`` is offered: its certificate names it."""
    from cgihttpd.vhost import local_site_names

    out: list[str] = []
    for sock in sockets:
        url = url_of(sock)
        if not url.startswith(("http://127.0.0.1:", "http://[::1]:")):
            continue  # bound to another address: loopback names do not reach it
        port = sock.getsockname()[1]
        tls = https(sock)
        at = "" if port == (443 if tls else 80) else f":{port}"
        for name in local_site_names(config, port):
            if tls:
                out.append(f"cgihttpd: site {name}: https://{name}{at}/ once the hosts "
                           f"file names it (cgihttpd hosts {name})")
                continue
            out.append(f"cgihttpd: site {name}: http://{name}.localhost{at}/ works now; "
                       f"http://{name}{at}/ once the hosts file names it "
                       f"(cgihttpd hosts {name})")
    return out


def write_pid_file(path: str) -> None:
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
    except OSError as exc:
        raise StartupError(f"could not write PidFile {path}: {exc.strerror or exc}") from None


def _will_drop(user: str | None, group: str | None) -> bool:
    """Whether ``drop_privileges`` changes who we are: root with a User or Group."""
    if sys.platform == "win32":
        return False
    return os.geteuid() == 0 and bool(user or group)


def _unlink_pid_file(path: str, pid: int) -> None:
    """Remove ``path`` if it still names ``pid`` (another server may have taken it)."""
    with contextlib.suppress(OSError, ValueError):
        with open(path, encoding="ascii") as f:
            if int(f.read().strip() or 0) != pid:
                return
        os.unlink(path)


def keep_pid_file(path: str, sockets: Sequence[socket.socket]) -> Callable[[], None]:
    """Before ``User`` takes over: fork a keeper that stays root, as Apache's parent
    does, to remove the PidFile at the stop (the server, no longer root, could not:
    the file's directory is root's). The keeper holds nothing but a pipe; the returned
    function tells it to remove the file and waits for it. It also removes it if the
    server dies (the pipe closes), and ignores the terminal's and a group's stop
    signals so that it outlives the server it waits for."""
    if sys.platform == "win32":  # no User there
        return lambda: None
    owner = os.getpid()
    r, w = os.pipe()
    keeper = os.fork()
    if keeper == 0:  # the keeper: no Python cleanup, no server state
        try:
            os.close(w)
            for sock in sockets:
                sock.close()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                signal.signal(sig, signal.SIG_IGN)
            with contextlib.suppress(OSError):
                os.read(r, 1)
            _unlink_pid_file(path, owner)
        finally:
            os._exit(0)
    os.close(r)

    def release() -> None:
        with contextlib.suppress(OSError):
            os.write(w, b".")
        os.close(w)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(keeper, 0)

    return release


def drop_privileges(user: str | None, group: str | None) -> None:
    """Become ``User``/``Group`` when running as root (mpm's unixd); otherwise a no-op,
    as Apache ignores them when not started as root. ``#N`` gives a numeric id."""
    if sys.platform == "win32" or os.geteuid() != 0 or not (user or group):
        return
    import grp
    import pwd

    try:
        gid: int | None = None
        if group:
            gid = int(group[1:]) if group.startswith("#") else grp.getgrnam(group).gr_gid
        uid: int | None = None
        if user:
            if user.startswith("#"):
                uid = int(user[1:])
            else:
                pw = pwd.getpwnam(user)
                uid = pw.pw_uid
                if gid is None:
                    gid = pw.pw_gid
    except (KeyError, ValueError):
        raise StartupError(f"unknown User/Group: {user or ''}/{group or ''}") from None
    if gid is not None:
        os.setgroups([gid])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)


def protocol_error_logger(app: Any) -> Callable[[ProtocolErrorEvent], None] | None:
    """Where the HTTP layer reports the requests it answered itself (400, 408, 414):
    the app's ``log_protocol_error`` if it has one, else an access-log line written
    through the app's ``logs`` (``LogSet``) for the vhost the request would have gone
    to - Apache logs these requests too, with ``%r`` as far as it was read."""
    own = getattr(app, "log_protocol_error", None)
    if callable(own):
        return own  # type: ignore[no-any-return]
    logs = getattr(app, "logs", None)
    config = getattr(app, "config", None)
    if logs is None or not isinstance(config, ServerConfig):
        return None
    from cgihttpd.logs.access import LogRecord
    from cgihttpd.vhost import select_vhost

    def log(event: ProtocolErrorEvent) -> None:
        local = event.server or ("-", 0)
        client = event.client or ("-", 0)
        host = next((v for k, v in event.headers if k == "host"), "")
        vhost = select_vhost(config, local[0], local[1], host)
        parts = event.request_line.split(" ")
        target = parts[1] if len(parts) > 1 else ""
        path, _, query = target.partition("?")
        rec = LogRecord(
            remote_addr=client[0], remote_port=client[1], local_addr=local[0],
            local_port=local[1], request_line=event.request_line, method=event.method,
            raw_uri=target, path=path, query=query,
            protocol=parts[2] if len(parts) > 2 else "", start_time=event.start_time,
            headers_in=list(event.headers), original_status=event.status,
            status=event.status, body_bytes=event.body_bytes, total_bytes=event.bytes_out,
            bytes_in=event.bytes_in, server_name=vhost.server_name, server_port=vhost.port,
            pid=os.getpid(), keepalive_count=event.keepalive_count)
        logs.access(vhost, rec)

    return log


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("cgihttpd: %(levelname)s: %(message)s"))
    for name in ("cgihttpd", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers = [handler]
        log.setLevel(logging.WARNING)
        log.propagate = False
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False


def http_settings(
    config: ServerConfig,
    on_protocol_error: Callable[[ProtocolErrorEvent], None] | None = None,
    tls: TlsContexts | None = None,
) -> HttpSettings:
    """What the HTTP layer takes from the configuration (it does not read ``ServerConfig``
    itself)."""
    main = config.main
    return HttpSettings(
        limits=HeadLimits(config.limits.request_line, config.limits.request_field_size,
                          config.limits.request_fields),
        header_timeout=config.header_timeout,  # RequestReadTimeout, or Timeout
        body_timeout=config.body_timeout,
        timeout=main.timeout,  # also the write deadline
        allow=b"GET,HEAD,POST,OPTIONS" + (b"" if main.trace_enable == "off" else b",TRACE"),
        keep_alive=main.keepalive,
        keep_alive_timeout=main.keepalive_timeout,
        max_keep_alive_requests=main.max_keepalive_requests,
        server_header=server_software(config.server_tokens),
        server_signature=main.server_signature,
        server_name=main.server_name,
        server_admin=main.server_admin,
        on_protocol_error=on_protocol_error,
        proxy_protocol=proxy_protocol_rule(config),
        tls=tls.context_for if tls is not None and tls.any else None,
    )


def proxy_protocol_rule(config: ServerConfig) -> ProxyProtocolRule | None:
    """RemoteIPProxyProtocol On: on the main server, every connection starts with a
    PROXY header; on a virtual host, those to its addresses' ports. The exceptions are
    the main server's and those of the hosts that turned it on."""
    servers = [v for v in (config.main, *config.vhosts) if v.proxy_protocol]
    if not servers:
        return None
    ports: frozenset[int] | None = None
    if not config.main.proxy_protocol:
        ports = frozenset(a.port for v in servers for a in v.addresses if a.port)
    exceptions = tuple(e for v in servers for e in v.proxy_protocol_exceptions)
    return ProxyProtocolRule(ports, exceptions)


def run(
    config: ServerConfig,
    app_factory: AppFactory,
    *,
    workers: int = 1,
    header_timeout: ReadTimeout | None = None,
    body_timeout: ReadTimeout | None = None,
    announce: str = "",
    out: Any = None,
    rebuild: Rebuild | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Serve ``config`` until SIGINT/SIGTERM (or SIGWINCH, gracefully); return the exit
    status (0 after a clean stop). SIGUSR1 and SIGHUP reload through ``rebuild``
    (``reload``). ``on_ready``: called once the sockets accept. Raises
    ``StartupError`` (and lets ``ConfigError``/``ConfigErrors`` from the factory
    through) for problems before serving; the CLI prints them."""
    import uvicorn

    stream = out if out is not None else sys.stderr
    _configure_logging()
    _survive_signals()
    per_worker: list[list[socket.socket]] | None = None
    if workers > 1 and REUSE_PORT:
        per_worker = bind_worker_listeners(config.listens, workers)
        sockets = [s for group in per_worker for s in group]
    else:
        sockets = bind_listeners(config.listens)
    generations: Generations | None = None
    pid_file = config.pid_file
    release_pid_file: Callable[[], None] | None = None

    #: The ports where TLS may be spoken (None: any), from the configuration served
    #: first: their sockets accept through a ``TlsListener``, which decides per
    #: connection; the others stay on uvicorn's plain servers. Sockets are bound once,
    #: so a reload cannot bring TLS to a port outside these.
    sniffed = tls_ports(config)

    def protocol_for(cfg: ServerConfig, app: Any) -> type:
        wanted = tls_ports(cfg)
        if sniffed is not None and (wanted is None or not wanted <= sniffed):
            raise StartupError("TLS (SSLEngine on) was added on a port started without "
                               "it: stop and start cgihttpd to serve it")
        # certificates and keys are read here: at the start and at every reload
        tls = TlsContexts(cfg) if "ssl_module" in cfg.modules else None
        settings = http_settings(cfg, protocol_error_logger(app), tls)
        if header_timeout is not None:
            settings = replace(settings, header_timeout=header_timeout)
        if body_timeout is not None:
            settings = replace(settings, body_timeout=body_timeout)
        return CgiHttpProtocol.configured(settings)

    try:
        app = app_factory(config)
        protocol = protocol_for(config, app)
        gen0 = Generation(0, config, app, protocol)
        generations = Generations(gen0, rebuild=rebuild, protocol_for=protocol_for)
        if pid_file:
            write_pid_file(pid_file)
            if _will_drop(config.user, config.group):
                release_pid_file = keep_pid_file(pid_file, sockets)
        drop_privileges(config.user, config.group)
        uv_config = uvicorn.Config(
            gen0,
            http=protocol,
            loop="auto",  # uvloop when importable, else asyncio (Windows)
            lifespan="on",
            interface="asgi3",
            access_log=False,
            proxy_headers=False,  # else a loopback X-Forwarded-For rewrites REMOTE_ADDR
            server_header=False,
            date_header=False,
            log_config=None,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            backlog=BACKLOG,
        )
        first = per_worker[0] if per_worker else sockets
        tls_of = getattr(protocol, "settings", http_settings(config)).tls

        def https(sock: socket.socket) -> bool:
            return tls_of is not None and tls_of(*_banner_address(sock)) is not None

        urls = [url_of(s, "https" if https(s) else "http") for s in first]
        sites = site_lines(config, first, https)

        class Server(uvicorn.Server):  # type: ignore[misc]
            #: SIGINT/SIGTERM that arrived before uvicorn installed its own handlers
            early_signals: list[int]
            #: the configurations served, the lifecycle, the signals to act on (reload)
            generations: Generations
            #: this worker's end of the handovers between workers (None: not handed)
            handoff: Handoff | None
            #: workers hand connections over (``_run_workers`` makes the handoffs)
            balance: bool

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                every = sockets or []
                tls = [s for s in every
                       if sniffed is None or s.getsockname()[1] in sniffed]
                await super().startup(sockets=[s for s in every if s not in tls])
                for sock in tls:
                    self.servers.append(TlsListener(  # type: ignore[arg-type]
                        sock, lambda: self.config.http_protocol_class,
                        self.make_protocol))
                if self.handoff is not None:
                    self._take_handovers()
                if self.early_signals:  # asked to stop before uvicorn listened for it
                    self.should_exit = True
                elif self.started:
                    for url in urls:
                        suffix = f" ({announce})" if announce else ""
                        print(f"cgihttpd: serving {url}{suffix}", file=stream, flush=True)
                    for line in sites:
                        print(line, file=stream, flush=True)
                    if on_ready is not None:
                        on_ready()
                    notify(READY)  # systemd's Type=notify (a no-op elsewhere)

            def _take_handovers(self) -> None:
                """Serve the connections other workers hand over (``handoff``), and
                offer ours to them: a protocol asks ``cgihttpd_hand_off`` first."""
                handoff = self.handoff
                assert handoff is not None
                loop = asyncio.get_running_loop()
                adopting: set[asyncio.Task[Any]] = set()

                def adopted() -> Any:
                    protocol = self.make_protocol()
                    protocol.adopted = True
                    return protocol

                def adopt(sock: socket.socket) -> None:
                    task = loop.create_task(loop.connect_accepted_socket(adopted, sock))
                    adopting.add(task)

                    def done(t: asyncio.Task[Any]) -> None:
                        adopting.discard(t)
                        if t.cancelled() or t.exception() is not None:
                            sock.close()
                        handoff.count(len(self.server_state.connections))

                    task.add_done_callback(done)

                handoff.listen(loop, adopt)
                self.server_state.cgihttpd_hand_off = (  # type: ignore[attr-defined]
                    handoff.give_away)

            def make_protocol(self) -> Any:
                """A connection's protocol, as uvicorn's own ``create_protocol``."""
                cfg = self.config
                cls: Any = cfg.http_protocol_class
                return cls(config=cfg, server_state=self.server_state,
                           app_state=self.lifespan.state)

            def handle_exit(self, sig: int, frame: Any) -> None:
                super().handle_exit(sig, frame)
                self.generations.note_signal(sig)  # logged and applied at the next tick

            async def on_tick(self, counter: int) -> bool:
                control_tick(self)
                status_tick(self)
                return await super().on_tick(counter)  # type: ignore[no-any-return]

            async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                # a signal that came during the last tick is acted on (logged, told
                # to systemd) before the connections are drained
                control_tick(self)
                if self.handoff is not None:
                    self.handoff.stop()  # no more handovers to us
                await super().shutdown(sockets=sockets)
                life = self.generations.lifecycle
                if life.state in (control.STOPPING, control.STOPPING_GRACEFUL):
                    life.apply(control.DRAINED)

        server = Server(uv_config)
        server.early_signals = []
        server.generations = generations
        server.handoff = None
        # SO_REUSEPORT sets spread connections by a hash: hand them between the workers
        # so each holds its share (``handoff``); plain HTTP only
        server.balance = per_worker is not None and sniffed == frozenset()
        if workers > 1:
            return _run_workers(server, per_worker or [sockets] * workers, on_ready)
        with _quiet_signals(server.early_signals), handling(generations):
            try:
                server.run(sockets=sockets)
            except SystemExit as exc:  # uvicorn exits on a failed lifespan startup
                return 1 if exc.code else 0
        return 0
    finally:
        for s in sockets:
            s.close()
        if generations is not None:
            generations.close()
        if release_pid_file is not None:
            release_pid_file()
        elif pid_file:
            with contextlib.suppress(OSError):
                os.unlink(pid_file)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _ignore_signal(_sig: int, _frame: object) -> None:
    pass


def _survive_signals() -> None:
    """Signals Apache's parent takes that must not kill us (issue 10): SIGPIPE (a
    client gone mid-write is an OSError, never a death; Python ignores it at start,
    made sure of here) and SIGUSR2 (Apache's MPMs take it; its default would end the
    process without a log line). USR2 gets a handler, not SIG_IGN, so scripts do not
    inherit an ignored signal across exec (subprocess restores SIGPIPE itself).
    SIGHUP, SIGUSR1 and SIGWINCH are the operations' (restart, graceful)."""
    if sys.platform == "win32":
        return
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGUSR2, _ignore_signal)


def graceful_stop_timeout(config: ServerConfig) -> float | None:
    """How long a graceful stop lets requests in flight run: GracefulShutdownTimeout's
    seconds (0.0 for a negative one: Apache then stops at once), None for its default
    0 (however long)."""
    value = config.graceful_shutdown_timeout
    return None if value == 0 else float(max(value, 0))


def _cut_in_flight(server: Any, gens: Generations, seconds: float) -> None:
    """GracefulShutdownTimeout has passed during a graceful stop: what still runs is cut
    as a restart (HUP) cuts it - connections aborted, request tasks cancelled (the
    CGI handler then kills each script's process group and logs the request) - so
    uvicorn's shutdown, which waits for both, ends. Apache's parent kills its children
    instead; it has nothing like the line logged here."""
    state = server.server_state
    if not state.connections and not state.tasks:
        return
    # each worker cuts (and says) its own
    server_log(gens.current.app, "warn", "mpm_event",
        f"GracefulShutdownTimeout of {seconds:g} seconds passed: cutting "
        f"{len(state.tasks)} request(s) still in flight")
    for conn in list(state.connections):
        conn.abort()
    for task in list(state.tasks):
        task.cancel()


def control_tick(server: Any) -> None:
    """Between two ticks of the server (every 0.1 s): act on the signals received since
    (``control``'s table decides what each means now), and close the retired
    generations nothing uses any more."""
    gens: Generations = server.generations
    life = gens.lifecycle
    connections = server.server_state.connections
    for event in gens.take_pending():
        if event in (control.GRACEFUL, control.RESTART) and life.state is control.RUNNING:
            notify(reloading())
            gens.reload(event, server.config, connections)
            notify(READY)
        elif event is control.GRACEFUL_STOP and not life.stopping:
            note = M.GRACEFUL_STOP.note()
            gens.say(gens.current.app, note.level, note.module, note.text)
            # uvicorn waits for what runs however long; the cut is ours, so it is logged
            server.config.timeout_graceful_shutdown = None
            limit = graceful_stop_timeout(gens.current.config)
            if limit is not None:
                asyncio.get_running_loop().call_later(
                    limit, _cut_in_flight, server, gens, limit)
            server.should_exit = True
            life.apply(event)
            notify(STOPPING)
        elif event is control.STOP and life.state is not control.STOPPING:
            note = M.STOP.note()
            gens.say(gens.current.app, note.level, note.module, note.text)
            server.should_exit = True
            life.apply(event)
            notify(STOPPING)
        else:
            life.apply(event)  # ignored in this state (the table says so)
    gens.reap(connections)


def status_of(app: Any) -> Any:
    """mod_status's counters of ``app`` (an ``App``, or a ``DevReload`` holding one);
    None for an application without them."""
    return getattr(getattr(getattr(app, "app", app), "runtime", None), "status", None)


def status_tick(server: Any) -> None:
    """Between two ticks: tell mod_status's counters (this worker's scoreboard slot)
    the connections open now and those waiting for a next request, and this process's
    CPU time, so that any worker's report sums them (a few words every 0.1 s, where
    counting each connection's changes would cost every request)."""
    handoff: Handoff | None = getattr(server, "handoff", None)
    if handoff is not None:
        handoff.count(len(server.server_state.connections))
    counters = status_of(server.generations.current.app)
    if counters is None:
        return
    connections = server.server_state.connections
    counters.connections(len(connections),
                         sum(1 for c in connections if getattr(c, "keep_alive_idle", False)))
    t = os.times()
    counters.cpu((t.user, t.system, t.children_user, t.children_system))


@contextlib.contextmanager
def _quiet_signals(noted: list[int]) -> Any:
    """uvicorn re-raises a caught SIGINT/SIGTERM after its graceful shutdown, with the
    handlers it found installed: make those handlers only note the signal, so a
    signalled stop exits 0 - and a signal that comes before uvicorn listens for it is
    not lost (``Server.startup`` then stops at once)."""
    previous = {sig: signal.signal(sig, lambda sig, _f: noted.append(sig))
                for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_workers(server: Any, per_worker: list[list[socket.socket]],
                 on_ready: Callable[[], None] | None = None) -> int:
    """POSIX: fork a process per entry of ``per_worker``, serving on that entry's
    sockets (its own SO_REUSEPORT set, or the same shared sockets for all, as Apache's
    children share theirs); the parent forwards SIGINT/SIGTERM and Apache's control
    signals (HUP, USR1, WINCH: each worker reloads or stops gracefully by itself, under
    the sockets it keeps) and waits.

    Stop signals are blocked while forking, so none falls between a fork and the
    parent knowing the child's pid; a child unblocks them once its handlers are in.
    Each child closes the other workers' sockets and the parent closes them all once
    the children run: a socket whose worker has died then leaves the SO_REUSEPORT
    group instead of queueing connections nobody accepts.

    mod_status's scoreboard is made here, before the forks, so that every worker
    shares it: each counts in its own slot, any worker's report sums them all
    (``status.scoreboard``). A worker that ends leaves its counts; its requests and
    connections are cleared from it as the parent reaps it."""
    if sys.platform == "win32" or not hasattr(os, "fork"):
        with _quiet_signals(server.early_signals):
            server.run(sockets=per_worker[0])
        return 0
    every = {id(s): s for group in per_worker for s in group}
    children: list[int] = []
    board = Scoreboard(len(per_worker))
    pairs = Handoff.pairs(len(per_worker)) if getattr(server, "balance", False) else None

    def forward(sig: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)

    forwarded = (*_STOP_SIGNALS, *CONTROL_SIGNALS)
    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    status = 0
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, forwarded)
        try:
            for index, mine in enumerate(per_worker):
                pid = os.fork()
                if pid == 0:  # child
                    code = 0
                    try:
                        # the first worker writes the server's own notices
                        server.generations.speaker = index == 0
                        counters = status_of(server.generations.current.app)
                        if counters is not None:
                            counters.attach(board, index)
                        if pairs is not None:
                            server.handoff = Handoff(board, index, pairs)
                        for key, sock in every.items():
                            if all(key != id(s) for s in mine):
                                sock.close()
                        with _quiet_signals(server.early_signals), \
                                handling(server.generations):
                            signal.pthread_sigmask(signal.SIG_UNBLOCK, forwarded)
                            server.run(sockets=mine)
                    except SystemExit as exc:
                        code = 1 if exc.code else 0
                    except BaseException:
                        code = 1
                    os._exit(code)
                children.append(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, forwarded)
        for sock in every.values():
            sock.close()
        for pair in pairs or ():
            for end in pair:
                end.close()
        if on_ready is not None:
            # the sockets listen since before the fork: connections wait in the
            # backlog until a worker accepts them
            on_ready()
        slot_of = {child: index for index, child in enumerate(children)}
        while slot_of:
            try:
                child, st = os.waitpid(-1, 0)  # whichever ends first
            except InterruptedError:
                continue
            except ChildProcessError:  # none left (cannot happen while workers run)
                break
            if child not in slot_of:
                continue  # not a worker (PidFile's keeper)
            board.clear_gauges(slot_of.pop(child))
            if os.waitstatus_to_exitcode(st) not in (0, -signal.SIGTERM, -signal.SIGINT):
                status = 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
