"""The error pages the HTTP layer writes itself, before any application sees the request
(400, 405 for CONNECT, 408, 413 for a chunk size past any limit, 414, 417; 500 when the
application fails before answering). Pure: values in, bytes out.

Pages are byte-for-byte Apache 2.4.71's (``ap_send_error_response`` and
``get_canned_error_string`` in modules/http/http_protocol.c), checked with raw sockets.
Error pages for requests the application handles are the application's (response.py).
"""

from __future__ import annotations

from html import escape

from cgihttpd.http.status import reason_phrase

#: the sentence Apache puts under the heading, per status
_MESSAGES: dict[int, str] = {
    400: "<p>Your browser sent a request that this server could not understand.<br />\n",
    408: "<p>Server timeout waiting for the HTTP request from the client.</p>\n",
    405: "<p>The requested method {method} is not allowed for this URL.</p>\n",
    413: ("The requested resource does not allow request data with {method} requests, or "
          "the amount of data provided in\nthe request exceeds the capacity limit.\n"),
    414: "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n",
    500: ("<p>The server encountered an internal error or\nmisconfiguration and was unable "
          "to complete\nyour request.</p>\n<p>Please contact the server administrator at \n "
          "{admin} to inform them of the time this error occurred,\n and the actions you "
          "performed just before this error.</p>\n<p>More information about this error may "
          "be available\nin the server error log.</p>\n"),
    503: ("<p>The server is temporarily unable to service your\nrequest due to maintenance "
          "downtime or capacity\nproblems. Please try again later.</p>\n"),
}

#: Apache's error-notes for the limits; the 400 page ends them with "</p>"
NOTE_FIELD_SIZE = "Size of a request header field exceeds server limit."
NOTE_FIELDS = "The number of request header fields exceeds this server's limit."
#: mod_ssl's error-notes for plain HTTP on a TLS port (ssl_engine_kernel.c)
NOTE_PLAIN_ON_TLS = ("Reason: You're speaking plain HTTP to an SSL-enabled server port."
                     "<br />\n Instead use the HTTPS scheme to access this URL, please.<br />\n")


def error_page(status: int, note: str | None = None, *, admin: str = "",
               signature_html: str = "", method: str = "GET") -> bytes:
    """The HTML body Apache sends for ``status`` (``note`` as Apache's error-notes; for
    417 the Expect value the client sent)."""
    title = f"{status} {reason_phrase(status)}"
    message = _MESSAGES.get(status, "")
    message = message.replace("{admin}", escape(admin) if admin else "[no address given]")
    message = message.replace("{method}", escape(method))
    if status == 417:
        # ap_send_error_response: HTTP_EXPECTATION_FAILED quotes the field back
        message = ("<p>The expectation given in the Expect request-header\nfield could not "
                   "be met by this server.\nThe client sent<pre>\n    Expect: "
                   f"{escape(note or '')}\n</pre>\n</p><p>Only the 100-continue expectation "
                   "is supported.</p>\n")
    if status in (400, 414):
        # the paragraph stays open for error-notes, then closes
        message += f"{note}</p>\n" if note else "</p>\n"
    html = (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
        '"http://www.w3.org/TR/html4/strict.dtd">\n'
        f"<html><head>\n<title>{title}</title>\n</head><body>\n"
        f"<h1>{reason_phrase(status)}</h1>\n{message}{signature_html}</body></html>\n"
    )
    return html.encode("latin-1", "replace")
