"""Conditional requests answered from a script's own validators.

Owns what Apache does after reading a script's header block when the script set no
Status and the method is GET/HEAD: ``ap_meets_conditions`` (server/http_protocol.c)
against the script's ETag and Last-Modified, giving 304 or 412 instead of the body
(util_script.c, PR#38070). Verified against Debian's Apache 2.4.71: ``ETag: "abc"``
and ``If-None-Match: "abc"`` give 304, ``If-Match: "zzz"`` gives 412.

Pure: header values in, a status (or None) out. The comparison rules are the static
module's (RFC 9110 §13.1).
"""

from __future__ import annotations

from collections.abc import Callable

from cgihttpd.static.plan import etag_matches_strong, etag_matches_weak, parse_http_date


def script_conditions(method: str, header: Callable[[str], str | None],
                      etag: str | None, last_modified: str | None,
                      request_time: float) -> int | None:
    """304, 412 or None (send the script's response) - RFC 9110 §13.2.2's order."""
    if method not in ("GET", "HEAD"):
        return None
    mtime = parse_http_date(last_modified) if last_modified else None
    if_match = header("if-match")
    if if_match is not None:
        if etag is None or not etag_matches_strong(if_match, etag):
            return 412
    else:
        ius = header("if-unmodified-since")
        ius_t = parse_http_date(ius) if ius else None
        # without Last-Modified Apache takes "now" as the mtime: always modified since
        if ius_t is not None and (mtime if mtime is not None else request_time) > ius_t:
            return 412
    if_none_match = header("if-none-match")
    if if_none_match is not None:
        if etag is not None and etag_matches_weak(if_none_match, etag):
            return 304
        return None
    ims = header("if-modified-since")
    ims_t = parse_http_date(ims) if ims else None
    # ap_condition_if_modified_since: not modified when ims >= mtime and ims is not
    # in the future; with no Last-Modified the mtime is "now", never before ims.
    if ims_t is not None and mtime is not None and mtime <= ims_t <= request_time:
        return 304
    return None
