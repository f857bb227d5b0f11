"""The server's name as it introduces itself: the ``Server`` header, ``SERVER_SOFTWARE``
and the ServerSignature line (``signature``: error pages, listings, SERVER_SIGNATURE) all
start from ``server_software(ServerTokens)``.

Neutral ground: the HTTP engine, the application and CGI each name the server, and none
of them owns the name. Pure: no configuration, no IO.
"""

from __future__ import annotations

import html
import re
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


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def signature(mode: str, banner: str, name: str, port: int, admin: str, *,
              prefix: str = "") -> str:
    """``ServerSignature`` as core.c ``ap_psignature(prefix, r)`` writes it: the
    ``<address>`` line ("" for Off), after ``prefix`` ("<hr>\n" on error pages and
    listings, "" for SERVER_SIGNATURE). ``name`` is ap_get_server_name's (an IPv6
    literal without its brackets); with Email, ServerAdmin is linked as a mailto: unless
    it is a URL already."""
    mode = mode.lower()
    if mode == "off":
        return ""
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    host = html.escape(bare, quote=True)
    if mode == "email":
        scheme = "" if _SCHEME.match(admin) else "mailto:"
        host = f'<a href="{scheme}{html.escape(admin)}">{host}</a>'
    return f"{prefix}<address>{banner} Server at {host} Port {port}</address>\n"
