"""The CGI handler alone, in-process: CPU per request of ``serve_cgi`` for a /bin/sh hello.

    .venv/bin/python scripts/bench_cgi_handler.py [N]

Runs N requests (default 2000), 16 at a time, on uvloop, through the same fake ASGI
channel the handler's unit tests use (tests/unit/test_cgi_handler.py) and the default
launcher (the spawner), and prints this process's CPU per request: the handler's own
cost, without HTTP and without the script's. Noise between runs is about ±6 %.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "unit"))

import test_cgi_handler as helpers  # noqa: E402
import uvloop  # noqa: E402

from cgihttpd.cgi.handler import serve_cgi  # noqa: E402
from cgihttpd.exchange import Exchange  # noqa: E402
from cgihttpd.logs.access import LogRecord  # noqa: E402
from cgihttpd.request import Request  # noqa: E402
from cgihttpd.runtime import Runtime, default_launcher  # noqa: E402
from cgihttpd.target import Target  # noqa: E402

CONCURRENCY = 16


async def one(root: Path, runtime: Runtime, vhost: object, st: os.stat_result) -> None:
    channel = helpers.Channel()
    req = Request(method="GET", raw_target="/h.sh", raw_path="/h.sh", query="",
                  http_version="1.1", headers=(("Host", "localhost"),),
                  client_addr="127.0.0.1", client_port=40000, server_addr="127.0.0.1",
                  server_port=8080, scheme="http", request_line="GET /h.sh HTTP/1.1")
    target = Target(kind="file", filename=str(root / "h.sh"), url_path="/h.sh",
                    conf=helpers.NO_CONF, handler="cgi-script",
                    context_document_root=str(root), stat=st)
    record = LogRecord(remote_addr="127.0.0.1", remote_port=40000, local_addr="127.0.0.1",
                       local_port=8080, request_line=req.request_line, method="GET",
                       raw_uri="/h.sh", path="/h.sh", query="", protocol="HTTP/1.1",
                       start_time=time.time())
    ex = Exchange(runtime=runtime, vhost=vhost, request=req, target=target,  # type: ignore[arg-type]
                  record=record, errorlog=helpers.Log(), receive=channel.receive,
                  send=channel.send)
    await serve_cgi(ex)
    assert channel.body_bytes == b"<h1>Hello, CGI</h1>\n", channel.sent


async def run(root: Path, n: int) -> None:
    vhost = helpers.make_vhost(root)
    config = helpers.make_config(vhost)
    runtime = Runtime(config=config, logs=None, launcher=default_launcher())  # type: ignore[arg-type]
    st = os.stat(root / "h.sh")
    for _ in range(50):  # warm-up: the spawner starts, caches fill
        await one(root, runtime, vhost, st)
    sem = asyncio.Semaphore(CONCURRENCY)

    async def limited() -> None:
        async with sem:
            await one(root, runtime, vhost, st)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(limited() for _ in range(n)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"serve_cgi: {cpu * 1e6 / n:.0f} us of CPU per request, {n / wall:.0f} req/s")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        helpers.write_script(root, "h.sh", '#!/bin/sh\necho "Content-Type: text/html"\n'
                             'echo\necho "<h1>Hello, CGI</h1>"\n', executable=True)
        uvloop.install()
        asyncio.run(run(root, n))


if __name__ == "__main__":
    main()
