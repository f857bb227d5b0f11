"""Conditional GETs answered from a script's ETag/Last-Modified, as Apache 2.4.71 does
(each case below was checked against Debian's apache2 with the same script)."""

from __future__ import annotations

import pytest

from cgihttpd.cgi.conditions import script_conditions

NOW = 1_800_000_000.0
LM = "Wed, 21 Oct 2015 07:28:00 GMT"


def cond(headers: dict[str, str], etag: str | None = '"abc"', lm: str | None = LM,
         method: str = "GET") -> int | None:
    return script_conditions(method, headers.get, etag, lm, NOW)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"if-none-match": '"abc"'}, 304),
    ({"if-none-match": 'W/"abc"'}, 304),
    ({"if-none-match": '"zzz"'}, None),
    ({"if-modified-since": LM}, 304),
    ({"if-modified-since": "Wed, 21 Oct 2015 07:27:00 GMT"}, None),
    ({"if-match": '"zzz"'}, 412),
    ({"if-match": '"abc"'}, None),
    ({"if-unmodified-since": "Wed, 21 Oct 2015 07:27:00 GMT"}, 412),
    ({"if-unmodified-since": LM}, None),
    ({}, None),
])
def test_like_apache(headers: dict[str, str], expected: int | None) -> None:
    assert cond(headers) == expected


def test_no_validators_means_modified() -> None:
    assert cond({"if-modified-since": LM}, etag=None, lm=None) is None
    assert cond({"if-none-match": '"abc"'}, etag=None, lm=None) is None


def test_future_if_modified_since_is_ignored() -> None:
    assert cond({"if-modified-since": "Wed, 21 Oct 2099 07:28:00 GMT"}) is None


def test_only_get_and_head() -> None:
    assert cond({"if-none-match": '"abc"'}, method="POST") is None
    assert cond({"if-none-match": '"abc"'}, method="HEAD") == 304
