"""The ``cgihttpd`` command: argv -> ``Options`` -> ``ServerConfig`` -> ``server.run``.

Flags follow Apache's ``httpd`` where it has one (``-d``, ``-f``, ``-D``, ``-t``, ``-S``, ``-v``,
``-X``); ``-l/--listen``, the positional DIR (zero-config mode) and the commands
``init`` and ``hosts`` (``starter.commands``; a first argument of that name, so a folder
called ``init`` is served as ``./init``) are ours. argv is parsed once into one
``Options`` value (``parse_args``) and merged over the configuration in one function
(``build_config``). Start-up problems are printed one per line on stderr
with exit status 1, never as a traceback.

Must not know how configs are parsed or requests served: it calls ``load_config`` /
``folder_config`` / ``describe`` (config) and ``App`` (app).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cgihttpd import control, platform
from cgihttpd.banner import server_software
from cgihttpd.config.errors import ConfigError, ConfigErrors
from cgihttpd.config.model import Address, ServerConfig
from cgihttpd.config.readtimeout import ReadTimeout

#: zero-config mode listens here unless -l says otherwise (README: make run)
DEFAULT_LISTEN = Address("127.0.0.1", 8080)
#: test hooks: override the configuration's RequestReadTimeout header= / body= stage
#: (the same syntax, "2-4,MinRate=500" etc.) without writing a config file
ENV_HEADER_TIMEOUT = "CGIHTTPD_HEADER_TIMEOUT"
ENV_BODY_TIMEOUT = "CGIHTTPD_BODY_TIMEOUT"


class UsageError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Options:
    """Everything the command line says."""

    docroot: str | None = None
    conf: str | None = None
    server_root: str | None = None  # -d
    defines: tuple[str, ...] = ()
    listens: tuple[Address, ...] = ()
    check: bool = False  # -t
    dump: bool = False  # -S
    version: bool = False  # -v
    workers: int = 0  # 0: auto (server.auto_workers); -X forces 1
    app: str | None = None  # hidden: serve another ASGI app (tests)
    verb: str | None = None  # -k start|stop|restart|graceful|graceful-stop
    before: tuple[str, ...] = ()  # -C: directives read before the file
    after: tuple[str, ...] = ()  # -c: ... and after it
    single: bool = False  # -X (Apache: one process, in the foreground)
    dev: bool = False  # --dev: dev mode over any configuration (CGIDevMode On)


def parse_listen(text: str) -> Address:
    """``HOST:PORT``, ``[V6]:PORT``, ``PORT`` (all interfaces) or ``*:PORT``."""
    text = text.strip()
    host, port_text = "*", text
    if text.startswith("["):
        end = text.find("]")
        if end == -1 or not text[end + 1:].startswith(":"):
            raise UsageError(f"bad listen address {text!r}: use [ADDR]:PORT")
        host, port_text = text[: end + 1], text[end + 2:]
    elif ":" in text:
        host, port_text = text.rsplit(":", 1)
        if ":" in host:
            raise UsageError(f"bad listen address {text!r}: write IPv6 as [ADDR]:PORT")
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"bad listen address {text!r}: the port must be a number") from None
    if not 0 <= port <= 65535:
        raise UsageError(f"bad listen address {text!r}: port out of range")
    return Address(host or "*", port)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cgihttpd",
        description="A CGI/1.1 web server configured with Apache httpd 2.4 files.",
        epilog="Zero-config: 'cgihttpd [DIR]' serves DIR (default: the built-in demo site). "
               "'cgihttpd init DIR' writes the course's site; 'cgihttpd hosts NAME' the "
               "hosts-file lines for a name (each takes --help).",
    )
    p.add_argument("docroot", nargs="?", metavar="DIR",
                   help="serve this folder with the zero-config defaults")
    p.add_argument("-f", dest="conf", metavar="CONF", help="run from an Apache config file")
    p.add_argument("-d", dest="server_root", metavar="SERVERROOT",
                   help="the initial ServerRoot (a relative -f CONF is found there)")
    p.add_argument("-C", dest="before", metavar="DIRECTIVE", action="append", default=[],
                   help="process DIRECTIVE before reading the config file")
    p.add_argument("-c", dest="after", metavar="DIRECTIVE", action="append", default=[],
                   help="process DIRECTIVE after reading the config file")
    p.add_argument("-D", dest="defines", metavar="NAME", action="append", default=[],
                   help="define NAME for <IfDefine> (-DFOREGROUND is accepted)")
    p.add_argument("-l", "--listen", dest="listens", metavar="HOST:PORT", action="append",
                   default=[], help="listen here instead of the config's Listen")
    p.add_argument("-t", dest="check", action="store_true",
                   help="check the configuration and exit")
    p.add_argument("-S", dest="dump", action="store_true",
                   help="show listeners and virtual hosts and exit")
    p.add_argument("-v", dest="version", action="store_true", help="show the version")
    p.add_argument("-X", dest="single", action="store_true",
                   help="one process, in the foreground")
    p.add_argument("-k", dest="verb", choices=control.VERBS, metavar="VERB",
                   help="start, or signal the server named by PidFile: stop, restart, "
                   "graceful, graceful-stop (start detaches unless -DFOREGROUND)")
    p.add_argument("--workers", type=_workers_arg, default=0, metavar="N|auto",
                   help="worker processes sharing the sockets (POSIX; default auto: "
                        "one per core, at most 8; 1 in dev mode)")
    p.add_argument("--dev", action="store_true",
                   help="dev mode: failing scripts explained in the browser, config "
                        "edits picked up without a restart (on for DIR; CGIDevMode On)")
    p.add_argument("--app", help=argparse.SUPPRESS)
    return p


def _workers_arg(text: str) -> int:
    """``--workers``: a number (at least 1) or ``auto`` (0: decided at start)."""
    if text.strip().lower() == "auto":
        return 0
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number nor 'auto': {text!r}") from None
    return n if n >= 1 else -1


#: the environment's default for --workers (a number or auto), as Debian's
#: /etc/apache2/envvars sets Apache's: for a service manager's Environment=
WORKERS_VAR = "CGIHTTPD_WORKERS"


def _workers_from_env(environ: Mapping[str, str]) -> int:
    """``CGIHTTPD_WORKERS`` as ``--workers`` reads it (0: auto or unset)."""
    text = environ.get(WORKERS_VAR, "").strip()
    if not text:
        return 0
    try:
        n = _workers_arg(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{WORKERS_VAR}: {exc}") from None
    if n < 0:
        raise UsageError(f"{WORKERS_VAR} must be at least 1")
    return n


def parse_args(argv: Sequence[str]) -> Options:
    """argv -> Options. Raises ``UsageError`` (argparse errors exit 2 by themselves)."""
    ns = _parser().parse_args(list(argv))
    if ns.docroot and ns.conf:
        raise UsageError("give either DIR (zero-config) or -f CONF, not both")
    if ns.server_root and not ns.conf:
        raise UsageError("-d SERVERROOT goes with -f CONF")
    if (ns.before or ns.after) and not ns.conf:
        raise UsageError("-C and -c go with -f CONF")
    if ns.workers < 0:
        raise UsageError("--workers must be at least 1")
    # apachectl -S is "httpd -t -D DUMP_VHOSTS"
    dump = ns.dump or (ns.check and "DUMP_VHOSTS" in ns.defines)
    return Options(
        docroot=ns.docroot,
        conf=ns.conf,
        server_root=ns.server_root,
        defines=tuple(ns.defines),
        listens=tuple(parse_listen(x) for x in ns.listens),
        check=ns.check and not dump,
        dump=dump,
        version=ns.version,
        workers=1 if ns.single else ns.workers,
        app=ns.app,
        verb=ns.verb,
        single=ns.single,
        before=tuple(ns.before),
        after=tuple(ns.after),
        dev=ns.dev,
    )


def demo_root() -> str:
    """The built-in demo site shipped inside the package."""
    return str(Path(__file__).resolve().parent / "demo")


def build_config(opts: Options, environ: dict[str, str] | None = None) -> ServerConfig:
    """Options merged over the configuration: the one place flags meet the config."""
    env = dict(os.environ if environ is None else environ)
    if opts.conf:
        from cgihttpd.config.loader import load_config

        # httpd -S defines DUMP_VHOSTS and DUMP_RUN_CFG (main.c), as apachectl -S does
        dump = ("DUMP_VHOSTS", "DUMP_RUN_CFG") if opts.dump else ()
        defines = opts.defines + tuple(d for d in dump if d not in opts.defines)
        config = load_config(opts.conf, defines, env, opts.server_root,
                             before=opts.before, after=opts.after)
        if opts.listens:
            config = config.with_listens(opts.listens)
        if opts.dev:
            config = replace(config, dev_mode=True)
        return config
    docroot = os.path.abspath(opts.docroot or demo_root())
    if not os.path.isdir(docroot):
        raise ConfigError(f"DocumentRoot does not exist: {docroot}")
    listens = opts.listens or (DEFAULT_LISTEN,)
    if opts.app:
        config = bare_config(docroot, listens[0])
    else:
        from cgihttpd.config.zeroconf import folder_config

        config = folder_config(docroot, listens[0])
    if len(listens) > 1:
        config = config.with_listens(listens)
    return config


def bare_config(docroot: str, listen: Address) -> ServerConfig:
    """Apache's defaults and nothing else: what --app (another ASGI app) runs with."""
    from cgihttpd.config.model import BUILTIN, DirConf, Limits, VirtualHost

    main = VirtualHost(
        addresses=(), server_name="localhost", server_aliases=(), server_admin="",
        document_root=docroot, error_log="/dev/stderr", log_level="warn", custom_logs=(),
        aliases=(), base=DirConf(), sections=(), timeout=60.0, keepalive=True,
        keepalive_timeout=5.0, max_keepalive_requests=100, server_signature="off",
        cgi_script_timeout=None, script_log=None, source=BUILTIN, is_main=True)
    return ServerConfig(
        server_root=docroot, files=(), listens=(listen,), main=main, vhosts=(),
        limits=Limits(), server_tokens="Full", user=None, group=None, pid_file=None,
        modules=frozenset(), mime_types=())


