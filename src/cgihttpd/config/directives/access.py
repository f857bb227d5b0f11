"""Per-directory options (core): Options with core.c ``set_options``' rules,
AllowOverride, AllowOverrideList. (Require and its sections are ``require``; Order,
Allow, Deny and Satisfy are ``access_compat``.)"""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import OPTIONS_ALL, OptionsSpec
from cgihttpd.config.tree import Node

_OPTION_WORDS: dict[str, frozenset[str]] = {
    "indexes": frozenset({"Indexes"}),
    "includes": frozenset({"Includes"}),
    "includesnoexec": frozenset({"IncludesNOEXEC"}),
    "followsymlinks": frozenset({"FollowSymLinks"}),
    "symlinksifownermatch": frozenset({"SymLinksIfOwnerMatch"}),
    "execcgi": frozenset({"ExecCGI"}),
    "multiviews": frozenset({"MultiViews"}),
    "runscripts": frozenset({"MultiViews", "ExecCGI"}),  # core.c: "AI backcompat. Yuck"
    "all": OPTIONS_ALL,
    "none": frozenset(),
}
_MIXED = "Either all Options must start with + or -, or no Option may."


def parse_options(words: list[str] | tuple[str, ...]) -> OptionsSpec:
    """One Options directive → a spec, with core.c ``set_options``'s rules (each checked
    against apache2 -t 2.4.71): +/- words and plain words cannot mix, except that a
    first ``All`` or ``None`` may be followed by +/- words; ``All`` and ``None`` must come
    first; ``+All``/``-None`` are errors."""
    absolute: set[str] | None = None
    add: set[str] = set()
    remove: set[str] = set()
    first = True
    merge = False
    all_none = False  # the first word was All or None
    for word in words:
        action = ""
        if word[:1] in ("+", "-"):
            action, word = word[0], word[1:]
            if not merge and not first and not all_none:
                raise ConfigError(_MIXED)
            merge = True
        elif first:
            absolute = set()
        elif merge:
            raise ConfigError(_MIXED)
        lw = word.lower()
        if lw not in _OPTION_WORDS:
            raise ConfigError(f"Illegal option {word}")
        if lw in ("none", "all"):
            shown = "None" if lw == "none" else "All"
            if action:
                raise ConfigError(f"You may not use 'Options +{shown}' or 'Options -{shown}'.")
            if not first:
                # sic: Apache capitalises "Option" in one message and not the other
                raise ConfigError("'Options None' must be the first Option given."
                                  if lw == "none" else
                                  "'Options All' must be the first option given.")
            all_none = True
        opts = _OPTION_WORDS[lw]
        if action == "-":
            remove |= opts
            add -= opts
            if absolute is not None:
                absolute -= opts
        elif action == "+":
            add |= opts
            remove -= opts
            if absolute is not None:
                absolute |= opts
        else:
            assert absolute is not None
            absolute |= opts
        first = False
    if absolute is not None:
        return OptionsSpec(absolute=frozenset(absolute))
    return OptionsSpec(add=frozenset(add), remove=frozenset(remove))


@directive("Options", "RAW", "Set a number of attributes for a given directory")
def _options(ctx: Ctx, node: Node) -> None:
    allowed = ctx.draft.override_opts
    if allowed is not None:
        # a .htaccess under AllowOverride Options=...: core.c set_options
        for word in node.args:
            name = word.lstrip("+-")
            opts = _OPTION_WORDS.get(name.lower())
            if opts is not None and name.lower() != "none" and not opts <= allowed:
                raise ConfigError(f"Option {name} not allowed here")
    spec = parse_options(node.args)
    current = ctx.dir.options
    ctx.set_dir(options=spec if current is None else current.then(spec))


_OVERRIDES = {"authconfig": "AuthConfig", "fileinfo": "FileInfo", "indexes": "Indexes",
              "limit": "Limit", "options": "Options"}


@directive("AllowOverride", "RAW", "Controls what groups of directives can be configured by "
           "per-directory config files")
def _allow_override(ctx: Ctx, node: Node) -> None:
    assert ctx.section is not None  # placement "A"
    if ctx.section.kind != "directory":
        # core.c: AH00114
        ctx.draft.warnings.append(f"{node.source}: Useless use of AllowOverride in line "
                                  f"{node.source.line} of {node.source.file}.")
        return
    found: set[str] = set()
    opts: set[str] | None = None
    for arg in node.args:
        word, eq, value = arg.partition("=")
        word = word.lower()
        if word == "all":
            found |= set(_OVERRIDES.values())
            opts = None
        elif word == "none":
            found = set()
        elif word == "options" and eq:
            # core.c set_allow_opts: Options=Indexes,ExecCGI,...
            found.add("Options")
            opts = set()
            for name in value.split(","):
                words = _OPTION_WORDS.get(name.lower())
                if words is None:
                    raise ConfigError(f"Illegal option {name}")
                opts |= words
        elif word in _OVERRIDES:
            found.add(_OVERRIDES[word])
            if word == "options":
                opts = None
        elif word == "nonfatal":
            continue
        else:
            raise ConfigError(f"Illegal override option {arg}")
    ctx.set_dir(allow_override=frozenset(found),
                allow_override_opts=None if opts is None else frozenset(opts))


@directive("AllowOverrideList", "RAW", "Controls what individual directives can be "
           "configured by per-directory config files")
def _allow_override_list(ctx: Ctx, node: Node) -> None:
    # core.c set_override_list: "None" alone clears the list
    if len(node.args) == 1 and node.args[0].lower() == "none":
        ctx.set_dir(allow_override_list=frozenset())
        return
    ctx.set_dir(allow_override_list=frozenset(a.lower() for a in node.args))
