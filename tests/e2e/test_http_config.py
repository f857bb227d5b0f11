"""The HTTP layer follows the configuration: KeepAlive, KeepAliveTimeout,
MaxKeepAliveRequests, LimitRequestLine, ServerTokens, ServerSignature; and the request
body deadline. Raw sockets against the real process (echo app, config from -f)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _http_helpers import connect, echo_server, exchange, read_response, read_until_close

from support import ServerProcess


def conf_server(tmp: Path, directives: str, env: dict[str, str] | None = None
                ) -> ServerProcess:
    conf = tmp / "httpd.conf"
    conf.write_text(f"ServerRoot {tmp}\nListen 127.0.0.1:80\nServerName test.local\n"
                    f"DocumentRoot {tmp}\nErrorLog {tmp}/error.log\n{directives}\n")
    return echo_server(tmp, "-f", str(conf), env=env)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("tuned")
    with conf_server(tmp, "KeepAliveTimeout 1\nMaxKeepAliveRequests 2\nLimitRequestLine 100\n"
                          "ServerTokens Prod\nServerSignature On\n"
                          "LoadModule reqtimeout_module modules/mod_reqtimeout.so\n"
                          "RequestReadTimeout body=1\n") as srv:
        yield srv


def test_server_tokens_prod(tuned: ServerProcess) -> None:
    r = exchange(tuned.address, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r.headers["server"] == "cgihttpd"


def test_limit_request_line_from_the_config(tuned: ServerProcess) -> None:
    stem = len("GET /echo HTTP/1.1")
    ok = b"GET /echo" + b"a" * (101 - stem) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    too_long = b"GET /echo" + b"a" * (102 - stem) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert exchange(tuned.address, ok).status == 200
    r = exchange(tuned.address, too_long)
    assert r.status == 414
    # ServerSignature On: the address line on the protocol's own pages too
    port = tuned.address[1]
    assert r.body.endswith(
        f"<hr>\n<address>cgihttpd Server at test.local Port {port}</address>\n"
        "</body></html>\n".encode())


def test_max_keepalive_requests_from_the_config(tuned: ServerProcess) -> None:
    with connect(tuned.address) as s:
        s.sendall(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 3)
        buf = bytearray()
        answers = [read_response(s, buf) for _ in range(3)]
        assert read_until_close(s) == b""
    assert [a.headers.get("keep-alive") for a in answers] == [
        "timeout=1, max=2", "timeout=1, max=1", None]
    assert answers[2].headers["connection"] == "close"


def test_keepalive_timeout_from_the_config(tuned: ServerProcess) -> None:
    with connect(tuned.address) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = bytearray()
        assert read_response(s, buf).status == 200
        assert read_until_close(s) == b""  # closed by the server after KeepAliveTimeout 1


def test_request_body_deadline_gives_408(tuned: ServerProcess) -> None:
    with connect(tuned.address) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        raw = read_until_close(s)
    assert raw.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"\r\nConnection: close\r\n" in raw


def test_keepalive_off(tmp_path: Path) -> None:
    with conf_server(tmp_path, "KeepAlive Off") as srv, connect(srv.address) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    assert b"\r\nConnection: close\r\n" in raw
    assert raw.count(b"HTTP/1.1 200") == 1
