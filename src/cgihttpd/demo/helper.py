#!/usr/bin/env python3
"""The same form with the script helper (cgihttpd_script, in cgihttpd's helper/ folder):
what cgi.FieldStorage was, for Python 3.13+. It reads the query string and the form,
escapes what it prints and refuses headers with line breaks."""
import os
import sys

try:
    from cgihttpd_script import Request, Response, escape
except ImportError:
    # not installed into the Python that runs this page: in a source checkout (make
    # run), use the copy beside the server's own source
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "..", "..", "..", "helper", "src"))
try:
    from cgihttpd_script import Request, Response, escape
except ImportError:  # not installed into this Python: say how
    print("Content-Type: text/html; charset=utf-8")
    print()
    print("<h1>The script helper is not installed</h1><p>Install it into the Python "
          "that runs the scripts: <code>pip install ./helper</code> from cgihttpd's "
          "source folder.</p>")
    raise SystemExit(0) from None

req = Request()
name = req.form.get("name", "")
colors = req.form.getlist("color")
page = Response()  # Content-Type: text/html; charset=utf-8
page.send(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>The script helper</title></head><body>
<h1>Hello, {escape(name) or "stranger"}!</h1>
<p>Colors: {escape(", ".join(colors)) or "none"}</p>
<form method="post">
<p><input name="name" value="{escape(name)}" placeholder="Your name"></p>
<p><label><input type="checkbox" name="color" value="red"> red</label>
<label><input type="checkbox" name="color" value="blue"> blue</label></p>
<p><button>Send</button></p>
</form>
<p><a href="index.html">Back</a></p>
</body></html>
""")
