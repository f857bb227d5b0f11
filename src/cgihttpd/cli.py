"""The ``cgihttpd`` command: argv -> ``Options`` -> ``ServerConfig`` -> ``server.run``.

Flags follow Apache's ``httpd`` where it has one (``-d``, ``-f``, ``-D``, ``-t``, ``-S``, ``-v``,
``-X``); ``-l/--listen`` and the positional DIR (zero-config mode) are ours. argv is
parsed once into one ``Options`` value (``parse_args``) and merged over the configuration
in one function (``build_config``). Start-up problems are printed one per line on stderr
with exit status 1, never as a traceback.

Must not know how configs are parsed or requests served: it calls ``load_config`` /
``folder_config`` / ``describe`` (config) and ``App`` (app).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    workers: int = 1  # -X forces 1
    app: str | None = None  # hidden: serve another ASGI app (tests)


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
                   help="the initial ServerRoot (a relative -f CONF is found there)")
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
                   help="one process (the default)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes sharing the sockets (POSIX)")
    p.add_argument("--app", help=argparse.SUPPRESS)
    return p


def parse_args(argv: Sequence[str]) -> Options:
    """argv -> Options. Raises ``UsageError`` (argparse errors exit 2 by themselves)."""
    ns = _parser().parse_args(list(argv))
    if ns.docroot and ns.conf:
        raise UsageError("give either DIR (zero-config) or -f CONF, not both")
    if ns.server_root and not ns.conf:
        raise UsageError("-d SERVERROOT goes with -f CONF")
    if ns.workers < 1:
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
        config = load_config(opts.conf, defines, env, opts.server_root)
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

                # the report ends with its own newline, as apache2 -S's does
                print(describe(config), end="", flush=True)
            # apache2 -t and -S fail on a log directory that does not exist (AH02291,
            # AH02297), as the start would
            check_log_directories(config)
            if opts.check:
                print("Syntax OK", file=sys.stderr)  # apache2 -t: on stderr
            return 0
        factory: server.AppFactory
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
        conf_path = os.path.join(opts.server_root or "", opts.conf or "")
        where = f"config {os.path.abspath(conf_path)}" if opts.conf else (
            f"folder {config.main.document_root}")
        return server.run(config, factory, workers=opts.workers,
                          header_timeout=header_timeout, body_timeout=body_timeout,
                          announce=where)
    except (ConfigError, ConfigErrors, server.StartupError, UsageError) as exc:
        _print_errors(exc)
        return 1
    except OSError as exc:
        print(f"cgihttpd: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def console_main() -> None:
    sys.exit(main())
