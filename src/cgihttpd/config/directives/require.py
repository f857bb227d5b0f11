"""mod_authz_core, mod_authz_host, mod_authz_user, mod_authz_groupfile's ``Require``
and its containers, and core's ``<Limit>``/``<LimitExcept>``: each line becomes a node
of the section's frozen ``authz`` tree (``cgihttpd.authz``), with mod_authz_core.c's
rules and messages (``add_authz_provider``, ``add_authz_section``,
``authz_core_check_section``, ``authz_merge_sections``; core.c ``ap_limit_section``).

Every provider is parsed here; a form cgihttpd cannot evaluate (``forward-dns``, the
LDAP and DBM providers, an expression outside ``cgihttpd.expr``'s subset, a ``%{...}``
in a user or host list) is refused: a start-up error, or a 500 from a .htaccess.
Authentication (AuthType, AuthUserFile, AuthGroupFile) is not read here.
"""

from __future__ import annotations

from dataclasses import replace

from cgihttpd import messages as M
from cgihttpd.authz import (
    KNOWN_METHODS,
    AllProvider,
    AuthzConf,
    EnvProvider,
    ExprProvider,
    Group,
    GroupProvider,
    HostProvider,
    IpProvider,
    LocalProvider,
    MethodProvider,
    Methods,
    Provider,
    Require,
    SubnetError,
    UserProvider,
    ValidUserProvider,
    method_key,
    parse_subnet,
)
from cgihttpd.authz import (
    Node as AuthzNode,
)
from cgihttpd.config.directives.draft import AuthzDraft, Ctx
from cgihttpd.config.directives.table import apply_nodes, directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.lexer import next_word, split_words
from cgihttpd.config.modules import refusal
from cgihttpd.config.tree import Node
from cgihttpd.expr import ExprError, parse_expr

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


def _rest(raw: str, words: int) -> str:
    """``raw`` after its first ``words`` words (Apache hands providers the rest of the
    line as it is)."""
    pos = 0
    for _ in range(words):
        _, pos = next_word(raw, pos)
    return raw[pos:].strip()


def _refuse(ctx: Ctx, node: Node, what: str) -> ConfigError:
    return ConfigError(refusal(f"Require {node.raw.strip()}", what, ctx.draft.htaccess))


def parse_provider(ctx: Ctx, node: Node, name: str, args: str) -> Provider:
    """Each provider's ``parse_require_line`` (or the lack of one)."""
    words = split_words(args)
    if name == "all":
        # mod_authz_core all_parse_config compares the whole rest of the line
        if args.lower() == "granted":
            return AllProvider(True)
        if args.lower() == "denied":
            return AllProvider(False)
        raise ConfigError("Argument for 'Require all' must be 'granted' or 'denied'")
    if name == "ip":
        if not words:
            raise ConfigError("'require ip' requires an argument")
        subnets = []
        for word in words:
            addr, slash, mask = word.partition("/")
            try:
                subnets.append(parse_subnet(addr, mask if slash else None))
            except SubnetError as exc:
                if exc.kind == "EINVAL":
                    raise ConfigError(f"ip address '{word}' appears to be invalid") from None
                raise ConfigError(f"ip address '{word}' appears to be invalid: "
                                  f"{exc.strerror}") from None
        return IpProvider(tuple(subnets))
    if name == "local":
        return LocalProvider()
    if name == "env":
        return EnvProvider(tuple(words))
    if name == "method":
        methods = set()
        for word in words:
            if word not in KNOWN_METHODS and word != "HEAD":
                raise ConfigError(f"Invalid Method '{word}'")
            methods.add(method_key(word))
        return MethodProvider(frozenset(methods))
    if name == "expr":
        text = args
        if len(text) > 1 and text.startswith('"') and text.endswith('"'):
            text = text[1:-1]  # expr_parse_config: "surrounded by quotes, skip them"
        if not text.strip():
            raise ConfigError("Cannot parse expression in require line: syntax error, "
                              "unexpected $end")
        try:
            expr = parse_expr(text)
        except ExprError as exc:
            raise _refuse(ctx, node, f"this expression ({exc})") from None
        return ExprProvider(expr, "REMOTE_USER" in expr.variables)
    if name in ("host", "user", "group") and "%{" in args:
        # these lists are string expressions in Apache: cgihttpd reads literal names only
        raise _refuse(ctx, node, f"an expression in 'Require {name}'")
    if name == "host":
        return HostProvider(tuple(words))
    if name == "user":
        return UserProvider(tuple(words))
    if name == "valid-user":
        return ValidUserProvider()
    if name == "group":
        return GroupProvider(tuple(words))
    raise _refuse(ctx, node, f"authorization by '{name}'")


