"""mod_ssl on Apache and cgihttpd, one config and the same certificates (made here
with trustme): ``Listen ... https``, SNI choosing the virtual host, what CGI scripts
see with and without ``SSLOptions +StdEnvVars``, 421 when Host names a server set up
differently from the one SNI chose (and none when both are set up alike), plain HTTP on
the TLS port, TLS 1.1 refused, and a DirectorySlash redirect naming https. Requests
are made with curl (``--resolve`` sends the names as SNI)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from diffsupport import Pair, Server, config_head, serving, site_dirs

pytestmark = pytest.mark.differential
trustme = pytest.importorskip("trustme")

PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
ENV_CGI = (f"#!{PY}\nimport os\nprint('Content-Type: text/plain\\n')\n"
           "for k in sorted(os.environ):\n"
           "    if k.startswith(('SSL_', 'HTTPS', 'REQUEST_SCHEME', 'SERVER_NAME', "
           "'SERVER_PORT')):\n"
           "        print(f'{k}={os.environ[k]}')\n")
#: what cgihttpd does not give (docs/design.md "HTTPS"): certificates' fields, mod_ssl's
#: own version, and the session id (random per connection, compared by presence)
NOT_GIVEN = ("SSL_SERVER_", "SSL_VERSION_INTERFACE")

CONFIG = config_head("authz_core", "mime", "dir", "cgid", "ssl").replace(
    "Listen 127.0.0.1:${PORT}\n", "Listen 127.0.0.1:${PORT} https\n") + r"""
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1
SSLCipherSuite HIGH:!aNULL
SSLHonorCipherOrder on
SSLCompression off
SSLSessionCache none
<Directory "${ROOT}/site">
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
<VirtualHost *:${PORT}>
    ServerName a.test
    SSLEngine on
    SSLCertificateFile "${ROOT}/a.crt"
    SSLCertificateKeyFile "${ROOT}/a.key"
</VirtualHost>
<VirtualHost *:${PORT}>
    ServerName b.test
    SSLEngine on
    SSLCertificateFile "${ROOT}/b.crt"
    SSLCertificateKeyFile "${ROOT}/b.key"
    SSLCertificateChainFile "${ROOT}/b-chain.crt"
    <Directory "${ROOT}/site">
        SSLOptions +StdEnvVars
    </Directory>
</VirtualHost>
<VirtualHost *:${PORT}>
    ServerName c.test
    SSLEngine on
    SSLCertificateFile "${ROOT}/a.crt"
    SSLCertificateKeyFile "${ROOT}/a.key"
</VirtualHost>
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("tls")
    site_dirs(root, {"env.py": ENV_CGI, "sub/index.html": "sub\n"})
    ca = trustme.CA()
    a = ca.issue_cert("a.test", "c.test")
    a.private_key_pem.write_to_path(str(root / "a.key"))
    (root / "a.crt").write_bytes(b"".join(p.bytes() for p in a.cert_chain_pems))
    inter = ca.create_child_ca()
    b = inter.issue_cert("b.test")
    b.private_key_pem.write_to_path(str(root / "b.key"))
    b.cert_chain_pems[0].write_to_path(str(root / "b.crt"))
    (root / "b-chain.crt").write_bytes(b"".join(p.bytes() for p in b.cert_chain_pems[1:]))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    with serving(root, CONFIG, lambda name: name.endswith(".py")) as started:
        yield started


def curl(server: Server, url: str, *extra: str) -> tuple[int, str]:
    """curl's exit status and what it printed (head and body), the port as PORT."""
    port = str(server.port)
    resolve = [a for name in ("a.test", "b.test", "c.test")
               for a in ("--resolve", f"{name}:{port}:127.0.0.1")]
    done = subprocess.run(
        ["curl", "-sS", "-i", "--max-time", "10", "--cacert", str(server.root / "ca.pem"),
         *resolve, *extra, url.replace("PORT", port)],
        capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout.replace(port, "PORT")


def env_of(out: str) -> dict[str, str]:
    body = out.split("\n\n", 1)[1]  # text mode: CRLF read as LF
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def status_and_body(out: str) -> tuple[str, str]:
    head, _, body = out.partition("\n\n")
    return head.splitlines()[0], body


@pytest.mark.parametrize("name", ["a.test", "b.test", "c.test"])
def test_sni_chooses_the_vhost_and_scripts_see_the_same_variables(pair: Pair,
                                                                  name: str) -> None:
    seen = []
    for server in pair.both():
        rc, out = curl(server, f"https://{name}:PORT/env.py")
        assert rc == 0, (server.impl, out)
        env = {k: v for k, v in env_of(out).items() if not k.startswith(NOT_GIVEN)}
        assert bool(env.pop("SSL_SESSION_ID", "")) == (name == "b.test"), server.impl
        seen.append(env)
    assert seen[1] == seen[0]
    assert seen[0]["SERVER_NAME"] == name and seen[0]["HTTPS"] == "on"


@pytest.mark.parametrize(("sni", "host"), [("a.test", "b.test"), ("b.test", "a.test"),
                                           ("a.test", "c.test"), ("a.test", "other.test")])
def test_host_other_than_sni(pair: Pair, sni: str, host: str) -> None:
    answers = []
    for server in pair.both():
        rc, out = curl(server, f"https://{sni}:PORT/env.py", "-H", f"Host: {host}")
        assert rc == 0, (server.impl, out)
        status, body = status_and_body(out)
        answers.append((status, body if not status.endswith("200 OK") else
                        env_of(out)["SERVER_NAME"]))
    assert answers[1] == answers[0]


def test_plain_http_on_the_tls_port(pair: Pair) -> None:
    apache, ours = (status_and_body(curl(s, "http://a.test:PORT/env.py")[1])
                    for s in pair.both())
    assert ours == apache
    assert apache[0] == "HTTP/1.1 400 Bad Request"


def test_tls_below_1_2_is_refused(pair: Pair) -> None:
    codes = [curl(s, "https://a.test:PORT/env.py", "--tls-max", "1.1")[0]
             for s in pair.both()]
    assert codes == [35, 35]


def test_directory_slash_redirect_names_https(pair: Pair) -> None:
    apache, ours = (curl(s, "https://a.test:PORT/sub")[1] for s in pair.both())
    pick = [[line for line in out.splitlines() if line.startswith(("HTTP/", "Location:"))]
            for out in (apache, ours)]
    assert pick[1] == pick[0]
    assert "Location: https://a.test:PORT/sub/" in pick[0]
