"""cgihttpd_script: what ``cgi.FieldStorage`` and ``cgitb`` were, for CGI scripts on
any Python 3.8+ (both modules are gone since 3.13).

    from cgihttpd_script import Request, Response, redirect

    req = Request()
    name = req.form.get("name", "stranger")
    Response().send(f"<h1>Hello, {escape(name)}</h1>")

Modules: ``form`` (query strings, urlencoded and multipart forms under ``Limits``),
``request`` (``Request``: method, query, form, files, JSON, cookies), ``response``
(``Response`` and ``redirect``: headers checked for CR/LF), ``cgi_compat``
(``FieldStorage`` for old scripts), ``debug`` (``enable``: tracebacks in the browser).
"""

from __future__ import annotations

from html import escape

from cgihttpd_script.debug import enable
from cgihttpd_script.form import FormData, FormError, Limits, Upload
from cgihttpd_script.request import Request
from cgihttpd_script.response import HeaderError, Response, redirect

__version__ = "0.1.0"

__all__ = ["FormData", "FormError", "HeaderError", "Limits", "Request", "Response",
           "Upload", "enable", "escape", "redirect"]
