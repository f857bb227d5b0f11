"""The server's name as it introduces itself: the ``Server`` header, ``SERVER_SOFTWARE``
and the ServerSignature line all start from ``server_software(ServerTokens)``.

Neutral ground: the HTTP engine, the application and CGI each name the server, and none
of them owns the name. Pure: no configuration, no IO.
"""

from __future__ import annotations

import sys

from cgihttpd import SERVER_SOFTWARE_NAME, __version__


def server_software(tokens: str = "Full") -> str:
    """The ``Server`` header for ``ServerTokens`` (core docs, "ServerTokens"):
    Prod ``cgihttpd``, Major ``cgihttpd/0``, Minor ``cgihttpd/0.1``, Min ``cgihttpd/0.1.0``,
    OS and Full ``cgihttpd/0.1.0 (Python 3.11)`` - the Python version stands where Apache
    names the OS."""
    parts = __version__.split(".")
    t = tokens.lower()
    if t in ("prod", "productonly"):
        return SERVER_SOFTWARE_NAME
    if t == "major":
        return f"{SERVER_SOFTWARE_NAME}/{parts[0]}"
    if t == "minor":
        return f"{SERVER_SOFTWARE_NAME}/{'.'.join(parts[:2])}"
    if t in ("min", "minimal"):
        return f"{SERVER_SOFTWARE_NAME}/{__version__}"
    py = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    return f"{SERVER_SOFTWARE_NAME}/{__version__} ({py})"
