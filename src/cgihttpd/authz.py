"""Access control as Apache 2.4 decides it: mod_authz_core's ``Require`` trees,
mod_authz_host's and mod_authz_user's providers, and mod_access_compat's
``Order``/``Allow``/``Deny``/``Satisfy``.

This module owns the *values* (frozen trees built by ``config.directives.access`` and
``access_compat``, merged per directory by ``DirConf.merge``) and the *decision*:
``evaluate(tree, facts)`` is mod_authz_core.c ``apply_authz_sections`` (four results,
``"denied-no-user"`` meaning that only an authenticated user could change it), and
``allowed_by_host`` is mod_access_compat.c ``check_dir_access``. ``decide`` is the order
server/request.c ``ap_process_request_internal`` runs them in, with ``Satisfy``.

Pure: the facts of the request (addresses, method, environment, the double-reverse host
name, the authenticated user, a group lookup) are handed in by the caller; no DNS, no
files, no configuration syntax (``config.directives`` parses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from cgihttpd.expr import Expr

Decision = Literal["granted", "denied", "denied-no-user", "neutral"]
Op = Literal["all", "any"]

#: the methods Apache knows at start (http_protocol.c ap_method_registry_init); HEAD
#: has GET's number (M_GET), so it is GET for every rule here
KNOWN_METHODS: frozenset[str] = frozenset({
    "GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL",
    "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE",
    "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
})


def method_key(method: str) -> str:
    """The method as Apache numbers it: HEAD is M_GET (case-sensitive, as
    ``ap_method_number_of``)."""
    return "GET" if method == "HEAD" else method


# --- method sets (Apache's 64-bit ``limited`` masks) ------------------------------------


@dataclass(frozen=True, slots=True)
class Methods:
    """A set of methods: ``names``, or with ``complement`` every method but ``names``
    (what ``<LimitExcept>`` makes). Names are as ``method_key`` gives them."""

    names: frozenset[str] = frozenset()
    complement: bool = False

    def __contains__(self, method: object) -> bool:
        return (method in self.names) != self.complement

    @property
    def empty(self) -> bool:
        return not self.complement and not self.names

    def __and__(self, other: Methods) -> Methods:
        if not self.complement and not other.complement:
            return Methods(self.names & other.names)
        if self.complement and other.complement:
            return Methods(self.names | other.names, True)
        plain, comp = (self, other) if other.complement else (other, self)
        return Methods(plain.names - comp.names)

    def __or__(self, other: Methods) -> Methods:
        if not self.complement and not other.complement:
            return Methods(self.names | other.names)
        if self.complement and other.complement:
            return Methods(self.names & other.names, True)
        plain, comp = (self, other) if other.complement else (other, self)
        return Methods(comp.names - plain.names, True)


ALL_METHODS = Methods(frozenset(), True)
NO_METHODS = Methods()


# --- IP subnets (apr_ipsubnet_create / apr_ipsubnet_test) ---------------------------------


class SubnetError(ValueError):
    """``kind``: APR's status: ``EINVAL`` (does not look like an address at all: a host
    name for Allow), ``EBADIP`` or ``EBADMASK``."""

    def __init__(self, kind: Literal["EINVAL", "EBADIP", "EBADMASK"]) -> None:
        super().__init__(kind)
        self.kind = kind

    @property
    def strerror(self) -> str:
        # apr_strerror's texts
        return {"EBADIP": "The specified IP address is invalid.",
                "EBADMASK": "The specified network mask is invalid.",
                "EINVAL": "Invalid argument"}[self.kind]


@dataclass(frozen=True, slots=True)
class Subnet:
    """An address and mask of one family (4 or 6), as integers: the mask may be any
    dotted netmask for IPv4, as APR allows."""

    family: int
    network: int
    mask: int

    def contains(self, addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None \
                and self.family == 4:
            ip = ip.ipv4_mapped  # apr_ipsubnet_test: a v4-mapped client against v4 rules
        if ip.version != self.family:
            return False
        return int(ip) & self.mask == self.network


def _looks_like_ip(text: str) -> bool:
    # apr_ipsubnet_create's filter: "definitely not a hostname" if it has ':', else
    # only digits and dots
    if not text:
        return False
    if ":" in text:
        return True
    return all(c == "." or c.isdigit() for c in text)


def _parse_network(text: str) -> Subnet:
    # apr's parse_network: the legacy "a.b.c" form, a.b.c.0/24
    if len(text) >= len("255.255.255.255") + 1:
        raise SubnetError("EBADIP")
    network = mask = 0
    shift = 24
    for octet in (text[:-1] if text.endswith(".") else text).split("."):
        if not octet or not octet.isdigit() or shift < 0 or int(octet) > 255:
            raise SubnetError("EBADIP")
        network |= int(octet) << shift
        mask |= 0xFF << shift
        shift -= 8
    return Subnet(4, network, mask)


def parse_subnet(addr: str, mask: str | None = None) -> Subnet:
    """``Require ip``/``Allow from`` words: ``10.1.2.3``, ``10.1`` (a network by its
    leading octets), ``10.0.0.0/8``, ``10.0.0.0/255.0.0.0``, ``2001:db8::/32``.
    Raises ``SubnetError`` as APR fails."""
    if not _looks_like_ip(addr):
        raise SubnetError("EINVAL")
    family: int
    value: int
    if ":" in addr:
        try:
            ip6 = ipaddress.IPv6Address(addr)
        except ValueError:
            raise SubnetError("EBADIP") from None
        if ip6.ipv4_mapped is not None or "%" in addr:
            # "forces the user to specify IPv4 addresses in a.b.c.d style"
            raise SubnetError("EBADIP")
        family, value, bits = 6, int(ip6), 128
    else:
        try:
            family, value, bits = 4, int(ipaddress.IPv4Address(addr)), 32
        except ValueError:
            if mask is not None:
                raise SubnetError("EBADIP") from None
            return _parse_network(addr)
    full = (1 << bits) - 1
    netmask = full
    if mask is not None:
        if mask.isdigit() and 0 < int(mask) <= bits:
            netmask = full ^ ((1 << (bits - int(mask))) - 1)
        elif family == 4:
            try:
                netmask = int(ipaddress.IPv4Address(mask))
            except ValueError:
                raise SubnetError("EBADMASK") from None
        else:
            raise SubnetError("EBADMASK")
    return Subnet(family, value & netmask, netmask)


def in_domain(domain: str, name: str) -> bool:
    """mod_authz_host/mod_access_compat ``in_domain``: ``name`` ends with ``domain`` on a
    label boundary (``example.com`` matches ``www.example.com``, not ``badexample.com``)."""
    if len(name) < len(domain) or name[len(name) - len(domain):].lower() != domain.lower():
        return False
    if len(name) == len(domain):
        return True
    return domain.startswith(".") or name[len(name) - len(domain) - 1] == "."


LOOPBACK_V4 = Subnet(4, 0x7F000000, 0xFF000000)
LOOPBACK_V6 = parse_subnet("::1")


# --- the facts of one request ------------------------------------------------------------


def no_groups(user: str) -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True, slots=True)
class Facts:
    """What the providers look at. ``remote_host``: the client's name if a reverse
    lookup confirmed by a forward one found it (REMOTE_DOUBLE_REV), else None; the caller
    looks it up only when ``needs_host`` says a rule wants it. ``env``: the request's
    environment at the access phase (r->subprocess_env)."""

    client_addr: str = ""
    server_addr: str = ""
    method: str = "GET"
    uri: str = "/"
    host_header: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    remote_host: str | None = None
    user: str | None = None
    groups_of: Callable[[str], frozenset[str]] = no_groups
    #: for expressions (``expr``): the request's fields (lower-case names), query,
    #: protocol and, once known, the response's status (0 before)
    headers: tuple[tuple[str, str], ...] = ()
    query: str = ""
    protocol: str = ""
    status: int = 0


# --- Require trees ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllProvider:
    granted: bool


@dataclass(frozen=True, slots=True)
class IpProvider:
    subnets: tuple[Subnet, ...]


@dataclass(frozen=True, slots=True)
class HostProvider:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocalProvider:
    pass


@dataclass(frozen=True, slots=True)
class EnvProvider:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MethodProvider:
    methods: frozenset[str]


@dataclass(frozen=True, slots=True)
class ExprProvider:
    expr: Expr
    #: the expression reads REMOTE_USER: false is "denied-no-user", with a user or
    #: without (mod_authz_core expr_check_authorization: ``want_user``)
    wants_user: bool


@dataclass(frozen=True, slots=True)
class UserProvider:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ValidUserProvider:
    pass


@dataclass(frozen=True, slots=True)
class GroupProvider:
    names: tuple[str, ...]


Provider: TypeAlias = (AllProvider | IpProvider | HostProvider | LocalProvider | EnvProvider
                       | MethodProvider | ExprProvider | UserProvider | ValidUserProvider
                       | GroupProvider)


@dataclass(frozen=True, slots=True)
class Require:
    """One ``Require [not] provider args`` line; ``limited``: the methods of the
    ``<Limit>``/``<LimitExcept>`` around it."""

    provider: Provider
    text: str
    negate: bool = False
    limited: Methods = ALL_METHODS


@dataclass(frozen=True, slots=True)
class Group:
    """``<RequireAll>`` (op "all"), ``<RequireAny>`` (op "any"), ``<RequireNone>``
    (op "any", negated), the implicit RequireAny of a section's Require lines, or
    (``merged``) what ``AuthMerging`` builds. ``limited`` is the union of the
    children's (mod_authz_core keeps ``section->limited |= child->limited``)."""

    op: Op
    children: tuple[Node, ...]
    negate: bool = False
    merged: bool = False
    limited: Methods = NO_METHODS

    @staticmethod
    def of(op: Op, children: tuple[Node, ...], negate: bool = False,
           merged: bool = False) -> Group:
        limited = NO_METHODS
        for child in children:
            limited = limited | child.limited
        return Group(op, children, negate, merged, limited)

    @property
    def label(self) -> str:
        """mod_authz_core ``format_authz_command`` for a section."""
        word = ("NotAll" if self.negate else "All") if self.op == "all" else \
            ("None" if self.negate else "Any")
        return f"AuthMerging {word}" if self.merged else f"<Require{word}>"


