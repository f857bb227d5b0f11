"""The PROXY protocol header (``http.proxyproto``): versions 1 and 2 as HAProxy sends
them (and as Apache 2.4.71 took them, tests/differential/test_remoteip_diff.py), read
whole or byte by byte, and the rule saying which connections need one."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.authz import parse_subnet
from cgihttpd.http.proxyproto import (
    V2_SIGNATURE,
    ProxyHeader,
    ProxyHeaderError,
    ProxyProtocolRule,
    read_proxy_header,
)

REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
V1 = b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n"
V1_6 = b"PROXY TCP6 2001:db8::7 ::1 5555 443\r\n"
V2 = (V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 12 + 7)
      + socket.inet_aton("198.51.100.4") + socket.inet_aton("127.0.0.1")
      + struct.pack("!HH", 4444, 80) + b"\x04\x00\x04abcd")  # a TLV, skipped
V2_6 = (V2_SIGNATURE + bytes([0x21, 0x21]) + struct.pack("!H", 36)
        + socket.inet_pton(socket.AF_INET6, "2001:db8::9") + bytes(16)
        + struct.pack("!HH", 1234, 80))
V2_LOCAL = V2_SIGNATURE + bytes([0x20, 0x00]) + struct.pack("!H", 0)


@pytest.mark.parametrize(("head", "source"), [
    (V1, ("203.0.113.7", 5555)),
    (V1_6, ("2001:db8::7", 5555)),
    (b"PROXY UNKNOWN\r\n", None),
    (b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", None),
    (V2, ("198.51.100.4", 4444)),
    (V2_6, ("2001:db8::9", 1234)),
    (V2_LOCAL, None),
])
def test_headers(head: bytes, source: tuple[str, int] | None) -> None:
    assert read_proxy_header(head + REQ) == ProxyHeader(len(head), source)


@pytest.mark.parametrize("data", [
    REQ,
    b"PROXY TCP4 1.2.3 127.0.0.1 5555 80\r\n",
    b"PROXY TCP4 203.0.113.7 127.0.0.1 99999 80\r\n",
    b"PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n",
    b"PROXY TCP4 " + b"1" * 120,
    V2_SIGNATURE + bytes([0x11, 0x11]) + struct.pack("!H", 0),
    V2_SIGNATURE + bytes([0x22, 0x11]) + struct.pack("!H", 12) + bytes(12),
    V2_SIGNATURE + bytes([0x21, 0x31]) + struct.pack("!H", 216) + bytes(216),
])
def test_refused(data: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        read_proxy_header(data)


@given(st.sampled_from([V1, V1_6, V2, V2_6, V2_LOCAL]), st.data())
def test_every_prefix_asks_for_more(head: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(head) - 1))
    assert read_proxy_header(head[:cut]) is None
    assert read_proxy_header(head) is not None


def test_rule() -> None:
    every = ProxyProtocolRule(None, (parse_subnet("10.0.0.0", "8"),))
    assert every.required(80, "127.0.0.1") and not every.required(80, "10.1.1.1")
    some = ProxyProtocolRule(frozenset({8080}))
    assert some.required(8080, "127.0.0.1") and not some.required(80, "127.0.0.1")
