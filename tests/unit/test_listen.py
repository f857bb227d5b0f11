"""Binding ``Listen``: "Listen 80" takes IPv6 and IPv4 clients on one socket, as Apache
binds it on Linux (``*:80`` in ss), and an IPv4 client is reported as IPv4."""

from __future__ import annotations

import socket

import pytest

from cgihttpd.config.model import Address
from cgihttpd.http.protocol import unmapped
from cgihttpd.server import _dual_stack, bind_listeners, bind_worker_listeners, url_of


def _connects(family: socket.AddressFamily, host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _dual_stack(), reason="this machine has no IPv6")
def test_a_wildcard_listen_takes_ipv6_and_ipv4_clients() -> None:
    (sock,) = bind_listeners([Address("*", 0)])
    try:
        port = sock.getsockname()[1]
        assert sock.family == socket.AF_INET6
        assert _connects(socket.AF_INET, "127.0.0.1", port)
        assert _connects(socket.AF_INET6, "::1", port)
        assert url_of(sock) == f"http://127.0.0.1:{port}/"
    finally:
        sock.close()


def test_explicit_addresses_stay_one_family() -> None:
    socks = bind_listeners([Address("0.0.0.0", 0)])
    try:
        assert socks[0].family == socket.AF_INET
    finally:
        for s in socks:
            s.close()
    if _dual_stack():
        (v6,) = bind_listeners([Address("[::1]", 0)])
        try:
            assert not _connects(socket.AF_INET, "127.0.0.1", v6.getsockname()[1])
        finally:
            v6.close()


@pytest.mark.skipif(not _dual_stack(), reason="this machine has no IPv6")
def test_worker_sets_bind_the_same_wildcard() -> None:
    sets = bind_worker_listeners([Address("*", 0)], 2)
    try:
        assert [s.family for group in sets for s in group] == [socket.AF_INET6] * 2
        port = sets[0][0].getsockname()[1]
        assert all(g[0].getsockname()[1] == port for g in sets)
        assert _connects(socket.AF_INET, "127.0.0.1", port)
    finally:
        for group in sets:
            for s in group:
                s.close()


def test_an_ipv4_client_of_a_dual_stack_socket_is_reported_as_ipv4() -> None:
    assert unmapped("::ffff:127.0.0.1") == "127.0.0.1"
    assert unmapped("::1") == "::1" and unmapped("10.0.0.1") == "10.0.0.1"
    assert unmapped("::ffff:abcd") == "::ffff:abcd"


def test_bind_advice_says_what_to_do() -> None:
    import errno

    from cgihttpd.server import bind_advice

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        advice = bind_advice(errno.EADDRINUSE, port)
    assert advice.startswith(f" (another program is using port {port}: stop it, or run "
                             "cgihttpd with -l 127.0.0.1:")
    denied = bind_advice(errno.EACCES, 80)
    assert denied.startswith(" (ports below 1024 need root or an administrator: run "
                             "cgihttpd with -l 127.0.0.1:")
    assert bind_advice(errno.EADDRNOTAVAIL, 80) == ""
