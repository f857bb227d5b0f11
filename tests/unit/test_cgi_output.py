"""``ReplyWriter``: what is held and when it goes, with a fake channel, stdout and
process (no script runs here; tests/unit/test_cgi_handler.py runs real ones)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from cgihttpd.cgi import output
from cgihttpd.cgi.output import HOLD_LIMIT, ReplyWriter

START = {"type": "http.response.start", "status": 200, "headers": []}


class Client:
    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_after = fail_after
        self.gone_calls = 0

    async def send(self, message: Any) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionResetError("client gone")
        self.sent.append(dict(message))

    def on_gone(self) -> None:
        self.gone_calls += 1

    def writer(self) -> ReplyWriter:
        return ReplyWriter(self.send, self.on_gone)


class Stdout:
    """``data``: what the next read gets (None: the read times out)."""

    def __init__(self, data: bytes | None = None, ready: bool = False) -> None:
        self.data = data
        self.is_ready = ready
        self.reads: list[tuple[int, float | None]] = []

    async def read(self, n: int = -1, timeout: float | None = None) -> bytes:
        self.reads.append((n, timeout))
        if self.data is None:
            raise asyncio.TimeoutError
        return self.data

    def ready(self) -> bool:
        return self.is_ready


class Proc:
    def __init__(self, returncode: int | None = None) -> None:
        self._returncode = returncode
        self.exit: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if returncode is not None:
            self.exit.set_result(returncode)

    def wait(self) -> Awaitable[int]:
        # a wait_for that times out cancels what it waited on, not the exit itself
        return asyncio.shield(self.exit)

    @property
    def returncode(self) -> int | None:
        return self._returncode


def body(data: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


def test_a_short_response_goes_as_head_and_one_last_body() -> None:
    async def main() -> None:
        client = Client()
        out = client.writer()
        out.hold_start(START)
        assert out.holding()
        assert await out.hold(b"one\n") and await out.hold(b"two\n")
        assert client.sent == []
        assert await out.finish()
        assert client.sent == [START, body(b"one\ntwo\n", False)]
        assert out.finished and not out.holding()
        out.lose_client()  # after the end a disconnect aborts nothing
        assert not out.gone and client.gone_calls == 0

    asyncio.run(main())


def test_a_body_held_whole_gets_the_length_counted() -> None:
    async def main() -> None:
        client = Client()
        out = client.writer()
        out.hold_start({**START, "headers": [(b"Content-Length", b"99")]})
        assert await out.hold(b"abc")
        assert await out.finish(length=3)
        assert client.sent[0]["headers"] == [(b"Content-Length", b"3")]
        # the head already gone: no length (chunked), whatever the caller counted
        client = Client()
        out = client.writer()
        out.hold_start(START)
        assert await out.hold(b"abc") and await out.flush()
        assert await out.finish(length=3)
        assert client.sent[0] == START

    asyncio.run(main())


def test_flush_sends_the_held_start_even_without_body() -> None:
    async def main() -> None:
        client = Client()
        out = client.writer()
        assert await out.flush() and client.sent == []  # nothing held: nothing sent
        out.hold_start(START)
        assert await out.flush()
        assert client.sent == [START, body(b"", True)]
        assert not out.finished

    asyncio.run(main())


def test_held_bytes_go_at_the_limit() -> None:
    async def main() -> None:
        client = Client()
        out = client.writer()
        out.hold_start(START)
        assert await out.hold(b"x" * (HOLD_LIMIT - 1))
        assert client.sent == []
        assert await out.hold(b"yz")
        assert client.sent == [START, body(b"x" * (HOLD_LIMIT - 1) + b"yz", True)]
        assert await out.hold(b"a")  # the count starts again
        assert len(client.sent) == 2

    asyncio.run(main())


def test_a_read_waits_flush_delay_only_while_output_is_held() -> None:
    async def main() -> None:
        client = Client()
        out = client.writer()
        stdout = Stdout(b"more")
        assert await out.read(stdout, 100) is None and stdout.reads == []  # nothing held
        out.hold_start(START)
        stdout.is_ready = True
        assert await out.read(stdout, 100) is None and stdout.reads == []  # no wait
        stdout.is_ready = False
        assert await out.read(stdout, 100) == b"more"
        assert stdout.reads == [(100, output.FLUSH_DELAY)] and client.sent == []
        stdout.data = None  # the script keeps us waiting: what is held goes
        assert await out.read(stdout, 100) is None
        assert client.sent == [START, body(b"", True)]

    asyncio.run(main())


def test_a_failed_send_loses_the_client_once() -> None:
    async def main() -> None:
        client = Client(fail_after=1)
        out = client.writer()
        out.hold_start(START)
        await out.hold(b"data")
        assert not await out.flush()
        assert out.gone and client.gone_calls == 1 and client.sent == [START]
        assert not await out.send(body(b"", False), last=True)
        out.lose_client()
        assert client.gone_calls == 1 and not out.finished

    asyncio.run(main())


def test_the_exit_status_is_awaited_with_the_body_held(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        client = Client()
        out = client.writer()
        out.hold_start(START)
        await out.hold(b"hi")
        assert await out.exit_status(Proc(0), 10.0) == 0
        assert client.sent == []  # known at once: nothing went early
        # one that lingers past EXIT_GRACE: what is held goes while we wait
        monkeypatch.setattr(output, "EXIT_GRACE", 0.0)
        proc = Proc()

        async def exit_later() -> None:
            while not client.sent:
                await asyncio.sleep(0.001)
            proc.exit.set_result(3)

        task = asyncio.ensure_future(exit_later())
        assert await out.exit_status(proc, 10.0) == 3
        await task
        assert client.sent == [START, body(b"hi", True)]
        # past the script timeout stdout is still complete: 0
        assert await out.exit_status(Proc(), 0.0) == 0

    asyncio.run(main())


def test_no_exit_status_once_the_client_has_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        monkeypatch.setattr(output, "EXIT_GRACE", 0.0)
        client = Client(fail_after=0)
        out = client.writer()
        out.hold_start(START)
        assert await out.exit_status(Proc(), 10.0) is None
        assert out.gone
        # ... or went while the script was awaited (the handler heard the disconnect)
        client = Client()
        out = client.writer()
        proc = Proc()

        async def leave_then_exit() -> None:
            await asyncio.sleep(0)
            out.lose_client()
            proc.exit.set_result(0)

        task = asyncio.ensure_future(leave_then_exit())
        assert await out.exit_status(proc, 10.0) is None
        await task

    asyncio.run(main())


def test_a_closed_writer_forgets_its_callback() -> None:
    client = Client()
    out = client.writer()
    out.close()
    out.lose_client()
    assert out.gone and client.gone_calls == 0
