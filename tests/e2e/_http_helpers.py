"""Helpers for the HTTP-layer end-to-end tests: the echo-app server and raw sockets."""

from __future__ import annotations

import functools
import json
import socket
import time
from pathlib import Path
from typing import Any

import support
from support import ServerProcess

ECHO_APP = str(Path(__file__).with_name("_echo_app.py"))
WAIT = 15.0  # the deadline on every wait in these tests
wait_for = functools.partial(support.wait_for, deadline=WAIT, interval=0.02)


def echo_server(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> ServerProcess:
    full_env = {"ECHO_DIR": str(tmp)}
    full_env.update(env or {})
    return ServerProcess(["--app", f"{ECHO_APP}:app", "-l", "127.0.0.1:0", *extra],
                         env=full_env)


def connect(addr: tuple[str, int]) -> socket.socket:
    s = socket.create_connection(addr, timeout=WAIT)
    return s


def read_until_close(s: socket.socket) -> bytes:
    out = b""
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        try:
            b = s.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not b:
            break
        out += b
    return out


class Response:
    def __init__(self, head: bytes, body: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split(" ")[1])
        self.header_list = [tuple(x.split(": ", 1)) for x in lines[1:] if x]
        self.headers = {k.lower(): v for k, v in self.header_list}
        self.head = head
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def read_response(s: socket.socket, buf: bytearray, *, head_only: bool = False) -> Response:
    """Read one response from ``s`` (``buf`` keeps bytes read past it)."""

    def fill() -> None:
        b = s.recv(65536)
        if not b:
            raise EOFError("connection closed")
        buf.extend(b)

    while b"\r\n\r\n" not in buf:
        fill()
    i = buf.index(b"\r\n\r\n")
    head = bytes(buf[:i])
    del buf[: i + 4]
    r = Response(head, b"")
    if head_only or r.status in (204, 304) or r.status < 200:
        return r
    if "content-length" in r.headers:
        n = int(r.headers["content-length"])
        while len(buf) < n:
            fill()
        r.body = bytes(buf[:n])
        del buf[:n]
    elif r.headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                fill()
            j = buf.index(b"\r\n")
            size = int(bytes(buf[:j]), 16)
            while len(buf) < j + 2 + size + 2:
                fill()
            body += bytes(buf[j + 2: j + 2 + size])
            del buf[: j + 2 + size + 2]
            if size == 0:
                break
        r.body = body
    else:
        try:
            while True:
                fill()
        except EOFError:
            pass
        r.body = bytes(buf)
        buf.clear()
    return r


def exchange(addr: tuple[str, int], data: bytes) -> Response:
    with connect(addr) as s:
        s.sendall(data)
        return read_response(s, bytearray())


def protocol_errors(tmp: Path) -> list[dict[str, Any]]:
    p = tmp / "protocol-errors"
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line]
