"""<VirtualHost>, <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location> and
<LocationMatch>: each becomes a ServerDraft or a Section carrying the settings read
inside it (core.c ``virtualhost_section``, ``dirsection``, ``filesection``,
``urlsection``). Knows nothing of how sections are matched (``cgihttpd.walk``)."""

from __future__ import annotations

import re

from cgihttpd.config.directives.draft import Apply, Ctx, SectionDraft, ServerDraft
from cgihttpd.config.directives.table import DIRECTIVES, apply_nodes, directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import Address, Section, SectionKind
from cgihttpd.config.tree import Node, normalise_path


def parse_address(text: str, for_listen: bool = False) -> Address:
    """``*``, ``*:80``, ``_default_:80``, ``1.2.3.4:80``, ``[::1]:80``, ``name``."""
    host, port_text = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ConfigError(f"Invalid address or port: {text}")
        host = text[: end + 1]
        rest = text[end + 1 :]
        if rest.startswith(":"):
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:  # bare IPv6
        host = f"[{text}]"
    if host in ("_default_", ""):
        host = "*"
    port: int | None = None
    if port_text not in (None, "*"):
        if for_listen and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
            raise ConfigError("Port must be specified")
        # vhost.c get_addresses: a port it cannot read means any port (apache2 -t accepts
        # <VirtualHost *:abc>)
        port = int(port_text) if port_text.isdigit() and int(port_text) > 0 else None
    return Address(host.lower(), port)


@directive("<VirtualHost", "RAW", "Container to map directives to a particular virtual host, "
           "takes one or more host addresses")
def _virtualhost(ctx: Ctx, node: Node) -> None:
    if not node.args:
        raise ConfigError("<VirtualHost> directive requires additional arguments")
    vh = ServerDraft(source=node.source, is_main=False,
                     addresses=tuple(parse_address(a) for a in node.args))
    ctx.draft.vhosts.append(vh)
    apply_nodes(Ctx(ctx.draft, vh, None, "<VirtualHost>", ctx.loaded), node.children or ())


def _section(kind: SectionKind, match_form: bool, tag: str) -> Apply:
    def apply(ctx: Ctx, node: Node) -> None:
        args = list(node.args)
        if not args or args == [""]:
            raise ConfigError(f"{tag} directive requires additional arguments")
        regex = match_form
        if args[0] == "~" and not match_form:
            regex = True
            args = args[1:]
            if not args:
                raise ConfigError(f"{tag} directive requires additional arguments")
        if len(args) != 1:
            raise ConfigError(f"{tag[:-1]} takes one argument, {DIRECTIVES[tag[:-1].lower()].description}")
        pattern = args[0]
        if regex:
            try:
                re.compile(pattern)
            except re.error:
                raise ConfigError("Regular expression could not be compiled.") from None
        elif kind == "directory":
            pattern = normalise_path(ctx.root(pattern))
        within: SectionDraft | None = None
        if ctx.section is not None:
            if ctx.section.kind == "location":
                # core.c filesection (apache2 -t)
                raise ConfigError(f"{tag} cannot occur within {ctx.section.tag} section")
            if ctx.section.kind == "directory":
                # core.c: added to that <Directory>'s own list of <Files>, which the
                # file walk applies wherever that <Directory> applies
                within = ctx.section
            else:
                ctx.draft.warnings.append(
                    f"{node.source}: {tag} nested in {ctx.section.tag} is applied as if "
                    "it stood at the level of the enclosing server")
        sec = SectionDraft(kind, pattern, regex, node.source, tag)
        apply_nodes(Ctx(ctx.draft, ctx.server, sec, tag, ctx.loaded), node.children or ())
        ctx.server.sections.append(Section(
            sec.kind, sec.pattern, sec.regex, sec.conf, sec.source,
            within=None if within is None else within.pattern,
            within_regex=within is not None and within.regex))

    return apply


_SECTION_DESC = {
    "directory": "Container for directives affecting resources located in the specified "
                 "directories",
    "files": "Container for directives affecting files matching specified patterns",
    "location": "Container for directives affecting resources accessed through the "
                "specified URL paths",
}
for _kind, _plain, _match in (("directory", "Directory", "DirectoryMatch"),
                              ("files", "Files", "FilesMatch"),
                              ("location", "Location", "LocationMatch")):
    directive("<" + _plain, "RAW", _SECTION_DESC[_kind])(
        _section(_kind, False, f"<{_plain}>"))  # type: ignore[arg-type]
    directive("<" + _match, "RAW", _SECTION_DESC[_kind])(
        _section(_kind, True, f"<{_match}>"))  # type: ignore[arg-type]
