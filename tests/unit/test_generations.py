"""Generations and their swap (cgihttpd.reload), with stand-ins for the application,
uvicorn's config and the connections: which connections are retired or cut, when the
old generation closes, and a refused configuration."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from cgihttpd import control
from cgihttpd.cli import bare_config
from cgihttpd.config.errors import ConfigError, ConfigErrors
from cgihttpd.config.model import Address
from cgihttpd.reload import Generation, Generations


class FakeApp:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        self.closed = True


class FakeConn:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.done: list[str] = []

    def retire(self) -> None:
        self.done.append("retire")

    def abort(self) -> None:
        self.done.append("abort")


def config() -> Any:
    return bare_config("/tmp", Address("127.0.0.1", 0))


def setup(rebuild: Any) -> tuple[Generations, Any, FakeApp]:
    old = FakeApp("old")
    gens = Generations(Generation(0, config(), old, None), rebuild=rebuild,
                       protocol_for=lambda cfg, app: type("P", (), {"app": app}))
    uv = SimpleNamespace(loaded_app=gens.current, http_protocol_class=None)
    return gens, uv, old


@pytest.mark.parametrize(("event", "done"), [(control.GRACEFUL, "retire"),
                                             (control.RESTART, "abort")])
def test_a_reload_swaps_the_generation(event: control.Event, done: str) -> None:
    new = FakeApp("new")
    gens, uv, old = setup(lambda _old: (config(), new))
    first = gens.current
    conns = {FakeConn(first), FakeConn(first)}
    other = FakeConn(object())
    assert gens.reload(event, uv, conns | {other})
    assert gens.current.app is new and uv.loaded_app is gens.current
    assert uv.http_protocol_class.app is new  # new connections: new settings too
    assert gens.lifecycle.state is control.RUNNING and gens.reloads == 1
    assert all(c.done == [done] for c in conns) and other.done == []
    gens.reap(conns)
    assert not old.closed  # its connections are still open
    gens.reap(set())
    assert old.closed and gens.retired == [] and not new.closed


def test_the_old_generation_waits_for_its_requests() -> None:
    gens, uv, old = setup(lambda _old: (config(), FakeApp("new")))
    first = gens.current
    task: Any = object()
    first.tasks.add(task)
    gens.reload(control.GRACEFUL, uv, set())
    gens.reap(set())
    assert not old.closed
    first.tasks.discard(task)
    gens.reap(set())
    assert old.closed


def test_a_generation_counts_its_requests() -> None:
    gen = Generation(0, config(), FakeApp("a"))
    seen: list[int] = []

    async def main() -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen.append(len(gen.tasks))
        gen.app = app
        await gen({"type": "http"}, None, None)  # type: ignore[arg-type]

    asyncio.run(main())
    assert seen == [1] and gen.tasks == set()


def test_a_refused_configuration_keeps_the_old_one(capsys: pytest.CaptureFixture[str]) -> None:
    def rebuild(_old: Any) -> Any:
        raise ConfigErrors([ConfigError("conf:3: Invalid command 'Bogus'")])

    gens, uv, old = setup(rebuild)
    first = gens.current
    conn = FakeConn(first)
    assert not gens.reload(control.GRACEFUL, uv, {conn})
    assert gens.current is first and uv.loaded_app is first and conn.done == []
    assert gens.lifecycle.state is control.RUNNING and not old.closed
    err = capsys.readouterr().err
    assert "reload refused, still serving the previous configuration" in err
    assert "Bogus" in err


def test_signals_become_events_in_order() -> None:
    import signal

    gens, _uv, _old = setup(None)
    for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH, signal.SIGTERM):
        gens.note_signal(sig)
    assert gens.take_pending() == [control.GRACEFUL, control.RESTART,
                                   control.GRACEFUL_STOP, control.STOP]
    assert gens.take_pending() == []
