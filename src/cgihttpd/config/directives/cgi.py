"""CGI: mod_cgi/mod_cgid (ScriptLog*, CGIScriptTimeout), core's CGIPassAuth and CGIVar,
mod_env (SetEnv, PassEnv, UnsetEnv: what reaches a script's environment) and
cgihttpd's own CGI directives (CGIPythonInterpreter, CGIWarmPython, CGIWarmPreload,
CGIMaxProcesses, CGIQueueTimeout, CGIQueueMemory, CGIDevMode)."""

from __future__ import annotations

import re

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import atoi, directive, flag, seconds
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node


@directive("CGIMaxProcesses", "TAKE1", "the most CGI processes running at once (cgihttpd)",
           global_only=True)
def _cgi_max(ctx: Ctx, node: Node) -> None:
    value = atoi(node.args[0])
    if value < 0 or not node.args[0].isdigit():
        raise ConfigError("CGIMaxProcesses must be a non-negative integer")
    ctx.draft.max_processes = value


@directive("CGIQueueTimeout", "TAKE1", "the longest a request waits for a CGI process slot "
           "(cgihttpd; default: Timeout)", global_only=True)
def _cgi_queue_timeout(ctx: Ctx, node: Node) -> None:
    ctx.draft.queue_timeout = seconds(node)


@directive("CGIQueueMemory", "TAKE1", "the memory the requests waiting for a CGI process "
           "slot may hold, in bytes (K, M, G: KiB, MiB, GiB) (cgihttpd)", global_only=True)
def _cgi_queue_memory(ctx: Ctx, node: Node) -> None:
    m = re.fullmatch(r"(\d+)([KMG]?)", node.args[0], re.IGNORECASE)
    if m is None:
        raise ConfigError("CGIQueueMemory must be a number of bytes, with K, M or G "
                          "for KiB, MiB or GiB")
    ctx.draft.queue_memory = int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[
        m.group(2).upper()]


@directive("ScriptLog", "TAKE1", "the name of a log for script debugging info")
def _script_log(ctx: Ctx, node: Node) -> None:
    ctx.server.script_log = ctx.root(node.args[0])


@directive("ScriptLogLength", "TAKE1", "the maximum length (in bytes) of the script debug log")
def _script_log_length(ctx: Ctx, node: Node) -> None:
    ctx.server.script_log_length = atoi(node.args[0])  # mod_cgi.c: atol


@directive("ScriptLogBuffer", "TAKE1", "the maximum size (in bytes) to record of a POST request")
def _script_log_buffer(ctx: Ctx, node: Node) -> None:
    ctx.server.script_log_buffer = atoi(node.args[0])  # mod_cgi.c: atoi


def _script_timeout(ctx: Ctx, node: Node) -> None:
    if ctx.section is not None:
        ctx.draft.warnings.append(f"{node.source}: {node.name} in {ctx.parent} applies to "
                                  "the whole server in cgihttpd")
    ctx.server.cgi_script_timeout = seconds(node)


directive("CGIScriptTimeout", "TAKE1", "The amount of time to wait between successful reads "
          "from the CGI script, in seconds.")(_script_timeout)
directive("CGIDScriptTimeout", "TAKE1", "The amount of time to wait between successful reads "
          "from the CGI script, in seconds.")(_script_timeout)


@directive("SetEnv", "TAKE12", "an environment variable name and optional value to pass to "
           "CGI.")
def _set_env(ctx: Ctx, node: Node) -> None:
    value = node.args[1] if len(node.args) == 2 else ""
    ctx.set_dir(env=ctx.dir.env + (("set", node.args[0], value),))


@directive("PassEnv", "ITERATE", "a list of environment variables to pass to CGI.")
def _pass_env(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(env=ctx.dir.env + tuple(("pass", n, "") for n in node.args))


@directive("UnsetEnv", "ITERATE", "a list of variables to remove from the CGI environment.")
def _unset_env(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(env=ctx.dir.env + tuple(("unset", n, "") for n in node.args))


@directive("CGIPassAuth", "FLAG", "Controls whether HTTP authorization headers, normally "
           "hidden, will be passed to scripts")
def _cgi_pass_auth(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(cgi_pass_auth=flag(node))


@directive("CGIVar", "TAKE2", "Controls how some CGI variables are set")
def _cgi_var(ctx: Ctx, node: Node) -> None:
    var, rule = node.args
    # core.c set_cgi_var: only REQUEST_URI, with original-uri or current-uri
    if var != "REQUEST_URI":
        raise ConfigError(f"Unrecognized CGI variable: \"{var}\"")
    if rule.lower() not in ("original-uri", "current-uri"):
        raise ConfigError("Valid rules for REQUEST_URI are 'current-uri' and 'original-uri'")
    ctx.set_dir(cgi_vars=ctx.dir.cgi_vars + ((var, rule.lower()),))


@directive("CGIPythonInterpreter", "TAKE1", "the Python that runs scripts whose #! names "
           "another Python (cgihttpd)")
def _cgi_python(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(cgi_python=node.args[0])


@directive("CGIWarmPreload", "ITERATE", "modules the warm Python pool imports in advance "
           "(cgihttpd)")
def _cgi_warm_preload(ctx: Ctx, node: Node) -> None:
    # One pool serves every virtual host, so the lists of all servers accumulate.
    for name in node.args:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
            raise ConfigError(f"CGIWarmPreload: '{name}' is not a Python module name")
        if name not in ctx.draft.warm_preload:
            ctx.draft.warm_preload.append(name)


@directive("CGIWarmPython", "FLAG", "run Python CGI scripts in warm interpreters (cgihttpd)")
def _cgi_warm(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(cgi_warm_python=flag(node))


@directive("CGIDevMode", "FLAG", "explain a failing script in its 500 page and pick up "
           "configuration edits without a restart (cgihttpd)", global_only=True)
def _cgi_dev_mode(ctx: Ctx, node: Node) -> None:
    ctx.draft.dev_mode = flag(node)
