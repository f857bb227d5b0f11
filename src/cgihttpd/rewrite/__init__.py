"""mod_rewrite: ``rules`` (the configuration as frozen values, PCRE patterns made
Python's) and ``engine`` (applying a rule set to one request, given its facts and a way
to stat files). Pure: no request, socket or file is touched here; ``resolve`` calls the
engine at Apache's two places (URL translation, the fixups) and turns its ``Outcome``
into a ``Target``."""

from __future__ import annotations

from cgihttpd.rewrite.engine import (
    Facts,
    FileTests,
    Outcome,
    rewrite_directory,
    rewrite_server,
)
from cgihttpd.rewrite.rules import (
    Cond,
    RewriteConf,
    RewriteSyntaxError,
    Rule,
    parse_cond,
    parse_options,
    parse_rule,
    translate_pattern,
    unwire,
    wire,
)

__all__ = [
    "Cond", "Facts", "FileTests", "Outcome", "RewriteConf", "RewriteSyntaxError", "Rule",
    "parse_cond", "parse_options", "parse_rule", "rewrite_directory", "rewrite_server",
    "translate_pattern", "unwire", "wire",
]
