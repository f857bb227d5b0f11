"""The directive table: each directive cgihttpd acts on, its arity and what it sets.

This package owns the second configuration phase (STYLE habit 3): an expanded node tree
(see ``tree``) → a ``Draft`` of servers, sections and server-wide values, through the
table ``DIRECTIVES`` (name → arity, Apache's description, apply function). It enforces
where a directive may appear, with Apache's messages (server/config.c ``invoke_cmd`` and
``ap_check_cmd_context``), using the placements of ``modules.REGISTRY``.

The same table says which directives act in the first phase, while the files are read
(Apache's EXEC_ON_READ: ``Include``, ``<IfModule>``, ``Define``, ``LoadModule``, ...):
their entries carry a read action, which ``tree.expand`` calls (``readtime``).

It knows nothing of files (paths are only joined to ServerRoot, never opened here: the
files ``Include`` names are read by ``tree.include_files``) nor of the
final frozen shape beyond ``model`` (``loader`` merges the draft into a ServerConfig).
Directives of known modules that are not in the table are recorded as ignored, so the
loader can warn about each of them once.

Layout: ``draft`` (what is filled), ``table`` (the registry and the tree walk), then one
module per Apache module family, each registering its directives when imported:
``readtime``, ``sections``, ``server``, ``reqtimeout``, ``logs``, ``alias``, ``cgi``,
``access``, ``require`` (mod_authz_*, <Limit>), ``access_compat``, ``auth``
(mod_auth_basic, mod_authn_*), ``mime_dir``, ``autoindex``, ``setenvif``, ``headers`` (mod_headers),
``rewrite``, ``remoteip`` (mod_remoteip), ``tls`` (mod_ssl).
"""

from __future__ import annotations

from cgihttpd.config.directives import (  # noqa: F401 - importing registers the directives
    access,
    access_compat,
    alias,
    auth,
    autoindex,
    cgi,
    headers,
    logs,
    mime_dir,
    readtime,
    remoteip,
    reqtimeout,
    require,
    rewrite,
    sections,
    server,
    setenvif,
    tls,
)
from cgihttpd.config.directives.access import parse_options
from cgihttpd.config.directives.draft import (
    Apply,
    Arity,
    Ctx,
    Draft,
    PendingLog,
    SectionDraft,
    ServerDraft,
)
from cgihttpd.config.directives.logs import LOG_LEVELS
from cgihttpd.config.directives.remoteip import parse_proxy_word
from cgihttpd.config.directives.reqtimeout import parse_read_timeout
from cgihttpd.config.directives.require import AUTHZ_PROVIDERS
from cgihttpd.config.directives.table import (
    DIRECTIVES,
    Directive,
    apply_node,
    apply_nodes,
    check_arity,
    directive,
    interpret,
)

__all__ = [
    "AUTHZ_PROVIDERS", "DIRECTIVES", "LOG_LEVELS", "Apply", "Arity", "Ctx", "Directive",
    "Draft", "PendingLog", "SectionDraft", "ServerDraft", "apply_node", "apply_nodes",
    "check_arity", "directive", "interpret", "parse_options", "parse_proxy_word",
    "parse_read_timeout",
]
