"""``Target``: what a request resolved to on the filesystem, decided before anything
is read or run. Produced by ``resolve.resolve_target``; consumed by the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cgihttpd.config.model import Alias, DirConf
from cgihttpd.messages import Note

if TYPE_CHECKING:
    import os  # a stat result is carried, never taken: the resolver does the IO

TargetKind = Literal[
    "file",  # a regular file: static or a handler (see ``handler``)
    "directory",  # a directory with no usable index (listing or 403)
    "redirect",  # mod_alias Redirect* or DirectorySlash: ``status`` to ``location``
    "error",  # a status (403/404/...) decided by resolution; ``status`` and ``note``
    "internal",  # mod_rewrite per directory: an internal redirect to ``location``
]


@dataclass(frozen=True, slots=True)
class Rewritten:
    """What mod_rewrite changed in the request besides its target: r->args (the
    script's QUERY_STRING, and a redirect's query, which then is final), the variables
    it set (a value) or unset (None) in r->subprocess_env, whether [END] stopped
    rewriting for this request and its internal redirects, and the Vary it adds."""

    args: str | None = None
    env: tuple[tuple[str, str | None], ...] = ()
    ended: bool = False
    #: the request header fields the rules that matched looked at (Vary)
    vary: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    #: the absolute filesystem path (file or directory), "" for errors
    filename: str = ""
    #: the decoded URL path that maps to ``filename`` (SCRIPT_NAME for CGI)
    url_path: str = ""
    #: the decoded extra path after the file (PATH_INFO), "" if none
    path_info: str = ""
    #: the effective per-directory settings for this file
    conf: DirConf = DirConf()
    #: the handler that serves it: None for the default (static) handler,
    #: "cgi-script" for CGI, or another name
    handler: str | None = None
    #: the Alias/ScriptAlias that mapped the URL, if any
    alias: Alias | None = None
    #: CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT (Apache: "" and DocumentRoot without alias)
    context_prefix: str = ""
    context_document_root: str = ""
    #: for "redirect": the Location (a path is made a full URL when answering) and
    #: the status; for "error": the status
    location: str = ""
    status: int = 0
    #: why (the error-log line), for "error"
    note: Note | None = None
    #: the per-directory settings whose access control (Require, Order/Allow/Deny) the
    #: request must pass before this target is answered, each with the filename its
    #: log line names, in Apache's order: the directory's, then a DirectoryIndex
    #: file's (mod_dir's internal redirect). Empty
    #: when resolution stopped before Apache's access phase (a bad path, a refused
    #: symlink, a broken .htaccess: map_to_storage) or at a server-level Redirect.
    access: tuple[tuple[DirConf, str], ...] = ()
    #: for "file": the stat resolution took of it (Apache's r->finfo), so the handler
    #: need not ask again; None when resolution did not stat it (fake trees, errors)
    stat: os.stat_result | None = field(default=None, compare=False, repr=False)
    #: set when mod_rewrite ran for the request (``Rewritten``), else None
    rewritten: Rewritten | None = None

    @property
    def reason(self) -> str:
        """The error-log text of an "error" ("" if none)."""
        return self.note.text if self.note is not None else ""
