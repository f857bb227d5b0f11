"""A server's TLS settings, frozen: mod_ssl's merge of a virtual host's SSL directives
over the main server's (ssl_config_server_merge: each one unset inherits), whether TLS
is on (SSLEngine, or a certificate on an https Listen port, as ssl_init_Module turns it
on), and the start-up checks mod_ssl makes before any file is parsed. Pure: whether a
file exists is asked of the function passed in.

The certificates and keys themselves are read by the server (``cgihttpd.tls``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cgihttpd.config.directives.draft import ServerDraft
from cgihttpd.config.directives.tls import OFFERED
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import Source, TlsSettings

#: the draft's keys and the directives that set them (for messages and sources)
DIRECTIVE_OF = {"engine": "SSLEngine", "cert": "SSLCertificateFile",
                "key": "SSLCertificateKeyFile", "chain": "SSLCertificateChainFile",
                "protocols": "SSLProtocol", "ciphers": "SSLCipherSuite",
                "honor": "SSLHonorCipherOrder", "tickets": "SSLSessionTickets"}


def merged_ssl(s: ServerDraft, main: ServerDraft | None) -> dict[str, tuple[object, Source]]:
    merged = dict(main.ssl) if main is not None else {}
    merged.update(s.ssl)
    return merged


def freeze_tls(s: ServerDraft, main: ServerDraft | None,
               https_ports: set[int]) -> TlsSettings | None:
    """The TLS settings of server ``s`` (None: plain HTTP); ConfigError where mod_ssl
    refuses to start."""
    ssl = merged_ssl(s, main)
    engine = ssl.get("engine")
    if engine is not None:
        enabled = bool(engine[0])
    else:
        # ssl_init_Module: SSLEngine unset, a certificate, and the server's protocol
        # (its Listen's) https
        ports = {a.port for a in s.addresses} if main is not None else https_ports
        enabled = "cert" in ssl and bool(ports & https_ports)
    if not enabled:
        return None
    if "cert" not in ssl:
        # AH02572 (ssl_engine_init.c ssl_init_server_certs)
        raise ConfigError("Server should be SSL-aware but has no certificate configured "
                          "[Hint: SSLCertificateFile] (" + _vhost_id(s) + ")",
                          engine[1] if engine is not None else s.source)

    def value(key: str) -> object:
        return ssl[key][0] if key in ssl else None

    protocols = value("protocols")
    return TlsSettings(
        certificate_file=str(value("cert")),
        certificate_key_file=value("key"),  # type: ignore[arg-type]
        certificate_chain_file=value("chain"),  # type: ignore[arg-type]
        protocols=protocols if protocols is not None else frozenset(OFFERED),  # type: ignore[arg-type]
        cipher_suite=value("ciphers"),  # type: ignore[arg-type]
        honor_cipher_order=bool(value("honor")),
        session_tickets=value("tickets") is not False,
        sources=tuple((DIRECTIVE_OF[k], src) for k, (_, src) in ssl.items()),
    )


def _vhost_id(s: ServerDraft) -> str:
    name = s.server_name or "_default_"
    port = s.addresses[0].port if s.addresses and s.addresses[0].port else 443
    return f"{name}:{port}"


def missing_files(servers: Iterable[ServerDraft],
                  exists: Callable[[str], bool]) -> list[ConfigError]:
    """ssl_cmd_check_file: each certificate or key file named must exist."""
    errors: list[ConfigError] = []
    for s in servers:
        for key in ("cert", "key", "chain"):
            if key in s.ssl:
                path, src = s.ssl[key]
                if not exists(str(path)):
                    errors.append(ConfigError(f"{DIRECTIVE_OF[key]}: file '{path}' does not "
                                              "exist or is empty", src))
    return errors
