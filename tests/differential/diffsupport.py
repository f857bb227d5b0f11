"""Support for the differential harness (imported by conftest and the tests): Debian's
apache2 and cgihttpd, started from THE SAME config file on two free 127.0.0.1 ports,
with the same document roots.

The config reads ``${PORT}``, ``${ROOT}`` and ``${IMPL}`` from the environment (Apache
2.4 and cgihttpd both expand ``${VAR}`` from the environment when no ``Define`` sets
it), so each server gets its own port and its own log files (``logs/${IMPL}-*.log``)
from one file. Both processes are stopped by their PID; nothing else is signalled.

Apache runs as whoever runs the tests; as root, with no ``User`` directive its workers
run as uid -1, so the site is made world-readable (a tree under a 0755 temp dir, not
pytest's 0700 ``tmp_path``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
DIFF_TZ = os.environ.get("DIFF_TZ", "Asia/Kolkata")
START_DEADLINE = 20.0
STOP_DEADLINE = 15.0

# What each module is for: mpm_event (an MPM is mandatory), authz_core (Require),
# mime (TypesConfig, AddType, AddHandler), dir (DirectoryIndex, DirectorySlash),
# alias (Alias, ScriptAlias), autoindex (+Indexes), env (SetEnv, for env= logging),
# cgid (cgi-script under a threaded MPM). log_config, logio and unixd are compiled into
# Debian's apache2 (`apache2 -l`), so they take no LoadModule line.
CONFIG = r"""
# One file for Apache and cgihttpd: ${PORT}, ${ROOT}, ${IMPL} come from the environment.
ServerRoot "${ROOT}"

LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule autoindex_module /usr/lib/apache2/modules/mod_autoindex.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so

Listen 127.0.0.1:${PORT}
ServerName localhost

PidFile "${ROOT}/run/${IMPL}.pid"
Mutex file:${ROOT}/run default
DefaultRuntimeDir "${ROOT}/run"
<IfModule mod_cgid.c>
    ScriptSock "${ROOT}/run/${IMPL}-cgid.sock"
</IfModule>

ErrorLog "${ROOT}/logs/${IMPL}-error.log"
LogLevel info
TypesConfig /etc/mime.types
AddType text/x-custom .custom

LogFormat "%h %l %u %t \"%r\" %>s %b" common
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog "${ROOT}/logs/${IMPL}-access.log" common
CustomLog "${ROOT}/logs/${IMPL}-combined.log" combined
# More of mod_log_config's directives, each a value both servers must agree on
LogFormat "%a %A %v %V %U %q %m %H %s %>s %B %b %f %{tagged}e %{insub}e %{Content-Type}o %{sid}C %{X-Test}i %400,404{X-Test}i %!200{X-Test}i %%" rich
CustomLog "${ROOT}/logs/${IMPL}-rich.log" rich
# env= conditions: only requests under /sub/ (SetEnv there) / only the others
CustomLog "${ROOT}/logs/${IMPL}-sub.log" common env=insub
CustomLog "${ROOT}/logs/${IMPL}-notsub.log" common env=!insub
SetEnv tagged yes

DocumentRoot "${ROOT}/site/default"
DirectoryIndex index.html index.py

<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Options -Indexes
    Require all granted
</Directory>
<Directory "${ROOT}/site/default/listing">
    Options +Indexes
</Directory>
<Directory "${ROOT}/site/default/sub">
    SetEnv insub 1
</Directory>
# Debian's autoindex.conf IndexOptions (no icons: no AddIcon/DefaultIcon here)
<Directory "${ROOT}/site/default/fancy">
    Options +Indexes
    IndexOptions FancyIndexing VersionSort HTMLTable NameWidth=* DescriptionWidth=* Charset=UTF-8
    IndexIgnore *.bak
</Directory>

# The first vhost of the address is the default (unknown Host, IP-literal Host).
<VirtualHost *:${PORT}>
    ServerName default.test
    DocumentRoot "${ROOT}/site/default"
    Alias /aliased/ "${ROOT}/site/aliased/"
</VirtualHost>

<VirtualHost *:${PORT}>
    ServerName a.test
    ServerAlias www.a.test
    DocumentRoot "${ROOT}/site/a"
    CustomLog "${ROOT}/logs/${IMPL}-a-access.log" common
</VirtualHost>

<VirtualHost *:${PORT}>
    ServerName b.test
    ServerAlias *.b.example
    DocumentRoot "${ROOT}/site/b"
    ErrorDocument 404 /errors/notfound.html
    ErrorDocument 403 "Custom forbidden text"
    ErrorDocument 410 /errors/missing-errordoc.html
