"""``Runtime``: everything a running server owns besides its frozen configuration.

The composition root. Built once from a ``ServerConfig`` (``Runtime.build``) by the
command line or a test, and passed down: to ``App``, then to every handler through the
``Exchange``. Nothing below it keeps state of its own in module globals; what a request
path remembers between requests, it remembers here:

- the log files (``LogSet``: every ErrorLog and CustomLog, opened once);
- the launchers: the warm-Python zygotes and the spawner (``warm.WarmLauncher``) in front
  of the cold launcher (``cgi.runner.SubprocessLauncher``), or under Windows' rules
  (``platform.windows_rules``) the cold launcher alone, started the Windows way;
- the script slots (CGIMaxProcesses) and their queue (CGIQueueTimeout, CGIQueueMemory),
  one set per event loop;
- mod_status's counters (``status.counters.StatusCounters``), which a graceful reload
  hands to the next runtime; their integer counts are in this worker's slot of the
  scoreboard the workers share (``status.scoreboard``, attached after the fork);
- the caches (``Caches``), each a ``BoundedCache`` with the same eviction rule, among
  them the parsed .htaccess files and the password and group files of authentication
  (by the file's identity, so an edit is seen at once).

Process-wide by nature, and so not here: the directive registry (filled at import, as
Apache's command tables) and the Date clock (one formatted date per second). Memos of
pure functions keyed by value (``functools.lru_cache`` on a parser of a header or a
pattern) are not state either: any process computes the same value for the same key.

Tests build a runtime with the parts they want (``Runtime.build(config,
launcher=...)``) instead of replacing module globals. Must not know how a request is
served: it only holds what the request path uses.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cgihttpd.cache import BoundedCache
from cgihttpd.cgi.queue import DEFAULT_MAX_RUNNING, DEFAULT_QUEUE_MEMORY, ScriptSlots
from cgihttpd.cgi.runner import Launcher, SubprocessLauncher
from cgihttpd.config.model import ServerConfig
from cgihttpd.platform import windows_rules
from cgihttpd.status.counters import StatusCounters

if TYPE_CHECKING:
    from cgihttpd.logs.writer import LogSet

#: Bounds of the caches: each is emptied of its oldest entries past these. Clients choose
#: most keys (URLs, Host values, header spellings); the configuration bounds the rest.
RESOLUTIONS = 1024  # URL → Target, replayed while the filesystem answers the same
#: whole static answers the quick path replays (app.App.quick); their bodies are the
#: small-file cache's bytes (at most 64 KiB each), shared, not copied
QUICK_REPLIES = 256
CONFS = 4096  # (vhost, file, URL, is_dir) → merged DirConf
HTACCESS = 512  # a .htaccess version (path, inode, size, mtime) → its parsed settings
AUTH_FILES = 64  # a password or group file's version → its users (or their groups)
VHOST_CHOICES = 1024  # (local address, port, Host) → VirtualHost
MIME_TABLES = 256  # an AddType/TypesConfig tuple → its lookup dict
COMMANDS = 1024  # a script's file version → its argv (from the #! line)
HTTP_NAMES = 512  # a header's spelling → its HTTP_* variable name
WARNED = 1024  # things already warned about once (a script's foreign #! line)


@dataclass(slots=True)
class Caches:
    """The server's caches, by what they remember (see the bounds above)."""

    resolutions: BoundedCache[Any, Any] = field(
        default_factory=lambda: BoundedCache(RESOLUTIONS))
    confs: BoundedCache[Any, Any] = field(default_factory=lambda: BoundedCache(CONFS))
    htaccess: BoundedCache[Any, Any] = field(default_factory=lambda: BoundedCache(HTACCESS))
    auth_files: BoundedCache[Any, Any] = field(
        default_factory=lambda: BoundedCache(AUTH_FILES))
    vhosts: BoundedCache[Any, Any] = field(
        default_factory=lambda: BoundedCache(VHOST_CHOICES))
    mime: BoundedCache[Any, Any] = field(default_factory=lambda: BoundedCache(MIME_TABLES))
    commands: BoundedCache[Any, Any] = field(default_factory=lambda: BoundedCache(COMMANDS))
    http_names: BoundedCache[str, str | None] = field(
        default_factory=lambda: BoundedCache(HTTP_NAMES))
    warned: BoundedCache[str, bool] = field(default_factory=lambda: BoundedCache(WARNED))
    quick: BoundedCache[Any, Any] = field(default_factory=lambda: BoundedCache(QUICK_REPLIES))


@dataclass(slots=True)
class Runtime:
    """One server process's runtime state (see the module docstring)."""

    config: ServerConfig
    logs: LogSet
    launcher: Launcher
    caches: Caches = field(default_factory=Caches)
    #: mod_status's counters: carried across a graceful reload (``reload``)
    status: StatusCounters = field(default_factory=StatusCounters)
    #: the server's environment as scripts inherit from it (PATH, TZ, PassEnv), read
    #: once: as Apache's, it is the one the server started with, and a dict is read
    #: many times faster than ``os.environ`` (a variable it lacks raises inside)
    server_environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: the script slots of the event loop that last asked (a loop's futures must not
    #: be awaited from another loop; tests run several loops one after another)
    _slots: tuple[asyncio.AbstractEventLoop, ScriptSlots] | None = None

    @classmethod
    def build(cls, config: ServerConfig, *, logs: LogSet | None = None,
              launcher: Launcher | None = None, caches: Caches | None = None) -> Runtime:
        """The runtime for ``config``: its logs opened (a missing log directory is a
        ``ConfigError``), unless given; the server's launcher, unless given."""
        if logs is None:
            from cgihttpd.logs.writer import LogSet
            logs = LogSet.open(config)
        if launcher is None:
            launcher = default_launcher()
        return cls(config=config, logs=logs, launcher=launcher,
                   caches=caches if caches is not None else Caches())

    def slots(self) -> ScriptSlots:
        """CGIMaxProcesses: the slots for scripts on the running event loop, and their
        queue (CGIQueueTimeout, CGIQueueMemory)."""
        loop = asyncio.get_running_loop()
        held = self._slots
        if held is not None and held[0] is loop:
            return held[1]
        limit = self.config.max_concurrent_cgi or DEFAULT_MAX_RUNNING
        # each worker process holds its share of the server's limits (rounded up)
        workers = max(self.config.workers, 1)
        limit = -(-limit // workers)
        config = self.config
        memory = config.cgi_queue_memory or DEFAULT_QUEUE_MEMORY
        slots = ScriptSlots(limit, max_wait=config.cgi_queue_timeout,
                            memory=-(-memory // workers))
        self._slots = (loop, slots)
        return slots

    def close(self) -> None:
        self.logs.close()


def default_launcher(environ: Mapping[str, str] = os.environ) -> Launcher:
    """The server's launcher: Python scripts forked from a warm interpreter where
    CGIWarmPython allows, every other script exec'd by the spawner, and what neither
    can do started by the server itself. Under Windows' rules (on Windows, or with
    ``CGIHTTPD_PLATFORM=windows`` in ``environ``: ``platform.windows_rules``) there is
    no fork: every script is started by the server itself, the Windows way."""
    if sys.platform == "win32" or windows_rules(environ):
        return SubprocessLauncher("asyncio", windows=True)
    from cgihttpd.warm.launcher import WarmLauncher

    return WarmLauncher(SubprocessLauncher())
