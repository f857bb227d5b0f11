"""mod_autoindex's ``IndexOptions``: reading the words and merging them down the tree.

This module owns the value ``DirConf.index_options`` carries: a tuple of words in a
canonical form that keeps what Apache's merge needs (mod_autoindex.c ``add_opts`` and
``merge_autoindex_configs``):

- plain words (``FancyIndexing``): the options set outright in that directory; if any,
  they *replace* everything inherited;
- ``+Word`` / ``-Word``: increments, applied on top of what is inherited and passed on
  further down (only when the directory sets no plain word);
- ``Key=value`` (``Charset=UTF-8``, ``NameWidth=*``) and ``-NameWidth``-like words:
  settings, each inherited unless the directory sets the same key.

On a merged ``DirConf`` the plain words are the effective options (increments already
applied). It knows nothing of listings (``cgihttpd.static.autoindex``) nor of config syntax
beyond the words of one directive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: The on/off keywords of IndexOptions (Apache 2.4 mod_autoindex docs), canonical case.
FLAGS: dict[str, str] = {w.lower(): w for w in (
    "AddAltClass", "FancyIndexing", "FoldersFirst", "HTMLTable", "IconsAreLinks",
    "IgnoreCase", "IgnoreClient", "ScanHTMLTitles", "ShowForbidden",
    "SuppressColumnSorting", "SuppressDescription", "SuppressHTMLPreamble", "SuppressIcon",
    "SuppressLastModified", "SuppressRules", "SuppressSize", "TrackModified",
    "UseOldDateFormat", "VersionSort", "XHTML", "None")}
#: Keywords that carry a value (or stand alone as IconWidth/IconHeight, -NameWidth...).
SETTINGS: dict[str, str] = {w.lower(): w for w in (
    "Charset", "Type", "NameWidth", "DescriptionWidth", "IconWidth", "IconHeight")}


@dataclass
class IndexState:
    """One directory's IndexOptions as mod_autoindex keeps them: ``opts`` None means
    no plain word was given (OPTION_UNSET)."""

    opts: set[str] | None = None
    inc: set[str] = field(default_factory=set)
    dec: set[str] = field(default_factory=set)
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, words: tuple[str, ...] | None) -> IndexState:
        state = cls()
        for word in words or ():
            key = word.lstrip("+-").partition("=")[0].lower()
            if key in SETTINGS:
                state.values[key] = word
            elif word.startswith("+"):
                state.inc.add(word[1:])
            elif word.startswith("-"):
                state.dec.add(word[1:])
            else:
                state.opts = (state.opts or set()) | {word}
        return state

    def words(self) -> tuple[str, ...]:
        return (tuple(sorted(self.opts or ())) + tuple("+" + w for w in sorted(self.inc))
                + tuple("-" + w for w in sorted(self.dec)) + tuple(self.values.values()))


def _width(word: str, bare: str, key: str, minimum: int, action: str) -> None:
    """add_opts' checks of NameWidth / DescriptionWidth (messages from apache2 -t)."""
    if "=" not in word:
        if action != "-":
            raise ValueError(f"{key} with no value may only appear as '-{key}'")
        return
    if action == "-":
        raise ValueError(f"Cannot combine '-' with {key}=n")
    value = bare.partition("=")[2]
    if value != "*":
        digits = re.match(r"\d*", value)
        width = int(digits.group(0) or 0) if digits else 0  # atoi
        if key == "NameWidth" and width < 5:
            raise ValueError("NameWidth value must be greater than 5")
        if key == "DescriptionWidth" and width and width < 12:
            raise ValueError("DescriptionWidth value must be greater than 12")


def add_index_options(current: tuple[str, ...] | None, args: tuple[str, ...] | list[str]
                      ) -> tuple[str, ...]:
    """One IndexOptions directive applied to a directory's words so far (``add_opts``):
    a plain word adds to the directory's options and drops the increments read so far;
    ``+``/``-`` words are increments. Raises ValueError with Apache's message."""
    state = IndexState.of(current)
    for word in args:
        action = word[0] if word[:1] in ("+", "-") else ""
        bare = word[1:] if action else word
        name = bare.partition("=")[0]
        key = name.lower()
        if key in SETTINGS:
            if key in ("namewidth", "descriptionwidth"):
                _width(word, bare, SETTINGS[key], 5 if key == "namewidth" else 12, action)
            state.values[key] = ("-" if action == "-" else "") + SETTINGS[key] + (
                "=" + bare.partition("=")[2] if "=" in bare else "")
            continue
        if key not in FLAGS:
            raise ValueError("Invalid directory indexing option")
        flag = FLAGS[key]
        if flag == "None":
            if action:
                raise ValueError("Cannot combine '+' or '-' with 'None' keyword")
            state.opts, state.inc, state.dec = {"None"}, set(), set()
        elif action == "":
            state.opts = (state.opts or set()) | {flag}
            state.inc, state.dec = set(), set()
        elif action == "+":
            state.inc.add(flag)
            state.dec.discard(flag)
        else:
            state.dec.add(flag)
            state.inc.discard(flag)
    if state.opts and "None" in state.opts and len(state.opts) > 1:
        raise ValueError("Cannot combine other IndexOptions keywords with 'None'")
    return state.words()


def merge_index_options(base: tuple[str, ...] | None, over: tuple[str, ...] | None
                        ) -> tuple[str, ...] | None:
    """``merge_autoindex_configs`` for the options: None means "no IndexOptions here"."""
    if over is None:
        return base
    if base is None:
        # ap_merge_per_dir_configs merges only when both sides have mod_autoindex's
        # config; otherwise the section's own is used as it is, its increments not
        # applied there but passed on (apache2: "IndexOptions FancyIndexing
        # +SuppressSize" alone shows the Size column; a subdirectory's "IndexOptions
        # +SuppressLastModified" then hides both)
        return over
    b, a = IndexState.of(base), IndexState.of(over)
    new = IndexState(values={**b.values, **a.values})
    if a.opts is not None and "None" in a.opts:
        new.opts = {"None"}
        return new.words()
    if a.opts is None:
        # only increments here: inherit, and pass the increments on further down
        new.inc = (b.inc | a.inc) - a.dec
        new.dec = b.dec | a.dec
        opts = (b.opts or set()) - {"None"}
    else:
        # plain words here dominate: nothing of the parent's options is inherited
        opts = set(a.opts)
    opts = (opts | new.inc) - new.dec
    new.opts = opts if (opts or a.opts is not None or b.opts is not None) else None
    return new.words()


def effective_index_options(words: tuple[str, ...] | None) -> tuple[str, ...]:
    """The options in force for a listing: the plain words and the settings (the
    increments have been applied to the plain words by the merge, or are not in force
    at all)."""
    state = IndexState.of(words)
    return tuple(sorted(state.opts or ())) + tuple(state.values.values())