def load_app_spec(spec: str) -> Any:
    """``module:attr`` or ``path/file.py:attr`` (the hidden --app, for tests)."""
    target, _, attr = spec.rpartition(":")
    if not target:
        raise UsageError("--app wants module:attr")
    if target.endswith(".py"):
        mod_spec = importlib.util.spec_from_file_location("cgihttpd_user_app", target)
        if mod_spec is None or mod_spec.loader is None:
            raise UsageError(f"cannot load {target}")
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, attr)


def _print_errors(exc: BaseException) -> None:
    if isinstance(exc, ConfigErrors):
        for err in exc.errors:
            print(str(err), file=sys.stderr)
    else:
        print(f"cgihttpd: {exc}", file=sys.stderr)


def _print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


def _timeouts(env: dict[str, str]) -> tuple[ReadTimeout | None, ReadTimeout | None]:
    out: list[ReadTimeout | None] = []
    for name in (ENV_HEADER_TIMEOUT, ENV_BODY_TIMEOUT):
        value = env.get(name)
        try:
            out.append(ReadTimeout.parse(value) if value else None)
        except ValueError as exc:
            raise UsageError(f"{name}={value!r}: {exc}") from None
    return out[0], out[1]


def main(argv: Sequence[str] | None = None) -> int:
    from cgihttpd import server

    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("init", "hosts"):
        from cgihttpd.starter.commands import run_command

        return run_command(args)
    try:
        opts = parse_args(args)
    except UsageError as exc:
        print(f"cgihttpd: {exc}", file=sys.stderr)
        return 1
    if opts.version:
        print(f"Server version: {server_software('Full')}")
        return 0
    try:
        header_timeout, body_timeout = _timeouts(dict(os.environ))
        config = build_config(opts)
        # --workers auto (the default): one per core as nginx's worker_processes
        # auto; one process in dev mode (one place that reloads and explains) and
        # where scripts start the Windows way (no fork)
        workers = opts.workers or _workers_from_env(os.environ) or (
            1 if config.dev_mode or platform.windows_rules() else server.auto_workers())
        config = replace(config, workers=workers)
        # Apache prints its start-up warnings (AH00558, AH00112...) on stderr, for -t and
        # -S too
        _print_warnings(config.warnings)
        if opts.check or opts.dump:
            from cgihttpd.logs.writer import check_log_directories

            if opts.dump:
                from cgihttpd.config.report import describe

                # the report ends with its own newline, as apache2 -S's does
                print(describe(config), end="", flush=True)
            # apache2 -t and -S fail on a log directory that does not exist (AH02291,
            # AH02297), as the start would
            check_log_directories(config)
            if opts.check:
                print("Syntax OK", file=sys.stderr)  # apache2 -t: on stderr
            return 0
        if config.dev_mode:  # CGIDevMode On, --dev, a zero-config folder
            from cgihttpd.logs.writer import create_log_directories

            _print_warnings(create_log_directories(config))
        factory: server.AppFactory
        rebuild: Any = None
        if opts.app:
            user_app = load_app_spec(opts.app)

            def factory(_config: ServerConfig) -> Any:
                return user_app
        else:
            from cgihttpd.app import App

            def factory(cfg: ServerConfig) -> Any:
                app = App.build(cfg)
                _print_warnings(app.logs.warnings)  # the logs' own (syslog...)
                if cfg.dev_mode and cfg.files:
                    # dev mode: an edited httpd.conf is picked up without a restart
                    return DevReload(app, lambda: build_config(opts), App.build)
                return app

            def rebuild(old: Any) -> tuple[ServerConfig, Any]:
                """A reload: the configuration read again and checked as -t does, the
                new application on the old one's launcher (reload.py)."""
                from cgihttpd.logs.writer import check_log_directories

                cfg = replace(build_config(opts), workers=workers)
                if opts.verb:
                    cfg = with_pid_file(cfg)
                check_log_directories(cfg)
                current = getattr(old, "app", old)  # DevReload holds the App
                launcher = getattr(getattr(current, "runtime", None), "launcher", None)
                app = App.build(cfg, launcher=launcher)
                if cfg.dev_mode and cfg.files:
                    return cfg, DevReload(app, lambda: build_config(opts), App.build)
                return cfg, app
        conf_path = os.path.join(opts.server_root or "", opts.conf or "")
        where = f"config {os.path.abspath(conf_path)}" if opts.conf else (
            f"folder {config.main.document_root}")

        def start(on_ready: Any = None) -> int:
            return server.run(config, factory, workers=workers,
                              header_timeout=header_timeout, body_timeout=body_timeout,
                              announce=where, rebuild=rebuild, on_ready=on_ready)

        if opts.verb:
            config = with_pid_file(config)
            plan = control.plan_verb(opts.verb, pid_status(config.pid_file or ""))
            if plan.say:
                print(plan.say)
            if plan.signal and plan.pid:
                return send_signal(plan.pid, plan.signal)
            if not plan.start:
                return plan.status
            if not foreground(opts):
                return detach(start)
        return start()
    except (ConfigError, ConfigErrors, server.StartupError, UsageError) as exc:
        _print_errors(exc)
        return 1
    except OSError as exc:
        print(f"cgihttpd: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def with_pid_file(config: ServerConfig) -> ServerConfig:
    """``-k``: the PidFile names the server, Apache's default (logs/httpd.pid under
    ServerRoot) where the configuration has none. (Run without ``-k``, only a
    configured PidFile is written: the foreground server of zero-config mode leaves
    nothing behind.)"""
    from dataclasses import replace

    if config.pid_file:
        return config
    return replace(config, pid_file=os.path.join(config.server_root,
                                                 control.DEFAULT_PID_FILE))


def pid_status(path: str) -> control.PidStatus:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            pid = control.parse_pid(f.read(64))
    except OSError:
        pid = None
    if pid is None:
        return control.PidStatus(None, False)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return control.PidStatus(pid, False)
    except PermissionError:  # someone else's process: it runs
        pass
    except OSError:
        return control.PidStatus(pid, False)
    return control.PidStatus(pid, True)


def send_signal(pid: int, name: str) -> int:
    import signal

    sig = getattr(signal, name, None)
    if sig is None:
        print(f"cgihttpd: {name} does not exist on this platform", file=sys.stderr)
        return 1
    try:
        os.kill(pid, sig)
    except OSError as exc:
        print(f"cgihttpd: could not send {name} to pid {pid}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0


def foreground(opts: Options) -> bool:
    """Apache's -DFOREGROUND / -DNO_DETACH / -X keep ``-k start`` attached (systemd's
    Type=notify, a container); there is no detaching without fork."""
    return (opts.single or bool({"FOREGROUND", "NO_DETACH", "ONE_PROCESS"} & set(opts.defines))
            or not hasattr(os, "fork"))


def detach(start: Any) -> int:
    """``-k start``: run the server as a daemon (its own session, stdin from /dev/null)
    and return once it serves - 0 - or has failed - 1, its start-up errors printed
    here first. Once it serves, its stdout and stderr go to /dev/null: the error log
    is where it speaks (Apache detaches the same way)."""
    if sys.platform == "win32":  # no fork: foreground() said so already
        return int(start(None))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        os.waitpid(pid, 0)  # the first child exits once the daemon is forked
        # "ready" from the daemon (from each worker with --workers: the first will
        # do), or end of file when every process holding the pipe has died
        said = b""
        while len(said) < len(b"ready") and (chunk := os.read(read_end, 16)):
            said += chunk
        os.close(read_end)
        return 0 if said.startswith(b"ready") else 1
    os.close(read_end)
    code = 1
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)

        def ready() -> None:
            with contextlib.suppress(OSError):  # another worker said it first
                os.write(write_end, b"ready")
                os.close(write_end)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)

        code = start(ready)
    except BaseException as exc:  # noqa: BLE001 - printed before the daemon detaches
        _print_errors(exc)
        code = 1
    finally:
        os._exit(code)


