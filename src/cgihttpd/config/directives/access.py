"""Per-directory access and options (core, mod_authz_core): Options with core.c
``set_options``' rules, AllowOverride, AllowOverrideList, Require (the forms cgihttpd
enforces: ``all granted``, ``all denied``, ``local``, ``method``, and ``valid-user``,
``user``, ``group``, which need an authenticated user (``cgihttpd.authn``); any other
is refused)."""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import OPTIONS_ALL, OptionsSpec
from cgihttpd.config.modules import refusal
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


#: Authz providers and the module that registers each (mod_authz_*.c).
AUTHZ_PROVIDERS = {
    "all": "authz_core_module", "env": "authz_core_module", "method": "authz_core_module",
    "expr": "authz_core_module", "ip": "authz_host_module", "host": "authz_host_module",
    "local": "authz_host_module", "forward-dns": "authz_host_module",
    "user": "authz_user_module", "valid-user": "authz_user_module",
    "group": "authz_groupfile_module", "file-owner": "authz_owner_module",
    "file-group": "authz_owner_module", "dbm-group": "authz_dbm_module",
    "dbd-group": "authz_dbd_module", "ldap-user": "authnz_ldap_module",
    "ldap-group": "authnz_ldap_module", "ldap-dn": "authnz_ldap_module",
    "ldap-attribute": "authnz_ldap_module", "ldap-filter": "authnz_ldap_module",
    "ldap-search": "authnz_ldap_module",
}


@directive("Require", "RAW", "specifies authorization directives which one must pass (or "
           "not) for a request to suceeed")
def _require(ctx: Ctx, node: Node) -> None:
    args = list(node.args)
    negated = bool(args) and args[0].lower() == "not"
    if negated:
        args = args[1:]
    provider = args[0].lower() if args else ""
    module = AUTHZ_PROVIDERS.get(provider)
    if module is None or module not in ctx.loaded:
        raise ConfigError(f"Unknown Authz provider: {args[0] if args else ''}")
    if provider == "all" and not negated:
        if len(args) != 2 or args[1].lower() not in ("granted", "denied"):
            # mod_authz_core all_parse_config
            raise ConfigError("Argument for 'Require all' must be 'granted' or 'denied'")
        ctx.set_dir(require=args[1].lower())
        return
    if provider == "local" and not negated and len(args) == 1:
        # mod_authz_host: the client is the host itself (checked by the app, which
        # knows the addresses)
        ctx.set_dir(require="local")
        return
    if provider == "method" and not negated and len(args) > 1:
        # mod_authz_core method_parse_config: granted to these methods only (HEAD
        # counts as GET there: it has GET's method number)
        ctx.set_dir(require="method", require_methods=frozenset(a.upper() for a in args[1:]))
        return
    if provider in ("valid-user", "user", "group") and not negated:
        # mod_authz_user, mod_authz_groupfile: decided once a user is authenticated
        # (app.py's authorization step); the names are ap_getword_conf words (none:
        # accepted by apache2 -t, and then no user is granted)
        ctx.set_dir(require=provider, require_names=tuple(args[1:]))
        return
    # Any other form would be a protection cgihttpd does not evaluate: refused, never
    # stored and ignored (issue 9).
    raise ConfigError(refusal(f"Require {' '.join(node.args)}",
                              f"authorization by '{provider}'", ctx.draft.htaccess))
