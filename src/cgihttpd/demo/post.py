#!/usr/bin/env python3
"""A POST form: the fields arrive in the request body, urlencoded, on stdin;
CONTENT_LENGTH says how many bytes to read (RFC 3875 section 4.2)."""
import html
import os
import sys
from urllib.parse import parse_qsl

sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]

fields = []
if os.environ.get("REQUEST_METHOD") == "POST":
    length = int(os.environ.get("CONTENT_LENGTH") or 0)
    body = sys.stdin.buffer.read(length) if length > 0 else b""
    content_type = os.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html>")
print("<html><head><meta charset=\"utf-8\"><title>POST form</title></head><body>")
print("<h1>POST form</h1>")
print("<form method=\"post\" action=\"post.py\">")
print("<p><label>Name <input name=\"name\"></label></p>")
print("<p><label>Message <textarea name=\"message\"></textarea></label></p>")
print("<p><button type=\"submit\">Send</button></p>")
print("</form>")
if fields:
    print("<h2>You sent</h2>")
    print("<table border=\"1\"><tr><th>Field</th><th>Value</th></tr>")
    for name, value in fields:
        print(f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>")
    print("</table>")
print("</body></html>")
