"""Fuzzing the script-output parser (cgi/parser.py) with arbitrary bytes: it only ever
answers with its events, the same ones however the output is split, and a header that
comes out never carries a byte that would break the response head."""

from __future__ import annotations

import re

from fuzz_helpers import fuzz, split_at
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.cgi.parser import (
    NEED_DATA,
    Body,
    EndOfOutput,
    Headers,
    ScriptError,
    ScriptOutputParser,
)

#: pieces a script's output is made of, so the examples reach the header rules
PIECES = st.sampled_from([
    b"\n", b"\r\n", b"\r", b"\x00", b":", b": ", b" ", b"\t", b"\x0b", b"\x7f", b"\xff",
    b"Status: ", b"200", b"302 Found", b"999", b"Location: ", b"http://x/",
    b"Content-Type: text/html", b"Content-Length: 5", b"Transfer-Encoding: chunked",
    b"Set-Cookie: a=1", b"X-A", b"x y", b"Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT",
    b"HTTP/1.1 200 OK", b"HTTP/1.0 404", b"body",
])
_FIELD_BYTES = st.sampled_from([b"a", b"Z", b"-", b" ", b"\t", b"\x00", b"\x01", b"\x0b",
                                b"\x1f", b"\x7f", b"\x80", b"\xff", b":", b"\r"])
_NAMES = st.sampled_from([b"X-A", b"Status", b"Location", b"Content-Type", b"Set-Cookie",
                          b"Content-Length", b"Transfer-Encoding", b"ETag", b"x-a"])
# mostly names the parser takes, so that the values behind them are looked at
_NAME = st.one_of(_NAMES, _NAMES, _NAMES, st.lists(_FIELD_BYTES, max_size=4).map(b"".join))
_VALUE = st.lists(st.one_of(_FIELD_BYTES, st.sampled_from([b"200", b"x", b"1"])),
                  max_size=6).map(b"".join)
#: a header block of field lines (hostile bytes in names and values), then a body
_BLOCK = st.builds(
    lambda lines, end, body: b"".join(lines) + end + body,
    st.lists(st.builds(lambda n, sep, v, eol: n + sep + v + eol, _NAME,
                       st.sampled_from([b": ", b":", b" :", b""]), _VALUE,
                       st.sampled_from([b"\n", b"\r\n", b"\n\r"])), max_size=4),
    st.sampled_from([b"\n", b"\r\n", b""]), st.binary(max_size=20))
OUTPUT = st.one_of(st.binary(max_size=300), _BLOCK,
                   st.lists(st.one_of(PIECES, st.binary(max_size=4)), max_size=40).map(
                       b"".join))
CUTS = st.lists(st.integers(min_value=0, max_value=2_000), max_size=8)

#: what may never be in a field of the response head (RFC 9110 5.5: no CTL but HTAB)
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def events(chunks: list[bytes], nph: bool) -> list[object]:
    """Every event but NEED_DATA, with consecutive body bytes joined (how the body is
    cut into Body events may follow the input's cuts; its bytes may not)."""
    p = ScriptOutputParser("fuzz.cgi", nph=nph)
    out: list[object] = []
    body = b""
    for chunk in [*(c for c in chunks if c), b""]:
        p.receive_data(chunk)
        for _ in range(10_000):
            ev = p.next_event()
            if ev is NEED_DATA:
                break
            if isinstance(ev, Body):
                assert ev.data, "an empty Body event"
                body += ev.data
                continue
            assert isinstance(ev, (Headers, ScriptError, EndOfOutput)), ev
            if body:
                out.append(Body(body))
                body = b""
            out.append(ev)
            if isinstance(ev, (ScriptError, EndOfOutput)):
                # both are final: asked again, the parser says the same
                assert p.next_event() == ev
                return out
        else:
            raise AssertionError("the parser never asked for more data")
    raise AssertionError("no final event after the end of output")


@fuzz(400)
@given(OUTPUT, CUTS, st.booleans())
def test_any_output_any_split_gives_the_same_events(out: bytes, cuts: list[int],
                                                    nph: bool) -> None:
    whole = events([out], nph)
    assert events(split_at(out, cuts), nph) == whole
    assert events([out[i:i + 1] for i in range(len(out))], nph) == whole


@fuzz(400)
@given(OUTPUT, st.booleans())
def test_headers_that_come_out_are_clean(out: bytes, nph: bool) -> None:
    for ev in events([out], nph):
        if not isinstance(ev, Headers):
            continue
        assert ev.status is None or 100 <= ev.status <= 599, ev
        for name, value in ev.headers:
            assert name and not _CTL.search(name) and ":" not in name, (name, ev)
            assert not _CTL.search(value), (value, ev)
        if ev.reason is not None:
            assert not re.search(r"[\r\n\x00]", ev.reason), ev
            if not nph:
                assert not _CTL.search(ev.reason), ev
        names = {n.lower() for n, _v in ev.headers}
        if not nph:
            # the server frames the body: the script's framing never goes out
            assert not names & {"content-length", "transfer-encoding"}, ev
