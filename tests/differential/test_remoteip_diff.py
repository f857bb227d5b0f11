"""mod_remoteip on Apache and cgihttpd, one config each: the X-Forwarded-For walk
(trusted and internal proxies, private addresses, what is left of the header,
RemoteIPProxiesHeader) as a script sees it, ``Require ip`` on the client found, and
the access log's %a / %{c}a / %h / %{remoteip-proxy-ip-list}n; then
``RemoteIPProxyProtocol On`` with PROXY v1 and v2 headers sent on a raw socket, and a
connection without one closed unanswered. The peer is always 127.0.0.1."""

from __future__ import annotations

import os
import socket
import struct
import sys
import time
from collections.abc import Iterator

import pytest
from diffsupport import Pair, Server, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
SCRIPT = f"""#!{PY}
import os
print("Content-Type: text/plain")
print()
for k in ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_BY"):
    print(k, os.environ.get(k))
"""
FILES = {"env.py": SCRIPT, "only/a.txt": "a\n"}
BODY = r"""
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
LogFormat "%a %{c}a %h [%{remoteip-proxy-ip-list}n] %r %>s" rip
CustomLog "${ROOT}/logs/${IMPL}-rip.log" rip
<Directory "${ROOT}/site">
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
<Directory "${ROOT}/site/only">
    Require ip 203.0.113.0/24 10.9.0.0/16
</Directory>
"""
WALK = config_head("authz_core", "authz_host", "mime", "cgid", "remoteip") + r"""
RemoteIPHeader X-Forwarded-For
RemoteIPProxiesHeader X-Forwarded-By
RemoteIPTrustedProxy 127.0.0.1 1.1.1.1 2.2.2.2
RemoteIPInternalProxy 3.3.3.3 4.4.4.4
""" + BODY
PROXY = config_head("authz_core", "authz_host", "mime", "cgid", "remoteip") + r"""
RemoteIPProxyProtocol On
""" + BODY
EXCEPTED = PROXY.replace("RemoteIPProxyProtocol On\n", "RemoteIPProxyProtocol On\n"
                         "RemoteIPProxyProtocolExceptions 10.0.0.0/8 127.0.0.1\n")


def _start(tmp: pytest.TempPathFactory, name: str, config: str) -> Iterator[Pair]:
    root = tmp.mktemp(name)
    site_dirs(root, FILES)
    with serving(root, config, lambda n: n.endswith(".py")) as started:
        yield started


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from _start(tmp_path_factory, "remoteip", WALK)


@pytest.fixture(scope="module")
def excepted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from _start(tmp_path_factory, "proxyexcept", EXCEPTED)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from _start(tmp_path_factory, "proxyproto", PROXY)


XFF = [
    "8.8.8.8, 3.3.3.3, 2.2.2.2, 1.1.1.1",
    "10.0.0.5, 3.3.3.3, 1.1.1.1",
    "10.0.0.5, 4.4.4.4, 3.3.3.3",
    "8.8.8.8,, 1.1.1.1",
    "bogus, 8.8.8.8",
    "x, bogus , 1.1.1.1",
    " , 1.1.1.1",
    "2001:db8::1",
    "::ffff:8.8.8.8",
    "2a00::1, 192.168.1.1",
    "3.3.3.3, 10.1.1.1",
    "203.0.113.9",
]


@pytest.mark.parametrize("xff", XFF)
def test_script_sees_the_client(walk: Pair, xff: str) -> None:
    a = walk.apache.request("GET", "/env.py", {"X-Forwarded-For": xff})
    o = walk.ours.request("GET", "/env.py", {"X-Forwarded-For": xff})
    assert (o.status, o.body) == (a.status, a.body)


@pytest.mark.parametrize(("xff", "status"), [
    ("203.0.113.9", 200), ("10.9.1.1", 403), ("10.9.1.1, 1.1.1.1", 403), (None, 403),
])
def test_require_ip_takes_the_client(walk: Pair, xff: str | None, status: int) -> None:
    headers = {"X-Forwarded-For": xff} if xff is not None else {}
    got = [s.request("GET", "/only/a.txt", headers).status for s in walk.both()]
    assert got == [status, status]


