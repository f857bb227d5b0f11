#!/usr/bin/env python3
"""A GET form: the browser puts the fields in the URL (QUERY_STRING)."""
import html
import os
import sys
from urllib.parse import parse_qsl

sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]

fields = parse_qsl(os.environ.get("QUERY_STRING", ""), keep_blank_values=True)

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html>")
print("<html><head><meta charset=\"utf-8\"><title>GET form</title></head><body>")
print("<h1>GET form</h1>")
print("<form method=\"get\" action=\"get.py\">")
print("<p><label>Name <input name=\"name\"></label></p>")
print("<p><label>Message <input name=\"message\"></label></p>")
print("<p><button type=\"submit\">Send</button></p>")
print("</form>")
if fields:
    print("<h2>You sent</h2>")
    print("<table border=\"1\"><tr><th>Field</th><th>Value</th></tr>")
    for name, value in fields:
        print(f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>")
    print("</table>")
print("</body></html>")
