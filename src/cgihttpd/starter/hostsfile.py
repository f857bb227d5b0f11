"""The hosts file: where it is on each system, the lines that name a site on this
machine, and adding them to the file's text without repeating what is there. Pure.

A course site is reached by a name of its own (``cgi213.loc``) that no DNS server knows:
the hosts file maps it to this machine, for IPv4 (``127.0.0.1``) and IPv6 (``::1``), as
the course writes it. Browsers need none of that for a name under ``.localhost``
(``vhost.localhost_fallback``); the hosts file is for the name as the course spells it.

Must not read or write files (``starter.commands`` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: the loopback addresses, in the course's order
LOOPBACK = ("127.0.0.1", "::1")
#: the comment above the lines ``add_entries`` appends
MARKER = "# added by cgihttpd hosts"
POSIX_HOSTS = "/etc/hosts"
WINDOWS_HOSTS = r"C:\Windows\System32\drivers\etc\hosts"


def hosts_path(windows: bool, environ: Mapping[str, str] | None = None) -> str:
    """The hosts file of this system (Windows: under ``%SystemRoot%``)."""
    if not windows:
        return POSIX_HOSTS
    root = (environ or {}).get("SystemRoot")
    return rf"{root.rstrip(chr(92))}\System32\drivers\etc\hosts" if root else WINDOWS_HOSTS


def host_lines(names: Sequence[str]) -> list[str]:
    """The lines mapping each name to both loopback addresses, aligned as the course
    writes them."""
    return [f"{addr:<12}{name}" for name in names for addr in LOOPBACK]


def present(text: str) -> set[tuple[str, str]]:
    """(address, name) pairs the file already maps; comments and case are ignored."""
    pairs: set[tuple[str, str]] = set()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            pairs.update((fields[0].lower(), name.lower()) for name in fields[1:])
    return pairs


def add_entries(text: str, names: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` with a line for each (loopback address, name) it does not map yet,
    appended under ``MARKER`` in the file's own line ending; and those lines (none:
    the text comes back unchanged)."""
    have = present(text)
    missing = [line for line in host_lines(names)
               if tuple(line.lower().split()) not in have]
    if not missing:
        return text, []
    newline = "\r\n" if "\r\n" in text else "\n"
    head = text if not text or text.endswith(("\n", "\r")) else text + newline
    block = newline.join([MARKER, *missing]) + newline
    return head + block, missing


def admin_hint(windows: bool, command: str) -> str:
    """What to do when the hosts file may not be written (it belongs to the system)."""
    if windows:
        return ("the hosts file can only be changed by an administrator: open the "
                "terminal with 'Run as administrator' and run again: " + command)
    return f"the hosts file can only be changed by root: run again as sudo {command}"
