#!/usr/bin/env python3
"""A file upload: the form is sent as multipart/form-data (RFC 7578). The body is parsed
with the standard library's email parser (the old ``cgi`` module is gone since Python
3.13). Shows each file's name, size and SHA-256."""
from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html
import os
import sys

sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]

MAX_BODY = 10 * 1024 * 1024  # refuse bodies over 10 MiB


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str | None, str | None, bytes]]:
    """(name, filename or None, bytes) for every part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head.encode("latin-1") + body)
    parts: list[tuple[str | None, str | None, bytes]] = []
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True)
        parts.append((
            name if isinstance(name, str) else None,
            filename,
            data if isinstance(data, bytes) else b"",
        ))
    return parts


error: str | None = None
results: list[tuple[str | None, str | None, bytes]] = []
if os.environ.get("REQUEST_METHOD") == "POST":
    length = int(os.environ.get("CONTENT_LENGTH") or 0)
    content_type = os.environ.get("CONTENT_TYPE", "")
    if length > MAX_BODY:
        error = f"The upload is larger than {MAX_BODY} bytes."
    elif not content_type.lower().startswith("multipart/form-data"):
        error = f"Expected multipart/form-data, got {content_type!r}."
    else:
        body = sys.stdin.buffer.read(length)
        results = parse_multipart(content_type, body)

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html>")
print("<html><head><meta charset=\"utf-8\"><title>Upload</title></head><body>")
print("<h1>File upload</h1>")
print("<form method=\"post\" action=\"upload.py\" enctype=\"multipart/form-data\">")
print("<p><input type=\"file\" name=\"file\"></p>")
print("<p><label>Comment <input name=\"comment\"></label></p>")
print("<p><button type=\"submit\">Upload</button></p>")
print("</form>")
if error:
    print(f"<p><strong>{html.escape(error)}</strong></p>")
if results:
    print("<h2>Received</h2>")
    print("<table border=\"1\"><tr><th>Field</th><th>File name</th><th>Size</th>"
          "<th>SHA-256 or value</th></tr>")
    for name, filename, data in results:
        if filename is None:
            shown = html.escape(data.decode("utf-8", "replace"))
        else:
            shown = hashlib.sha256(data).hexdigest()
        print("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(name or ""), html.escape(filename or ""), len(data), shown))
    print("</table>")
print("</body></html>")
