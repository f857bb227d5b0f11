"""``cgihttpd.authz``: mod_authz_core's evaluation of Require trees, the providers,
AuthMerging, mod_access_compat's Order/Allow/Deny and Satisfy, as values."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.authz import (
    ALL_METHODS,
    AccessCompat,
    AllProvider,
    AuthzConf,
    EnvProvider,
    ExprProvider,
    Facts,
    Group,
    GroupProvider,
    HostMatch,
    HostProvider,
    IpProvider,
    LocalProvider,
    MethodProvider,
    Methods,
    Node,
    Require,
    SubnetError,
    UserProvider,
    ValidUserProvider,
    allowed_by_host,
    always_granted,
    decide,
    evaluate,
    in_domain,
    needs_host,
    parse_subnet,
)
from cgihttpd.expr import ExprError, parse_expr

LOCAL = Facts(client_addr="127.0.0.1", server_addr="127.0.0.1", method="GET", uri="/a",
              host_header="h.test")
REMOTE = replace(LOCAL, client_addr="10.2.3.4")


def req(provider: object, negate: bool = False, limited: Methods = ALL_METHODS) -> Require:
    return Require(provider, "Require ...", negate, limited)  # type: ignore[arg-type]


GRANT = req(AllProvider(True))
DENY = req(AllProvider(False))
USER = req(ValidUserProvider())


def any_(*children: Node, negate: bool = False) -> Group:
    return Group.of("any", children, negate)


def all_(*children: Node, negate: bool = False) -> Group:
    return Group.of("all", children, negate)


# --- subnets ---------------------------------------------------------------------------


@pytest.mark.parametrize(("addr", "mask", "inside", "outside"), [
    ("10.1", None, "10.1.200.3", "10.2.0.1"),
    ("10.", None, "10.9.9.9", "11.0.0.1"),
    ("10.0.0.0", "8", "10.255.0.1", "11.0.0.0"),
    ("10.0.0.0", "255.0.0.0", "10.1.2.3", "9.1.2.3"),
    ("127.0.0.1", None, "::ffff:127.0.0.1", "127.0.0.2"),
    ("2001:db8::", "32", "2001:db8:1::5", "2001:db9::1"),
    ("::1", None, "::1", "127.0.0.1"),
])
def test_subnets_match_as_apr_does(addr: str, mask: str | None, inside: str,
                                   outside: str) -> None:
    subnet = parse_subnet(addr, mask)
    assert subnet.contains(inside)
    assert not subnet.contains(outside)


@pytest.mark.parametrize(("addr", "mask", "kind"), [
    ("example.org", None, "EINVAL"), ("", None, "EINVAL"), ("10.0.0.300", None, "EBADIP"),
    ("1.2.3.4.5", None, "EBADIP"), ("10..1", None, "EBADIP"), ("10.1", "16", "EBADIP"),
    ("10.0.0.0", "33", "EBADMASK"), ("10.0.0.0", "0", "EBADMASK"),
    ("fe80::", "255.0.0.0", "EBADMASK"), ("::ffff:1.2.3.4", None, "EBADIP"),
])
def test_bad_subnets(addr: str, mask: str | None, kind: str) -> None:
    with pytest.raises(SubnetError) as info:
        parse_subnet(addr, mask)
    assert info.value.kind == kind


@given(st.integers(0, 2**32 - 1), st.integers(1, 32), st.integers(0, 2**32 - 1))
def test_a_cidr_holds_exactly_the_addresses_with_its_prefix(net: int, bits: int,
                                                            addr: int) -> None:
    import ipaddress
    subnet = parse_subnet(str(ipaddress.IPv4Address(net)), str(bits))
    same = (net >> (32 - bits)) == (addr >> (32 - bits))
    assert subnet.contains(str(ipaddress.IPv4Address(addr))) == same


def test_in_domain_matches_whole_labels() -> None:
    assert in_domain("example.org", "www.example.org")
    assert in_domain("example.org", "EXAMPLE.org")
    assert in_domain(".example.org", "a.example.org")
    assert not in_domain("example.org", "badexample.org")
    assert not in_domain("www.example.org", "example.org")


# --- providers ---------------------------------------------------------------------------


def test_providers() -> None:
    ip = req(IpProvider((parse_subnet("127.0.0.1"), parse_subnet("10.0.0.0", "8"))))
    assert evaluate(ip, LOCAL) == "granted"
    assert evaluate(ip, replace(LOCAL, client_addr="11.0.0.1")) == "denied"
    assert evaluate(req(LocalProvider()), LOCAL) == "granted"
    assert evaluate(req(LocalProvider()), REMOTE) == "denied"
    # the server's own address is local too
    assert evaluate(req(LocalProvider()), replace(REMOTE, server_addr="10.2.3.4")) == "granted"
    assert evaluate(req(EnvProvider(("A", "B"))), replace(LOCAL, env={"B": ""})) == "granted"
    assert evaluate(req(EnvProvider(("A",))), LOCAL) == "denied"
    method = req(MethodProvider(frozenset({"GET", "POST"})))
    assert evaluate(method, replace(LOCAL, method="HEAD")) == "granted"  # HEAD is M_GET
    assert evaluate(method, replace(LOCAL, method="DELETE")) == "denied"
    host = req(HostProvider(("example.org",)))
    assert evaluate(host, LOCAL) == "denied"  # no confirmed name
    assert evaluate(host, replace(LOCAL, remote_host="a.example.org")) == "granted"
    assert needs_host(any_(GRANT, host)) and not needs_host(any_(GRANT))


def test_user_providers_need_a_user() -> None:
    groups = {"ann": frozenset({"staff"})}
    anon = replace(LOCAL, groups_of=lambda u: groups.get(u, frozenset()))
    ann = replace(anon, user="ann")
    bob = replace(anon, user="bob")
    for provider in (ValidUserProvider(), UserProvider(("ann",)), GroupProvider(("staff",))):
        assert evaluate(req(provider), anon) == "denied-no-user"
        assert evaluate(req(provider), ann) == "granted"
    assert evaluate(req(UserProvider(("ann",))), bob) == "denied"
    assert evaluate(req(GroupProvider(("staff",))), bob) == "denied"
    assert evaluate(req(ValidUserProvider()), bob) == "granted"


# --- mod_authz_core's logic -----------------------------------------------------------------


def test_no_tree_is_granted() -> None:
    assert evaluate(None, LOCAL) == "granted"


def test_always_granted_is_only_said_of_trees_that_grant_everyone() -> None:
    assert always_granted(None) and always_granted(any_(DENY, GRANT))
    assert not always_granted(any_(DENY)) and not always_granted(all_(GRANT))
    assert not always_granted(any_(req(AllProvider(True), limited=Methods(frozenset({"GET"})))))
    assert not always_granted(any_(GRANT, negate=True))


def test_require_any_and_all() -> None:
    assert evaluate(any_(DENY, GRANT), LOCAL) == "granted"
    assert evaluate(all_(GRANT, DENY), LOCAL) == "denied"
    assert evaluate(all_(GRANT, GRANT), LOCAL) == "granted"
    assert evaluate(any_(DENY), LOCAL) == "denied"


def test_negation_never_grants() -> None:
    not_local = req(LocalProvider(), negate=True)
    # "Require not" turns granted into denied and denied into neutral
    assert evaluate(all_(not_local), REMOTE) == "neutral"
    assert evaluate(all_(not_local), LOCAL) == "denied"
    assert evaluate(all_(GRANT, not_local), REMOTE) == "granted"
    assert evaluate(all_(GRANT, not_local), LOCAL) == "denied"
    # RequireNone: none may pass; alone it can only be neutral or denied
    assert evaluate(all_(GRANT, any_(DENY, negate=True)), LOCAL) == "granted"
    assert evaluate(all_(GRANT, any_(GRANT, negate=True)), LOCAL) == "denied"


def test_a_user_could_still_change_it() -> None:
    assert evaluate(any_(DENY, USER), LOCAL) == "denied-no-user"
    assert evaluate(all_(GRANT, USER), LOCAL) == "denied-no-user"
    # a RequireAll already denied: no user can help
    assert evaluate(all_(USER, DENY), LOCAL) == "denied"
    assert evaluate(any_(USER, GRANT), LOCAL) == "granted"


def test_limit_restricts_lines_to_methods() -> None:
    post = Methods(frozenset({"POST"}))
    tree = any_(req(AllProvider(False), limited=post))
    # other methods: the top-level section is "granted (directive limited to other
    # methods)"
    assert evaluate(tree, LOCAL) == "granted"
    assert evaluate(tree, replace(LOCAL, method="POST")) == "denied"
    tree = any_(GRANT, req(AllProvider(False), limited=post))
    assert evaluate(tree, replace(LOCAL, method="POST")) == "granted"
    except_get = Methods(frozenset({"GET"}), True)
    tree = any_(req(AllProvider(False), limited=except_get))
    assert evaluate(tree, replace(LOCAL, method="HEAD")) == "granted"
    assert evaluate(tree, replace(LOCAL, method="PUT")) == "denied"


LEAVES = st.sampled_from([GRANT, DENY, USER, req(LocalProvider()),
                          req(LocalProvider(), negate=True), req(ValidUserProvider(), True)])


def trees(depth: int = 3) -> st.SearchStrategy[Node]:
    return st.recursive(LEAVES, lambda kids: st.builds(
        lambda op, children, negate: Group.of(op, tuple(children), negate),
        st.sampled_from(["all", "any"]), st.lists(kids, min_size=1, max_size=4),
        st.booleans()), max_leaves=12)


@given(trees(), st.sampled_from([LOCAL, REMOTE]))
def test_results_and_negation_invariants(tree: Node, facts: Facts) -> None:
    result = evaluate(tree, facts)
    assert result in ("granted", "denied", "denied-no-user", "neutral")
    flipped = replace(tree, negate=not tree.negate)
    # negating a node never grants what the node did not deny (and vice versa)
    if evaluate(flipped, facts) == "granted":
        assert result not in ("granted", "neutral")
    # a user can only move "denied-no-user"; the rest is decided without one
    with_user = evaluate(tree, replace(facts, user="ann"))
    if result != "denied-no-user" and not _has_user_leaf(tree):
        assert with_user == result
    assert with_user != "denied-no-user"


def _has_user_leaf(node: Node) -> bool:
    if isinstance(node, Require):
        return isinstance(node.provider, ValidUserProvider)
    return any(_has_user_leaf(c) for c in node.children)


@given(trees(), trees())
def test_any_and_all_of_two(a: Node, b: Node) -> None:
    ra, rb = evaluate(any_(a), LOCAL), evaluate(any_(b), LOCAL)
    either = evaluate(any_(a, b), LOCAL)
    both = evaluate(all_(a, b), LOCAL)
    if "granted" in (ra, rb):
        assert either == "granted"
    if "denied" in (evaluate(all_(a), LOCAL), evaluate(all_(b), LOCAL)):
        assert both == "denied"


# --- AuthMerging --------------------------------------------------------------------------


def test_auth_merging() -> None:
    parent = AuthzConf(any_(req(IpProvider((parse_subnet("10.0.0.0", "8"),)))))
    child = AuthzConf(any_(GRANT))
    # Off (the default): the child's lines replace the parent's
    assert evaluate(parent.merge(child).tree, REMOTE) == "granted"
    assert evaluate(parent.merge(child).tree, LOCAL) == "granted"
    anded = parent.merge(replace(child, merging="and"))
    assert evaluate(anded.tree, LOCAL) == "denied" and evaluate(anded.tree, REMOTE) == "granted"
    assert anded.tree is not None and anded.tree.label == "AuthMerging All"
    ored = parent.merge(AuthzConf(any_(DENY), merging="or"))
    assert evaluate(ored.tree, REMOTE) == "granted" and evaluate(ored.tree, LOCAL) == "denied"
    # a section without Require keeps the inherited tree
    assert parent.merge(AuthzConf(forbidden_on_fail=True)).tree == parent.tree
    # "AuthMerging Off" alone drops it (merge_authz_core_dir_config takes new whole)
    assert parent.merge(AuthzConf(merging="off")).tree is None
    # And with nothing inherited: the child's own
    assert AuthzConf().merge(replace(child, merging="and")).tree == child.tree


# --- mod_access_compat -------------------------------------------------------------------


def rule(kind: str, value: str = "", methods: Methods = ALL_METHODS) -> HostMatch:
    subnet = parse_subnet(*value.split("/")) if kind == "ip" else None
    return HostMatch(kind, value, subnet, methods)  # type: ignore[arg-type]


def test_order_allow_deny() -> None:
    local = rule("ip", "127.0.0.1")
    every = rule("all")
    # Order Allow,Deny: denied unless allowed; a Deny wins over an Allow
    ad = AccessCompat(orders=((ALL_METHODS, "allow,deny"),), allows=(local,))
    assert allowed_by_host(ad, LOCAL) and not allowed_by_host(ad, REMOTE)
    assert not allowed_by_host(replace(ad, denys=(every,)), LOCAL)
    # Order Deny,Allow (the default): allowed unless denied; an Allow wins
    da = AccessCompat(denys=(every,), allows=(local,))
    assert allowed_by_host(da, LOCAL) and not allowed_by_host(da, REMOTE)
    assert allowed_by_host(AccessCompat(), REMOTE)
    mf = AccessCompat(orders=((ALL_METHODS, "mutual-failure"),), allows=(every,),
                      denys=(local,))
    assert allowed_by_host(mf, REMOTE) and not allowed_by_host(mf, LOCAL)
    assert allowed_by_host(None, REMOTE)


def test_allow_from_env_host_and_methods() -> None:
    env = AccessCompat(orders=((ALL_METHODS, "allow,deny"),), allows=(rule("env", "OK"),))
    assert not allowed_by_host(env, LOCAL)
    assert allowed_by_host(env, replace(LOCAL, env={"OK": "1"}))
    nenv = replace(env, allows=(rule("nenv", "BAD"),))
    assert allowed_by_host(nenv, LOCAL)
    assert not allowed_by_host(nenv, replace(LOCAL, env={"BAD": ""}))
    host = replace(env, allows=(rule("host", "example.org"),))
    assert host.needs_host
    assert allowed_by_host(host, replace(LOCAL, remote_host="www.example.org"))
    assert not allowed_by_host(host, LOCAL)
    post = Methods(frozenset({"POST"}))
    limited = AccessCompat(orders=((post, "allow,deny"),), denys=(rule("all", "", post),))
    assert allowed_by_host(limited, LOCAL)
    assert not allowed_by_host(limited, replace(LOCAL, method="POST"))


def test_satisfy() -> None:
    local_only = AccessCompat(orders=((ALL_METHODS, "allow,deny"),),
                              allows=(rule("ip", "127.0.0.1"),))
    user = any_(USER)
    # Satisfy All (the default): both must pass
    assert decide(user, local_only, REMOTE).outcome == "denied-host"
    assert decide(user, local_only, LOCAL).outcome == "needs-user"
    assert decide(any_(GRANT), local_only, LOCAL).outcome == "granted"
    # Satisfy Any: the host alone lets in; else the Require tree decides
    anyconf = replace(local_only, satisfies=((ALL_METHODS, "any"),))
    assert decide(user, anyconf, LOCAL).outcome == "granted"
    v = decide(user, anyconf, REMOTE)
    assert (v.outcome, v.host_denied, v.satisfy_any) == ("needs-user", True, True)
    assert decide(any_(DENY), anyconf, REMOTE).outcome == "denied"
    assert decide(None, None, REMOTE).outcome == "granted"


# --- expressions --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "local", "remote"), [
    ("%{REMOTE_ADDR} -ipmatch '127.0.0.0/8'", True, False),
    ("-R '10.0.0.0/8'", False, True),
    ("%{REQUEST_METHOD} == 'GET' && %{HTTP_HOST} != 'x'", True, True),
    ("%{REQUEST_URI} =~ m#^/a# || false", True, True),
    ("%{REQUEST_URI} !~ /^\\/a/", False, False),
    ("! (%{REQUEST_METHOD} in {'POST', 'PUT'})", True, True),
    ("%{HTTP_HOST} =~ /^H\\./i", True, True),
    ("'%{REMOTE_ADDR}' == '127.0.0.1'", True, False),
    ("true && !false", True, True),
])
def test_expressions(text: str, local: bool, remote: bool) -> None:
    expr = parse_expr(text)
    assert (expr.evaluate(LOCAL), expr.evaluate(REMOTE)) == (local, remote)


@pytest.mark.parametrize(("text", "expected"), [
    ("%{HTTP:X-Forwarded-For} == '1.2.3.4, 5.6.7.8'", True),
    ("req('x-forwarded-for') =~ /^1\\./ && http('Accept') == ''", True),
    ("%{HTTP_USER_AGENT} == 'curl' && %{HTTP_REFERER} == 'r'", True),
    ("%{ENV:tag} == 'yes' && reqenv('none') == '' && env('tag') == 'yes'", True),
    ("-n %{ENV:tag} && -z %{ENV:none} && ! -z req('referer')", True),
    ("%{REQUEST_STATUS} -ge 400 && %{REQUEST_STATUS} -lt 500", True),
    ("%{REQUEST_STATUS} -eq 404 && 404 -ne 403 && 3 -le 3 && 4 -gt 3", True),
    ("%{QUERY_STRING} == 'a=1' && %{SERVER_PROTOCOL} == 'HTTP/1.1'", True),
    ("%{REQUEST_STATUS} -gt 'x'", False),
])
def test_request_expressions(text: str, expected: bool) -> None:
    facts = Facts(headers=(("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "5.6.7.8"),
                           ("user-agent", "curl"), ("referer", "r")),
                  env={"tag": "yes"}, status=404, query="a=1", protocol="HTTP/1.1")
    assert parse_expr(text).evaluate(facts) is expected


@pytest.mark.parametrize("text", [
    "%{TIME_HOUR} -gt 5", "%{REMOTE_ADDR} -gt", "file('/etc/passwd') == 'x'",
    "%{REMOTE_ADDR} ==", "(true", "req(X) == 'x'", "true false", "-n", "-q 'x'",
    "%{REMOTE_ADDR} -ipmatch %{HTTP_HOST}", "%{REQUEST_URI} =~ /(/",
])
def test_expressions_outside_the_subset_are_refused(text: str) -> None:
    with pytest.raises(ExprError):
        parse_expr(text)


def test_an_expression_on_remote_user_wants_a_user() -> None:
    expr = parse_expr("%{REMOTE_USER} == 'ann'")
    tree = any_(req(ExprProvider(expr, True)))
    assert evaluate(tree, LOCAL) == "denied-no-user"
    assert evaluate(tree, replace(LOCAL, user="ann")) == "granted"
    # mod_authz_core: false is "no user" even with one (checked on apache2: AH01629)
    assert evaluate(tree, replace(LOCAL, user="bob")) == "denied-no-user"


def test_an_expression_nested_too_deeply_is_refused_not_a_recursion_error() -> None:
    # found by tests/unit/test_fuzz_parsers.py: "true && " 1,200 times parsed, then
    # evaluating it (each request) raised RecursionError; 1,000 "!" failed to parse so
    from cgihttpd.expr import MAX_DEPTH
    for text in ("true && " * 1200 + "true", "!" * 1000 + "true",
                 "(" * 1000 + "true" + ")" * 1000):
        with pytest.raises(ExprError, match="nests deeper"):
            parse_expr(text)
    assert parse_expr("true && " * MAX_DEPTH + "true").evaluate(Facts())
    assert parse_expr("!" * MAX_DEPTH + "true").evaluate(Facts())
