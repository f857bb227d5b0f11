"""The directives Apache runs while it reads the files (EXEC_ON_READ, server/config.c
``ap_build_config_sub``): ``Define``/``UnDefine``, ``<IfDefine>``, ``<IfModule>``,
``<IfFile>``, ``<IfDirective>``, ``<IfSection>``, ``Include``/``IncludeOptional``
(core.c), ``ServerRoot`` (relative Includes follow it) and ``LoadModule`` (mod_so.c:
<IfModule> and "Invalid command" follow what is loaded so far).

Each is a table entry with a read action, which ``tree.expand`` calls with the node and
the ``ReadState`` as it meets the node; what the action returns takes the node's place.
Only ServerRoot and LoadModule keep their node for the second phase. Files are read only
through ``tree.include_files`` (the loader's ``FileSystem``)."""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import DIRECTIVES, check_arity, directive, on_read
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.modules import BUILTIN_MODULES, REGISTRY, matches_module
from cgihttpd.config.tree import (
    Node,
    ReadAction,
    ReadState,
    expand,
    include_files,
    normalise_path,
    server_root_relative,
)

# --- conditional sections --------------------------------------------------------------


def _negatable(arg: str) -> tuple[bool, str]:
    return (True, arg[1:]) if arg.startswith("!") else (False, arg)


def _missing_argument(node: Node) -> ConfigError:
    # core.c missing_container_arg names the section as Apache spells it ("<IfModule")
    name = DIRECTIVES[node.key].name
    return ConfigError(f"{name}> directive requires additional arguments")


def _condition(node: Node) -> str:
    # core.c start_ifmod & co: the first word counts, the rest is ignored
    if not node.args or node.args[0] == "":
        raise _missing_argument(node)
    return node.args[0]


def _contents(node: Node, state: ReadState, hit: bool) -> list[Node]:
    return expand(node.children or (), state) if hit else []


@on_read("<IfDefine", "RAW",
         "Container for directives based on existence of command line defines")
def _if_define(node: Node, state: ReadState) -> list[Node]:
    neg, name = _negatable(_condition(node))
    return _contents(node, state, (name in state.defines) != neg)


@on_read("<IfModule", "RAW", "Container for directives based on existence of specified "
         "modules")
def _if_module(node: Node, state: ReadState) -> list[Node]:
    neg, name = _negatable(_condition(node))
    return _contents(node, state, matches_module(name, state.loaded_names) != neg)


@on_read("<IfFile", "RAW", "Container for directives based on existence of files on disk")
def _if_file(node: Node, state: ReadState) -> list[Node]:
    neg, name = _negatable(_condition(node))
    path = server_root_relative(state.server_root, name)
    return _contents(node, state, state.fs.exists(path) != neg)


def _if_defined(prefix: str) -> ReadAction:
    """<IfDirective> (``prefix`` "") and <IfSection> (``prefix`` "<"): every word, each
    maybe negated, must hold."""

    def read(node: Node, state: ReadState) -> list[Node]:
        if not node.args:
            raise _missing_argument(node)
        hit = True
        for a in node.args:
            neg, name = _negatable(a)
            found = REGISTRY.lookup(prefix + name, state.loaded_names) is not None
            hit = hit and (found != neg)
        return _contents(node, state, hit)

    return read


on_read("<IfDirective", "RAW", "Container for directives based on existence of named "
        "directive")(
    _if_defined(""))
on_read("<IfSection", "RAW", "Container for directives based on existence of named section")(
    _if_defined("<"))

# --- variables ---------------------------------------------------------------------------


@on_read("Define", "TAKE12", "Define a variable, optionally to a value.  Same as passing -D "
         "to the command line.")
def _define(node: Node, state: ReadState) -> list[Node]:
    check_arity(DIRECTIVES[node.key], node)
    name = node.args[0]
    if ":" in name:
        raise ConfigError("Variable name must not contain ':'")
    if name not in state.defines:
        state.defines.append(name)
    if len(node.args) == 2:
        state.variables[name] = node.args[1]
    return []


@on_read("UnDefine", "TAKE1", "Undefine the existence of a variable. Undo a Define.")
def _undefine(node: Node, state: ReadState) -> list[Node]:
    check_arity(DIRECTIVES[node.key], node)
    name = node.args[0]
    if name in state.defines:
        state.defines.remove(name)
    state.variables.pop(name, None)
    return []


# --- files and modules -------------------------------------------------------------------


@on_read("Include", "TAKE1", "Name(s) of the config file(s) to be included; fails if the "
         "wildcard does not match at least one file")
def _include(node: Node, state: ReadState) -> list[Node]:
    check_arity(DIRECTIVES[node.key], node)
    return include_files(node.args[0], False, state)


@on_read("IncludeOptional", "TAKE1", "Name or pattern of the config file(s) to be "
         "included; ignored if the file does not exist or the pattern does not match any "
         "files")
def _include_optional(node: Node, state: ReadState) -> list[Node]:
    check_arity(DIRECTIVES[node.key], node)
    return include_files(node.args[0], True, state)


def _read_server_root(node: Node, state: ReadState) -> list[Node]:
    # it governs the relative Includes that follow; a wrong arity is reported when the
    # node is applied
    if len(node.args) == 1:
        state.server_root = normalise_path(node.args[0])
    return [node]


@directive("ServerRoot", "TAKE1", "Common directory of server-related files (logs, confs, "
           "etc.)", read=_read_server_root)
def _server_root(ctx: Ctx, node: Node) -> None:
    # later paths (PidFile, DocumentRoot, ...) are joined to it
    ctx.draft.server_root = normalise_path(node.args[0])


def _read_load_module(node: Node, state: ReadState) -> list[Node]:
    if len(node.args) != 2:
        raise ConfigError("LoadModule takes two arguments, a module name and the name of "
                          "a shared object file to load it from")
    name = node.args[0]
    if name in state.loaded:
        if name not in BUILTIN_MODULES:
            # mod_so.c AH01574 (a warning, the second LoadModule is skipped)
            state.warnings.append(f"{node.source}: module {name} is already loaded, skipping")
        return [node]
    if REGISTRY.module(name) is None:
        state.warnings.append(
            f"{node.source}: module {name} is not known to cgihttpd; it is treated as "
            "loaded for <IfModule>, but its directives are invalid commands")
    state.loaded[name] = node.source
    return [node]


@directive("LoadModule", "TAKE2", "a module name and the name of a shared object file to "
           "load it from", read=_read_load_module)
def _load_module(ctx: Ctx, node: Node) -> None:
    pass  # all done while reading; applying checks only where it stands
