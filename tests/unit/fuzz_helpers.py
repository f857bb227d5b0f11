"""Shared settings of the fuzz tests (tests/unit/test_fuzz_*.py): bounded and
derandomized, so a run in CI explores the same examples every time and stays fast.
A failure hypothesis finds is printed with the example that reproduces it."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def fuzz(max_examples: int) -> settings:
    """``max_examples`` examples, no deadline (the machine is shared), the same ones
    on every run (derandomize; no example database to replay from)."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True,
                    database=None, suppress_health_check=[HealthCheck.too_slow])


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (taken modulo its length + 1)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
