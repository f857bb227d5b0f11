"""ChunkSizes: a chunk size past a signed 64-bit value is found as Apache's
parse_chunk_size finds it (leading zeros skipped), whatever the reads' boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgihttpd.http.chunksize import ChunkSizes

CASES = [
    (b"3\r\nabc\r\n0\r\n\r\n", True),
    (b"7fffffffffffffff\r\nabc", True),
    (b"8000000000000000\r\n", False),
    (b"8000000000000000", False),  # at the digit, before the line's end
    (b"ffffffffffffffff\r\n", False),
    (b"fffffffffffffffffffff\r\n", False),
    (b"0000000000000000003\r\nabc\r\n0\r\n\r\n", True),
    (b"3;ext=1\r\nabc\r\n10\r\n" + b"x" * 16 + b"\r\n8000000000000000\r\n", False),
    # data that looks like a size is data
    (b"10\r\n8000000000000000\r\n0\r\n\r\n", True),
    # after the last chunk: trailers and the next request are not sizes
    (b"0\r\nX: 8000000000000000\r\n\r\nffffffffffffffffff\r\n", True),
    # malformed framing is llhttp's to refuse
    (b"zz\r\nabc\r\n", True),
    (b"-5\r\n", True),
]


@pytest.mark.parametrize(("body", "ok"), CASES)
def test_sizes(body: bytes, ok: bool) -> None:
    assert ChunkSizes().feed(body) is ok


@given(st.sampled_from(CASES), st.lists(st.integers(0, 64), max_size=8))
def test_any_split_gives_the_same_verdict(case: tuple[bytes, bool], cuts: list[int]) -> None:
    body, ok = case
    watch = ChunkSizes()
    verdict = True
    last = 0
    for cut in sorted({min(c, len(body)) for c in cuts}) + [len(body)]:
        verdict = watch.feed(body[last:cut])
        last = cut
        if not verdict:
            break
    assert verdict is ok
