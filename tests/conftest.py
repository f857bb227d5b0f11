"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# tests/support.py is imported as ``support`` by e2e and differential tests.
sys.path.insert(0, str(Path(__file__).parent))

# The server's default is --workers auto (one per core). The suite's servers run as
# one process unless a test asks for workers: their tests count a process's scripts,
# zygotes, reloads and log lines (tests/e2e/test_workers_default.py checks auto).
os.environ.setdefault("CGIHTTPD_WORKERS", "1")
