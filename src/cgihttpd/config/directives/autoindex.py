"""mod_autoindex: IndexOptions (see ``indexopts``), IndexIgnore, HeaderName/ReadmeName
(the files a listing includes), and the icon directives, which cgihttpd accepts
without effect (its listing draws no icons)."""

from __future__ import annotations

from cgihttpd.config.directives.draft import Apply, Ctx
from cgihttpd.config.directives.table import directive, flag
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.indexopts import add_index_options
from cgihttpd.config.tree import Node


@directive("IndexOptions", "RAW", "one or more index options [+|-][]")
def _index_options(ctx: Ctx, node: Node) -> None:
    try:
        ctx.set_dir(index_options=add_index_options(ctx.dir.index_options, node.args))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@directive("FancyIndexing", "RAW", "The FancyIndexing directive is no longer supported. "
           "Use IndexOptions FancyIndexing.")
def _fancy_indexing(ctx: Ctx, node: Node) -> None:
    # mod_autoindex 2.4 keeps the name only to say this (apache2 -t, whatever follows)
    raise ConfigError("The FancyIndexing directive is no longer supported. Use IndexOptions "
                      "FancyIndexing.")


@directive("IndexIgnore", "ITERATE", "one or more file extensions")
def _index_ignore(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(index_ignore=ctx.dir.index_ignore + tuple(node.args))


@directive("IndexIgnoreReset", "FLAG", "Reset the inherited list of IndexIgnore filenames")
def _index_ignore_reset(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(index_ignore_reset=flag(node))


def _inserted_file(field_name: str) -> Apply:
    def apply(ctx: Ctx, node: Node) -> None:
        ctx.set_dir(**{field_name: node.args[0]})

    return apply


directive("HeaderName", "TAKE1", "a filename")(_inserted_file("header_name"))
directive("ReadmeName", "TAKE1", "a filename")(_inserted_file("readme_name"))


def _icons(ctx: Ctx, node: Node) -> None:
    """Accepted silently: they choose the icons and their ALT text, and cgihttpd's
    listing draws no icons (the SuppressIcon look)."""


for _name, _arity, _desc in (
        ("AddIcon", "ITERATE2", "an icon URL followed by one or more filenames"),
        ("AddIconByType", "ITERATE2", "an icon URL followed by one or more MIME types"),
        ("AddIconByEncoding", "ITERATE2", "an icon URL followed by one or more content "
                                          "encodings"),
        ("AddAlt", "ITERATE2", "alternate descriptive text followed by one or more "
                               "filenames"),
        ("AddAltByType", "ITERATE2", "alternate descriptive text followed by one or more "
                                     "MIME types"),
        ("AddAltByEncoding", "ITERATE2", "alternate descriptive text followed by one or "
                                         "more content encodings"),
        ("DefaultIcon", "TAKE1", "an icon URL")):
    directive(_name, _arity, _desc)(_icons)  # type: ignore[arg-type]
