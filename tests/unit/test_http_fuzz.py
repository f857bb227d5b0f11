"""Fuzzing the real connection object (``http/protocol.py``) with hypothesis: whatever
request head or chunked body arrives, however it is split, no exception escapes, and
the connection answers, closes, or waits for more bytes in a reading phase; a
well-formed chunked body reaches the application whole.

The connection runs on a fake transport in a private event loop: no sockets.
"""

from __future__ import annotations

import asyncio
import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgihttpd.http.protocol import CgiHttpProtocol, Phase

WAITING = (Phase.READING_HEAD, Phase.READING_BODY, Phase.IDLE, Phase.DISCARDING_BODY)
STATUS = re.compile(rb"HTTP/1\.1 [1-5]\d\d ")


class FakeTransport:
    def __init__(self) -> None:
        self.out = bytearray()
        self.closed = False
        self.eof = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.out += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 80)}.get(
            name, default)


class Run:
    """One connection on a fresh loop, with an application that reads the whole body
    and answers with its length."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.bodies: list[bytes] = []
        self.errors: list[BaseException] = []
        self.loop.set_exception_handler(lambda _loop, ctx: self.errors.append(
            ctx.get("exception") or RuntimeError(ctx["message"])))

        async def app(scope: Any, receive: Any, send: Any) -> None:
            body = b""
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
            self.bodies.append(body)
            answer = str(len(body)).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", str(len(answer)).encode())]})
            await send({"type": "http.response.body", "body": answer})

        config = SimpleNamespace(loaded=True, loaded_app=app, root_path="")
        self.state = SimpleNamespace(connections=set(), tasks=set(), total_requests=0)
        self.conn = CgiHttpProtocol(config, self.state, {}, _loop=self.loop)
        self.transport = FakeTransport()
        self.conn.connection_made(self.transport)  # type: ignore[arg-type]

    def feed(self, pieces: list[bytes]) -> None:
        for piece in pieces:
            if self.transport.closed:
                break
            self.conn.data_received(piece)
            self.settle()

    def settle(self) -> None:
        for _ in range(20):
            self.loop.run_until_complete(asyncio.sleep(0))

    def close(self) -> None:
        for task in list(self.state.tasks):
            task.cancel()
        self.settle()
        self.loop.close()

    def check(self) -> None:
        """The invariant: no exception, and an answer, a close or a reading phase."""
        assert not self.errors, self.errors
        out = bytes(self.transport.out)
        if out and out.startswith(b"HTTP/"):
            assert STATUS.match(out), out[:80]
        assert out or self.transport.closed or self.conn.phase in WAITING, self.conn.phase


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    ends = [*points, len(data)]
    return [data[a:b] for a, b in zip([0, *points], ends, strict=True) if data[a:b]]


TOKENS = st.sampled_from([b"GET", b"POST", b"HEAD", b"OPTIONS", b"CONNECT", b"BREW", b"get",
                          b"G\x00T", b"", b"PRI", b"TRACE"])
TARGETS = st.one_of(
    st.sampled_from([b"/", b"*", b"/a?b=c", b"http://h/x", b"ftp://h/", b"http://u:p@h/",
                     b"h:443", b"/%00", b"//x", b"/\xff", b""]),
    st.binary(max_size=30))
VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9",
                            b"http/1.1", b"HTTP/1", b"HTTP/1.1 ", b""])
FIELD_NAMES = st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding", b"Expect",
                               b"Connection", b"Upgrade", b"X-A", b"Bad Name", b"", b"Host "])
FIELD_VALUES = st.one_of(
    st.sampled_from([b"x", b"chunked", b"xchunked", b"gzip, chunked", b"5", b"-1", b"0x5",
                     b"100-continue", b"bogus", b"close", b"keep-alive", b"h2c", b"1, 2"]),
    st.binary(max_size=20))
SEPARATORS = st.sampled_from([b"\r\n", b"\n", b"\r", b" \r\n"])


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    sp = draw(st.sampled_from([b" ", b"  ", b"\t"]))
    parts = [draw(TOKENS), draw(TARGETS)]
    version = draw(VERSIONS)
    if version:
        parts.append(version)
    eol = draw(SEPARATORS)
    lines = [sp.join(parts)]
    for _ in range(draw(st.integers(0, 5))):
        colon = draw(st.sampled_from([b": ", b":", b" : "]))
        lines.append(draw(FIELD_NAMES) + colon + draw(FIELD_VALUES))
    return eol.join(lines) + eol + eol + draw(st.binary(max_size=40))


def run(pieces: list[bytes]) -> Run:
    r = Run()
    try:
        r.feed(pieces)
        r.check()
        return r
    finally:
        r.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heads(), st.lists(st.integers(0, 400), max_size=4))
def test_any_request_head_is_answered_closed_or_awaited(head: bytes, cuts: list[int]) -> None:
    run(split(head, cuts))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 400), max_size=3))
def test_any_bytes_at_all(data: bytes, cuts: list[int]) -> None:
    run(split(data, cuts))


CHUNKED_HEAD = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


@st.composite
def chunked_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A well-formed chunked encoding of some data, and the data."""
    chunks = draw(st.lists(st.binary(min_size=1, max_size=50), max_size=5))
    out = bytearray()
    for c in chunks:
        ext = draw(st.sampled_from([b"", b";a=b", b";x"]))
        size = b"%x" % len(c)
        out += (size.upper() if draw(st.booleans()) else size) + ext + b"\r\n" + c + b"\r\n"
    out += b"0\r\n"
    if draw(st.booleans()):
        out += b"Trailer-Field: v\r\n"
    out += b"\r\n"
    return bytes(out), b"".join(chunks)


@settings(max_examples=200, deadline=None)
@given(chunked_bodies(), st.lists(st.integers(0, 400), max_size=4))
def test_a_well_formed_chunked_body_arrives_whole(body: tuple[bytes, bytes],
                                                  cuts: list[int]) -> None:
    framed, data = body
    r = run(split(CHUNKED_HEAD + framed, cuts))
    assert r.bodies == [data]
    assert r.transport.out.startswith(b"HTTP/1.1 200 ")


@settings(max_examples=300, deadline=None)
@given(chunked_bodies(), st.integers(0, 10_000), st.binary(min_size=1, max_size=6),
       st.lists(st.integers(0, 400), max_size=3))
def test_a_damaged_chunked_body_is_answered_or_awaited(
        body: tuple[bytes, bytes], where: int, junk: bytes, cuts: list[int]) -> None:
    framed, data = body
    at = where % (len(framed) + 1)
    damaged = framed[:at] + junk + framed[at:]
    r = run(split(CHUNKED_HEAD + damaged, cuts))
    out = bytes(r.transport.out)
    # (junk may also end the body early: what follows is then a request of its own)
    statuses = re.findall(rb"HTTP/1\.1 (\d)\d\d ", out)
    errors = [i for i, s in enumerate(statuses) if s in (b"4", b"5")]
    # at most one error answer, the last thing written: nothing is read after it
    assert errors in ([], [len(statuses) - 1]), out
    if errors:
        assert r.transport.eof or r.transport.closed


def test_the_fake_connection_answers_a_plain_request() -> None:
    r = run([b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"])
    assert r.transport.out.startswith(b"HTTP/1.1 200 ")


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    # malformed requests are logged at INFO by design: keep the fuzz output readable
    logger = logging.getLogger("cgihttpd.http")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