</VirtualHost>
"""

# (path under site/, content). Content is bytes so sizes (and so ETags) are exact.
FILES: dict[str, bytes] = {
    "default/index.html": b"Hello, World\n",
    "default/page.txt": b"plain text page\n",
    "default/style.css": b"body { color: #333; }\n",
    "default/data.bin": bytes(range(256)) * 8,
    "default/thing.custom": b"custom type\n",
    "default/sp ace.txt": b"space in the name\n",
    "default/caf\u00e9.txt": b"utf-8 name\n",
    "default/sub/inner.txt": b"inner\n",
    "default/withindex/index.html": b"<p>the index of withindex</p>\n",
    "default/fancy/a.txt": b"a\n",
    "default/fancy/b.bak": b"hidden by IndexIgnore\n",
    "default/fancy/sub/c.txt": b"c\n",
    "default/listing/a.txt": b"a\n",
    "default/listing/b.html": b"<b>b</b>\n",
    "default/listing/sp ace.txt": b"c\n",
    "default/listing/x&y<z>.txt": b"escaped\n",
    "default/listing/nested/n.txt": b"n\n",
    "aliased/al.txt": b"from the alias\n",
    "a/index.html": b"<h1>site a</h1>\n",
    "a/only-a.txt": b"only in a\n",
    "b/index.html": b"<h1>site b</h1>\n",
    "b/errors/notfound.html": b"<p>b has no such page</p>\n",
    "b/closed/x.txt": b"x\n",
}
# mtimes are fixed so Last-Modified and ETag do not depend on when the tree was written
MTIME = 1_700_000_000.25


@dataclass
class Server:
    """One running server: which implementation, its port, its log directory."""

    impl: str  # "apache" | "cgihttpd"
    port: int
    root: Path
    proc: subprocess.Popen[bytes]
    output: Path = field(default_factory=Path)

    def log(self, name: str) -> Path:
        """``logs/IMPL-NAME.log`` (e.g. name "access", "combined", "error", "a-access")."""
        return self.root / "logs" / f"{self.impl}-{name}.log"

    def request(self, method: str, target: str, headers: dict[str, str] | None = None,
                *, host: str | None = None) -> Response:
        return request(self.port, method, target, headers, host=host)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def request(port: int, method: str, target: str, headers: dict[str, str] | None = None,
            *, host: str | None = None, timeout: float = 10.0) -> Response:
    """One request on a fresh connection, the target sent byte for byte as given."""
    lines = [f"{method} {target} HTTP/1.1",
             f"Host: {host if host is not None else f'127.0.0.1:{port}'}",
             "Connection: close", "User-Agent: differential/1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        body = resp.read()
        return Response(resp.status, resp.headers, body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(server: Server, deadline: float) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if server.proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    stop_server(server)
    out = server.output.read_text(errors="replace") if server.output.exists() else ""
    err = server.log("error")
    err_text = err.read_text(errors="replace") if err.exists() else ""
    raise AssertionError(f"{server.impl} did not start listening on {server.port} "
                         f"(rc={server.proc.returncode}):\n{out}\n{err_text}")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=STOP_DEADLINE)


def start_server(impl: str, argv: list[str], root: Path, *, port: int | None = None,
                 env: Mapping[str, str] | None = None) -> Server:
    """Start ``argv`` on ``port`` (a free one by default) with ``env`` over ours."""
    port = free_port() if port is None else port
    # A zone with a half-hour offset, so %t's "+0530" is compared, not assumed to be UTC.
    env = {**os.environ, **(env or {}), "PORT": str(port), "ROOT": str(root), "IMPL": impl,
           "PYTHONUNBUFFERED": "1", "TZ": DIFF_TZ}
    output = root / "run" / f"{impl}.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
    server = Server(impl, port, root, proc, output)
    _wait_listening(server, START_DEADLINE)
    return server


def config_head(*modules: str, log_level: str = "info") -> str:
    """The head the differential configs share: ServerRoot, a LoadModule line for each of
    Debian's modules named (after mpm_event, in that order), one Listen on loopback, the
    run files (ScriptSock with cgid) and the error log at ``log_level``. ${PORT}, ${ROOT}
    and ${IMPL} are left for the environment (``start_pair``)."""
    loads = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"
                    for m in ("mpm_event", *modules))
    cgid = 'ScriptSock "${ROOT}/run/${IMPL}-cgid.sock"\n' if "cgid" in modules else ""
    return ('ServerRoot "${ROOT}"\n' + loads
            + "Listen 127.0.0.1:${PORT}\nServerName localhost\n"
            + 'PidFile "${ROOT}/run/${IMPL}.pid"\nMutex file:${ROOT}/run default\n'
            + 'DefaultRuntimeDir "${ROOT}/run"\n' + cgid
            + 'ErrorLog "${ROOT}/logs/${IMPL}-error.log"\n' + f"LogLevel {log_level}\n")


def site_dirs(root: Path, files: Mapping[str, str] | None = None) -> Path:
    """``root``'s logs/, run/ and site/ (created), and ``files`` (paths relative to
    site/, with their text) written there; returns site/."""
    for sub in ("logs", "run", "site"):
        (root / sub).mkdir(parents=True)
    for rel, text in (files or {}).items():
        path = root / "site" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "site"


@contextlib.contextmanager
def serving(root: Path, config: str,
            executable: Callable[[str], bool] = lambda name: False) -> Iterator[Pair]:
    """Make ``root`` readable by Apache's children (another user): directories 0755,
    files 0644, or 0755 where ``executable(name)``; write ``config`` as root/httpd.conf;
    start the pair on it, and stop it (by PID) after."""
    for dirpath, _dirs, names in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in names:
            os.chmod(os.path.join(dirpath, name), 0o755 if executable(name) else 0o644)
    conf = root / "httpd.conf"
    conf.write_text(config)
    os.chmod(conf, 0o644)
    started = start_pair(root, conf)
    try:
        yield started
    finally:
        stop_pair(started)


def build_site(root: Path) -> Path:
    """The tree both servers serve, world-readable, fixed mtimes; returns the config."""
    for sub in ("logs", "run", "site"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for rel, content in FILES.items():
        path = root / "site" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (root / "site" / "default" / "empty-dir").mkdir(exist_ok=True)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    for dirpath, dirnames, filenames in os.walk(root / "site", topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (MTIME, MTIME))
    conf = root / "httpd.conf"
    conf.write_text(CONFIG)
    os.chmod(conf, 0o644)
    return conf


# The course's configuration (../shared/seed/README.md): its <VirtualHost> verbatim but
# for the port, the paths (the course's D:/Projects/python/Server-213/cgi is ${ROOT}/cgi)
# and the log file names (one per server: ${IMPL}-error.log, ${IMPL}-access.log), under
# a main server with what Apache's stock httpd.conf gives it (modules, the common
# format, DirectoryIndex with index.py added as the course says).
COURSE_CONFIG = r"""
ServerRoot "${ROOT}"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule autoindex_module /usr/lib/apache2/modules/mod_autoindex.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
Listen 127.0.0.1:${PORT}
ServerName localhost
PidFile "${ROOT}/run/${IMPL}.pid"
Mutex file:${ROOT}/run default
DefaultRuntimeDir "${ROOT}/run"
ScriptSock "${ROOT}/run/${IMPL}-cgid.sock"
ErrorLog "${ROOT}/run/${IMPL}-main-error.log"
TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \"%r\" %>s %b" common
<Directory />
    AllowOverride None
    Require all denied