class DevReload:
    """Dev mode's ASGI app: the configuration files are looked at (their mtime and
    size) at most every ``RELOAD_CHECK`` seconds, when a request comes; once they
    changed, the configuration is read again and a new App built from it serves the
    next requests (the script launcher is kept: its warm interpreters serve any
    configuration). Requests under way finish on the old App, whose logs are closed
    when its last request ends. A configuration that no longer loads is reported on
    stderr, once per change, and the old one keeps serving. Listen addresses are
    bound once: a changed Listen needs a restart."""

    RELOAD_CHECK = 1.0

    def __init__(self, app: Any, load: Any, build: Any) -> None:
        self.app = app
        self._load = load  # () -> ServerConfig
        self._build = build  # (config, launcher=) -> App
        self._stamps = _stamps(app.config.files)
        self._next_check = 0.0
        self._active: dict[int, int] = {}
        self._retired: list[Any] = []

    @property
    def config(self) -> ServerConfig:
        return self.app.config  # type: ignore[no-any-return]

    @property
    def logs(self) -> Any:
        return self.app.logs

    def log_protocol_error(self, event: Any) -> None:
        from cgihttpd.server import protocol_error_logger

        log = protocol_error_logger(self.app)
        if log is not None:
            log(event)

    def reload_if_changed(self, now: float) -> bool:
        """Rebuild the App if a configuration file changed; True if it was."""
        if now < self._next_check:
            return False
        self._next_check = now + self.RELOAD_CHECK
        stamps = _stamps(self.app.config.files)
        if stamps == self._stamps:
            return False
        self._stamps = stamps
        try:
            config = self._load()
            app = self._build(config, launcher=self.app.runtime.launcher)
        except (ConfigError, ConfigErrors, OSError) as exc:
            print("cgihttpd: the edited configuration does not load; still serving the "
                  "previous one:", file=sys.stderr)
            _print_errors(exc)
            return False
        _print_warnings(config.warnings)
        print(f"cgihttpd: configuration reloaded ({', '.join(config.files)})",
              file=sys.stderr)
        from cgihttpd.reload import carry_status

        carry_status(self.app, app, graceful=True)  # an edit is a graceful reload
        self._retire(self.app)
        self.app = app
        self._stamps = _stamps(config.files)
        return True

    def _retire(self, app: Any) -> None:
        if self._active.get(id(app), 0):
            self._retired.append(app)
        else:
            app.close()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan lasts as long as the server
            await self.app(scope, receive, send)
            return
        import time

        self.reload_if_changed(time.monotonic())
        app = self.app
        key = id(app)
        self._active[key] = self._active.get(key, 0) + 1
        try:
            await app(scope, receive, send)
        finally:
            self._active[key] -= 1
            if not self._active[key]:
                del self._active[key]
                if app in self._retired:
                    self._retired.remove(app)
                    app.close()

    def close(self) -> None:
        for app in (*self._retired, self.app):
            app.close()


def _stamps(files: Sequence[str]) -> tuple[tuple[str, int, int], ...]:
    """What tells that a configuration file changed: its mtime and size."""
    out = []
    for name in files:
        try:
            st = os.stat(name)
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, -1, -1))
    return tuple(out)


def console_main() -> None:
    sys.exit(main())