def _root(ctx: Ctx) -> Group:
    conf = ctx.dir.authz
    tree = conf.tree if conf is not None else None
    return tree if tree is not None else Group("any", ())


def _attach(ctx: Ctx, nodes: tuple[AuthzNode, ...]) -> None:
    """Append ``nodes`` to the group being read, or to the section's own tree."""
    if ctx.authz_group is not None:
        ctx.authz_group.children.extend(nodes)
        return
    root = _root(ctx)
    conf = ctx.dir.authz or AuthzConf()
    ctx.set_dir(authz=replace(conf, tree=Group.of(root.op, root.children + nodes)))


def _current_label(ctx: Ctx) -> tuple[str, str]:
    """The op and ``format_authz_command`` of the group Require lines go to now."""
    if ctx.authz_group is not None:
        return ctx.authz_group.op, ctx.authz_group.tag
    return "any", "<RequireAny>"


@directive("Require", "RAW", "specifies authorization directives which one must pass (or "
           "not) for a request to suceeed")
def _require(ctx: Ctx, node: Node) -> None:
    raw = node.raw.strip()
    name, pos = next_word(raw)
    negate = name.lower() == "not"
    if negate:
        name, pos = next_word(raw, pos)
    args = raw[pos:].strip()
    provider_name = name.lower()
    module = AUTHZ_PROVIDERS.get(provider_name)
    if module is None or module not in ctx.loaded:
        raise ConfigError(f"Unknown Authz provider: {name}")
    provider = parse_provider(ctx, node, provider_name, args)
    op, label = _current_label(ctx)
    if negate and op == "any":
        raise ConfigError(f"negative Require directive has no effect in {label} directive")
    text = f"Require {'not ' if negate else ''}{name} {args}"
    _attach(ctx, (Require(provider, text, negate, ctx.limited),))


def _flip(node: AuthzNode) -> AuthzNode:
    return replace(node, negate=not node.negate)


def check_section(group: Group) -> Group:
    """mod_authz_core.c ``authz_core_check_section``: a negated child of the other op
    is folded into its parent (De Morgan), and a section whose lines are all negative
    is an error (AH01624, at start-up)."""
    children: list[AuthzNode] = []
    for child in group.children:
        if isinstance(child, Group):
            child = check_section(child)
            if child.negate and child.op != group.op:
                children.extend(_flip(c) for c in child.children)
                continue
        children.append(child)
    if not any(not c.negate for c in children):
        raise ConfigError(M.ONLY_NEGATIVE_AUTHZ.text(section=group.label))
    return Group.of(group.op, tuple(children), group.negate, group.merged)


