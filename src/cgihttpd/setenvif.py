"""mod_setenvif's evaluation (mod_setenvif.c ``match_headers``): a list of
``EnvCondition``s applied to one request's attributes, changing its variables
(r->subprocess_env).

It owns the matching rules: which value an attribute stands for, ``$0``..``$9`` in a
value (ap_pregsub), unset by ``!``, variables' names compared without case (an apr
table). Pure: the caller gives the request's facts (``EnvAttributes``) and the variables
so far; it runs twice per request, the server's conditions at post-read-request and the
directory's at header-parser, both before access control (``Require env``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cgihttpd.authz import Facts
from cgihttpd.config.setenvif import UNSET, EnvCondition


@dataclass(frozen=True, slots=True)
class EnvAttributes:
    """What a condition can test, as Apache has them at the phase."""

    remote_addr: str
    #: ap_get_useragent_host(REMOTE_NAME): the address unless names are looked up
    remote_host: str
    server_addr: str
    method: str
    protocol: str
    #: r->uri: the raw path at post-read-request, decoded and normalised later
    uri: str
    #: request headers, lower-case names, in order
    headers: tuple[tuple[str, str], ...]
    #: the query string (SetEnvIfExpr's %{QUERY_STRING})
    query: str = ""


def apply_conditions(conds: Iterable[EnvCondition], attrs: EnvAttributes,
                     env: dict[str, str]) -> None:
    """Apply ``conds`` in order to ``env`` (changed in place; names keep their first
    spelling and are compared without case)."""
    last: str | None = None
    value = ""
    for cond in conds:
        if cond.expr is not None:
            # SetEnvIfExpr: the expression against the request and the variables so
            # far; it ends a run of conditions on one attribute
            last = None
            if cond.expr.evaluate(_facts(attrs, env)):
                _set(cond, env, None)
            continue
        name = cond.attribute.lower()
        # match_headers reads an attribute once for a run of conditions on it
        if name != last:
            last = name
            value = _value(cond, attrs, env)
        if cond.pattern is None:
            literal = cond.literal or ""
            if (literal.lower() in value.lower()) if cond.icase else (literal in value):
                _set(cond, env, None)
            continue
        m = cond.pattern.search(value)
        if m is not None:
            _set(cond, env, m)


def _facts(attrs: EnvAttributes, env: dict[str, str]) -> Facts:
    host = next((v for k, v in attrs.headers if k == "host"), "")
    return Facts(client_addr=attrs.remote_addr, server_addr=attrs.server_addr,
                 method=attrs.method, uri=attrs.uri, host_header=host, env=dict(env),
                 headers=attrs.headers, protocol=attrs.protocol, query=attrs.query)


def _value(cond: EnvCondition, attrs: EnvAttributes, env: dict[str, str]) -> str:
    special = cond.special
    if special == "remote_addr":
        return attrs.remote_addr
    if special == "server_addr":
        return attrs.server_addr
    if special == "remote_host":
        return attrs.remote_host
    if special == "request_uri":
        return attrs.uri
    if special == "request_method":
        return attrs.method
    if special == "request_protocol":
        return attrs.protocol
    names = cond.name_regex
    if names is not None:
        # the last header whose name matches; names are compared as received, which
        # cgihttpd keeps lower-case: the usual capitalisation is tried too
        found = ""
        for key, val in _merged(attrs.headers):
            if names.search(key) or names.search(_canonical(key)):
                found = val
        return found
    low = cond.attribute.lower()
    for key, val in _merged(attrs.headers):
        if key == low:
            return val
    got = _get(env, cond.attribute)
    return "" if got is None else got


def _merged(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """headers_in after apr_table_compress(MERGE): one entry per name, values joined."""
    out: dict[str, str] = {}
    for k, v in headers:
        out[k] = f"{out[k]}, {v}" if k in out else v
    return list(out.items())


def _canonical(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _get(env: dict[str, str], name: str) -> str | None:
    low = name.lower()
    for k, v in env.items():
        if k.lower() == low:
            return v
    return None


def _set(cond: EnvCondition, env: dict[str, str], m: re.Match[str] | None) -> None:
    for name, value in cond.features:
        existing = next((k for k in env if k.lower() == name.lower()), None)
        if value.startswith(UNSET):
            if existing is not None:
                del env[existing]
            continue
        if m is not None:
            value = substitute(value, m)
        env[existing if existing is not None else name] = value


def substitute(template: str, m: re.Match[str]) -> str:
    """ap_pregsub: ``$N`` is group N (empty when it took no part), ``\\c`` is c."""
    out: list[str] = []
    i = 0
    n = len(template)
    while i < n:
        c = template[i]
        if c == "$" and i + 1 < n and template[i + 1].isdigit():
            no = int(template[i + 1])
            if no <= (m.re.groups or 0):
                out.append(m.group(no) or "")
            i += 2
            continue
        if c == "\\" and i + 1 < n:
            out.append(template[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)
