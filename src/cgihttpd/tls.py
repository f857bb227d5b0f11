"""The TLS contexts of one configuration, made with the standard library's ``ssl``:
one ``SSLContext`` per server with SSLEngine on (its certificate, chain, key,
SSLProtocol, SSLCipherSuite, SSLHonorCipherOrder, SSLSessionTickets), and the SNI
callback that switches a handshake to the context of the virtual host the client named
(mod_ssl's ssl_callback_ServerNameIndication → ssl_find_vhost).

Built when a configuration is served (start-up and every reload: certificates are read
again then), so a bad certificate or key stops the start, or refuses the reload, with
the line of the directive that named it (mod_ssl's AH02561/AH02564/AH02565). This is
the only module that reads certificate files.

Must not know about sockets or HTTP: the listener asks ``context_for(local address)``;
the name the client sent is left on the ``SSLObject`` (``SNI_ATTRIBUTE``) for the HTTP
layer to pass on.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Callable

from cgihttpd import messages as M
from cgihttpd.config.errors import ConfigError, ConfigErrors
from cgihttpd.config.model import ServerConfig, TlsSettings, VirtualHost
from cgihttpd.vhost import select_vhost

#: where the SNI callback leaves the server name a client sent (None: it sent none)
SNI_ATTRIBUTE = "cgihttpd_sni"

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


class _PassPhrase(Exception):
    """The key asked for a pass phrase: cgihttpd never prompts for one."""


def _no_pass_phrase() -> bytes:
    raise _PassPhrase


def vhost_id(vhost: VirtualHost) -> str:
    """How mod_ssl names a server in its messages (ssl_util.c ssl_util_vhostid)."""
    return f"{vhost.server_name}:{vhost.port or 443}:0"


def make_context(tls: TlsSettings, name: str) -> ssl.SSLContext:
    """An SSLContext for one server; ``ConfigError`` at the line of the directive at
    fault. ``name``: the server, for messages (``vhost_id``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _VERSIONS[min(tls.protocols)]
    ctx.maximum_version = _VERSIONS[max(tls.protocols)]
    ctx.options |= ssl.OP_NO_COMPRESSION  # SSLCompression off (the only value accepted)
    if tls.honor_cipher_order:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if not tls.session_tickets:
        ctx.options |= ssl.OP_NO_TICKET
    if tls.cipher_suite is not None:
        try:
            ctx.set_ciphers(tls.cipher_suite)
        except ssl.SSLError:
            raise ConfigErrors([ConfigError(M.TLS_CIPHERS_FAILED.text(),
                                            tls.source("SSLCipherSuite"))]) from None
    _load_chain(ctx, tls, name)
    return ctx


def _load_chain(ctx: ssl.SSLContext, tls: TlsSettings, name: str) -> None:
    """The certificate, then SSLCertificateChainFile's certificates, then the key.
    ``load_cert_chain`` takes the chain in the certificate's file only: with a chain
    file both are copied into one private temporary file (certificates, no key)."""
    cert, key, chain = (tls.certificate_file, tls.certificate_key_file,
                        tls.certificate_chain_file)
    cert_at = tls.source("SSLCertificateFile")
    key_at = tls.source("SSLCertificateKeyFile") or cert_at
    try:
        with open(cert, "rb") as f:
            pem = f.read()
        if chain is not None:
            with open(chain, "rb") as f:
                pem = pem.rstrip(b"\n") + b"\n" + f.read()
    except OSError as exc:
        where = cert_at if chain is None or exc.filename == cert else \
            tls.source("SSLCertificateChainFile")
        raise ConfigErrors([ConfigError(M.TLS_CERT_FAILED.text(
            vhost=name, path=f"{exc.filename}: {exc.strerror}"), where)]) from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ConfigErrors([ConfigError(M.TLS_CERT_FAILED.text(vhost=name, path=cert),
                                        cert_at)])
    fd, combined = tempfile.mkstemp(prefix="cgihttpd-chain-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        ctx.load_cert_chain(combined if chain is not None else cert, key or cert,
                            password=_no_pass_phrase)
    except _PassPhrase:
        raise ConfigErrors([ConfigError(
            M.TLS_KEY_FAILED.text(vhost=name, path=key or cert)
            + " (the key is protected by a pass phrase, which cgihttpd does not ask "
            "for: store it without one)", key_at)]) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            message = M.TLS_KEY_MISMATCH.text(vhost=name, cert=cert, key=key or cert)
        else:
            message = M.TLS_KEY_FAILED.text(vhost=name, path=key or cert)
        raise ConfigErrors([ConfigError(f"{message} ({exc.reason or exc})", key_at)]) from None
    except OSError as exc:
        raise ConfigErrors([ConfigError(M.TLS_KEY_FAILED.text(
            vhost=name, path=f"{exc.filename}: {exc.strerror}"), key_at)]) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(combined)


class TlsContexts:
    """The contexts of one configuration: every TLS server's, made at once (so that a
    bad file is found before serving), and the one each local address starts its
    handshakes with, made on first use."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.by_server: dict[int, ssl.SSLContext] = {}
        for server in (config.main, *config.vhosts):
            if server.tls is not None:
                self.by_server[id(server)] = make_context(server.tls, vhost_id(server))
        #: (local address, port) -> the context its handshakes begin with
        self.listeners: dict[tuple[str, int], ssl.SSLContext | None] = {}

    @property
    def any(self) -> bool:
        return bool(self.by_server)

    def context_for(self, local_addr: str, local_port: int) -> ssl.SSLContext | None:
        """The context a connection to this local address starts with, or None when
        the address's default server speaks plain HTTP (mod_ssl decides by the
        connection's base server: the first virtual host of the address)."""
        key = (local_addr, local_port)
        if key not in self.listeners:
            default = select_vhost(self.config, local_addr, local_port, "")
            ctx: ssl.SSLContext | None = None
            if default.tls is not None:
                ctx = make_context(default.tls, vhost_id(default))
                ctx.sni_callback = self._sni_callback(local_addr, local_port)
            self.listeners[key] = ctx
        return self.listeners[key]

    def _sni_callback(self, local_addr: str, local_port: int
                      ) -> Callable[[ssl.SSLObject, str | None, ssl.SSLContext], None]:
        def chosen(sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            setattr(sslobj, SNI_ATTRIBUTE, name)
            if not name:
                return
            server = select_vhost(self.config, local_addr, local_port, name.lower())
            ctx = self.by_server.get(id(server))
            if ctx is not None:
                sslobj.context = ctx

        return chosen



def tls_ports(config: ServerConfig) -> frozenset[int] | None:
    """The ports on which some server of ``config`` speaks TLS; None when that may be
    any port (the main server has SSLEngine on, a TLS virtual host is on ``*:*``, or
    ``-l`` made virtual hosts match every port)."""
    servers = [v for v in config.vhosts if v.tls is not None]
    if config.main.tls is not None or (servers and config.listen_overridden):
        return None
    ports: set[int] = set()
    for server in servers:
        for address in server.addresses:
            if address.port is None:
                return None
            ports.add(address.port)
    return frozenset(ports)