def _require_section(op: str, negate: bool, tag: str) -> None:
    def apply(ctx: Ctx, node: Node) -> None:
        if node.raw.strip():
            raise ConfigError(f"{tag[:-1]}> directive doesn't take additional arguments")
        draft = AuthzDraft(op, negate, tag)  # type: ignore[arg-type]
        errors = len(ctx.draft.errors)
        apply_nodes(replace(ctx, authz_group=draft), node.children or ())
        if len(ctx.draft.errors) > errors:
            return  # Apache stops at the line inside
        if not draft.children:
            raise ConfigError(f"{tag} directive contains no authorization directives")
        group = Group.of(draft.op, tuple(draft.children), negate)
        parent_op, parent_label = _current_label(ctx)
        if negate and parent_op == "any":
            raise ConfigError(f"{tag} directive has no effect in {parent_label} directive")
        if ctx.authz_group is None and not ctx.draft.htaccess:
            # the section's own tree is complete as far as this group goes: Apache
            # checks it after reading (check_config), here when it is attached; a
            # .htaccess, read at request time, is never checked
            group = check_section(group)
        if not negate and op == parent_op:
            _attach(ctx, group.children)  # "be associative"
        else:
            _attach(ctx, (group,))

    directive(tag[:-1], "RAW", _SECTION_DESC[tag])(apply)


_SECTION_DESC = {
    "<RequireAll>": "container for grouping authorization directives of which none must "
                    "fail and at least one must pass for a request to succeed",
    "<RequireAny>": "container for grouping authorization directives of which one must "
                    "pass for a request to succeed",
    "<RequireNone>": "container for grouping authorization directives of which none must "
                     "pass for a request to succeed",
}
_require_section("all", False, "<RequireAll>")
_require_section("any", False, "<RequireAny>")
_require_section("any", True, "<RequireNone>")


@directive("AuthMerging", "TAKE1", "controls how a <Directory>, <Location>, or similar "
           "directive's authorization directives are combined with those of its "
           "predecessor")
def _auth_merging(ctx: Ctx, node: Node) -> None:
    value = node.args[0].lower()
    if value not in ("off", "and", "or"):
        raise ConfigError("AuthMerging must be one of: Off | And | Or")
    conf = ctx.dir.authz or AuthzConf()
    ctx.set_dir(authz=replace(conf, merging=value))  # type: ignore[arg-type]


@directive("AuthzSendForbiddenOnFailure", "FLAG", "Controls if an authorization failure "
           "should result in a '403 FORBIDDEN' response instead of the HTTP-conforming "
           "'401 UNAUTHORIZED'")
def _forbidden_on_failure(ctx: Ctx, node: Node) -> None:
    conf = ctx.dir.authz or AuthzConf()
    ctx.set_dir(authz=replace(conf, forbidden_on_fail=node.args[0].lower() == "on"))


# --- <Limit>, <LimitExcept> (core.c ap_limit_section) -----------------------------------


def _limit(except_: bool, tag: str) -> None:
    def apply(ctx: Ctx, node: Node) -> None:
        words = split_words(node.raw.strip())
        if not words:
            raise ConfigError(f"{tag} directive requires additional arguments")
        names: set[str] = set()
        for word in words:
            if word == "TRACE" and not except_:
                raise ConfigError("TRACE cannot be controlled by <Limit>, see TraceEnable")
            if word not in KNOWN_METHODS and word != "HEAD" and ctx.draft.htaccess:
                # Apache registers an unknown method from the server's files only
                raise ConfigError(f"Could not register method '{word}' for {tag[:-1]} "
                                  "from .htaccess configuration")
            names.add(method_key(word))
        limited = Methods(frozenset(names), except_)
        inside = ctx.limited & limited
        if inside.empty:
            raise ConfigError(f"{tag[:-1]}> directive excludes all methods")
        if inside == ctx.limited:
            raise ConfigError(f"{tag[:-1]}> directive specifies methods already excluded")
        apply_nodes(replace(ctx, limited=inside), node.children or ())

    directive(tag[:-1], "RAW", _LIMIT_DESC[tag])(apply)


_LIMIT_DESC = {
    "<Limit>": "Container for authentication directives when accessed using specified "
               "HTTP methods",
    "<LimitExcept>": "Container for authentication directives to be applied when any HTTP "
                     "method other than those specified is used to access the resource",
}
_limit(False, "<Limit>")
_limit(True, "<LimitExcept>")
