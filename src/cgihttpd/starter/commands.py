"""``cgihttpd init`` and ``cgihttpd hosts``: the IO around ``starter.site`` and
``starter.hostsfile``. Each command parses its own argv, prints what it did and what to
do next, and returns an exit status (problems: one line on stderr, status 1).

``init DIR [--name NAME] [--port N] [--force]`` writes the course's site into DIR (a
folder that does not exist or is empty, unless ``--force``). ``hosts NAME... [--apply]
[--file PATH]`` prints the hosts-file lines for the names, and with ``--apply`` adds
those the file lacks, after copying it to ``PATH.cgihttpd-TIMESTAMP.bak``.

Must not know how the configuration is parsed or requests served.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cgihttpd.platform import windows_rules
from cgihttpd.starter.hostsfile import add_entries, admin_hint, host_lines, hosts_path
from cgihttpd.starter.site import (
    DEFAULT_NAME,
    SCRIPTS,
    SITE_DIRS,
    SiteSpec,
    next_steps,
    site_files,
)

COMMANDS = ("init", "hosts")
#: errnos that mean "this file belongs to someone else" (EROFS: a read-only system)
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def _init_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cgihttpd init",
        description="Write the course's site (cgi/, cgi/logs/, index.html, index.py, a "
                    "form and httpd.conf) into DIR, and say what to run next.")
    p.add_argument("dir", metavar="DIR", help="the project folder (created if missing)")
    p.add_argument("--name", default=DEFAULT_NAME,
                   help=f"the site's ServerName (default: {DEFAULT_NAME})")
    p.add_argument("--port", type=int, default=80,
                   help="the port of Listen and <VirtualHost *:PORT> (default: 80)")
    p.add_argument("--force", action="store_true",
                   help="write into DIR even if it holds files (overwrites the site's)")
    return p


def _hosts_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cgihttpd hosts",
        description="Print the hosts-file lines that send NAME to this computer (IPv4 "
                    "and IPv6); --apply adds the missing ones, keeping a backup.")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--apply", action="store_true", help="add the lines the file lacks")
    p.add_argument("--file", metavar="PATH",
                   help="the hosts file (default: this system's)")
    return p


def run_command(argv: Sequence[str]) -> int:
    """``argv[0]`` is one of ``COMMANDS``."""
    if argv[0] == "init":
        return init(argv[1:])
    return hosts(argv[1:])


def _fail(message: str) -> int:
    print(f"cgihttpd: {message}", file=sys.stderr)
    return 1


def init(argv: Sequence[str]) -> int:
    ns = _init_parser().parse_args(list(argv))
    name = ns.name.strip().lower().rstrip(".")
    if not name or any(c.isspace() or c in "/\\:" for c in name):
        return _fail(f"--name {ns.name!r}: a host name has no spaces, slashes or colons")
    if not 0 < ns.port < 65536:
        return _fail(f"--port {ns.port}: a port is 1 to 65535")
    root = Path(ns.dir).expanduser().absolute()
    if root.exists() and not root.is_dir():
        return _fail(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not ns.force:
        return _fail(f"{root} is not empty: choose a new folder, or add --force to write "
                     "the site's files into it (files of the same name are replaced)")
    windows = windows_rules()
    spec = SiteSpec(root=str(root), name=name, python=sys.executable, windows=windows,
                    port=ns.port)
    try:
        for sub in SITE_DIRS:
            (root / sub).mkdir(parents=True, exist_ok=True)
        for rel, text in site_files(spec).items():
            path = root / rel
            # newline="": the text's own "\n" on every system (Apache and cgihttpd
            # take CRLF too, and Notepad shows either)
            path.write_text(text, encoding="utf-8", newline="")
            if rel in SCRIPTS and not windows:
                path.chmod(0o755)  # Apache runs a script only with its execute bit
    except OSError as exc:
        return _fail(f"could not write the site: {exc.strerror or exc}"
                     + (f": {exc.filename}" if exc.filename else ""))
    sys.stdout.write(next_steps(spec, str(root / "httpd.conf"), dict(os.environ)))
    return 0


def hosts(argv: Sequence[str]) -> int:
    ns = _hosts_parser().parse_args(list(argv))
    names = [n.strip().lower().rstrip(".") for n in ns.names]
    bad = [n for n in names if not n or any(c.isspace() or c in "#/\\:" for c in n)]
    if bad:
        return _fail(f"{bad[0]!r} is not a host name (no spaces, '#', slashes or colons)")
    windows = windows_rules()
    path = ns.file or hosts_path(windows, dict(os.environ))
    if not ns.apply:
        print(f"Add these lines to {path}:")
        for line in host_lines(names):
            print(f"  {line}")
        print(f"(or: cgihttpd hosts {' '.join(names)} --apply)")
        return 0
    try:
        # latin-1 reads any bytes and gives them back unchanged: a hosts file in the
        # system's code page survives the round trip
        with open(path, encoding="latin-1", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        return _fail(f"could not read {path}: {exc.strerror or exc}")
    new_text, added = add_entries(text, names)
    if not added:
        print(f"{path} already sends {', '.join(names)} to this computer: nothing to do")
        return 0
    command = f"cgihttpd hosts {' '.join(names)} --apply"
    backup = f"{path}.cgihttpd-{time.strftime('%Y%m%d-%H%M%S')}.bak"
    try:
        if os.path.exists(path):
            shutil.copy2(path, backup)
        else:
            backup = ""
        # written in place, not replaced: the file keeps its owner and permissions
        with open(path, "w", encoding="latin-1", newline="") as f:
            f.write(new_text)
    except OSError as exc:
        if backup:  # nothing changed: no backup of it either
            with contextlib.suppress(OSError):
                os.unlink(backup)
        if exc.errno in _DENIED:
            return _fail(f"{path}: {exc.strerror}; {admin_hint(windows, command)}")
        return _fail(f"could not write {path}: {exc.strerror or exc}")
    print(f"Added to {path}" + (f" (the old file is {backup}):" if backup else ":"))
    for line in added:
        print(f"  {line}")
    return 0
