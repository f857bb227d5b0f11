"""The App in-process over a real temporary tree: ``site`` builds the files and a
configuration (from ``factory``, not the parser), ``Site.get`` talks to the App through
httpx's ASGI transport, ``Site.raw`` collects the ASGI messages themselves."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.factory import SRC, alias, directory, make_config, make_vhost, opts
from cgihttpd.app import App
from cgihttpd.config.model import DirConf, LogTarget, ServerConfig

COMMON = '%h %l %u %t "%r" %>s %b'


@dataclass
class Site:
    root: Path
    app: App
    config: ServerConfig

    def get(self, path: str, method: str = "GET", host: str = "localhost",
            headers: dict[str, str] | None = None, content: bytes | None = None
            ) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport,
                                         base_url=f"http://{host}:8080") as client:
                return await client.request(method, path, headers=headers, content=content)
        return asyncio.run(go())

    def raw(self, path: str, method: str = "GET",
            headers: list[tuple[bytes, bytes]] | None = None) -> list[dict[str, Any]]:
        """The messages the App sends for one request."""
        sent: list[dict[str, Any]] = []
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": raw_path,
            "raw_path": raw_path.encode(), "query_string": query.encode(),
            "root_path": "", "headers": headers or [(b"host", b"localhost:8080")],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))  # type: ignore[arg-type]
        return sent

    @property
    def error_log(self) -> str:
        return (self.root / "logs" / "error.log").read_text()

    @property
    def access_log(self) -> str:
        return (self.root / "logs" / "access.log").read_text()


def build_tree(root: Path) -> None:
    www = root / "www"
    for rel, text in {
        "index.html": "<h1>Hello, World</h1>\n",
        "a.html": "<p>x</p>\n",
        "style.css": "body{}\n",
        "unknown.qqq": "u\n",
        "sub/index.html": "sub\n",
        "noidx/f.txt": "f\n",
        "idx/a<b&c.txt": "abc\n",
        "idx/z.txt": "z\n",
        "idx/.htsecret": "s\n",
        "err/missing.html": "<h1>custom 404</h1>\n",
        "ed/x.txt": "x\n",
        "denied/x.html": "no\n",
        "scripts/hello.cgi": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho hi\n",
        "noexec/hello.cgi": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho hi\n",
        "other/index.html": "other vhost\n",
    }.items():
        path = www / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (www / "idx" / "sub").mkdir()
    for script in ("scripts/hello.cgi", "noexec/hello.cgi"):
        os.chmod(www / script, 0o755)
    (www / "big.bin").write_bytes(os.urandom(300_000))
    (root / "logs").mkdir()


def site_config(root: Path, **vhost_kw: Any) -> ServerConfig:
    www = str(root / "www")
    logs = root / "logs"
    log = LogTarget(str(logs / "access.log"), COMMON, "common", None, SRC)
    fields: dict[str, Any] = dict(
        server_name="localhost", error_log=str(logs / "error.log"), log_level="info",
        custom_logs=(log,),
        aliases=(alias("/cgi-bin/", f"{www}/scripts/", "scriptalias"),),
        base=DirConf(add_handlers=((".cgi", "cgi-script"),)),
        sections=(
            directory("/", require="all denied"),
            directory(www, require="all granted", options=opts("-Indexes")),
            directory(f"{www}/idx", options=opts("+Indexes")),
            directory(f"{www}/denied", require="all denied"),
            directory(f"{www}/ed", error_documents=(
                (404, "/err/missing.html"), (403, '"Custom forbidden text'),
                (410, "http://example.com/gone"))),
            directory(f"{www}/err2", error_documents=((404, "/nonexistent.html"),)),
        ),
    )
    fields.update(vhost_kw)
    main_vhost = make_vhost(www, **fields)
    other = make_vhost(f"{www}/other", **{**fields, "server_name": "other.example",
                                            "server_aliases": ("*.other.example",)})
    return make_config(vhosts=(main_vhost, other),
                       main=replace(main_vhost, addresses=(), is_main=True))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    build_tree(tmp_path)
    config = site_config(tmp_path)
    app = App.build(config.with_listens(config.listens))
    yield Site(tmp_path, app, config)
    app.close()
