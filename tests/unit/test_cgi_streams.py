"""stderr line splitting (as Apache's log_script_err) and body spooling."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.cgi.streams import (
    STDERR_LINE,
    BodyTooLarge,
    ClientGone,
    StderrLines,
    spool_body,
)


def split(chunks: list[bytes]) -> list[bytes]:
    s = StderrLines()
    out: list[bytes] = []
    for c in chunks:
        out += s.feed(c)
    return out + s.close()


def test_lines_crlf_and_unterminated() -> None:
    assert split([b"hello stderr\nsecond line\r\nno newline"]) == [
        b"hello stderr", b"second line", b"no newline"]


def test_empty_lines_kept_and_no_phantom_last_line() -> None:
    assert split([b"a\n\nb\n"]) == [b"a", b"", b"b"]


def test_long_line_in_pieces() -> None:
    line = b"x" * (STDERR_LINE * 2 + 5)
    assert split([line + b"\n"]) == [b"x" * STDERR_LINE, b"x" * STDERR_LINE, b"x" * 5]


@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=6))
def test_split_points_do_not_matter(data: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert split(chunks) == split([data])


def _receiver(messages: list[dict[str, Any]]) -> Any:
    it = iter(messages)

    async def receive() -> dict[str, Any]:
        return next(it)

    return receive


def test_spool_body_and_limit() -> None:
    msgs = [{"type": "http.request", "body": b"abc", "more_body": True},
            {"type": "http.request", "body": b"defg", "more_body": False}]
    spool, n = asyncio.run(spool_body(_receiver(msgs), 0))
    assert n == 7 and spool.read() == b"abcdefg"
    with pytest.raises(BodyTooLarge) as e:
        asyncio.run(spool_body(_receiver(msgs), 5))
    assert e.value.total == 7
    with pytest.raises(ClientGone):
        asyncio.run(spool_body(_receiver([{"type": "http.disconnect"}]), 0))
