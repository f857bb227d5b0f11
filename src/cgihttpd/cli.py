"""The ``cgihttpd`` command: argv -> ``Options`` -> ``ServerConfig`` -> ``server.run``.

Flags follow Apache's ``httpd`` where it has one (``-f``, ``-D``, ``-t``, ``-S``, ``-v``,
``-X``); ``-l/--listen`` and the positional DIR (zero-config mode) are ours. argv is
parsed once into one ``Options`` value (``parse_args``) and merged over the configuration
in one function (``build_config``). Start-up problems are printed one per line on stderr
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cgihttpd import control
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
    defines: tuple[str, ...] = ()
    listens: tuple[Address, ...] = ()
    check: bool = False  # -t
    dump: bool = False  # -S
    version: bool = False  # -v
    workers: int = 1  # -X forces 1
    app: str | None = None  # hidden: serve another ASGI app (tests)
    verb: str | None = None  # -k start|stop|restart|graceful|graceful-stop
    server_root: str | None = None  # -d
    before: tuple[str, ...] = ()  # -C: directives read before the file
    after: tuple[str, ...] = ()  # -c: ... and after it
    single: bool = False  # -X (Apache: one process, in the foreground)


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
        epilog="Zero-config: 'cgihttpd [DIR]' serves DIR (default: the built-in demo site).",
    )
    p.add_argument("docroot", nargs="?", metavar="DIR",
                   help="serve this folder with the zero-config defaults")
    p.add_argument("-f", dest="conf", metavar="CONF", help="run from an Apache config file")
    p.add_argument("-d", dest="server_root", metavar="SERVERROOT",
                   help="the initial ServerRoot (-f is relative to it)")
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
                   help="one process (the default), in the foreground")
    p.add_argument("-k", dest="verb", choices=control.VERBS, metavar="VERB",
                   help="start, or signal the server named by PidFile: stop, restart, "
                   "graceful, graceful-stop (start detaches unless -DFOREGROUND)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes sharing the sockets (POSIX)")
    p.add_argument("--app", help=argparse.SUPPRESS)
    return p


def parse_args(argv: Sequence[str]) -> Options:
    """argv -> Options. Raises ``UsageError`` (argparse errors exit 2 by themselves)."""
    ns = _parser().parse_args(list(argv))
    if ns.docroot and ns.conf:
        raise UsageError("give either DIR (zero-config) or -f CONF, not both")
    if (ns.server_root or ns.before or ns.after) and not ns.conf:
        raise UsageError("-d, -C and -c go with -f CONF")
    if ns.workers < 1:
        raise UsageError("--workers must be at least 1")
    # apachectl -S is "httpd -t -D DUMP_VHOSTS"
    dump = ns.dump or (ns.check and "DUMP_VHOSTS" in ns.defines)
    return Options(
        docroot=ns.docroot,
        conf=ns.conf,
        defines=tuple(ns.defines),
        listens=tuple(parse_listen(x) for x in ns.listens),
        check=ns.check and not dump,
        dump=dump,
        version=ns.version,
        workers=1 if ns.single else ns.workers,
        app=ns.app,
        verb=ns.verb,
        single=ns.single,
        server_root=ns.server_root,
        before=tuple(ns.before),
        after=tuple(ns.after),
    )


def demo_root() -> str:
    """The built-in demo site shipped inside the package."""
    return str(Path(__file__).resolve().parent / "demo")


def build_config(opts: Options, environ: dict[str, str] | None = None) -> ServerConfig:
    """Options merged over the configuration: the one place flags meet the config."""
    env = dict(os.environ if environ is None else environ)
    if opts.conf:
        from cgihttpd.config.loader import load_config

        config = load_config(opts.conf, opts.defines, env, server_root=opts.server_root,
                             before=opts.before, after=opts.after)
        if opts.listens:
            config = config.with_listens(opts.listens)
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
        # Apache prints its start-up warnings (AH00558, AH00112...) on stderr, for -t and
        # -S too
        _print_warnings(config.warnings)
        if opts.check or opts.dump:
            from cgihttpd.logs.writer import check_log_directories

            if opts.dump:
                from cgihttpd.config.report import describe

                print(describe(config), flush=True)
            # apache2 -t and -S fail on a log directory that does not exist (AH02291,
            # AH02297), as the start would
            check_log_directories(config)
            if opts.check:
                print("Syntax OK", file=sys.stderr)  # apache2 -t: on stderr
            return 0
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
                return app

            def rebuild(old: Any) -> tuple[ServerConfig, Any]:
                """A reload: the configuration read again and checked as -t does, the
                new application on the old one's launcher (reload.py)."""
                from cgihttpd.logs.writer import check_log_directories

                cfg = build_config(opts)
                if opts.verb:
                    cfg = with_pid_file(cfg)
                check_log_directories(cfg)
                launcher = getattr(getattr(old, "runtime", None), "launcher", None)
                return cfg, App.build(cfg, launcher=launcher)
        where = f"config {config.files[0]}" if opts.conf and config.files else (
            f"folder {config.main.document_root}")

        def start(on_ready: Any = None) -> int:
            return server.run(config, factory, workers=opts.workers,
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


def console_main() -> None:
    sys.exit(main())
