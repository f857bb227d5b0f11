"""The ``-S`` report: listeners and virtual hosts, laid out as ``apachectl -S``.

This module owns the text only (server/vhost.c ``ap_dump_vhost_config`` for the
layout: ``%-22s`` address column, ``%8s`` and ``%16s`` indents). Beyond Apache it also
prints, under each virtual host, its document root and log files, and the listeners,
because the issue asks for them. It reads nothing but the ServerConfig.
"""

from __future__ import annotations

from cgihttpd.config.model import Address, ServerConfig, VirtualHost


def _addr(a: Address) -> str:
    return f"{a.host}:{'*' if a.port is None else a.port}"


def _where(v: VirtualHost) -> str:
    return f"({v.source.file}:{v.source.line})"


def _details(v: VirtualHost) -> list[str]:
    lines = [f"{'':16} DocumentRoot \"{v.document_root}\"",
             f"{'':16} ErrorLog \"{v.error_log}\""]
    for log in v.custom_logs:
        fmt = log.nickname if log.nickname else f'"{log.format}"'
        lines.append(f"{'':16} CustomLog \"{log.target}\" {fmt}")
    return lines


def _aliases(v: VirtualHost) -> list[str]:
    out = []
    for name in v.server_aliases:
        wild = any(c in name for c in "*?")
        out.append(f"{'':16} {'wild alias' if wild else 'alias'} {name}")
    return out


def describe(config: ServerConfig) -> str:
    lines = ["VirtualHost configuration:"]
    chains: dict[Address, list[VirtualHost]] = {}
    for v in config.vhosts:
        for a in v.addresses:
            chains.setdefault(a, []).append(v)
    # Apache prints specific addresses first, then the wildcard ones
    order = sorted(chains, key=lambda a: (a.host == "*", a.host, a.port or 0))
    for a in order:
        vs = chains[a]
        if len(vs) == 1:
            v = vs[0]
            lines.append(f"{_addr(a):<22} {v.server_name} {_where(v)}")
            lines.extend(_aliases(v))
            lines.extend(_details(v))
            continue
        lines.append(f"{_addr(a):<22} is a NameVirtualHost")
        lines.append(f"{'':8} default server {vs[0].server_name} {_where(vs[0])}")
        for v in vs:
            port = "*" if a.port is None else str(a.port)
            lines.append(f"{'':8} port {port} namevhost {v.server_name} {_where(v)}")
            lines.extend(_aliases(v))
            lines.extend(_details(v))
    m = config.main
    lines.append(f'ServerRoot: "{config.server_root}"')
    lines.append(f'Main DocumentRoot: "{m.document_root}"')
    lines.append(f'Main ErrorLog: "{m.error_log}"')
    for log in m.custom_logs:
        fmt = log.nickname if log.nickname else f'"{log.format}"'
        lines.append(f'Main CustomLog: "{log.target}" {fmt}')
    for a in config.listens:
        lines.append(f"Listen: {_addr(a)}")
    if config.pid_file:
        lines.append(f'PidFile: "{config.pid_file}"')
    # main.c dump_config: "Define: NAME" or "Define: NAME=VALUE", in the order defined
    for d, value in config.define_values or [(d, None) for d in sorted(config.defines)]:
        lines.append(f"Define: {d}" if value is None else f"Define: {d}={value}")
    # unixd_dump_config: the name as written and the id it resolved to
    if config.user:
        uid = "" if config.user_id is None else f" id={config.user_id}"
        lines.append(f'User: name="{config.user}"{uid}')
    if config.group:
        gid = "" if config.group_id is None else f" id={config.group_id}"
        lines.append(f'Group: name="{config.group}"{gid}')
    return "\n".join(lines) + "\n"
