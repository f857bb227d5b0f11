"""The environment on its way to the zygote (``launcher._env_pairs``): names and values
joined by NULs and encoded at once, the pairs themselves where a NUL would make the
joined form ambiguous; the zygote reads both back to the same pairs."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no zygotes on Windows")


def _decode(env: object) -> list[tuple[bytes, bytes]]:
    """What ``zygote.Zygote.receive`` makes of it."""
    if isinstance(env, bytes):
        parts = env.split(b"\0") if env else []
        return list(zip(parts[0::2], parts[1::2], strict=True))
    assert isinstance(env, list)
    return env


def _spec(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from cgihttpd.cgi.runner import LaunchSpec

    return LaunchSpec(("/bin/true",), (), env, "/")


def test_joined_form_round_trips_latin1_views() -> None:
    from cgihttpd.warm.launcher import _env_pairs

    env = {"PATH": "/bin", "QUERY_STRING": "", "HTTP_X": "caf\xe9 \xff", "EMPTY": ""}
    sent = _env_pairs(_spec(env))
    assert isinstance(sent, bytes)
    assert _decode(sent) == [(k.encode("latin-1"), v.encode("latin-1"))
                             for k, v in env.items()]


def test_empty_environment() -> None:
    from cgihttpd.warm.launcher import _env_pairs

    assert _decode(_env_pairs(_spec({}))) == []


def test_a_nul_falls_back_to_pairs() -> None:
    from cgihttpd.warm.launcher import _env_pairs

    env = {"A": "x\0B", "C": "d"}
    sent = _env_pairs(_spec(env))
    assert sent == [(b"A", b"x\0B"), (b"C", b"d")]
