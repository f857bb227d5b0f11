"""What a file is and how a directory answers: mod_mime (TypesConfig, AddType,
RemoveType, AddCharset, RemoveCharset, ForceType, AddHandler, RemoveHandler, SetHandler), mod_dir (DirectoryIndex,
DirectorySlash, FallbackResource), core's AddDefaultCharset and ErrorDocument."""

from __future__ import annotations

import re
from http import HTTPStatus

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive, flag
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.tree import Node


@directive("TypesConfig", "TAKE1", "the MIME types config file")
def _types_config(ctx: Ctx, node: Node) -> None:
    ctx.draft.types_config = (ctx.root(node.args[0]), node.source)


@directive("DirectoryIndex", "RAW", "a list of file names")
def _directory_index(ctx: Ctx, node: Node) -> None:
    if not node.args:
        return  # mod_dir add_index: nothing to add (apache2 -t accepts it)
    if len(node.args) == 1 and node.args[0].lower() == "disabled":
        # mod_dir add_index: "disabled" alone clears the list
        ctx.set_dir(directory_index=())
        return
    # mod_dir add_index: several DirectoryIndex in one context add up
    ctx.set_dir(directory_index=(ctx.dir.directory_index or ()) + tuple(node.args))


@directive("DirectorySlash", "FLAG", "On or Off")
def _directory_slash(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(directory_slash=flag(node))


@directive("FallbackResource", "TAKE1", "Set a default handler")
def _fallback_resource(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(fallback_resource=node.args[0])


def _ext(word: str) -> str:
    # mod_mime add_extension_info: one leading dot is optional; case-insensitive
    return "." + (word[1:] if word.startswith(".") else word).lower()


@directive("AddHandler", "ITERATE2", "a handler name followed by one or more file extensions")
def _add_handler(ctx: Ctx, node: Node) -> None:
    handler = node.args[0].lower()
    ctx.set_dir(add_handlers=ctx.dir.add_handlers
                + tuple((_ext(e), handler) for e in node.args[1:]))


@directive("RemoveHandler", "ITERATE", "one or more file extensions")
def _remove_handler(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(remove_handlers=ctx.dir.remove_handlers + tuple(_ext(e) for e in node.args))


@directive("SetHandler", "TAKE1", "a handler name that overrides any other configured handler")
def _set_handler(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(set_handler=node.args[0].lower())


@directive("AddType", "ITERATE2", "a mime type followed by one or more file extensions")
def _add_type(ctx: Ctx, node: Node) -> None:
    mtype = node.args[0].lower()
    ctx.set_dir(add_types=ctx.dir.add_types + tuple((_ext(e), mtype) for e in node.args[1:]))


@directive("RemoveType", "ITERATE", "one or more file extensions")
def _remove_type(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(remove_types=ctx.dir.remove_types + tuple(_ext(e) for e in node.args))


@directive("AddCharset", "ITERATE2", "a charset (e.g., iso-2022-jp), followed by one or "
           "more file extensions")
def _add_charset(ctx: Ctx, node: Node) -> None:
    # mod_mime add_extension_info folds the value too: "AddCharset UTF-8 .utf8" sends
    # "charset=utf-8" (checked against apache2)
    charset = node.args[0].lower()
    ctx.set_dir(add_charsets=ctx.dir.add_charsets
                + tuple((_ext(e), charset) for e in node.args[1:]))


@directive("RemoveCharset", "ITERATE", "one or more file extensions")
def _remove_charset(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(remove_charsets=ctx.dir.remove_charsets
                + tuple(_ext(e) for e in node.args))


@directive("ForceType", "TAKE1", "a mime type that overrides other configured type")
def _force_type(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(force_type=node.args[0].lower())


@directive("AddDefaultCharset", "TAKE1", "The name of the default charset to add to any "
           "Content-Type without one or 'Off' to disable")
def _add_default_charset(ctx: Ctx, node: Node) -> None:
    arg = node.args[0]
    # core.c set_add_default_charset: On means iso-8859-1
    value = {"off": "", "on": "iso-8859-1"}.get(arg.lower(), arg)
    ctx.set_dir(default_charset=value)


_KNOWN_STATUSES = frozenset(s.value for s in HTTPStatus) - {418}


@directive("ErrorDocument", "TAKE2", "Change responses for HTTP errors")
def _error_document(ctx: Ctx, node: Node) -> None:
    code_text, msg = node.args
    # core.c: any status Apache has a status line for (ap_index_of_response)
    if not code_text.isdigit() or int(code_text) not in _KNOWN_STATUSES:
        raise ConfigError(f"Unsupported HTTP response code {code_text}")
    # core.c set_error_document's heuristic: a space, or neither a local path nor a
    # URL, means text (stored with a leading quote); "default" resets.
    if msg.lower() != "default" and (" " in msg or not (
            msg.startswith("/") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", msg))):
        msg = '"' + msg
    ctx.set_dir(error_documents=ctx.dir.error_documents + ((int(code_text), msg),))
