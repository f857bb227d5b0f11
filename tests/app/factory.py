"""Build ``ServerConfig``/``VirtualHost`` values directly, for tests of the request
path that should not depend on the config parser."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cgihttpd.authz import (
    AllProvider,
    AuthzConf,
    Facts,
    Group,
    GroupProvider,
    IpProvider,
    LocalProvider,
    MethodProvider,
    Provider,
    Require,
    UserProvider,
    ValidUserProvider,
    decide,
    method_key,
    parse_subnet,
)
from cgihttpd.config.model import (
    Address,
    Alias,
    DirConf,
    Limits,
    OptionsSpec,
    Section,
    ServerConfig,
    Source,
    VirtualHost,
)

SRC = Source("test.conf", 1)


def opts(*names: str) -> OptionsSpec:
    """``Options a b`` or ``Options +a -b`` (all names signed, or none)."""
    if names and all(n[0] in "+-" for n in names):
        return OptionsSpec(add=frozenset(n[1:] for n in names if n[0] == "+"),
                           remove=frozenset(n[1:] for n in names if n[0] == "-"))
    return OptionsSpec(absolute=frozenset(names))


def _provider(words: list[str]) -> Provider:
    name, args = words[0], words[1:]
    if name == "all":
        return AllProvider(args == ["granted"])
    if name == "local":
        return LocalProvider()
    if name == "method":
        return MethodProvider(frozenset(method_key(m) for m in args))
    if name == "valid-user":
        return ValidUserProvider()
    if name == "user":
        return UserProvider(tuple(args))
    if name == "group":
        return GroupProvider(tuple(args))
    assert name == "ip", name
    return IpProvider(tuple(parse_subnet(*(a.split("/", 1) + [None])[:2]) for a in args))


def authz(*lines: str) -> AuthzConf:
    """A section's Require lines, as written after "Require " ("all denied",
    "method GET POST", "local", "ip 10.0.0.0/8", "valid-user", "user a b", "group g"), as its implicit RequireAny."""
    return AuthzConf(Group.of("any", tuple(Require(_provider(line.split()), f"Require {line}")
                                           for line in lines)))


def require_of(conf: DirConf) -> str | None:
    """The Require lines of ``conf``'s tree as written after "Require ", joined by
    "; " (None: no tree)."""
    tree = conf.require_tree
    if tree is None:
        return None
    return "; ".join(c.text[len("Require "):].strip() if isinstance(c, Require) else c.label
                     for c in tree.children)


def verdicts(target: Any, facts: Facts | None = None) -> list[str]:
    """What the access phase says of each of ``target.access`` for ``facts`` (by
    default a GET from 127.0.0.1)."""
    facts = facts or Facts(client_addr="127.0.0.1", server_addr="127.0.0.1")
    return [decide(conf.require_tree, conf.access_compat, facts).outcome
            for conf, _ in target.access]


def dirconf(**conf: Any) -> DirConf:
    """``DirConf(**conf)`` where ``require="all denied"`` stands for that Require line."""
    line = conf.pop("require", None)
    if line is not None:
        conf["authz"] = authz(line)
    return DirConf(**conf)


def directory(pattern: str, regex: bool = False, **conf: Any) -> Section:
    return Section("directory", pattern, regex, dirconf(**conf), SRC)


def files(pattern: str, regex: bool = False, **conf: Any) -> Section:
    return Section("files", pattern, regex, dirconf(**conf), SRC)


def location(pattern: str, regex: bool = False, **conf: Any) -> Section:
    return Section("location", pattern, regex, dirconf(**conf), SRC)


def alias(url: str, path: str, kind: str = "alias") -> Alias:
    return Alias(kind, url, path, SRC)  # type: ignore[arg-type]


def make_vhost(document_root: str = "/srv/www", **kw: Any) -> VirtualHost:
    base = dict(
        addresses=(Address("*", 80),), server_name="localhost", server_aliases=(),
        server_admin="admin@example.com", document_root=document_root,
        error_log="/dev/stderr", log_level="warn", custom_logs=(), aliases=(),
        base=DirConf(), sections=(), timeout=60.0, keepalive=True, keepalive_timeout=5.0,
        max_keepalive_requests=100, server_signature="on", cgi_script_timeout=None,
        script_log=None, source=SRC,
    )
    base.update(kw)
    return VirtualHost(**base)  # type: ignore[arg-type]


def make_config(vhosts: tuple[VirtualHost, ...] = (), main: VirtualHost | None = None,
                **kw: Any) -> ServerConfig:
    main = main or replace(make_vhost(), addresses=(), is_main=True, server_name="main")
    base = dict(
        server_root="/", files=(), listens=(Address("*", 80),), main=main, vhosts=vhosts,
        limits=Limits(), server_tokens="Full", user=None, group=None, pid_file=None,
        modules=frozenset({"cgi_module", "dir_module", "alias_module", "mime_module",
                           "autoindex_module"}),
        mime_types=((".html", "text/html"), (".txt", "text/plain"), (".css", "text/css"),
                    (".gz", "application/gzip"), (".png", "image/png")),
    )
    base.update(kw)
    return ServerConfig(**base)  # type: ignore[arg-type]
