"""The default handler's choice of sendfile (``static.handlers._sendfile``): a file too
big for the small-file cache goes as ``http.response.zerocopysend`` pieces when the
connection offers them (scope extension ``zero_copy``) and EnableSendfile is not Off;
as body bytes otherwise. The pieces say exactly which bytes of the file go where."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from app.conftest import build_tree, site_config
from app.factory import directory
from cgihttpd.app import App
from cgihttpd.asgi import ZERO_COPY


def _messages(app: App, path: str, zero_copy: bool,
              headers: list[tuple[bytes, bytes]] | None = None) -> tuple[list[Any], bytes]:
    """The messages sent, and the body they stand for (zero-copy pieces read back)."""
    sent: list[dict[str, Any]] = []
    body = bytearray()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost:8080"), *(headers or [])],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
        "extensions": {"cgihttpd": {"zero_copy": zero_copy}},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == ZERO_COPY:
            body.extend(os.pread(message["file"].fileno(), message["count"],
                                 message["offset"]))
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return [m["type"] for m in sent], bytes(body)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    build_tree(tmp_path)
    www = tmp_path / "www"
    (www / "nosf").mkdir()
    (www / "nosf" / "big.bin").write_bytes((www / "big.bin").read_bytes())
    config = site_config(tmp_path)
    sections = (*config.vhosts[0].sections,
                directory(str(www / "nosf"), enable_sendfile=False))
    config = site_config(tmp_path, sections=sections)
    built = App.build(config.with_listens(config.listens))
    yield built, (www / "big.bin").read_bytes()
    built.close()


def test_big_file_goes_by_sendfile_when_offered(app: Any) -> None:
    built, data = app
    kinds, body = _messages(built, "/big.bin", zero_copy=True)
    assert ZERO_COPY in kinds and body == data


def test_not_when_the_connection_cannot(app: Any) -> None:
    built, data = app
    kinds, body = _messages(built, "/big.bin", zero_copy=False)
    assert ZERO_COPY not in kinds and body == data


def test_enable_sendfile_off_is_honoured(app: Any) -> None:
    built, data = app
    kinds, body = _messages(built, "/nosf/big.bin", zero_copy=True)
    assert ZERO_COPY not in kinds and body == data


def test_ranges_by_sendfile(app: Any) -> None:
    built, data = app
    kinds, body = _messages(built, "/big.bin", zero_copy=True,
                            headers=[(b"range", b"bytes=70000-70099,200000-")])
    assert kinds.count(ZERO_COPY) == 2
    assert data[70000:70100] in body and body.count(data[200000:]) == 1


def test_small_files_stay_in_memory(app: Any) -> None:
    built, _ = app
    kinds, body = _messages(built, "/index.html", zero_copy=True)
    assert ZERO_COPY not in kinds and body == b"<h1>Hello, World</h1>\n"
