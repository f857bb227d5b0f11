"""The per-request cost of mod_status's counters (``status.counters``): a request's
``request_began`` + ``request_ended`` and a CGI run's ``script_began`` +
``script_ended``, in ns per call, best of 5 (run twice: on main and on a branch).

    PYTHONPATH=src python bench/status_counters.py
"""

from __future__ import annotations

import timeit

from cgihttpd.status.counters import StatusCounters

N = 200_000


def main() -> None:
    c = StatusCounters()

    def request() -> None:
        c.request_began()
        c.request_ended("www.example.com", 1234, 0.00123)

    def script() -> None:
        c.script_ended(c.script_began("/x.py", "v", 1.0))

    for name, fn in (("request_began+request_ended", request),
                     ("script_began+script_ended", script)):
        best = min(timeit.repeat(fn, number=N, repeat=5))
        print(f"{name}: {best / N * 1e9:.0f} ns")


if __name__ == "__main__":
    main()
