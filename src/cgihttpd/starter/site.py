"""The course's site as text: the files ``cgihttpd init`` writes and what it prints
after. Pure: every value (the folder, the Python, the platform) is passed in.

The layout is the course's (/work/shared/seed): the project folder holds ``cgi/``, the
document root, and ``cgi/logs/``; beside them an ``httpd.conf`` whose ``<VirtualHost>``
is the course's block, preceded by what Apache needs before it (``LoadModule`` lines for
the directives the block uses, ``Listen``, ``LogFormat ... common``, ``TypesConfig``),
every line commented. The same file passes ``apache2 -t`` (Debian's module paths on
POSIX, XAMPP's on Windows) and ``cgihttpd -t``.

Must not know how files are written or how requests are served.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from cgihttpd.starter.hostsfile import host_lines, hosts_path

DEFAULT_NAME = "cgi213.loc"
#: where Debian's apache2 keeps its modules, and XAMPP (the course's bundle) its own
DEBIAN_MODULES = "/usr/lib/apache2/modules"
XAMPP_MODULES = "C:/xampp/apache/modules"
#: the port the next commands use where the config's own needs admin rights
UNPRIVILEGED_PORT = 8080

#: a small mime.types beside httpd.conf, so TypesConfig names a file every system has
#: (Apache refuses to start without one; /etc/mime.types is Debian's, not Windows')
MIME_TYPES = """\
# Which Content-Type a file gets from its extension (mod_mime's TypesConfig).
# One type per line, then its extensions. Add a line for a type you need.
text/html                   html htm
text/css                    css
text/plain                  txt
text/csv                    csv
text/javascript             js mjs
application/json            json
application/pdf             pdf
application/xml             xml
image/png                   png
image/jpeg                  jpg jpeg
image/gif                   gif
image/svg+xml               svg
image/webp                  webp
image/x-icon                ico
font/woff2                  woff2
audio/mpeg                  mp3
video/mp4                   mp4
application/zip             zip
"""


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """What a site is made from."""

    root: str  # the project folder, absolute
    name: str  # ServerName
    python: str  # the Python for the #! lines
    windows: bool  # the course's platform rules (paths, #! form, module paths)
    port: int = 80

    @property
    def root_path(self) -> str:
        """The folder as Apache writes paths: forward slashes (also on Windows)."""
        return self.root.replace("\\", "/").rstrip("/") or "/"

    @property
    def docroot(self) -> str:
        return f"{self.root_path}/cgi"

    @property
    def aliases(self) -> tuple[str, ...]:
        return (f"www.{self.name}",)


def shebang(python: str, windows: bool) -> str:
    """The first line of a script: the course's form on Windows (``#!C:/.../python.exe``,
    forward slashes), the interpreter's own path elsewhere."""
    return "#!" + (python.replace("\\", "/") if windows else python)


def index_py(spec: SiteSpec) -> str:
    return f"""{shebang(spec.python, spec.windows)}
# The course's first script. A CGI script prints the HTTP message itself: headers, an
# empty line, then the body; the server adds the status line ("200 OK").
print("Content-Type: text/html; charset=utf-8")  # headers, at least Content-Type
print()                                          # an empty line separates the body
print("<h1>Hello, CGI</h1>", end="")             # the body
print('<p><a href="form.html">A form</a> and the script that reads it;'
      ' <a href="index.html">index.html</a>.</p>')
"""


INDEX_HTML = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>Hello, World</title></head>
<body>
<h1>Hello, World</h1>
<p>A static page: the server sends this file as it is.
<a href="index.py">index.py</a> is a script: the server runs it and sends what it prints.</p>
</body>
</html>
"""

FORM_HTML = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>A form</title></head>
<body>
<h1>A form</h1>
<!-- method="post": the fields travel in the request's body, and form.py reads them
     from its standard input. With method="get" they would travel in the URL, after
     "?" (form.py?name=...&message=...), and reach the script as QUERY_STRING. -->
<form action="form.py" method="post">
  <p><label>Your name: <input name="name"></label></p>
  <p><label>A message: <textarea name="message"></textarea></label></p>
  <p><button>Send</button></p>
</form>
<p>Or as a GET: <a href="form.py?name=World&amp;message=Hi">form.py?name=World&amp;message=Hi</a></p>
</body>
</html>
"""


