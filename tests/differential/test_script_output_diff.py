"""What a script may not put on the wire, on Debian's apache2 and on cgihttpd from one
config (issue 10, "script output validation"): the status line, the fields, the body and
the framing must be a well-formed HTTP response that says what the body is.

- its Content-Length, one or two, right or wrong: dropped (Apache 2.4.59+), the body
  is what the script wrote, framed by the server (chunked or a length it counted: a
  matter of timing on both, so either is accepted);
- Transfer-Encoding, Connection, Keep-Alive: never the script's framing;
- a control character in a field's value or name: 500 and AH02430 / AH02429 with the
  bytes escaped in the error log (Apache's 500 page then has a wrong Content-Length:
  its framing is not checked there, ours is); a CR inside a value is dropped, a NUL ends it, HTAB
  and obs-text pass;
- a reason phrase with a control character: the standard phrase instead;
- a bad Status (not a number, out of range, empty): "Invalid status line" in the log;
  Apache then sends the script's body under 500 (or its 600), cgihttpd its 500 page
  (a deliberate difference, asserted);
- a large header block (100 fields of 8,000 bytes): served by both.

The access log's status must be the one sent. Request lines are unique per case so a
log line can be found by its request.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, Pair, Server, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

CONFIG = config_head("authz_core", "mime", "alias", "env", "cgid") + r"""
TypesConfig /etc/mime.types
LogFormat "%h \"%r\" %>s %b" short
CustomLog "${ROOT}/logs/${IMPL}-access.log" short
DocumentRoot "${ROOT}/site"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Options +ExecCGI
    AddHandler cgi-script .py
    Require all granted
