"""The HTTP layer against the real server process, over raw sockets: the ASGI scope,
Apache's request limits, HTTP/1.0 and HTTP/1.1 framing, 100-continue, disconnects,
backpressure and the error pages the protocol writes itself.

The application is tests/e2e/_echo_app.py (``--app``), so these tests see exactly what
the protocol does, whatever the real app does.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _http_helpers import (
    WAIT,
    connect,
    echo_server,
    exchange,
    protocol_errors,
    read_response,
    read_until_close,
    wait_for,
)

from support import ServerProcess


@pytest.fixture(scope="module")
def echo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("echo")


@pytest.fixture(scope="module")
def server(echo_dir: Path) -> Iterator[ServerProcess]:
    with echo_server(echo_dir) as srv:
        yield srv


@pytest.fixture
def addr(server: ServerProcess) -> tuple[str, int]:
    return server.address


# --- the scope ---------------------------------------------------------------------


def test_scope_is_asgi_http_with_cgihttpd_extension(addr: tuple[str, int]) -> None:
    req = b"GET /echo/a%20b?x=1&y=%20 HTTP/1.1\r\nHost: example.test\r\nX-Test: Yes\r\n\r\n"
    r = exchange(addr, req)
    assert r.status == 200
    scope = r.json()
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/echo/a b"
    assert scope["raw_path"] == "/echo/a%20b"
    assert scope["query_string"] == "x=1&y=%20"
    assert scope["root_path"] == ""
    assert scope["headers"] == [["host", "example.test"], ["x-test", "Yes"]]
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ["127.0.0.1", addr[1]]
    ext = scope["extensions"]["cgihttpd"]
    assert ext["request_line"] == "GET /echo/a%20b?x=1&y=%20 HTTP/1.1"
    assert ext["bytes_in"] == len(req)
    assert ext["keepalive_count"] == 0
    assert set(ext["stats"]) >= {"bytes_out", "body_bytes", "aborted"}


def test_keepalive_count_counts_earlier_requests_on_the_connection(
        addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        buf = bytearray()
        counts = []
        for _ in range(3):
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            counts.append(read_response(s, buf).json()["extensions"]["cgihttpd"]
                          ["keepalive_count"])
    assert counts == [0, 1, 2]


def test_http10_request_is_seen_as_10(addr: tuple[str, int]) -> None:
    r = exchange(addr, b"GET /echo HTTP/1.0\r\n\r\n")
    assert r.json()["http_version"] == "1.0"


def test_stats_count_every_byte_written(addr: tuple[str, int], echo_dir: Path) -> None:
    (echo_dir / "stats").unlink(missing_ok=True)
    with connect(addr) as s:
        s.sendall(b"POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  b"Connection: close\r\n\r\nabc")
        raw = read_until_close(s)
    stats = json.loads(wait_for(lambda: (echo_dir / "stats").exists()
                                and (echo_dir / "stats").read_text(), "stats"))
    assert stats["bytes_out"] == len(raw)
    assert stats["body_bytes"] == 13
    assert stats["aborted"] is False
    assert stats["status"] == 200


def test_raw_extension_writes_the_bytes_as_given_then_closes(addr: tuple[str, int],
                                                             echo_dir: Path) -> None:
    (echo_dir / "raw-stats").unlink(missing_ok=True)
    assert exchange(addr, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").json()[
        "extensions"]["cgihttpd"]["raw_output"] is True
    with connect(addr) as s:
        # keep-alive asked for, and a second request pipelined: the raw response is the
        # connection's last (nothing added, nothing after it)
        s.sendall(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    assert raw == b"HTTP/1.0 299 Mine\r\nX: y\n\nraw body"
    stats = json.loads(wait_for(lambda: (echo_dir / "raw-stats").exists()
                                and (echo_dir / "raw-stats").read_text(), "raw-stats"))
    assert (stats["bytes_out"], stats["body_bytes"], stats["status"]) == (len(raw), 0, 200)


# --- Apache's limits (core: LimitRequestLine, LimitRequestFieldSize, LimitRequestFields)


def _line_of(length: int) -> bytes:
    # a request line of exactly ``length`` characters (CRLF not counted)
    stem = "GET /echo HTTP/1.1"
    return ("GET /echo" + "a" * (length - len(stem)) + " HTTP/1.1").encode()


@pytest.mark.parametrize(("length", "status"), [(8191, 200), (8192, 414)])
def test_limit_request_line_as_apache(addr: tuple[str, int], length: int, status: int) -> None:
    # Apache 2.4.71 with the default 8190: 8191 characters pass, 8192 get 414.
    r = exchange(addr, _line_of(length) + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert r.status == status


def test_414_page_and_log_are_apaches(addr: tuple[str, int], echo_dir: Path) -> None:
    line = _line_of(9000)
    with connect(addr) as s:
        s.sendall(line + b"\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 414 Request-URI Too Long\r\n")
    assert b"\r\nConnection: close\r\n" in head
    assert b"\r\nContent-Type: text/html; charset=iso-8859-1" in head
    assert len(body) == 288  # Apache's page is 288 bytes
    assert b"<p>The requested URL's length exceeds the capacity\nlimit for this server." in body
    event = wait_for(lambda: [e for e in protocol_errors(echo_dir) if e["status"] == 414],
                     "the 414 log event")[-1]
    # Apache logs the first LimitRequestLine + 1 characters of the line as %r
    assert event["request_line"] == line[:8191].decode()
    assert event["bytes_out"] == len(raw)


@pytest.mark.parametrize(("length", "status"), [(8191, 200), (8192, 400)])
def test_limit_request_field_size_as_apache(addr: tuple[str, int], length: int,
                                            status: int) -> None:
    field = b"X-Long: " + b"v" * (length - len("X-Long: "))
    r = exchange(addr, b"GET /echo HTTP/1.1\r\nHost: x\r\n" + field
                 + b"\r\nConnection: close\r\n\r\n")
    assert r.status == status
    if status == 400:
        assert len(r.body) == 318
        assert r.body.endswith(
            b"<p>Your browser sent a request that this server could not understand.<br />\n"
            b"Size of a request header field exceeds server limit.</p>\n</body></html>\n")


@pytest.mark.parametrize(("count", "status"), [(100, 200), (101, 400)])
def test_limit_request_fields_as_apache(addr: tuple[str, int], count: int, status: int) -> None:
    fields = b"Host: x\r\nConnection: close\r\n" + b"".join(
        b"X-H%d: y\r\n" % i for i in range(count - 2))
    r = exchange(addr, b"GET /echo HTTP/1.1\r\n" + fields + b"\r\n")
    assert r.status == status
    if status == 400:
        assert len(r.body) == 330
        assert b"The number of request header fields exceeds this server's limit.</p>" in r.body


def test_huge_header_is_refused_before_it_is_all_sent(addr: tuple[str, int]) -> None:
    # 32 MiB in one header: refused with 400 (the server then drains what still comes for
    # a moment, as Apache's lingering close does, so the client sees the answer).
    with connect(addr) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        piece = b"v" * 65536
        try:
            while sent < 32 << 20:
                s.sendall(piece)
                sent += len(piece)
        except OSError:
            pass  # the server answered and closed: expected
        raw = read_until_close(s)
    # Without the guard llhttp would buffer it all and the app would answer 200.
    assert raw.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_limits_hold_however_the_head_is_split(addr: tuple[str, int]) -> None:
    line = _line_of(8192)
    with connect(addr) as s:
        for i in range(0, len(line), 1000):
            s.sendall(line[i:i + 1000])
        s.sendall(b"\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    assert raw.startswith(b"HTTP/1.1 414 ")


# --- malformed requests ------------------------------------------------------------


def test_malformed_request_gets_apache_400(addr: tuple[str, int], echo_dir: Path) -> None:
    with connect(addr) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        raw = read_until_close(s)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\nDate: ")
    assert b"\r\nServer: cgihttpd/" in head
    assert len(body) == 266
    assert body.startswith(b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"')


@pytest.mark.parametrize("method", ["BREW", "get", "X-CUSTOM"])
def test_methods_llhttp_does_not_know_reach_the_app(addr: tuple[str, int],
                                                    method: str) -> None:
    # Apache reads any token as a method (and answers 501 or runs the CGI script);
    # llhttp alone would refuse these with a parse error.
    r = exchange(addr, f"{method} /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
                       "hi".encode())
    scope = r.json()
    assert scope["method"] == method
    assert scope["body"] == "hi"
    assert scope["extensions"]["cgihttpd"]["request_line"] == f"{method} /echo HTTP/1.1"


def test_http11_without_host_is_400(addr: tuple[str, int]) -> None:
    r = exchange(addr, b"GET /echo HTTP/1.1\r\n\r\n")
    assert r.status == 400
    assert r.headers["connection"] == "close"


# --- framing -----------------------------------------------------------------------


def test_http10_never_gets_chunked_and_the_body_ends_at_close(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /nolen HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        raw = read_until_close(s)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding" not in head.lower()
    assert b"\r\nConnection: close\r\n" in head
    assert body == b"hello world"


def test_http11_without_length_is_chunked(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = bytearray()
        r = read_response(s, buf)
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.body == b"hello world"
        # and the connection is still usable
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s, buf).status == 200


def test_http10_keep_alive_when_asked_and_length_known(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        buf = bytearray()
        s.sendall(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = read_response(s, buf)
        assert r.headers["keep-alive"] == "timeout=5, max=100"
        assert r.headers["connection"] == "Keep-Alive"
        s.sendall(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r2 = read_response(s, buf)
        assert r2.headers["keep-alive"] == "timeout=5, max=99"


def test_http10_without_keep_alive_closes(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /echo HTTP/1.0\r\n\r\n")
        raw = read_until_close(s)
    assert b"\r\nConnection: close\r\n" in raw
    assert b"Keep-Alive" not in raw


def test_http11_keep_alive_sends_no_keep_alive_header(addr: tuple[str, int]) -> None:
    # Apache answers Keep-Alive/Connection only to a client that sent the token.
    r = exchange(addr, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert "keep-alive" not in r.headers
    assert "connection" not in r.headers


def test_head_never_sends_body_bytes(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        buf = bytearray()
        s.sendall(b"HEAD /nolen HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_response(s, buf, head_only=True)
        assert "transfer-encoding" not in first.headers
        second = read_response(s, buf, head_only=True)
        assert int(second.headers["content-length"]) > 0
        # the next bytes on the wire are the third response, not a body
        third = read_response(s, buf)
        assert third.status_line == "HTTP/1.1 200 OK"
        assert third.body == b"should-not-appear"


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_have_no_body_and_no_chunking(addr: tuple[str, int],
                                                       status: int) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /status/%d HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n" % status)
        buf = bytearray()
        r = read_response(s, buf)
        assert r.status == status
        assert "transfer-encoding" not in r.headers
        assert read_response(s, buf).status_line == "HTTP/1.1 200 OK"


def test_pipelined_requests_are_answered_in_order(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /slow?0.3 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /echo/second HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = bytearray()
        assert read_response(s, buf).body == b"slow done"
        assert read_response(s, buf).json()["path"] == "/echo/second"


def test_app_date_and_server_are_not_duplicated(addr: tuple[str, int]) -> None:
    r = exchange(addr, b"GET /own-headers HTTP/1.1\r\nHost: x\r\n\r\n")
    names = [k.lower() for k, _ in r.header_list]
    assert names.count("date") == 1 and names.count("server") == 1
    assert r.headers["server"] == "echo/1"


def test_protocol_adds_date_and_server(addr: tuple[str, int]) -> None:
    r = exchange(addr, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r.headers["date"].endswith(" GMT")
    assert r.headers["server"].startswith("cgihttpd/0.1.0 (Python ")
    # Apache's order: Date and Server first
    assert [k for k, _ in r.header_list[:2]] == ["Date", "Server"]


def test_reason_phrase_from_the_app(addr: tuple[str, int]) -> None:
    r = exchange(addr, b"GET /reason HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r.status_line == "HTTP/1.1 299 Custom Reason"


def test_body_longer_than_content_length_is_cut_and_closed(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /dupe-length HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    assert raw.endswith(b"\r\n\r\nabc")


def test_app_crash_before_answer_gives_500(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    assert raw.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"\r\nConnection: close\r\n" in raw


# --- request bodies ----------------------------------------------------------------


def test_expect_100_continue_is_answered_when_the_app_reads(addr: tuple[str, int]) -> None:
    with connect(addr) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        buf = bytearray()
        interim = read_response(s, buf, head_only=True)
        assert interim.status_line == "HTTP/1.1 100 Continue"
        s.sendall(b"hello")
        r = read_response(s, buf)
        assert r.json()["body"] == "hello"


def test_chunked_request_body_reaches_the_app(addr: tuple[str, int]) -> None:
    r = exchange(addr, b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert r.json()["body"] == "abcde"


def test_disconnect_reaches_a_waiting_receive_and_send_raises(
        addr: tuple[str, int], echo_dir: Path) -> None:
    for name in ("waiting", "disconnect"):
        (echo_dir / name).unlink(missing_ok=True)
    s = connect(addr)
    s.sendall(b"POST /wait-disconnect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
    wait_for(lambda: (echo_dir / "waiting").exists(), "the app to wait")
    s.close()
    note = wait_for(lambda: (echo_dir / "disconnect").exists()
                    and (echo_dir / "disconnect").read_text(), "the app to see the disconnect")
    assert note == "http.disconnect send-raised"


def test_send_waits_for_a_slow_reader(addr: tuple[str, int], echo_dir: Path) -> None:
    """Backpressure: without it the app would put all 64 MiB in memory at once."""
    (echo_dir / "progress").unlink(missing_ok=True)
    total = 64
    with connect(addr) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /stream?%d HTTP/1.1\r\nHost: x\r\n\r\n" % total)
        progress = echo_dir / "progress"

        def stalled() -> bool:
            if not progress.exists():
                return False
            first = progress.read_text()
            threading.Event().wait(0.3)
            return bool(first) and first == progress.read_text()

        wait_for(stalled, "the app to stall on a full socket")
        assert int(progress.read_text()) < total
        buf = bytearray()
        r = read_response(s, buf)
    assert len(r.body) == total << 20
    assert progress.read_text() == str(total)


# --- timeouts ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("quick")
    with echo_server(tmp, env={"CGIHTTPD_HEADER_TIMEOUT": "1-2,MinRate=500"}) as srv:
        srv.tmp = tmp  # type: ignore[attr-defined]
        yield srv


def test_idle_connection_is_closed_silently(quick_server: ServerProcess) -> None:
    with connect(quick_server.address) as s:
        assert read_until_close(s) == b""
    events = wait_for(lambda: protocol_errors(quick_server.tmp), "the log event")  # type: ignore[attr-defined]
    assert any(e["status"] == 408 and e["request_line"] == "-" for e in events)


def test_partial_head_gets_408(quick_server: ServerProcess) -> None:
    with connect(quick_server.address) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
        raw = read_until_close(s)
    assert raw.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"<p>Server timeout waiting for the HTTP request from the client.</p>" in raw


def test_partial_request_line_is_closed_without_answer(quick_server: ServerProcess) -> None:
    with connect(quick_server.address) as s:
        s.sendall(b"GET /ec")
        assert read_until_close(s) == b""


def test_keepalive_timeout_closes_an_idle_kept_connection(addr: tuple[str, int]) -> None:
    # KeepAliveTimeout 5 (Apache's default): the server closes the connection itself.
    with connect(addr) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = bytearray()
        assert read_response(s, buf).status == 200
        assert read_until_close(s) == b""


def test_max_keepalive_requests(addr: tuple[str, int]) -> None:
    # MaxKeepAliveRequests 100: 100 kept-alive answers, the 101st closes (Apache).
    with connect(addr) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n" * 101)
        buf = bytearray()
        answers = [read_response(s, buf) for _ in range(101)]
        assert read_until_close(s) == b""
    assert answers[0].headers["keep-alive"] == "timeout=5, max=100"
    assert answers[99].headers["keep-alive"] == "timeout=5, max=1"
    assert answers[100].headers["connection"] == "close"


def test_wait_deadline_constant_is_sane() -> None:
    assert WAIT > 5  # longer than KeepAliveTimeout, so the close above is the server's