def form_py(spec: SiteSpec) -> str:
    return f'''{shebang(spec.python, spec.windows)}
# Reads the form of form.html. A form's fields reach a CGI script in one of two places:
# GET puts them in the URL after "?" (the QUERY_STRING variable), POST in the request's
# body (the script's standard input, CONTENT_LENGTH bytes). urllib.parse decodes both
# (Python 3.13 removed the old "cgi" module).
import html
import os
import sys
from urllib.parse import parse_qs

fields = parse_qs(os.environ.get("QUERY_STRING", ""))
if os.environ.get("REQUEST_METHOD") == "POST":
    length = int(os.environ.get("CONTENT_LENGTH") or 0)
    body = sys.stdin.buffer.read(length).decode("utf-8", "replace")
    for key, values in parse_qs(body).items():
        fields.setdefault(key, []).extend(values)

name = fields.get("name", [""])[0] or "stranger"
message = fields.get("message", [""])[0]

# what the script prints is UTF-8 whatever this computer's own encoding is (Windows'
# is often not), and the Content-Type says so: Cyrillic shows as Cyrillic
sys.stdout.reconfigure(encoding="utf-8")
print("Content-Type: text/html; charset=utf-8")
print()
# html.escape: what a visitor typed is shown as text, never run as HTML
print(f"<h1>Hello, {{html.escape(name)}}</h1>")
print(f"<p>Your message: {{html.escape(message) or '(none)'}}</p>")
print(f"<p>It came by {{html.escape(os.environ.get('REQUEST_METHOD', ''))}}."
      ' <a href="form.html">Back to the form</a></p>')
'''


def _modules(spec: SiteSpec) -> str:
    where = XAMPP_MODULES if spec.windows else DEBIAN_MODULES
    mpm = "" if spec.windows else f"""\
# How Apache handles requests (processes and threads). Windows' Apache has its own
# built in; Debian's apache2 needs one loaded.
LoadModule mpm_event_module {where}/mod_mpm_event.so
"""
    return f"""\
# Apache is made of modules, and a directive works only where its module is loaded
# ("Invalid command 'AddHandler'" means mod_mime is not). These are the modules of the
# directives below. The paths are {"XAMPP's" if spec.windows else "Debian's apache2's"}:
# cgihttpd does not read the files, Apache does.
{mpm}# CustomLog and LogFormat (built into Debian's apache2, a module in XAMPP's)
<IfModule !log_config_module>
    LoadModule log_config_module {where}/mod_log_config.so
</IfModule>
# Require
LoadModule authz_core_module {where}/mod_authz_core.so
# DirectoryIndex
LoadModule dir_module {where}/mod_dir.so
# AddHandler, TypesConfig, AddDefaultCharset's types
LoadModule mime_module {where}/mod_mime.so
# running CGI scripts (cgi-script)
LoadModule cgi_module {where}/mod_cgi.so
"""


def httpd_conf(spec: SiteSpec) -> str:
    root, docroot, name, port = spec.root_path, spec.docroot, spec.name, spec.port
    aliases = " ".join(spec.aliases)
    return f"""\
# The configuration of the site {name}, written by "cgihttpd init".
# It is an Apache httpd 2.4 configuration: cgihttpd runs it, and so would Apache.
# Lines that start with # are comments. Check the file, then run it:
#   cgihttpd -t -f "{root}/httpd.conf"
#   cgihttpd -f "{root}/httpd.conf"{_listen_flag(spec)}

# Relative paths below (PidFile, TypesConfig) start here.
ServerRoot "{root}"

{_modules(spec)}
# The port to listen on, on every address (IPv4 and IPv6). Port 80 is the web's
# default, so the URL needs no ":80"; on Linux and macOS only root may open ports below
# 1024, so there run cgihttpd with "-l 127.0.0.1:{UNPRIVILEGED_PORT}" instead (it replaces
# this line) and open the URL with ":{UNPRIVILEGED_PORT}".
Listen {port}

# The server's own name (without it Apache guesses one and warns at each start).
ServerName localhost
# The server's process id, written at start-up, and its own error log (each site
# below has its own too).
PidFile "cgi/logs/httpd.pid"
ErrorLog "cgi/logs/server-error.log"

# The "common" log format CustomLog names below (the NCSA format).
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
# Which Content-Type each file extension gets: mime.types beside this file.
TypesConfig mime.types
# What a request for a folder answers with: the first of these files it holds
# (the course adds index.py to this list; here it comes first, so "/" runs index.py).
DirectoryIndex index.py index.html

# cgihttpd's dev mode: a script that fails is explained in the browser, not only in
# the error log. Apache has no such directive and skips the block.
<IfDirective CGIDevMode>
    CGIDevMode On
</IfDirective>

# Nothing on the disk is served unless a <Directory> below allows it.
<Directory />
    AllowOverride None
    Require all denied
</Directory>

# The course's virtual host: a site named {name}, its files in {docroot}.
# Apache chooses the <VirtualHost> by the name in the browser's address bar (the Host
# header); cgihttpd also answers {name}.localhost with it, a name every browser sends
# to this computer without a hosts-file entry.
<VirtualHost *:{port}>
    ServerAdmin webmaster@localhost
    DocumentRoot "{docroot}"
    ServerName {name}
    ServerAlias {aliases}
    ErrorLog "{docroot}/logs/error.log"
    CustomLog "{docroot}/logs/access.log" common
    <Directory "{docroot}">
        # .htaccess files in the site may change these settings
        AllowOverride All
        # no folder listings; scripts may run
        Options -Indexes +ExecCGI
        # a .py file is a CGI script: run it, do not send its text
        AddHandler cgi-script .py
        # everyone may visit
        Require all granted
    </Directory>
    # Not the course's: the logs are inside the site's folder, keep them private.
    <Directory "{docroot}/logs">
        Require all denied
    </Directory>
</VirtualHost>
"""