def test_access_log(walk: Pair) -> None:
    lines = []
    for server in walk.both():
        log = server.log("rip")
        before = len(log.read_text().splitlines()) if log.exists() else 0
        for xff in XFF:
            server.request("GET", "/env.py", {"X-Forwarded-For": xff})
        lines.append(wait_for_lines(log, before + len(XFF)))
    a, o = lines
    assert o[-len(XFF):] == a[-len(XFF):]
    assert any(line.startswith("8.8.8.8 127.0.0.1 8.8.8.8 [127.0.0.1, 1.1.1.1") for line in o)


REQ = b"GET /env.py HTTP/1.0\r\n\r\n"
V2 = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY_CASES = {
    "v1": b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + REQ,
    "v1-ipv6": b"PROXY TCP6 2001:db8::7 ::1 5555 80\r\n" + REQ,
    "v2": V2 + bytes([0x21, 0x11]) + struct.pack("!H", 12) + socket.inet_aton("198.51.100.4")
    + socket.inet_aton("127.0.0.1") + struct.pack("!HH", 4444, 80) + REQ,
    "v2-local": V2 + bytes([0x20, 0x00]) + struct.pack("!H", 0) + REQ,
    "v1-require": b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nGET /only/a.txt HTTP/1.0\r\n\r\n",
    "missing": REQ,
}


def _raw(server: Server, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def _status_and_body(raw: bytes) -> tuple[bytes, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], body


@pytest.mark.parametrize("case", PROXY_CASES)
def test_proxy_protocol(proxied: Pair, case: str) -> None:
    a, o = (_status_and_body(_raw(s, PROXY_CASES[case])) for s in proxied.both())
    assert o == a
    if case == "missing":
        assert a == (b"", b"")  # closed, unanswered


def test_proxy_protocol_log(proxied: Pair) -> None:
    lines = []
    for server in proxied.both():
        log = server.log("rip")
        before = len(log.read_text().splitlines()) if log.exists() else 0
        _raw(server, PROXY_CASES["v2"])
        lines.append(wait_for_lines(log, before + 1)[-1])
    assert lines[1] == lines[0] == "198.51.100.4 127.0.0.1 198.51.100.4 [-] GET /env.py HTTP/1.0 200"


def test_error_log_names_the_client(walk: Pair) -> None:
    for server in walk.both():
        log = server.log("error")
        server.request("GET", "/nope-remoteip", {"X-Forwarded-For": "203.0.113.77"})
        wait_for_lines(log, 1)
        end = time.monotonic() + 10
        while "nope-remoteip" not in log.read_text() and time.monotonic() < end:
            time.sleep(0.05)
        line = next(x for x in log.read_text().splitlines() if "nope-remoteip" in x)
        assert "[client 203.0.113.77:" in line and "AH00128" in line, (server.impl, line)


def test_repeated_header_fields_are_one_list(walk: Pair) -> None:
    raw = (b"GET /env.py HTTP/1.0\r\nX-Forwarded-For: 8.8.8.8, 3.3.3.3\r\n"
           b"X-Forwarded-For: 2.2.2.2\r\n\r\n")
    a, o = (_status_and_body(_raw(s, raw)) for s in walk.both())
    assert o == a
    assert b"REMOTE_ADDR 8.8.8.8" in a[1]


@pytest.mark.parametrize("case", ["missing", "v1"])
def test_proxy_protocol_exceptions(excepted: Pair, case: str) -> None:
    """From an excepted peer a plain connection is served (and, as Apache 2.4.71 reads
    it then, a PROXY line is a bad request line)."""
    a, o = (_status_and_body(_raw(s, PROXY_CASES[case])) for s in excepted.both())
    assert o[0] == a[0] == (b"HTTP/1.1 200 OK" if case == "missing"
                            else b"HTTP/1.1 400 Bad Request")
    if case == "missing":
        assert a[1] == o[1] and b"REMOTE_ADDR 127.0.0.1" in a[1]
