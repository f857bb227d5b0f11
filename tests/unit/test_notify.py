"""sd_notify's datagram (cgihttpd.notify), received on real sockets."""

from __future__ import annotations

import socket
import sys
import uuid
from pathlib import Path

import pytest

from cgihttpd import notify

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="AF_UNIX datagrams")


@pytest.mark.parametrize(("value", "address"), [
    ("/run/systemd/notify", "/run/systemd/notify"),
    ("@abstract", "\0abstract"),
    ("", None),
    ("vsock:2:1234", None),
])
def test_socket_address(value: str, address: str | None) -> None:
    assert notify.socket_address({"NOTIFY_SOCKET": value}) == address


def test_nothing_is_sent_without_a_socket() -> None:
    assert notify.notify(notify.READY, {}) is False


def test_a_path_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "n.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        assert notify.notify(notify.READY, {"NOTIFY_SOCKET": path})
        assert sock.recv(100) == b"READY=1"


@pytest.mark.skipif(sys.platform != "linux", reason="the abstract namespace is Linux's")
def test_an_abstract_socket() -> None:
    name = f"cgihttpd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert notify.notify(notify.STOPPING, {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"STOPPING=1"


def test_a_socket_nobody_reads_is_not_an_error(tmp_path: Path) -> None:
    assert notify.notify(notify.READY, {"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_reloading_says_when() -> None:
    first, second = notify.reloading().split("\n")
    assert first == "RELOADING=1" and second.startswith("MONOTONIC_USEC=")