Node: TypeAlias = Require | Group


def always_granted(node: Node | None) -> bool:
    """Whether ``node`` grants every request (no tree; or a RequireAny holding a plain
    ``Require all granted``): the common case, decided without looking at the request."""
    if node is None:
        return True
    return isinstance(node, Group) and node.op == "any" and not node.negate and any(
        isinstance(c, Require) and c.provider == AllProvider(True) and not c.negate
        and c.limited == ALL_METHODS for c in node.children)


def needs_host(node: Node | None) -> bool:
    """Whether evaluating ``node`` may read ``Facts.remote_host`` (a DNS lookup)."""
    if node is None:
        return False
    if isinstance(node, Require):
        return isinstance(node.provider, HostProvider)
    return any(needs_host(child) for child in node.children)


def _check(provider: Provider, facts: Facts) -> Decision:
    """Each provider's ``check_authorization``."""
    if isinstance(provider, AllProvider):
        return "granted" if provider.granted else "denied"
    if isinstance(provider, IpProvider):
        return "granted" if any(s.contains(facts.client_addr) for s in provider.subnets) \
            else "denied"
    if isinstance(provider, LocalProvider):
        local = (facts.client_addr == facts.server_addr and facts.client_addr != "") or \
            LOOPBACK_V4.contains(facts.client_addr) or LOOPBACK_V6.contains(facts.client_addr)
        return "granted" if local else "denied"
    if isinstance(provider, HostProvider):
        # "authz_host_module only rules out the request, it never grants it" unless the
        # double-reverse name is in one of the domains
        name = facts.remote_host
        return "granted" if name is not None and any(in_domain(d, name)
                                                      for d in provider.names) else "denied"
    if isinstance(provider, EnvProvider):
        return "granted" if any(n in facts.env for n in provider.names) else "denied"
    if isinstance(provider, MethodProvider):
        return "granted" if method_key(facts.method) in provider.methods else "denied"
    if isinstance(provider, ExprProvider):
        if provider.expr.evaluate(facts):
            return "granted"
        # Apache answers "no user" even after authentication (then AH01629, not AH01631)
        return "denied-no-user" if provider.wants_user else "denied"
    if facts.user is None:
        return "denied-no-user"
    if isinstance(provider, ValidUserProvider):
        return "granted"
    if isinstance(provider, UserProvider):
        return "granted" if facts.user in provider.names else "denied"
    groups = facts.groups_of(facts.user)
    return "granted" if any(g in groups for g in provider.names) else "denied"


