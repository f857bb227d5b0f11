"""The answer cgihttpd gives to a script's header block, and its response head.

Owns the decision taken once the header block is read (``plan_reply``: an internal
or client redirect, 304/412 from the script's validators, or the script's response),
made before anything is sent as ``static.plan_static`` makes it for a file; and what
Apache adds or changes between the script's fields and the wire: the Content-Type
mod_mime gave the file when the script names none (verified: a .py without
Content-Type goes out as text/x-python), ``AddDefaultCharset`` on text/plain and
text/html (core.c ``ap_make_content_type``), dropping a Content-Length that is not a
number (an nph- script's; the parser drops every other script's). Pure: values in, a plan or ASGI header pairs out. Must not know about
processes or the connection (``cgi.handler`` acts on the plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from cgihttpd.cgi.conditions import script_conditions
from cgihttpd.cgi.parser import Headers
from cgihttpd.config.model import DirConf
from cgihttpd.mime import TableCache, type_table


def file_content_type(filename: str, conf: DirConf, mime_types: Iterable[tuple[str, str]],
                      tables: TableCache | None = None) -> str | None:
    """ForceType, else the last extension with a type (AddType over TypesConfig).
    ``tables``: where lookup tables are kept (the runtime's)."""
    if conf.force_type:
        return conf.force_type
    # the tables are built once per configuration (``tables``, by identity): a dict of
    # the 1,500-pair TypesConfig on every request was a tenth of the server's CPU per
    # warm hello.py
    added = type_table(conf.media_types, tables)
    configured = type_table(mime_types if isinstance(mime_types, tuple) else tuple(mime_types),
                            tables)
    found: str | None = None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    for part in base.lower().split(".")[1:]:
        ext = "." + part
        t = added.get(ext)
        if t is None:
            t = configured.get(ext)
        if t:  # "": RemoveType, no type from this extension
            found = t
    return found


def with_default_charset(ctype: str, charset: str | None) -> str:
    """AddDefaultCharset (core docs): text/plain and text/html without a charset."""
    if not charset or charset.lower() == "off":
        return ctype
    if charset.lower() == "on":
        charset = "iso-8859-1"
    lower = ctype.lower()
    if (lower.startswith("text/plain") or lower.startswith("text/html")) \
            and "charset=" not in lower:
        return f"{ctype}; charset={charset}"
    return ctype


def response_headers(fields: Iterable[tuple[str, str]], status: int, *, nph: bool,
                     default_type: str | None,
                     default_charset: str | None) -> list[tuple[bytes, bytes]]:
    """The script's fields as ASGI headers, with Apache's additions."""
    out: list[tuple[bytes, bytes]] = []
    seen_type = False
    for name, value in fields:
        lname = name.lower()
        if lname == "content-length" and not value.strip().isdigit():
            continue
        if lname == "content-type":
            seen_type = True
            if not nph:
                value = with_default_charset(value, default_charset)
        out.append((name.encode("latin-1"), value.encode("latin-1")))
    # a 304 carries no representation, so no type (RFC 9110 §15.4.5)
    if not seen_type and not nph and status != 304 and default_type:
        ctype = with_default_charset(default_type, default_charset)
        out.append((b"Content-Type", ctype.encode("latin-1")))
    return out


#: LimitInternalRecursion's default (core docs): the 11th internal redirect of one
#: request fails (verified: Apache runs a self-redirecting script 11 times, then 500).
MAX_INTERNAL_REDIRECTS: Final = 10

ReplyKind = Literal["local-redirect", "redirect-limit", "client-redirect", "not-modified",
                    "precondition-failed", "stream"]


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """What to answer for a script's header block (``plan_reply``).

    - ``local-redirect``: serve ``location`` as a GET instead (Apache's internal
      redirect); ``redirect-limit``: that redirect would pass LimitInternalRecursion
      (500). Nothing of the script's output is sent.
    - ``client-redirect``: raise ``status`` 302 with ``headers`` (Location first, then
      the script's other fields).
    - ``not-modified`` (304, ``headers`` sent, no body) and ``precondition-failed``
      (412, an error page): the script's validators met the request's conditions.
    - ``stream``: send ``status``, ``reason`` and ``headers``, then the body.
    Every kind but ``stream`` drops the rest of the script's output.
    """

    kind: ReplyKind
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    #: the script's own reason phrase (a Status line's)
    reason: str | None = None
    #: local-redirect: the path (and query) to serve
    location: str = ""
    #: stream: False for HEAD (the body is read and dropped)
    send_body: bool = True


def redirect_depth(env: Mapping[str, str]) -> int:
    """How many internal redirects led here: REDIRECT_STATUS, REDIRECT_REDIRECT_STATUS..."""
    depth = 0
    while "REDIRECT_" * (depth + 1) + "STATUS" in env:
        depth += 1
    return depth


def plan_reply(event: Headers, *, nph: bool, method: str,
               header: Callable[[str], str | None], request_time: float,
               can_redirect: bool, inherited_env: Mapping[str, str]) -> ReplyPlan:
    """The answer to ``event`` as mod_cgi/mod_cgid give it (cgi_common.h
    cgi_handle_response): decided before anything is sent. ``header``: the request's
    fields; ``can_redirect``: an internal redirect can be served (else a local
    Location is answered with a 302); ``inherited_env``: the REDIRECT_* variables of
    the redirects that led here (LimitInternalRecursion)."""
    status = event.status if event.status is not None else 200
    # an nph- script's header block goes out as it is: no redirect, no conditions
    if event.location is not None and status == 200 and not nph:
        location = event.location
        if location.startswith("/") and can_redirect:
            if redirect_depth(inherited_env) >= MAX_INTERNAL_REDIRECTS:
                return ReplyPlan("redirect-limit", 500)
            return ReplyPlan("local-redirect", 200, location=location)
        # mod_cgi: "if a script wants to produce its own Redirect body, it now has
        # to explicitly *say* Status: 302". The script's other fields (Set-Cookie)
        # stay: they were merged into err_headers_out.
        others = tuple((k, v) for k, v in event.headers
                       if k.lower() not in ("content-type", "content-length", "location"))
        return ReplyPlan("client-redirect", 302, (("Location", location), *others))
    if event.status is None and not nph:
        fields = {k.lower(): v for k, v in event.headers}
        cond = script_conditions(method, header, fields.get("etag"),
                                 fields.get("last-modified"), request_time)
        if cond == 412:
            return ReplyPlan("precondition-failed", 412)
        if cond == 304:
            kept = tuple((k, v) for k, v in event.headers
                         if k.lower() not in ("content-length", "content-type"))
            return ReplyPlan("not-modified", 304, kept)
    return ReplyPlan("stream", status, event.headers, event.reason,
                     send_body=method != "HEAD")
