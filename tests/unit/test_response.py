"""response: Apache 2.4.71's error pages (texts copied from curl against apache2,
with our Server banner in the signature) and ErrorDocument kinds."""

from __future__ import annotations

import pytest

from cgihttpd.banner import server_software
from cgihttpd.response import (
    PageContext,
    classify_error_document,
    error_body,
    error_response,
    text_response,
)

CTX = PageContext(method="DELETE", server_name="127.0.0.1", port=18481,
                  server_admin="admin@example.com", server_signature="on",
                  server_tokens="Full")
SIG = f"<address>{server_software('Full')} Server at 127.0.0.1 Port 18481</address>\n"
HEAD = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n'


def test_404_page() -> None:
    assert error_body(404, CTX).decode() == (
        HEAD + "<html><head>\n<title>404 Not Found</title>\n</head><body>\n"
        "<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n"
        "<hr>\n" + SIG + "</body></html>\n")


@pytest.mark.parametrize(("status", "text"), [
    (400, "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"),
    (403, "<p>You don't have permission to access this resource.</p>\n"),
    (405, "<p>The requested method DELETE is not allowed for this URL.</p>\n"),
    (416, "<p>None of the range-specifier values in the Range\nrequest-header field overlap "
          "the current extent\nof the selected resource.</p>\n"),
    (500, "<p>The server encountered an internal error or\nmisconfiguration and was unable "
          "to complete\nyour request.</p>\n<p>Please contact the server administrator at \n "
          "admin@example.com to inform them of the time this error occurred,\n and the "
          "actions you performed just before this error.</p>\n<p>More information about "
          "this error may be available\nin the server error log.</p>\n"),
])
def test_canned_texts(status: int, text: str) -> None:
    assert text in error_body(status, CTX).decode()


def test_redirect_page_and_headers() -> None:
    r = error_response(301, CTX, location="http://h/sub/?x=1")
    headers = dict(r.headers)
    assert headers["Location"] == "http://h/sub/?x=1"
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert int(headers["Content-Length"]) == len(r.body)
    assert b'<p>The document has moved <a href="http://h/sub/?x=1">here</a>.</p>\n' in r.body


def test_signature_off_and_email() -> None:
    off = PageContext("GET", "h", 80, "a@b", "off", "Full")
    assert b"<address>" not in error_body(404, off) and b"<hr>" not in error_body(404, off)
    mail = PageContext("GET", "h", 80, "a@b", "email", "Full")
    assert b'Server at <a href="mailto:a@b">h</a> Port 80</address>' in error_body(404, mail)


def test_recursive_error_note() -> None:
    assert ("<p>Additionally, a 404 Not Found\nerror was encountered while trying to use an "
            "ErrorDocument to handle the request.</p>\n<hr>\n") in error_body(
        404, CTX, recursive_error=404).decode()


@pytest.mark.parametrize(("value", "kind", "rest"), [
    (None, "none", ""), ("default", "none", ""), ('"Custom text', "text", "Custom text"),
    ('"quoted"', "text", "quoted"), ("http://example.com/x", "external", "http://example.com/x"),
    ("/err.html", "local", "/err.html"),
])
def test_error_document_kinds(value: str | None, kind: str, rest: str) -> None:
    assert classify_error_document(value) == (kind, rest)


def test_text_error_document_has_no_trailing_newline() -> None:
    r = text_response(403, "Custom forbidden text")
    assert r.body == b"Custom forbidden text"
    assert dict(r.headers)["Content-Type"] == "text/html; charset=iso-8859-1"
