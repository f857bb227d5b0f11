"""What the benchmark serves and asks for: the shared Apache config, the site, the cases.

Owns the one config file both servers run (``${PORT}``, ``${ROOT}``, ``${IMPL}`` come
from the environment, as in tests/differential/diffsupport.py), the files of the site,
the table of cases (path, method, connections) and the server variants (``-D`` names
and CLI flags). Must not start processes or measure anything (that is ``probe`` and
``run``).

cgihttpd-only directives sit in ``<IfModule cgihttpd_module>``: cgihttpd always has
that pseudo-module loaded; Apache has no such module and skips the block, so the file
stays valid for ``apache2 -t``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG = r"""
# The benchmark's config: one file for Apache and cgihttpd (${PORT} ${ROOT} ${IMPL}).
ServerRoot "${ROOT}"

LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so

Listen 127.0.0.1:${PORT}
ServerName localhost

PidFile "${ROOT}/run/${IMPL}.pid"
Mutex file:${ROOT}/run default
DefaultRuntimeDir "${ROOT}/run"
ScriptSock "${ROOT}/run/${IMPL}-cgid.sock"

ErrorLog "${ROOT}/logs/${IMPL}-error.log"
TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog "${ROOT}/logs/${IMPL}-access.log" common

DocumentRoot "${ROOT}/site"
DirectoryIndex index.html

<Directory />
    AllowOverride None
    Require all denied
</Directory>
# As the course's vhost: scripts beside the pages, by extension.
<Directory "${ROOT}/site">
    Options -Indexes +ExecCGI
    AddHandler cgi-script .py .sh
    Require all granted
</Directory>

# cgihttpd's own switches; Apache has no cgihttpd_module and skips this block.
<IfModule cgihttpd_module>
    <IfDefine WARM_OFF>
        CGIWarmPython Off
    </IfDefine>
    <IfDefine WARM_ON>
        CGIWarmPython On
    </IfDefine>
</IfModule>
"""

#: The course's script, with Debian's python3: Apache's workers run as uid -1 and cannot
#: read pyenv's Python under /root.
HELLO_PY = b"""#!/usr/bin/python3
print("Content-Type: text/html")
print()
print("<h1>Hello, CGI</h1>", end="")
"""

HELLO_SH = b"""#!/bin/sh
printf 'Content-Type: text/html\\n\\n<h1>Hello, CGI</h1>'
"""

ECHO_PY = b"""#!/usr/bin/python3
import hashlib
import os
import sys

length = int(os.environ.get("CONTENT_LENGTH") or 0)
data = sys.stdin.buffer.read(length)
sys.stdout.write("Content-Type: text/plain\\n\\n" + hashlib.sha256(data).hexdigest() + "\\n")
"""

INDEX_HTML = b"<!DOCTYPE html>\n<title>Hello</title>\n<h1>Hello, World</h1>\n"
POST_BODY = b"a" * 65536
BIG_SIZE = 1 << 20

# (name under site/, content, mode)
FILES: tuple[tuple[str, bytes, int], ...] = (
    ("index.html", INDEX_HTML, 0o644),
    ("hello.py", HELLO_PY, 0o755),
    ("hello.sh", HELLO_SH, 0o755),
    ("echo.py", ECHO_PY, 0o755),
    # Deterministic, incompressible-looking bytes (no randomness: same site every run).
    ("big.bin", b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest()
                         for i in range(BIG_SIZE // 32)), 0o644),
)

#: The wrk script for the POST case: the body is built in Lua, not sent on argv.
POST_LUA = """wrk.method = "POST"
wrk.body = string.rep("a", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
"""


@dataclass(frozen=True, slots=True)
class Case:
    """One load: ``path`` asked by ``conns`` connections (wrk -t1)."""

    name: str
    label: str
    path: str
    conns: int
    method: str = "GET"
    # What a correct answer's body is (checked once per server before measuring).
    expect: bytes = b""


CASES: tuple[Case, ...] = (
    Case("static1", "static index.html, 1 conn", "/", 1, expect=INDEX_HTML),
    Case("static16", "static index.html, 16 conns", "/", 16, expect=INDEX_HTML),
    Case("static64", "static index.html, 64 conns", "/", 64, expect=INDEX_HTML),
    Case("hello1", "hello.py, 1 conn", "/hello.py", 1, expect=b"<h1>Hello, CGI</h1>"),
    Case("hello16", "hello.py, 16 conns", "/hello.py", 16, expect=b"<h1>Hello, CGI</h1>"),
    Case("sh16", "/bin/sh hello, 16 conns", "/hello.sh", 16, expect=b"<h1>Hello, CGI</h1>"),
    Case("post8", "POST 64 KiB to echo.py, 8 conns", "/echo.py", 8, method="POST",
         expect=(hashlib.sha256(POST_BODY).hexdigest() + "\n").encode()),
    Case("big16", "static 1 MiB file, 16 conns", "/big.bin", 16,
         expect=FILES[-1][1]),
)
CASE_NAMES = tuple(c.name for c in CASES)


@dataclass(frozen=True, slots=True)
class Variant:
    """One server process to start: ``impl`` names its logs and its row in the table."""

    impl: str
    label: str
    apache: bool = False
    defines: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    # The cases it runs; empty = every selected case.
    cases: tuple[str, ...] = ()


APACHE = Variant("apache", "Apache 2.4 event+cgid", apache=True)
CGIHTTPD = Variant("cgihttpd", "cgihttpd")
VARIANTS: tuple[Variant, ...] = (
    APACHE,
    CGIHTTPD,
    Variant("cgihttpd-warmoff", "cgihttpd, CGIWarmPython Off", defines=("WARM_OFF",),
            cases=("hello1", "hello16")),
    Variant("cgihttpd-warmon", "cgihttpd, CGIWarmPython On", defines=("WARM_ON",),
            cases=("hello1", "hello16")),
    # the default is --workers auto (one per core): one process beside it
    Variant("cgihttpd-w1", "cgihttpd --workers 1", flags=("--workers", "1"),
            cases=("static16", "static64", "big16")),
)


def build_site(root: Path) -> Path:
    """Write the site and the config under ``root`` (world-readable: Apache's workers
    run as uid -1); returns the config's path."""
    for sub in ("logs", "run", "site"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, content, mode in FILES:
        path = root / "site" / name
        path.write_bytes(content)
        os.chmod(path, mode)
    (root / "post.lua").write_text(POST_LUA)
    conf = root / "httpd.conf"
    conf.write_text(CONFIG)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = Path(dirpath, name)
            os.chmod(path, path.stat().st_mode | 0o444)
    return conf
