"""The platform seam: what the server's request path does differently on POSIX and on
Windows, and the switch that makes a POSIX server start scripts the Windows way.

Owns each difference as two implementations chosen once, at import, by
``sys.platform`` (so that ``mypy`` checks the POSIX side and ``mypy --platform win32``
the Windows side, and the request path pays nothing for the choice):

- ``set_blocking``: a pipe fd made non-blocking for the event loop's ``add_reader``
  (``cgi.pipes``); Windows' loop cannot watch pipe fds, and no launcher asks there;
- ``pidfd_open``/``HAS_PIDFD``: a process's exit awaited as a readable fd (Linux 5.3+);
- ``signal_group`` and ``KILL``: a signal to a script's process group (``killpg``; the
  script leads the group, ``NEW_GROUP``) where Windows can only end the process itself
  (``os.kill`` is ``TerminateProcess`` there, whatever the signal);
- ``NEW_GROUP_FLAGS``: Windows' ``CREATE_NEW_PROCESS_GROUP`` (0 elsewhere), which keeps
  the console's Ctrl+C away from a script;
- ``read_at``: ``pread`` where it exists, else seek and read.

``windows_rules`` says whether scripts start the Windows way: on Windows, and on a POSIX
system whose environment has ``CGIHTTPD_PLATFORM=windows`` (the test mode: no warm
zygotes or spawner, no process groups, no pidfd, argv and environment as text; see
``runtime.default_launcher`` and the README's Windows section for what that proves).
What only POSIX has at all (fork, SCM_RIGHTS, setsid, posix_spawn) is the warm package
(``cgihttpd.warm``), which refuses to import on Windows; the runtime composes it only
when ``windows_rules`` is false. Start-up-only differences (User/Group, ``--workers``,
SO_REUSEPORT) are ``sys.platform`` guards in ``server``.

Must not know HTTP, CGI or the configuration.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import BinaryIO, Final

#: The environment variable of the test mode, and the value that turns it on.
PLATFORM_VAR: Final = "CGIHTTPD_PLATFORM"
WINDOWS_VALUE: Final = "windows"

#: Windows' flag for a script in a process group of its own; 0 where there is none.
NEW_GROUP_FLAGS: Final[int] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)


def windows_rules(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether scripts start the Windows way here: on Windows, or where ``environ`` has
    ``CGIHTTPD_PLATFORM=windows``. Asked once, when the server's launcher is built."""
    return sys.platform == "win32" or environ.get(PLATFORM_VAR, "").lower() == WINDOWS_VALUE


if sys.platform == "win32":
    #: TerminateProcess: what os.kill does on Windows for any signal but the console's
    KILL: Final[int] = signal.SIGTERM
    HAS_PIDFD: Final = False

    def set_blocking(fd: int, blocking: bool) -> None:
        raise OSError(errno.ENOSYS, "pipe fds on the event loop are POSIX's: scripts "
                      "start through asyncio's pipes on Windows")

    def pidfd_open(pid: int, flags: int = 0) -> int:
        raise OSError(errno.ENOSYS, "no pidfd on Windows")

    def signal_group(pid: int, sig: int) -> None:
        """No process groups to signal: the process itself ends."""
        os.kill(pid, sig)

    def read_at(f: BinaryIO, offset: int, size: int) -> bytes:
        f.seek(offset)
        return f.read(size)

else:
    KILL = signal.SIGKILL
    set_blocking = os.set_blocking
    signal_group = os.killpg

    if sys.platform == "linux" and hasattr(os, "pidfd_open"):
        pidfd_open = os.pidfd_open
    else:
        def pidfd_open(pid: int, flags: int = 0) -> int:
            raise OSError(errno.ENOSYS, "no pidfd on this system")

    def read_at(f: BinaryIO, offset: int, size: int) -> bytes:
        return os.pread(f.fileno(), size, offset)

    def _pidfd_works() -> bool:
        """Linux 5.3+: a process's exit can be awaited as a readable fd."""
        try:
            os.close(pidfd_open(os.getpid()))
        except OSError:
            return False
        return True

    HAS_PIDFD = _pidfd_works()


__all__ = [
    "HAS_PIDFD", "KILL", "NEW_GROUP_FLAGS", "PLATFORM_VAR", "WINDOWS_VALUE", "pidfd_open",
    "read_at", "set_blocking", "signal_group", "windows_rules",
]
