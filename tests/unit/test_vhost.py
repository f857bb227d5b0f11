"""vhost.select_vhost: address first, then Host name (Apache's vhosts.html)."""

from __future__ import annotations

import pytest

from app.factory import make_config, make_vhost
from cgihttpd.config.model import Address
from cgihttpd.vhost import select_vhost

A = make_vhost(server_name="a.example", server_aliases=("www.a.example", "*.wild.example"))
B = make_vhost(server_name="b.example:80")
IP = make_vhost(server_name="ip.example", addresses=(Address("127.0.0.2", 80),))
OTHER_PORT = make_vhost(server_name="p.example", addresses=(Address("*", 8080),))
CONFIG = make_config(vhosts=(A, B, IP, OTHER_PORT))


@pytest.mark.parametrize(("host", "expected"), [
    ("a.example", A), ("A.EXAMPLE", A), ("www.a.example", A), ("x.wild.example", A),
    ("b.example", B), ("unknown.example", A), ("", A),
])
def test_by_host_name(host: str, expected: object) -> None:
    assert select_vhost(CONFIG, "127.0.0.1", 80, host) is expected


def test_exact_ip_beats_wildcard_and_is_its_own_default() -> None:
    assert select_vhost(CONFIG, "127.0.0.2", 80, "b.example") is IP


def test_port_must_match_unless_listen_was_overridden() -> None:
    assert select_vhost(CONFIG, "127.0.0.1", 8080, "a.example") is OTHER_PORT
    assert select_vhost(CONFIG, "127.0.0.1", 9999, "a.example") is CONFIG.main
    overridden = CONFIG.with_listens((Address("127.0.0.1", 9999),))
    assert select_vhost(overridden, "127.0.0.1", 9999, "b.example") is B
    assert select_vhost(overridden, "127.0.0.1", 9999, "nobody") is A


def test_no_vhosts_means_main_server() -> None:
    config = make_config()
    assert select_vhost(config, "127.0.0.1", 80, "x") is config.main


def test_vhost_named_by_host_name_matches_its_resolved_addresses() -> None:
    named = make_vhost(server_name="n.example", addresses=(Address("localhost", 80),))
    config = make_config(vhosts=(A, named))
    names = {"localhost": frozenset({"127.0.0.1", "::1"})}
    assert select_vhost(config, "127.0.0.1", 80, "x", names=names) is named
    assert select_vhost(config, "127.0.0.5", 80, "x", names=names) is A


# cgihttpd's extension: NAME.localhost (loopback in every browser, no hosts entry)
# reaches the vhost named NAME, but only when the full name matches nothing
COURSE = make_vhost(server_name="cgi213.loc", server_aliases=("www.cgi213.loc",))
OWN = make_vhost(server_name="own.cgi213.loc.localhost")
WILD = make_vhost(server_name="w.example", server_aliases=("*.localhost",))


@pytest.mark.parametrize(("vhosts", "host", "expected"), [
    ((A, COURSE), "cgi213.loc.localhost", COURSE),
    ((A, COURSE), "CGI213.LOC.localhost.:8080", COURSE),
    ((A, COURSE), "www.cgi213.loc.localhost", COURSE),
    ((A, COURSE), "a.example.localhost", A),
    # an exact name (ServerName or a wildcard alias) always wins over the fallback
    ((A, COURSE, OWN), "own.cgi213.loc.localhost", OWN),
    ((A, COURSE, WILD), "cgi213.loc.localhost", WILD),
    # nothing left to match, or no vhost of the short name: Apache's default vhost
    ((COURSE, A), "localhost", COURSE),
    ((A, COURSE), ".localhost", A),
    ((A, COURSE), "nobody.localhost", A),
    ((A, COURSE), "cgi213.loc.localhost.example", A),
])
def test_localhost_names_reach_the_vhost_of_the_short_name(
        vhosts: tuple[object, ...], host: str, expected: object) -> None:
    config = make_config(vhosts=vhosts)  # type: ignore[arg-type]
    assert select_vhost(config, "127.0.0.1", 80, host) is expected


def test_local_site_names_are_the_named_vhosts_of_the_port() -> None:
    from cgihttpd.vhost import local_site_names

    odd = (make_vhost(server_name="127.0.0.1"), make_vhost(server_name="*.example"),
           make_vhost(server_name="x.localhost"), make_vhost(server_name="localhost"))
    config = make_config(vhosts=(COURSE, B, IP, OTHER_PORT, *odd, A))
    assert local_site_names(config, 80) == ["cgi213.loc", "b.example", "a.example"]
    assert local_site_names(config, 8080) == ["p.example"]
    assert local_site_names(make_config(), 80) == []
