"""The script-output parser: Apache's header rules, and the same result however the
output is split (byte by byte, random splits)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgihttpd.cgi.parser import (
    MAX_HEADER_BLOCK,
    MAX_HEADER_LINE,
    NEED_DATA,
    Body,
    EndOfOutput,
    Headers,
    ScriptError,
    ScriptOutputParser,
)


def run(chunks: list[bytes], name: str = "x.py", nph: bool = False) -> tuple[object, bytes, bool]:
    """Feed chunks; return (headers-or-error, body, saw_end)."""
    p = ScriptOutputParser(name, nph=nph)
    head: object = None
    body = b""
    end = False
    for chunk in [*(c for c in chunks if c), b""]:  # b"" means end of output
        p.receive_data(chunk)
        while True:
            ev = p.next_event()
            if ev is NEED_DATA:
                break
            if isinstance(ev, (Headers, ScriptError)):
                if head is None:
                    head = ev
                if isinstance(ev, ScriptError):
                    return head, body, end
                continue
            if isinstance(ev, Body):
                body += ev.data
                continue
            assert isinstance(ev, EndOfOutput)
            end = True
            return head, body, end
    return head, body, end


def test_simple_lf() -> None:
    head, body, end = run([b"Content-Type: text/plain\n\nhello\n"])
    assert isinstance(head, Headers)
    assert head.status is None and head.content_type == "text/plain"
    assert body == b"hello\n" and end


def test_crlf_and_stray_cr_dropped() -> None:
    head, body, _ = run([b"Content-Type: text/pl\rain\r\nX-A: 1\r\n\r\nbody\r\n"])
    assert isinstance(head, Headers)
    assert head.headers == (("Content-Type", "text/plain"), ("X-A", "1"))
    assert body == b"body\r\n"  # the body is untouched


def test_status_with_reason_and_bare() -> None:
    head, _, _ = run([b"Status: 404 Not Found\nContent-Type: text/html\n\n"])
    assert isinstance(head, Headers) and head.status == 404 and head.reason == "Not Found"
    head, _, _ = run([b"Status: 404\n\n"])
    assert isinstance(head, Headers) and head.status == 404 and head.reason is None


def test_status_not_a_response_code_is_500_with_apaches_words() -> None:
    head, _, _ = run([b"Status: 999 Weird\n\n"], "s.py")
    assert isinstance(head, ScriptError) and head.status == 500
    assert head.message == "Invalid status line from script 's.py': 999 Weird"


def test_repeated_fields_merged_cookies_kept_apart() -> None:
    out = (b"X-Foo: a\nContent-Type: Text/HTML; Charset=UTF-8  \nX-Foo: b\n"
           b"Set-Cookie: a=1\nSet-Cookie: b=2\n\nhi")
    head, body, _ = run([out])
    assert isinstance(head, Headers)
    # verified against Apache 2.4.71: "X-Foo: a, b", both cookies, type lower-cased
    assert head.headers == (
        ("X-Foo", "a, b"),
        ("Content-Type", "text/html; Charset=UTF-8"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    )
    assert body == b"hi"


def test_location_last_wins() -> None:
    head, _, _ = run([b"Location: /a\nLocation: /b\n\nabc"])
    assert isinstance(head, Headers)
    assert head.location == "/b"
    assert ("Location", "/b") in head.headers


@pytest.mark.parametrize("fields", [b"Content-Length: 5\nContent-Length: 3\n",
                                    b"Content-Length: 100\n", b"Content-Length: 2\n",
                                    b"Content-Length: 5\n", b"Content-Length: -1\n"])
def test_scripts_content_length_is_dropped_whatever_it_says(fields: bytes) -> None:
    # Apache 2.4.59+ (checked on 2.4.71): the body is what the script writes
    head, body, end = run([b"Content-Type: text/plain\n" + fields + b"\nhello"])
    assert isinstance(head, Headers)
    assert [k for k, _ in head.headers] == ["Content-Type"]
    assert body == b"hello" and end
    assert all(d.startswith("Content-Length '") for d in head.dropped) and head.dropped


@pytest.mark.parametrize(("line", "shown"), [
    (b"X-A: a\x01b", "X-A' value of 'a\x01b'"),
    (b"X-A: a\x7fb", "X-A' value of 'a\x7fb'"),
    (b"X-A: a\x1bb", "X-A' value of 'a\x1bb'"),
    (b"X-A: a\x0bb", "X-A' value of 'a\x0bb'"),
])
def test_control_character_in_a_value_fails_the_block(line: bytes, shown: str) -> None:
    head, _, _ = run([b"Content-Type: text/plain\n" + line + b"\n\nbody"])
    assert isinstance(head, ScriptError) and head.kind == "bad-value" and head.status == 500
    assert head.message.startswith("AH02430: Response header '")
    assert shown in head.message and head.message.endswith("aborting request")


@pytest.mark.parametrize("line", [b"X-A: a\tb", b"X-A: caf\xe9", b"X-A: a\rb", b"X-A: a\0b"])
def test_tab_obs_text_cr_and_nul_are_not_refused(line: bytes) -> None:
    # HTAB and obs-text are field-value; CR is dropped by the line reader, NUL ends
    # the line as a C string (both as Apache 2.4.71 sends them)
    head, _, _ = run([line + b"\n\nbody"])
    assert isinstance(head, Headers)
    assert head.headers[0][1] in ("a\tb", "caf\xe9", "ab", "a")


def test_control_character_in_a_name_fails_the_block() -> None:
    head, _, _ = run([b"X-\x01A: ab\n\nbody"])
    assert isinstance(head, ScriptError) and head.kind == "bad-name"


def test_reason_phrase_with_a_control_character_is_dropped() -> None:
    head, _, _ = run([b"Status: 200 O\x01K\nContent-Type: text/plain\n\nbody"])
    assert isinstance(head, Headers)
    assert head.status == 200 and head.reason is None
    assert head.dropped == ("Status reason 'O\x01K'",)


@pytest.mark.parametrize("value", [b"abc", b"99 Low", b"600 High", b"2000 Big", b""])
def test_bad_status_fails_the_block(value: bytes) -> None:
    head, _, _ = run([b"Status: " + value + b"\nContent-Type: text/plain\n\nbody"])
    assert isinstance(head, ScriptError) and head.kind == "bad-status" and head.status == 500


def test_status_without_a_reason_or_glued_to_it() -> None:
    # "201Created" goes out as "201 Created" on Apache 2.4.71 too
    for value, reason in ((b"201", None), (b"201Created", "Created"), (b"201 Made", "Made")):
        head, _, _ = run([b"Status: " + value + b"\n\n"])
        assert isinstance(head, Headers) and head.status == 201 and head.reason == reason


def test_header_block_past_its_bound_fails() -> None:
    line = b"X-H: " + b"a" * 8000 + b"\n"
    n = MAX_HEADER_BLOCK // len(line)
    head, _, _ = run([line * n + b"\nbody"])
    assert isinstance(head, Headers)  # just under the bound: served
    head, _, _ = run([line * (n + 1) + b"\nbody"])
    assert isinstance(head, ScriptError) and head.kind == "too-large" and head.status == 500


def test_transfer_encoding_from_script_is_dropped() -> None:
    head, _, _ = run([b"Transfer-Encoding: chunked\nContent-Type: text/plain\n\nbody"])
    assert isinstance(head, Headers)
    assert [k for k, _ in head.headers] == ["Content-Type"]


def test_no_output() -> None:
    head, _, _ = run([], "empty.py")
    assert isinstance(head, ScriptError)
    assert head.message == "End of script output before headers: empty.py"


def test_output_ends_inside_header_block() -> None:
    head, _, _ = run([b"Content-Type: text/plain\n"], "p.py")
    assert isinstance(head, ScriptError)
    assert head.message == "Premature end of script headers: p.py"
    head, _, _ = run([b"Content-Type: text/plain"], "p.py")
    assert isinstance(head, ScriptError) and head.kind == "no-headers"


def test_malformed_header_shows_30_chars() -> None:
    head, _, _ = run([b"This is not a header at all, clearly not\n\n"], "bad.py")
    assert isinstance(head, ScriptError) and head.status == 500
    assert head.message == ("malformed header from script 'bad.py': "
                            "Bad header: This is not a header at all, c")


def test_continuation_line_is_not_folded() -> None:
    # Apache 2.4 has no continuation lines: an indented line without ':' is bad...
    head, _, _ = run([b"X-A: 1\n  more\n\n"])
    assert isinstance(head, ScriptError) and head.kind == "malformed"
    # ...and with a ':' it is a field whose name Apache refuses (AH02429).
    head, _, _ = run([b"X-A: 1\n  Lead: x\n\n"])
    assert isinstance(head, ScriptError) and head.kind == "bad-name"
    assert "AH02429: Response header name '  Lead' contains invalid characters" in head.message


def test_line_length_limit_matches_apache() -> None:
    # Apache 2.4.71: "X-Long: " + 8181 chars passes, one more is an error.
    ok = b"X-Long: " + b"a" * (MAX_HEADER_LINE - 8) + b"\n\nok"
    head, body, _ = run([ok])
    assert isinstance(head, Headers) and body == b"ok"
    bad = b"X-Long: " + b"a" * (MAX_HEADER_LINE - 7) + b"\n\nok"
    head, _, _ = run([bad], "long2.py")
    assert isinstance(head, ScriptError)
    assert head.message == "End of script output before headers: long2.py"


def test_unbounded_line_fails_without_waiting_for_the_end() -> None:
    p = ScriptOutputParser("x")
    p.receive_data(b"X: " + b"a" * 100_000)
    assert isinstance(p.next_event(), ScriptError)


def test_nph_status_line_and_raw_headers() -> None:
    head, body, _ = run([b"HTTP/1.0 201 Made\r\nX-A: 1\r\nX-A: 2\r\n\r\nnph body"], nph=True)
    assert isinstance(head, Headers)
    assert head.status == 201 and head.reason == "Made"
    assert head.headers == (("X-A", "1"), ("X-A", "2"))
    assert body == b"nph body"


def test_binary_body_byte_exact() -> None:
    blob = bytes(range(256)) * 4
    head, body, _ = run([b"Content-Type: application/octet-stream\n\n" + blob])
    assert isinstance(head, Headers) and body == blob


def test_last_modified_normalised_or_dropped() -> None:
    head, _, _ = run([b"Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\n\n"])
    assert isinstance(head, Headers)
    assert head.headers == (("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"),)
    head, _, _ = run([b"Last-Modified: yesterday\n\n"])
    assert isinstance(head, Headers) and head.headers == ()


OUTPUTS = [
    b"Content-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nbody\x00\xff",
    b"Status: 302 Found\nLocation: http://x/\n\n",
    b"X-A: 1\nX-A: 2\n\n" + bytes(range(256)),
    b"bad header line\n\n",
    b"X: " + b"a" * 9000 + b"\n\n",
    b"Content-Type: text/plain\n",
    b"",
]


@pytest.mark.parametrize("out", OUTPUTS)
def test_byte_by_byte_equals_whole(out: bytes) -> None:
    whole = run([out])
    assert run([out[i:i + 1] for i in range(len(out))]) == whole


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OUTPUTS), st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_random_splits_equal_whole(out: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(out) + 1) for c in cuts})
    chunks = [out[a:b] for a, b in zip([0, *points], [*points, len(out)], strict=True)]
    assert run(chunks) == run([out])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_any_bytes_any_split_same_result(out: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(out) + 1) for c in cuts})
    chunks = [out[a:b] for a, b in zip([0, *points], [*points, len(out)], strict=True)]
    assert run(chunks) == run([out])
