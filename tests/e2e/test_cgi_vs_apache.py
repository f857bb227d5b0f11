"""CGI, differential: the same config and scripts on Debian's apache2 (mpm_event +
mod_cgid) and on cgihttpd; status, the headers that matter, body, and the environment
an env-dumping script sees.

Differences that must stay, each asserted below rather than hidden:
- SERVER_SOFTWARE (and the Server header): the product differs.
- REMOTE_PORT: two connections.
- A script's own Content-Length: Apache 2.4.59+ drops it (CVE-2024-24795) and frames the
  reply as timing decides (chunked, or a length it counted); so does cgihttpd since
  issue 10 ("never a length that is not the body's"), so only the framing may differ.
- "Status: 999": Apache logs "Invalid status line" and still sends 999; cgihttpd logs
  the same line and answers 500 (an HTTP status must be 100-599, RFC 9110 §15).
- ScriptLog entries: the request's header names are lower-case in cgihttpd's (the HTTP
  layer keeps names as ASGI does, lower-case), as Apache writes them in its; compared
  case-insensitively. Dates are normalised.
- A script killed mid-body: Apache ends the body as if complete (chunked, or with a
  Content-Length when the script died before Apache wrote anything: a choice by timing,
  so both are accepted); cgihttpd closes the connection without the last chunk so the
  client sees the truncation.
- A chunked request body reaches the script with CONTENT_LENGTH, the decoded length
  (Apache sets none; RFC 3875 §4.1.2 wants it; issue "Run CGI scripts").
- Not compared here: a script that does not read its stdin gets its response out and
  the connection stays usable (Apache may cut it off); tests/e2e/test_cgi.py asserts it.

Compared and equal, no exception: nph- output byte for byte (then the connection
closes), the access-log line of an nph run (200, %b "-"), ScriptLog entries (but for
the case of header names, above), SERVER_PORT with and without a port in Host.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, free_port, raw_request

APACHE = "/usr/sbin/apache2"
pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(not os.access(APACHE, os.X_OK), reason="Debian's apache2 is not installed"),
]
DEADLINE = 20.0
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

CONF = """\
ServerRoot {root}
Listen 127.0.0.1:{port}
PidFile {root}/{impl}.pid
Mutex file:{root}
ErrorLog {root}/{impl}-error.log
LogLevel warn
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
TypesConfig /etc/mime.types
ScriptSock {root}/{impl}-cgid.sock
ScriptLog {root}/{impl}-script.log
LogFormat "%>s %b %O %p" short
CustomLog {root}/{impl}-access.log short
ServerName localhost
ServerAdmin admin@example.com
DocumentRoot {root}/htdocs
CGIDScriptTimeout 3
<Directory />
  Require all granted
</Directory>
<Directory {root}/htdocs>
  Options +ExecCGI
  AddHandler cgi-script .py
  SetEnv FROM_SETENV yes
</Directory>
ScriptAlias /cgi-bin/ {root}/cgi/
# targets that are a file, as git-http-backend(1) sets itself up, with and without the
# trailing slashes: PATH_INFO is what follows the file's name in the joined path
ScriptAlias /fa/ {root}/cgi/env.py/
ScriptAlias /fb {root}/cgi/env.py
ScriptAlias /fc/ {root}/cgi/env.py
ScriptAlias /fd {root}/cgi/env.py/
ScriptAliasMatch ^/fm/(.*)$ {root}/cgi/env.py/$1
ScriptAliasMatch ^/fn(.*)$ {root}/cgi/env.py$1
# PATH_TRANSLATED maps PATH_INFO through these as a URL: mod_alias joins as written
Alias /al/ {root}/aliased
AliasMatch ^/am/(.*)$ {root}/am-$1
<Directory {root}/htdocs/noexec>
  Options -ExecCGI
