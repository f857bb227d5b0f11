"""The server's logs: formatting (pure) and writing (the only log IO).

- ``access``: mod_log_config's formats (``LogFormat``/``CustomLog``) and the
  ``LogRecord`` every request fills; pure.
- ``error``: the ``ErrorLog`` line as Apache writes it (``ErrorLogFormat`` default),
  levels; pure.
- ``writer``: ``LogSet``, every log file and pipe of a configuration, opened once.

ScriptLog is mod_cgi's own and lives with it (``cgihttpd.cgi.scriptlog``).
"""
