"""Responses the server writes itself: the ``Response`` value, Apache's error pages,
redirects, and ``ErrorDocument`` decisions; plus the one function that turns a
``Response`` into ASGI messages.

Pages are Apache 2.4.71's (modules/http/http_protocol.c ap_send_error_response and
get_canned_error_string; server/core.c ap_psignature), checked byte for byte with curl
against a scratch apache2 for 301, 302, 400, 403, 404, 405, 412, 416, 500, the recursive
ErrorDocument note, and ServerSignature On/Off/EMail. Must not know about the filesystem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Literal

from cgihttpd.asgi import Send
from cgihttpd.banner import server_software, signature
from cgihttpd.http.status import reason_phrase

DOCTYPE = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
           '"http://www.w3.org/TR/html4/strict.dtd">\n')
#: Apache's error pages say this charset (ap_send_error_response)
ERROR_CONTENT_TYPE = "text/html; charset=iso-8859-1"


@dataclass(frozen=True, slots=True)
class Response:
    """A whole response held in memory (error pages, redirects, listings)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class PageContext:
    """What an error page needs from the request and its virtual host."""

    method: str
    server_name: str  # ap_get_server_name: the Host name, else the vhost's ServerName
    port: int  # ap_get_server_port: the Host port, else the local port
    server_admin: str
    server_signature: str  # "on" | "off" | "email"
    server_tokens: str


def _canned(status: int, ctx: PageContext, location: str) -> str:
    """get_canned_error_string, for the statuses a request can end with."""
    method = escape(ctx.method)
    if status in (301, 302, 307, 308):
        return f'<p>The document has moved <a href="{escape(location)}">here</a>.</p>\n'
    if status == 303:
        return ('<p>The answer to your request is located '
                f'<a href="{escape(location)}">here</a>.</p>\n')
    if status == 400:
        return "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"
    if status == 401:
        return ("<p>This server could not verify that you\nare authorized to access the "
                "document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad "
                "password), or your\nbrowser doesn't understand how to supply\nthe "
                "credentials required.</p>\n")
    if status == 403:
        return "<p>You don't have permission to access this resource.</p>\n"
    if status == 404:
        return "<p>The requested URL was not found on this server.</p>\n"
    if status == 405:
        return f"<p>The requested method {method} is not allowed for this URL.</p>\n"
    if status == 408:
        return "<p>Server timeout waiting for the HTTP request from the client.</p>\n"
    if status == 410:
        return ("<p>The requested resource is no longer available on this server and there "
                "is no forwarding address.\nPlease remove all references to this "
                "resource.</p>\n")
    if status == 411:
        return (f"<p>A request of the requested method {method} requires a valid "
                "Content-length.<br />\n</p>\n")
    if status == 412:
        return "<p>The precondition on the request for this URL evaluated to false.</p>\n"
    if status == 421:
        return ("<p>The client needs a new connection for this\nrequest as the requested "
                "host name does not match\nthe Server Name Indication (SNI) in use for "
                "this\nconnection.</p>\n")
    if status == 413:
        return (f"The requested resource does not allow request data with {method} "
                "requests, or the amount of data provided in\nthe request exceeds the "
                "capacity limit.\n")
    if status == 414:
        return ("<p>The requested URL's length exceeds the capacity\nlimit for this "
                "server.<br />\n</p>\n")
    if status == 415:
        return ("<p>The supplied request data is not in a format\nacceptable for processing "
                "by this resource.</p>\n")
    if status == 416:
        return ("<p>None of the range-specifier values in the Range\nrequest-header field "
                "overlap the current extent\nof the selected resource.</p>\n")
    if status == 501:
        return f"<p>{method} not supported for current URL.<br />\n</p>\n"
    if status == 502:
        return ("<p>The proxy server received an invalid\r\nresponse from an upstream "
                "server.<br />\r\n</p>\n")
    if status == 503:
        return ("<p>The server is temporarily unable to service your\nrequest due to "
                "maintenance downtime or capacity\nproblems. Please try again later.</p>\n")
    if status == 504:
        return ("<p>The gateway did not receive a timely response\nfrom the upstream server "
                "or application.</p>\n")
    admin = escape(ctx.server_admin) if ctx.server_admin else "[no address given]"
    return ("<p>The server encountered an internal error or\nmisconfiguration and was "
            "unable to complete\nyour request.</p>\n<p>Please contact the server "
            f"administrator at \n {admin} to inform them of the time this error "
            "occurred,\n and the actions you performed just before this error.</p>\n"
            "<p>More information about this error may be available\nin the server error "
            "log.</p>\n")