</Directory>
"""

ENV_PY = (f"#!{PY}\nimport json, os, sys\n"
          'print("Content-Type: application/json")\nprint()\n'
          'print(json.dumps({"env": dict(os.environ), "argv": sys.argv[1:], '
          '"stdin": sys.stdin.read()}))\n')

SCRIPTS = {
    "htdocs/env.py": ENV_PY,
    "cgi/env.py": ENV_PY,
    "htdocs/hdr.py": (f"#!{PY}\nimport sys\nsys.stdout.write('X-Foo: a\\r\\n"
                      "Content-Type: Text/HTML; Charset=UTF-8  \\r\\nX-Foo: b\\n"
                      "Set-Cookie: a=1\\nSet-Cookie: b=2\\nStatus: 299 Fine Thing\\n\\nhi')\n"),
    "htdocs/noct.py": f"#!{PY}\nprint('X-A: 1\\n\\nbody')\n",
    "htdocs/te.py": f"#!{PY}\nprint('Transfer-Encoding: chunked\\nContent-Type: text/plain\\n\\nbody')\n",
    "htdocs/loc.py": f"#!{PY}\nprint('Location: http://example.com/x\\nSet-Cookie: s=1\\n\\nbody')\n",
    "htdocs/loc2.py": f"#!{PY}\nprint('Location: /env.py?from=loc2\\n\\nbody')\n",
    "htdocs/long.py": (f"#!{PY}\nimport sys\nsys.stdout.write('X-Long: ' + 'a'*8181 + "
                       "'\\nContent-Type: text/plain\\n\\nok')\n"),
    "htdocs/long2.py": (f"#!{PY}\nimport sys\nsys.stdout.write('X-Long: ' + 'a'*8182 + "
                        "'\\nContent-Type: text/plain\\n\\nok')\n"),
    "htdocs/empty.py": f"#!{PY}\n",
    "htdocs/bad.py": f"#!{PY}\nprint('This is not a header\\n\\nx')\n",
    "htdocs/lead.py": f"#!{PY}\nprint('X-A: 1\\n  Lead: x\\n\\nx')\n",
    "htdocs/etag.py": (f"#!{PY}\nprint('ETag: \"abc\"\\nLast-Modified: Wed, 21 Oct 2015 "
                       "07:28:00 GMT\\nContent-Type: text/plain\\n\\nbody')\n"),
    "htdocs/slow.py": f"#!{PY}\nimport time\ntime.sleep(10)\n",
    "htdocs/cl.py": f"#!{PY}\nprint('Content-Length: 2\\nContent-Type: text/plain\\n\\nhi', end='')\n",
    "htdocs/s999.py": f"#!{PY}\nprint('Status: 999 Weird\\nContent-Type: text/plain\\n\\nbody')\n",
    "htdocs/die.py": (f"#!{PY}\nimport os\nprint('Content-Type: text/plain\\n\\nstarted', "
                      "flush=True)\nos.kill(os.getpid(), 9)\n"),
    "htdocs/self.py": f"#!{PY}\nprint('Location: /self.py\\n')\n",
    "htdocs/status.py": f"#!{PY}\nprint('Status: 404 Not Here\\nContent-Type: text/plain\\n\\nnope')\n",
    "htdocs/nph-raw.py": (f"#!{PY}\nimport sys\nsys.stdout.write('HTTP/1.1 202 Taken\\r\\n"
                          "Content-Type: text/plain\\r\\nX-Odd:  spaced \\r\\nx-lower: y\\n"
                          "Status: 500\\r\\n\\r\\nnph body')\n"),
    "htdocs/nph-empty.py": f"#!{PY}\n",
    "htdocs/noexec/x.py": f"#!{PY}\nprint('Content-Type: text/plain\\n\\nran')\n",
    "cgi/sub/y.py": ENV_PY,
    "htdocs/nph-garbage.py": f"#!{PY}\nprint('not even a status line')\n",
    "htdocs/okerr.py": (f"#!{PY}\nimport sys\nsys.stderr.write('warn one\\nwarn two\\n')\n"
                        "print('Content-Type: text/plain\\n\\nok')\n"),
    "htdocs/errbad.py": (f"#!{PY}\nimport sys\nsys.stderr.write('err line\\n')\n"
                         "sys.stderr.flush()\nprint('Not a header\\n\\nx')\n"),
    "htdocs/badpost.py": (f"#!{PY}\nimport sys\nsys.stdin.read()\n"
                          "print('This is not a header\\n\\nrest of\\nthe output')\n"),
}


class Pair:
    def __init__(self, root: Path, apache_port: int, ours: ServerProcess) -> None:
        self.root = root
        self.apache_port = apache_port
        self.ours = ours

    def ports(self) -> tuple[int, int]:
        return self.apache_port, self.ours.port


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from _run_pair(tmp_path_factory.mktemp("cgi-diff"), CONF)


#: the same config under mod_cgi (its directive names, its own stderr handling)
CGI_CONF = (CONF.replace("mod_cgid.so", "mod_cgi.so").replace("cgid_module", "cgi_module")
            .replace("ScriptSock {root}/{impl}-cgid.sock\n", "")
            .replace("CGIDScriptTimeout", "CGIScriptTimeout"))


@pytest.fixture(scope="module")
def cgi_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from _run_pair(tmp_path_factory.mktemp("cgi-diff-mod-cgi"), CGI_CONF)


def _run_pair(root: Path, conf: str) -> Iterator[Pair]:
    os.chmod(root, 0o755)
    for d in ("htdocs", "cgi"):
        (root / d).mkdir()
    for rel, text in SCRIPTS.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(0o755)  # Apache needs the bit; cgihttpd does not care
    port = free_port()
    (root / "apache.conf").write_text(conf.format(root=root, port=port, impl="apache"))
    (root / "ours.conf").write_text(conf.format(root=root, port=1, impl="ours"))
    apache = subprocess.Popen([APACHE, "-f", str(root / "apache.conf"), "-DFOREGROUND"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(port, apache)
        with ServerProcess(["-f", str(root / "ours.conf"), "-l", "127.0.0.1:0"]) as ours:
            yield Pair(root, port, ours)
    finally:
        apache.send_signal(signal.SIGTERM)
        try:
            apache.wait(timeout=15)
        except subprocess.TimeoutExpired:
            apache.kill()
            apache.wait(timeout=15)


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"apache2 exited: {proc.stderr.read() if proc.stderr else b''!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("apache2 did not start listening")


def fetch(port: int, method: str, target: str, headers: dict[str, str] | None = None,
          body: bytes | None = None) -> tuple[int, str, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    conn.request(method, target, body=body,
                 headers={"Host": "localhost:8080", "User-Agent": "diff", **(headers or {})})
    resp = conn.getresponse()
    try:
        data = resp.read()
    except http.client.IncompleteRead as exc:
        # Apache's AH02429 abort announces a longer error page than it sends
        data = exc.partial
    conn.close()
    return resp.status, resp.reason, resp.getheaders(), data


def both(pair: Pair, method: str, target: str, headers: dict[str, str] | None = None,
         body: bytes | None = None) -> tuple[tuple[int, str, list[tuple[str, str]], bytes], ...]:
    return tuple(fetch(p, method, target, headers, body) for p in pair.ports())


def env_of(data: bytes) -> dict[str, object]:
    out = json.loads(data)
    env = out["env"]
    for k in ("SERVER_SOFTWARE", "REMOTE_PORT", "REDIRECT_SERVER_SOFTWARE",
              "REDIRECT_REMOTE_PORT"):
        env.pop(k, None)
    return out  # type: ignore[no-any-return]


ENV_CASES = [
    ("GET", "/env.py/a/b%20c?x=1&y", {"X-Foo": "a", "X_Under": "u", "X.Dot": "d",
                                      "Proxy": "http://evil", "Authorization": "Basic eA=="},
     None),
    ("GET", "/cgi-bin/env.py/x/y?a+b%20c+d%3Be", {}, None),
    ("POST", "/env.py", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1&b=2"),
    ("GET", "/env.py/%C3%A9?%C3%A9", {"X-Latin": "caf\xe9"}, None),
    ("GET", "/loc2.py?q=1", {}, None),
    ("POST", "/loc2.py", {"Content-Type": "text/plain"}, b"body"),
    ("GET", "/cgi-bin/env.py", {"Host": "[::1]:8080"}, None),
    # no port in Host, none in ServerName: SERVER_PORT is the scheme's 80, not the
    # port listened on (core.c ap_get_server_port, UseCanonicalName Off)
    ("GET", "/env.py", {"Host": "localhost"}, None),
    # PATH_TRANSLATED through Alias without the URL's trailing slash, and AliasMatch
    ("GET", "/env.py/al/x", {}, None),
    ("GET", "/env.py/am/q", {}, None),
    ("GET", "/env.py//al//x", {}, None),
    # ScriptAlias to a file: SCRIPT_NAME "/fa", PATH_INFO with its leading "/"
    ("GET", "/fa/repo.git/info/refs?service=git-upload-pack", {}, None),
    ("GET", "/fa/", {}, None),
    ("GET", "/fa/repo.git/", {}, None),
    ("GET", "/fb", {}, None),
    ("GET", "/fb/x/", {}, None),
    ("GET", "/fc/", {}, None),
    ("GET", "/fd", {}, None),
    ("GET", "/fd/x", {}, None),
    ("GET", "/fm/repo.git/info/refs", {}, None),
    ("GET", "/fm/", {}, None),
    ("GET", "/fn/x/y", {}, None),
    ("GET", "/fn", {}, None),
]


@pytest.mark.parametrize(("method", "target", "headers", "body"), ENV_CASES)
def test_same_environment(pair: Pair, method: str, target: str, headers: dict[str, str],
                          body: bytes | None) -> None:
    a, o = both(pair, method, target, headers, body)
    assert a[0] == o[0] == 200
    assert env_of(o[3]) == env_of(a[3])


SAME_RESPONSE = ["/self.py", "/noct.py", "/te.py", "/long.py", "/long2.py", "/empty.py", "/bad.py",
                 "/lead.py", "/status.py", "/loc.py"]


def _headers_that_matter(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # framing differs by design (see the module docstring); field order does not matter
    skip = {"date", "server", "content-length", "transfer-encoding", "connection"}
    return sorted((k.lower(), v) for k, v in headers if k.lower() not in skip)


@pytest.mark.parametrize("target", SAME_RESPONSE)
def test_same_response(pair: Pair, target: str) -> None:
    a, o = both(pair, "GET", target)
    assert (o[0], o[1]) == (a[0], a[1])
    assert _headers_that_matter(o[2]) == _headers_that_matter(a[2])
    if a[0] < 300:
        assert o[3] == a[3]


@pytest.mark.parametrize("headers", [
    {"If-None-Match": '"abc"'}, {"If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
    {"If-Match": '"zzz"'}, {"If-Unmodified-Since": "Wed, 21 Oct 2015 07:27:00 GMT"},
    {"If-Modified-Since": "Wed, 21 Oct 2015 07:27:00 GMT"},
])
def test_same_conditional_answers(pair: Pair, headers: dict[str, str]) -> None:
    a, o = both(pair, "GET", "/etag.py", headers)
    assert o[0] == a[0]


def test_repeated_fields_and_status_line(pair: Pair) -> None:
    a, o = both(pair, "GET", "/hdr.py")
    assert (o[0], o[1]) == (a[0], a[1]) == (299, "Fine Thing")
    assert _headers_that_matter(o[2]) == _headers_that_matter(a[2])
    assert o[3] == a[3] == b"hi"


@pytest.mark.slow
def test_timeout_status(pair: Pair) -> None:
    a, o = both(pair, "GET", "/slow.py")
    assert o[0] == a[0] == 504


def test_same_error_log_lines(pair: Pair) -> None:
    both(pair, "GET", "/bad.py")
    both(pair, "GET", "/empty.py")

    def messages(impl: str) -> set[str]:
        text = (pair.root / f"{impl}-error.log").read_text(errors="replace")
        out = set()
        for line in text.splitlines():
            if "[cgid:error]" in line and "] [client " in line:
                out.add(line.split("] ", 3)[-1].split("] ", 1)[-1])
        return out

    wanted = {"End of script output before headers: empty.py",
              "malformed header from script 'bad.py': Bad header: This is not a header"}
    assert wanted <= messages("apache")
    assert wanted <= messages("ours")


# --- the differences that stay (module docstring) ---------------------------------------


def test_difference_script_content_length_is_kept(pair: Pair) -> None:
    a, o = both(pair, "GET", "/cl.py")
    assert a[3] == o[3] == b"hi"
    # Apache 2.4.59+ drops the script's Content-Length, then frames the reply as timing
    # decides: chunked if it sent the head before the script ended, or a length it
    # counted itself if it had the whole body first. Either is allowed here.
    apache = dict(a[2])
    assert (apache.get("Transfer-Encoding") == "chunked" and "Content-Length" not in apache
            ) or (apache.get("Content-Length") == "2" and "Transfer-Encoding" not in apache)
    # ours: the same (the script's length dropped; counted or chunked)
    ours = dict(o[2])
    assert (ours.get("Transfer-Encoding") == "chunked" and "Content-Length" not in ours
            ) or (ours.get("Content-Length") == "2" and "Transfer-Encoding" not in ours)


def test_difference_invalid_status(pair: Pair) -> None:
    a, o = both(pair, "GET", "/s999.py")
    assert a[0] == 999 and o[0] == 500


def _raw(port: int, target: str) -> tuple[bytes, bool]:
    """What came back for a GET of ``target``, and whether the server closed the
    connection (else it was still open after 5 s of silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            return out, False  # Apache keeps the connection open after a complete response
        return out, True


def test_difference_killed_mid_body(pair: Pair) -> None:
    a, _ = _raw(pair.apache_port, "/die.py")
    o, closed = _raw(pair.ours.port, "/die.py")
    # Apache: a response that looks complete. Its framing is a choice made by timing:
    # when the script has died before Apache's first write to the client, the whole
    # body is known and gets a Content-Length, otherwise it is chunked and ended.
    head, _, body = a.partition(b"\r\n\r\n")
    fields = head.lower().split(b"\r\n")
    assert fields[0].startswith(b"http/1.1 200 ")
    if b"transfer-encoding: chunked" in fields:
        assert body == b"8\r\nstarted\n\r\n0\r\n\r\n"
    else:
        assert b"content-length: 8" in fields and body == b"started\n"
    # cgihttpd: chunked whatever the timing, the chunk sent, then the connection closed
    # without the last chunk, so the client sees the truncation
    head, _, body = o.partition(b"\r\n\r\n")
    fields = head.lower().split(b"\r\n")
    assert fields[0].startswith(b"http/1.1 200 ") and b"transfer-encoding: chunked" in fields
    assert body == b"8\r\nstarted\n\r\n" and closed


# --- nph- scripts: the bytes as written, then the close -----------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("target", ["/nph-raw.py", "/nph-empty.py", "/nph-garbage.py"])
def test_nph_output_is_passed_through_byte_for_byte(pair: Pair, target: str,
                                                    method: str) -> None:
    # HTTP/1.1 and no "Connection: close": the server must close after it by itself
    # (mod_cgi: AP_CONN_CLOSE for nph), so reading until EOF ends without a timeout.
    request = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    a = raw_request(("127.0.0.1", pair.apache_port), request, timeout=DEADLINE)
    o = raw_request(pair.ours.address, request, timeout=DEADLINE)
    assert o == a
    if target == "/nph-raw.py":
        assert o == (b"HTTP/1.1 202 Taken\r\nContent-Type: text/plain\r\nX-Odd:  spaced \r\n"
                     b"x-lower: y\nStatus: 500\r\n\r\nnph body")


def test_nph_access_log_lines(pair: Pair) -> None:
    # Apache logs an nph run as 200 with no body bytes (%b "-"), %O what went out
    for target in ("/nph-raw.py", "/nph-empty.py"):
        for port in pair.ports():
            raw_request(("127.0.0.1", port), f"GET {target} HTTP/1.1\r\nHost: localhost"
                        "\r\n\r\n".encode(), timeout=DEADLINE)

    def tail(impl: str) -> list[str]:
        path = pair.root / f"{impl}-access.log"
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            lines = path.read_text().splitlines() if path.exists() else []
            if len(lines) >= 2 and lines[-1].startswith("200 - 0 "):
                break
            time.sleep(0.05)
        return lines[-2:]

    assert tail("ours") == tail("apache") == ["200 - 97 80", "200 - 0 80"]


# --- ScriptLog -------------------------------------------------------------------------------


def _script_log_entries(pair: Pair, impl: str, count: int) -> list[str]:
    path = pair.root / f"{impl}-script.log"
    end = time.monotonic() + DEADLINE
    entries: list[str] = []
    while time.monotonic() < end:
        text = path.read_text(encoding="latin-1") if path.exists() else ""
        entries = ["%% " + e for e in text.split("%% [")[1:]]
        if len(entries) >= count:
            break
        time.sleep(0.05)
    out = []
    for e in entries:
        e = re.sub(r"^%% [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \d{4}\]", "%% DATE]", e)
        lines = e.split("\n")
        # %request's header names: lower-case in ours (module docstring)
        start, stop = ((lines.index("%request"), lines.index("%response"))
                       if "%request" in lines else (0, 0))
        for i in range(start + 1, stop):
            name, colon, value = lines[i].partition(": ")
            if colon:
                lines[i] = name.lower() + colon + value
        out.append("\n".join(lines))
    return out


def test_script_log_entries_as_apache_writes_them(pair: Pair) -> None:
    for p in pair.ports():
        (pair.root / ("apache-script.log" if p == pair.apache_port else "ours-script.log")
         ).unlink(missing_ok=True)
    body = b"a=1&b=2"
    cases = [("POST", "/badpost.py?q=1", body), ("GET", "/empty.py", None),
             ("GET", "/bad.py", None), ("GET", "/noexec/x.py?a", None),
             ("GET", "/cgi-bin/missing.py", None), ("GET", "/cgi-bin/sub/", None),
             ("GET", "/cgi-bin/sub", None)]
    for method, target, data in cases:
        for p in pair.ports():
            fetch(p, method, target, {"Content-Type": "text/plain"} if data else None, data)
    # every case but the last writes an entry (/cgi-bin/sub is a directory: mod_dir's
    # redirect answers before mod_cgid is asked)
    a = _script_log_entries(pair, "apache", len(cases) - 1)
    o = _script_log_entries(pair, "ours", len(cases) - 1)
    assert o == a and len(a) == len(cases) - 1
    assert a[3].endswith("%error\nOptions ExecCGI is off in this directory\n")
    assert a[4].endswith("%error\nscript not found or unable to stat\n")
    assert a[5].endswith("%error\nattempt to invoke directory as script\n")
    assert a[0].startswith("%% DATE] POST /badpost.py?q=1 HTTP/1.1\n%% 500 " +
                           str(pair.root / "htdocs/badpost.py"))
    assert "\n%request\n" in a[0] and "\n\na=1&b=2\n%response\nThis is not a header\n" \
        "%stdout\n\nrest of\nthe output\n\n" in a[0]


def test_difference_chunked_body_gets_content_length(pair: Pair) -> None:
    envs = []
    for port in pair.ports():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
        conn.request("POST", "/env.py", body=iter([b"a=1&", b"b=2"]), encode_chunked=True,
                     headers={"Host": "localhost:8080", "Content-Type": "text/plain"})
        resp = conn.getresponse()
        assert resp.status == 200
        envs.append(json.loads(resp.read()))
        conn.close()
    apache, ours = envs
    assert apache["stdin"] == ours["stdin"] == "a=1&b=2"
    assert "CONTENT_LENGTH" not in apache["env"]
    assert ours["env"]["CONTENT_LENGTH"] == "7"


def test_script_log_under_mod_cgi_has_an_entry_per_stderr_line(cgi_pair: Pair) -> None:
    # mod_cgi (not mod_cgid): each stderr line is logged (AH01215) and gets a ScriptLog
    # entry of its own with the status of the moment; a failed run's entry follows
    for target in ("/okerr.py?z", "/errbad.py", "/empty.py"):
        for p in cgi_pair.ports():
            fetch(p, "GET", target)
    a = _script_log_entries(cgi_pair, "apache", 5)
    o = _script_log_entries(cgi_pair, "ours", 5)
    assert o == a and len(a) == 5
    assert a[0].startswith("%% DATE] GET /okerr.py?z HTTP/1.1\n%% 200 ")
    assert a[0].endswith("%error\nwarn one\n") and a[1].endswith("%error\nwarn two\n")
    assert a[2].endswith("%error\nerr line\n") and "%% 500 " in a[3]
