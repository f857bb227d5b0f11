"""mod_status: what the server counts (``counters``), the reports Apache's tools read
(``report``: ``?auto``, the HTML page, the JSON the live charts poll, ``charts``: the
page's script) and the handler that answers ``SetHandler server-status`` (``handler``).
"""
