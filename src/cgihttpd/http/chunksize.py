"""The chunk sizes of a chunked request body, checked before llhttp parses them. Pure:
bytes in, a verdict out.

llhttp (httptools) takes any chunk size that fits in 64 unsigned bits and reports only
one past that ("Chunk size overflow"). Apache reads a size into an ``apr_off_t`` (signed
64 bits, leading zeros skipped) and answers 413 as soon as it cannot hold it
(http_filters.c ``parse_chunk_size``, APR_ENOSPC): ``8000000000000000`` is a 413 there,
where llhttp would wait for that much data. ``ChunkSizes`` follows the body's framing
only as far as needed to read each size; anything malformed is llhttp's to refuse (a
size line it cannot read ends the watch).

Must not know about sockets, asyncio or ASGI.
"""

from __future__ import annotations

#: APR_OFF_T_MAX on a 64-bit apr_off_t
MAX_CHUNK_SIZE = (1 << 63) - 1

_HEX = {c: int(chr(c), 16) for c in b"0123456789abcdefABCDEF"}

# where the watch is in the body
_SIZE, _LINE, _DATA, _DATA_END, _DONE = range(5)


class ChunkSizes:
    """Feed a chunked body's bytes in order; ``feed`` is False once a size past
    ``MAX_CHUNK_SIZE`` has been read (the body is then a 413)."""

    __slots__ = ("_state", "_size", "_left")

    def __init__(self) -> None:
        self._state = _SIZE
        self._size = 0
        self._left = 0

    def feed(self, data: bytes) -> bool:
        pos, end = 0, len(data)
        while pos < end:
            state = self._state
            if state is _DATA:
                take = min(self._left, end - pos)
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _DATA_END
            elif state is _SIZE:
                digit = _HEX.get(data[pos])
                if digit is None:
                    self._state = _LINE  # extensions, CRLF, or llhttp's error
                    continue
                self._size = self._size * 16 + digit
                if self._size > MAX_CHUNK_SIZE:
                    return False
                pos += 1
            else:
                if state is _DONE:
                    return True  # the trailers and what follows are not a body's
                nl = data.find(b"\n", pos)
                if nl == -1:
                    return True
                pos = nl + 1
                if state is _DATA_END:
                    self._state = _SIZE
                elif self._size:
                    self._state, self._left, self._size = _DATA, self._size, 0
                else:
                    self._state = _DONE  # the last chunk
        return True