</Directory>
# the servers' own environment reaches scripts only through PassEnv
PassEnv IMPL
"""

#: prints what a script may see of the request's Proxy header and of the environment
#: the server was started with (diffsupport sets PORT, ROOT, IMPL and TZ there)
ENV_PY = (f"#!{PY}\nimport os\nprint('Content-Type: text/plain\\n')\n"
          "for k in ('HTTP_PROXY', 'HTTP_X_OK', 'IMPL', 'ROOT', 'PORT', 'PYTHONUNBUFFERED'):\n"
          "    print(k, os.environ.get(k))\n")

CT = "Content-Type: text/plain\n"
BIG = "".join(f"X-H{i}: {'a' * 8000}\n" for i in range(100))

#: name -> the script's whole output (latin-1)
OUTPUTS: dict[str, str] = {
    "cl2": CT + "Content-Length: 5\nContent-Length: 3\n\nhello",
    "cl2same": CT + "Content-Length: 5\nContent-Length: 5\n\nhello",
    "cllong": CT + "Content-Length: 100\n\nhello",
    "clshort": CT + "Content-Length: 2\n\nhello",
    "clneg": CT + "Content-Length: -3\n\nhello",
    "hop": CT + "Connection: close\nTransfer-Encoding: chunked\nX-Ok: 1\n\nhello",
    "ctlval": CT + "X-A: a\x01b\n\nhello",
    "delval": CT + "X-A: a\x7fb\n\nhello",
    "ctlname": CT + "X-\x01A: ab\n\nhello",
    "crval": CT + "X-A: a\rb\n\nhello",
    "nulval": CT + "X-A: a\x00b\n\nhello",
    "tabval": CT + "X-A: a\tb\n\nhello",
    "hival": CT + "X-A: a\xe9b\n\nhello",
    "big": CT + BIG + "\nhello",
    "st_ctl": "Status: 200 O\x01K\n" + CT + "\nhello",
    "st_noreason": "Status: 201\n" + CT + "\nhello",
    "st_abc": "Status: abc\n" + CT + "\nhello",
    "st_99": "Status: 99 Low\n" + CT + "\nhello",
    "st_2000": "Status: 2000 Big\n" + CT + "\nhello",
    "st_empty": "Status:\n" + CT + "\nhello",
}


@pytest.fixture(scope="module")
def out_pair(diff_root: Path) -> Iterator[Pair]:
    if not os.access(APACHE, os.X_OK):
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")
    root = diff_root / "script-output"
    files = {f"{name}.py": f"#!{PY}\nimport sys\n"
             f"sys.stdout.buffer.write({text!r}.encode('latin-1'))\n"
             for name, text in OUTPUTS.items()}
    files["env.py"] = ENV_PY
    files["count.py"] = (f"#!{PY}\nimport sys\nn = len(sys.stdin.buffer.read())\n"
                         "print('Content-Type: text/plain\\n')\nprint(n)\n")
    site_dirs(root, files)
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


def fetch(server: Server, name: str, *, exact: bool = True
          ) -> tuple[bytes, dict[str, list[bytes]], bytes]:
    """GET /NAME.py on a fresh connection, read to the close: the status line, the fields
    (lower-case names, every value) and the body decoded from its framing, which must be
    exact (a length that is the body's, or whole chunks ended by the last one) unless
    not ``exact``."""
    raw = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(f"GET /{name}.py HTTP/1.1\r\nHost: localhost\r\n"
                     "Connection: close\r\n\r\n".encode())
        while chunk := sock.recv(65536):
            raw += chunk
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, f"{server.impl}: no complete head for {name}: {raw[:200]!r}"
    status, *lines = head.split(b"\r\n")
    fields: dict[str, list[bytes]] = {}
    for line in lines:
        k, _, v = line.partition(b":")
        assert k and not re.search(rb"[\x00-\x1f\x7f]", line.replace(b"\t", b" ")), line
        fields.setdefault(k.decode().lower(), []).append(v.strip(b" \t"))
    if b"transfer-encoding" in {k.encode() for k in fields}:
        assert fields["transfer-encoding"] == [b"chunked"] and "content-length" not in fields
        body = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                assert rest == b"\r\n", f"{server.impl}: {name}: trailing bytes {rest!r}"
                break
            body, rest = body + rest[:size], rest[size:]
            assert rest[:2] == b"\r\n"
            rest = rest[2:]
    else:
        assert not exact or fields.get("content-length") == [str(len(rest)).encode()], \
            f"{server.impl}: {name}: length {fields.get('content-length')} for {len(rest)} bytes"
        body = rest
    return status, fields, body


def logged(server: Server, name: str) -> str:
    """The access-log line of GET /NAME.py (waiting for it, with a deadline)."""
    want = f'"GET /{name}.py HTTP/1.1"'
    for _ in range(2):
        hits = [x for x in wait_for_lines(server.log("access"), 1) if want in x]
        if hits:
            return hits[-1]
        wait_for_lines(server.log("access"), 10**6, 1.0)
    raise AssertionError(f"{server.impl}: no access-log line for {name}")


def error_lines(server: Server, needle: str) -> list[str]:
    return [x.split("] ", 4)[-1] for x in wait_for_lines(server.log("error"), 1)
            if needle in x]


@pytest.mark.parametrize("name", ["cl2", "cl2same", "cllong", "clshort", "clneg"])
def test_scripts_content_length_is_dropped(out_pair: Pair, name: str) -> None:
    for server in out_pair.both():
        status, fields, body = fetch(server, name)
        assert status.startswith(b"HTTP/1.1 200 "), (server.impl, status)
        assert body == b"hello", (server.impl, body)
        assert logged(server, name).endswith(" 200 5"), server.impl


def test_scripts_framing_fields_are_not_sent(out_pair: Pair) -> None:
    for server in out_pair.both():
        status, fields, body = fetch(server, "hop")
        assert status.startswith(b"HTTP/1.1 200 ") and body == b"hello"
        assert fields.get("connection") == [b"close"], server.impl  # one, the server's
        assert fields["x-ok"] == [b"1"]


@pytest.mark.parametrize(("name", "message"), [
    ("ctlval", "AH02430: Response header 'X-A' value of 'a\\x01b' contains invalid "
               "characters, aborting request"),
    ("delval", "AH02430: Response header 'X-A' value of 'a\\x7fb' contains invalid "
               "characters, aborting request"),
    ("ctlname", "AH02429: Response header name 'X-\\x01A' contains invalid characters, "
                "aborting request"),
])
def test_control_characters_are_a_500_with_the_bytes_escaped(out_pair: Pair, name: str,
                                                            message: str) -> None:
    for server in out_pair.both():
        # Apache 2.4.71's own 500 here announces 576 bytes and sends 571 (its page
        # after the aborted head): a broken response that ours must not copy
        status, fields, body = fetch(server, name, exact=server.impl != "apache")
        assert status.startswith(b"HTTP/1.1 500 "), (server.impl, status)
        assert "x-a" not in fields and b"hello" not in body
        assert logged(server, name).split('" ')[1].startswith("500 "), server.impl
        # (ours adds the diagnosis after Apache's line: the same details as dev mode's
        # page, issue 11; it quotes the message too)
        lines = error_lines(server, message)
        assert any(x.endswith(message) for x in lines), (server.impl, lines)
        assert "[http:error]" in [x for x in wait_for_lines(server.log("error"), 1)
                                  if x.endswith(message)][-1]


@pytest.mark.parametrize(("name", "value"), [
    ("crval", b"ab"), ("nulval", b"a"), ("tabval", b"a\tb"), ("hival", b"a\xe9b")])
def test_cr_nul_tab_and_obs_text_in_values(out_pair: Pair, name: str, value: bytes) -> None:
    for server in out_pair.both():
        status, fields, body = fetch(server, name)
        assert status.startswith(b"HTTP/1.1 200 ") and body == b"hello", server.impl
        assert fields["x-a"] == [value], server.impl


def test_large_header_block_is_served(out_pair: Pair) -> None:
    for server in out_pair.both():
        status, fields, body = fetch(server, "big")
        assert status.startswith(b"HTTP/1.1 200 ") and body == b"hello", server.impl
        assert fields["x-h99"] == [b"a" * 8000]


@pytest.mark.parametrize(("name", "line"), [("st_ctl", b"HTTP/1.1 200 OK"),
                                            ("st_noreason", b"HTTP/1.1 201 Created")])
def test_reason_phrase_is_the_standard_one(out_pair: Pair, name: str, line: bytes) -> None:
    for server in out_pair.both():
        status, _, body = fetch(server, name)
        assert status == line and body == b"hello", server.impl


@pytest.mark.parametrize(("name", "shown"), [("st_abc", "abc"), ("st_99", "99 Low"),
                                             ("st_2000", "2000 Big"), ("st_empty", "")])
def test_bad_status_is_logged_and_a_500(out_pair: Pair, name: str, shown: str) -> None:
    message = f"Invalid status line from script '{name}.py': {shown}"
    for server in out_pair.both():
        status, _, body = fetch(server, name)
        assert status.startswith(b"HTTP/1.1 500 "), (server.impl, status)
        lines = error_lines(server, f"'{name}.py'")
        assert lines and lines[-1].endswith(message), (server.impl, lines)
        # the difference: Apache sends the script's body under its 500, we our page
        assert (body == b"hello") == (server.impl == "apache"), server.impl


def test_httpoxy_and_the_servers_environment(out_pair: Pair) -> None:
    """httpoxy (CVE-2016-5385): a request's Proxy header never becomes HTTP_PROXY; the
    server's own environment reaches a script only by PassEnv (IMPL here), never
    whole (ROOT, PORT, PYTHONUNBUFFERED were set for both servers)."""
    for server in out_pair.both():
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            sock.sendall(b"GET /env.py HTTP/1.1\r\nHost: localhost\r\nProxy: http://evil:1/\r\n"
                         b"X-Ok: yes\r\nConnection: close\r\n\r\n")
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        body = raw.partition(b"\r\n\r\n")[2].decode()
        for line in (f"IMPL {server.impl}", "HTTP_PROXY None", "HTTP_X_OK yes", "ROOT None",
                     "PORT None", "PYTHONUNBUFFERED None"):
            assert line in body, (server.impl, line, body)


#: (what the client sends before it closes its side, the access-log status or None
#: for no line); each request line is unique so its log line can be found
CUT_SHORT = [
    (b"GET /cut-partial-line", None),
    (b"GET /cut-line-only HTTP/1.1\r\n", "400"),
    (b"GET /cut-head HTTP/1.1\r\nHost: localhost\r\nX-A: b", "400"),
    (b"POST /count.py?cut-length HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"
     b"0123456789", "400"),
    (b"POST /count.py?cut-chunked HTTP/1.1\r\nHost: localhost\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nab", "400"),
]


def test_requests_cut_short_are_logged_as_apache_logs_them(out_pair: Pair) -> None:
    """Logging completeness (issue 10): a head or a script's body cut short by the
    client is logged 400 by both; a request line that never ended, by neither."""
    for data, _ in CUT_SHORT:
        for server in out_pair.both():
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                with contextlib.suppress(OSError):
                    while sock.recv(65536):
                        pass
    for server in out_pair.both():
        fetch(server, "cl2same")  # a last request: the ones before are logged by now
        logged(server, "cl2same")
        lines = wait_for_lines(server.log("access"), 1)
        for data, status in CUT_SHORT:
            target = data.split(b" ")[1].decode()
            hits = [x for x in lines if target in x]
            if status is None:
                assert not hits, (server.impl, hits)
            else:
                assert len(hits) == 1 and f'" {status} ' in hits[0], (server.impl, target, hits)
