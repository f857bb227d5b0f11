"""mod_ssl's directives: SSLEngine, SSLCertificateFile, SSLCertificateKeyFile,
SSLCertificateChainFile, SSLProtocol, SSLCipherSuite, SSLHonorCipherOrder,
SSLSessionTickets, SSLCompression, SSLOptions, SSLRequireSSL, and those accepted with no effect (the
session cache, the random seed, the pass-phrase dialog, the proxy's settings: nothing
is proxied).

TLS fails closed: a mod_ssl directive cgihttpd cannot honour stops the start at its
line (``table.apply_node`` refuses every ssl_module directive this module does not
register), so a configuration never gets plain HTTP, or weaker TLS, than it asks for.
The settings are checked as mod_ssl's handlers check them (ssl_engine_config.c, same
messages); the files are only named here: ``tls`` (the server's) reads them.
"""

from __future__ import annotations

from cgihttpd.config.directives.draft import Arity, Ctx
from cgihttpd.config.directives.table import directive, flag
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import TlsVersion
from cgihttpd.config.tree import Node

#: ssl_engine_config.c ssl_cmd_protocol_parse: the names SSLProtocol knows
_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
#: what Python's ssl (OpenSSL 1.1.1+, at its default security level) can offer
OFFERED: tuple[TlsVersion, ...] = ("TLSv1.2", "TLSv1.3")


def parse_protocols(name: str, words: list[str]) -> frozenset[str]:
    """SSLProtocol's words (``all -SSLv3 -TLSv1 -TLSv1.1``, ``+TLSv1.2 +TLSv1.3``) as
    the set of protocol names they leave on, by mod_ssl's rules: a word without a sign
    replaces the set, ``+``/``-`` add and remove; SSLv2 may only be removed."""
    on: set[str] = set()
    for word in words:
        action = word[0] if word[:1] in ("+", "-") else ""
        proto = word[1:] if action else word
        if proto == "SSLv2":
            if action == "-":
                continue
            raise ConfigError(f"{name}: SSLv2 is no longer supported")
        if proto == "all":
            these = set(_PROTOCOLS)
        elif proto in _PROTOCOLS:
            these = {proto}
        else:
            raise ConfigError(f"{name}: Illegal protocol '{proto}'")
        if proto == "SSLv3" and action != "-":
            # Debian's OpenSSL is built without SSLv3 (OPENSSL_NO_SSL3)
            raise ConfigError(f"{name}: SSLv3 not supported by this version of OpenSSL")
        if action == "-":
            on -= these
        elif action == "+":
            on |= these
        else:
            on = these
    return frozenset(on)


def offered(protocols: frozenset[str]) -> frozenset[TlsVersion]:
    """The versions of ``protocols`` cgihttpd offers: TLS 1.2 and 1.3. TLS 1.0 and 1.1
    ("all") are left out, as Debian's OpenSSL leaves them out for Apache at its
    default security level."""
    return frozenset(v for v in OFFERED if v in protocols)


def _set(ctx: Ctx, node: Node, key: str, value: object) -> None:
    ctx.server.ssl[key] = (value, node.source)


@directive("SSLEngine", "TAKE1", "SSL switch for the protocol engine (`on', `off')")
def _engine(ctx: Ctx, node: Node) -> None:
    arg = node.args[0].lower()
    if arg == "optional":
        # RFC 2817 upgrade to TLS on a plain connection: no client does it
        raise ConfigError("SSLEngine optional (TLS upgrade, RFC 2817) is not supported by "
                          "cgihttpd; refusing to start rather than serve plain HTTP")
    if arg == "addr" or arg not in ("on", "off"):
        raise ConfigError("Argument must be On, Off, or Optional")
    _set(ctx, node, "engine", arg == "on")


@directive("SSLCertificateFile", "TAKE1", "SSL Server Certificate file "
           "(`/path/to/file' - PEM or DER encoded)")
def _cert(ctx: Ctx, node: Node) -> None:
    _set(ctx, node, "cert", ctx.root(node.args[0]))


@directive("SSLCertificateKeyFile", "TAKE1", "SSL Server Private Key file "
           "(`/path/to/file' - PEM or DER encoded)")
def _key(ctx: Ctx, node: Node) -> None:
    _set(ctx, node, "key", ctx.root(node.args[0]))


@directive("SSLCertificateChainFile", "TAKE1", "SSL Server CA Certificate Chain file "
           "(`/path/to/file' - PEM encoded)")
def _chain(ctx: Ctx, node: Node) -> None:
    _set(ctx, node, "chain", ctx.root(node.args[0]))


@directive("SSLProtocol", "RAW", "Enable or disable various SSL protocols "
           "(`[+-][TLSv1[.n]] ...' - see manual)")
def _protocol(ctx: Ctx, node: Node) -> None:
    words = [w for w in node.args if w]
    if not words:
        raise ConfigError("SSLProtocol takes at least one argument")
    chosen = offered(parse_protocols("SSLProtocol", words))
    if not chosen:
        raise ConfigError(f"SSLProtocol {' '.join(words)}: cgihttpd offers TLSv1.2 and "
                          "TLSv1.3 only; refusing to start with none of them")
    _set(ctx, node, "protocols", chosen)


