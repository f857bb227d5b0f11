"""mod_ssl's directives as cgihttpd reads them: SSLProtocol's forms, when TLS is on,
inheritance from the main server, and the refusals that keep TLS failing closed.
Messages are mod_ssl's (ssl_engine_config.c, ssl_engine_init.c) where it has one."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_helpers import errors, load

from cgihttpd.config.directives.tls import offered, parse_protocols
from cgihttpd.config.errors import ConfigError

SSL = "LoadModule ssl_module x.so\n"


@pytest.mark.parametrize(("words", "expected"), [
    ("all -SSLv3 -TLSv1 -TLSv1.1", {"TLSv1.2", "TLSv1.3"}),
    ("all -SSLv3", {"TLSv1.2", "TLSv1.3"}),
    ("+TLSv1.2 +TLSv1.3", {"TLSv1.2", "TLSv1.3"}),
    ("TLSv1.2", {"TLSv1.2"}),
    ("-all +TLSv1.3", {"TLSv1.3"}),
    ("TLSv1.3 TLSv1.2", {"TLSv1.2"}),  # a word without a sign replaces the set
    ("all -TLSv1.3 -SSLv2", {"TLSv1.2"}),
])
def test_protocol_forms(words: str, expected: set[str]) -> None:
    assert offered(parse_protocols("SSLProtocol", words.split())) == expected


@pytest.mark.parametrize(("words", "message"), [
    ("SSLv2", "SSLProtocol: SSLv2 is no longer supported"),
    ("all +SSLv3", "SSLProtocol: SSLv3 not supported by this version of OpenSSL"),
    ("TLSv9", "SSLProtocol: Illegal protocol 'TLSv9'"),
])
def test_protocol_refusals(words: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_protocols("SSLProtocol", words.split())


def _files(tmp: Path) -> str:
    for name in ("c.pem", "k.pem"):
        (tmp / name).write_text("x")
    return f"SSLCertificateFile {tmp}/c.pem\nSSLCertificateKeyFile {tmp}/k.pem\n"


def test_vhost_inherits_the_main_servers_settings(tmp_path: Path) -> None:
    c = load(tmp_path, SSL + "Listen 8443\nSSLProtocol TLSv1.3\n" + _files(tmp_path)
             + "<VirtualHost *:8443>\nServerName a\nSSLEngine on\n</VirtualHost>\n"
             + "<VirtualHost *:8443>\nServerName b\n</VirtualHost>\n")
    a, b = c.vhosts
    assert a.tls is not None and a.tls.protocols == {"TLSv1.3"}
    assert a.tls.certificate_file == f"{tmp_path}/c.pem"
    assert b.tls is None  # SSLEngine unset and 8443 is an http port
    assert c.main.tls is None


def test_a_certificate_on_an_https_port_turns_tls_on(tmp_path: Path) -> None:
    # ssl_init_Module: SSLEngine unset, the server's Listen protocol https
    c = load(tmp_path, SSL + "Listen 8443 https\n<VirtualHost *:8443>\n" + _files(tmp_path)
             + "</VirtualHost>\n")
    assert c.vhosts[0].tls is not None


def test_engine_without_certificate_stops_the_start(tmp_path: Path) -> None:
    assert errors(tmp_path, SSL + "Listen 8443\n<VirtualHost *:8443>\nServerName a\n"
                  "SSLEngine on\n</VirtualHost>\n") == [
        "F:5: Server should be SSL-aware but has no certificate configured "
        "[Hint: SSLCertificateFile] (a:8443)"]


def test_missing_certificate_file(tmp_path: Path) -> None:
    assert errors(tmp_path, SSL + "SSLCertificateFile /nonexistent.pem\n") == [
        "F:2: SSLCertificateFile: file '/nonexistent.pem' does not exist or is empty"]


@pytest.mark.parametrize(("line", "message"), [
    ("SSLVerifyClient require", "SSLVerifyClient is not supported by cgihttpd yet"),
    ("SSLCACertificateFile /x", "SSLCACertificateFile is not supported by cgihttpd yet"),
    ("SSLOpenSSLConfCmd Options -SessionTicket", "SSLOpenSSLConfCmd is not supported"),
    ("SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384", "SSLCipherSuite TLSv1.3 is not "
     "supported by cgihttpd"),
    ("SSLCompression on", "SSLCompression on is not supported by cgihttpd"),
    ("SSLEngine optional", "SSLEngine optional"),
    ("SSLProtocol TLSv1 TLSv1.1", "cgihttpd offers TLSv1.2 and TLSv1.3 only"),
    ("SSLOptions +ExportCertData", "SSLOptions ExportCertData is not supported"),
    ("SSLOptions +Bogus", "SSLOptions: Illegal option 'Bogus'"),
])
def test_what_cannot_be_honoured_stops_the_start(tmp_path: Path, line: str,
                                                  message: str) -> None:
    found = errors(tmp_path, SSL + line + "\n")
    assert len(found) == 1 and message in found[0] and found[0].startswith("F:2: ")


def test_std_env_vars_merges_per_directory(tmp_path: Path) -> None:
    c = load(tmp_path, SSL + "<Directory /a>\nSSLOptions +StdEnvVars\n</Directory>\n"
             "<Directory /a/b>\nSSLOptions -StdEnvVars\n</Directory>\n")
    first, second = c.main.sections
    assert first.conf.ssl_std_env_vars is True
    assert first.conf.merge(second.conf).ssl_std_env_vars is False


def _two_sites(tmp: Path, b_extra: str = "") -> str:
    return (SSL + "Listen 8443\nListen 8080\n" + _files(tmp)
            + "<VirtualHost *:8443>\nServerName a\nSSLEngine on\n</VirtualHost>\n"
            + f"<VirtualHost *:8443>\nServerName b\nSSLEngine on\n{b_extra}</VirtualHost>\n"
            + "<VirtualHost *:8080>\nServerName p\n</VirtualHost>\n")


def test_misdirected_only_between_different_setups(tmp_path: Path) -> None:
    from cgihttpd.vhost import misdirected, select_vhost

    c = load(tmp_path, _two_sites(tmp_path))
    b = select_vhost(c, "127.0.0.1", 8443, "b")
    assert not misdirected(c, "127.0.0.1", 8443, "a", b)  # same settings: compatible
    assert not misdirected(c, "127.0.0.1", 8443, None, b)  # no SNI: nothing to compare
    c = load(tmp_path, _two_sites(tmp_path, "SSLProtocol TLSv1.3\n"))
    b = select_vhost(c, "127.0.0.1", 8443, "b")
    assert misdirected(c, "127.0.0.1", 8443, "a", b)
    assert not misdirected(c, "127.0.0.1", 8443, "b", b)


def test_tls_ports(tmp_path: Path) -> None:
    from cgihttpd.tls import tls_ports

    c = load(tmp_path, _two_sites(tmp_path))
    assert tls_ports(c) == {8443}
    assert tls_ports(c.with_listens(c.listens)) is None  # -l: vhosts match every port
    assert tls_ports(load(tmp_path, SSL + "Listen 8080\n")) == frozenset()
    assert tls_ports(load(tmp_path, SSL + _files(tmp_path) + "SSLEngine on\n")) is None


def test_ssl_require_ssl_is_per_directory(tmp_path: Path) -> None:
    c = load(tmp_path, SSL + "<Directory /a>\nSSLRequireSSL\n</Directory>\n"
             "<Directory /a/b>\nSSLOptions +StdEnvVars\n</Directory>\n")
    first, second = c.main.sections
    assert first.conf.ssl_require_ssl is True
    assert first.conf.merge(second.conf).ssl_require_ssl is True  # no way to undo it
    assert c.main.base.ssl_require_ssl is None
    assert errors(tmp_path, SSL + "<Directory /a>\nSSLRequireSSL on\n</Directory>\n") == [
        "F:3: SSLRequireSSL takes no arguments"]
    assert errors(tmp_path, SSL + "SSLRequireSSL\n") == [
        "F:2: SSLRequireSSL not allowed here"]