def error_body(status: int, ctx: PageContext, *, location: str = "",
               recursive_error: int = 0) -> bytes:
    title = f"{status} {reason_phrase(status)}"
    parts = [DOCTYPE, f"<html><head>\n<title>{title}</title>\n</head><body>\n",
             f"<h1>{reason_phrase(status)}</h1>\n", _canned(status, ctx, location)]
    if recursive_error:
        parts.append(f"<p>Additionally, a {recursive_error} {reason_phrase(recursive_error)}"
                     "\nerror was encountered while trying to use an ErrorDocument to "
                     "handle the request.</p>\n")
    parts.append(signature(ctx.server_signature, server_software(ctx.server_tokens),
                           ctx.server_name, ctx.port, ctx.server_admin, prefix="<hr>\n"))
    parts.append("</body></html>\n")
    return "".join(parts).encode("latin-1", "replace")


def error_response(status: int, ctx: PageContext, *, location: str = "",
                   recursive_error: int = 0,
                   extra_headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """The page Apache sends for ``status`` when no ErrorDocument takes over."""
    headers: list[tuple[str, str]] = []
    if location and 300 <= status < 400:
        headers.append(("Location", location))
    headers.extend(extra_headers)
    body = error_body(status, ctx, location=location, recursive_error=recursive_error)
    headers.append(("Content-Length", str(len(body))))
    headers.append(("Content-Type", ERROR_CONTENT_TYPE))
    return Response(status, tuple(headers), body)


def text_response(status: int, text: str,
                  extra_headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """ErrorDocument with a quoted message: the text, as is, as HTML (checked: Apache
    sends it without a trailing newline, in ``text/html; charset=iso-8859-1``)."""
    body = text.encode("latin-1", "replace")
    return Response(status, extra_headers + (("Content-Length", str(len(body))),
                                             ("Content-Type", ERROR_CONTENT_TYPE)), body)


#: ap_is_url: a scheme, then ":"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

ErrorDocumentKind = Literal["none", "text", "external", "local"]


def classify_error_document(value: str | None) -> tuple[ErrorDocumentKind, str]:
    """core.c set_error_document / http_request.c ap_die: a value starting with a quote
    is a message; one with a scheme ("http://...") is an external redirect (302); one
    starting with "/" is a local URL served by internal redirect; "default" is none."""
    if value is None or value.lower() == "default":
        return "none", ""
    if value.startswith('"'):
        text = value[1:]
        return "text", text[:-1] if text.endswith('"') and len(text) > 0 else text
    if _URL.match(value):
        return "external", value
    if value.startswith("/"):
        return "local", value
    return "text", value


def absolute_url(scheme: str, host: str, port: int, path: str) -> str:
    """ap_construct_url with UseCanonicalName Off: the client's Host name and port."""
    default = 443 if scheme == "https" else 80
    hostport = host if port == default else f"{host}:{port}"
    return f"{scheme}://{hostport}{path}"


def _encode_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]


async def send_response(send: Send, response: Response, *, head: bool = False) -> None:
    """Send a whole in-memory response (no body for HEAD, 204, 304)."""
    headers = response.headers
    if head and response.status >= 300:
        # ap_send_error_response stops before the body for HEAD: no Content-Length
        headers = tuple(h for h in headers if h[0].lower() != "content-length")
    await send({"type": "http.response.start", "status": response.status,
                "headers": _encode_headers(headers)})
    body = b"" if head or response.status in (204, 304) else response.body
    await send({"type": "http.response.body", "body": body, "more_body": False})