@directive("SSLCipherSuite", "TAKE12", "Colon-delimited list of permitted SSL Ciphers, "
           "optional preceded by protocol identifier ('XXX:...:XXX' - see manual)")
def _ciphers(ctx: Ctx, node: Node) -> None:
    if ctx.section is not None:
        # a per-directory suite renegotiates mid-connection (ssl_hook_Access)
        raise ConfigError("SSLCipherSuite in a section (renegotiation) is not supported by "
                          "cgihttpd; set it for the server")
    spec = node.args[-1]
    if len(node.args) == 2:
        proto = node.args[0]
        if proto == "TLSv1.3":
            # Python's ssl cannot set TLS 1.3 suites (no SSL_CTX_set_ciphersuites)
            raise ConfigError("SSLCipherSuite TLSv1.3 is not supported by cgihttpd: Python's "
                              "ssl offers OpenSSL's TLSv1.3 suites; remove the line, or "
                              "use SSLProtocol -TLSv1.3")
        if proto != "SSL":
            raise ConfigError(f"protocol '{proto}' not supported")
    _set(ctx, node, "ciphers", spec)


@directive("SSLHonorCipherOrder", "FLAG", "Use the server's cipher ordering preference")
def _honor(ctx: Ctx, node: Node) -> None:
    _set(ctx, node, "honor", flag(node))


@directive("SSLSessionTickets", "FLAG", "Enable or disable TLS session tickets")
def _tickets(ctx: Ctx, node: Node) -> None:
    _set(ctx, node, "tickets", flag(node))


@directive("SSLCompression", "FLAG", "Enable SSL level compression "
           "(`on', `off')")
def _compression(ctx: Ctx, node: Node) -> None:
    if flag(node):
        # CRIME; OpenSSL 3 and Python's ssl have no TLS compression to turn on
        raise ConfigError("SSLCompression on is not supported by cgihttpd (TLS compression "
                          "is insecure and unavailable); use SSLCompression off")


#: SSLOptions that change nothing without the client certificates, SSLRequire or the
#: per-directory renegotiation cgihttpd refuses elsewhere
_INERT_OPTIONS = {"strictrequire": "StrictRequire", "optrenegotiate": "OptRenegotiate",
                  "legacydnstringformat": "LegacyDNStringFormat"}
#: SSLOptions that would give scripts what cgihttpd does not: refused when turned on
_REFUSED_OPTIONS = {"exportcertdata": "ExportCertData", "fakebasicauth": "FakeBasicAuth"}


@directive("SSLOptions", "RAW", "Set one or more options to configure the SSL engine"
           "(`[+-]option[=value] ...' - see manual)")
def _options(ctx: Ctx, node: Node) -> None:
    std: bool | None = None
    absolute = False
    for word in (w for w in node.args if w):
        action = word[0] if word[:1] in ("+", "-") else ""
        name = (word[1:] if action else word).lower()
        if not action:
            absolute = True
        if name == "stdenvvars":
            std = action != "-"
        elif name in _REFUSED_OPTIONS and action != "-":
            raise ConfigError(f"SSLOptions {_REFUSED_OPTIONS[name]} is not supported by "
                              "cgihttpd (no client or server certificate data is exported)")
        elif name not in _INERT_OPTIONS and name not in _REFUSED_OPTIONS:
            raise ConfigError(f"SSLOptions: Illegal option '{word.lstrip('+-')}'")
    if std is None and absolute:
        std = False  # an absolute list without StdEnvVars turns it off
    if std is not None:
        ctx.set_dir(ssl_std_env_vars=std)


@directive("SSLRequireSSL", "NO_ARGS", "Require the SSL protocol for the per-directory "
           "context (no arguments)")
def _require_ssl(ctx: Ctx, node: Node) -> None:
    # ssl_hook_Access: a request over plain HTTP is refused 403 (AH02219) before any
    # other access check. Apache lets Satisfy Any pass it without StrictRequire;
    # cgihttpd always refuses it (as with StrictRequire): it fails closed.
    ctx.set_dir(ssl_require_ssl=True)


def _no_effect(name: str, arity: Arity, desc: str) -> None:
    """Accepted, meaningless for cgihttpd: listed once in a start-up warning."""

    def apply(ctx: Ctx, node: Node) -> None:
        ctx.draft.ignored.setdefault("(no effect in cgihttpd)", []).append(
            (node.name, node.source))

    directive(name, arity, desc)(apply)


# Python's ssl keeps its own session cache and seeds from the OS; a key with a
# pass phrase fails to load (an error at start-up), so no dialog is ever needed
for _name in ("SSLRandomSeed", "SSLSessionCache", "SSLSessionCacheTimeout",
              "SSLPassPhraseDialog", "SSLStaplingCache"):
    _no_effect(_name, "RAW", "(mod_ssl)")
# mod_proxy is not implemented: nothing is proxied, so the proxy's TLS is never used
for _name in ("SSLProxyEngine", "SSLProxyProtocol", "SSLProxyCipherSuite",
              "SSLProxyVerify", "SSLProxyVerifyDepth", "SSLProxyCACertificateFile",
              "SSLProxyCACertificatePath", "SSLProxyCheckPeerExpire",
              "SSLProxyCheckPeerCN", "SSLProxyCheckPeerName"):
    _no_effect(_name, "RAW", "(mod_ssl, proxy)")
