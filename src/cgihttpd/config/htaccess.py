"""One ``.htaccess`` file's text → the settings it adds for its directory, or why it
cannot be used. Pure: the text comes in, a value goes out; the resolver reads the file
(through its ``FileSystem``) and keeps the result (``runtime.Caches.htaccess``).

Apache's ``ap_parse_htaccess`` (server/config.c) parses an access file with the same
reader and command tables as the server's own files, in the .htaccess context: the
same lexer and tree (``tree.parse_tree``, ``tree.expand``) and the same directive table
(``directives``), with what AllowOverride and AllowOverrideList allow checked for every
directive as it is met (``tree.overridable``). The result is a ``DirConf`` delta merged
at that directory's place in the walk (``walk.effective_conf``), and the <Files> and
<FilesMatch> sections it holds, which apply only below it.

Whatever the file holds that cgihttpd cannot honour for that directory makes the file
unusable, never silently skipped: a syntax error, an unknown directive, one AllowOverride
forbids, a protecting directive cgihttpd does not enforce (``modules.protection``), or
one whose effect is server-wide, or a directive of a module cgihttpd loads but does not
implement (from the server's own files such a directive is ignored with a start-up
warning; a .htaccess has no start-up, and ignoring one could fail open).
Apache answers an unusable file with 500 and an alert naming it; so does cgihttpd
(``resolve``). Apache would apply the unimplemented directive: there cgihttpd differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cgihttpd.config.directives import DIRECTIVES
from cgihttpd.config.directives.draft import Ctx, Draft, SectionDraft, ServerDraft
from cgihttpd.config.directives.table import apply_node
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import BUILTIN, DirConf, Section, ServerConfig, Source
from cgihttpd.config.modules import REGISTRY, protection, refusal
from cgihttpd.config.tree import expand, new_state, parse_tree


@dataclass(frozen=True, slots=True)
class HtaccessContext:
    """What parsing a .htaccess needs of the server: its loaded modules (for "Invalid
    command" and <IfModule>), ServerRoot and the -D defines (<IfDefine>)."""

    modules: frozenset[str]
    server_root: str
    defines: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: ServerConfig) -> HtaccessContext:
        return cls(config.modules, config.server_root, config.defines)


@dataclass(frozen=True, slots=True)
class Htaccess:
    """A parsed access file: its settings, or ``error`` (Apache's message, which the
    error log shows after the file's name)."""

    conf: DirConf = DirConf()
    #: its <Files>/<FilesMatch> sections, in order (``within`` its directory)
    files: tuple[Section, ...] = ()
    error: str | None = None
    #: the line of the error, where known (Apache's message does not say it)
    error_line: int = 0


@dataclass(frozen=True, slots=True)
class Overrides:
    """What may be in a .htaccess where it is read: AllowOverride's classes, its
    Options=... list (None: any option), AllowOverrideList."""

    classes: frozenset[str]
    options: frozenset[str] | None = None
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, conf: DirConf) -> Overrides:
        return cls(conf.allow_override or frozenset(), conf.allow_override_opts,
                   conf.allow_override_list or frozenset())


class _NoFiles:
    """A .htaccess reads no other file (Include is not allowed there): any attempt is a
    bug, not a read."""

    def _refuse(self, *args: Any) -> Any:
        raise OSError("a .htaccess reads no other file")

    read_text = is_dir = exists = list_dir = _refuse


def parse_htaccess(text: str, path: str, directory: str, overrides: Overrides,
                   context: HtaccessContext) -> Htaccess:
    """The settings of the access file ``path`` (in ``directory``) holding ``text``."""
    errors: list[ConfigError] = []
    nodes = parse_tree(text, path, errors)
    if errors:
        return _failed(errors[0])
    state = new_state(context.server_root, list(context.defines), {}, _NoFiles(), DIRECTIVES)
    state.loaded = {m: BUILTIN for m in context.modules}
    state.override = overrides.classes
    state.override_list = overrides.names
    nodes = expand(nodes, state)
    if state.errors:
        return _failed(state.errors[0])
    source = Source(path, 1)
    section = SectionDraft("directory", directory, False, source, "<Directory>")
    files: list[Section] = []
    for node in nodes:
        draft = _draft(context, source, overrides)
        ctx = Ctx(draft, draft.main, section, None, context.modules)
        try:
            apply_node(ctx, node)
        except ConfigError as exc:
            return _failed(exc, node.source)
        if draft.errors:
            return _failed(draft.errors[0])
        if draft.ignored:
            # Ignored in the server's files with a start-up warning; a .htaccess has no
            # start-up to warn at, and skipping a directive there could serve what it
            # denies: the file is refused instead (500 and an alert), never half used.
            return _failed(ConfigError(
                f"{node.name}: not implemented by cgihttpd; the .htaccess is refused "
                "rather than applied without it", node.source))
        files.extend(draft.main.sections)
        draft.main.sections = []
        draft.warnings.clear()
        if draft != _draft(context, source, overrides):
            # it set something of the server's, which cannot hold for one directory
            info = REGISTRY.lookup(node.key, context.modules)
            name = info.name if info is not None else node.name
            what = protection(info) if info is not None else None
            message = (refusal(name, what, htaccess=True) if what is not None else
                       f"{name} in a .htaccess is not supported by cgihttpd yet")
            return _failed(ConfigError(message, node.source))
    return Htaccess(conf=section.conf, files=tuple(files))


def _draft(context: HtaccessContext, source: Source, overrides: Overrides) -> Draft:
    return Draft(server_root=context.server_root,
                 main=ServerDraft(source=source, is_main=True), htaccess=True,
                 override_opts=overrides.options)


def _failed(error: ConfigError, source: Source | None = None) -> Htaccess:
    where = error.source or source
    return Htaccess(error=error.message, error_line=where.line if where else 0)
