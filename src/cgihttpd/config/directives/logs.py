"""ErrorLog and LogLevel (core) and mod_log_config's LogFormat, CustomLog and
TransferLog. Formats are resolved by nickname in ``loader``; no file is opened here."""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx, PendingLog
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errorformat import ErrorFormatError, parse_error_log_format
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node
from cgihttpd.expr import ExprError, parse_expr


@directive("ErrorLog", "TAKE1", "The filename of the error log")
def _error_log(ctx: Ctx, node: Node) -> None:
    target = node.args[0]
    if not (target.startswith("|") or target.startswith("syslog")):
        target = ctx.root(target)
    ctx.server.error_log = target
    ctx.server.error_log_source = node.source


LOG_LEVELS = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
              *(f"trace{i}" for i in range(1, 9)))


@directive("LogLevel", "ITERATE", "Level of verbosity in error logging")
def _log_level(ctx: Ctx, node: Node) -> None:
    for arg in node.args:
        level = arg.rpartition(":")[2].lower()
        if level not in LOG_LEVELS:
            raise ConfigError("LogLevel requires level keyword: one of emerg/alert/crit/"
                              "error/warn/notice/info/debug/trace1/trace2/trace3/trace4/"
                              "trace5/trace6/trace7/trace8")
        if ":" not in arg:
            if ctx.section is not None:
                ctx.ignore(node, "core_module")
                return
            ctx.server.log_level = level
    if any(":" in a for a in node.args):
        ctx.draft.ignored.setdefault("core_module", []).append(
            ("LogLevel module:level", node.source))


@directive("LogFormat", "TAKE12", "a log format string (see docs) and an optional format name")
def _log_format(ctx: Ctx, node: Node) -> None:
    if len(node.args) == 2:
        ctx.server.log_formats[node.args[1]] = node.args[0]
    else:
        ctx.server.default_format = node.args[0]


def _log_target(ctx: Ctx, target: str) -> str:
    return target if target.startswith("|") else ctx.root(target)


@directive("ErrorLogFormat", "TAKE12", "Format string for the ErrorLog")
def _error_log_format(ctx: Ctx, node: Node) -> None:
    if len(node.args) == 2:
        if node.args[0].lower() not in ("connection", "request"):
            raise ConfigError("ErrorLogFormat type must be one of request, connection")
        # the once-per-connection/request lines: not written by cgihttpd
        ctx.ignore(node, "core_module")
        return
    try:
        parse_error_log_format(node.args[0])
    except ErrorFormatError as exc:
        raise ConfigError(str(exc)) from None
    ctx.server.error_log_format = node.args[0]


@directive("CustomLog", "TAKE23", "a file name, a custom log format string or format name, "
           "and an optional \"env=\" or \"expr=\" clause (see docs)")
def _custom_log(ctx: Ctx, node: Node) -> None:
    cond = node.args[2] if len(node.args) == 3 else None
    if cond is not None and not (cond.startswith("env=") or cond.startswith("expr=")):
        raise ConfigError("error in condition clause")
    if cond is not None and cond.startswith("expr="):
        try:
            parse_expr(cond[5:])
        except ExprError as exc:
            raise ConfigError(f"Cannot parse condition clause: {exc}") from None
    ctx.server.custom_logs.append(
        PendingLog(_log_target(ctx, node.args[0]), node.args[1], cond, node.source))


@directive("TransferLog", "TAKE1", "the filename of the access log")
def _transfer_log(ctx: Ctx, node: Node) -> None:
    ctx.server.custom_logs.append(
        PendingLog(_log_target(ctx, node.args[0]), None, None, node.source))