def _combine(group: Group, facts: Facts) -> Decision:
    """A section's children: the first "denied" ends a RequireAll, the first "granted"
    a RequireAny; "denied-no-user" wins where a user could still change the result."""
    result: Decision = "neutral"
    for child in group.children:
        got = _apply(child, facts, group.op)
        if got == "neutral":
            continue
        if group.op == "all":
            if got == "denied":
                return got
            if (got == "denied-no-user" and result != "denied") or result == "neutral":
                result = got
        else:
            if got == "granted":
                return got
            if (got == "denied-no-user" and result == "denied") or result == "neutral":
                result = got
    return result


def _apply(node: Node, facts: Facts, parent_op: Op) -> Decision:
    """mod_authz_core.c ``apply_authz_sections``."""
    if method_key(facts.method) not in node.limited:
        # "directive limited to other methods"
        return "granted" if parent_op == "all" else "neutral"
    result: Decision
    if isinstance(node, Require):
        result = _check(node.provider, facts)
    else:
        result = _combine(node, facts)
    if node.negate:
        # "we can not grant access simply because authorization was not rejected"
        if result == "granted":
            result = "denied"
        elif result in ("denied", "denied-no-user"):
            result = "neutral"
    return result


def evaluate(tree: Node | None, facts: Facts) -> Decision:
    """A section's Require tree for this request (None: no Require applies, which
    mod_authz_core grants: "authorization result: granted (no directives)")."""
    if tree is None:
        return "granted"
    return _apply(tree, facts, "all")


