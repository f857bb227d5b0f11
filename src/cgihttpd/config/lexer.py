"""Apache configuration text → logical lines and words.

This module owns Apache 2.4's *lexical* rules, and nothing else:
- physical lines end in LF or CRLF (a lone CR is kept as data, as Apache does);
- a ``\\`` immediately before the end of a line joins the next line to it, with the
  backslash removed and nothing inserted (server/util.c ``ap_cfg_getline``); a backslash
  followed by spaces is data, not a continuation;
- leading and trailing white space is dropped; a line whose first non-blank character is
  ``#`` is a comment (a ``#`` later in a line is an ordinary argument, so
  ``ServerName a # b`` has three arguments, as in Apache);
- words are split as ``ap_getword_conf`` does (see ``split_words``).

It knows nothing of directives, sections or files: ``tree`` builds on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cgihttpd.config.model import Source

#: Apache's white space for words (apr_isspace: the C locale's isspace).
_SPACE = " \t\n\r\f\v"


@dataclass(frozen=True, slots=True)
class Line:
    """One logical line (continuations joined), stripped, not a comment nor empty.

    ``source.line`` is the *last* physical line it spans: Apache reports errors of a
    continued directive at the line where it ends.
    """

    text: str
    source: Source


def physical_lines(text: str) -> list[str]:
    """Split on LF; a CR right before the LF belongs to the line ending."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def logical_lines(text: str, file: str) -> Iterator[Line]:
    """The non-blank, non-comment logical lines of ``text`` read from ``file``."""
    pending = ""
    for number, raw in enumerate(physical_lines(text), start=1):
        # ap_cfg_getline: "\\" right before the newline continues the line.
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        joined = (pending + raw).strip(_SPACE)
        pending = ""
        if not joined or joined.startswith("#"):
            continue
        yield Line(joined, Source(file, number))
    if pending:
        # A file ending in a continuation: Apache keeps what it has.
        joined = pending.strip(_SPACE)
        if joined and not joined.startswith("#"):
            yield Line(joined, Source(file, len(physical_lines(text))))


def _unescape(word: str, quote: str) -> str:
    """``substring_conf``: ``\\\\`` → ``\\`` always; ``\\<quote>`` → quote inside quotes."""
    out: list[str] = []
    i = 0
    while i < len(word):
        c = word[i]
        if c == "\\" and i + 1 < len(word) and (
            word[i + 1] == "\\" or (quote and word[i + 1] == quote)
        ):
            out.append(word[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def next_word(text: str, pos: int = 0) -> tuple[str, int]:
    """One word of ``text`` from ``pos`` as ``ap_getword_conf`` reads it; returns the word
    and the position after it and the white space that follows. "" at the end.

    A word starting with ``"`` or ``'`` runs to the matching unescaped quote (or the end
    of the line), without the quotes; otherwise it runs to the next white space, and
    quotes inside it are data.
    """
    n = len(text)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    if pos >= n:
        return "", n
    quote = text[pos]
    if quote in "\"'":
        end = pos + 1
        while end < n and text[end] != quote:
            if text[end] == "\\" and end + 1 < n and text[end + 1] in (quote, "\\"):
                end += 2
            else:
                end += 1
        word = _unescape(text[pos + 1 : end], quote)
        if end < n:
            end += 1
    else:
        end = pos
        while end < n and text[end] not in _SPACE:
            end += 1
        word = _unescape(text[pos:end], "")
    while end < n and text[end] in _SPACE:
        end += 1
    return word, end


def split_words(text: str) -> list[str]:
    """Every word of ``text`` (``ap_getword_conf`` repeatedly). A quoted empty word
    (``""``) is kept as ``""``; Apache's argument checks treat it as missing."""
    words: list[str] = []
    pos = 0
    while pos < len(text):
        word, pos = next_word(text, pos)
        words.append(word)
    return words
