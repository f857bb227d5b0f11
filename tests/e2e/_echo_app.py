"""A tiny ASGI app for the HTTP-layer tests (``cgihttpd --app tests/e2e/_echo_app.py:app``).

It lets the tests see exactly what the protocol hands an application (the scope, the
body, disconnects) and drive the response framing, independent of the real app.
Paths:
  /echo            JSON: the scope (without state) and the body received
  /pid             the answering process's pid (which worker)
  /nolen           a body with no Content-Length, in two pieces
  /status/NNN      status NNN with a body (the protocol must drop it for 204/304)
  /own-headers     sends its own Date and Server headers
  /reason          "299 Custom Reason" via the "reason" key
  /crash           raises before answering
  /slow?S          notes $ECHO_DIR/slow-started, sleeps S seconds, then answers
  /stream?N        N pieces of 1 MiB; writes how many were sent to $ECHO_DIR/progress
  /wait-disconnect reads the body, then waits for http.disconnect; notes it in
                   $ECHO_DIR/disconnect, and whether send() then raised ClientDisconnected
  /stats           answers, then writes the extension's stats to $ECHO_DIR/stats
  /dupe-length     says Content-Length 3 and sends 6 bytes
  /raw             its own bytes through the cgihttpd.raw extension, in two sends;
                   then writes the extension's stats to $ECHO_DIR/raw-stats
Protocol errors are appended as JSON lines to $ECHO_DIR/protocol-errors.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from cgihttpd.http.protocol import ClientDisconnected, ProtocolErrorEvent

OUT = Path(os.environ.get("ECHO_DIR", "/tmp"))


def _jsonable(scope: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in scope.items():
        if k == "state":
            continue
        if k == "headers":
            out[k] = [[n.decode("latin-1"), val.decode("latin-1")] for n, val in v]
        elif isinstance(v, bytes):
            out[k] = v.decode("latin-1")
        elif k == "extensions":
            ext = dict(v["cgihttpd"])
            ext["stats"] = dict(ext["stats"])
            out[k] = {"cgihttpd": ext}
        else:
            out[k] = v
    return out


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return body
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            return body


async def _respond(send: Any, status: int, body: bytes, headers: list[Any] | None = None,
                   length: bool = True) -> None:
    hs = list(headers or [(b"content-type", b"text/plain")])
    if length:
        hs.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": hs})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    query = scope["query_string"].decode()
    if path.startswith("/echo"):
        body = await _read_body(receive)
        data = _jsonable(scope)
        data["body"] = body.decode("latin-1")
        await _respond(send, 200, json.dumps(data).encode(),
                       [(b"content-type", b"application/json")])
    elif path == "/pid":
        await _respond(send, 200, str(os.getpid()).encode())
    elif path == "/nolen":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
        await send({"type": "http.response.body", "body": b"world"})
    elif path.startswith("/status/"):
        await _respond(send, int(path.rsplit("/", 1)[1]), b"should-not-appear")
    elif path == "/own-headers":
        await _respond(send, 200, b"ok", [(b"Date", b"Thu, 01 Jan 1970 00:00:00 GMT"),
                                          (b"Server", b"echo/1")])
    elif path == "/reason":
        await send({"type": "http.response.start", "status": 299, "reason": "Custom Reason",
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
    elif path == "/crash":
        raise RuntimeError("boom")
    elif path == "/slow":
        (OUT / "slow-started").write_text("yes")
        await asyncio.sleep(float(query or "1"))
        await _respond(send, 200, b"slow done")
    elif path == "/stream":
        n = int(query or "64")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(n << 20).encode())]})
        piece = b"x" * (1 << 20)
        for i in range(n):
            await send({"type": "http.response.body", "body": piece, "more_body": i < n - 1})
            (OUT / "progress").write_text(str(i + 1))
    elif path == "/wait-disconnect":
        await _read_body(receive)
        (OUT / "waiting").write_text("yes")
        msg = await receive()
        note = msg["type"]
        try:
            await _respond(send, 200, b"too late")
            note += " send-ok"
        except ClientDisconnected:
            note += " send-raised"
        (OUT / "disconnect").write_text(note)
    elif path == "/stats":
        body = await _read_body(receive)
        await _respond(send, 200, b"x" * 10 + body)
        stats = scope["extensions"]["cgihttpd"]["stats"]
        (OUT / "stats").write_text(json.dumps(stats))
    elif path == "/dupe-length":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"3")]})
        await send({"type": "http.response.body", "body": b"abcdef"})
    elif path == "/raw":
        await send({"type": "cgihttpd.raw", "bytes": b"HTTP/1.0 299 Mine\r\nX: y\n\n",
                    "more": True})
        await send({"type": "cgihttpd.raw", "bytes": b"raw body", "more": False})
        stats = scope["extensions"]["cgihttpd"]["stats"]
        (OUT / "raw-stats").write_text(json.dumps(stats))
    else:
        await _respond(send, 404, b"not here")


def log_protocol_error(event: ProtocolErrorEvent) -> None:
    with open(OUT / "protocol-errors", "a", encoding="utf-8") as f:
        f.write(json.dumps(dataclasses.asdict(event)) + "\n")


app.log_protocol_error = log_protocol_error  # type: ignore[attr-defined]