def _listen_flag(spec: SiteSpec) -> str:
    return f" -l 127.0.0.1:{UNPRIVILEGED_PORT}" if needs_other_port(spec) else ""


def needs_other_port(spec: SiteSpec) -> bool:
    """Whether the config's port needs admin rights here (below 1024, not Windows)."""
    return not spec.windows and spec.port < 1024


def site_files(spec: SiteSpec) -> dict[str, str]:
    """Every file of the site: path relative to the project folder → text."""
    return {
        "httpd.conf": httpd_conf(spec),
        "mime.types": MIME_TYPES,
        "cgi/index.html": INDEX_HTML,
        "cgi/index.py": index_py(spec),
        "cgi/form.html": FORM_HTML,
        "cgi/form.py": form_py(spec),
    }


#: the folders, created even when empty (error.log and access.log appear in logs/)
SITE_DIRS = ("cgi", "cgi/logs")
#: the files a CGI server (Apache) runs: given the execute bit on POSIX
SCRIPTS = ("cgi/index.py", "cgi/form.py")


def _quote(path: str, windows: bool) -> str:
    if windows:
        return f'"{path}"' if " " in path else path
    return shlex.quote(path)


def next_steps(spec: SiteSpec, conf_path: str, environ: dict[str, str] | None = None) -> str:
    """What ``init`` prints once the files are written: the commands to run, the URLs,
    and the hosts-file lines with the file's path."""
    conf = _quote(conf_path, spec.windows)
    other = needs_other_port(spec)
    port = UNPRIVILEGED_PORT if other else spec.port
    suffix = "" if port == 80 else f":{port}"
    run = f"cgihttpd -f {conf}" + (f" -l 127.0.0.1:{port}" if other else "")
    names = (spec.name, *spec.aliases)
    hosts = hosts_path(spec.windows, environ)
    admin = ("as administrator: open the terminal with 'Run as administrator'"
             if spec.windows else "as root")
    apply = ("" if spec.windows else "sudo ") + f"cgihttpd hosts {' '.join(names)} --apply"
    lines = [
        f"Created the site {spec.name} in {spec.root}:",
        "  httpd.conf                the server's configuration (read its comments)",
        "  cgi/index.html            Hello, World",
        "  cgi/index.py              the first CGI script (runs for /)",
        "  cgi/form.html, form.py    a form and the script that reads it",
        "  cgi/logs/                 error.log and access.log appear here",
        "",
        "Next:",
        f"  cgihttpd -t -f {conf}",
        "      checks the configuration: it says Syntax OK",
        f"  {run}",
        "      runs the site (Ctrl+C stops it); then open in a browser",
        f"      http://{spec.name}.localhost{suffix}/    (works now: *.localhost is this computer)",
        f"      http://127.0.0.1{suffix}/",
        "",
        f"For http://{spec.name}{suffix}/ as the course writes it, add these lines to",
        f"{hosts} ({admin}):",
        *(f"  {line}" for line in host_lines(names)),
        f"or let cgihttpd add them: {apply}",
    ]
    return "\n".join(lines) + "\n"
