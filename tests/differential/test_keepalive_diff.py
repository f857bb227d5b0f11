"""Per-virtual-host KeepAlive, MaxKeepAliveRequests and KeepAliveTimeout on Apache and
cgihttpd, one config, raw sockets: each request's keep-alive answer comes from the vhost
that served it (http_protocol.c ap_set_keepalive reads r->server), and the wait for the
next request is the vhost's KeepAliveTimeout when it sets one, else that of the default
vhost of the address (event.c event_post_read_request: c->base_server).

The waits compare a main KeepAliveTimeout of 1 s with vhost ones of 30 s, probed after
3 s: generous margins, no speed threshold."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import pytest
from diffsupport import Pair, Server, config_head, serving, site_dirs

pytestmark = pytest.mark.differential

CONFIG = config_head("authz_core") + r"""
DocumentRoot "${ROOT}/site"
KeepAliveTimeout 1
<Directory "${ROOT}/site">
    Require all granted
</Directory>
# the first vhost of the address: c->base_server of every connection to it
<VirtualHost 127.0.0.1:${PORT}>
    ServerName first.test
    DocumentRoot "${ROOT}/site"
    KeepAliveTimeout 30
</VirtualHost>
<VirtualHost 127.0.0.1:${PORT}>
    ServerName off.test
    DocumentRoot "${ROOT}/site"
    KeepAlive Off
</VirtualHost>
<VirtualHost 127.0.0.1:${PORT}>
    ServerName max.test
    DocumentRoot "${ROOT}/site"
    MaxKeepAliveRequests 2
</VirtualHost>
<VirtualHost 127.0.0.1:${PORT}>
    ServerName long.test
    DocumentRoot "${ROOT}/site"
    KeepAliveTimeout 30
</VirtualHost>
<VirtualHost 127.0.0.1:${PORT}>
    ServerName plain.test
    DocumentRoot "${ROOT}/site"
</VirtualHost>
"""

#: well past the main server's KeepAliveTimeout (1 s), far before the vhosts' (30 s)
PROBE_AFTER = 3.0


@pytest.fixture(scope="module")
def kpair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("keepalive")
    site_dirs(root, {"index.html": "<p>hi</p>\n"})
    with serving(root, CONFIG) as started:
        yield started


def ask(sock: socket.socket, host: str) -> tuple[int, str | None, str | None]:
    """One keep-alive request on ``sock``: status, Keep-Alive and Connection fields."""
    sock.sendall(f"GET /index.html HTTP/1.1\r\nHost: {host}\r\n"
                 "Connection: keep-alive\r\n\r\n".encode("ascii"))
    resp = http.client.HTTPResponse(sock, method="GET")
    resp.begin()
    resp.read()
    return resp.status, resp.getheader("Keep-Alive"), resp.getheader("Connection")


def answers(server: Server, hosts: list[str]) -> list[tuple[int, str | None, str | None]]:
    """``hosts`` asked in turn on one connection, until it closes."""
    out: list[tuple[int, str | None, str | None]] = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for host in hosts:
            try:
                out.append(ask(sock, host))
            except (http.client.RemoteDisconnected, ConnectionError):
                out.append((0, None, None))
                break
            if (out[-1][2] or "").lower() == "close":
                break
    return out


def open_after_wait(server: Server, host: str) -> bool:
    """Is the connection still answering ``PROBE_AFTER`` s after a request to ``host``?"""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        first = ask(sock, host)
        assert first[0] == 200 and (first[2] or "").lower() != "close", first
        time.sleep(PROBE_AFTER)
        try:
            return ask(sock, "first.test")[0] == 200
        except (http.client.RemoteDisconnected, ConnectionError):
            return False


SEQUENCES = {
    # KeepAlive Off in one vhost: that request closes, the others keep alive
    "off-vhost": ["plain.test", "off.test", "plain.test"],
    # MaxKeepAliveRequests counted on the connection with the serving vhost's limit
    "max-vhost": ["max.test", "max.test", "max.test", "max.test"],
    "max-after-others": ["plain.test", "plain.test", "max.test", "plain.test"],
    # Keep-Alive's timeout= is the serving vhost's value
    "timeout-header": ["long.test", "first.test", "plain.test"],
}


@pytest.mark.parametrize("case", sorted(SEQUENCES))
def test_keepalive_answers_follow_the_vhost(kpair: Pair, case: str) -> None:
    hosts = SEQUENCES[case]
    apache, ours = (answers(s, hosts) for s in kpair.both())
    assert ours == apache


@pytest.mark.parametrize("host", ["long.test", "plain.test"])
def test_keepalive_wait_is_the_vhosts_or_the_default_vhosts(kpair: Pair, host: str) -> None:
    # long.test sets 30 s; plain.test sets none, so the address's default vhost
    # (first.test, 30 s) decides the wait, not the main server's 1 s
    apache = open_after_wait(kpair.apache, host)
    assert apache, "Apache closed before the vhost's KeepAliveTimeout"
    assert open_after_wait(kpair.ours, host) == apache


def test_keepalive_wait_of_the_main_server(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Without virtual hosts the main server's 1 s applies (the probe must see it close,
    or the cases above would prove nothing)."""
    root = tmp_path_factory.mktemp("keepalive-main")
    site_dirs(root, {"index.html": "<p>hi</p>\n"})
    conf = config_head("authz_core") + (
        'DocumentRoot "${ROOT}/site"\nKeepAliveTimeout 1\n'
        '<Directory "${ROOT}/site">\n    Require all granted\n</Directory>\n')
    with serving(root, conf) as started:
        for server in started.both():
            assert not open_after_wait(server, "localhost"), server.impl