</Directory>
DirectoryIndex index.html index.py

<VirtualHost *:${PORT}>
    ServerAdmin webmaster@localhost
    DocumentRoot "${ROOT}/cgi"
    ServerName cgi213.loc
    ServerAlias www.cgi213.loc
    ErrorLog "${ROOT}/cgi/logs/${IMPL}-error.log"
    CustomLog "${ROOT}/cgi/logs/${IMPL}-access.log" common
    <Directory "${ROOT}/cgi">
        AllowOverride All
        Options -Indexes +ExecCGI
        AddHandler cgi-script .py
        Require all granted
    </Directory>
</VirtualHost>
"""


def build_course_site(root: Path) -> Path:
    """The course's layout: ``cgi/`` holding the built-in demo site and ``cgi/logs/``."""
    import cgihttpd

    demo = Path(cgihttpd.__file__).parent / "demo"
    site = root / "cgi"
    shutil.copytree(demo, site)
    (site / "logs").mkdir()
    (root / "run").mkdir()
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o755 if name.endswith(".py") else 0o644)
    conf = root / "httpd.conf"
    conf.write_text(COURSE_CONFIG)
    os.chmod(conf, 0o644)
    return conf


@dataclass
class Pair:
    apache: Server
    ours: Server
    root: Path
    conf: Path

    def both(self) -> tuple[Server, Server]:
        return self.apache, self.ours


def start_pair(root: Path, conf: Path) -> Pair:
    """Check ``conf`` with ``apache2 -t``, then start Apache and cgihttpd on it.

    DIFF_SELFTEST=1 puts a second Apache in cgihttpd's place: every case must then pass,
    which shows the harness and its normalisation compare what they should.
    """
    check = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                           env=dict(os.environ, PORT="1", ROOT=str(root), IMPL="apache"),
                           timeout=30)
    assert check.returncode == 0, f"apache2 -t refused the shared config:\n{check.stderr}"
    apache = start_server("apache", [APACHE, "-f", str(conf), "-DFOREGROUND"], root)
    if os.environ.get("DIFF_SELFTEST") == "1":
        ours_argv = [APACHE, "-f", str(conf), "-DFOREGROUND"]
        ours_impl = "apache2nd"
    else:
        ours_argv = [sys.executable, "-m", "cgihttpd", "-f", str(conf), "-DFOREGROUND"]
        ours_impl = "cgihttpd"
    try:
        ours = start_server(ours_impl, ours_argv, root)
    except BaseException:
        stop_server(apache)
        raise
    return Pair(apache, ours, root, conf)


def stop_pair(pair: Pair) -> None:
    stop_server(pair.ours)
    stop_server(pair.apache)


def wait_for_lines(path: Path, count: int, deadline: float = 10.0) -> list[str]:
    """The file's lines once it has at least ``count`` of them (or what it has at the
    deadline: the caller's assertion then says what is missing)."""
    end = time.monotonic() + deadline
    while True:
        lines = path.read_text(encoding="latin-1").splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() >= end:
            return lines
        time.sleep(0.05)
