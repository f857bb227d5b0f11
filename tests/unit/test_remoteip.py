"""mod_remoteip's walk (``remoteip.forwarded_client``): cases checked on Debian's
apache2 2.4 (the same answers are compared live in
``tests/differential/test_remoteip_diff.py``), and properties of the walk."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.authz import parse_subnet
from cgihttpd.remoteip import Forwarded, ProxyMatch, RemoteIPConf, forwarded_client
from cgihttpd.request import Request, forwarded_request, request_from_scope


def conf(trusted: tuple[str, ...] = (), internal: tuple[str, ...] = (),
         *, no_list: bool = False) -> RemoteIPConf:
    matches = [ProxyMatch(parse_subnet(*w.split("/")), False) for w in trusted]
    matches += [ProxyMatch(parse_subnet(*w.split("/")), True) for w in internal]
    return RemoteIPConf("x-forwarded-for", None, None if no_list else tuple(matches))


APACHE = conf(("127.0.0.1", "1.1.1.1", "2.2.2.2"), ("3.3.3.3", "4.4.4.4"))


@pytest.mark.parametrize(("value", "expected"), [
    # every hop trusted; an internal proxy behind a trusted one counts as trusted
    ("8.8.8.8, 3.3.3.3, 2.2.2.2, 1.1.1.1",
     Forwarded("8.8.8.8", None, "127.0.0.1, 1.1.1.1, 2.2.2.2, 3.3.3.3")),
    # an external proxy cannot present a private address
    ("10.0.0.5, 3.3.3.3, 1.1.1.1", Forwarded("3.3.3.3", "10.0.0.5", "127.0.0.1, 1.1.1.1")),
    ("10.0.0.5, 4.4.4.4, 3.3.3.3", Forwarded("4.4.4.4", "10.0.0.5", "127.0.0.1, 3.3.3.3")),
    # an empty element stops the walk and stays; so does one that is no address
    ("8.8.8.8,, 1.1.1.1", Forwarded("1.1.1.1", "8.8.8.8,", "127.0.0.1")),
    ("bogus, 8.8.8.8", Forwarded("8.8.8.8", "bogus", "127.0.0.1")),
    ("x, bogus , 1.1.1.1", Forwarded("1.1.1.1", "x, bogus", "127.0.0.1")),
    ("x, bogus , 8.8.8.8", Forwarded("8.8.8.8", "x, bogus ", "127.0.0.1")),
    ("2001:db8::1", Forwarded("2001:db8::1", None, "127.0.0.1")),
    (" 9.9.9.9 ", Forwarded("9.9.9.9", None, "127.0.0.1")),
    ("::ffff:8.8.8.8", Forwarded("8.8.8.8", None, "127.0.0.1")),
    # the first element refused: nothing changes
    ("2a00::1, 192.168.1.1", None),
    ("3.3.3.3, 10.1.1.1", None),
    ("fe80::1", None),
    ("", None),
])
def test_walk_as_apache(value: str, expected: Forwarded | None) -> None:
    assert forwarded_client("127.0.0.1", value, APACHE) == expected


def test_internal_proxies_present_private_clients() -> None:
    c = conf(internal=("10.0.0.0/8",))
    assert forwarded_client("10.0.0.1", "192.168.1.7, 10.2.3.4", c) == \
        Forwarded("192.168.1.7", None, None)


def test_untrusted_peer_is_ignored() -> None:
    assert forwarded_client("9.9.9.9", "8.8.8.8", APACHE) is None


def test_no_list_trusts_every_peer_as_external() -> None:
    c = conf(no_list=True)
    assert forwarded_client("9.9.9.9", "8.8.4.4, 8.8.8.8", c) == \
        Forwarded("8.8.4.4", None, "9.9.9.9, 8.8.8.8")
    assert forwarded_client("9.9.9.9", "10.0.0.1", c) is None


public_v4 = st.integers(0x0B000000, 0x7EFFFFFF).map(
    lambda n: str(ipaddress.IPv4Address(n)))


@given(st.lists(public_v4, min_size=1, max_size=6))
def test_all_trusted_chain_reaches_the_leftmost(hops: list[str]) -> None:
    c = conf(no_list=True)
    got = forwarded_client("127.0.0.1", ", ".join(hops), c)
    assert got == Forwarded(hops[0], None, ", ".join(["127.0.0.1", *reversed(hops[1:])]))


@given(st.text(alphabet="0123456789abcdef.:, f", max_size=40))
def test_untrusted_peer_never_changes_anything(value: str) -> None:
    assert forwarded_client("203.0.113.9", value, APACHE) is None


@given(st.text(alphabet="0123456789.:, ab", max_size=40))
def test_client_comes_from_the_header_and_the_rest_is_its_prefix(value: str) -> None:
    got = forwarded_client("127.0.0.1", value, conf(no_list=True))
    if got is None:
        return
    ipaddress.ip_address(got.client)
    assert got.proxy_ips is not None and got.proxy_ips.startswith("127.0.0.1")
    if got.remaining is not None and got.remaining:
        # what is left is the header's head (a failing element may lose its spaces)
        assert value.startswith(got.remaining.rstrip(" ")) or \
            value.lstrip(" ").startswith(got.remaining)


def _request(headers: tuple[tuple[str, str], ...], client: str = "127.0.0.1") -> Request:
    return request_from_scope({
        "type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "client": (client, 5000), "server": ("127.0.0.1", 80)})


def test_request_takes_the_client_and_keeps_the_peer() -> None:
    c = RemoteIPConf("x-forwarded-for", "X-Forwarded-By", APACHE.proxies)
    # repeated fields are one value, as Apache merges them; the proxies header replaced
    req = _request((("x-forwarded-for", "10.0.0.5, 3.3.3.3"), ("host", "h"),
                    ("x-forwarded-for", "1.1.1.1"), ("x-forwarded-by", "forged")))
    got = forwarded_request(req, c)
    assert (got.client_addr, got.client_port, got.peer_addr, got.proxy_ips) == \
        ("3.3.3.3", 5000, "127.0.0.1", "127.0.0.1, 1.1.1.1")
    assert got.headers == (("x-forwarded-for", "10.0.0.5"), ("host", "h"),
                           ("x-forwarded-by", "127.0.0.1, 1.1.1.1"))


def test_request_header_removed_when_all_taken_and_untouched_when_untrusted() -> None:
    c = RemoteIPConf("x-real-ip", None, None)
    got = forwarded_request(_request((("x-real-ip", "8.8.8.8"),)), c)
    assert (got.client_addr, got.headers) == ("8.8.8.8", ())
    req = _request((("x-real-ip", "8.8.8.8"),), client="203.0.113.1")
    assert forwarded_request(req, RemoteIPConf("x-real-ip", None, APACHE.proxies)) is req
    assert forwarded_request(req, RemoteIPConf()) is req
