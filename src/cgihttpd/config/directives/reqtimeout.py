"""mod_reqtimeout's ``RequestReadTimeout``: the header and body read deadlines as
``ReadTimeout`` values, with mod_reqtimeout.c's rules and messages. The defaults (module
loaded, or not) are applied by ``loader``."""

from __future__ import annotations

import math
import re

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.readtimeout import ReadTimeout
from cgihttpd.config.tree import Node


def _strtol(text: str) -> int:
    """mod_reqtimeout parse_int: strtol, the whole text, not negative."""
    m = re.match(r"\s*[+-]?\d+", text)
    if m is None:
        raise ValueError(f"Value '{text}' not numerical")
    if m.end() != len(text):
        raise ValueError(f"Cannot parse '{text[m.end():]}'")
    value = int(m.group(0))
    if value < 0:
        raise ValueError("Value must be non-negative")
    return value


def parse_read_timeout(value: str) -> ReadTimeout:
    """One stage of RequestReadTimeout, ``timeout[-maxtimeout][,MinRate=rate]``, with
    mod_reqtimeout's ``set_reqtimeout_param`` rules and messages (checked with apache2 -t):
    a range needs MinRate; MinRate without a maximum extends the deadline without bound;
    a timeout of 0 disables the stage."""
    pos = value.lower().find(",minrate=")
    maximum = 0
    if pos >= 0:
        rate = _strtol(value[pos + len(",minrate="):])
        if rate == 0:
            raise ValueError("Minimum data rate must be larger than 0")
        initial_text, dash, max_text = value[:pos].partition("-")
        if dash:
            maximum = _strtol(max_text)
        initial = _strtol(initial_text)
    else:
        if "-" in value:
            raise ValueError("Must set MinRate option if using timeout range")
        rate, initial = 0, _strtol(value)
    if maximum and initial >= maximum:
        raise ValueError("Maximum timeout must be larger than initial timeout")
    if rate == 0:
        return ReadTimeout(float(initial), float(initial), 0)
    return ReadTimeout(float(initial), float(maximum) if maximum else math.inf, rate)


@directive("RequestReadTimeout", "RAW", "Set various timeout parameters for TLS handshake "
           "and/or reading request headers and body")
def _request_read_timeout(ctx: Ctx, node: Node) -> None:
    for word in node.args:
        key, eq, value = word.partition("=")
        if not eq:
            raise ConfigError("Invalid RequestReadTimeout parameter. Parameter must be in "
                              "the form 'key=value'")
        stage = key.lower()
        try:
            if stage not in ("handshake", "header", "body"):
                raise ValueError("Unknown RequestReadTimeout parameter")
            timeout = parse_read_timeout(value)
        except ValueError as exc:
            raise ConfigError(f"RequestReadTimeout: {word}: {exc}") from None
        if not ctx.server.is_main and stage == "body":
            # the body is read once the virtual host is known: the vhost's own
            ctx.server.body_timeout = timeout
            continue
        if not ctx.server.is_main and stage == "header":
            # one head deadline per listening server: the HTTP layer reads the head
            # before it knows the virtual host
            ctx.draft.warnings.append(f"{node.source}: RequestReadTimeout header= is "
                                      "applied server-wide by cgihttpd, not per virtual "
                                      "host")
        ctx.draft.read_timeouts[stage] = timeout  # "handshake" is TLS only: unused
