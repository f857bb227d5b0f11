"""``ErrorLogFormat``: one message rendered with a parsed format (server/log.c
``do_errorlog_format``; ``config.errorformat`` parses it).

Owns what each item writes and the field rules. The items:
``%%``, ``%t`` (``%{u}t`` with microseconds, ``%{cu}t`` compact ISO), ``%l``, ``%m``,
``%M``, ``%P``, ``%T`` (``%{g}T``), ``%a`` (``%{c}a``), ``%A``, ``%v``, ``%V``,
``%{NAME}e``, ``%{NAME}i``, and ``%E``, ``%F``, ``%k``, ``%L``, ``%{NAME}n``, which
cgihttpd has no value for (so they are empty, as Apache's are when it has none). The
modifiers: ``-`` (an empty item logs "-"), ``+`` (an empty item drops the line), a
level number (the item only for messages of that level or less severe: ``%7...`` at
debug). Fields: ``% ``, and
any literal text starting with a space, begin a field; an empty item without ``-``
removes what its field wrote so far and the rest of it; ``\\ `` is a space that does
not start one.

Pure: values in, a line out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cgihttpd.config.errorformat import Item
from cgihttpd.logs.error import LEVELS, error_ctime, escape_errorlog_item


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One message and what is known around it."""

    when: float
    level: str
    module: str
    pid: int
    tid: int | None
    message: str
    client: tuple[str, int] | None = None
    local: tuple[str, int] | None = None
    server_name: str = ""
    #: for a request's messages: its fields (lower-case names), variables, host
    headers: Sequence[tuple[str, str]] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    host: str = ""


def format_error_message(items: Sequence[Item], info: ErrorInfo) -> str | None:
    """The line for ``info`` (without its end), or None when a ``+`` item is empty."""
    out: list[str] = []
    field_start = 0
    skipping = False
    rank = LEVELS.index(info.level) if info.level in LEVELS else 0
    for item in items:
        if item.separator:
            if skipping:
                skipping = False
            else:
                field_start = len(out)
        if item.tag == "M":
            out.append(escape_errorlog_item(info.message))
            continue
        if skipping:
            continue
        if not item.tag:
            out.append(item.text)
            continue
        if item.min_level > rank:
            del out[field_start:]
            skipping = True
            continue
        value = _value(item, info)
        if value:
            out.append(value)
        elif item.required:
            return None
        elif item.hyphen:
            out.append("-")
        else:
            del out[field_start:]
            skipping = True
    return "".join(out)


def _value(item: Item, info: ErrorInfo) -> str:
    tag, arg = item.tag, item.arg
    if tag == "t":
        if "c" in arg:
            us = int(round(info.when * 1_000_000))
            secs, frac = divmod(us, 1_000_000)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs))
            return f"{stamp}.{frac:06d}" if "u" in arg else stamp
        full = error_ctime(info.when)
        return full if "u" in arg else full[:19] + full[26:]
    if tag == "l":
        return info.level
    if tag == "m":
        return info.module
    if tag == "P":
        return str(info.pid)
    if tag == "T":
        return "" if info.tid is None else str(info.tid)
    if tag == "a":
        return "" if info.client is None else f"{info.client[0]}:{info.client[1]}"
    if tag == "A":
        return "" if info.local is None else f"{info.local[0]}:{info.local[1]}"
    if tag == "v":
        return info.server_name
    if tag == "V":
        return info.host
    if tag == "e":
        return escape_errorlog_item(info.env.get(arg, ""))
    if tag == "i":
        low = arg.lower()
        return escape_errorlog_item(", ".join(v for k, v in info.headers if k == low))
    return ""  # %E %F %k %L %n: nothing cgihttpd can say
