"""mod_reqtimeout's rule for reading a request head or body, as a value: an initial
timeout, extended by one second per ``min_rate`` bytes received, never beyond a maximum
(``RequestReadTimeout header=20-40,MinRate=500``, Apache's default).

A configuration value (``ServerConfig.header_timeout``/``body_timeout``) that the HTTP
layer asks for deadlines; it lives here so that ``config/`` needs nothing from ``http/``.
Pure: must not know about sockets, asyncio or the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReadTimeout:
    """mod_reqtimeout's ``header=initial-maximum,MinRate=min_rate`` (seconds, bytes/s).
    ``min_rate == 0`` or ``maximum <= initial`` means a fixed ``initial`` timeout;
    ``initial == 0`` disables the deadline."""

    initial: float = 20.0
    maximum: float = 40.0
    min_rate: int = 500

    def deadline(self, start: float, received: int) -> float:
        """When reading must have finished, given ``received`` bytes since ``start``
        (never, when ``initial`` is 0: mod_reqtimeout's "header=0" turns the stage off)."""
        if self.initial <= 0:
            return math.inf
        if self.min_rate <= 0 or self.maximum <= self.initial:
            return start + self.initial
        return start + min(self.maximum, self.initial + received / self.min_rate)

    @classmethod
    def parse(cls, text: str) -> ReadTimeout:
        """``"20"``, ``"20-40"``, ``"20-40,MinRate=500"`` (the value of a
        ``RequestReadTimeout header=...`` stage, or of CGIHTTPD_HEADER_TIMEOUT)."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError("empty timeout")
        span = parts[0]
        rate = 0
        for extra in parts[1:]:
            key, _, value = extra.partition("=")
            if key.strip().lower() != "minrate":
                raise ValueError(f"unknown timeout option: {extra}")
            rate = int(value)
        if "-" in span:
            lo, hi = span.split("-", 1)
            initial, maximum = float(lo), float(hi)
            if not rate:
                rate = 500 if maximum > initial else 0
        else:
            initial = maximum = float(span)
        if initial < 0 or maximum < 0 or rate < 0:
            raise ValueError("negative timeout")
        return cls(initial, maximum, rate)
