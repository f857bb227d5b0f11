"""``ErrorLogFormat``'s language, parsed (server/log.c ``parse_errorlog_item``,
``parse_errorlog_misc_string``): the format → ``Item``s, or Apache's message. What the
items mean when a message is written is ``logs.errorformat``'s. Pure."""

from __future__ import annotations

from dataclasses import dataclass

#: the items cgihttpd knows (log.c's errorlog_hash), "M" being the message
ITEMS = frozenset("aAeEFiklLmnPtTvV")


class ErrorFormatError(ValueError):
    """A format Apache refuses (its message)."""


@dataclass(frozen=True, slots=True)
class Item:
    """Literal ``text`` (``tag`` ""), the message (``tag`` "M"), or an item."""

    tag: str
    text: str = ""
    arg: str = ""
    separator: bool = False
    required: bool = False
    hyphen: bool = False
    #: log only for messages of this level number (emerg 0 .. trace8 15) or higher
    min_level: int = 0


def parse_error_log_format(text: str) -> tuple[Item, ...]:
    """The items of ``text``, or ErrorFormatError with Apache's message."""
    items: list[Item] = []
    pos, n = 0, len(text)
    while pos < n:
        separator = False
        if text[pos] != "%":
            separator = text[pos] == " "
            literal, pos = _literal(text, pos)
            items.append(Item("", literal, separator=separator))
            continue
        pos += 1
        if pos < n and text[pos] == " ":
            # "% ": a field separator, then whatever item follows
            pos += 1
            if pos >= n:
                items.append(Item("", "", separator=True))
                break
            if text[pos] != "%":
                literal, pos = _literal(text, pos)
                items.append(Item("", literal, separator=True))
                continue
            pos += 1
            separator = True
        if pos < n and text[pos] == "%":
            items.append(Item("", "%", separator=separator))
            pos += 1
            continue
        arg, required, hyphen, level = "", False, False, 0
        while True:
            if pos >= n:
                raise ErrorFormatError("Ran off end of error log format parsing args to "
                                       "some directive")
            c = text[pos]
            if c == "{":
                end = text.find("}", pos + 1)
                end = n if end < 0 else end
                arg, pos = text[pos + 1:end], end + 1
            elif c == "+":
                required, pos = True, pos + 1
            elif c == "-":
                hyphen, pos = True, pos + 1
            elif c.isdigit():
                start = pos
                while pos < n and text[pos].isdigit():
                    pos += 1
                level = int(text[start:pos])
            elif c == "M" or c in ITEMS:
                items.append(Item(c, "", arg, separator, required, hyphen, level))
                pos += 1
                break
            else:
                raise ErrorFormatError(f"Unrecognized error log format directive %{c}")
    return tuple(items)


def _literal(text: str, pos: int) -> tuple[str, int]:
    """parse_errorlog_misc_string: up to a % or a space that is not leading; backslash
    escapes \\r \\n \\t and any character as itself."""
    out: list[str] = []
    at_start = True
    n = len(text)
    while pos < n and text[pos] != "%" and (text[pos] != " " or at_start):
        c = text[pos]
        if c != "\\":
            if c != " ":
                at_start = False
            out.append(c)
            pos += 1
            continue
        pos += 1
        if pos >= n:
            out.append("\\")
            break
        out.append({"r": "\r", "n": "\n", "t": "\t"}.get(text[pos], text[pos]))
        pos += 1
    return "".join(out), pos