# --- per-directory values and their merge ---------------------------------------------------

Merging = Literal["off", "and", "or"]


@dataclass(frozen=True, slots=True)
class AuthzConf:
    """mod_authz_core's per-directory config: the section's Require tree (its implicit
    RequireAny), ``AuthMerging`` (None: not set) and ``AuthzSendForbiddenOnFailure``."""

    tree: Group | None = None
    merging: Merging | None = None
    forbidden_on_fail: bool | None = None

    def merge(self, new: AuthzConf) -> AuthzConf:
        """``merge_authz_core_dir_config(self, new)``: a section with Require lines
        replaces the inherited ones unless it says ``AuthMerging And|Or``."""
        base = self
        tree: Group | None
        merging: Merging | None
        if new.merging is None and new.tree is None and base.tree is not None:
            tree, merging = base.tree, base.merging
        elif new.merging in (None, "off") or (base.tree is None and new.tree is None):
            tree, merging = new.tree, new.merging
        else:
            if base.tree is not None and new.tree is not None:
                tree = Group.of("all" if new.merging == "and" else "any",
                                (base.tree, new.tree), merged=True)
            else:
                tree = base.tree if base.tree is not None else new.tree
            merging = new.merging
        forbidden = base.forbidden_on_fail if new.forbidden_on_fail is None \
            else new.forbidden_on_fail
        return AuthzConf(tree, merging, forbidden)


HostRule = Literal["all", "ip", "host", "env", "nenv"]


@dataclass(frozen=True, slots=True)
class HostMatch:
    """One word of ``Allow from``/``Deny from``."""

    kind: HostRule
    value: str = ""
    subnet: Subnet | None = None
    limited: Methods = ALL_METHODS


