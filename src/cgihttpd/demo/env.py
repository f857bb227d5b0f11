#!/usr/bin/env python3
"""Show the environment the server gave this script (RFC 3875 section 4.1), as an
HTML table, or as JSON with ?format=json."""
import html
import json
import os
import sys
from urllib.parse import parse_qs

sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]  # UTF-8 whatever the locale

query = parse_qs(os.environ.get("QUERY_STRING", ""))
env = dict(sorted(os.environ.items()))

if query.get("format") == ["json"]:
    print("Content-Type: application/json")
    print()
    print(json.dumps(env, indent=2))
else:
    print("Content-Type: text/html; charset=utf-8")
    print()
    print("<!DOCTYPE html>")
    print("<html><head><meta charset=\"utf-8\"><title>Environment</title></head><body>")
    print("<h1>Environment</h1>")
    print("<p><a href=\"?format=json\">as JSON</a></p>")
    print("<table border=\"1\">")
    print("<tr><th>Variable</th><th>Value</th></tr>")
    for name, value in env.items():
        print(f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>")
    print("</table></body></html>")
