"""systemd's readiness protocol (sd_notify(3)): tell the service manager that the
server is ready, reloading, or stopping, for a ``Type=notify`` unit
(contrib/cgihttpd.service).

The protocol is one datagram of ``KEY=VALUE`` lines on the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace); systemd documents it
as stable and meant to be spoken without libsystemd. The Python bindings that exist
need libsystemd's headers to build (systemd-python) or are unmaintained (sdnotify), so
these few lines are ours. Without ``$NOTIFY_SOCKET`` (not under systemd) every call
does nothing. A failure to send is ignored: readiness is a courtesy to the manager,
never a reason to stop serving.

Must not know what the server does; ``server`` says when.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

READY = "READY=1"
STOPPING = "STOPPING=1"


def reloading() -> str:
    """RELOADING=1 with the time it began (CLOCK_MONOTONIC, µs), as systemd 253's
    Type=notify-reload asks; older managers ignore the extra field."""
    return f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}"


def socket_address(environ: Mapping[str, str]) -> str | None:
    """Where to send, or None: ``@name`` is Linux's abstract namespace ("\\0name")."""
    path = environ.get("NOTIFY_SOCKET", "")
    if not path or not (path.startswith("/") or path.startswith("@")):
        return None  # vsock: addresses are not supported here
    return "\0" + path[1:] if path.startswith("@") else path


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` to the service manager; True if it was sent."""
    address = socket_address(os.environ if environ is None else environ)
    if address is None or not hasattr(socket, "AF_UNIX"):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:  # type: ignore[attr-defined,unused-ignore]
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        return False
    return True
