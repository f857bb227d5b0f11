"""HTTPS from Apache's mod_ssl directives, checked with curl against the real command:
certificates made here with trustme, SNI choosing the virtual host (``--resolve``),
what scripts see, 421 when Host and SNI name servers set up differently, plain HTTP on
the TLS port, a refused protocol, the chain sent, start-up errors at the directive's
line, and a graceful reload reading the certificates again (docs/design.md, "HTTPS")."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ServerProcess

trustme = pytest.importorskip("trustme")
pytestmark = [
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, Debian's curl"),
]

WAIT = 15.0
ENV_CGI = (f"#!{sys.executable}\nimport os\nprint('Content-Type: text/plain\\n')\n"
           "for k in sorted(os.environ):\n"
           "    if k.startswith(('SSL_', 'HTTPS', 'REQUEST_SCHEME', 'SERVER_')):\n"
           "        print(f'{k}={os.environ[k]}')\n")


def make_certs(tmp: Path, ca: trustme.CA) -> None:
    """a.crt covers a.test and c.test (the chain appended in the file), b.crt b.test
    issued by an intermediate CA given by SSLCertificateChainFile."""
    a = ca.issue_cert("a.test", "c.test")
    a.private_key_pem.write_to_path(str(tmp / "a.key"))
    (tmp / "a.crt").write_bytes(b"".join(p.bytes() for p in a.cert_chain_pems))
    inter = ca.create_child_ca()
    b = inter.issue_cert("b.test")
    b.private_key_pem.write_to_path(str(tmp / "b.key"))
    b.cert_chain_pems[0].write_to_path(str(tmp / "b.crt"))
    (tmp / "b-chain.crt").write_bytes(b"".join(p.bytes() for p in b.cert_chain_pems[1:]))


def write_site(tmp: Path, *, a_extra: str = "", b_key: str = "b.key") -> Path:
    www = tmp / "www"
    (www / "sub").mkdir(parents=True, exist_ok=True)
    (www / "env.py").write_text(ENV_CGI)
    (www / "env.py").chmod(0o755)
    conf = tmp / "httpd.conf"
    conf.write_text(
        f"ServerRoot {tmp}\n"
        "LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n"
        "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\n"
        "LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n"
        "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
        "Listen 127.0.0.1:443 https\nServerName main.test\n"
        f"DocumentRoot {www}\nErrorLog {tmp}/error.log\nLogLevel info\n"
        "SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1\nSSLCipherSuite HIGH:!aNULL\n"
        "SSLHonorCipherOrder on\nSSLCompression off\nSSLSessionTickets off\n"
        f"<Directory {www}>\n  Options +ExecCGI\n  AddHandler cgi-script .py\n"
        "</Directory>\n"
        "<VirtualHost *:443>\n  ServerName a.test\n  SSLEngine on\n"
        f"  SSLCertificateFile a.crt\n  SSLCertificateKeyFile a.key\n{a_extra}"
        "</VirtualHost>\n"
        "<VirtualHost *:443>\n  ServerName b.test\n  SSLEngine on\n"
        f"  SSLCertificateFile b.crt\n  SSLCertificateKeyFile {b_key}\n"
        "  SSLCertificateChainFile b-chain.crt\n"
        f"  <Directory {www}>\n    SSLOptions +StdEnvVars\n  </Directory>\n"
        "</VirtualHost>\n"
        # the same TLS settings as a.test: compatible, so no 421 between them
        "<VirtualHost *:443>\n  ServerName c.test\n  SSLEngine on\n"
        f"  SSLCertificateFile a.crt\n  SSLCertificateKeyFile a.key\n{a_extra}"
        "</VirtualHost>\n")
    return conf


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    ca = trustme.CA()
    make_certs(tmp_path, ca)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return write_site(tmp_path), tmp_path / "ca.pem"


def curl(port: int, url: str, ca: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    resolve = [a for name in ("a.test", "b.test", "c.test")
               for a in ("--resolve", f"{name}:{port}:127.0.0.1")]
    return subprocess.run(
        ["curl", "-sS", "-i", "--max-time", str(WAIT), "--cacert", str(ca), *resolve,
         *extra, url.replace("PORT", str(port))],
        capture_output=True, text=True, timeout=WAIT * 2)


def env_of(out: str) -> dict[str, str]:
    body = out.split("\n\n", 1)[1]  # text mode: CRLF read as LF
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def test_sni_chooses_the_vhost_and_scripts_see_https(site: tuple[Path, Path]) -> None:
    conf, ca = site
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        assert any(line.startswith("cgihttpd: serving https://") for line in srv.stderr_lines)
        a = curl(srv.port, "https://a.test:PORT/env.py", ca)
        assert a.returncode == 0, a.stderr
        env = env_of(a.stdout)
        assert env["SERVER_NAME"] == "a.test" and env["SERVER_PORT"] == str(srv.port)
        assert env["HTTPS"] == "on" and env["REQUEST_SCHEME"] == "https"
        assert env["SSL_TLS_SNI"] == "a.test"
        assert "SSL_PROTOCOL" not in env  # no SSLOptions +StdEnvVars there
        # b.test's certificate needs its intermediate: sent from SSLCertificateChainFile
        b = curl(srv.port, "https://b.test:PORT/env.py", ca)
        assert b.returncode == 0, b.stderr
        env = env_of(b.stdout)
        assert env["SERVER_NAME"] == "b.test"
        assert env["SSL_PROTOCOL"] in ("TLSv1.2", "TLSv1.3") and env["SSL_CIPHER"]
        assert env["SSL_CLIENT_VERIFY"] == "NONE"
        assert env["SSL_SESSION_RESUMED"] == "Initial"


def test_host_naming_another_tls_setup_is_misdirected(site: tuple[Path, Path]) -> None:
    conf, ca = site
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        r = curl(srv.port, "https://a.test:PORT/env.py", ca, "-H", "Host: b.test")
        assert r.stdout.startswith("HTTP/1.1 421 Misdirected Request"), r.stdout
        assert "Server Name Indication (SNI)" in r.stdout
        # c.test has a.test's settings: compatible, served by c.test
        r = curl(srv.port, "https://a.test:PORT/env.py", ca, "-H", "Host: c.test")
        assert r.stdout.startswith("HTTP/1.1 200"), r.stdout
        assert env_of(r.stdout)["SERVER_NAME"] == "c.test"
        log = (conf.parent / "error.log").read_text()
        assert ("AH02032: Hostname a.test provided via SNI and hostname b.test provided "
                "via HTTP have no compatible SSL setup") in log


def test_plain_http_on_the_tls_port_gets_mod_ssls_400(site: tuple[Path, Path]) -> None:
    conf, ca = site
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        r = curl(srv.port, "http://a.test:PORT/env.py", ca)
        assert r.stdout.startswith("HTTP/1.1 400 Bad Request"), r.stdout
        assert ("Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n"
                " Instead use the HTTPS scheme to access this URL, please.<br />\n"
                "</p>") in r.stdout


def test_protocols_below_tls12_are_refused(site: tuple[Path, Path]) -> None:
    conf, ca = site
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        r = curl(srv.port, "https://a.test:PORT/env.py", ca, "--tls-max", "1.1")
        assert r.returncode == 35, (r.returncode, r.stdout)  # CURLE_SSL_CONNECT_ERROR
        ok = curl(srv.port, "https://a.test:PORT/env.py", ca, "--tlsv1.2", "--tls-max", "1.2")
        assert ok.returncode == 0 and env_of(ok.stdout)["SSL_TLS_SNI"] == "a.test"


def test_only_the_configured_protocol_is_offered(tmp_path: Path) -> None:
    authority = trustme.CA()
    make_certs(tmp_path, authority)
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    conf = write_site(tmp_path, a_extra="  SSLProtocol -all +TLSv1.3\n")
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        r = curl(srv.port, "https://a.test:PORT/env.py", ca, "--tls-max", "1.2")
        assert r.returncode == 35, (r.returncode, r.stdout)
        ok = curl(srv.port, "https://a.test:PORT/env.py", ca, "--tlsv1.3")
        assert ok.returncode == 0, ok.stderr


def test_redirects_name_https(site: tuple[Path, Path]) -> None:
    conf, ca = site
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        r = curl(srv.port, "https://a.test:PORT/sub", ca)
        assert r.stdout.startswith("HTTP/1.1 301"), r.stdout
        assert f"Location: https://a.test:{srv.port}/sub/\n" in r.stdout


def test_a_key_that_does_not_match_stops_the_start(tmp_path: Path) -> None:
    make_certs(tmp_path, trustme.CA())
    conf = write_site(tmp_path, b_key="a.key")
    srv = ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"])
    assert srv.wait_exit(WAIT) != 0
    err = "\n".join(srv.stderr_lines)
    lines = conf.read_text().splitlines()
    line = lines.index("  SSLCertificateKeyFile a.key", lines.index("  ServerName b.test")) + 1
    assert (f"{conf}:{line}: AH02565: Certificate and private key b.test:443:0 from "
            f"{tmp_path}/b.crt and {tmp_path}/a.key do not match") in err, err


def test_a_bad_cipher_string_stops_the_start(tmp_path: Path) -> None:
    make_certs(tmp_path, trustme.CA())
    conf = write_site(tmp_path, a_extra="  SSLCipherSuite NOTACIPHER\n")
    srv = ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"])
    assert srv.wait_exit(WAIT) != 0
    line = conf.read_text().splitlines().index("  SSLCipherSuite NOTACIPHER") + 1
    assert any(f"{conf}:{line}: AH01898: Unable to configure permitted SSL ciphers" in x
               for x in srv.stderr_lines), srv.stderr_lines


def test_graceful_reload_reads_the_certificates_again(site: tuple[Path, Path]) -> None:
    conf, ca = site
    tmp = conf.parent
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        assert curl(srv.port, "https://a.test:PORT/env.py", ca).returncode == 0
        new_ca = trustme.CA()
        make_certs(tmp, new_ca)  # new files in place, as certbot renews them
        new_ca.cert_pem.write_to_path(str(tmp / "new-ca.pem"))
        srv.proc.send_signal(signal.SIGUSR1)
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            r = curl(srv.port, "https://a.test:PORT/env.py", tmp / "new-ca.pem")
            if r.returncode == 0:
                break
            time.sleep(0.1)
        assert r.returncode == 0, r.stderr
        assert curl(srv.port, "https://a.test:PORT/env.py", ca).returncode == 60


def test_a_reload_with_a_bad_key_is_refused_and_the_old_one_serves(
        site: tuple[Path, Path]) -> None:
    conf, ca = site
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        conf.write_text(conf.read_text().replace("SSLCertificateKeyFile b.key",
                                                 "SSLCertificateKeyFile a.key"))
        srv.proc.send_signal(signal.SIGUSR1)
        log = conf.parent / "error.log"
        end = time.monotonic() + WAIT
        while time.monotonic() < end and "reload refused" not in log.read_text():
            time.sleep(0.05)
        assert "reload refused" in log.read_text() and "AH02565" in log.read_text()
        r = curl(srv.port, "https://b.test:PORT/env.py", ca)
        assert r.returncode == 0 and env_of(r.stdout)["SERVER_NAME"] == "b.test"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_plain_and_tls_ports_side_by_side(tmp_path: Path) -> None:
    """Port 80's twin stays plain HTTP (on uvicorn's own server), 443's speaks TLS; a
    reload that would turn TLS on for the plain port is refused, never served plain."""
    authority = trustme.CA()
    make_certs(tmp_path, authority)
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    plain, tls = free_port(), free_port()
    conf = write_site(tmp_path)
    text = (conf.read_text().replace("Listen 127.0.0.1:443 https\n",
                                     f"Listen 127.0.0.1:{plain}\nListen 127.0.0.1:{tls} https\n")
            .replace("<VirtualHost *:443>", f"<VirtualHost *:{tls}>")
            + f"<VirtualHost *:{plain}>\n  ServerName a.test\n</VirtualHost>\n")
    conf.write_text(text)
    with ServerProcess(["-f", str(conf)]) as srv:
        r = curl(plain, "http://a.test:PORT/env.py", ca)
        assert r.stdout.startswith("HTTP/1.1 200"), r.stdout
        assert "HTTPS" not in env_of(r.stdout) and env_of(r.stdout)["REQUEST_SCHEME"] == "http"
        r = curl(tls, "https://a.test:PORT/env.py", ca)
        assert r.returncode == 0 and env_of(r.stdout)["HTTPS"] == "on"
        conf.write_text(text.replace("  ServerName a.test\n</VirtualHost>\n",
                                     "  ServerName a.test\n  SSLEngine on\n"
                                     "  SSLCertificateFile a.crt\n"
                                     "  SSLCertificateKeyFile a.key\n</VirtualHost>\n"))
        srv.proc.send_signal(signal.SIGUSR1)
        log = tmp_path / "error.log"
        end = time.monotonic() + WAIT
        while time.monotonic() < end and "reload refused" not in log.read_text():
            time.sleep(0.05)
        assert "TLS (SSLEngine on) was added on a port started without it" in log.read_text()
        r = curl(plain, "http://a.test:PORT/env.py", ca)
        assert r.stdout.startswith("HTTP/1.1 200"), r.stdout


def test_ssl_require_ssl_serves_tls_and_refuses_plain(tmp_path: Path) -> None:
    """mod_ssl SSLRequireSSL: the directory is served over TLS, refused 403 over plain
    HTTP with AH02219 (the same config on both ports)."""
    authority = trustme.CA()
    make_certs(tmp_path, authority)
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    plain, tls = free_port(), free_port()
    conf = write_site(tmp_path)
    (tmp_path / "www" / "sub" / "a.txt").write_text("secure\n")
    conf.write_text(
        conf.read_text().replace("Listen 127.0.0.1:443 https\n",
                                 f"Listen 127.0.0.1:{plain}\nListen 127.0.0.1:{tls} https\n")
        .replace("<VirtualHost *:443>", f"<VirtualHost *:{tls}>")
        + f"<VirtualHost *:{plain}>\n  ServerName a.test\n</VirtualHost>\n"
        + f"<Directory {tmp_path}/www/sub>\n  SSLRequireSSL\n</Directory>\n")
    with ServerProcess(["-f", str(conf)]):
        r = curl(tls, "https://a.test:PORT/sub/a.txt", ca)
        assert r.stdout.startswith("HTTP/1.1 200") and r.stdout.endswith("secure\n"), r.stdout
        r = curl(plain, "http://a.test:PORT/sub/a.txt", ca)
        assert r.stdout.startswith("HTTP/1.1 403"), r.stdout
    assert (f"AH02219: access to {tmp_path}/www/sub/a.txt failed, reason: SSL connection "
            "required") in (tmp_path / "error.log").read_text()
