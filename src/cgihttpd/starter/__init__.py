"""Getting a learner started: ``cgihttpd init`` (the course's site, written out) and
``cgihttpd hosts`` (the hosts-file lines for a site's names).

``hostsfile`` and ``site`` are pure (text in, text out); ``commands`` is the IO shell
the CLI calls. Must not know how requests are served.
"""
