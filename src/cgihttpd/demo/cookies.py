#!/usr/bin/env python3
"""Cookies: the browser sends them back in the Cookie header (HTTP_COOKIE); the script
sets them with Set-Cookie headers. This page counts your visits and can store a name."""
import html
import os
import sys
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]

received = SimpleCookie()
try:
    received.load(os.environ.get("HTTP_COOKIE", ""))
except CookieError:
    pass

visits = 0
if "visits" in received and received["visits"].value.isdigit():
    visits = int(received["visits"].value)
visits += 1

outgoing = SimpleCookie()
outgoing["visits"] = str(visits)
outgoing["visits"]["path"] = "/"
outgoing["visits"]["httponly"] = True
outgoing["visits"]["samesite"] = "Lax"

query = parse_qs(os.environ.get("QUERY_STRING", ""))
name = query.get("name", [None])[0]
if name is not None:
    outgoing["name"] = name
    outgoing["name"]["path"] = "/"
    outgoing["name"]["samesite"] = "Lax"

print("Content-Type: text/html; charset=utf-8")
for morsel in outgoing.values():
    print(morsel.output(header="Set-Cookie:"))
print()
print("<!DOCTYPE html>")
print("<html><head><meta charset=\"utf-8\"><title>Cookies</title></head><body>")
print("<h1>Cookies</h1>")
print(f"<p>Visits (counted in a cookie): {visits}</p>")
print("<h2>Cookies your browser sent</h2>")
if received:
    print("<table border=\"1\"><tr><th>Name</th><th>Value</th></tr>")
    for key, morsel in sorted(received.items()):
        print(f"<tr><td>{html.escape(key)}</td><td>{html.escape(morsel.value)}</td></tr>")
    print("</table>")
else:
    print("<p>None yet: reload the page.</p>")
print("<form method=\"get\" action=\"cookies.py\">")
print("<p><label>Remember a name <input name=\"name\"></label>")
print("<button type=\"submit\">Set cookie</button></p>")
print("</form>")
print("</body></html>")
