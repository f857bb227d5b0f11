"""What the real-programs tests share with their fixtures (``conftest``): ``Served``, one
running server of the pair."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    impl: str  # "cgihttpd" | "apache"
    port: int
    root: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def error_log(self) -> str:
        p = self.root / f"{self.impl}-error.log"
        return p.read_text(errors="replace") if p.exists() else ""
