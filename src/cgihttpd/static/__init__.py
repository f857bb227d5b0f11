"""Serving files: Apache's default handler, directory listings and the decisions behind
them.

- ``plan``: what a request for a file gets (200/206/304/412/416 and headers); pure.
- ``autoindex``: mod_autoindex's listing pages; pure.
- ``handlers``: the handlers the app dispatches to (default handler, directory, TRACE),
  acting on those plans;
- ``files``: every request-time read of the filesystem (open, fstat, listdir, sendfile
  chunks) and its cache.

The Content-Type of a file is ``cgihttpd.mime``'s (CGI uses it too). Must not know how
CGI runs nor how HTTP is framed.
"""
