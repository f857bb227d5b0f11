"""Response framing (plan_response), status lines and the protocol's own error pages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.banner import server_software, signature
from cgihttpd.http.errorpage import error_page
from cgihttpd.http.framing import InvalidResponse, RequestFacts, plan_response
from cgihttpd.http.status import status_line

DATE = b"Thu, 01 Jan 2026 00:00:00 GMT"


def facts(version: str = "1.1", method: str = "GET", *, client: bool = True,
          token: bool = False, server: bool = True, left: int | None = 100) -> RequestFacts:
    return RequestFacts(version, method, client, token, server, 5, left)


def plan(f: RequestFacts, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None
         ):  # type: ignore[no-untyped-def]
    return plan_response(f, status, headers or [], date=DATE, server=b"cgihttpd")


def head_lines(p) -> list[bytes]:  # type: ignore[no-untyped-def]
    return p.head.split(b"\r\n")


def test_http11_without_length_is_chunked_and_kept_alive() -> None:
    p = plan(facts())
    assert p.chunked and p.keep_alive
    assert b"Transfer-Encoding: chunked" in head_lines(p)


def test_http10_without_length_is_close_delimited() -> None:
    p = plan(facts("1.0", client=True, token=True))
    assert not p.chunked and not p.keep_alive
    assert b"Connection: close" in head_lines(p)


def test_http10_keep_alive_with_length_sends_apache_headers() -> None:
    p = plan(facts("1.0", token=True), headers=[(b"content-length", b"3")])
    assert p.keep_alive
    lines = head_lines(p)
    assert b"Keep-Alive: timeout=5, max=100" in lines
    assert b"Connection: Keep-Alive" in lines


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304)])
def test_no_body_responses_are_never_chunked(method: str, status: int) -> None:
    p = plan(facts(method=method), status)
    assert not p.chunked and not p.body_allowed and p.keep_alive


@pytest.mark.parametrize("status", [400, 408, 411, 413, 414, 500, 501, 503])
def test_statuses_that_drop_the_connection(status: int) -> None:
    assert not plan(facts(), status, [(b"content-length", b"0")]).keep_alive


def test_app_connection_close_is_honoured_and_hop_by_hop_replaced() -> None:
    p = plan(facts(), 200, [(b"connection", b"close"), (b"transfer-encoding", b"chunked"),
                            (b"content-length", b"2")])
    assert not p.keep_alive and not p.chunked
    assert p.head.count(b"onnection") == 1
    assert b"transfer-encoding" not in p.head.lower()


def test_date_server_first_content_type_last_as_apache() -> None:
    p = plan(facts(), 200, [(b"content-type", b"text/plain"), (b"etag", b'"x"'),
                            (b"content-length", b"1")])
    lines = [x.split(b":")[0] for x in head_lines(p)[1:] if x]
    assert lines == [b"Date", b"Server", b"ETag", b"Content-Length", b"Content-Type"]


def test_app_date_and_server_win() -> None:
    p = plan(facts(), 200, [(b"date", b"x"), (b"server", b"y"), (b"content-length", b"0")])
    assert p.head.count(b"Date:") == 1 and b"Date: x" in p.head
    assert b"Server: y" in p.head and b"cgihttpd" not in p.head


@pytest.mark.parametrize("bad", [(b"x\r\ny", b"1"), (b"x", b"a\r\nb"), (b"", b"1"),
                                 (b"content-length", b"nope")])
def test_invalid_headers_are_refused(bad: tuple[bytes, bytes]) -> None:
    with pytest.raises(InvalidResponse):
        plan(facts(), 200, [bad])


def test_keep_alive_needs_server_and_client() -> None:
    assert not plan(facts(server=False), 200, [(b"content-length", b"0")]).keep_alive
    assert not plan(facts(client=False), 200, [(b"content-length", b"0")]).keep_alive


@given(version=st.sampled_from(["1.0", "1.1"]),
       method=st.sampled_from(["GET", "HEAD", "POST"]),
       status=st.sampled_from([200, 201, 204, 206, 301, 304, 404, 500]),
       length=st.one_of(st.none(), st.integers(0, 10)),
       client=st.booleans(), token=st.booleans(), server=st.booleans())
def test_framing_invariants(version: str, method: str, status: int, length: int | None,
                            client: bool, token: bool, server: bool) -> None:
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    p = plan(facts(version, method, client=client, token=token, server=server), status,
             headers)
    # never chunked to HTTP/1.0, never chunked without a body
    if version == "1.0" or not p.body_allowed:
        assert not p.chunked
    # a body whose end the client cannot find means the connection must close
    if p.body_allowed and length is None and not p.chunked:
        assert not p.keep_alive
    # exactly one Connection header unless kept alive silently (1.1, no token)
    assert p.head.count(b"\r\nConnection: ") <= 1
    assert p.keep_alive or b"\r\nConnection: close\r\n" in p.head
    assert p.head.endswith(b"\r\n\r\n")


def test_status_lines_are_apaches() -> None:
    assert status_line(414) == b"HTTP/1.1 414 Request-URI Too Long\r\n"
    assert status_line(413) == b"HTTP/1.1 413 Request Entity Too Large\r\n"
    assert status_line(299, "Custom") == b"HTTP/1.1 299 Custom\r\n"
    assert status_line(200, "A\r\nB") == b"HTTP/1.1 200 A  B\r\n"


@pytest.mark.parametrize(("status", "note", "length"), [
    # lengths of Apache 2.4.71's pages, measured with raw sockets
    (400, None, 266),
    (400, "Size of a request header field exceeds server limit.", 318),
    (400, "The number of request header fields exceeds this server's limit.", 330),
    (408, None, 261),
    (414, None, 288),
])
def test_error_pages_match_apache_byte_counts(status: int, note: str | None,
                                              length: int) -> None:
    assert len(error_page(status, note)) == length


def test_signature_one_function_for_pages_and_scripts() -> None:
    """core.c ap_psignature: error pages and listings with "<hr>", SERVER_SIGNATURE without."""
    assert signature("off", "cgihttpd", "h", 80, "", prefix="<hr>\n") == ""
    assert signature("On", "cgihttpd", "h", 80, "", prefix="<hr>\n") == (
        "<hr>\n<address>cgihttpd Server at h Port 80</address>\n")
    assert signature("on", "cgihttpd", "h", 80, "") == (
        "<address>cgihttpd Server at h Port 80</address>\n")
    assert signature("email", "cgihttpd", "h", 80, "a@b") == (
        '<address>cgihttpd Server at <a href="mailto:a@b">h</a> Port 80</address>\n')
    # a ServerAdmin that is a URL is linked as it is; an IPv6 name loses its brackets
    assert 'href="https://x/"' in signature("email", "b", "h", 80, "https://x/")
    assert "Server at ::1 Port" in signature("on", "b", "[::1]", 80, "")
    assert "Server at a&lt;b Port" in signature("on", "b", "a<b", 80, "")


@pytest.mark.parametrize(("tokens", "expected"), [
    ("Prod", "cgihttpd"), ("Major", "cgihttpd/0"), ("Minor", "cgihttpd/0.1"),
    ("Min", "cgihttpd/0.1.0"),
])
def test_server_tokens(tokens: str, expected: str) -> None:
    assert server_software(tokens) == expected


def test_server_tokens_full_names_python() -> None:
    assert server_software("Full").startswith("cgihttpd/0.1.0 (Python 3.")
    assert server_software("OS") == server_software("Full")


@given(st.lists(st.sampled_from([
    (b"content-type", b"text/html"), (b"content-length", b"12"), (b"etag", b'"a-b"'),
    (b"Connection", b"close"), (b"date", b"x"), (b"server", b"y"), (b"X-Other", b"v"),
    (b"transfer-encoding", b"chunked"), (b"bad name", b"v"), (b"x-bad", b"a\nb"),
    (b"content-length", b"-1")]), max_size=6),
       st.sampled_from(["1.0", "1.1"]), st.sampled_from([200, 204, 304, 404, 500]))
def test_a_header_tuple_plans_as_the_same_list(headers: list[tuple[bytes, bytes]],
                                               version: str, status: int) -> None:
    """Tuples (what the static handler sends, scanned once and remembered) and lists
    (scanned every time) give the same plan or the same error, again and again."""
    facts = RequestFacts(version, "GET", True, True, True)

    def outcome(h: object) -> object:
        try:
            return plan_response(facts, status, h, date=b"D", server=b"S")  # type: ignore[arg-type]
        except InvalidResponse as exc:
            return str(exc)

    expected = outcome(list(headers))
    assert outcome(tuple(headers)) == expected
    assert outcome(tuple(headers)) == expected