Order = Literal["allow,deny", "deny,allow", "mutual-failure"]


@dataclass(frozen=True, slots=True)
class AccessCompat:
    """mod_access_compat's per-directory config. It has no merge function: the most
    specific section holding any of its directives replaces the inherited one whole
    ("dir merger --- default is to override"). ``orders``/``satisfies``: each
    directive with the methods it was written for (later ones win)."""

    orders: tuple[tuple[Methods, Order], ...] = ()
    allows: tuple[HostMatch, ...] = ()
    denys: tuple[HostMatch, ...] = ()
    satisfies: tuple[tuple[Methods, Literal["all", "any"]], ...] = ()

    def order_for(self, method: str) -> Order:
        found: Order = "deny,allow"  # create_access_compat_dir_config
        for methods, order in self.orders:
            if method_key(method) in methods:
                found = order
        return found

    def satisfy_for(self, method: str) -> Literal["all", "any"] | None:
        found: Literal["all", "any"] | None = None  # SATISFY_NOSPEC
        for methods, value in self.satisfies:
            if method_key(method) in methods:
                found = value
        return found

    @property
    def needs_host(self) -> bool:
        return any(m.kind == "host" for m in self.allows + self.denys)


def _find(rules: tuple[HostMatch, ...], facts: Facts) -> bool:
    """mod_access_compat.c ``find_allowdeny``."""
    method = method_key(facts.method)
    for rule in rules:
        if method not in rule.limited:
            continue
        if rule.kind == "all":
            return True
        if rule.kind == "env" and rule.value in facts.env:
            return True
        if rule.kind == "nenv" and rule.value not in facts.env:
            return True
        if rule.kind == "ip" and rule.subnet is not None \
                and rule.subnet.contains(facts.client_addr):
            return True
        if rule.kind == "host" and facts.remote_host is not None \
                and in_domain(rule.value, facts.remote_host):
            return True
    return False


def allowed_by_host(conf: AccessCompat | None, facts: Facts) -> bool:
    """mod_access_compat.c ``check_dir_access``: Order/Allow/Deny for this request."""
    if conf is None:
        return True
    order = conf.order_for(facts.method)
    if order == "allow,deny":
        return _find(conf.allows, facts) and not _find(conf.denys, facts)
    if order == "deny,allow":
        return not _find(conf.denys, facts) or _find(conf.allows, facts)
    return _find(conf.allows, facts) and not _find(conf.denys, facts)


# --- the access phase (server/request.c ap_process_request_internal) ---------------------

Outcome = Literal["granted", "denied-host", "denied", "needs-user"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The access phase before authentication. ``outcome``: ``"granted"``;
    ``"denied-host"`` (403, mod_access_compat's AH01797); ``"denied"`` (403,
    mod_authz_core's AH01630); ``"needs-user"`` (the Require tree wants an authenticated
    user: authentication runs, then ``evaluate`` again with the user). ``host_denied``:
    Order/Allow/Deny refused the client (logged as AH01797 even when ``Satisfy Any``
    lets the Require tree decide). ``satisfy_any``: which of Apache's two "no
    authentication done" messages applies."""

    outcome: Outcome
    host_denied: bool = False
    satisfy_any: bool = False


def decide(tree: Node | None, compat: AccessCompat | None, facts: Facts) -> Verdict:
    """Order/Allow/Deny (the access_checker hook), then the Require tree without a user
    (access_checker_ex), combined as ``Satisfy`` says."""
    host_ok = allowed_by_host(compat, facts)
    satisfy_any = compat is not None and compat.satisfy_for(facts.method) == "any"
    if satisfy_any and host_ok:
        return Verdict("granted", satisfy_any=True)
    if not satisfy_any and not host_ok:
        return Verdict("denied-host", host_denied=True)
    result = evaluate(tree, facts)
    outcome: Outcome = "granted" if result == "granted" else \
        "needs-user" if result == "denied-no-user" else "denied"
    return Verdict(outcome, host_denied=not host_ok, satisfy_any=satisfy_any)
